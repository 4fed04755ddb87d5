package nat

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"vnic/header"
	"vnic/stack"
	"vnic/stack/netfilter/conntrack"
)

// withEnd is p with end m's address and port (ICMP: the identifier, either
// end) made t's — the packet a rewrite must give.
func withEnd(p pkt, t conntrack.Tuple, m Manip) pkt {
	if m == ManipSrc {
		p.src = t.Src
		if p.proto != header.ProtoICMP {
			p.sport = t.SrcPort
		}
	} else {
		p.dst = t.Dst
		if p.proto != header.ProtoICMP {
			p.dport = t.DstPort
		}
	}
	if p.proto == header.ProtoICMP && icmpQuery(p.icmpType) {
		p.sport = t.SrcPort
	}
	return p
}

// partialForm turns a fully checksummed TCP or UDP datagram into what a
// sender hands a checksumming device (CHECKSUM_PARTIAL): the transport
// checksum field holding the pseudo-header's sum.
func partialForm(b []byte) []byte {
	ip := header.IPv4(b)
	l4 := b[ip.HeaderLen():]
	off := header.TCPChecksumOffset
	if ip.Protocol() == header.ProtoUDP {
		off = header.UDPChecksumOffset
	}
	binary.BigEndian.PutUint16(l4[off:], header.Fold(header.PseudoHeaderIPv4(ip.Src(), ip.Dst(), ip.Protocol(), uint16(len(l4)))))
	return b
}

