:INPUT,FORWARD,OUTPUT
*mangle
-j DSCP --set-dscp 10;-j DSCP --set-dscp 0x0a;OK
-j DSCP --set-dscp-class AF11;-j DSCP --set-dscp 0x0a;OK
-j DSCP --set-dscp 64;;FAIL
-j DSCP;;FAIL
