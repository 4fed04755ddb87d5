#!/bin/bash
# The settings the runner's own scripts start from: Linux's defaults.sh
# in small, with what the runner must understand of one.

# Accepted as no-ops: vnic keeps no TCP metrics and queues FIFO.
ip tcp_metrics flush all > /dev/null 2>&1
tc qdisc add dev tun0 root pfifo

# Several keys on a line, arithmetic, quoting.
sysctl -q net.ipv4.tcp_rmem="4096 131072 $((6*1024*1024))" net.ipv4.tcp_wmem="4096 $((16*1024)) 4194304"
sysctl -q net.ipv4.tcp_timestamps=1   # a comment after a command

# A key vnic lacks is reported and passed over, as sysctl does.
sysctl -q net.ipv4.tcp_fack=0
