package tcp_test

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"vnic/header"
	"vnic/stack/tcp"
)

var ecnAddr = netip.MustParseAddrPort("127.0.0.1:5001")

// Negotiation as Linux's tcp_ecn says: the active open asks only with 1;
// a listener accepts with 1 or 2; the SYN asks with ECE|CWR, the SYN-ACK
// answers ECE; neither is ECT; TCP_INFO shows TCPI_OPT_ECN on both ends.
func TestECNNegotiation(t *testing.T) {
	for _, tc := range []struct {
		client, server int
		asks, ok       bool
	}{
		{0, 0, false, false}, {0, 1, false, false}, {0, 2, false, false},
		{1, 0, true, false}, {1, 1, true, true}, {1, 2, true, true},
		{2, 0, false, false}, {2, 1, false, false}, {2, 2, false, false},
	} {
		t.Run("", func(t *testing.T) {
			pa := newPath(t, time.Millisecond)
			pa.setConfig(func(c *tcp.Config) { c.ECN = tc.client })
			l := pa.p.NewSocket()
			if err := l.Bind(ecnAddr); err != nil {
				t.Fatal(err)
			}
			if err := l.Listen(1); err != nil {
				t.Fatal(err)
			}
			c := pa.p.NewSocket()
			_ = c.Connect(ecnAddr) // the SYN is built now, under the client's setting
			pa.setConfig(func(c *tcp.Config) { c.ECN = tc.server })
			pa.clk.RunFor(10 * time.Millisecond)
			s, err := l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			syn, synack := pa.log[0], pa.log[1]
			if !syn.has(header.TCPSyn) || !synack.has(header.TCPSyn|header.TCPAck) {
				t.Fatalf("the handshake: %v, %v", &syn, &synack)
			}
			if got := syn.flags&(header.TCPEce|header.TCPCwr) == header.TCPEce|header.TCPCwr; got != tc.asks {
				t.Errorf("the SYN asks: %v, want %v (%v)", got, tc.asks, &syn)
			}
			if got := synack.has(header.TCPEce); got != tc.ok || synack.has(header.TCPCwr) {
				t.Errorf("the SYN-ACK's ECE: %v, want %v (%v)", got, tc.ok, &synack)
			}
			if syn.ecn != 0 || synack.ecn != 0 {
				t.Errorf("a SYN is ECT: %v, %v", &syn, &synack)
			}
			for _, sk := range []*tcp.Sock{c, s} {
				if got := sk.Info().Options&tcp.InfoOptECN != 0; got != tc.ok {
					t.Errorf("TCPI_OPT_ECN %v, want %v", got, tc.ok)
				}
			}
		})
	}
}

// A SYN that is ECT itself is refused ECN (RFC 3168 6.1.1), as is a SYN
// asking with ECE alone.
func TestECNRequestNotECT(t *testing.T) {
	for _, tc := range []struct {
		name string
		mark func(s *wireSeg) verdict
	}{{"ECT SYN", func(s *wireSeg) verdict { return verdict{ce: s.has(header.TCPSyn) && !s.has(header.TCPAck)} }}} {
		t.Run(tc.name, func(t *testing.T) {
			pa := newPath(t, time.Millisecond)
			pa.setConfig(func(c *tcp.Config) { c.ECN = 1 })
			pa.fate = tc.mark
			c, s := pa.connect(ecnAddr)
			// The SYN left Not-ECT, so the mark did nothing: ECN is on.
			if pa.log[0].ce || c.Info().Options&tcp.InfoOptECN == 0 || s.Info().Options&tcp.InfoOptECN == 0 {
				t.Errorf("a Not-ECT SYN was marked, or ECN is off: %v", &pa.log[0])
			}
		})
	}
}

