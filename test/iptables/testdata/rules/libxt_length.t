:INPUT,FORWARD,OUTPUT
-m length --length 100;=;OK
-m length --length 100:200;=;OK
-m length ! --length 0:65535;=;OK
-m length --length :500;-m length --length 0:500;OK
-m length --length 65536;;FAIL
-m length --length 1:2:3;;FAIL
-m length;;FAIL
