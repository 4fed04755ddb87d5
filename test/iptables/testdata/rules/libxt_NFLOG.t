:INPUT,FORWARD,OUTPUT
-j NFLOG;=;OK
-j NFLOG --nflog-group 3;=;OK
-j NFLOG --nflog-prefix pfx --nflog-size 100 --nflog-threshold 2;=;OK
-j NFLOG --nflog-group 65536;;FAIL
