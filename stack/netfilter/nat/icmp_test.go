package nat

import (
	"bytes"
	"fmt"
	"testing"

	"vnic/header"
	"vnic/stack"
)

// icmpError is the error from src to dst of type/code quoting the first
// quote bytes of pkt (all of it when quote is larger).
func icmpError(src, dst [4]byte, typ, code uint8, quoted []byte, quote int) []byte {
	q := quoted[:min(quote, len(quoted))]
	l4 := make([]byte, header.ICMPv4HeaderLen+len(q))
	m := header.ICMPv4(l4)
	m.SetType(typ)
	m.SetCode(code)
	copy(l4[header.ICMPv4HeaderLen:], q)
	return ipDatagram(src, dst, header.ProtoICMP, l4, true)
}

// TestICMPErrorTranslation: an error about a NATed packet, as the far side
// sends it, crosses the NAT back to the packet's sender quoting the packet
// the sender sent (addresses, ports, identifiers and the quote's
// checksums) from the address the sender sent to: byte for byte the error
// the sender would have had without NAT.
func TestICMPErrorTranslation(t *testing.T) {
	flows := []struct {
		name string
		p    pkt
	}{
		{"tcp", tcpFlow(addrA, addrD, 40000, 80)},
		{"udp", udpFlow(addrA, addrD, 5353, 53)},
		{"udp without checksum", pkt{src: addrA, dst: addrD, proto: header.ProtoUDP, sport: 5353, dport: 53, payload: 4, noUDPCsum: true}},
		{"icmp echo", pkt{src: addrA, dst: addrD, proto: header.ProtoICMP, icmpType: header.ICMPv4Echo, sport: 99, payload: 16}},
	}
	routerX := [4]byte{198, 19, 0, 250} // a router beyond the NAT
	for _, nat := range []string{"snat", "dnat"} {
		for _, f := range flows {
			for _, quote := range []int{28, 40, 1000} {
				t.Run(fmt.Sprintf("%s/%s/quote %d", nat, f.name, quote), func(t *testing.T) {
					r := newRig(t, 1)
					p := f.p
					var want []byte
					if nat == "snat" {
						r.rule(stack.NFPostRouting, r.setup(ports(single(addrN), 2000, 2000), ManipSrc))
					} else {
						p.dst = addrN // the client asks the NAT's address, forwarded to D
						r.rule(stack.NFPreRouting, r.setup(ports(single(addrD), 8080, 8080), ManipDst))
					}
					sent := p.bytes()
					onWire, v := r.forward(sent, r.lan, r.wan)
					if onWire == nil {
						t.Fatalf("first packet: %v", v)
					}
					ip := header.IPv4(onWire)
					if nat == "snat" {
						// The error goes to the NAT's address and must
						// reach the sender from where it came.
						want = icmpError(routerX, addrA, header.ICMPv4DstUnreachable, header.ICMPv4PortUnreachable, sent, quote)
					} else {
						// The error goes to the sender; it must come
						// from the address the sender used.
						if ip.Dst() != addrD {
							t.Fatalf("DNAT sent to %v", ip.Dst())
						}
						want = icmpError(addrN, addrA, header.ICMPv4DstUnreachable, header.ICMPv4PortUnreachable, sent, quote)
					}
					// The far side's router complains to the source of
					// what it saw.
					errOut := icmpError(routerX, ip.Src(), header.ICMPv4DstUnreachable, header.ICMPv4PortUnreachable, onWire, quote)
					got, v := r.forward(errOut, r.wan, r.lan)
					if got == nil {
						t.Fatalf("error dropped: %v (stats %+v)", v, r.n.Stats())
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("translated error\n got  %x\n want %x", got, want)
					}
				})
			}
		}
	}
}

// TestICMPErrorDrops: an error whose checksum is bad, or a redirect about
// a NATed connection, is dropped and counted; an error about a connection
// NAT did not rewrite passes untouched.
func TestICMPErrorDrops(t *testing.T) {
	r := newRig(t, 1)
	// Tracking would find the bad checksum first (nf_conntrack_checksum)
	// and leave the error without a connection: NAT's own check is the
	// one when tracking's is off.
	c := r.ct.Config()
	c.Checksum = false
	r.ct.SetConfig(c)
	r.rule(stack.NFPostRouting, r.setup(single(addrN), ManipSrc))
	p := tcpFlow(addrA, addrD, 40000, 80)
	onWire, _ := r.forward(p.bytes(), r.lan, r.wan)
	if onWire == nil {
		t.Fatal("first packet dropped")
	}
	bad := icmpError(addrD, addrN, header.ICMPv4DstUnreachable, header.ICMPv4PortUnreachable, onWire, 48)
	bad[22] ^= 0x55
	redirect := icmpError(addrD, addrN, header.ICMPv4Redirect, header.ICMPv4RedirectHost, onWire, 48)
	for i, b := range [][]byte{bad, redirect} {
		if got, v := r.forward(b, r.wan, r.lan); got != nil || v != stack.NFDrop {
			t.Fatalf("error %d: %v, want dropped", i, v)
		}
	}
	if s := r.n.Stats(); s.ICMPDrops != 2 {
		t.Fatalf("ICMP drops %d, want 2", s.ICMPDrops)
	}
	// A connection from the router's own address to D keeps its tuple:
	// an error about it needs no translation.
	own := tcpFlow(addrN, addrD, 41000, 80)
	onWire, _ = r.forward(own.bytes(), r.lan, r.wan)
	e := icmpError(addrD, addrN, header.ICMPv4DstUnreachable, header.ICMPv4PortUnreachable, onWire, 48)
	got, _ := r.forward(e, r.wan, r.lan)
	if !bytes.Equal(got, e) {
		t.Fatalf("untouched error changed:\n got  %x\n want %x", got, e)
	}
}
