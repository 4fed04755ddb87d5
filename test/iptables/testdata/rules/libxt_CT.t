:PREROUTING,OUTPUT
*raw
-j CT --notrack;=;OK
-j NOTRACK;=;OK
-j CT --zone x;;FAIL
