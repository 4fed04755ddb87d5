:INPUT,FORWARD,OUTPUT
-m tos --tos 0x10;-m tos --tos 0x10/0xff;OK
-m tos ! --tos 0x08/0x3f;=;OK
-m tos --tos Minimize-Delay;-m tos --tos 0x10/0x3f;OK
-m tos --tos Normal-Service;-m tos --tos 0x00/0x3f;OK
-m tos --tos Bogus;;FAIL
-m tos;;FAIL
