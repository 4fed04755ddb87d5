:FORWARD,OUTPUT,POSTROUTING
*mangle
-p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1400;=;OK
-p tcp -m tcp --syn -j TCPMSS --clamp-mss-to-pmtu;-p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j TCPMSS --clamp-mss-to-pmtu;OK
-p tcp -j TCPMSS --set-mss 1400;;FAIL
-p tcp -j TCPMSS;;FAIL
