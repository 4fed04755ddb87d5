package nat

import (
	"fmt"
	"testing"

	"vnic/header"
	"vnic/stack"
	"vnic/stack/netfilter/conntrack"
)

// binding is one flow bound in a tuple-choice case.
type bindCase struct {
	p    pkt
	rng  Range
	m    Manip
	zone *conntrack.Zone // the zone the flow is tracked in (nil: the default)
}

func tcpFlow(src, dst [4]byte, sport, dport uint16) pkt {
	return pkt{src: src, dst: dst, proto: header.ProtoTCP, sport: sport, dport: dport, flags: header.TCPSyn, seq: 1000}
}

func udpFlow(src, dst [4]byte, sport, dport uint16) pkt {
	return pkt{src: src, dst: dst, proto: header.ProtoUDP, sport: sport, dport: dport, payload: 4}
}

// TestUniqueTuple binds flows one after another and checks the tuple the
// last one's reply comes back to (the NAT end it was given).
func TestUniqueTuple(t *testing.T) {
	snatN := single(addrN)
	dnat := func(lo, hi uint16) Range { return ports(single(addrD), lo, hi) }
	type want struct {
		addr     [4]byte
		port     uint16 // exact, unless lo/hi
		lo, hi   uint16 // a range the port must be in (and differ from avoid)
		avoid    uint16
		refused  bool // the last flow's confirmation drops it (a duplicate)
		mangled  bool // IPS_SRC_NAT or IPS_DST_NAT set
		fromPrev int  // 1-based: the port must be that earlier flow's
	}
	cases := []struct {
		name  string
		flows []bindCase
		want  want
	}{
		{"snat keeps a free port", []bindCase{
			{tcpFlow(addrA, addrD, 40000, 80), snatN, ManipSrc, nil},
		}, want{addr: addrN, port: 40000, mangled: true}},
		{"snat clash moves within 1024-65535", []bindCase{
			{tcpFlow(addrA, addrD, 40000, 80), snatN, ManipSrc, nil},
			{tcpFlow(addrB, addrD, 40000, 80), snatN, ManipSrc, nil},
		}, want{addr: addrN, lo: 1024, hi: 65535, avoid: 40000, mangled: true}},
		{"snat clash moves within 600-1023", []bindCase{
			{tcpFlow(addrA, addrD, 700, 80), snatN, ManipSrc, nil},
			{tcpFlow(addrB, addrD, 700, 80), snatN, ManipSrc, nil},
		}, want{addr: addrN, lo: 600, hi: 1023, avoid: 700, mangled: true}},
		{"snat clash moves within 1-511", []bindCase{
			{udpFlow(addrA, addrD, 53, 53), snatN, ManipSrc, nil},
			{udpFlow(addrB, addrD, 53, 53), snatN, ManipSrc, nil},
		}, want{addr: addrN, lo: 1, hi: 511, avoid: 53, mangled: true}},
		{"snat: another destination keeps the port", []bindCase{
			{tcpFlow(addrA, addrD, 40000, 80), snatN, ManipSrc, nil},
			{tcpFlow(addrB, addrD2, 40000, 80), snatN, ManipSrc, nil},
		}, want{addr: addrN, port: 40000, mangled: true}},
		{"snat to a range: a port outside moves in", []bindCase{
			{tcpFlow(addrA, addrD, 40000, 80), ports(snatN, 1000, 1005), ManipSrc, nil},
		}, want{addr: addrN, lo: 1000, hi: 1005, mangled: true}},
		{"snat to a range: a port inside and free stays", []bindCase{
			{tcpFlow(addrA, addrD, 1003, 80), ports(snatN, 1000, 1005), ManipSrc, nil},
		}, want{addr: addrN, port: 1003, mangled: true}},
		{"snat to a range: a port inside and taken moves", []bindCase{
			{tcpFlow(addrA, addrD, 1003, 80), ports(snatN, 1000, 1005), ManipSrc, nil},
			{tcpFlow(addrB, addrD, 1003, 80), ports(snatN, 1000, 1005), ManipSrc, nil},
		}, want{addr: addrN, lo: 1000, hi: 1005, avoid: 1003, mangled: true}},
		{"snat to an exhausted range: the duplicate is refused", []bindCase{
			{tcpFlow(addrA, addrD, 1000, 80), ports(snatN, 1000, 1001), ManipSrc, nil},
			{tcpFlow(addrB, addrD, 1000, 80), ports(snatN, 1000, 1001), ManipSrc, nil},
			{tcpFlow([4]byte{198, 18, 1, 4}, addrD, 1000, 80), ports(snatN, 1000, 1001), ManipSrc, nil},
		}, want{addr: addrN, lo: 1000, hi: 1001, refused: true, mangled: true}},
		{"snat: the tuple in range and free is kept", []bindCase{
			{tcpFlow(addrN, addrD, 40000, 80), snatN, ManipSrc, nil},
		}, want{addr: addrN, port: 40000}},
		{"snat: a source keeps its mapping for another destination", []bindCase{
			{tcpFlow(addrB, addrD, 40000, 80), snatN, ManipSrc, nil},
			{tcpFlow(addrA, addrD, 40000, 80), snatN, ManipSrc, nil},
			{tcpFlow(addrA, addrD2, 40000, 80), snatN, ManipSrc, nil},
		}, want{addr: addrN, lo: 1024, hi: 65535, avoid: 40000, mangled: true, fromPrev: 2}},
		{"dnat keeps the destination port", []bindCase{
			{tcpFlow(addrA, addrN, 40000, 80), single(addrD), ManipDst, nil},
		}, want{addr: addrD, port: 80, mangled: true}},
		{"dnat keeps the destination port even on a clash", []bindCase{
			{tcpFlow(addrA, addrN, 40000, 80), single(addrD), ManipDst, nil},
			{tcpFlow(addrA, addrN2, 40000, 80), single(addrD), ManipDst, nil},
		}, want{addr: addrD, port: 80, refused: true, mangled: true}},
		{"dnat to a port", []bindCase{
			{tcpFlow(addrA, addrN, 40000, 80), dnat(8080, 8080), ManipDst, nil},
		}, want{addr: addrD, port: 8080, mangled: true}},
		{"dnat to a range starts at its first port", []bindCase{
			{tcpFlow(addrA, addrN, 40000, 80), dnat(8000, 8010), ManipDst, nil},
		}, want{addr: addrD, port: 8000, mangled: true}},
		{"dnat to a range goes on to the next free port", []bindCase{
			{tcpFlow(addrA, addrN, 40000, 80), dnat(8000, 8010), ManipDst, nil},
			{tcpFlow(addrA, addrN2, 40000, 80), dnat(8000, 8010), ManipDst, nil},
		}, want{addr: addrD, port: 8001, mangled: true}},
		{"dnat with a base keeps the offset", []bindCase{
			{tcpFlow(addrA, addrN, 40000, 83), Range{Flags: MapIPs | ProtoSpecified | ProtoOffset, MinAddr: addrD, MaxAddr: addrD, MinProto: 8000, MaxProto: 8010, BaseProto: 80}, ManipDst, nil},
		}, want{addr: addrD, port: 8003, mangled: true}},
		{"snat: the same flow in two zones keeps its port in each", []bindCase{
			{tcpFlow(addrA, addrD, 40000, 80), snatN, ManipSrc, &conntrack.Zone{ID: 1}},
			{tcpFlow(addrA, addrD, 40000, 80), snatN, ManipSrc, &conntrack.Zone{ID: 2}},
		}, want{addr: addrN, port: 40000, mangled: true}},
		{"snat: a clash in another zone is none", []bindCase{
			{tcpFlow(addrA, addrD, 40000, 80), snatN, ManipSrc, &conntrack.Zone{ID: 1}},
			{tcpFlow(addrB, addrD, 40000, 80), snatN, ManipSrc, nil},
		}, want{addr: addrN, port: 40000, mangled: true}},
		{"snat: a clash in the same zone moves", []bindCase{
			{tcpFlow(addrA, addrD, 40000, 80), snatN, ManipSrc, &conntrack.Zone{ID: 1}},
			{tcpFlow(addrB, addrD, 40000, 80), snatN, ManipSrc, &conntrack.Zone{ID: 1}},
		}, want{addr: addrN, lo: 1024, hi: 65535, avoid: 40000, mangled: true}},
		{"snat: zones of the original direction share the reply's default zone", []bindCase{
			{tcpFlow(addrA, addrD, 40000, 80), snatN, ManipSrc, &conntrack.Zone{ID: 1, Dir: conntrack.ZoneDirOrig}},
			{tcpFlow(addrB, addrD, 40000, 80), snatN, ManipSrc, &conntrack.Zone{ID: 2, Dir: conntrack.ZoneDirOrig}},
		}, want{addr: addrN, lo: 1024, hi: 65535, avoid: 40000, mangled: true}},
		{"snat: zones of the reply direction keep them apart", []bindCase{
			{tcpFlow(addrA, addrD, 40000, 80), snatN, ManipSrc, &conntrack.Zone{ID: 1, Dir: conntrack.ZoneDirRepl}},
			{tcpFlow(addrB, addrD, 40000, 80), snatN, ManipSrc, &conntrack.Zone{ID: 2, Dir: conntrack.ZoneDirRepl}},
		}, want{addr: addrN, port: 40000, mangled: true}},
		{"snat: a source keeps its mapping within its zone only", []bindCase{
			{tcpFlow(addrB, addrD, 40000, 80), snatN, ManipSrc, &conntrack.Zone{ID: 1}},
			{tcpFlow(addrA, addrD, 40000, 80), snatN, ManipSrc, &conntrack.Zone{ID: 1}},
			{tcpFlow(addrA, addrD2, 40000, 80), snatN, ManipSrc, &conntrack.Zone{ID: 2}},
		}, want{addr: addrN, port: 40000, mangled: true}},
		{"icmp: a taken identifier moves", []bindCase{
			{pkt{src: addrA, dst: addrD, proto: header.ProtoICMP, icmpType: header.ICMPv4Echo, sport: 77}, snatN, ManipSrc, nil},
			{pkt{src: addrB, dst: addrD, proto: header.ProtoICMP, icmpType: header.ICMPv4Echo, sport: 77}, snatN, ManipSrc, nil},
		}, want{addr: addrN, lo: 0, hi: 65535, avoid: 77, mangled: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, 1)
			var cts []*conntrack.Conn
			var v stack.Verdict
			for _, f := range tc.flows {
				var ct *conntrack.Conn
				ct, v = r.bindIn(f.p, f.rng, f.m, f.zone)
				cts = append(cts, ct)
			}
			last, f := cts[len(cts)-1], tc.flows[len(tc.flows)-1]
			want := tc.want
			if wv := map[bool]stack.Verdict{false: stack.NFAccept, true: stack.NFDrop}[want.refused]; v != wv {
				t.Fatalf("confirmation %v, want %v", v, wv)
			}
			reply := last.Tuple(conntrack.Reply)
			addr, port := reply.Dst, reply.DstPort
			if f.m == ManipDst {
				addr, port = reply.Src, reply.SrcPort
			}
			if f.p.proto == header.ProtoICMP {
				port = reply.SrcPort
			}
			if addr != want.addr {
				t.Errorf("address %v, want %v", addr, want.addr)
			}
			switch {
			case want.fromPrev > 0:
				prev := cts[want.fromPrev-1].Tuple(conntrack.Reply)
				if port != prev.DstPort {
					t.Errorf("port %d, want flow %d's %d", port, want.fromPrev, prev.DstPort)
				}
			case want.hi == 0 && port != want.port:
				t.Errorf("port %d, want %d", port, want.port)
			}
			if want.hi != 0 && (port < want.lo || port > want.hi || port == want.avoid) {
				t.Errorf("port %d, want one in %d-%d other than %d", port, want.lo, want.hi, want.avoid)
			}
			bits := last.Status() & natMask
			if (bits != 0) != want.mangled {
				t.Errorf("status %#x: mangled %v, want %v", last.Status(), bits != 0, want.mangled)
			}
			if last.Status()&doneBit(f.m) == 0 {
				t.Errorf("status %#x: end not marked done", last.Status())
			}
		})
	}
}

