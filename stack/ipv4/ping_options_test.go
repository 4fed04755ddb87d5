package ipv4_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"vnic/stack/ipv4"
)

// A ping socket's IP options (ping -R, -T): the request leaves with them
// filled as ip_options_build fills a sender's (its own address in the
// record route, its timestamp) and its destination untouched; the reply
// hands back the options as IP_RETOPTS gives them. Each hop of a direct
// link records: h1 sending, h2 receiving, h2 answering, h1 receiving.
func TestPingIPOptions(t *testing.T) {
	r := newInetRig(t, "h1", "h2")
	w1, _ := r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
	var dsts []string
	w1.drop = func(b []byte) bool {
		if len(b) > 14+20 && binary.BigEndian.Uint16(b[12:]) == 0x0800 {
			dsts = append(dsts, netip.AddrFrom4([4]byte(b[14+16:14+20])).String())
		}
		return false
	}
	c, err := r.inet["h1"].OpenPing()
	if err != nil {
		t.Fatal(err)
	}
	rr := make([]byte, 40)
	rr[0], rr[1], rr[2], rr[3] = ipv4.IPOptNoop, ipv4.IPOptRR, 39, 4
	tsa := make([]byte, 36)
	tsa[0], tsa[1], tsa[2], tsa[3] = ipv4.IPOptTimestamp, 36, 5, ipv4.IPOptTSAndAddr
	dst := netip.MustParseAddr("198.18.0.2")
	for i, tc := range []struct {
		opts  []byte
		addrs string // the addresses the answer's option recorded
	}{
		{rr, "[198.18.0.1 198.18.0.2 198.18.0.2 198.18.0.1]"},
		{tsa, "[198.18.0.1 198.18.0.2 198.18.0.2 198.18.0.1]"},
	} {
		if err := c.SendEcho(dst, uint16(i+1), []byte("options"), ipv4.PingOptions{IPOptions: tc.opts}); err != nil {
			t.Fatal(err)
		}
		r.run(10 * time.Millisecond)
		m, ok := c.Recv()
		if !ok || m.IsError || m.Seq != uint16(i+1) {
			t.Fatalf("%d: no reply (%+v)", i, m)
		}
		o := m.IPOptions
		if len(o) == 0 || len(o)%4 != 0 || o[0] != tc.opts[len(tc.opts)-len(o)] && o[0] != tc.opts[1] {
			t.Fatalf("%d: reply options % x", i, o)
		}
		var addrs []string
		switch o[0] {
		case ipv4.IPOptRR:
			for p := 3; p+4 <= int(o[2])-1; p += 4 {
				addrs = append(addrs, netip.AddrFrom4([4]byte(o[p:p+4])).String())
			}
		case ipv4.IPOptTimestamp:
			for p := 4; p+8 <= int(o[2])-1; p += 8 {
				addrs = append(addrs, netip.AddrFrom4([4]byte(o[p:p+4])).String())
			}
		}
		if got := fmt.Sprint(addrs); got != tc.addrs {
			t.Errorf("%d: recorded %s, want %s (options % x)", i, got, tc.addrs, o)
		}
	}
	for _, d := range dsts {
		if d != "198.18.0.2" {
			t.Errorf("a request left for %s: the options overwrote the header", d)
		}
	}
	// A source route is not taken from a ping socket; a malformed option
	// is EINVAL.
	lsrr := []byte{ipv4.IPOptLSRR, 7, 4, 198, 18, 0, 9, 0}
	if err := c.SendEcho(dst, 9, nil, ipv4.PingOptions{IPOptions: lsrr}); !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Errorf("source route: %v, want EOPNOTSUPP", err)
	}
	if err := c.SendEcho(dst, 9, nil, ipv4.PingOptions{IPOptions: []byte{ipv4.IPOptRR, 2}}); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("bad option: %v, want EINVAL", err)
	}
}
