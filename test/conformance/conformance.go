// Package conformance is a driver conformance suite over an ethtool
// backend: each check exercises one rule of the ethtool surface on a live
// device (round trips, range errors that change nothing, independence of
// parameters, feature fix rules and wanted persistence, fixed features,
// statistics, RSS and channels, link settings, EEPROM magic, self-test)
// and ends PASS, FAIL or SKIP with a reason. Every check restores what it
// changed. `vnic conformance` runs it against vnic's devices or, with
// --kernel, a Linux interface.
package conformance

import (
	"errors"
	"fmt"
	"io"
	"syscall"

	"vnic/ethtool"
)

// Outcome of a check.
type Outcome int

// Outcomes.
const (
	Pass Outcome = iota
	Fail
	Skip
)

func (o Outcome) String() string { return [...]string{"PASS", "FAIL", "SKIP"}[o] }

// Result is one check's outcome.
type Result struct {
	Name    string
	Outcome Outcome
	Reason  string
}

// Check is one rule.
type Check struct {
	Name string
	Run  func(c *T)
}

// T is a check's state: it ends with Fail, Skip or (returning) pass.
type T struct {
	dev     ethtool.Device
	outcome Outcome
	reason  string
}

type stop struct{}

// Fatalf fails the check and ends it.
func (t *T) Fatalf(format string, args ...any) {
	t.outcome, t.reason = Fail, fmt.Sprintf(format, args...)
	panic(stop{})
}

// Skipf skips the check and ends it.
func (t *T) Skipf(format string, args ...any) {
	t.outcome, t.reason = Skip, fmt.Sprintf(format, args...)
	panic(stop{})
}

// Need skips the check when err says the operation is unsupported, and
// fails it on any other error.
func (t *T) Need(what string, err error) {
	if err == nil {
		return
	}
	if errors.Is(err, syscall.EOPNOTSUPP) {
		t.Skipf("%s: not supported", what)
	}
	t.Fatalf("%s: %v", what, err)
}

// Dev is the device under test.
func (t *T) Dev() ethtool.Device { return t.dev }

// Run runs checks against dev, printing one line each and a summary, and
// returns the results.
func Run(dev ethtool.Device, checks []Check, out io.Writer) []Result {
	var res []Result
	var n [3]int
	for _, c := range checks {
		t := &T{dev: dev}
		func() {
			defer func() {
				if p := recover(); p != nil {
					if _, ok := p.(stop); !ok {
						t.outcome, t.reason = Fail, fmt.Sprintf("panic: %v", p)
					}
				}
			}()
			c.Run(t)
		}()
		r := Result{c.Name, t.outcome, t.reason}
		res = append(res, r)
		n[r.Outcome]++
		if out != nil {
			if r.Reason != "" {
				fmt.Fprintf(out, "%s %s: %s\n", r.Outcome, r.Name, r.Reason)
			} else {
				fmt.Fprintf(out, "%s %s\n", r.Outcome, r.Name)
			}
		}
	}
	if out != nil {
		fmt.Fprintf(out, "%d passed, %d failed, %d skipped\n", n[Pass], n[Fail], n[Skip])
	}
	return res
}
