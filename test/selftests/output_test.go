package selftests

import (
	"fmt"
	"strings"
)

// A selftest script reports each case as a line
//
//	    TEST: <message, padded to 60>  [ OK ]
//	    TEST: <message, padded to 60>  [FAIL]
//
// under headers: a section's title on a line of its own after an empty one,
// and a step's title indented by four spaces. At the end it prints
// "Tests passed: N" and "Tests failed: N"; a script stopped by set -e (or an
// exit in its setup) prints neither.

// outCase is one reported case.
type outCase struct {
	ordinal int    // 1-based, within the run
	msg     string // without the padding
	ok      bool
	section string // the section title above it
	step    string // the step title above it, "" if none
}

// run is what a script's output says.
type run struct {
	cases    []outCase
	summary  bool   // "Tests passed:" was printed: the script ran to its end
	skip     string // a "SKIP: ..." line: the script gave up before any test
	sections []string
}

const (
	caseOK   = "[ OK ]"
	caseFail = "[FAIL]"
)

// parseRun reads a script's standard output.
func parseRun(out string) run {
	var r run
	section, step := "", ""
	prevEmpty := true
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, "\r")
		empty := strings.TrimSpace(line) == ""
		switch {
		case empty:
		case strings.HasPrefix(line, "    TEST: "):
			body := strings.TrimPrefix(line, "    TEST: ")
			var ok bool
			switch {
			case strings.HasSuffix(body, caseOK):
				ok = true
				body = strings.TrimSuffix(body, caseOK)
			case strings.HasSuffix(body, caseFail):
				body = strings.TrimSuffix(body, caseFail)
			default:
				prevEmpty = false
				continue // not a result line
			}
			r.cases = append(r.cases, outCase{
				ordinal: len(r.cases) + 1,
				msg:     strings.TrimSpace(body),
				ok:      ok,
				section: section,
				step:    step,
			})
		case strings.HasPrefix(line, "Tests passed:"):
			r.summary = true
		case strings.HasPrefix(line, "Tests failed:"):
		case strings.HasPrefix(line, "SKIP:"):
			r.skip = line
		case strings.HasPrefix(line, "    ") && len(line) > 4 && line[4] != ' ':
			if !strings.HasPrefix(line, "    COMMAND:") {
				step = strings.TrimSpace(line)
			}
		case prevEmpty && line[0] != ' ' && line[0] != '\t':
			section, step = line, ""
			r.sections = append(r.sections, section)
		}
		prevEmpty = empty
	}
	return r
}

// kind is what the table says of a case.
type kind int

const (
	pass   kind = iota // vnic must pass it
	cannot             // needs what vnic does not have (the reason says what): must not pass
	ipv6               // an IPv6 case: run (its commands answered by the alias) but not counted
)

func (k kind) String() string {
	switch k {
	case pass:
		return "pass"
	case cannot:
		return "cannot"
	case ipv6:
		return "ipv6"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// expect is the table's line for one case; its ordinal is its place in the
// group's list.
type expect struct {
	msg  string
	kind kind
	why  string // for cannot: what vnic lacks
}

// tally is a group's result as the table counts it.
type tally struct {
	passed     int      // pass cases that passed
	failed     int      // pass cases that failed
	missing    int      // pass cases the run never reached
	cannot     int      // cannot cases (failed or not reached, as expected)
	notCounted int      // IPv6 cases seen
	problems   []string // why the group fails; none when it does not
}

func (t tally) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d missing; %d cannot (as the table says); %d IPv6 not counted",
		t.passed, t.failed, t.missing, t.cannot, t.notCounted)
}

// judge compares a run with the group's table. A run is a prefix of the
// table's list (a script that stops early reaches fewer cases); a case that
// is not the table's at its ordinal, or one past its end, is a problem, as
// is a pass case that fails or is missing and a cannot case that passes.
func judge(want []expect, got run) tally {
	var t tally
	where := func(c outCase) string {
		if c.step != "" {
			return c.section + " / " + c.step
		}
		return c.section
	}
	for i, c := range got.cases {
		if i >= len(want) {
			t.problems = append(t.problems, fmt.Sprintf("case %d %q (%s) is not in the table", c.ordinal, c.msg, where(c)))
			continue
		}
		w := want[i]
		if c.msg != w.msg {
			t.problems = append(t.problems, fmt.Sprintf("case %d is %q (%s), the table has %q there", c.ordinal, c.msg, where(c), w.msg))
			continue
		}
		switch w.kind {
		case pass:
			if c.ok {
				t.passed++
			} else {
				t.failed++
				t.problems = append(t.problems, fmt.Sprintf("case %d %q (%s) failed", c.ordinal, c.msg, where(c)))
			}
		case cannot:
			t.cannot++
			if c.ok {
				t.problems = append(t.problems, fmt.Sprintf("case %d %q (%s) now passes: mark it pass in the table and docs/selftests.md (it said: %s)", c.ordinal, c.msg, where(c), w.why))
			}
		case ipv6:
			t.notCounted++
		}
	}
	for i := len(got.cases); i < len(want); i++ {
		switch w := want[i]; w.kind {
		case pass:
			t.missing++
			t.problems = append(t.problems, fmt.Sprintf("case %d %q never ran", i+1, w.msg))
		case cannot:
			t.cannot++
		}
	}
	return t
}