// The data path of an ECN flow: data segments leave ECT(0), ACKs
// Not-ECT. One CE mark makes the receiver echo ECE on every ACK until
// the sender's CWR arrives; the sender reduces once (CWR state, PRR, to
// ssthresh = cwnd × 0.7), sets CWR on its next new segment only,
// retransmits nothing, and counts what the ECE ACKs delivered.
func TestECNCongestionResponse(t *testing.T) {
	pa := newPath(t, 5*time.Millisecond)
	pa.setConfig(func(c *tcp.Config) { c.ECN = 1 })
	c, s := pa.connect(ecnAddr)
	cport := c.LocalAddr().Port()
	marked := -1
	pa.fate = func(w *wireSeg) verdict {
		// The fifth data segment of the client is marked.
		if w.sport == cport && w.len > 0 && marked < 0 {
			if n := dataSegs(pa.log, cport); n == 4 {
				marked = w.n
				return verdict{ce: true}
			}
		}
		return pass
	}
	// PRR's reference (RFC 6937): after each ACK in CWR the window is
	// what is in flight plus the segments PRR lets go.
	var prrDelivered, prrOut, lastDelivered, prrChecked int
	var prior tcp.TCPInfo
	pa.arrived = func(w *wireSeg) {
		i := c.Info()
		if w.dport != cport {
			return
		}
		delivered := int(i.Delivered) - lastDelivered
		lastDelivered = int(i.Delivered)
		sent := 0
		for _, x := range pa.log[w.n:] {
			if x.sport == cport && x.len > 0 && x.sent > w.arr {
				sent++
			}
		}
		if prior.CAState != 2 && i.CAState == 2 {
			prrDelivered, prrOut = 0, 0 // the reduction starts with this ACK
		}
		if i.CAState == 2 && delivered > 0 {
			inFlight := int(i.Unacked) - int(i.Sacked) - int(i.Lost) + int(i.Retrans) - sent
			prrDelivered += delivered
			u := c.UndoState()
			var sndcnt int
			if delta := int(i.SndSsthresh) - inFlight; delta < 0 {
				sndcnt = (int(i.SndSsthresh)*prrDelivered+int(u.PriorCwnd)-1)/int(u.PriorCwnd) - prrOut
			} else {
				sndcnt = min(delta, max(prrDelivered-prrOut, delivered)+1)
			}
			if prrOut == 0 {
				sndcnt = max(sndcnt, 1)
			}
			if want := inFlight + max(sndcnt, 0); int(i.SndCwnd) != want {
				t.Errorf("after %v: cwnd %d, want PRR's %d (in flight %d, delivered %d of %d, out %d)", w, i.SndCwnd, want, inFlight, delivered, prrDelivered, prrOut)
			}
			prrChecked++
		}
		if i.CAState == 2 {
			prrOut += sent
		}
		prior = i
	}
	data := bytes.Repeat([]byte("ecn!"), 200_000)
	pa.transfer(c, s, data, 10*time.Second)
	if prrChecked < 5 {
		t.Errorf("PRR checked on %d ACKs", prrChecked)
	}
	if marked < 0 {
		t.Fatal("no segment was marked")
	}
	var eceFirst, eceLast, cwr = -1, -1, -1
	cwrs := 0
	for _, w := range pa.log {
		switch {
		case w.has(header.TCPSyn):
		case w.sport == cport:
			if w.len > 0 && w.ecn != 2 {
				t.Errorf("a data segment not ECT(0): %v", &w)
			}
			if w.len == 0 && w.ecn != 0 {
				t.Errorf("a segment without data ECT: %v", &w)
			}
			if w.has(header.TCPCwr) {
				cwrs++
				cwr = w.n
			}
		default:
			if w.ecn != 0 {
				t.Errorf("an ACK is ECT: %v", &w)
			}
			if w.has(header.TCPEce) {
				if eceFirst < 0 {
					eceFirst = w.n
				}
				eceLast = w.n
			}
		}
	}
	if cwrs != 1 || eceFirst < marked || cwr < eceFirst {
		t.Fatalf("CE at #%d, ECE from #%d to #%d, %d CWR (#%d)", marked, eceFirst, eceLast, cwrs, cwr)
	}
	// The receiver: ECE on its ACKs from the one answering the CE
	// segment until it has the CWR, none after.
	ce, cw := pa.log[marked], pa.log[cwr]
	eces := 0
	for _, w := range pa.log {
		if w.sport == cport || w.has(header.TCPSyn) {
			continue
		}
		want := w.sent > ce.arr && w.sent < cw.arr
		if w.has(header.TCPEce) != want {
			t.Errorf("ECE %v on %v (CE arrived at event %d, CWR at %d)", w.has(header.TCPEce), &w, ce.arr, cw.arr)
		}
		if w.has(header.TCPEce) {
			eces++
		}
	}
	// The sender: CWR on the first new segment after the first ECE.
	for _, w := range pa.log {
		if w.sport == cport && w.len > 0 && w.sent > pa.log[eceFirst].arr {
			if w.n != cwr {
				t.Errorf("the first segment after the ECE is %v, not the CWR %v", &w, &cw)
			}
			break
		}
	}
	// Six ACKs answer the segments that followed the CE one in its
	// flight, six more those sent before the ECE arrived: each acks one
	// segment, so TCPDeliveredCE is 12.
	if eces != 12 {
		t.Errorf("%d ACKs with ECE, want 12", eces)
	}
	i := c.Info()
	u := c.UndoState()
	// The ECE came after four ACKs of slow start: cwnd 14, ssthresh
	// 14 × 717/1024 = 9.
	if i.SndSsthresh != 9 || u.PriorCwnd != 14 {
		t.Errorf("ssthresh %d, cwnd before %d; want 9 and 14", i.SndSsthresh, u.PriorCwnd)
	}
	if u.Marker != 0 || u.PriorSsthresh != 0 {
		t.Errorf("a CWR reduction is undoable: %+v", u)
	}
	if i.TotalRetrans != 0 || ext(pa.p, "TCPFastRetrans") != 0 || ext(pa.p, "TCPTimeouts") != 0 {
		t.Errorf("retransmissions: %+v", i)
	}
	if i.DeliveredCE != 12 || ext(pa.p, "TCPDeliveredCE") != 12 {
		t.Errorf("delivered CE %d, TCPDeliveredCE %d", i.DeliveredCE, ext(pa.p, "TCPDeliveredCE"))
	}
	if got := s.Info().Options; got&tcp.InfoOptECNSeen == 0 {
		t.Errorf("the receiver's options %#x lack TCPI_OPT_ECN_SEEN", got)
	}
	if c.Info().CAState != 0 {
		t.Errorf("the sender's CA state %d after the transfer, want Open", c.Info().CAState)
	}
}

func dataSegs(log []wireSeg, port uint16) int {
	n := 0
	for _, w := range log {
		if w.sport == port && w.len > 0 {
			n++
		}
	}
	return n
}

// Without ECN negotiated nothing is ECT, and a router's CE mark cannot
// happen: marks are ignored.
func TestECNOffNoECT(t *testing.T) {
	pa := newPath(t, time.Millisecond)
	c, s := pa.connect(ecnAddr) // tcp_ecn=2: the client does not ask
	pa.transfer(c, s, make([]byte, 100_000), time.Second)
	for _, w := range pa.log {
		if w.ecn != 0 || w.has(header.TCPEce|header.TCPCwr) {
			t.Fatalf("ECN on a connection without it: %v", &w)
		}
	}
}
