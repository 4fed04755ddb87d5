package anchors

import (
	"bufio"
	"compress/gzip"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gaissmai/bart"

	"vnic/header"
	"vnic/stack/ipv4/fib"
)

// tier1 is the real tier-1 table beside the checkout (../shared/data).
func tier1(tb testing.TB) []netip.Prefix {
	tb.Helper()
	f, err := os.Open(filepath.Join("..", "..", "..", "shared", "data", "tier1-ipv4.txt.gz"))
	if err != nil {
		tb.Skipf("no tier-1 table: %v", err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	var out []netip.Prefix
	sc := bufio.NewScanner(z)
	for sc.Scan() {
		if p, err := netip.ParsePrefix(strings.TrimSpace(sc.Text())); err == nil && p.Addr().Is4() {
			out = append(out, p.Masked())
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// heap measures the live heap build adds, and how long it takes.
func heap(build func()) (bytes uint64, took time.Duration) {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	start := time.Now()
	build()
	took = time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&b)
	return b.HeapAlloc - a.HeapAlloc, took
}

// BenchmarkTier1 loads the 902k real prefixes into a vnic table (main,
// unicast routes) and into a bart.Table holding a pointer per prefix, in
// the same run, then looks up uniformly random addresses and addresses
// inside the table's prefixes in each. The table's build time and bytes
// per prefix are logged (run with -v).
func BenchmarkTier1(b *testing.B) {
	prefixes := tier1(b)
	var tables fib.Tables
	routes := make([]fib.Route, len(prefixes)) // the routes themselves count for both
	for i, p := range prefixes {
		routes[i] = fib.Route{Table: fib.TableMain, Dst: p.Addr().As4(), Len: uint8(p.Bits()), Type: fib.RTNUnicast}
	}
	vb, vt := heap(func() {
		tables.Init()
		for i := range routes {
			_ = tables.Insert(&routes[i], false)
		}
	})
	var bt bart.Table[*fib.Route]
	bb, btt := heap(func() {
		for i, p := range prefixes {
			bt.Insert(p, &routes[i])
		}
	})
	n := float64(len(prefixes))
	b.Logf("%d prefixes: vnic %.0f ns/insert, %.1f B/prefix; bart %.0f ns/insert, %.1f B/prefix",
		len(prefixes), float64(vt.Nanoseconds())/n, float64(vb)/n, float64(btt.Nanoseconds())/n, float64(bb)/n)
	rng := rand.New(rand.NewPCG(7, 7))
	const mask = 1<<16 - 1
	random, covered := make([][4]byte, mask+1), make([][4]byte, mask+1)
	for i := range random {
		random[i] = header.IPv4FromUint32(rng.Uint32())
		p := prefixes[rng.IntN(len(prefixes))]
		covered[i] = header.IPv4FromUint32(header.IPv4Uint32(p.Addr().As4()) | rng.Uint32()&^header.IPv4Mask(p.Bits()))
	}
	for _, set := range []struct {
		name  string
		addrs [][4]byte
	}{{"random", random}, {"covered", covered}} {
		b.Run("vnic/"+set.name, func(b *testing.B) {
			b.ReportAllocs()
			fl := fib.FlowKey{}
			for i := 0; i < b.N; i++ {
				fl.Dst = set.addrs[i&mask]
				_, _ = tables.Lookup(&fl)
			}
		})
		b.Run("bart/"+set.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				_, _ = bt.Lookup(netip.AddrFrom4(set.addrs[i&mask]))
			}
		})
	}
}
