:INPUT,FORWARD
-m mac --mac-source 02:00:00:00:00:01;=;OK
-m mac ! --mac-source 02:00:00:00:00:AB;-m mac ! --mac-source 02:00:00:00:00:ab;OK
-m mac --mac-source 2:0:0:0:0:1;-m mac --mac-source 02:00:00:00:00:01;OK
-m mac --mac-source 02:00:00:00:00;;FAIL
-m mac --mac-source 02:00:00:00:00:001;;FAIL
-m mac;;FAIL
