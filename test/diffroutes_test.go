//go:build linux

package test

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// diffDevs is the host both sides build: d0 with two subnets, d1 with one.
var diffDevs = []diffDev{
	{name: "d0", peer: "p0", addrs: []string{"198.18.0.1/24", "198.18.2.1/24"}},
	{name: "d1", peer: "p1", addrs: []string{"198.18.1.1/24"}},
}

// tier1Prefixes reads the tier-1 table ($VNIC_DATA/tier1-ipv4.txt.gz, else
// ../../shared/data/ beside the repository): it skips without it, or
// fails under VNIC_REQUIRE_NETNS=1.
func tier1Prefixes(t *testing.T) []netip.Prefix {
	t.Helper()
	path := filepath.Join("..", "..", "shared", "data", "tier1-ipv4.txt.gz")
	if d := os.Getenv("VNIC_DATA"); d != "" {
		path = filepath.Join(d, "tier1-ipv4.txt.gz")
	}
	f, err := os.Open(path)
	if err != nil {
		if os.Getenv("VNIC_REQUIRE_NETNS") == "1" {
			t.Fatalf("the tier-1 table is required (VNIC_REQUIRE_NETNS=1): %v", err)
		}
		t.Skipf("the tier-1 table: %v (set VNIC_DATA)", err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []netip.Prefix
	sc := bufio.NewScanner(z)
	for sc.Scan() {
		p, err := netip.ParsePrefix(strings.TrimSpace(sc.Text()))
		if err != nil || !p.Addr().Is4() || p != p.Masked() {
			t.Fatalf("%s: line %d: %q is not an IPv4 prefix", path, len(out)+1, sc.Text())
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

// tier1Gateways are the next hops the tier-1 routes are spread over: three
// on d0's first subnet, one on its second, two on d1.
var tier1Gateways = []string{"198.18.0.2", "198.18.0.3", "198.18.0.4", "198.18.2.2", "198.18.1.2", "198.18.1.3"}

// routeSet is what both sides load: lines for ip -batch (rules, reject
// routes, tables, everything whose grammar is to be checked too), then
// route add lines loaded in bulk (diffbulk_test.go).
type routeSet struct {
	batch, bulk []string
}

// tier1Set is set (a): every tier-1 prefix in main through one of the
// gateways, with one in 1,000 each an unreachable, blackhole, prohibit
// and throw route, two in 1,000 a direct route on d1, two in 1,000 two
// routes of different metrics; table 100 holds one prefix in 100 and a
// default, table 101 one in 500 and a throw for one in 2,000, table 102
// the two halves of 8/8; rules select on source, mark and destination
// and refuse.
func tier1Set(prefixes []netip.Prefix, rng *rand.Rand) routeSet {
	s := routeSet{batch: []string{
		"rule add from 198.18.1.1 lookup 100 pref 1000",
		"rule add fwmark 0x10/0xf0 lookup 101 pref 1100",
		"rule add to 8.0.0.0/8 lookup 102 pref 1200",
		"rule add fwmark 7 prohibit pref 1300",
		"rule add from 198.18.2.1 to 100.0.0.0/6 unreachable pref 1400",
		"route add default via 198.18.1.6 table 100",
		"route add 8.0.0.0/9 via 198.18.2.3 table 102",
		"route add blackhole 8.128.0.0/9 table 102",
	}}
	gw := func() string { return tier1Gateways[rng.IntN(len(tier1Gateways))] }
	for i, p := range prefixes {
		switch r := rng.IntN(1000); {
		case r < 1:
			s.batch = append(s.batch, fmt.Sprintf("route add unreachable %v", p))
		case r < 2:
			s.batch = append(s.batch, fmt.Sprintf("route add blackhole %v", p))
		case r < 3:
			s.batch = append(s.batch, fmt.Sprintf("route add prohibit %v", p))
		case r < 4:
			s.batch = append(s.batch, fmt.Sprintf("route add throw %v", p))
		case r < 6:
			s.batch = append(s.batch, fmt.Sprintf("route add %v dev d1", p))
		case r < 8:
			s.batch = append(s.batch, fmt.Sprintf("route add %v via %s metric 100", p, gw()), fmt.Sprintf("route add %v via %s metric 50", p, gw()))
		default:
			s.bulk = append(s.bulk, fmt.Sprintf("route add %v via %s", p, gw()))
		}
		if i%100 == 0 {
			s.bulk = append(s.bulk, fmt.Sprintf("route add %v via 198.18.1.5 table 100", p))
		}
		if i%500 == 1 {
			s.bulk = append(s.bulk, fmt.Sprintf("route add %v via 198.18.0.5 table 101", p))
		}
		if i%2000 == 3 {
			s.batch = append(s.batch, fmt.Sprintf("route add throw %v table 101", p))
		}
	}
	return s
}

// randomIn is an address of p chosen by rng.
func randomIn(p netip.Prefix, rng *rand.Rand) netip.Addr {
	b := p.Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	if host := 32 - p.Bits(); host > 0 {
		v |= rng.Uint32() & (1<<host - 1)
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func randomAddr(rng *rand.Rand) netip.Addr {
	v := rng.Uint32()
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// tier1Queries are n route gets for set (a): half to uniformly random
// addresses, half into random tier-1 prefixes; about one in four with a
// local source, one in eight with a mark.
func tier1Queries(prefixes []netip.Prefix, n int, rng *rand.Rand) []string {
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		dst := randomAddr(rng)
		if i%2 == 1 {
			dst = randomIn(prefixes[rng.IntN(len(prefixes))], rng)
		}
		q := "route get " + dst.String()
		switch r := rng.IntN(100); {
		case r < 15:
			q += " from 198.18.1.1"
		case r < 20:
			q += " from 198.18.0.1"
		case r < 25:
			q += " from 198.18.2.1"
		}
		switch r := rng.IntN(100); {
		case r < 5:
			q += " mark 0x10"
		case r < 8:
			q += " mark 0x17"
		case r < 10:
			q += " mark 7"
		case r < 12:
			q += " mark 0x20"
		}
		out = append(out, q)
	}
	return out
}

// mixSet is set (b), all through ip -batch: every route type, metrics,
// TOS routes, several tables and rules of every selector and action the
// grammar has.
var mixSet = routeSet{batch: mixLines}

var mixLines = []string{
	// main: two defaults (the lower metric wins), overlapping prefixes,
	// metrics, TOS, direct and onlink routes, preferred sources, every
	// reject type, a local and a broadcast route (iproute2 puts those in
	// the local table).
	"route add default via 198.18.0.2 metric 100",
	"route add default via 198.18.1.2 metric 50",
	"route add 10.0.0.0/8 via 198.18.0.3",
	"route add 10.1.0.0/16 via 198.18.1.3 metric 10",
	"route add 10.1.0.0/16 via 198.18.0.4 metric 5",
	"route add 10.1.2.0/24 via 198.18.2.2",
	"route add 10.1.2.128/25 dev d1",
	"route add 10.2.0.0/16 tos 0x10 via 198.18.1.4",
	"route add 10.2.0.0/16 via 198.18.0.4",
	"route add 10.2.3.0/24 tos 0x08 via 198.18.2.3",
	"route add 10.3.0.0/16 dev d1",
	"route add 10.3.1.0/24 dev d1 src 198.18.2.1",
	"route add 10.3.2.0/24 via 198.18.0.5 src 198.18.1.1",
	"route add unreachable 10.4.0.0/16",
	"route add blackhole 10.5.0.0/16",
	"route add prohibit 10.6.0.0/16",
	"route add throw 10.7.0.0/16",
	"route add 10.8.0.0/16 via 198.18.9.9 dev d0 onlink",
	"route add 10.12.0.1 via 198.18.1.2",
	"route add 10.12.0.0/31 via 198.18.0.2",
	"route add unreachable 10.13.0.0/16 metric 20",
	"route add 10.13.0.0/16 via 198.18.0.2 metric 30",
	"route add 10.14.0.0/16 via 198.18.0.2 metric 30",
	"route add blackhole 10.14.0.0/16 metric 20",
	"route add 172.16.0.0/12 via 198.18.1.3",
	"route add 198.18.3.0/24 via 198.18.0.2",
	"route add 198.18.4.0/24 dev d1 scope link",
	"route add local 10.10.0.0/16 dev lo",
	"route add broadcast 10.11.255.255 dev d0",
	"route add 192.0.2.0/24 via 198.18.0.6 proto static",
	"route add 203.0.113.0/24 via 198.18.1.6 proto 99 metric 7",
	// table 200: taken for source 198.18.1.1 and marks 0x100 from lo.
	"route add default via 198.18.1.7 table 200",
	"route add 10.1.0.0/16 via 198.18.0.7 table 200",
	"route add unreachable 10.20.0.0/16 table 200",
	"route add throw 10.21.0.0/16 table 200",
	"route add prohibit 10.22.0.0/16 table 200",
	// table 201: odd marks, mark 0x20 through a goto, oif d1.
	"route add 10.0.0.0/8 via 198.18.1.8 table 201",
	"route add default via 198.18.0.8 table 201",
	"route add blackhole 10.23.0.0/16 table 201",
	// table 202: TOS 0x10 (a TOS route of its own among them).
	"route add prohibit default table 202",
	"route add 10.2.0.0/16 via 198.18.2.4 table 202",
	"route add 10.2.0.0/16 tos 0x10 via 198.18.1.9 table 202",
	// table 300: sources of 198.18.2.0/24.
	"route add 10.30.0.0/16 via 198.18.1.9 table 300",
	"route add throw 10.31.0.0/16 table 300",
	"route add default via 198.18.0.9 table 300 metric 10",
	// table 301: destinations outside 10/8 (a rule with not); a miss
	// goes on to the next rules.
	"route add 1.1.1.0/24 via 198.18.1.9 table 301",
	"route add throw 8.8.0.0/16 table 301",
	"route add 198.18.5.0/24 via 198.18.0.9 table 301",
	// table 400: only a default, suppressed by suppress_prefixlength 0.
	"route add default via 198.18.2.9 table 400",
	"route add 10.44.0.0/16 via 198.18.2.8 table 400",
	// table 4000000000: a table id past 255.
	"route add 10.50.0.0/16 via 198.18.1.10 table 4000000000",
	"rule add from 198.18.1.1 lookup 200 pref 100",
	"rule add fwmark 0x1/0x1 lookup 201 pref 110",
	"rule add to 10.40.0.0/16 unreachable pref 120",
	"rule add to 10.41.0.0/16 prohibit pref 130",
	"rule add to 10.42.0.0/16 blackhole pref 140",
	"rule add tos 0x10 lookup 202 pref 150",
	"rule add fwmark 0x20 goto 500 pref 160",
	"rule add to 10.44.0.0/15 lookup 400 suppress_prefixlength 0 pref 170",
	"rule add to 10.50.0.0/16 lookup 4000000000 pref 175",
	"rule add from 198.18.2.0/24 lookup 300 pref 180",
	"rule add iif lo fwmark 0x100 lookup 200 pref 190",
	"rule add not to 10.0.0.0/8 lookup 301 pref 200",
	"rule add fwmark 0x80/0x80 unreachable pref 210",
	"rule add oif d1 lookup 201 pref 220",
	"rule add fwmark 0x20 lookup 400 pref 400",
	"rule add fwmark 0x20 lookup 201 pref 500",
	"rule add fwmark 0x200 nop pref 600",
	"rule add from 198.18.9.0/24 lookup 200 pref 700",
}

// mixTargets are the destinations of set (b)'s queries: addresses in and
// at the edges of every prefix the set names, and the special ones (this
// network, loopback, multicast, limited broadcast, class E, the host's
// own addresses, its subnets' network and broadcast addresses).
func mixTargets(rng *rand.Rand) []netip.Addr {
	out := []netip.Addr{}
	for _, s := range []string{"0.0.0.0", "0.1.2.3", "127.0.0.1", "127.1.2.3", "224.0.0.1", "224.0.0.251", "239.1.2.3",
		"240.0.0.1", "255.255.255.254", "255.255.255.255", "198.18.0.0", "198.18.0.1", "198.18.0.7", "198.18.0.255",
		"198.18.1.1", "198.18.1.255", "198.18.2.1", "198.18.2.77", "198.18.2.255", "198.18.9.9", "169.254.1.1",
		"100.64.1.1", "8.8.8.8", "1.1.1.1"} {
		out = append(out, netip.MustParseAddr(s))
	}
	for _, l := range mixLines {
		f := strings.Fields(l)
		if f[0] != "route" {
			if i := indexOf(f, "to"); i > 0 {
				p := netip.MustParsePrefix(f[i+1])
				out = append(out, p.Addr(), randomIn(p, rng), lastIn(p))
			}
			continue
		}
		for _, w := range f[2:] {
			if w == "default" {
				out = append(out, randomAddr(rng))
				break
			}
			if p, err := netip.ParsePrefix(w); err == nil {
				out = append(out, p.Addr(), randomIn(p, rng), lastIn(p))
				break
			}
			if a, err := netip.ParseAddr(w); err == nil {
				out = append(out, a)
				break
			}
		}
	}
	return out
}

func indexOf(f []string, w string) int {
	for i, s := range f {
		if s == w {
			return i
		}
	}
	return -1
}

func lastIn(p netip.Prefix) netip.Addr {
	b := p.Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	if host := 32 - p.Bits(); host > 0 {
		v |= 1<<host - 1
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// mixQueries are n route gets for set (b): each target with no flow
// fields, then random targets with random sources (local, foreign, none),
// marks, TOS, an output device or an input device (a forwarded packet's
// lookup: a foreign source arriving on d0 or d1).
func mixQueries(n int, rng *rand.Rand) []string {
	targets := mixTargets(rng)
	out := make([]string, 0, n)
	for _, a := range targets {
		if len(out) == n {
			return out
		}
		out = append(out, "route get "+a.String())
	}
	srcs := []string{"198.18.0.1", "198.18.1.1", "198.18.2.1", "127.0.0.1", "198.18.9.9", "10.3.0.5", "0.1.2.3", "224.0.0.1"}
	marks := []string{"1", "2", "3", "0x20", "0x21", "0x40", "0x80", "0xff", "0x100", "0x200"}
	// Sources of forwarded packets: on the devices' subnets, beyond them,
	// and martians (this network, loopback, multicast, the host's own).
	inputSrcs := []string{"198.18.0.9", "198.18.1.9", "8.8.8.8", "10.1.2.3", "198.18.2.9", "0.1.2.3", "127.0.0.1", "224.0.0.1", "198.18.0.1"}
	toss := []string{"0x10", "0x08", "0x04", "0x18", "0x1c"}
	for len(out) < n {
		a := targets[rng.IntN(len(targets))]
		if rng.IntN(4) == 0 {
			a = randomIn(netip.MustParsePrefix("10.0.0.0/8"), rng)
		}
		q := "route get " + a.String()
		if rng.IntN(8) == 0 {
			// An input lookup: a packet from outside arriving on a device.
			from := inputSrcs[rng.IntN(len(inputSrcs))]
			q += " from " + from + " iif " + []string{"d0", "d1"}[rng.IntN(2)]
		} else {
			if rng.IntN(3) == 0 {
				q += " from " + srcs[rng.IntN(len(srcs))]
			}
			if rng.IntN(8) == 0 {
				q += " oif " + []string{"d0", "d1"}[rng.IntN(2)]
			}
		}
		if rng.IntN(3) == 0 {
			q += " mark " + marks[rng.IntN(len(marks))]
		}
		if rng.IntN(5) == 0 {
			q += " tos " + toss[rng.IntN(len(toss))]
		}
		out = append(out, q)
	}
	return out
}
