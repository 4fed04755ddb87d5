package iptables

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// TestNATGolden parses each NAT rule of testdata/nat.golden (captured
// from iptables-legacy 1.8.9) and prints it as -S and -L -n print it:
// the parsers and printers of SNAT, DNAT, MASQUERADE, REDIRECT and
// NETMAP against the engine's NATRange, without a NAT core.
func TestNATGolden(t *testing.T) {
	f, err := os.Open("testdata/nat.golden")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var rule string
	n := 0
	for sc.Scan() {
		line := sc.Text()
		kind, text, _ := strings.Cut(line, " ")
		switch kind {
		case "rule":
			rule = text
		case "S", "L":
			p := &prog{name: "iptables", line: -1, out: &strings.Builder{}, errOut: &strings.Builder{}}
			c, err := p.parseArgs(append([]string{"iptables", "-t", "nat"}, strings.Fields(rule)...), false, "filter")
			if err != nil {
				t.Fatalf("%s: %v", rule, err)
			}
			r, _ := c.makeRule(nil)
			r.IP.Src, r.IP.SrcMask, r.IP.Dst, r.IP.DstMask = c.saddrs[0], c.smasks[0], c.daddrs[0], c.dmasks[0]
			var w strings.Builder
			if kind == "S" {
				printRule4(&w, &r, c.chain, 0, nil)
			} else {
				printFirewall(&w, &r, 0, fmtOptions|fmtNoCounts|fmtNumeric|fmtKMG, nil)
			}
			if got := strings.TrimSuffix(w.String(), "\n"); got != text {
				t.Errorf("%s (%s):\n got %q\nwant %q", rule, kind, got, text)
			}
			n++
		}
	}
	if n != 34 {
		t.Errorf("%d lines checked, want 34", n)
	}
}
