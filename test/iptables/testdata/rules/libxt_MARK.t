:INPUT,FORWARD,OUTPUT
-j MARK --set-mark 5;-j MARK --set-xmark 0x5/0xffffffff;OK
-j MARK --set-xmark 5/0xf;-j MARK --set-xmark 0x5/0xf;OK
-j MARK --and-mark 0xf0;-j MARK --set-xmark 0x0/0xffffff0f;OK
-j MARK --or-mark 0x3;-j MARK --set-xmark 0x3/0x3;OK
-j MARK --xor-mark 0x3;-j MARK --set-xmark 0x3/0x0;OK
-j MARK;;FAIL
-j MARK --set-mark 1 --or-mark 2;;FAIL
