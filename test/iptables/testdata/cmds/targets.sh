# Every target the engine has, in the tables that take it.
iptables -A INPUT -m statistic --mode nth ! --every 3 --packet 1 -j ACCEPT
iptables -A INPUT -j LOG
iptables -A INPUT -j LOG --log-prefix "x: " --log-level warning --log-tcp-sequence --log-tcp-options --log-ip-options --log-uid --log-macdecode
iptables -A INPUT -j LOG --log-level 7
iptables -A INPUT -j NFLOG
iptables -A INPUT -j NFLOG --nflog-group 3 --nflog-prefix "pfx" --nflog-size 100 --nflog-threshold 2
iptables -A INPUT -j NFQUEUE
iptables -A INPUT -j NFQUEUE --queue-num 5 --queue-bypass
iptables -A INPUT -j NFQUEUE --queue-balance 2:5 --queue-cpu-fanout
iptables -A INPUT -j REJECT --reject-with tcp-reset -p tcp
iptables -A INPUT -j REJECT --reject-with icmp-host-unreachable
iptables -A INPUT -j MARK --set-mark 5
iptables -A INPUT -j MARK --set-xmark 5/0xf
iptables -A INPUT -j MARK --and-mark 0xf0
iptables -A INPUT -j MARK --or-mark 0x3
iptables -A INPUT -j MARK --xor-mark 0x3
iptables -A INPUT -j MARK --set-mark 5/0xff
iptables -A INPUT -j CONNMARK --set-mark 5
iptables -A INPUT -j CONNMARK --save-mark
iptables -A INPUT -j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xf
iptables -A INPUT -j CONNMARK --set-xmark 1/3
iptables -A INPUT -j CONNMARK --and-mark 1
iptables -A INPUT -j CONNMARK --save-mark --mask 0xff
iptables -t mangle -A INPUT -j TTL --ttl-set 5
iptables -t mangle -A INPUT -j TTL --ttl-inc 1
iptables -t mangle -A INPUT -j TTL --ttl-dec 2
iptables -t mangle -A INPUT -j DSCP --set-dscp 10
iptables -t mangle -A INPUT -j DSCP --set-dscp-class AF11
iptables -t mangle -A FORWARD -p tcp --syn -j TCPMSS --clamp-mss-to-pmtu
iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1400
iptables -t raw -A PREROUTING -j CT --notrack
iptables -t raw -A PREROUTING -j NOTRACK
iptables-save
iptables -L -n
iptables -t mangle -L -n
iptables -t raw -L -n
