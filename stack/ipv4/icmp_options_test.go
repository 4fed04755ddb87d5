package ipv4_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"vnic/header"
	"vnic/stack/ipv4"
)

// ipFrame is an Ethernet frame to w's device from h1 (198.18.0.1) to
// dst: an IPv4 header with opts (padded with END), protocol proto, then
// l4 (its checksum set when it is ICMP).
func ipFrame(w *wire, dst [4]byte, opts []byte, proto uint8, l4 []byte) []byte {
	for len(opts)%4 != 0 {
		opts = append(opts, ipv4.IPOptEnd)
	}
	hl := 20 + len(opts)
	f := make([]byte, 14+hl+len(l4))
	mac := w.dev.Addr()
	copy(f[0:6], mac[:])
	f[12] = 0x08
	ip := f[14:]
	ip[0] = 0x40 | byte(hl/4)
	binary.BigEndian.PutUint16(ip[2:], uint16(hl+len(l4)))
	ip[8], ip[9] = 64, proto
	copy(ip[12:], []byte{198, 18, 0, 1})
	copy(ip[16:], dst[:])
	copy(ip[20:], opts)
	copy(ip[hl:], l4)
	if proto == ipv4.IPProtoICMP {
		setICMPChecksum(ip[hl:])
	}
	setIPChecksum(ip[:hl])
	return f
}

func echoRequest(n int) []byte {
	m := make([]byte, 8+n)
	m[0] = ipv4.ICMPEcho
	m[4], m[5], m[6], m[7] = 0x12, 0x34, 0, 1
	for i := range n {
		m[8+i] = byte(i)
	}
	return m
}

