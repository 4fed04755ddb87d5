:PREROUTING,OUTPUT
*nat
-p tcp -j REDIRECT --to-ports 8080;=;OK
-p tcp -j REDIRECT --to-ports 8080-8090 --random;=;OK
-j REDIRECT;=;OK
-p tcp -j REDIRECT --to-ports x;;FAIL
