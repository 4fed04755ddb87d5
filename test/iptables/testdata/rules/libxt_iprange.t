:INPUT,FORWARD,OUTPUT
-m iprange --src-range 198.18.0.1-198.18.0.9;=;OK
-m iprange ! --src-range 198.18.0.1-198.18.0.9;=;OK
-m iprange --dst-range 198.18.0.1-198.18.0.9;=;OK
-m iprange --src-range 198.18.0.1-198.18.0.9 ! --dst-range 192.0.2.1-192.0.2.7;=;OK
-m iprange --src-range 198.18.0.5;-m iprange --src-range 198.18.0.5-198.18.0.5;OK
-m iprange --src-range 198.18.0.1-bogus;;FAIL
-m iprange;;FAIL
