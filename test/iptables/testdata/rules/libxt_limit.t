:INPUT,FORWARD,OUTPUT
-m limit --limit 1/sec;=;OK
-m limit --limit 10/minute;-m limit --limit 10/min;OK
-m limit --limit 3/min --limit-burst 7;=;OK
-m limit --limit 2/hour;=;OK
-m limit --limit 5/day;=;OK
-m limit;-m limit --limit 3/hour;OK
-m limit --limit-burst 10001;;FAIL
-m limit --limit 0;;FAIL
-m limit --limit 3/fortnight;;FAIL
