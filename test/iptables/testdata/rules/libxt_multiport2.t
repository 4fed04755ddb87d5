:INPUT,FORWARD,OUTPUT
-p tcp -m multiport ! --dports 22,80:90;=;OK
-p tcp -m multiport --sports ssh,http;-p tcp -m multiport --sports 22,80;OK
-p tcp -m multiport --ports 1,2 --sports 3;;FAIL
-p tcp -m multiport --ports 5:3;;FAIL
-m multiport --ports 1;;FAIL
