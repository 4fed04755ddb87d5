package conntrack

import (
	"testing"
	"time"

	"vnic/header"
)

const (
	syn = header.TCPSyn
	ack = header.TCPAck
	fin = header.TCPFin
	rst = header.TCPRst
	psh = header.TCPPsh
)

// step is one segment of a TCP conversation between A (client, seen
// coming in) and B (this host, sending), and what tracking must make of
// it.
type step struct {
	name    string
	fromA   bool
	flags   uint8
	seq     uint32
	ackNo   uint32
	payload int
	wait    time.Duration // virtual time before the segment
	info    Info
	noConn  bool // invalid: no connection attached
	state   uint8
	timeout time.Duration
	assured bool
}

func runTCP(t *testing.T, r *rig, steps []step) *Conn {
	t.Helper()
	var last *Conn
	for _, s := range steps {
		r.advance(s.wait)
		sg := seg{flags: s.flags, seq: s.seq, ack: s.ackNo, win: 65535, payload: s.payload}
		var res result
		if s.fromA {
			sg.src, sg.dst, sg.sport, sg.dport = addrA, addrB, 40000, 80
			res = r.in(sg.bytes())
		} else {
			sg.src, sg.dst, sg.sport, sg.dport = addrB, addrA, 80, 40000
			res = r.out(sg.bytes())
		}
		if s.noConn {
			if res.ct != nil {
				t.Fatalf("%s: got a connection (%v), want none", s.name, res.info)
			}
			continue
		}
		if res.ct == nil {
			t.Fatalf("%s: no connection", s.name)
		}
		ct := res.ct
		if res.info != s.info || ct.ProtoState() != s.state || ct.Timeout() != s.timeout || (ct.Status()&StatusAssured != 0) != s.assured {
			t.Fatalf("%s: info %d state %s timeout %v assured %v, want %d %s %v %v", s.name, res.info,
				TCPStateNames[ct.ProtoState()], ct.Timeout(), ct.Status()&StatusAssured != 0,
				s.info, TCPStateNames[s.state], s.timeout, s.assured)
		}
		last = ct
	}
	return last
}

func TestTCPStates(t *testing.T) {
	const isn, risn = 1000, 5000
	handshake := []step{
		{name: "SYN", fromA: true, flags: syn, seq: isn, info: New, state: TCPSynSent, timeout: 120 * time.Second},
		{name: "SYN/ACK", flags: syn | ack, seq: risn, ackNo: isn + 1, wait: time.Millisecond, info: EstablishedReply, state: TCPSynRecv, timeout: 60 * time.Second},
		{name: "ACK", fromA: true, flags: ack, seq: isn + 1, ackNo: risn + 1, wait: time.Millisecond, info: Established, state: TCPEstablished, timeout: 5 * 24 * time.Hour, assured: true},
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"handshake", handshake},
		{"data then close from the client", append(handshake[:3:3],
			step{name: "data", fromA: true, flags: ack | psh, seq: isn + 1, ackNo: risn + 1, payload: 100, info: Established, state: TCPEstablished, timeout: 300 * time.Second, assured: true},
			step{name: "ack of data", flags: ack, seq: risn + 1, ackNo: isn + 101, info: EstablishedReply, state: TCPEstablished, timeout: 5 * 24 * time.Hour, assured: true},
			step{name: "FIN", fromA: true, flags: fin | ack, seq: isn + 101, ackNo: risn + 1, info: Established, state: TCPFinWait, timeout: 120 * time.Second, assured: true},
			step{name: "ACK of FIN", flags: ack, seq: risn + 1, ackNo: isn + 102, info: EstablishedReply, state: TCPCloseWait, timeout: 60 * time.Second, assured: true},
			step{name: "FIN back", flags: fin | ack, seq: risn + 1, ackNo: isn + 102, info: EstablishedReply, state: TCPLastAck, timeout: 30 * time.Second, assured: true},
			step{name: "last ACK", fromA: true, flags: ack, seq: isn + 102, ackNo: risn + 2, info: Established, state: TCPTimeWait, timeout: 120 * time.Second, assured: true},
		)},
		{"reset", append(handshake[:3:3],
			step{name: "RST", flags: rst, seq: risn + 1, info: EstablishedReply, state: TCPClose, timeout: 10 * time.Second, assured: true},
		)},
		{"retransmitted SYN keeps its timeout", []step{
			handshake[0],
			{name: "SYN again", fromA: true, flags: syn, seq: isn, wait: 3 * time.Second, info: New, state: TCPSynSent, timeout: 117 * time.Second},
		}},
		{"RST answering the SYN deletes", []step{
			handshake[0],
			{name: "RST", flags: rst | ack, seq: 0, ackNo: isn + 1, info: EstablishedReply, state: TCPClose, timeout: 120 * time.Second},
			{name: "SYN anew", fromA: true, flags: syn, seq: isn + 7, info: New, state: TCPSynSent, timeout: 120 * time.Second},
		}},
		{"ACK before the SYN/ACK is invalid", []step{
			handshake[0],
			{name: "ACK", fromA: true, flags: ack, seq: isn + 1, ackNo: risn + 1, noConn: true},
		}},
		{"picked up mid-stream (tcp_loose)", []step{
			{name: "ACK", fromA: true, flags: ack, seq: isn, ackNo: risn, info: New, state: TCPEstablished, timeout: 300 * time.Second},
			{name: "answer", flags: ack, seq: risn, ackNo: isn, info: EstablishedReply, state: TCPEstablished, timeout: 300 * time.Second},
			{name: "third", fromA: true, flags: ack, seq: isn, ackNo: risn, info: Established, state: TCPEstablished, timeout: 5 * 24 * time.Hour, assured: true},
		}},
		{"invalid flags", []step{
			{name: "SYN+FIN", fromA: true, flags: syn | fin, seq: isn, noConn: true},
		}},
		{"data beyond the window is invalid", append(handshake[:3:3],
			step{name: "far ahead", fromA: true, flags: ack, seq: isn + 1 + 1<<20, ackNo: risn + 1, payload: 10, noConn: true},
		)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			runTCP(t, r, tt.steps)
		})
	}
}

