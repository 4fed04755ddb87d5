# IP sets and the set match (ipset's list and save leave out: the kernel's
# initval is random, its memory sizes its own).
ipset create s1 hash:ip
ipset create s2 hash:net timeout 300 counters
ipset create s3 hash:ip,port maxelem 100 hashsize 64
ipset add s1 198.18.0.1
ipset add s1 198.18.0.1
ipset -exist add s1 198.18.0.1
ipset add s2 198.18.0.0/24 timeout 60
ipset add s2 192.0.2.0/25 packets 5 bytes 10
ipset add s3 198.18.0.1,tcp:80
ipset add s3 198.18.0.1,udp:53
ipset add s3 198.18.0.2,80
ipset test s1 198.18.0.1
ipset test s1 198.18.0.9
ipset del s1 198.18.0.9
ipset -exist del s1 198.18.0.9
ipset list -n
iptables -A INPUT -m set --match-set s1 src -j DROP
iptables -A INPUT -m set ! --match-set s3 src,dst -j ACCEPT
iptables -A INPUT -m set --match-set s2 dst --return-nomatch ! --update-counters --packets-gt 5 -j ACCEPT
iptables -A INPUT -m set --match-set s2 dst ! --packets-eq 3 --bytes-lt 9 -j ACCEPT
iptables -A INPUT -m set --match-set nosuch src
iptables -A INPUT -m set --match-set s1
iptables -A INPUT -m set --match-set s1 up
iptables -A INPUT -m set
iptables -A INPUT -m set --match-set s1 src --match-set s2 dst
iptables -A INPUT -m set --match-set s1 src --update-counters
iptables -A INPUT -m set --match-set s1 src ! --return-nomatch
iptables -S INPUT
iptables -L INPUT -n
iptables -L INPUT
iptables-save -t filter
ipset destroy s1
ipset create s1 hash:ip
ipset swap s1 s2
ipset swap s1 nosuch
ipset rename s3 s9
iptables -F INPUT
ipset rename s3 s9
ipset destroy s1
ipset list -n
ipset add s2 1.2.3.0/33
ipset add s2 bogus
ipset add s9 1.2.3.4
ipset add s9 1.2.3.4,bogus:5
ipset create b hash:foo
ipset create
ipset add
ipset add s2
ipset bogus
ipset flush nosuch
ipset destroy nosuch
ipset del s9 1.1.1.1 1.1.1.1
ipset create f hash:ip maxelem 1
ipset add f 1.1.1.1
ipset add f 1.1.1.2
ipset add f 1.1.1.2 timeout 5
ipset create h hash:ip timeout 4294967296
ipset -exist create f hash:ip maxelem 1
ipset -exist create f hash:net
printf 'create r hash:ip\nadd r 1.1.1.1\nadd r 1.1.1.1\n' | ipset restore
printf 'create r2 hash:ip\nadd r2 1.1.1.1\nbogus\n' | ipset restore
ipset list -n
ipset version
ipset destroy
ipset list -n
