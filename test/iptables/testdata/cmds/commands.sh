# The commands and their errors (iptables' own messages, exit codes 1, 2, 3).
iptables -X INPUT
iptables -N foo
iptables -N foo
iptables -A foo -j ACCEPT
iptables -A INPUT -j foo
iptables -X foo
iptables -F foo
iptables -X foo
iptables -L INPUT 5
iptables -L bar
iptables -t bogus -L
iptables -P foo DROP
iptables -P INPUT BLAH
iptables -D INPUT 3
iptables -v -A INPUT -s 1.2.3.4,5.6.7.8 -p tcp --dport 22 -j ACCEPT
iptables -v -I INPUT 2 -d 198.18.0.0/15,192.0.2.1 -j DROP
iptables -S
iptables -v -F
iptables -E INPUT x
iptables -E foo bar
iptables -E bar ACCEPT
iptables -A INPUT -j REJECT --reject-with tcp-reset
iptables -t nat -A INPUT -j REJECT
iptables -A INPUT -m bogus
iptables -A INPUT -j bogus
iptables -A INPUT -g bogus
iptables -A INPUT -s localhost -d 127.0.0.2
iptables -L INPUT
iptables -A INPUT -p tcp --dport 80 -j ACCEPT
iptables -C INPUT -p tcp --dport 80 -j ACCEPT
iptables -C INPUT -p tcp --dport 81 -j ACCEPT
iptables -D INPUT -p tcp --dport 81 -j ACCEPT
iptables -D INPUT -p tcp --dport 80 -j ACCEPT
iptables -R INPUT 1 -s 198.18.0.1 -j DROP
iptables -R INPUT 9 -s 198.18.0.1 -j DROP
iptables -R INPUT 1 -s 198.18.0.1,198.18.0.2 -j DROP
iptables -I INPUT 9 -j ACCEPT
iptables -I INPUT 2 -j ACCEPT
iptables -A INPUT ! -i eth0 ! -s 198.18.0.0/16 ! -p udp ! -f -j RETURN
iptables -A INPUT -f -j DROP
iptables -A FORWARD -i eth+ -o veth1 -j ACCEPT
iptables -A OUTPUT -i eth0 -j ACCEPT
iptables -A INPUT -o eth0 -j ACCEPT
iptables -A INPUT -i "" -j ACCEPT
iptables -A INPUT -i thisnameiswaytoolong -j ACCEPT
iptables -A INPUT -p bogus -j ACCEPT
iptables -A INPUT ! -p all -j ACCEPT
iptables -A INPUT -p 200 -j ACCEPT
iptables -A INPUT -s 1.2.3.4/33 -j ACCEPT
iptables -A INPUT -s nosuchhost.invalid -j ACCEPT
iptables -A INPUT -j ACCEPT -j DROP
iptables -A INPUT -s 1.1.1.1 -s 2.2.2.2
iptables -A INPUT ! ! -s 1.1.1.1
iptables -A INPUT !
iptables -A INPUT ! -j ACCEPT
iptables -A INPUT -m tcp
iptables -A INPUT -p tcp -m tcp -m tcp --dport 1
iptables -A INPUT stray
iptables
iptables -L -F
iptables -L -A INPUT
iptables -F -n
iptables -N chain-with-a-name-that-is-too-long-x
iptables -N -bad
iptables -N ACCEPT
iptables -N REJECT
iptables -N "a b"
iptables -A INPUT -c 5 6 -j ACCEPT
iptables -A INPUT -c 5 -j ACCEPT
iptables -A INPUT -c x 6 -j ACCEPT
iptables -P INPUT DROP -c 1 2
iptables -L -v -x
iptables -Z INPUT 1
iptables -Z INPUT 99
iptables -L -Z -v
iptables -S INPUT 1
iptables -S INPUT 99
iptables -S -v
iptables -L -n --line-numbers
iptables -L -n -v
iptables -L OUTPUT -n -x -v --line-numbers
iptables --version
iptables -V
iptables ! -V
iptables -t nat -P PREROUTING DROP
iptables -t nat -A PREROUTING -j DROP
iptables -t raw -L -n
iptables -t security -L -n
iptables -t mangle -S
iptables-save
iptables-save -c
iptables-save -t filter
iptables -F
iptables -X
iptables -Z
iptables-save -t filter -c
iptables -w -L INPUT -n
iptables -w 5 -L INPUT -n
iptables --line-numbers -L FORWARD
iptables -nvL
iptables -t filter -L INPUT -n -v --exact
iptables --list INPUT --numeric
iptables --append INPUT --protocol tcp --destination-port 22 --jump ACCEPT
iptables --app INPUT --proto udp --dport 53 --jump ACCEPT
iptables --sport 5 -A INPUT -p tcp
iptables -A INPUT -p tcp --dport=25 -j ACCEPT
iptables -S INPUT
iptables -A INPUT -c 123456789 98765432100 -j ACCEPT
iptables -A INPUT -c 99999 100000 -j ACCEPT
iptables -A INPUT -c 1234567890123 5 -j ACCEPT
iptables -L INPUT -v
iptables -L INPUT -v -x
iptables -L INPUT -v -n --line-numbers
iptables -N user1
iptables -N user2
iptables -A INPUT -j user1
iptables -A FORWARD -g user1
iptables -A user2 -j user1
iptables -L user1
iptables -E user1 renamed
iptables -S
iptables -L -n
iptables -X
iptables -D INPUT -j renamed
iptables -D FORWARD -g renamed
iptables -F user2
iptables -X
iptables -S
iptables -A INPUT -p tcp -m tcp --sport 1:2 --dport ssh -m multiport --dports 80,443 -j ACCEPT
iptables -D INPUT -p tcp -m tcp --sport 1:2 --dport 22 -m multiport --dports 80,443 -j ACCEPT
iptables -A INPUT -m comment --comment "x y" -j ACCEPT
iptables -C INPUT -m comment --comment "x y" -j ACCEPT
iptables -C INPUT -m comment --comment "x z" -j ACCEPT
iptables -A INPUT -s 198.18.0.1 -j DROP
iptables -D INPUT -s 198.18.0.1/32 -j DROP
iptables -t mangle -A PREROUTING -j MARK --set-mark 1
iptables -t mangle -L PREROUTING -v -n
iptables -t mangle -Z
iptables -t mangle -F PREROUTING
iptables -L INPUT -n -x -v --line-numbers 2
