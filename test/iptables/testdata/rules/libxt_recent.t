:INPUT,FORWARD,OUTPUT
-m recent --set;-m recent --set --name DEFAULT --mask 255.255.255.255 --rsource;OK
-m recent --set --name r1;-m recent --set --name r1 --mask 255.255.255.255 --rsource;OK
-m recent --rcheck --seconds 60 --hitcount 3 --rttl --name r1;-m recent --rcheck --seconds 60 --hitcount 3 --rttl --name r1 --mask 255.255.255.255 --rsource;OK
-m recent ! --update --seconds 60 --reap --name r2 --rdest --mask 255.255.255.0;-m recent ! --update --seconds 60 --reap --name r2 --mask 255.255.255.0 --rdest;OK
-m recent --remove --name r1;-m recent --remove --name r1 --mask 255.255.255.255 --rsource;OK
-m recent;;FAIL
-m recent --set --rcheck;;FAIL
-m recent --rcheck --reap;;FAIL
-m recent --set --rttl;;FAIL