// sourcePorts binds n flows from distinct clients to one destination
// through SNAT with flags (each one's port 40000 clashing after the first)
// and returns the ports they got.
func sourcePorts(t *testing.T, seed int64, flags uint32, n int) []uint16 {
	r := newRig(t, seed)
	rng := single(addrN)
	rng.Flags |= flags
	var out []uint16
	for i := range n {
		ct, v := r.bind(tcpFlow([4]byte{198, 18, 1, byte(10 + i)}, addrD, 40000, 80), rng, ManipSrc)
		if v != stack.NFAccept {
			t.Fatalf("flow %d: %v", i, v)
		}
		out = append(out, ct.Tuple(conntrack.Reply).DstPort)
	}
	return out
}

// TestRandomPorts: --random and --random-fully draw the port even when the
// client's is free; the draws repeat for a seed and differ for another.
func TestRandomPorts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags uint32
	}{{"clash", 0}, {"random", ProtoRandom}, {"random-fully", ProtoRandomFully}} {
		t.Run(tc.name, func(t *testing.T) {
			a, b, c := sourcePorts(t, 1, tc.flags, 5), sourcePorts(t, 1, tc.flags, 5), sourcePorts(t, 2, tc.flags, 5)
			if fmt.Sprint(a) != fmt.Sprint(b) {
				t.Fatalf("seed 1 twice: %v and %v", a, b)
			}
			if fmt.Sprint(a[1:]) == fmt.Sprint(c[1:]) {
				t.Fatalf("seeds 1 and 2 drew the same ports %v", a)
			}
			seen := map[uint16]bool{}
			for i, p := range a {
				if seen[p] || p < 1024 {
					t.Fatalf("ports %v: %d reused or out of its class", a, p)
				}
				seen[p] = true
				if i == 0 && (p == 40000) != (tc.flags == 0) {
					t.Fatalf("first flow's port %d: kept %v, want %v", p, p == 40000, tc.flags == 0)
				}
			}
		})
	}
}

