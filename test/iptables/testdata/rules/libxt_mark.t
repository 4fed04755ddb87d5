:INPUT,FORWARD,OUTPUT
-m mark --mark 0xa;=;OK
-m mark --mark 10;-m mark --mark 0xa;OK
-m mark ! --mark 0x5/0xff;=;OK
-m mark --mark 0xffffffff;=;OK
-m mark --mark 0x100000000;;FAIL
-m mark --mark x;;FAIL
-m mark;;FAIL
