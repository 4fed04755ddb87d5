package iptables_test

import (
	"encoding/binary"
	"testing"

	"vnic/header"
	"vnic/hw"
	"vnic/internal/stacktest"
	"vnic/stack"
	"vnic/stack/ipv4"
	ipt "vnic/stack/netfilter/iptables"
)

// pkt describes a test packet.
type pkt struct {
	src, dst   [4]byte
	proto      uint8
	sport      uint16
	dport      uint16
	flags      uint8 // TCP flags
	icmpType   uint8
	icmpCode   uint8
	ttl        uint8
	tos        uint8
	frag       uint16 // flags and offset word
	payload    []byte
	tcpOptions []byte
}

var (
	addrA = [4]byte{198, 18, 0, 1}
	addrB = [4]byte{198, 18, 0, 2}
	addrC = [4]byte{198, 19, 7, 9}
)

// bytes builds the IPv4 datagram with valid checksums.
func (p pkt) bytes() []byte {
	var l4 []byte
	switch p.proto {
	case ipt.ProtoTCP:
		hl := 20 + len(p.tcpOptions)
		l4 = make([]byte, hl+len(p.payload))
		th := header.TCP(l4)
		th.SetSrcPort(p.sport)
		th.SetDstPort(p.dport)
		th.SetSeq(1000)
		th.SetHeaderLen(hl)
		th.SetFlags(p.flags)
		th.SetWindow(512)
		copy(l4[20:], p.tcpOptions)
		copy(l4[hl:], p.payload)
	case ipt.ProtoUDP:
		l4 = make([]byte, 8+len(p.payload))
		binary.BigEndian.PutUint16(l4[0:], p.sport)
		binary.BigEndian.PutUint16(l4[2:], p.dport)
		binary.BigEndian.PutUint16(l4[4:], uint16(len(l4)))
		copy(l4[8:], p.payload)
	case ipt.ProtoICMP:
		l4 = make([]byte, 8+len(p.payload))
		l4[0], l4[1] = p.icmpType, p.icmpCode
		copy(l4[8:], p.payload)
		binary.BigEndian.PutUint16(l4[2:], header.Checksum(l4))
	default:
		l4 = append([]byte(nil), p.payload...)
	}
	b := make([]byte, 20+len(l4))
	ip := header.IPv4(b)
	b[0] = 0x45
	ip.SetTOS(p.tos)
	ip.SetTotalLen(uint16(len(b)))
	ip.SetID(7)
	ip.SetFlagsFrag(p.frag)
	ttl := p.ttl
	if ttl == 0 {
		ttl = 64
	}
	ip.SetTTL(ttl)
	ip.SetProtocol(p.proto)
	ip.SetSrc(p.src)
	ip.SetDst(p.dst)
	copy(b[20:], l4)
	ip.UpdateChecksum()
	if p.proto == ipt.ProtoTCP || p.proto == ipt.ProtoUDP {
		c := header.L4Checksum(ip, b[20:])
		off := 16
		if p.proto == ipt.ProtoUDP {
			off = 6
		}
		binary.BigEndian.PutUint16(b[20+off:], c)
	}
	return b
}

// rig is a host with a device and tables to push packets through.
type rig struct {
	t   testing.TB
	clk *hw.VirtualClock
	h   *stack.Host
	dev *stack.NetDevice
}

func newRig(t testing.TB) *rig {
	r := newBareRig(t)
	// IPv4, for the rules that hold connection tracking (state,
	// conntrack, connmark, CONNMARK), as every vnic host has it.
	if _, err := ipv4.InetInit(r.h, ipv4.DefaultInetConfig); err != nil {
		t.Fatal(err)
	}
	return r
}

// newBareRig is a rig whose host has no IPv4 (and so can have no
// connection tracking).
func newBareRig(t testing.TB) *rig {
	clk, h := stacktest.NewHost(t, 1)
	dev, _ := stacktest.NewDev(t, h, 1)
	return &rig{t: t, clk: clk, h: h, dev: dev}
}

// inetRig is a host with IPv4 (so that connection tracking, and the NAT
// targets, can be had).
func inetRig(t testing.TB) *stack.Host {
	t.Helper()
	_, h := stacktest.NewHost(t, 1)
	if _, err := ipv4.InetInit(h, ipv4.DefaultInetConfig); err != nil {
		t.Fatal(err)
	}
	return h
}

// skb makes an skb holding p, its network header set (a MAC header of
// 14 bytes before it when mac is set).
func (r *rig) skb(p pkt) *stack.SKB {
	b := p.bytes()
	skb := r.h.Pool().Alloc(len(b) + 14)
	skb.Reserve(14)
	copy(skb.Put(len(b)), b)
	skb.ResetNetworkHeader()
	skb.SetTransportHeader(20)
	skb.Dev = r.dev
	return skb
}

// run passes p through hook h (in or out device by the hook) and returns
// the verdict, the skb afterwards (nil unless accepted) and whether okfn ran.
func (r *rig) run(hook stack.NFHook, p pkt) (stack.Verdict, *stack.SKB) {
	r.t.Helper()
	return r.runSKB(hook, r.skb(p))
}

func (r *rig) runSKB(hook stack.NFHook, skb *stack.SKB) (stack.Verdict, *stack.SKB) {
	st := skb.NF()
	*st = stack.NFState{Hook: hook}
	switch hook {
	case stack.NFPreRouting, stack.NFLocalIn:
		st.In = r.dev
	case stack.NFForward:
		st.In, st.Out = r.dev, r.dev
	default:
		st.Out = r.dev
	}
	var got *stack.SKB
	v := r.h.Netfilter().Run(st, skb, func(s *stack.SKB) { got = s })
	if got != nil {
		r.t.Cleanup(got.Free)
	}
	return v, got
}

// replace installs spec on the rig's host, failing the test on error.
func (r *rig) replace(spec *ipt.TableSpec) {
	r.t.Helper()
	if _, err := ipt.Replace(r.h, spec); err != nil {
		r.t.Fatalf("replace %s: %v", spec.Name, err)
	}
}

// filter is a filter table spec: INPUT holding rules, the other chains
// empty and ACCEPT, then the user chains.
func filter(input []ipt.Rule, user ...ipt.Chain) *ipt.TableSpec {
	s := &ipt.TableSpec{Name: "filter", Chains: []ipt.Chain{
		{Name: "INPUT", Policy: ipt.Accept, Rules: input},
		{Name: "FORWARD", Policy: ipt.Accept},
		{Name: "OUTPUT", Policy: ipt.Accept},
	}}
	s.Chains = append(s.Chains, user...)
	return s
}

func verdict(v ipt.Verdict) ipt.Target { return ipt.Target{Verdict: v} }

func jump(chain string) ipt.Target { return ipt.Target{Chain: chain} }

func srcIs(a [4]byte) ipt.IPMatch {
	return ipt.IPMatch{Src: a, SrcMask: [4]byte{255, 255, 255, 255}}
}

func protoIs(p uint16) ipt.IPMatch { return ipt.IPMatch{Proto: p} }

func match(name string, rev uint8, info any) ipt.Match {
	return ipt.Match{Name: name, Revision: rev, Info: info}
}
