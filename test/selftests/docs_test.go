package selftests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const docsPath = "../../docs/selftests.md"

// docsSection is the table rows ("| ... |" lines) of the section of
// docs/selftests.md titled heading, up to the next section.
func docsSection(t *testing.T, heading string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.FromSlash(docsPath))
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	in, found := false, false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "## ") {
			in = line == "## "+heading
			found = found || in
			continue
		}
		if in && strings.HasPrefix(line, "| ") && !strings.HasPrefix(line, "| group ") {
			rows = append(rows, strings.TrimSpace(line))
		}
	}
	if !found {
		t.Fatalf("%s has no section %q", docsPath, heading)
	}
	return rows
}

// sameRows reports the rows one list has and the other lacks, and the
// whole wanted table when they differ (to paste into the doc).
func sameRows(t *testing.T, heading string, got, want []string) {
	t.Helper()
	have := map[string]bool{}
	for _, r := range got {
		have[r] = true
	}
	wanted := map[string]bool{}
	bad := false
	for _, r := range want {
		wanted[r] = true
		if !have[r] {
			t.Errorf("%s, %q: missing row\n%s", docsPath, heading, r)
			bad = true
		}
	}
	for _, r := range got {
		if !wanted[r] {
			t.Errorf("%s, %q: row not in the test's table\n%s", docsPath, heading, r)
			bad = true
		}
	}
	if bad {
		t.Logf("the rows the table gives:\n%s", strings.Join(want, "\n"))
	}
}

// TestDocsListEveryCannot: docs/selftests.md lists every cannot case of the
// table, with its reason, and no other.
func TestDocsListEveryCannot(t *testing.T) {
	var want []string
	for _, g := range fibGroups {
		for i, e := range g.cases {
			if e.kind == cannot {
				want = append(want, fmt.Sprintf("| %s | %d | %s | %s |", g.name, i+1, e.msg, e.why))
			}
		}
	}
	sameRows(t, "What vnic cannot pass", docsSection(t, "What vnic cannot pass"), want)
}

// TestDocsCountEveryGroup: the doc's overview of the groups has the table's
// counts.
func TestDocsCountEveryGroup(t *testing.T) {
	var want []string
	for _, g := range fibGroups {
		n := map[kind]int{}
		for _, e := range g.cases {
			n[e.kind]++
		}
		want = append(want, fmt.Sprintf("| %s | %d | %d | %d | %d |", g.name, len(g.cases), n[pass], n[cannot], n[ipv6]))
	}
	for _, name := range ipv6Groups {
		want = append(want, fmt.Sprintf("| %s | not run: IPv6 only | | | |", name))
	}
	sameRows(t, "The groups", docsSection(t, "The groups"), want)
}
