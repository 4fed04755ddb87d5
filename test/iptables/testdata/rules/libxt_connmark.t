:INPUT,FORWARD,OUTPUT
-m connmark --mark 0xa;=;OK
-m connmark ! --mark 0x5/0xff;=;OK
-m connmark --mark 1/1;-m connmark --mark 0x1/0x1;OK
-m connmark --mark 1/x;;FAIL
-m connmark;;FAIL
