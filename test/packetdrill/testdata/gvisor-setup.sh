# The settings gVisor's packetdrill harness gives the host under test
# before each of its scripts (--init_scripts), so that the scripts see the
# buffers they were written against.
sysctl -q net.ipv4.tcp_sack=1
sysctl -q net.ipv4.tcp_rmem="4096 2097152 $((8*1024*1024))"
sysctl -q net.ipv4.tcp_wmem="4096 2097152 $((8*1024*1024))"
