:INPUT,FORWARD,OUTPUT
-m statistic --mode random --probability 0.25;-m statistic --mode random --probability 0.25000000000;OK
-m statistic --mode random ! --probability 0.5;-m statistic --mode random ! --probability 0.50000000000;OK
-m statistic --mode nth --every 3 --packet 0;=;OK
-m statistic --mode nth --every 3;;FAIL
-m statistic --mode nth ! --every 3 --packet 1;=;OK
-m statistic --mode random;;FAIL
-m statistic --mode nth --every 2 --packet 5;;FAIL
-m statistic --mode bogus;;FAIL
-m statistic --mode random --probability 2;;FAIL
