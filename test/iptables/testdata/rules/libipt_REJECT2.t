:INPUT,FORWARD,OUTPUT
-p tcp -j REJECT --reject-with tcp-reset;=;OK
-j REJECT --reject-with host-unreach;-j REJECT --reject-with icmp-host-unreachable;OK
-j REJECT --reject-with tcp-reset;;FAIL
-j REJECT --reject-with bogus;;FAIL
