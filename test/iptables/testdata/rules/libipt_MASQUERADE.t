:POSTROUTING
*nat
-j MASQUERADE;=;OK
-p tcp -j MASQUERADE --to-ports 1000-2000 --random;=;OK
-p udp -j MASQUERADE --to-ports 1000 --random-fully;=;OK
-j MASQUERADE --to-ports 1000;;FAIL
