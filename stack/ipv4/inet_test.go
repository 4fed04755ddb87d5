package ipv4_test

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"vnic/header"
	"vnic/hw"
	"vnic/internal/stacktest"
	"vnic/stack"
	"vnic/stack/inet"
	"vnic/stack/ipv4"
)

// wire is a test driver: what a device sends is recorded and, unless
// dropped by the filter, arrives at the peer through its backlog (a
// non-NAPI receive) — enough to run IPv4 between hosts on the virtual
// clock without the NIC model.
type wire struct {
	stacktest.NopOps
	dev    *stack.NetDevice
	peer   *wire
	frames *[]frame // shared log of both directions
	drop   func(b []byte) bool
}

type frame struct {
	from string
	b    []byte
}

func (w *wire) Open() error { w.dev.CarrierOn(); return nil }
func (w *wire) StartXmit(s *stack.SKB, q *stack.TxQueue) stack.TxResult {
	b := append([]byte(nil), s.Data()...)
	s.Consume()
	if len(b) < 60 {
		b = append(b, make([]byte, 60-len(b))...) // the MAC pads short frames
	}
	*w.frames = append(*w.frames, frame{w.dev.Host().Name() + "/" + w.dev.Name(), b})
	if w.peer == nil || (w.drop != nil && w.drop(b)) {
		return stack.TxOK
	}
	p := w.peer.dev
	r := p.Host().Pool().Alloc(len(b) + stack.NetIPAlign)
	r.Reserve(stack.NetIPAlign)
	copy(r.Put(len(b)), b)
	r.Protocol = stack.EthTypeTrans(r, p)
	_ = stack.NetifRx(r, 0)
	return stack.TxOK
}

// net is a set of hosts on one virtual clock joined by wires.
type inetRig struct {
	t      *testing.T
	clk    *hw.VirtualClock
	hosts  map[string]*stack.Host
	inet   map[string]*ipv4.Inet
	frames []frame
}

func newInetRig(t *testing.T, names ...string) *inetRig {
	t.Helper()
	r := &inetRig{t: t, clk: hw.NewVirtualClock(), hosts: map[string]*stack.Host{}, inet: map[string]*ipv4.Inet{}}
	for _, n := range names {
		h := stack.NewHost(n, r.clk, []stack.CPU{hw.NewCPU(0, r.clk, hw.CostModel{})}, stack.HostConfig{})
		in, err := inet.Init(h, ipv4.InetConfig{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		r.hosts[n], r.inet[n] = h, in
	}
	return r
}

var macSeq byte

// link joins a device on host a (address pa) to one on host b (pb) and
// returns the two wires.
func (r *inetRig) link(a, pa, b, pb string, mtu int) (*wire, *wire) {
	r.t.Helper()
	mk := func(host, addr string) *wire {
		w := &wire{frames: &r.frames}
		d := stack.NewEtherDevice("eth%d", w, 1, 1, 9000)
		macSeq++
		d.SetAddrInit(stack.MAC{2, 0, 0, 0, 0, macSeq})
		w.dev = d
		h := r.hosts[host]
		if err := h.Register(d); err != nil {
			r.t.Fatal(err)
		}
		if err := d.Open(); err != nil {
			r.t.Fatal(err)
		}
		if mtu != 0 {
			d.SetMTUInit(mtu)
		}
		if err := r.inet[host].AddAddr(d, netip.MustParsePrefix(addr)); err != nil {
			r.t.Fatal(err)
		}
		return w
	}
	wa, wb := mk(a, pa), mk(b, pb)
	wa.peer, wb.peer = wb, wa
	r.run(time.Millisecond)
	r.frames = nil // the gratuitous ARPs
	return wa, wb
}

func (r *inetRig) run(d time.Duration) { r.clk.RunFor(d) }

// summary describes each wire frame: "h1/eth0 ARP request 198.18.0.2",
// "h1/eth0 IP 198.18.0.1>198.18.0.2 ICMP 8/0 ttl 64 len 84".
func (r *inetRig) summary() []string {
	var out []string
	for _, f := range r.frames {
		out = append(out, f.from+" "+describe(f.b))
	}
	return out
}

func describe(b []byte) string {
	switch binary.BigEndian.Uint16(b[12:14]) {
	case stack.EthPARP:
		p, err := ipv4.ParseARP(b[14:])
		if err != nil {
			return "bad ARP"
		}
		if p.Op == ipv4.ARPRequest {
			return fmt.Sprintf("ARP who-has %v tell %v", netip.AddrFrom4(p.TargetIP), netip.AddrFrom4(p.SenderIP))
		}
		return fmt.Sprintf("ARP %v is-at %v", netip.AddrFrom4(p.SenderIP), p.SenderMAC)
	case stack.EthPIPv4:
		ip := header.IPv4(b[14:])
		s := fmt.Sprintf("IP %v>%v", netip.AddrFrom4(ip.Src()), netip.AddrFrom4(ip.Dst()))
		if !ip.ChecksumValid() {
			s += " BADSUM"
		}
		ff := ip.FlagsFrag()
		if ff&(ipv4.IPMF|ipv4.IPOffset) != 0 {
			mf := 0
			if ff&ipv4.IPMF != 0 {
				mf = 1
			}
			s += fmt.Sprintf(" frag off %d mf %d", ff&ipv4.IPOffset, mf)
		}
		if ff&ipv4.IPDF != 0 {
			s += " DF"
		}
		l4 := b[14+ip.HeaderLen():]
		switch {
		case ip.Protocol() == ipv4.IPProtoICMP && ff&ipv4.IPOffset == 0:
			s += fmt.Sprintf(" ICMP %d/%d", l4[0], l4[1])
		case ip.Protocol() == ipv4.IPProtoUDP && ff&ipv4.IPOffset == 0:
			s += fmt.Sprintf(" UDP %d>%d", binary.BigEndian.Uint16(l4[0:2]), binary.BigEndian.Uint16(l4[2:4]))
		}
		return s + fmt.Sprintf(" ttl %d len %d", ip.TTL(), ip.TotalLen())
	}
	return "?"
}

func wantLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\n got:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
