# Every match the engine has, read back by -S, -L -n, -L and iptables-save.
iptables -N c1
iptables -A c1 -p tcp -m multiport --dports 22,80:90,443 -j ACCEPT
iptables -A c1 -p udp -m multiport ! --sports 53 -j ACCEPT
iptables -A c1 -p tcp -m multiport --ports 1,2 -j ACCEPT
iptables -A c1 -m comment --comment "a b" -j ACCEPT
iptables -A c1 -m length --length 100:200 -j ACCEPT
iptables -A c1 -m length ! --length 100 -j ACCEPT
iptables -A c1 -m ttl --ttl-eq 5 -j ACCEPT
iptables -A c1 -m ttl --ttl-gt 5 -j ACCEPT
iptables -A c1 -m ttl ! --ttl-eq 5 -j ACCEPT
iptables -A c1 -m ttl --ttl-lt 5 -j ACCEPT
iptables -A c1 -m tos --tos 0x10 -j ACCEPT
iptables -A c1 -m tos ! --tos 0x08/0x3f -j ACCEPT
iptables -A c1 -m tos --tos Minimize-Delay -j ACCEPT
iptables -A c1 -m dscp --dscp 10 -j ACCEPT
iptables -A c1 -m dscp ! --dscp-class EF -j ACCEPT
iptables -A c1 -m pkttype --pkt-type broadcast -j ACCEPT
iptables -A c1 -m pkttype ! --pkt-type unicast -j ACCEPT
iptables -A c1 -m mac --mac-source 02:00:00:00:00:01 -j ACCEPT
iptables -A c1 -m mac ! --mac-source 02:00:00:00:00:AB -j ACCEPT
iptables -A c1 -m iprange --src-range 198.18.0.1-198.18.0.9 -j ACCEPT
iptables -A c1 -m iprange ! --dst-range 198.18.0.1-198.18.0.9 -j ACCEPT
iptables -A c1 -m mark --mark 0x5 -j ACCEPT
iptables -A c1 -m mark ! --mark 5/0xff -j ACCEPT
iptables -A c1 -m connmark --mark 0x5 -j ACCEPT
iptables -A c1 -m connmark ! --mark 5/0xff -j ACCEPT
iptables -A c1 -m state --state NEW,ESTABLISHED -j ACCEPT
iptables -A c1 -m state ! --state INVALID -j ACCEPT
iptables -A c1 -m conntrack --ctstate NEW,RELATED --ctproto tcp --ctorigsrc 1.2.3.0/24 --ctorigdst 1.2.3.4 --ctreplsrc 5.6.7.8 --ctrepldst 5.6.7.0/255.255.255.0 -j ACCEPT
iptables -A c1 -p tcp -m conntrack --ctorigsrcport 10 --ctorigdstport 20:30 --ctreplsrcport 40 --ctrepldstport 50 --ctdir REPLY -j ACCEPT
iptables -A c1 -m conntrack ! --ctstatus ASSURED,SEEN_REPLY ! --ctexpire 10:20 ! --ctstate SNAT -j ACCEPT
iptables -A c1 -m limit --limit 3/min --limit-burst 7 -j ACCEPT
iptables -A c1 -m limit -j ACCEPT
iptables -A c1 -m limit --limit 10/sec -j ACCEPT
iptables -A c1 -m limit --limit 2/hour -j ACCEPT
iptables -A c1 -m limit --limit 5/day -j ACCEPT
iptables -A c1 -m hashlimit --hashlimit-upto 5/sec --hashlimit-name hl1 -j ACCEPT
iptables -A c1 -m hashlimit --hashlimit-above 5/min --hashlimit-burst 9 --hashlimit-mode srcip,dstport --hashlimit-name hl2 --hashlimit-srcmask 24 --hashlimit-htable-size 64 --hashlimit-htable-max 128 --hashlimit-htable-expire 5000 --hashlimit-htable-gcinterval 2000 -j ACCEPT
iptables -A c1 -m hashlimit --hashlimit-upto 1kb/s --hashlimit-name hl3 -j ACCEPT
iptables -A c1 -m hashlimit --hashlimit-upto 100/sec --hashlimit-name hl4 --hashlimit-rate-match --hashlimit-rate-interval 5 -j ACCEPT
iptables -A c1 -m addrtype --src-type LOCAL -j ACCEPT
iptables -A c1 -m addrtype ! --dst-type UNICAST,BROADCAST --limit-iface-in -j ACCEPT
iptables -A c1 -m recent --set --name r1 -j ACCEPT
iptables -A c1 -m recent --rcheck --seconds 60 --hitcount 3 --rttl --name r1 --rsource -j ACCEPT
iptables -A c1 -m recent ! --update --seconds 60 --reap --name r2 --rdest --mask 255.255.255.0 -j ACCEPT
iptables -A c1 -m recent --remove -j ACCEPT
iptables -A c1 -m statistic --mode random --probability 0.25 -j ACCEPT
iptables -A c1 -m statistic ! --mode nth --every 3 --packet 1 -j ACCEPT
iptables -A c1 -m string --string "GET /" --algo bm -j ACCEPT
iptables -A c1 -m string ! --hex-string "|00 01|ab" --algo kmp --from 10 --to 100 --icase -j ACCEPT
iptables -A c1 -m string --string "a\"b" --algo bm -j ACCEPT
iptables -A c1 -p icmp --icmp-type echo-request -j ACCEPT
iptables -A c1 -p icmp ! --icmp-type 3/4 -j ACCEPT
iptables -A c1 -p icmp --icmp-type 3 -j ACCEPT
iptables -A c1 -p icmp --icmp-type 40/1 -j ACCEPT
iptables -A c1 -p tcp --tcp-flags ALL NONE --tcp-option 2 -j ACCEPT
iptables -A c1 -p tcp --syn --sport 1:2 --dport ssh -j ACCEPT
iptables -A c1 -p tcp ! --syn -j ACCEPT
iptables -A OUTPUT -m owner --uid-owner 0 --gid-owner 10-20 -j ACCEPT
iptables -A OUTPUT -m owner ! --uid-owner 5 ! --socket-exists -j ACCEPT
iptables -S
iptables -L -n
iptables -L
iptables-save
iptables -L -v -n -x --line-numbers
iptables -v -S
