package packetdrill

import (
	"net/netip"
	"sync/atomic"

	"vnic/stack/tcp"
)

// sockState is where a connection is in the script's eyes (packetdrill's
// enum socket_state_t): what the runner has seen of its handshake, which
// says how the next scripted packet maps onto the live one.
type sockState uint8

const (
	sockNew                sockState = iota // socket() seen
	sockListening                           // listen() seen
	sockPassiveReceived                     // an inbound packet made it a passive child
	sockPassiveSynAckSent                   // the SYN-ACK went out
	sockPassiveSynAckAcked                  // the peer's ACK came in
	sockConnecting                          // connect() seen
	sockActiveSynSent                       // the SYN went out
	sockActiveSynAcked                      // the peer's SYN-ACK came in
)

// endpoint is one end of a connection.
type endpoint struct {
	addr netip.Addr
	port uint16
}

// tuple is a connection from the host under test's side.
type tuple struct{ local, remote endpoint }

// socket is packetdrill's struct socket: a connection as the script
// writes it and as it runs, with the initial sequence numbers that map
// one onto the other (socket.h). The script's numbers are relative: a
// SYN's sequence number is the ISN itself, every other segment's counts
// from it.
type socket struct {
	state            sockState
	live             tuple
	scriptLocalISN   uint32
	liveLocalISN     uint32
	scriptRemoteISN  uint32
	liveRemoteISN    uint32
	tsValMap         map[uint32]uint32 // script TS val → live TS val, from outbound packets
	firstTS          bool
	firstScriptTSVal uint32
	firstLiveTSVal   uint32
}

// remoteSeqOffset maps the peer's sequence numbers from script to live
// (remote_seq_script_to_live_offset).
func (s *socket) remoteSeqOffset(syn bool) uint32 {
	if syn {
		return 0
	}
	return s.liveRemoteISN
}

// localSeqOffset maps the host's sequence numbers from script to live
// (local_seq_script_to_live_offset).
func (s *socket) localSeqOffset(syn bool) uint32 {
	if syn {
		return s.liveLocalISN - s.scriptLocalISN
	}
	return s.liveLocalISN
}

// fd is a file descriptor of the script: a socket of vnic's TCP and the
// flags fcntl sets on it.
type fd struct {
	num      int
	sk       *tcp.Sock
	nonblock bool
	closed   bool
	// woke is set by the socket's wake-up (OnWake): a blocked call may
	// now succeed and is tried again.
	woke atomic.Bool
}

func newFD(num int, sk *tcp.Sock, nonblock bool) *fd {
	f := &fd{num: num, sk: sk, nonblock: nonblock}
	sk.OnWake(func() { f.woke.Store(true) })
	return f
}
