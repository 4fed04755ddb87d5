//go:build linux

package test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vnic/stack"
)

// The routing issue's differential test: the same routes and rules in a
// kernel namespace and in a vnic host, the same ip route get lines sent
// to both through ip -batch (the kernel's ip, and vnic's ip run in
// process on a transport straight into the host's rtnetlink handlers),
// and the answers compared: type, table, device, gateway, preferred
// source, or the error ip prints. docs/routing.md, "Against the kernel",
// says what the sets hold and how long they take.

// TestRouteGetTier1AgainstKernel is set (a): the real tier-1 table spread
// over six next hops on two devices, reject routes among it, three more
// tables and five rules; 100,000 gets (fewer: diffScale), half to random
// addresses, half into the table's prefixes, some with a local source or
// a mark.
func TestRouteGetTier1AgainstKernel(t *testing.T) {
	ip := requireNetns(t)
	prefixes := tier1Prefixes(t)
	sz := diffScale(testing.Short())
	if sz.every > 1 {
		// One prefix in every: the table's shape at a fraction of the
		// load (docs/routing.md says when).
		var some []netip.Prefix
		for i := 0; i < len(prefixes); i += sz.every {
			some = append(some, prefixes[i])
		}
		prefixes = some
	}
	rng := rand.New(rand.NewPCG(1, 2))
	set := tier1Set(prefixes, rng)
	differential(t, ip, diffLayout{devs: diffDevs}, set, tier1Queries(prefixes, sz.queries, rng))
}

// TestRouteGetMixAgainstKernel is set (b): a hand-made mix of every route
// type, metrics, TOS routes, eight tables and rules of every selector and
// action, with forwarding on; 5,000 gets (1,000 with -short) to the
// prefixes' edges and the special addresses, with sources, marks, TOS,
// output devices and input devices.
func TestRouteGetMixAgainstKernel(t *testing.T) {
	ip := requireNetns(t)
	rng := rand.New(rand.NewPCG(3, 4))
	differential(t, ip, diffLayout{devs: diffDevs, forwarding: true}, mixSet, mixQueries(diffScale(testing.Short()).mixQueries, rng))
}

// diffSize is how much a run takes: one tier-1 prefix in every, queries
// gets for set (a), mixQueries for set (b).
type diffSize struct {
	every, queries, mixQueries int
}

// diffScale is the whole of set (a) with 100,000 gets, unless -short
// (one prefix in eight, 5,000 gets; 1,000 for set (b)) or the race
// detector (one prefix in eight, 20,000 gets), which would take vnic's
// side past the suite's budget; VNIC_DIFF_FULL=1 takes the whole in every
// case.
func diffScale(short bool) diffSize {
	switch {
	case os.Getenv("VNIC_DIFF_FULL") == "1":
		return diffSize{1, 100000, 5000}
	case short:
		return diffSize{8, 5000, 1000}
	case raceEnabled:
		return diffSize{8, 20000, 5000}
	}
	return diffSize{1, 100000, 5000}
}

// diffReportMax bounds the mismatches (and refusals) a run prints in full.
const diffReportMax = 25