// stamp is a timestamp option value: ms since midnight UT.
func stamp(d time.Duration) []byte {
	return binary.BigEndian.AppendUint32(nil, uint32(d.Milliseconds()%86400000))
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

var (
	a1 = []byte{198, 18, 0, 1}
	a2 = []byte{198, 18, 0, 2}
	z4 = []byte{0, 0, 0, 0}
)

// TestEchoReplyOptions: ip_options_echo. An echo request's record route
// and timestamp come back in the reply with the receiver's entry (written
// as it arrived) and the reply's own (written as it leaves), as
// `ping -R` and `ping -T tsonly|tsandaddr|tsprespec` print them against
// Linux 6.18 (checked in a netns pair: RR 198.18.0.1, 198.18.0.2,
// 198.18.0.2, then the sender's own on arrival); a security option is not
// echoed (Linux echoes RR, TS, source routes and CIPSO only); an option
// with no room for the reply's entry gets no reply at all.
func TestEchoReplyOptions(t *testing.T) {
	const at = 1234 * time.Millisecond
	now := stamp(at)
	for _, tc := range []struct {
		name string
		opts []byte // as they arrive (the sender's entries filled)
		want []byte // the reply's options, nil: no reply
	}{
		{"ping -R", cat([]byte{1, 7, 39, 8}, a1, make([]byte, 32)),
			cat([]byte{7, 39, 16}, a1, a2, a2, make([]byte, 24), []byte{0})},
		{"record route full", cat([]byte{7, 7, 8}, a1, []byte{1}),
			cat([]byte{7, 7, 8}, a1, []byte{0})},
		{"record route with room for one", cat([]byte{7, 11, 8}, a1, z4, []byte{1}),
			cat([]byte{7, 11, 12}, a1, a2, []byte{0})},
		{"record route with no room for the reply", cat([]byte{7, 10, 4}, z4, z4, []byte{0, 0}), nil},
		{"ping -T tsonly", cat([]byte{68, 40, 9, 0}, stamp(5*time.Millisecond), make([]byte, 32)),
			cat([]byte{68, 40, 17, 0}, stamp(5*time.Millisecond), now, now, make([]byte, 24))},
		{"ping -T tsandaddr", cat([]byte{68, 36, 13, 1}, a1, stamp(5*time.Millisecond), make([]byte, 24)),
			cat([]byte{68, 36, 29, 1}, a1, stamp(5*time.Millisecond), a2, now, a2, now, make([]byte, 8))},
		{"ping -T tsprespec, ours then the sender's", cat([]byte{68, 20, 5, 3}, a2, z4, a1, z4),
			cat([]byte{68, 20, 13, 3}, a2, now, a1, z4)},
		{"tsprespec, ours then a broadcast", cat([]byte{68, 20, 5, 3}, a2, z4, []byte{198, 18, 0, 255}, z4),
			cat([]byte{68, 20, 21, 3}, a2, now, []byte{198, 18, 0, 255}, now)},
		{"tsprespec, another host's first", cat([]byte{68, 12, 5, 3}, []byte{198, 18, 0, 9}, z4),
			cat([]byte{68, 12, 5, 3}, []byte{198, 18, 0, 9}, z4)},
		{"timestamp full counts the overflow", cat([]byte{68, 8, 9, 0x10}, stamp(5*time.Millisecond)),
			cat([]byte{68, 8, 9, 0x20}, stamp(5*time.Millisecond))},
		{"security is not echoed", []byte{130, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, []byte{}},
		{"security and record route", cat([]byte{130, 4, 0, 0, 7, 7, 4}, z4, []byte{0}),
			cat([]byte{7, 7, 8}, a2, []byte{0})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newInetRig(t, "h1", "h2")
			w1, w2 := r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
			r.inet["h2"].NeighAdd(w2.dev, mustAddr("198.18.0.1"), w1.dev.Addr())
			r.run(at - r.clk.Now())
			w1.peer = nil // keep h1 out of it: the reply is read off the wire
			r.frames = nil
			req := echoRequest(56)
			r.inject(w2, ipFrame(w2, [4]byte(a2), tc.opts, ipv4.IPProtoICMP, req))
			r.run(0)
			out := wireOf(r, "h2/eth0")
			if tc.want == nil {
				if len(out) != 0 {
					t.Fatalf("replied: %v", out)
				}
				return
			}
			if len(out) != 1 {
				t.Fatalf("wire: %v", out)
			}
			ip := header.IPv4(r.frames[len(r.frames)-1].b[14:])
			hl := ip.HeaderLen()
			if got := []byte(ip[20:hl]); !bytes.Equal(got, tc.want) {
				t.Errorf("reply options\n got % d\nwant % d", got, tc.want)
			}
			if !ip.ChecksumValid() || int(ip.TotalLen()) != hl+len(req) {
				t.Errorf("header: checksum %v, total length %d", ip.ChecksumValid(), ip.TotalLen())
			}
			m := ip[hl:ip.TotalLen()]
			if m[0] != ipv4.ICMPEchoReply || header.Checksum(m) != 0 || !bytes.Equal(m[4:], req[4:]) {
				t.Errorf("reply % x", m[:8])
			}
		})
	}
}

// TestTimestampReplyOptions: a timestamp request's options come back in
// the timestamp reply as in an echo reply; a 12-byte request (the
// originate time alone, all Linux's icmp_timestamp reads) is answered
// with the full 20 bytes.
func TestTimestampReplyOptions(t *testing.T) {
	r := newInetRig(t, "h1", "h2")
	w1, w2 := r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
	r.inet["h2"].NeighAdd(w2.dev, mustAddr("198.18.0.1"), w1.dev.Addr())
	w1.peer = nil
	r.frames = nil
	m := make([]byte, 12)
	m[0] = ipv4.ICMPTimestamp
	m[8], m[9], m[10], m[11] = 0, 0, 0x30, 0x39
	r.inject(w2, ipFrame(w2, [4]byte(a2), cat([]byte{7, 11, 8}, a1, z4, []byte{1}), ipv4.IPProtoICMP, m))
	r.run(0)
	out := wireOf(r, "h2/eth0")
	if len(out) != 1 {
		t.Fatalf("wire: %v", out)
	}
	ip := header.IPv4(r.frames[len(r.frames)-1].b[14:])
	hl := ip.HeaderLen()
	if want := cat([]byte{7, 11, 12}, a1, a2, []byte{0}); !bytes.Equal(ip[20:hl], want) {
		t.Fatalf("options % d, want % d", ip[20:hl], want)
	}
	rep := ip[hl:ip.TotalLen()]
	if len(rep) != 20 || rep[0] != ipv4.ICMPTimestampReply || header.Checksum(rep) != 0 || rep[11] != 0x39 {
		t.Fatalf("reply % x", rep)
	}
}

// TestICMPErrorEchoesOptions: an ICMP error carries the offending
// packet's record route and timestamp in its own header, echoed as in a
// reply (the quoted header is the packet's with this host's entry in it,
// as compiling left it); the room left for the
// quote shrinks by the options' length.
func TestICMPErrorEchoesOptions(t *testing.T) {
	r := newInetRig(t, "h1", "h2")
	w1, w2 := r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
	r.inet["h2"].NeighAdd(w2.dev, mustAddr("198.18.0.1"), w1.dev.Addr())
	w1.peer = nil
	r.frames = nil
	opts := cat([]byte{1, 7, 39, 8}, a1, make([]byte, 32))
	r.inject(w2, ipFrame(w2, [4]byte(a2), opts, 253, make([]byte, 600)))
	r.run(0)
	out := wireOf(r, "h2/eth0")
	if len(out) != 1 || out[0] != "h2/eth0 IP 198.18.0.2>198.18.0.1 ICMP 3/2 ttl 64 len 576" {
		t.Fatalf("wire: %v", out)
	}
	ip := header.IPv4(r.frames[len(r.frames)-1].b[14:])
	if want := cat([]byte{7, 39, 16}, a1, a2, a2, make([]byte, 24), []byte{0}); !bytes.Equal(ip[20:60], want) {
		t.Fatalf("options % d\nwant % d", ip[20:60], want)
	}
	quoted := header.IPv4(ip[68:])
	if quoted.HeaderLen() != 60 || quoted[21] != 7 || quoted[23] != 12 || !bytes.Equal(quoted[28:32], a2) {
		t.Fatalf("quoted header % d", quoted[:60])
	}
}

// TestEchoIPOptionsSourceRoute: a source route comes back reversed, the
// last hop it passed first, the packet's own source left out, a slot at
// the end for the destination (ip_options_echo's RFC 1812 fix).
func TestEchoIPOptionsSourceRoute(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     []byte
		want     string
		firstHop [4]byte
	}{
		{"two hops passed", cat([]byte{131, 15, 12}, []byte{10, 0, 0, 1}, []byte{10, 0, 0, 2}, []byte{10, 0, 0, 3}, []byte{0}),
			"[131 11 4 10 0 0 1 198 18 0 1 0]", [4]byte{10, 0, 0, 2}},
		{"all passed", cat([]byte{137, 11, 12}, []byte{10, 0, 0, 1}, []byte{10, 0, 0, 2}, []byte{0}),
			"[137 11 4 10 0 0 1 198 18 0 1 0]", [4]byte{10, 0, 0, 2}},
		{"the source heads the route", cat([]byte{131, 11, 12}, a1, []byte{10, 0, 0, 2}, []byte{0}),
			"[131 7 4 198 18 0 1 0]", [4]byte{10, 0, 0, 2}},
		{"none passed", cat([]byte{131, 7, 4}, []byte{10, 0, 0, 1}, []byte{0}), "[]", [4]byte{}},
	} {
		h := ipHeader(tc.opts...)
		copy(h[12:16], a1)
		sopt, _, err := ipv4.CompileIPOptions(h, ipv4.IPOptionContext{Received: true})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var d [ipv4.IPOptMaxLen]byte
		o, err := ipv4.EchoIPOptions(&d, h, &sopt, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		// The answer goes to the first hop; building it puts the real
		// destination (the packet's source) in the last slot.
		out := append(make([]byte, 20), d[:o.Len]...)
		ipv4.BuildIPOptions(out, &o, [4]byte(a1), [4]byte(a2), 0)
		if got := fmt.Sprint(out[20:]); got != tc.want || o.FirstHop != tc.firstHop || (o.Len > 0) != (o.SRR == 20) {
			t.Errorf("%s: %s first hop %v srr %d, want %s %v", tc.name, got, o.FirstHop, o.SRR, tc.want, tc.firstHop)
		}
	}
}

// TestParameterProblemEchoesOptions: compiling stops at the bad option,
// and the parameter problem echoes what it compiled before it (Linux's
// IPCB holds the options compiled so far when icmp_send runs).
func TestParameterProblemEchoesOptions(t *testing.T) {
	r := newInetRig(t, "h1", "h2")
	w1, w2 := r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
	r.inet["h2"].NeighAdd(w2.dev, mustAddr("198.18.0.1"), w1.dev.Addr())
	w1.peer = nil
	r.frames = nil
	// Record route, then a timestamp whose pointer (4) is under 5.
	opts := cat([]byte{7, 7, 4}, z4, []byte{68, 8, 4, 0}, z4)
	r.inject(w2, ipFrame(w2, [4]byte(a2), opts, ipv4.IPProtoICMP, echoRequest(8)))
	r.run(0)
	out := wireOf(r, "h2/eth0")
	if len(out) != 1 || out[0] != "h2/eth0 IP 198.18.0.2>198.18.0.1 ICMP 12/0 ttl 64 len 88" {
		t.Fatalf("wire: %v", out)
	}
	ip := header.IPv4(r.frames[len(r.frames)-1].b[14:])
	if want := cat([]byte{7, 7, 8}, a2, []byte{0}); !bytes.Equal(ip[20:28], want) || ip.HeaderLen() != 28 {
		t.Fatalf("options % d, want % d", ip[20:ip.HeaderLen()], want)
	}
	if ptr := ip[28+4]; ptr != 29 {
		t.Fatalf("pointer %d, want 29", ptr)
	}
}
