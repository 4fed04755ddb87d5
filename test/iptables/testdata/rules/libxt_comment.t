:INPUT,FORWARD,OUTPUT
-m comment --comment hello;=;OK
-m comment --comment "two words";=;OK
-m comment --comment "quote\"d";=;OK
-m comment;;FAIL
