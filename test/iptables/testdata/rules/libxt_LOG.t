:INPUT,FORWARD,OUTPUT
-j LOG;=;OK
-j LOG --log-prefix "test: ";=;OK
-j LOG --log-level 7;=;OK
-j LOG --log-level debug;-j LOG --log-level 7;OK
-j LOG --log-level warning;-j LOG;OK
-j LOG --log-tcp-sequence --log-tcp-options --log-ip-options --log-uid --log-macdecode;=;OK
-j LOG --log-level bogus;;FAIL
-j LOG --log-prefix "";;FAIL
