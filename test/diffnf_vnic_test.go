//go:build linux

package test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"vnic/internal/conntrack"
	"vnic/internal/control"
	"vnic/internal/iptables"
	"vnic/internal/topo"
)

// vnicRouter is a vnic host r between the TAPs, asked through the control
// socket with vnic's own iptables and conntrack commands.
type vnicRouter struct{ socket, host string }

func (v vnicRouter) iptables(t *testing.T, prog, stdin string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	rc := iptables.Main(prog, args, iptables.Options{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Socket: v.socket, Host: v.host})
	if rc != 0 {
		t.Fatalf("vnic %s %s: exit %d: %s%s", prog, strings.Join(args, " "), rc, out.String(), errb.String())
	}
	return out.String()
}

func (v vnicRouter) conntrackCmd(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	rc := conntrack.Main(args, conntrack.Options{Stdout: &out, Stderr: &errb, Socket: v.socket, Host: v.host})
	if rc != 0 {
		t.Fatalf("vnic conntrack %s: exit %d: %s%s", strings.Join(args, " "), rc, out.String(), errb.String())
	}
	return out.String() + errb.String()
}

func (v vnicRouter) restore(t *testing.T, rules string) { v.iptables(t, "iptables-restore", rules) }

func (v vnicRouter) conntrack(t *testing.T) []string {
	return nfConntrackLines(v.conntrackCmd(t, "-L"))
}

func (v vnicRouter) save(t *testing.T) []string {
	return nfSaveLines(v.iptables(t, "iptables-save", "", "-c"))
}

func (v vnicRouter) reset(t *testing.T) {
	v.conntrackCmd(t, "-F")
	for _, tb := range []string{"filter", "nat", "mangle", "raw"} {
		v.iptables(t, "iptables", "", "-t", tb, "-Z")
	}
}

// newVnicBed is A – r – B: kernel namespaces A and B, the vnic host r
// with its ports ra and rb as TAPs a0 (in A) and b0 (in B).
func newVnicBed(t *testing.T, ip string) *nfBed {
	t.Helper()
	a, b := kernelNetns(t, ip, "nfva"), kernelNetns(t, ip, "nfvb")
	cfg := topo.Config{Seed: 1, Hosts: []topo.HostConfig{{Name: "r", CPUs: 1, Forwarding: true,
		Devices: []topo.DeviceConfig{
			{Name: "ra", Queues: 1, Addresses: []string{nfRa + "/24"}, Port: topo.PortConfig{Type: "tap", Ifname: "a0", Netns: a}},
			{Name: "rb", Queues: 1, Addresses: []string{nfRb + "/24"}, Port: topo.PortConfig{Type: "tap", Ifname: "b0", Netns: b}},
		}}}}
	w, _ := tapWorld(t, cfg)
	sock := filepath.Join(t.TempDir(), "vnic.sock")
	srv, err := control.Serve(w, sock, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	nfEnds(t, ip, a, "a0", b, "b0")
	h := w.Host("r")
	return &nfBed{name: "vnic", r: vnicRouter{socket: sock, host: "r"},
		a: openRawPort(t, a, "a0"), b: openRawPort(t, b, "b0"),
		macA: [6]byte(h.Devices[0].Netdev.Addr()), macB: [6]byte(h.Devices[1].Netdev.Addr())}
}

// TestNetfilterKernelDifferential: the same ruleset and packets through
// the kernel's router and vnic's give the same packets at A and B, the
// same connection table and the same counters.
func TestNetfilterKernelDifferential(t *testing.T) {
	ip := requireNetns(t)
	requireTool(t, "iptables-legacy-restore")
	requireTool(t, "conntrack")
	requireTool(t, "ethtool")
	script := nfScript()
	var obs [2][]nfObserved
	var ct, save [2][]string
	for i, bed := range []*nfBed{newKernelBed(t, ip), newVnicBed(t, ip)} {
		bed.r.restore(t, nfRuleset)
		bed.warmUp(t)
		bed.r.reset(t)
		obs[i] = bed.run(t, script)
		ct[i] = bed.r.conntrack(t)
		save[i] = bed.r.save(t)
	}
	// The kernel is the oracle; that it let through, rewrote and answered
	// is what keeps the comparison from being one of two silences.
	seen := 0
	for _, o := range obs[0] {
		if len(o.atA)+len(o.atB) > 0 {
			seen++
		}
	}
	if seen < len(script)*2/3 {
		t.Fatalf("the kernel's router passed or answered only %d of %d steps: the bed is broken", seen, len(script))
	}
	for i, s := range script {
		k, v := obs[0][i], obs[1][i]
		if strings.Join(k.atA, "\n") != strings.Join(v.atA, "\n") || strings.Join(k.atB, "\n") != strings.Join(v.atB, "\n") {
			t.Errorf("step %d, %s:\n kernel at A: %q\n   vnic at A: %q\n kernel at B: %q\n   vnic at B: %q", i, s.name, k.atA, v.atA, k.atB, v.atB)
		}
	}
	// The zones are in the kernel's table (else the zone steps compare
	// two default zones).
	for _, z := range []string{" zone=1 ", " zone=2 ", " zone-orig=3 "} {
		if !strings.Contains(strings.Join(ct[0], "\n")+" ", z) {
			t.Errorf("the kernel's table has no entry with%s:\n%s", z, strings.Join(ct[0], "\n"))
		}
	}
	if d := lineDiff(ct[0], ct[1]); d != "" {
		t.Errorf("conntrack -L, kernel (-) and vnic (+):\n%s", d)
	}
	if d := lineDiff(save[0], save[1]); d != "" {
		t.Errorf("iptables-save -c, kernel (-) and vnic (+):\n%s", d)
	}
}
