:INPUT,FORWARD,OUTPUT
-m pkttype --pkt-type unicast;=;OK
-m pkttype --pkt-type broadcast;=;OK
-m pkttype ! --pkt-type multicast;=;OK
-m pkttype --pkt-type host;-m pkttype --pkt-type unicast;OK
-m pkttype --pkt-type otherhost;=;OK
-m pkttype --pkt-type bogus;;FAIL
-m pkttype;;FAIL
