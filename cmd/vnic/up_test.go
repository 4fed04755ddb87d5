package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestUpReportAfterLiveChanges: the exit report of `vnic up` names up and
// the time it ran; queues that ethtool -L took away while traffic ran are
// still reported (their packets count in the device's), so the queue rows
// add up to the device's totals.
func TestUpReportAfterLiveChanges(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "up.yaml")
	os.WriteFile(f, []byte("log:\n  level: error\n"), 0o644)
	sock := filepath.Join(dir, "vnic.sock")
	cmds := []func(o, e *bytes.Buffer) int{
		func(o, e *bytes.Buffer) int {
			return runEthtool([]string{"--socket", sock, "-L", "h2/vnic0", "combined", "1"}, o, e)
		},
		func(o, e *bytes.Buffer) int { return runEthtool([]string{"--socket", sock, "-l", "h2/vnic0"}, o, e) },
	}
	out, results, err := runUp(t, cmds, "up", "--config", f, "--json", "--socket", sock)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || results[0].rc != 0 || !strings.Contains(results[1].out, "Combined:\t1\n") {
		t.Fatalf("ethtool: %+v", results)
	}
	var rep Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if rep.Command != "up" || rep.Duration == "" || rep.Duration == "20ms" {
		t.Errorf("command %q duration %q", rep.Command, rep.Duration)
	}
	for _, d := range rep.Devices {
		var rx, tx uint64
		for _, q := range d.Queues {
			rx += q.RxPackets
			tx += q.TxPackets
		}
		if rx != d.RxPackets || tx != d.TxPackets {
			t.Errorf("%s/%s: queues rx %d tx %d, device rx %d tx %d (%d queue rows)", d.Host, d.Name, rx, tx, d.RxPackets, d.TxPackets, len(d.Queues))
		}
	}
	if h2 := rep.Devices[1]; len(h2.Queues) < 2 {
		t.Errorf("h2's queues after -L 1: %+v, want the removed ones that carried traffic too", h2.Queues)
	}
	// The text report's header.
	out, _, err = runUp(t, nil, "up", "--config", f, "--socket", sock)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^vnic up: virtual time, seed 1, [0-9.]+(ms|s|µs) of traffic\n`).MatchString(out) {
		t.Errorf("header: %q", strings.SplitN(out, "\n", 2)[0])
	}
}

// syncBuffer is a log sink for tests.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Sync() error { return nil }

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestUpStatusLines: `vnic up`'s status line comes on each tick only with
// -v or an explicit --log-level info, not at the default level (the
// config's info), so it does not interleave with what is typed after
// `vnic up &`.
func TestUpStatusLines(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "vnic.sock")
	upTick = make(chan time.Time)
	defer func() { upTick = nil }()
	tick := func(o, e *bytes.Buffer) int {
		upTick <- time.Now() // taken by up's loop: its line, if any, is written
		upTick <- time.Now()
		return 0
	}
	for _, tc := range []struct {
		args  []string
		lines int
	}{
		{nil, 0},
		{[]string{"-v"}, 2},
		{[]string{"--log-level", "info"}, 2},
		{[]string{"--log-level", "warn"}, 0},
		{[]string{"--log-level", "warn", "-v"}, 2},
	} {
		var sink syncBuffer
		logSink = &sink
		_, _, err := runUp(t, []func(o, e *bytes.Buffer) int{tick}, append([]string{"up", "--socket", sock}, tc.args...)...)
		logSink = nil
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(sink.String(), "\trunning\t"); n != tc.lines {
			t.Errorf("up %v: %d status lines, want %d:\n%s", tc.args, n, tc.lines, sink.String())
		}
	}
}
