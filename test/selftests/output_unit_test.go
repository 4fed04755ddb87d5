package selftests

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// testLine is a result line as the scripts' log_test prints it.
func testLine(msg string, ok bool) string {
	verdict := caseFail
	if ok {
		verdict = caseOK
	}
	return fmt.Sprintf("    TEST: %-60s  %s", msg, verdict)
}

func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

func TestParseRun(t *testing.T) {
	long := strings.Repeat("x", 70)
	tests := []struct {
		name string
		out  string
		want run
	}{{
		name: "sections, steps, repeated messages, summary",
		out: lines("",
			"Lettuce section",
			"    First step",
			testLine("alpha works", true),
			testLine("beta works", false),
			"    Second step",
			testLine("alpha works", true),
			"",
			"Tomato section",
			testLine("gamma works", true),
			"",
			"Tests passed:   3",
			"Tests failed:   1"),
		want: run{
			cases: []outCase{
				{1, "alpha works", true, "Lettuce section", "First step"},
				{2, "beta works", false, "Lettuce section", "First step"},
				{3, "alpha works", true, "Lettuce section", "Second step"},
				{4, "gamma works", true, "Tomato section", ""},
			},
			summary:  true,
			sections: []string{"Lettuce section", "Tomato section"},
		},
	}, {
		name: "stopped early: no summary",
		out:  lines("", "Only section", testLine("delta works", true), "some error from a tool"),
		want: run{
			cases:    []outCase{{1, "delta works", true, "Only section", ""}},
			sections: []string{"Only section"},
		},
	}, {
		name: "skipped before any test",
		out:  lines("SKIP: the tool is too old"),
		want: run{skip: "SKIP: the tool is too old"},
	}, {
		name: "a long message and one with leading spaces",
		out: lines("", "Padding section",
			testLine(long, false),
			testLine("    indented message", true),
			"", "Tests passed:   1", "Tests failed:   1"),
		want: run{
			cases: []outCase{
				{1, long, false, "Padding section", ""},
				{2, "indented message", true, "Padding section", ""},
			},
			summary:  true,
			sections: []string{"Padding section"},
		},
	}, {
		name: "noise is not a case or a header",
		out: lines("", "Noise section",
			"a line right after the title",
			"    COMMAND: frobnicate --all",
			"    TEST: a line without its verdict",
			"\tindented by a tab",
			testLine("epsilon works", true)),
		want: run{
			cases:    []outCase{{1, "epsilon works", true, "Noise section", ""}},
			sections: []string{"Noise section"},
		},
	}, {
		name: "carriage returns",
		out:  "\r\nCR section\r\n" + testLine("zeta works", false) + "\r\n",
		want: run{
			cases:    []outCase{{1, "zeta works", false, "CR section", ""}},
			sections: []string{"CR section"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseRun(tt.out)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseRun:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	table := []expect{
		p("one"),
		six("one six"),
		no("lacks a thing", "two"),
		p("one"),
	}
	c := func(n int, msg string, ok bool) outCase { return outCase{ordinal: n, msg: msg, ok: ok, section: "S"} }
	tests := []struct {
		name     string
		cases    []outCase
		want     tally // without problems
		problems []string
	}{{
		name:  "as the table says",
		cases: []outCase{c(1, "one", true), c(2, "one six", false), c(3, "two", false), c(4, "one", true)},
		want:  tally{passed: 2, cannot: 1, notCounted: 1},
	}, {
		name:  "an IPv6 case's verdict does not count",
		cases: []outCase{c(1, "one", true), c(2, "one six", true), c(3, "two", false), c(4, "one", true)},
		want:  tally{passed: 2, cannot: 1, notCounted: 1},
	}, {
		name:     "a pass case fails",
		cases:    []outCase{c(1, "one", true), c(2, "one six", false), c(3, "two", false), c(4, "one", false)},
		want:     tally{passed: 1, failed: 1, cannot: 1, notCounted: 1},
		problems: []string{`case 4 "one" (S) failed`},
	}, {
		name:     "a cannot case passes",
		cases:    []outCase{c(1, "one", true), c(2, "one six", false), c(3, "two", true), c(4, "one", true)},
		want:     tally{passed: 2, cannot: 1, notCounted: 1},
		problems: []string{`case 3 "two" (S) now passes: mark it pass`},
	}, {
		name:     "stopped early: pass cases missing, cannot cases not",
		cases:    []outCase{c(1, "one", true)},
		want:     tally{passed: 1, missing: 1, cannot: 1},
		problems: []string{`case 4 "one" never ran`},
	}, {
		name:     "nothing ran",
		want:     tally{missing: 2, cannot: 1},
		problems: []string{`case 1 "one" never ran`, `case 4 "one" never ran`},
	}, {
		name:     "a case the table does not have there",
		cases:    []outCase{c(1, "one", true), c(2, "other", true), c(3, "two", false), c(4, "one", true)},
		want:     tally{passed: 2, cannot: 1},
		problems: []string{`case 2 is "other" (S), the table has "one six" there`},
	}, {
		name:     "more cases than the table",
		cases:    []outCase{c(1, "one", true), c(2, "one six", false), c(3, "two", false), c(4, "one", true), c(5, "three", true)},
		want:     tally{passed: 2, cannot: 1, notCounted: 1},
		problems: []string{`case 5 "three" (S) is not in the table`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := judge(table, run{cases: tt.cases})
			problems := got.problems
			got.problems = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("judge: got %v, want %v", got, tt.want)
			}
			if len(problems) != len(tt.problems) {
				t.Fatalf("problems: got %q, want %d like %q", problems, len(tt.problems), tt.problems)
			}
			for i, want := range tt.problems {
				if !strings.HasPrefix(problems[i], want) {
					t.Errorf("problem %d: got %q, want it to start %q", i, problems[i], want)
				}
			}
		})
	}
}

// TestTableIsWellFormed: every cannot case says why, no other case does,
// and the groups are the script's without its IPv6-only ones.
func TestTableIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, g := range fibGroups {
		if seen[g.name] {
			t.Errorf("group %s twice", g.name)
		}
		seen[g.name] = true
		for i, e := range g.cases {
			if (e.kind == cannot) != (e.why != "") {
				t.Errorf("%s case %d %q: kind %v with reason %q", g.name, i+1, e.msg, e.kind, e.why)
			}
			if e.msg != strings.TrimSpace(e.msg) || e.msg == "" {
				t.Errorf("%s case %d: message %q is not as parseRun gives it", g.name, i+1, e.msg)
			}
			if strings.HasPrefix(e.msg, "IPv6 ") && e.kind != ipv6 {
				t.Errorf("%s case %d %q: an IPv6 case marked %v", g.name, i+1, e.msg, e.kind)
			}
		}
	}
	for _, name := range ipv6Groups {
		if seen[name] {
			t.Errorf("IPv6-only group %s is in the table", name)
		}
		seen[name] = true
	}
	// fib_tests.sh's TESTS, in its order.
	script := []string{"unregister", "down", "carrier", "nexthop", "suppress", "ipv6_rt", "ipv4_rt",
		"ipv6_addr_metric", "ipv4_addr_metric", "ipv6_route_metrics", "ipv4_route_metrics",
		"ipv4_route_v6_gw", "rp_filter", "ipv4_del_addr", "ipv4_mangle", "ipv6_mangle", "ipv4_bcast_neigh"}
	for _, name := range script {
		if !seen[name] {
			t.Errorf("group %s is neither run nor listed as IPv6 only", name)
		}
		delete(seen, name)
	}
	for name := range seen {
		t.Errorf("group %s is not the script's", name)
	}
}
