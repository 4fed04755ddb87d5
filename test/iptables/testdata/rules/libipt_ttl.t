:INPUT,FORWARD,OUTPUT
-m ttl --ttl-eq 5;=;OK
-m ttl ! --ttl-eq 5;=;OK
-m ttl --ttl-lt 64;=;OK
-m ttl --ttl-gt 1;=;OK
-m ttl --ttl 7;-m ttl --ttl-eq 7;OK
-m ttl --ttl-eq 256;;FAIL
-m ttl --ttl-eq 1 --ttl-gt 2;;FAIL
-m ttl;;FAIL