// TestAddressChoice: over a range of addresses, a source's connections
// are spread by source and destination, or (persistent) by source alone.
func TestAddressChoice(t *testing.T) {
	rng := Range{Flags: MapIPs, MinAddr: [4]byte{198, 19, 0, 10}, MaxAddr: [4]byte{198, 19, 0, 13}}
	for _, tc := range []struct {
		name       string
		flags      uint32
		persistent bool
	}{{"by source and destination", 0, false}, {"persistent", Persistent, true}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, 1)
			rr := rng
			rr.Flags |= tc.flags
			got := map[[4]byte]int{}
			for i := range 16 {
				// Another port each time: the same source port would
				// keep its first mapping (find_appropriate_src).
				ct, v := r.bind(tcpFlow(addrA, [4]byte{198, 19, 1, byte(i)}, 40000+uint16(i), 80), rr, ManipSrc)
				if v != stack.NFAccept {
					t.Fatalf("flow %d: %v", i, v)
				}
				a := ct.Tuple(conntrack.Reply).Dst
				if be32(a) < be32(rng.MinAddr) || be32(a) > be32(rng.MaxAddr) {
					t.Fatalf("address %v out of the range", a)
				}
				got[a]++
			}
			if tc.persistent && len(got) != 1 {
				t.Fatalf("persistent: addresses %v, want one", got)
			}
			if !tc.persistent && len(got) < 2 {
				t.Fatalf("addresses %v: 16 destinations all on one", got)
			}
		})
	}
}

