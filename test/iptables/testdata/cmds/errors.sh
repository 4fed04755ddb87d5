# The extensions' refusals: messages and exit codes.
iptables -t nat -A PREROUTING -j DNAT --to-destination 1.1.1.1:1025-65535
iptables -t nat -A PREROUTING -j DNAT --to-destination 1.1.1.1 --to-destination 2.2.2.2
iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1-1.1.1.10:1025-65536
iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:1000-2000/0
iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:1000-2000/65536
iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:echo-ssh
iptables -t nat -A PREROUTING -j DNAT
iptables -t nat -A POSTROUTING -j SNAT
iptables -t nat -A POSTROUTING -j SNAT --to-source 1.1.1.1:1025-65535
iptables -t nat -A POSTROUTING -j SNAT --to-source 1.1.1.1 --to-source 2.2.2.2
iptables -t nat -A POSTROUTING -j SNAT --to-source bogus
iptables -t nat -A POSTROUTING -p tcp -j SNAT --to-source 1.1.1.1:5-2
iptables -t nat -A POSTROUTING -j MASQUERADE --to-ports 1000
iptables -t nat -A POSTROUTING -p tcp -j MASQUERADE --to-ports 70000
iptables -t nat -A PREROUTING -p tcp -j REDIRECT --to-ports x
iptables -t nat -A PREROUTING -j NETMAP
iptables -t nat -A PREROUTING -j DNAT --to-destination 1.1.1.1:
iptables -A INPUT -m mac --mac-source 02:00:00:00:00
iptables -A INPUT -m conntrack --ctorigsrc 1.2.3.4/24
iptables -A INPUT -m limit --limit 3/bogus
iptables -A INPUT -m limit --limit 0
iptables -A INPUT -m limit --limit-burst 10001
iptables -A INPUT -m ttl
iptables -A INPUT -m ttl --ttl-eq 1 --ttl-lt 2
iptables -A INPUT -m ttl --ttl-eq 1 --ttl-eq 2
iptables -A INPUT -m length --length 5:3
iptables -A INPUT -m length --length 5:3:4
iptables -A INPUT -m length --length x
iptables -A INPUT -m mark --mark 1/x
iptables -A INPUT -m mark --mark x
iptables -A INPUT -m tos --tos 300
iptables -A INPUT -m tos --tos 0x10/zz
iptables -A INPUT -m dscp --dscp 64
iptables -A INPUT -m pkttype --pkt-type bogus
iptables -A INPUT -m iprange --src-range 1.2.3.4-bogus
iptables -A INPUT -m iprange
iptables -A INPUT -m comment
iptables -A INPUT -m owner --uid-owner 0
iptables -A OUTPUT -m owner --uid-owner nosuchuser
iptables -A OUTPUT -m owner
iptables -A INPUT -m addrtype
iptables -A INPUT -m addrtype --src-type BOGUS
iptables -A INPUT -m recent
iptables -A INPUT -m recent --set --rcheck
iptables -A INPUT -m recent --rcheck --reap
iptables -A INPUT -m statistic --mode random
iptables -A INPUT -m statistic --mode nth --every 2 --packet 5
iptables -A INPUT -m statistic --mode bogus
iptables -A INPUT -m string --algo bm
iptables -A INPUT -m string --string x
iptables -A INPUT -m string --string x --algo foo
iptables -A INPUT -m hashlimit --hashlimit-upto 5/sec
iptables -A INPUT -m hashlimit --hashlimit-name x
iptables -A INPUT -m hashlimit --hashlimit-upto 5/bogus --hashlimit-name x
iptables -A INPUT -m multiport --ports 1
iptables -A INPUT -p tcp -m multiport --ports 1,2 --sports 3
iptables -A INPUT -p tcp -m multiport --ports 5:3
iptables -A INPUT -p tcp --tcp-flags SYN
iptables -A INPUT -p tcp --tcp-flags SYN,BOGUS SYN
iptables -A INPUT -p tcp --sport 5:3
iptables -A INPUT -p tcp --tcp-option 0
iptables -A INPUT -p icmp --icmp-type echo
iptables -A INPUT -p icmp --icmp-type 300
iptables -A INPUT -p icmp --icmp-type 3/300
iptables -A INPUT -j LOG --log-level bogus
iptables -A INPUT -j LOG --log-prefix ""
iptables -A INPUT -j MARK
iptables -A INPUT -j MARK --set-mark 1 --or-mark 2
iptables -A INPUT -j CONNMARK
iptables -A INPUT -j REJECT --reject-with bogus
iptables -A INPUT -j NFQUEUE --queue-balance 5:3
iptables -A INPUT -j NFQUEUE --queue-balance 5
iptables -A INPUT -j NFQUEUE --queue-cpu-fanout
iptables -t mangle -A INPUT -j TTL
iptables -t mangle -A INPUT -j TTL --ttl-inc 0
iptables -t mangle -A INPUT -j DSCP
iptables -t mangle -A INPUT -j DSCP --set-dscp-class XX
iptables -t mangle -A INPUT -p tcp -j TCPMSS
iptables -t mangle -A FORWARD -p tcp -j TCPMSS --set-mss 100
iptables -t raw -A PREROUTING -j CT --zone x
iptables -A INPUT -j TTL --ttl-set 1
