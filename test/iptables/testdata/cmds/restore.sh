# iptables-restore: atomic COMMIT, --noflush, --test, counters, error lines.
printf '*filter\n-A INPUT -j ACCEPT\n' | iptables-restore
printf '*filter\n-A INPUT -j ACCEPT\nCOMMIT\n*nat\n-A FOO -j ACCEPT\nCOMMIT\n' | iptables-restore
iptables-save -t filter
printf '*filter\n:INPUT DROP [1:2]\n-A INPUT -p tcp --dport 99 -j ACCEPT\nCOMMIT\n' | iptables-restore -c
iptables-save -c
printf '*filter\n-A INPUT -j bogus\nCOMMIT\n' | iptables-restore
printf '*filter\n-A INPUT -m tcp\nCOMMIT\n' | iptables-restore
printf '*filter\n-A INPUT -j REJECT --reject-with tcp-reset\nCOMMIT\n' | iptables-restore
printf 'garbage\n' | iptables-restore
printf '*bogus\nCOMMIT\n' | iptables-restore
printf '*filter\n:FOO - [0:0]\n:FOO - [0:0]\nCOMMIT\n' | iptables-restore
printf '*filter\n-A INPUT -j DROP\nCOMMIT\n' | iptables-restore --test
iptables-save -t filter
printf '*filter\n:INPUT BLAH [0:0]\nCOMMIT\n' | iptables-restore
printf '*filter\n-A INPUT -t nat -j ACCEPT\nCOMMIT\n' | iptables-restore
printf '*filter\n:X - [0:0]\n-A X -j ACCEPT\n-A INPUT -j X\nCOMMIT\n' | iptables-restore --noflush
printf '*filter\n:X - [0:0]\n-A X -j DROP\nCOMMIT\n' | iptables-restore --noflush
iptables-save -t filter
printf '*filter\n:Y - [0:0]\n-A Y -j RETURN\nCOMMIT\n' | iptables-restore
iptables-save -t filter
printf '*filter\n-A INPUT -m comment --comment "a b" -j ACCEPT\n-A INPUT -m comment --comment \x27c"d\x27 -j ACCEPT\n-A INPUT -m comment --comment "e\\"f" -j ACCEPT\nCOMMIT\n' | iptables-restore
iptables-save -t filter
printf '*filter\n[3:4] -A INPUT -j ACCEPT\n[5:6] -A INPUT -j DROP\nCOMMIT\n' | iptables-restore -c
iptables-save -c -t filter
printf '*filter\n[3:4] -A INPUT -j ACCEPT\nCOMMIT\n' | iptables-restore
iptables-save -c -t filter
printf '*filter\n[3 -A INPUT -j ACCEPT\nCOMMIT\n' | iptables-restore -c
printf '*filter\n[:3] -A INPUT -j ACCEPT\nCOMMIT\n' | iptables-restore -c
printf '*filter\n:INPUT ACCEPT\nCOMMIT\n' | iptables-restore -c
printf '*filter\n:INPUT\nCOMMIT\n' | iptables-restore
printf '*\nCOMMIT\n' | iptables-restore
printf '# comment\n\n*filter\nCOMMIT\n' | iptables-restore -v
printf '*filter\n-A INPUT -j ACCEPT\nCOMMIT\n*raw\n-A PREROUTING -j ACCEPT\nCOMMIT\n' | iptables-restore -T raw
iptables-save
iptables-restore -z < /dev/null
iptables-restore a b < /dev/null
iptables-restore /nonexistent
iptables-restore -V
printf '*filter\n-4 -A INPUT -j ACCEPT\n-6 -A INPUT -j DROP\nCOMMIT\n' | iptables-restore
iptables-save -t filter
printf '*filter\n-A INPUT -w -j ACCEPT\nCOMMIT\n' | iptables-restore
printf '*filter\n-A INPUT -p tcp --dport 1 -j ACCEPT\n-A INPUT -p udp --dport 1 -j ACCEPT\n-A INPUT -m length --length 3 -j ACCEPT\nCOMMIT\n' | iptables-restore
iptables-save -t filter
iptables-save -t bogus
iptables-save -z
iptables-save foo
iptables-save -V
