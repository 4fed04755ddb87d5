package ipv4_test

import (
	"bytes"
	"errors"
	"testing"

	"vnic/stack"
	"vnic/stack/ipv4"
)

// TestARPFrames: a request, a probe and a gratuitous ARP as bytes on the
// wire, and parsing them back.
func TestARPFrames(t *testing.T) {
	me := stack.MAC{2, 0, 0, 0, 0, 1}
	ip, target := [4]byte{198, 18, 0, 1}, [4]byte{198, 18, 0, 2}
	req := ipv4.ARPSolicit(me, ip, target, stack.MAC{}, true)
	want := []byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06, // Ethernet
		0, 1, 0x08, 0x00, 6, 4, 0, 1, // Ethernet/IPv4, request
		2, 0, 0, 0, 0, 1, 198, 18, 0, 1, // sender
		0, 0, 0, 0, 0, 0, 198, 18, 0, 2, // target
	}
	want = append(want, make([]byte, 60-len(want))...)
	if !bytes.Equal(req, want) {
		t.Fatalf("request\n% x\nwant\n% x", req, want)
	}
	probe := ipv4.ARPSolicit(me, ip, target, stack.MAC{2, 0, 0, 0, 0, 2}, false)
	if !bytes.Equal(probe[:6], []byte{2, 0, 0, 0, 0, 2}) || !bytes.Equal(probe[6:], req[6:]) {
		t.Fatalf("probe % x", probe)
	}
	g := ipv4.GratuitousARP(me, ip)
	p, err := ipv4.ParseARP(g[14:])
	if err != nil || p.Op != ipv4.ARPRequest || p.SenderIP != ip || p.TargetIP != ip || p.SenderMAC != me {
		t.Fatalf("gratuitous: %+v, %v", p, err)
	}
	reply := ipv4.ARPPacket{Op: ipv4.ARPReply, SenderMAC: stack.MAC{2, 0, 0, 0, 0, 2}, SenderIP: target, TargetMAC: me, TargetIP: ip}
	if p, err := ipv4.ParseARP(ipv4.AppendARP(nil, reply)); err != nil || p != reply {
		t.Fatalf("round trip: %+v, %v", p, err)
	}
	for _, bad := range [][]byte{
		req[14:41],                          // 27 bytes
		append([]byte{0, 6}, req[16:42]...), // htype 6
		append(append([]byte{}, req[14:20]...), append([]byte{0, 3}, req[22:42]...)...), // op 3
	} {
		if _, err := ipv4.ParseARP(bad); !errors.Is(err, ipv4.ErrARP) {
			t.Errorf("% x: %v", bad, err)
		}
	}
}

func FuzzParseARP(f *testing.F) {
	f.Add(ipv4.GratuitousARP(stack.MAC{2, 0, 0, 0, 0, 1}, [4]byte{198, 18, 0, 1})[14:])
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ipv4.ParseARP(b)
		if err != nil {
			return
		}
		if out := ipv4.AppendARP(nil, p); !bytes.Equal(out, b[:ipv4.ARPLen]) {
			t.Fatalf("% x parses to %+v, which builds % x", b, p, out)
		}
	})
}
