package conntrack

import (
	"io"
	"net/netip"
	"testing"
	"time"

	mnl "github.com/mdlayher/netlink"
)

// benchTable fills r's table with n UDP flows h1:6000 → h2:10000+i.
func benchTable(b *testing.B, n int) *rig {
	g := newRig(b)
	u := g.udpSock("h1", 6000)
	for i := range n {
		if _, err := u.SendTo([]byte("x"), netip.AddrPortFrom(netip.MustParseAddr("198.18.6.2"), uint16(10000+i))); err != nil {
			b.Fatal(err)
		}
		if i%50 == 49 {
			g.w.Run(time.Millisecond)
		}
	}
	g.w.Run(10 * time.Millisecond)
	if got := g.r.Count(); got != n {
		b.Fatalf("%d entries, want %d", got, n)
	}
	return g
}

// BenchmarkDump: the family's table dump of 10,000 entries over the
// control socket, read and parsed by the client.
func BenchmarkDump(b *testing.B) {
	const n = 10000
	g := benchTable(b, n)
	c := g.dial()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		replies, err := c.Request(FamilyName, MsgGet, mnl.Request|mnl.Dump, body("r", AFUnspec))
		if err != nil || len(replies) != n {
			b.Fatal(len(replies), err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkList: conntrack -L of 10,000 entries, printed.
func BenchmarkList(b *testing.B) {
	const n = 10000
	g := benchTable(b, n)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if code := Main([]string{"-L"}, Options{Stdout: io.Discard, Stderr: io.Discard, Socket: g.path, Host: "r"}); code != 0 {
			b.Fatal(code)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "entries/s")
}