// TestManipChecksums rewrites packets of each kind at either end, under
// each checksum state, to random addresses and ports, and holds the bytes
// to the packet built from scratch with the new fields (every checksum
// summed in full: the incremental updates must give the same bits).
func TestManipChecksums(t *testing.T) {
	r := newRig(t, 1)
	kinds := []struct {
		name string
		p    pkt
	}{
		{"tcp", pkt{proto: header.ProtoTCP, sport: 40000, dport: 80, flags: header.TCPAck, seq: 7, ack: 9, payload: 101}},
		{"tcp header only", pkt{proto: header.ProtoTCP, sport: 1, dport: 65535, flags: header.TCPSyn}},
		{"udp", pkt{proto: header.ProtoUDP, sport: 5353, dport: 53, payload: 33}},
		{"udp without checksum", pkt{proto: header.ProtoUDP, sport: 5353, dport: 53, payload: 12, noUDPCsum: true}},
		{"icmp echo", pkt{proto: header.ProtoICMP, icmpType: header.ICMPv4Echo, sport: 0x4242, payload: 56}},
		{"icmp echo reply", pkt{proto: header.ProtoICMP, icmpType: header.ICMPv4EchoReply, sport: 0x4242, payload: 56}},
		{"icmp error", pkt{proto: header.ProtoICMP, icmpType: header.ICMPv4DstUnreachable, payload: 28}},
		{"gre", pkt{proto: 47, payload: 24}},
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, k := range kinds {
		for _, mode := range []uint8{stack.ChecksumNone, stack.ChecksumPartial, stack.ChecksumComplete} {
			l4 := k.p.proto == header.ProtoTCP || k.p.proto == header.ProtoUDP
			if mode != stack.ChecksumNone && (!l4 || k.p.noUDPCsum) {
				continue
			}
			for _, m := range []Manip{ManipSrc, ManipDst} {
				for range 200 {
					p := k.p
					p.src, p.dst = [4]byte{198, 18, byte(rnd.Uint32()), byte(rnd.Uint32())}, [4]byte{198, 19, byte(rnd.Uint32()), byte(rnd.Uint32())}
					target := conntrack.Tuple{Src: addr4(rnd.Uint32()), Dst: addr4(rnd.Uint32()),
						SrcPort: uint16(rnd.Uint32()), DstPort: uint16(rnd.Uint32()), Proto: p.proto}
					in, want := p.bytes(), withEnd(p, target, m).bytes()
					skb := r.skb(in, r.lan)
					skb.IPSummed = mode
					switch mode {
					case stack.ChecksumPartial:
						partialForm(skb.Data())
						partialForm(want)
					case stack.ChecksumComplete:
						skb.Csum = uint32(header.Fold(header.Sum(skb.Data()[20:], 0)))
					}
					if !manipIPv4(skb, 0, &target, m) {
						t.Fatalf("%s: manip refused", k.name)
					}
					if got := skb.Data(); !bytes.Equal(got, want) {
						t.Fatalf("%s, mode %d, %v end, to %+v:\n got  %x\n want %x", k.name, mode, m, target, got, want)
					}
					if mode == stack.ChecksumComplete {
						ip := header.IPv4(want)
						ps := header.PseudoHeaderIPv4(ip.Src(), ip.Dst(), ip.Protocol(), uint16(len(want)-20))
						if header.Fold(ps+uint64(skb.Csum)) != 0xffff {
							t.Fatalf("%s: CHECKSUM_COMPLETE's sum does not follow the pseudo-header", k.name)
						}
					}
					skb.Free()
				}
			}
		}
	}
}

// TestCsumReplaceBits: the incremental update gives Linux's bits, and the
// transport sum of a rewritten UDP datagram that comes out zero is sent
// as 0xffff.
func TestCsumReplaceBits(t *testing.T) {
	for _, tc := range []struct {
		check, old, new, want uint16
	}{
		{0xffff, 0xffff, 0, 0x0000}, // never ~(+0): Linux's sum carries 0xffff
		{0x0000, 0, 0, 0x0000},
		{0x1234, 0x0001, 0x0002, 0x1233},
		{0xdd2f, 0x5555, 0x3285, 0x0000}, // RFC 1624's example: eqn. 3 gives 0x0000
	} {
		if got := csumReplace2(tc.check, tc.old, tc.new); got != tc.want {
			t.Errorf("csumReplace2(%#04x, %#x, %#x) = %#04x, want %#04x", tc.check, tc.old, tc.new, got, tc.want)
		}
		// The same change as the low word of a 32-bit field.
		if got := csumReplace4(tc.check, uint32(tc.old), uint32(tc.new)); got != tc.want {
			t.Errorf("csumReplace4(%#04x, %#x, %#x) = %#04x, want %#04x", tc.check, tc.old, tc.new, got, tc.want)
		}
	}
	// A UDP datagram whose rewritten checksum is zero: search the port
	// that makes it so, and see 0xffff on the wire.
	r := newRig(t, 1)
	p := pkt{src: addrA, dst: addrD, proto: header.ProtoUDP, sport: 5353, dport: 53, payload: 3}
	for port := range 65536 {
		target := conntrack.Tuple{Src: addrN, SrcPort: uint16(port), Proto: header.ProtoUDP}
		ref := withEnd(p, target, ManipSrc).bytes()
		if binary.BigEndian.Uint16(ref[26:]) != 0xffff {
			continue
		}
		skb := r.skb(p.bytes(), r.lan)
		manipIPv4(skb, 0, &target, ManipSrc)
		if got := binary.BigEndian.Uint16(skb.Data()[26:]); got != 0xffff {
			t.Fatalf("port %d: checksum %#04x, want 0xffff (CSUM_MANGLED_0)", port, got)
		}
		skb.Free()
		return
	}
	t.Fatal("no port gives a zero sum")
}

// TestSkbSum: the sum over a frag_list chain, split anywhere (odd splits
// included), is the sum of the flat bytes.
func TestSkbSum(t *testing.T) {
	r := newRig(t, 1)
	rnd := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		b := make([]byte, 1+rnd.IntN(300))
		for i := range b {
			b[i] = byte(rnd.Uint32())
		}
		off := rnd.IntN(len(b))
		cuts := []int{rnd.IntN(len(b) + 1), rnd.IntN(len(b) + 1)}
		lo, hi := min(cuts[0], cuts[1]), max(cuts[0], cuts[1])
		lo = max(lo, off)
		hi = max(hi, lo)
		head := r.h.Pool().Alloc(len(b))
		copy(head.Put(lo), b[:lo])
		mid := r.h.Pool().Alloc(len(b))
		copy(mid.Put(hi-lo), b[lo:hi])
		tail := r.h.Pool().Alloc(len(b))
		copy(tail.Put(len(b)-hi), b[hi:])
		head.SetFragList(mid)
		mid.SetFragList(tail)
		if got, want := header.Fold(skbSum(head, off)), header.Fold(header.Sum(b[off:], 0)); got != want {
			t.Fatalf("%d bytes from %d cut at %d, %d: %#04x, want %#04x", len(b), off, lo, hi, got, want)
		}
		head.Free()
	}
}

// TestFold: the 32-bit fold the rewrites use is header.Fold on every sum
// they can make (up to 65537 words of 0xffff), the edges included.
func TestFold(t *testing.T) {
	const most = 65537 * 0xffff
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 1 << 16 {
		acc := uint32(r.Uint64N(most + 1))
		switch i {
		case 0, 1, 2:
			acc = []uint32{0, 0xffff, most}[i]
		}
		if got, want := fold(acc), header.Fold(uint64(acc)); got != want {
			t.Fatalf("fold(%#x) = %#x, want %#x", acc, got, want)
		}
	}
}