// differential loads set into both sides, sends them queries and fails
// on every answer that differs.
func differential(t *testing.T, ip string, l diffLayout, set routeSet, queries []string) {
	dir := t.TempDir()
	batchFile := writeLines(t, filepath.Join(dir, "routes.batch"), set.batch)
	qFile := writeLines(t, filepath.Join(dir, "queries.batch"), queries)
	ns := diffNetns(t, ip, l)
	h := vnicHost(t, l)
	var phases []string
	phase := func(name string, start time.Time) {
		phases = append(phases, fmt.Sprintf("%s %v", name, time.Since(start).Round(time.Millisecond)))
	}

	// The bulk lines name no device: one set of bodies serves both sides.
	start := time.Now()
	bodies, err := routeBodies(set.bulk)
	if err != nil {
		t.Fatal(err)
	}
	phase("parsing the bulk lines", start)

	start = time.Now()
	_, kerr := kernelBatch(t, ip, ns, batchFile)
	kb := loadErrors(t, "the kernel", kerr)
	kbulk, err := kernelBulkRoutes(ns, bodies)
	if err != nil {
		t.Fatalf("loading the kernel: %v", err)
	}
	phase("kernel load", start)

	start = time.Now()
	_, verr := vnicBatch(t, h, batchFile)
	vb := loadErrors(t, "vnic", verr)
	vbulk := vnicBulkRoutes(h, bodies)
	phase("vnic load", start)
	compareLoads(t, set.batch, kb, vb)
	compareLoads(t, set.bulk, kbulk, vbulk)

	start = time.Now()
	kout, kerrs := kernelBatch(t, ip, ns, qFile, "-d", "-j")
	phase("kernel queries", start)
	start = time.Now()
	vout, verrs := vnicBatch(t, h, qFile, "-d", "-j")
	phase("vnic queries", start)
	t.Logf("%d batch and %d bulk lines, %d queries: %s", len(set.batch), len(set.bulk), len(queries), strings.Join(phases, ", "))

	kans, err := batchAnswers(kout, kerrs, len(queries))
	if err != nil {
		t.Fatalf("the kernel's answers: %v", err)
	}
	vans, err := batchAnswers(vout, verrs, len(queries))
	if err != nil {
		t.Fatalf("vnic's answers: %v", err)
	}
	// A broken setup would answer every query with the same error on
	// both sides: the sets are made so that most queries find a route.
	decided := 0
	for _, a := range kans {
		if a.Err == "" {
			decided++
		}
	}
	if decided < len(queries)/4 {
		t.Fatalf("the kernel decides only %d of %d queries: the setup is wrong", decided, len(queries))
	}
	var ms []mismatch
	for i, q := range queries {
		if kans[i] != vans[i] {
			ms = append(ms, mismatch{line: i + 1, query: q, kernel: kans[i], vnic: vans[i]})
		}
	}
	if len(ms) == 0 {
		return
	}
	t.Error(report(ip, ns, h, ms, len(queries)))
}

// report says how the answers differ: a summary by shape, both sides'
// rules, then the first mismatches in full with the routes of every table
// that cover the destination on each side (from one dump of each).
func report(ip, ns string, h *stack.Host, ms []mismatch, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d route gets differ; by shape:\n%s\n", len(ms), n, strings.Join(shapes(ms), "\n"))
	fmt.Fprintf(&b, "\nrules, kernel:\n%s\nrules, vnic:\n%s", kernelShow(ip, ns, "rule show"), vnicShow(h, "rule show"))
	const dump = "-d route show table all"
	kroutes, vroutes := parseRouteDump(kernelShow(ip, ns, dump)), parseRouteDump(vnicShow(h, dump))
	for i, m := range ms {
		if i == diffReportMax {
			fmt.Fprintf(&b, "\n… and %d more\n", len(ms)-diffReportMax)
			break
		}
		dst := strings.Fields(m.query)[2]
		fmt.Fprintf(&b, "\n%s (query %d)\n  kernel: %v\n  vnic:   %v\n  kernel's routes covering %s:\n%s  vnic's:\n%s",
			m.query, m.line, m.kernel, m.vnic, dst, indent(kroutes.covering(dst)), indent(vroutes.covering(dst)))
	}
	return b.String()
}

// loadErrors reads a load batch's refusals.
func loadErrors(t *testing.T, side, stderr string) map[int]string {
	t.Helper()
	e, err := batchErrors(stderr)
	if err != nil {
		t.Fatalf("%s's load: %v\n%.2000s", side, err, stderr)
	}
	return e
}

// compareLoads fails the test where the two sides took the lines
// differently: the kernel must take every line (the sets are meant to be
// valid), vnic must take what the kernel takes.
func compareLoads(t *testing.T, lines []string, kernel, vnic map[int]string) {
	t.Helper()
	for n, e := range kernel {
		t.Fatalf("the kernel refuses line %d %q: %s", n, lines[n-1], e)
	}
	reported := 0
	for n := 1; n <= len(lines) && reported < diffReportMax; n++ {
		if e, ok := vnic[n]; ok {
			t.Errorf("vnic refuses line %d %q, which the kernel takes: %s", n, lines[n-1], e)
			reported++
		}
	}
	if len(vnic) > reported {
		t.Errorf("… and %d more refusals", len(vnic)-reported)
	}
}

func writeLines(t *testing.T, path string, lines []string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func indent(s string) string {
	if s == "" {
		return "    (none)\n"
	}
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("    " + l + "\n")
	}
	return b.String()
}
