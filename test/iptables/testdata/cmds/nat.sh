# The NAT targets (run once the engine has a NAT core).
iptables -t nat -A POSTROUTING -j MASQUERADE
iptables -t nat -A POSTROUTING -p tcp -j MASQUERADE --to-ports 1000-2000 --random
iptables -t nat -A POSTROUTING -p udp -j MASQUERADE --to-ports 1000 --random-fully
iptables -t nat -A PREROUTING -p tcp -j REDIRECT --to-ports 8080
iptables -t nat -A PREROUTING -p tcp -j REDIRECT --to-ports 8080-8090 --random
iptables -t nat -A PREROUTING -j REDIRECT
iptables -t nat -A PREROUTING -j NETMAP --to 10.0.0.0/24
iptables -t nat -A POSTROUTING -j SNAT --to-source 1.2.3.4-1.2.3.8 --persistent
iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80-90/85
iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination :80
iptables -t nat -A PREROUTING -j NETMAP --to 1.2.3.4/33
iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:80 --random --persistent
iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:80-81/ftp
iptables -t nat -A PREROUTING -p udp -j DNAT --to-destination 1.1.1.1:80-81/10
iptables -t nat -A POSTROUTING -p tcp -j SNAT --to-source 1.1.1.1:80-81/10
iptables -t nat -A PREROUTING -p icmp -j DNAT --to-destination 1.1.1.1:10
iptables -t nat -A PREROUTING -j DNAT --to-destination 1.1.1.5-1.1.1.1
iptables -t nat -S
iptables-save -t nat
iptables -t nat -L -n
iptables -t nat -L
iptables -t nat -L -v
