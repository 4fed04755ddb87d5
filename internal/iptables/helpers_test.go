package iptables

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"vnic/hw"
	"vnic/stack"
	"vnic/stack/ipv4"
	ipt "vnic/stack/netfilter/iptables"
)

// directBackend reaches a host in the process: each table goes through
// the entries blob both ways, as over the control socket.
type directBackend struct{ h *stack.Host }

func (d directBackend) get(table string) (*ipt.TableSpec, error) {
	spec, err := ipt.Get(d.h, table)
	if err != nil {
		return nil, err
	}
	blob, err := EncodeTable(spec)
	if err != nil {
		return nil, err
	}
	return DecodeTable(blob)
}

func (d directBackend) replace(spec *ipt.TableSpec) error {
	blob, err := EncodeTable(spec)
	if err != nil {
		return err
	}
	s, err := DecodeTable(blob)
	if err != nil {
		return err
	}
	_, err = ipt.Replace(d.h, s)
	return err
}

func (d directBackend) tables() ([]string, error) { return ipt.Tables(d.h), nil }

func (d directBackend) log() ([]ipt.LogLine, error) { return ipt.Log(d.h).Lines(0), nil }

func (d directBackend) ipset(req []byte) ([]byte, error) { return ipsetServe(d.h, req) }

func (d directBackend) close() {}

func newTestHost(t testing.TB) *stack.Host {
	t.Helper()
	clk := hw.NewVirtualClock()
	h := stack.NewHost("h", clk, []stack.CPU{hw.NewCPU(0, clk, hw.CostModel{})}, stack.HostConfig{})
	// IPv4, for the rules that hold connection tracking.
	if _, err := ipv4.InetInit(h, ipv4.DefaultInetConfig); err != nil {
		t.Fatal(err)
	}
	return h
}

// runner runs the tools against one host in the process.
type runner struct {
	t testing.TB
	h *stack.Host
}

func newRunner(t testing.TB) *runner { return &runner{t: t, h: newTestHost(t)} }

// run runs prog with args (one string, split at blanks) and stdin.
func (r *runner) run(prog, args, stdin string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	o := Options{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(stdin),
		Now:  func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
		dial: func() (backend, error) { return directBackend{r.h}, nil }}
	code = Main(prog, strings.Fields(args), o)
	return out.String(), errb.String(), code
}

// must runs prog and fails the test unless it exits 0.
func (r *runner) must(prog, args, stdin string) string {
	r.t.Helper()
	out, errs, code := r.run(prog, args, stdin)
	if code != 0 {
		r.t.Fatalf("%s %s: exit %d: %s", prog, args, code, errs)
	}
	return out
}