// hashlittleRef is lookup3's hashlittle, byte by byte: the reference the
// one-word jhash is held to.
func hashlittleRef(k []byte, initval uint32) uint32 {
	rot := func(x uint32, n uint) uint32 { return x<<n | x>>(32-n) }
	a := 0xdeadbeef + uint32(len(k)) + initval
	b, c := a, a
	word := func(p []byte) uint32 {
		var w uint32
		for i := len(p) - 1; i >= 0; i-- {
			w = w<<8 | uint32(p[i])
		}
		return w
	}
	for len(k) > 12 {
		a += word(k[0:4])
		b += word(k[4:8])
		c += word(k[8:12])
		a -= c
		a ^= rot(c, 4)
		c += b
		b -= a
		b ^= rot(a, 6)
		a += c
		c -= b
		c ^= rot(b, 8)
		b += a
		a -= c
		a ^= rot(c, 16)
		c += b
		b -= a
		b ^= rot(a, 19)
		a += c
		c -= b
		c ^= rot(b, 4)
		b += a
		k = k[12:]
	}
	if len(k) == 0 {
		return c
	}
	a += word(k[0:min(4, len(k))])
	if len(k) > 4 {
		b += word(k[4:min(8, len(k))])
	}
	if len(k) > 8 {
		c += word(k[8:])
	}
	c ^= b
	c -= rot(b, 14)
	a ^= c
	a -= rot(c, 11)
	b ^= a
	b -= rot(a, 25)
	c ^= b
	c -= rot(b, 16)
	a ^= c
	a -= rot(c, 4)
	b ^= a
	b -= rot(a, 14)
	c ^= b
	c -= rot(b, 24)
	return c
}

// TestJhash holds jhash1 to lookup3 (its published values for "Four
// score and seven years ago", then one word at a time).
func TestJhash(t *testing.T) {
	s := []byte("Four score and seven years ago")
	if got := hashlittleRef(s, 0); got != 0x17770551 {
		t.Fatalf("reference: %#x, want 0x17770551", got)
	}
	if got := hashlittleRef(s, 1); got != 0xcd628161 {
		t.Fatalf("reference: %#x, want 0xcd628161", got)
	}
	for i := range 1000 {
		k := uint32(i) * 2654435761
		iv := uint32(i) * 40503
		b := []byte{byte(k), byte(k >> 8), byte(k >> 16), byte(k >> 24)}
		if got, want := jhash1(k, iv), hashlittleRef(b, iv); got != want {
			t.Fatalf("jhash1(%#x, %#x) = %#x, want %#x", k, iv, got, want)
		}
	}
}

