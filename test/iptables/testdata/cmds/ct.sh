# The CT target's templates: zones (both directions, one, from the mark),
# event masks, and the helpers and timeout policies neither side has.
iptables -t raw -A PREROUTING -j CT
iptables -t raw -A PREROUTING -j CT --zone 1
iptables -t raw -A PREROUTING -j CT --zone 0
iptables -t raw -A PREROUTING -j CT --zone 0x10
iptables -t raw -A OUTPUT -j CT --zone-orig 2
iptables -t raw -A OUTPUT -j CT --zone-reply 3
iptables -t raw -A OUTPUT -j CT --zone-orig 1 --zone-reply 2
iptables -t raw -A OUTPUT -j CT --zone mark
iptables -t raw -A OUTPUT -j CT --zone MARK
iptables -t raw -A OUTPUT -j CT --zone-reply mark
iptables -t raw -A OUTPUT -j CT --zone-orig mark --zone-reply 3
iptables -t raw -A PREROUTING -p udp -j CT --ctevents new,destroy
iptables -t raw -A PREROUTING -j CT --ctevents new,related,destroy,reply,assured,protoinfo,helper,mark,natseqinfo,secmark --zone 1
iptables -t raw -A PREROUTING -j CT --ctevents secmark,natseqinfo
iptables -t raw -A PREROUTING -j CT --ctevents new,new,destroy
iptables -t raw -A PREROUTING -j CT --expevents new
iptables -t raw -A PREROUTING -j CT --expevents new --ctevents mark --zone-orig 7
iptables -t raw -A PREROUTING -j CT --notrack --zone 1
iptables -t raw -A PREROUTING -j CT --notrack --ctevents new --zone-orig 1
iptables -t raw -A PREROUTING -j CT --notrack --helper ftp
iptables -t raw -A PREROUTING -j CT --notrack --timeout x
iptables -t raw -A PREROUTING -j CT --helper ''
iptables-save -t raw
iptables -t raw -L -n -v
iptables -t raw -S
iptables -t raw -C OUTPUT -j CT --zone-reply 3
iptables -t raw -C OUTPUT -j CT --zone-reply 4
iptables -t raw -D OUTPUT -j CT --zone-reply 3
iptables -t raw -D PREROUTING -j CT --ctevents new,destroy -p udp
iptables -t raw -F
# Refused by iptables.
iptables -t raw -A PREROUTING -j CT --zone 1 --zone 2
iptables -t raw -A PREROUTING -j CT --zone 65536
iptables -t raw -A PREROUTING -j CT --zone -1
iptables -t raw -A PREROUTING -j CT --zone x
iptables -t raw -A PREROUTING -j CT --ctevents new,foo
iptables -t raw -A PREROUTING -j CT --ctevents ''
iptables -t raw -A PREROUTING -j CT --ctevents new,
iptables -t raw -A PREROUTING -j CT --ctevents NEW
iptables -t raw -A PREROUTING -j CT --expevents destroy
iptables -t raw -A PREROUTING -j CT --expevents new --expevents new
iptables -t raw -A PREROUTING -j CT --notrack --notrack
iptables -t raw -A PREROUTING -j NOTRACK --zone 1
# Refused by the kernel: no such helper, no such timeout policy, a
# timeout policy without a protocol, CT outside the raw table.
iptables -t raw -A PREROUTING -j CT --helper ftp
iptables -t raw -A PREROUTING -p udp -j CT --helper ftp
iptables -t raw -A PREROUTING -p tcp -j CT --helper abcdefghijklmnopq
iptables -t raw -A PREROUTING ! -p udp -j CT --helper sip
iptables -t raw -A PREROUTING -j CT --timeout foo
iptables -t raw -A PREROUTING ! -p udp -j CT --timeout foo
iptables -t raw -A PREROUTING -p udp -j CT --timeout foo
iptables -t raw -A PREROUTING -p udp -j CT --zone 1 --timeout foo
iptables -t raw -A PREROUTING -p tcp -j CT --timeout abcdefghijklmnopqrstuvwxyz0123456789
iptables -A INPUT -j CT --zone 1
iptables -t mangle -A PREROUTING -j CT --zone 1
iptables-save -t raw
printf '*raw\n-A PREROUTING -j CT --zone 4 --ctevents new\n-A OUTPUT -p udp -j CT --helper ftp\nCOMMIT\n' | iptables-restore
printf '*raw\n-A PREROUTING -j CT --zone 4 --ctevents new\n-A OUTPUT -j CT --zone-orig mark\nCOMMIT\n' | iptables-restore
iptables-save -t raw
