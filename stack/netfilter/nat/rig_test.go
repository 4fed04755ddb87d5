package nat

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"vnic/header"
	"vnic/hw"
	"vnic/internal/stacktest"
	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/netfilter/conntrack"
)

// rig is one host with IPv4, connection tracking and NAT on a virtual
// clock, with a LAN and a WAN device; packets are passed through the
// host's hook points directly, as the IPv4 paths would.
type rig struct {
	t        testing.TB
	clk      *hw.VirtualClock
	h        *stack.Host
	in       *ipv4.Inet
	ct       *conntrack.Net
	n        *Net
	lan, wan *stack.NetDevice
}

var (
	addrA  = [4]byte{198, 18, 1, 2} // LAN clients
	addrB  = [4]byte{198, 18, 1, 3}
	addrN  = [4]byte{198, 19, 0, 1}   // the router on the WAN (the NAT address)
	addrN2 = [4]byte{198, 19, 0, 2}   // a second one
	addrD  = [4]byte{198, 19, 0, 100} // a server beyond
	addrD2 = [4]byte{198, 19, 0, 101}
)

func newRig(t testing.TB, seed int64) *rig {
	t.Helper()
	clk := hw.NewVirtualClock()
	h := stack.NewHost("r", clk, []stack.CPU{hw.NewCPU(0, clk, hw.CostModel{})}, stack.HostConfig{Seed: seed})
	in, err := ipv4.InetInit(h, ipv4.DefaultInetConfig)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := conntrack.Enable(h)
	if err != nil {
		t.Fatal(err)
	}
	lan, _ := stacktest.NewDev(t, h, 1)
	wan, _ := stacktest.NewDev(t, h, 1)
	for _, a := range []struct {
		d *stack.NetDevice
		p string
	}{{lan, "198.18.1.1/24"}, {wan, "198.19.0.1/24"}, {wan, "198.19.0.2/24"}} {
		if err := in.AddAddr(a.d, netip.MustParsePrefix(a.p)); err != nil {
			t.Fatal(err)
		}
	}
	return &rig{t: t, clk: clk, h: h, in: in, ct: ct, n: Init(h), lan: lan, wan: wan}
}

// pkt describes a test packet.
type pkt struct {
	src, dst     [4]byte
	proto        uint8
	sport, dport uint16 // ports; for ICMP sport is the identifier
	icmpType     uint8
	flags        uint8 // TCP flags
	seq, ack     uint32
	payload      int
	noUDPCsum    bool
}

// l4 builds the transport segment with its checksum for the addresses.
func (p pkt) l4() []byte {
	var l4 []byte
	switch p.proto {
	case header.ProtoTCP:
		l4 = make([]byte, header.TCPMinHeaderLen+p.payload)
		th := header.TCP(l4)
		th.SetSrcPort(p.sport)
		th.SetDstPort(p.dport)
		th.SetSeq(p.seq)
		th.SetAck(p.ack)
		th.SetHeaderLen(header.TCPMinHeaderLen)
		th.SetFlags(p.flags)
		th.SetWindow(65535)
	case header.ProtoUDP:
		l4 = make([]byte, header.UDPHeaderLen+p.payload)
		u := header.UDP(l4)
		u.SetSrcPort(p.sport)
		u.SetDstPort(p.dport)
		u.SetLength(uint16(len(l4)))
	case header.ProtoICMP:
		l4 = make([]byte, header.ICMPv4HeaderLen+p.payload)
		m := header.ICMPv4(l4)
		m.SetType(p.icmpType)
		m.SetIdent(p.sport)
		m.SetSeq(1)
	default:
		l4 = make([]byte, p.payload)
	}
	for i := range l4[min(len(l4), headerLen(p.proto)):] {
		l4[headerLen(p.proto)+i] = byte(i*7 + 1)
	}
	return l4
}

func headerLen(proto uint8) int {
	switch proto {
	case header.ProtoTCP:
		return header.TCPMinHeaderLen
	case header.ProtoUDP:
		return header.UDPHeaderLen
	case header.ProtoICMP:
		return header.ICMPv4HeaderLen
	}
	return 0
}

// bytes is the datagram with every checksum computed in full.
func (p pkt) bytes() []byte { return ipDatagram(p.src, p.dst, p.proto, p.l4(), !p.noUDPCsum) }

