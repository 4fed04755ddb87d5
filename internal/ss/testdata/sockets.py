# Sockets in the states ss shows, for capture.sh: run in a scratch
# network namespace (198.18.0.1/24 on a veth whose peer is down, so that
# 198.18.1.0/24 never answers). Every socket uses the congestion control
# argv[2]. Prints "ready" once they are set, then holds them for argv[1]
# seconds.
import socket, sys, time

A = "198.18.0.1"


def sock(family=socket.AF_INET):
    s = socket.socket(family)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, sys.argv[2].encode())
    return s


def conn(addr, family=socket.AF_INET):
    s = sock(family)
    s.connect(addr)
    return s


l = sock()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((A, 8080))
l.listen(5)
ssh = sock()
ssh.bind(("127.0.0.1", 22))
ssh.listen(128)

# ESTABLISHED both ways, 3000 bytes sent, 1000 of them read.
c1 = conn((A, 8080))
s1, _ = l.accept()
c1.send(b"x" * 3000)
time.sleep(0.1)
s1.recv(1000)
# FIN-WAIT-2 and CLOSE-WAIT.
c2 = conn((A, 8080))
s2, _ = l.accept()
c2.shutdown(socket.SHUT_WR)
# TIME-WAIT.
c3 = conn((A, 8080))
s3, _ = l.accept()
c3.close()
time.sleep(0.05)
s3.close()
# Keepalive.
c4 = sock()
c4.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
c4.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 100)
c4.connect((A, 8080))
s4, _ = l.accept()
# A full receiver: the sender's zero-window probes (persist).
s5l = sock()
s5l.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s5l.bind((A, 8081))
s5l.listen(1)
c5 = conn((A, 8081))
c5.setblocking(False)
s5, _ = s5l.accept()
try:
    for _ in range(4096):
        c5.send(b"y" * 65536)
except BlockingIOError:
    pass
# SYN-SENT: nobody answers (the retransmit timer).
c6 = sock()
c6.setblocking(False)
try:
    c6.connect(("198.18.1.9", 80))
except BlockingIOError:
    pass
# One connection the listener has not accepted (its accept queue).
c7 = conn(("127.0.0.1", 22))
# IPv6: a wildcard listener and a connection over ::1.
l6 = sock(socket.AF_INET6)
l6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
l6.bind(("::", 8080))
l6.listen(5)
c8 = conn(("::1", 8080), socket.AF_INET6)
s8, _ = l6.accept()
time.sleep(0.3)
print("ready", flush=True)
time.sleep(float(sys.argv[1]))
