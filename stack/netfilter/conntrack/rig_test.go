package conntrack

import (
	"encoding/binary"
	"testing"
	"time"

	"vnic/header"
	"vnic/hw"
	"vnic/internal/stacktest"
	"vnic/stack"
	"vnic/stack/ipv4"
)

// rig is one host with connection tracking on a virtual clock; packets
// are fed to the hook functions directly, as the hook points would.
type rig struct {
	t   testing.TB
	clk *hw.VirtualClock
	h   *stack.Host
	n   *Net
}

func newRig(t testing.TB) *rig {
	t.Helper()
	clk, h := stacktest.NewHost(t, 1)
	if _, err := ipv4.InetInit(h, ipv4.DefaultInetConfig); err != nil {
		t.Fatal(err)
	}
	n, err := Enable(h)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, clk: clk, h: h, n: n}
}

// confirmUDP puts a confirmed UDP entry for t (an hour to live) straight
// into the table, as a packet's confirmation would, and reports whether
// the table took it.
func (r *rig) confirmUDP(t Tuple, c *Config) bool {
	inv, _ := t.Invert()
	ct := r.n.alloc(&t, &inv, DefaultZone, r.n.hashRaw(&t, 0), c, nil)
	ct.l4 = protoUDP
	ct.expires.Store(int64(time.Hour))
	return r.n.confirm(nil, ct, New) == stack.NFAccept
}

var (
	addrA = [4]byte{198, 18, 0, 1}
	addrB = [4]byte{198, 18, 0, 2}
	addrR = [4]byte{198, 18, 0, 254}
)

// seg describes a TCP segment.
type seg struct {
	src, dst   [4]byte
	sport      uint16
	dport      uint16
	flags      uint8
	seq, ack   uint32
	win        uint16
	payload    int
	opts       []byte
	badCsum    bool
	fragOffset uint16
}

// ipPacket builds an IPv4 datagram of proto around l4 (checksummed when
// csumAt >= 0: the L4 checksum field's offset).
func ipPacket(src, dst [4]byte, proto uint8, l4 []byte, csumAt int) []byte {
	b := make([]byte, header.IPv4MinHeaderLen+len(l4))
	ip := header.IPv4(b)
	b[0] = 0x45
	ip.SetTotalLen(uint16(len(b)))
	ip.SetTTL(64)
	ip.SetProtocol(proto)
	ip.SetSrc(src)
	ip.SetDst(dst)
	ip.UpdateChecksum()
	copy(b[header.IPv4MinHeaderLen:], l4)
	if csumAt >= 0 {
		l := b[header.IPv4MinHeaderLen:]
		binary.BigEndian.PutUint16(l[csumAt:], 0)
		binary.BigEndian.PutUint16(l[csumAt:], header.L4Checksum(ip, l))
	}
	return b
}

func (s seg) bytes() []byte {
	hl := header.TCPMinHeaderLen + len(s.opts)
	l4 := make([]byte, hl+s.payload)
	th := header.TCP(l4)
	th.SetSrcPort(s.sport)
	th.SetDstPort(s.dport)
	th.SetSeq(s.seq)
	th.SetAck(s.ack)
	th.SetHeaderLen(hl)
	th.SetFlags(s.flags)
	th.SetWindow(s.win)
	copy(l4[header.TCPMinHeaderLen:], s.opts)
	b := ipPacket(s.src, s.dst, header.ProtoTCP, l4, header.TCPChecksumOffset)
	if s.badCsum {
		b[header.IPv4MinHeaderLen+header.TCPChecksumOffset] ^= 0xff
	}
	if s.fragOffset != 0 {
		header.IPv4(b).SetFlagsFrag(s.fragOffset)
		header.IPv4(b).UpdateChecksum()
	}
	return b
}

func udpBytes(src, dst [4]byte, sport, dport uint16, payload int) []byte {
	l4 := make([]byte, header.UDPHeaderLen+payload)
	u := header.UDP(l4)
	u.SetSrcPort(sport)
	u.SetDstPort(dport)
	u.SetLength(uint16(len(l4)))
	return ipPacket(src, dst, header.ProtoUDP, l4, 6)
}

func icmpBytes(src, dst [4]byte, typ, code uint8, id uint16, body []byte) []byte {
	l4 := make([]byte, header.ICMPv4HeaderLen+len(body))
	m := header.ICMPv4(l4)
	m.SetType(typ)
	m.SetCode(code)
	m.SetIdent(id)
	copy(l4[header.ICMPv4HeaderLen:], body)
	m.UpdateChecksum()
	return ipPacket(src, dst, header.ProtoICMP, l4, -1)
}

func (r *rig) skb(pkt []byte) *stack.SKB {
	skb := r.h.Pool().Alloc(len(pkt) + 16)
	skb.Reserve(16)
	copy(skb.Put(len(pkt)), pkt)
	skb.ResetNetworkHeader()
	skb.Protocol = stack.EthPIPv4
	return skb
}

// result is what one packet's pass through the hooks left.
type result struct {
	ct      *Conn
	info    Info
	verdict stack.Verdict
}

// in passes pkt through PRE_ROUTING's tracking and LOCAL_IN's
// confirmation (a packet for this host); out through LOCAL_OUT and
// POST_ROUTING (one it sends).
func (r *rig) in(pkt []byte) result  { return r.pass(pkt, stack.NFPreRouting, stack.NFLocalIn) }
func (r *rig) out(pkt []byte) result { return r.pass(pkt, stack.NFLocalOut, stack.NFPostRouting) }

func (r *rig) pass(pkt []byte, first, last stack.NFHook) result {
	return r.passWith(pkt, nil, 0, first, last)
}

func (r *rig) advance(d time.Duration) { r.clk.RunFor(d) }

// conntrackIn and confirmHook call the tracking and confirmation hook
// functions directly, as the registry does.
func (n *Net) conntrackIn(skb *stack.SKB, st *stack.NFState) stack.Verdict {
	return (*trackIn)(n).NFHook(skb, st)
}

func (n *Net) confirmHook(skb *stack.SKB, st *stack.NFState) stack.Verdict {
	return (*trackConfirm)(n).NFHook(skb, st)
}

// A confirmation's chain limit is drawn in [MIN_CHAINLEN, MIN_CHAINLEN +
// MAX_CHAINLEN): Linux 6.18's [50, 80).
func TestChainLimitRange(t *testing.T) {
	r := newRig(t)
	lo, hi := 1<<30, 0
	for range 10000 {
		l := r.n.chainLimit()
		lo, hi = min(lo, l), max(hi, l)
	}
	if lo != 50 || hi != 79 {
		t.Fatalf("chain limits drawn in [%d, %d], want [50, 79]", lo, hi)
	}
}