// ipDatagram puts l4 behind an IPv4 header and computes the checksums
// (the transport one unless csum is false for UDP).
func ipDatagram(src, dst [4]byte, proto uint8, l4 []byte, csum bool) []byte {
	b := make([]byte, header.IPv4MinHeaderLen+len(l4))
	ip := header.IPv4(b)
	b[0] = 0x45
	ip.SetTotalLen(uint16(len(b)))
	ip.SetID(0x1234)
	ip.SetTTL(64)
	ip.SetProtocol(proto)
	ip.SetSrc(src)
	ip.SetDst(dst)
	ip.UpdateChecksum()
	l := b[header.IPv4MinHeaderLen:]
	copy(l, l4)
	switch proto {
	case header.ProtoTCP:
		binary.BigEndian.PutUint16(l[header.TCPChecksumOffset:], 0)
		binary.BigEndian.PutUint16(l[header.TCPChecksumOffset:], header.L4Checksum(ip, l))
	case header.ProtoUDP:
		binary.BigEndian.PutUint16(l[header.UDPChecksumOffset:], 0)
		if csum {
			binary.BigEndian.PutUint16(l[header.UDPChecksumOffset:], header.L4Checksum(ip, l))
		}
	case header.ProtoICMP:
		header.ICMPv4(l).UpdateChecksum()
	}
	return b
}

// skb makes an skb of b arriving by dev.
func (r *rig) skb(b []byte, dev *stack.NetDevice) *stack.SKB {
	skb := r.h.Pool().Alloc(len(b) + 32)
	skb.Reserve(32)
	copy(skb.Put(len(b)), b)
	skb.ResetNetworkHeader()
	if len(b) > 0 {
		skb.SetTransportHeader(min(header.IPv4(b).HeaderLen(), len(b)))
	}
	skb.Protocol = stack.EthPIPv4
	skb.Dev = dev
	return skb
}

// hook passes skb through hook h with devices in and out; it returns the
// verdict and the skb when accepted (nil otherwise).
func (r *rig) hook(h stack.NFHook, skb *stack.SKB, in, out *stack.NetDevice) (stack.Verdict, *stack.SKB) {
	st := skb.NF()
	*st = stack.NFState{Hook: h, In: in, Out: out}
	var got *stack.SKB
	v := r.h.Netfilter().Run(st, skb, func(s *stack.SKB) { got = s })
	return v, got
}

// forward passes b, arriving by in and leaving by out, through
// PRE_ROUTING and POST_ROUTING (the FORWARD hook has nothing of NAT's):
// the bytes that leave, or nil with the verdict that stopped it.
func (r *rig) forward(b []byte, in, out *stack.NetDevice) ([]byte, stack.Verdict) {
	skb := r.skb(b, in)
	v, skb := r.hook(stack.NFPreRouting, skb, in, nil)
	if skb == nil {
		return nil, v
	}
	skb.Dev = out
	v, skb = r.hook(stack.NFPostRouting, skb, nil, out)
	if skb == nil {
		return nil, v
	}
	defer skb.Consume()
	return append([]byte(nil), skb.Data()...), v
}

// rule registers fn as a table function at hook h (a nat chain).
func (r *rig) rule(h stack.NFHook, fn func(skb *stack.SKB, st *stack.NFState) stack.Verdict) {
	r.t.Helper()
	ops := &stack.NFHookOps{Name: "test", Hook: h, Priority: 0, Fn: fn}
	if err := Register(r.h, ops); err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { Unregister(r.h, ops) })
}

// setup is a rule body binding every new connection to rng at end m.
func (r *rig) setup(rng Range, m Manip) func(*stack.SKB, *stack.NFState) stack.Verdict {
	return func(skb *stack.SKB, _ *stack.NFState) stack.Verdict {
		ct, _ := conntrack.Get(skb)
		return r.n.Setup(ct, &rng, m)
	}
}

// bind tracks p's first packet (PRE_ROUTING's tracking only: NAT's
// functions are not registered), binds its connection to rng at end m
// by Setup, and confirms it: the connection, and the verdict of the
// confirmation.
func (r *rig) bind(p pkt, rng Range, m Manip) (*conntrack.Conn, stack.Verdict) {
	r.t.Helper()
	return r.bindIn(p, rng, m, nil)
}

// bindIn is bind with the packet tracked in zone (nil: the default), as
// the raw table's CT target would have it.
func (r *rig) bindIn(p pkt, rng Range, m Manip, zone *conntrack.Zone) (*conntrack.Conn, stack.Verdict) {
	r.t.Helper()
	skb := r.skb(p.bytes(), r.lan)
	if zone != nil {
		conntrack.SetTemplate(skb, r.ct.NewTemplate(*zone, 0, 0))
	}
	v, skb := r.hook(stack.NFPreRouting, skb, r.lan, nil)
	if skb == nil {
		r.t.Fatalf("PRE_ROUTING: %v", v)
	}
	ct, _ := conntrack.Get(skb)
	if ct == nil {
		r.t.Fatal("not tracked")
	}
	if v := r.n.Setup(ct, &rng, m); v != stack.NFAccept {
		r.t.Fatalf("setup: %v", v)
	}
	v, skb = r.hook(stack.NFPostRouting, skb, nil, r.wan)
	if skb != nil {
		skb.Consume()
	}
	return ct, v
}

func single(a [4]byte) Range { return Range{Flags: MapIPs, MinAddr: a, MaxAddr: a} }

func ports(r Range, lo, hi uint16) Range {
	r.Flags |= ProtoSpecified
	r.MinProto, r.MaxProto = lo, hi
	return r
}
