package tcp_test

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"vnic/header"
	"vnic/stack"
	"vnic/stack/tcp"
)

// The segments a socket sends are the socket's (skb_set_owner_w in
// __tcp_transmit_skb), so that netfilter's owner match sees them: the
// SYN, a listener's SYN-ACK (its request sock's, whose full socket is the
// listener), data, FINs, the ACK that ends FIN_WAIT2. What no full
// socket sends is the host's, as the kernel sends it from its control
// socket: TIME_WAIT's answer to a retransmitted FIN, and the reset for a
// port nobody listens on.
func TestSegmentsCarryTheirOwner(t *testing.T) {
	pa := newPath(t, time.Millisecond)
	var log []string
	ops := &stack.NFHookOps{Name: "owner", Hook: stack.NFLocalOut, Fn: func(skb *stack.SKB, _ *stack.NFState) stack.Verdict {
		ip := header.IPv4(skb.Data())
		if ip.IsValid() && ip.Protocol() == header.ProtoTCP {
			th := header.TCP(ip[ip.HeaderLen():])
			owner := "host"
			if skb.Owner != nil {
				owner = "socket"
			}
			log = append(log, fmt.Sprintf("%d>%d %s %s", th.SrcPort(), th.DstPort(), segFlags(th.Flags()), owner))
		}
		return stack.NFAccept
	}}
	if err := pa.p.Inet().Host().Netfilter().Register(ops); err != nil {
		t.Fatal(err)
	}
	c, s := connectPair(t, pa.p, pa.p, lo80, func() { pa.clk.RunFor(10 * time.Millisecond) })
	pa.transfer(c, s, []byte("vnic"), 50*time.Millisecond)
	// The client's ACK of the server's FIN is lost once: the FIN comes
	// again, to a client in TIME_WAIT.
	lost := false
	pa.fate = func(w *wireSeg) verdict {
		if !lost && w.dport == 80 && w.flags == header.TCPAck && w.len == 0 && s.State() == tcp.LastAck {
			lost = true
			return verdict{drop: true}
		}
		return pass
	}
	c.Close()
	pa.clk.RunFor(10 * time.Millisecond)
	s.Close()
	pa.clk.RunFor(2 * time.Second)
	if c.State() != tcp.TimeWait || !lost {
		t.Fatalf("client in %v (ACK lost: %v), want TIME_WAIT after a lost ACK", c.State(), lost)
	}
	x := pa.p.NewSocket()
	if err := x.Connect(netip.MustParseAddrPort("127.0.0.1:81")); !errors.Is(err, syscall.EINPROGRESS) {
		t.Fatalf("connect: %v", err)
	}
	pa.clk.RunFor(10 * time.Millisecond)
	cp, xp := c.LocalAddr().Port(), x.LocalAddr().Port()
	if len(log) < 5 {
		t.Fatalf("%d segments:\n%s", len(log), strings.Join(log, "\n"))
	}
	n := len(log)
	for i, want := range map[int]string{
		0:     fmt.Sprintf("%d>80 S socket", cp),
		1:     fmt.Sprintf("80>%d S. socket", cp), // the request's, read as the listener's
		n - 4: fmt.Sprintf("80>%d F. socket", cp), // the FIN again
		n - 3: fmt.Sprintf("%d>80 . host", cp),    // TIME_WAIT's answer
		n - 2: fmt.Sprintf("%d>81 S socket", xp),
		n - 1: fmt.Sprintf("81>%d R. host", xp),
	} {
		if log[i] != want {
			t.Errorf("segment %d: %q, want %q", i, log[i], want)
		}
	}
	for i, l := range log[:n-3] {
		if !strings.HasSuffix(l, " socket") {
			t.Errorf("segment %d: %q, want the socket's", i, l)
		}
	}
	if t.Failed() {
		t.Log(strings.Join(log, "\n"))
	}
}

// segFlags names a segment's flags as tcpdump does (S, F, R, P, ., U).
func segFlags(f uint8) string {
	var b strings.Builder
	for _, x := range []struct {
		bit  uint8
		name byte
	}{{header.TCPSyn, 'S'}, {header.TCPFin, 'F'}, {header.TCPRst, 'R'}, {header.TCPPsh, 'P'}, {header.TCPUrg, 'U'}} {
		if f&x.bit != 0 {
			b.WriteByte(x.name)
		}
	}
	if f&header.TCPAck != 0 {
		b.WriteByte('.')
	}
	return b.String()
}
