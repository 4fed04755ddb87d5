// Package tcp is a host's TCP as Linux 6.x runs it (net/ipv4/tcp*.c):
// the socket and its states (RFC 9293), the listen socket with its SYN
// and accept queues, input processing per state, output with Linux's
// window and option choices, the retransmission, delayed-ACK,
// keepalive, zero-window-probe and TIME_WAIT timers, and congestion
// control behind an interface. It registers with IPv4's protocol table
// (segments and the ICMP errors quoting them), as tcp_v4_init does.
//
// Every operation of a socket is non-blocking underneath: a call that
// would wait returns EAGAIN (or EINPROGRESS for connect), and a waiter
// waits for the socket's wake-ups — on a real-time host with Wait, on
// the virtual clock by being told (OnWake) and trying again, so that a
// script runner in virtual time decides when a blocked call returns.
// All timers run on the host's clock.
package tcp