// TestTimeWaitReuse: in its last attempts a SYN takes the port of a
// source-NATed connection in TIME_WAIT whose sequence space it has moved
// past (the entry is evicted, nf_nat_used_tuple_harder); one that has not
// moved past is a duplicate, refused.
func TestTimeWaitReuse(t *testing.T) {
	r := newRig(t, 1)
	r.rule(stack.NFPostRouting, r.setup(ports(single(addrN), 2000, 2001), ManipSrc))
	// Two connections through the NAT, each taking one of the ports, are
	// walked to TIME_WAIT.
	var natPorts []uint16
	for i, src := range [][4]byte{addrA, addrB} {
		c := func(flags uint8, seq, ack uint32) []byte {
			return pkt{src: src, dst: addrD, proto: header.ProtoTCP, sport: 40000, dport: 80, flags: flags, seq: seq, ack: ack}.bytes()
		}
		out, _ := r.forward(c(header.TCPSyn, 1000, 0), r.lan, r.wan)
		if out == nil {
			t.Fatalf("connection %d: SYN dropped", i)
		}
		np := header.TCP(out[20:]).SrcPort()
		natPorts = append(natPorts, np)
		s := func(flags uint8, seq, ack uint32) []byte {
			return pkt{src: addrD, dst: addrN, proto: header.ProtoTCP, sport: 80, dport: np, flags: flags, seq: seq, ack: ack}.bytes()
		}
		for j, step := range []struct {
			b        []byte
			from, to *stack.NetDevice
		}{
			{s(header.TCPSyn|header.TCPAck, 7000, 1001), r.wan, r.lan},
			{c(header.TCPAck, 1001, 7001), r.lan, r.wan},
			{c(header.TCPFin|header.TCPAck, 1001, 7001), r.lan, r.wan},
			{s(header.TCPAck, 7001, 1002), r.wan, r.lan},
			{s(header.TCPFin|header.TCPAck, 7001, 1002), r.wan, r.lan},
			{c(header.TCPAck, 1002, 7002), r.lan, r.wan},
		} {
			if out, v := r.forward(step.b, step.from, step.to); out == nil {
				t.Fatalf("connection %d, step %d: %v", i, j, v)
			}
		}
		ct, _ := r.ct.Lookup(conntrack.Tuple{Src: src, Dst: addrD, SrcPort: 40000, DstPort: 80, Proto: header.ProtoTCP}, conntrack.DefaultZone)
		if ct == nil || ct.ProtoState() != conntrack.TCPTimeWait {
			t.Fatalf("connection %d not in TIME_WAIT", i)
		}
	}
	if natPorts[0] == natPorts[1] {
		t.Fatalf("ports %v", natPorts)
	}
	// A third client's SYN, its sequence past theirs: one of them goes.
	third := [4]byte{198, 18, 1, 9}
	out, v := r.forward(pkt{src: third, dst: addrD, proto: header.ProtoTCP, sport: 40000, dport: 80, flags: header.TCPSyn, seq: 50000}.bytes(), r.lan, r.wan)
	if out == nil {
		t.Fatalf("third SYN: %v", v)
	}
	if p := header.TCP(out[20:]).SrcPort(); p != natPorts[0] && p != natPorts[1] {
		t.Fatalf("third got port %d, want one of %v", p, natPorts)
	}
	if got := r.ct.Count(); got != 2 {
		t.Fatalf("%d entries, want 2 (one TIME_WAIT evicted)", got)
	}
	// A fourth, its sequence behind: nothing to evict, a duplicate.
	fourth := [4]byte{198, 18, 1, 10}
	if out, v := r.forward(pkt{src: fourth, dst: addrD, proto: header.ProtoTCP, sport: 40000, dport: 80, flags: header.TCPSyn, seq: 10}.bytes(), r.lan, r.wan); out != nil || v != stack.NFDrop {
		t.Fatalf("fourth SYN: %v, want dropped at confirmation", v)
	}
	if got := r.ct.Count(); got != 2 {
		t.Fatalf("%d entries, want 2", got)
	}
}
