package test

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// layer is each package's place in the house (DESIGN §1), lowest first: a
// package may import only packages of a lower layer, and the ones named in
// only, when set, are the only ones it may import. A package missing here
// fails the test: a new room needs its place.
var layers = map[string]struct {
	rank int
	only []string
}{
	"header":               {0, nil},
	"ethtool":              {0, nil},
	"driver/dim":           {0, nil},
	"configs":              {0, nil},
	"ring":                 {1, nil},
	"offload":              {1, []string{"header"}},
	"ethtool/nl":           {1, []string{"ethtool"}},
	"ethtool/cli":          {1, []string{"ethtool"}},
	"ethtool/kernel":       {1, []string{"ethtool"}},
	"test/pkt":             {1, nil},
	"internal/packetdrill": {0, nil},
	"internal/cnum":        {0, nil},
	"hw":                   {2, []string{"header", "ring", "offload"}},
	// The core knows no protocol: header, offload and ethtool's types.
	"stack":           {3, []string{"header", "offload", "ethtool"}},
	"stack/neigh":     {4, nil},
	"stack/sock":      {4, nil},
	"stack/netlink":   {4, nil},
	"driver":          {4, []string{"stack", "ring", "hw", "offload", "ethtool", "header", "driver/dim"}},
	"stack/ipv4/fib":  {5, nil},
	"stack/rtnetlink": {5, nil},
	// IPv4 never imports what registers with it (UDP, TCP, netfilter).
	"stack/ipv4": {6, nil},
	"stack/udp":  {7, nil},
	"stack/tcp":  {7, nil},
	// Netfilter's modules register with the core's hook registry; the
	// rule engine reads conntrack and calls NAT, never the other way.
	"stack/netfilter/conntrack": {8, nil},
	"stack/netfilter/nat":       {9, nil},
	"stack/netfilter/iptables":  {10, nil},
	"stack/inet":                {11, nil},
	// ip netns's family: both sides (the control socket serves it, ip
	// asks), below iproute.
	"internal/netns": {11, nil},
	// The control socket's client, below the command lines on it.
	"internal/nlclient":  {11, nil},
	"internal/stacktest": {12, nil},
	"internal/iproute":   {12, nil},
	"internal/ss":        {12, nil},
	"internal/iperf3":    {12, nil},
	"internal/conntrack": {12, nil},
	"internal/iptables":  {12, nil},
	"internal/topo":      {13, nil},
	"internal/control":   {14, nil},
	"test":               {15, nil},
	"test/conformance":   {15, nil},
	"test/irqbench":      {15, nil},
	"test/selftests":     {15, nil},
	"test/packetdrill":   {15, nil},
	"test/iptables":      {15, nil},
	"cmd/vnic":           {16, nil},
}

// TestLayers holds the import graph to the house: nothing imports upward
// or sideways, and the restricted packages import only what they may.
// Tests may import anything (they are not part of the graph).
func TestLayers(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "vnic/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	n := 0
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		pkg := strings.TrimPrefix(f[0], "vnic/")
		me, ok := layers[pkg]
		if !ok {
			t.Errorf("%s has no layer: give it its place in DESIGN §1 and here", pkg)
			continue
		}
		n++
		for _, imp := range f[1:] {
			if !strings.HasPrefix(imp, "vnic/") {
				continue
			}
			dep := strings.TrimPrefix(imp, "vnic/")
			d, ok := layers[dep]
			switch {
			case !ok:
				t.Errorf("%s imports %s, which has no layer", pkg, dep)
			case d.rank >= me.rank:
				t.Errorf("%s (layer %d) imports %s (layer %d): upward or sideways", pkg, me.rank, dep, d.rank)
			case me.only != nil && !contains(me.only, dep):
				t.Errorf("%s imports %s: it may import only %v", pkg, dep, me.only)
			}
		}
	}
	if n < len(layers)/2 {
		t.Fatalf("go list listed %d packages", n)
	}
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
