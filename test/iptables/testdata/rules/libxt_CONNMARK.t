:INPUT,FORWARD,OUTPUT
-j CONNMARK --set-mark 5;-j CONNMARK --set-xmark 0x5/0xffffffff;OK
-j CONNMARK --save-mark;-j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff;OK
-j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xf;=;OK
-j CONNMARK --set-xmark 1/3;-j CONNMARK --set-xmark 0x1/0x3;OK
-j CONNMARK --save-mark --mask 0xff;-j CONNMARK --save-mark --nfmask 0xff --ctmask 0xff;OK
-j CONNMARK;;FAIL
-j CONNMARK --save-mark --restore-mark;;FAIL
