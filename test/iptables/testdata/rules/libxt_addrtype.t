:INPUT,FORWARD,OUTPUT
-m addrtype --src-type LOCAL;=;OK
-m addrtype ! --dst-type UNICAST,BROADCAST;=;OK
-m addrtype --src-type MULTICAST --dst-type LOCAL;=;OK
-m addrtype --src-type BOGUS;;FAIL
-m addrtype;;FAIL
