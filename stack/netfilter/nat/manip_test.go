package nat

import (
	"bytes"
	"testing"

	"vnic/header"
	"vnic/stack"
	"vnic/stack/netfilter/conntrack"
)

// inverse is nf_ct_invert_tuple for what a rewrite reads of the target:
// the addresses and ports swapped, an ICMP identifier kept (the type,
// which Invert maps to its reply's, is not rewritten).
func inverse(o conntrack.Tuple) conntrack.Tuple {
	t := conntrack.Tuple{Src: o.Dst, Dst: o.Src, SrcPort: o.DstPort, DstPort: o.SrcPort, Proto: o.Proto}
	if o.Proto == header.ProtoICMP {
		t.SrcPort, t.DstPort = o.SrcPort, o.DstPort
	}
	return t
}

// TestManipPacketTarget: ManipPacket, which reads the target off the
// other direction's tuple, rewrites a packet as nf_nat_manip_pkt does
// with that tuple's inverse, for either end and direction of a NATed
// UDP and TCP flow.
func TestManipPacketTarget(t *testing.T) {
	for _, proto := range []uint8{header.ProtoUDP, header.ProtoTCP} {
		e := newEstablished(t, proto, true)
		e.once()
		ct, _ := conntrack.Get(e.skb)
		if ct == nil {
			t.Fatalf("proto %d: not tracked", proto)
		}
		changed := 0
		for _, m := range []Manip{ManipSrc, ManipDst} {
			for _, dir := range []conntrack.Dir{conntrack.Original, conntrack.Reply} {
				a := e.r.skb(e.tmpl, e.r.lan)
				b := e.r.skb(e.tmpl, e.r.lan)
				a.IPSummed, b.IPSummed = stack.ChecksumNone, stack.ChecksumNone
				target := inverse(ct.Tuple(1 - dir))
				okA := ManipPacket(a, ct, m, dir)
				okB := manipIPv4(b, 0, &target, m)
				if okA != okB || !bytes.Equal(a.Data(), b.Data()) {
					t.Errorf("proto %d end %d dir %d: %v % x, want %v % x", proto, m, dir, okA, a.Data(), okB, b.Data())
				}
				if !bytes.Equal(a.Data(), e.tmpl) {
					changed++
				}
				a.Consume()
				b.Consume()
			}
		}
		if changed < 2 {
			t.Errorf("proto %d: %d of the 4 rewrites changed the packet, want at least 2 (the source NAT both ways)", proto, changed)
		}
	}
}
