:INPUT,FORWARD,OUTPUT
*mangle
-j TTL --ttl-set 5;=;OK
-j TTL --ttl-inc 1;=;OK
-j TTL --ttl-dec 2;=;OK
-j TTL --ttl-inc 0;;FAIL
-j TTL;;FAIL