func TestTCPLooseOff(t *testing.T) {
	r := newRig(t)
	c := r.n.Config()
	c.TCPLoose = false
	r.n.SetConfig(c)
	res := r.in(seg{src: addrA, dst: addrB, sport: 1, dport: 2, flags: ack, seq: 1, win: 100}.bytes())
	if res.ct != nil || r.n.Stats().Invalid != 1 || r.n.Count() != 0 {
		t.Fatalf("ct %v invalid %d count %d, want none, 1, 0", res.ct, r.n.Stats().Invalid, r.n.Count())
	}
}

func TestTCPReopenFromTimeWait(t *testing.T) {
	r := newRig(t)
	steps := []step{
		{name: "SYN", fromA: true, flags: syn, seq: 1000, info: New, state: TCPSynSent, timeout: 120 * time.Second},
		{name: "SYN/ACK", flags: syn | ack, seq: 5000, ackNo: 1001, info: EstablishedReply, state: TCPSynRecv, timeout: 60 * time.Second},
		{name: "ACK", fromA: true, flags: ack, seq: 1001, ackNo: 5001, info: Established, state: TCPEstablished, timeout: 5 * 24 * time.Hour, assured: true},
		{name: "FIN", fromA: true, flags: fin | ack, seq: 1001, ackNo: 5001, info: Established, state: TCPFinWait, timeout: 120 * time.Second, assured: true},
		{name: "FIN back", flags: fin | ack, seq: 5001, ackNo: 1002, info: EstablishedReply, state: TCPLastAck, timeout: 30 * time.Second, assured: true},
		{name: "last ACK", fromA: true, flags: ack, seq: 1002, ackNo: 5002, info: Established, state: TCPTimeWait, timeout: 120 * time.Second, assured: true},
		// A new SYN on the same ports: the closed entry goes, a new one
		// is made (NF_REPEAT).
		{name: "new SYN", fromA: true, flags: syn, seq: 90000, info: New, state: TCPSynSent, timeout: 120 * time.Second},
	}
	old := runTCP(t, r, steps[:6])
	ct := runTCP(t, r, steps[6:])
	if ct == old || old.Status()&StatusDying == 0 || r.n.Count() != 1 {
		t.Fatalf("new %p old %p (dying %v), count %d: want a new entry, the old gone", ct, old, old.Status()&StatusDying != 0, r.n.Count())
	}
}
