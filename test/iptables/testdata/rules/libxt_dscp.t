:INPUT,FORWARD,OUTPUT
-m dscp --dscp 10;-m dscp --dscp 0x0a;OK
-m dscp ! --dscp 0x2e;=;OK
-m dscp --dscp-class AF41;-m dscp --dscp 0x22;OK
-m dscp --dscp-class EF;-m dscp --dscp 0x2e;OK
-m dscp --dscp 64;;FAIL
-m dscp --dscp 1 --dscp-class EF;;FAIL
-m dscp --dscp-class XX;;FAIL
-m dscp;;FAIL
