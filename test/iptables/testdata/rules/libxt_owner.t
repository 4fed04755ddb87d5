:OUTPUT,POSTROUTING
*mangle
-m owner --uid-owner 0;=;OK
-m owner --uid-owner 1000-2000;=;OK
-m owner ! --gid-owner 5;=;OK
-m owner --socket-exists;=;OK
-m owner ! --socket-exists --uid-owner 7;=;OK
-m owner --uid-owner nosuchuser;;FAIL
-m owner;;FAIL
