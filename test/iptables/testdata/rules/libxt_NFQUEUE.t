:INPUT,FORWARD,OUTPUT
-j NFQUEUE;-j NFQUEUE --queue-num 0;OK
-j NFQUEUE --queue-num 5;=;OK
-j NFQUEUE --queue-num 5 --queue-bypass;=;OK
-j NFQUEUE --queue-balance 2:5 --queue-cpu-fanout;=;OK
-j NFQUEUE --queue-balance 5:3;;FAIL
-j NFQUEUE --queue-cpu-fanout;;FAIL
-j NFQUEUE --queue-num 1 --queue-balance 2:3;;FAIL
