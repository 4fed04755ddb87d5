:INPUT,FORWARD,OUTPUT
-m string --string "GET /" --algo bm;=;OK
-m string ! --string abc --algo kmp;-m string ! --string "abc" --algo kmp;OK
-m string --hex-string "|00 01|ab" --algo bm --from 10 --to 100;-m string --hex-string "|00016162|" --algo bm --from 10 --to 100;OK
-m string --string abc --algo bm --icase;-m string --string "abc" --algo bm --icase;OK
-m string --string x;;FAIL
-m string --algo bm;;FAIL
-m string --string a --hex-string "|00|" --algo bm;;FAIL
