//go:build linux

package test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// diffDev is one device of the host under test: its name, the name of
// its peer's end and its addresses.
type diffDev struct {
	name, peer string
	addrs      []string
}

// diffLayout is the host both sides build: devices and whether it
// forwards (net.ipv4.ip_forward).
type diffLayout struct {
	devs       []diffDev
	forwarding bool
}

var diffSeq atomic.Int32

// diffNetns builds the layout in a scratch namespace: each device a veth
// whose peer is in a second scratch namespace (both ends up, so the
// devices have carrier, as vnic's cabled ones), loopback up. Both
// namespaces are removed when the test ends, whatever its outcome.
func diffNetns(t *testing.T, ip string, l diffLayout) string {
	t.Helper()
	removeStaleNetns(ip)
	n := diffSeq.Add(1)
	ns := fmt.Sprintf("vnic-diff-%d-%d", os.Getpid(), n)
	peer := fmt.Sprintf("vnic-diffp-%d-%d", os.Getpid(), n)
	for _, name := range []string{ns, peer} {
		ipRun(t, ip, "netns", "add", name)
		t.Cleanup(func() { exec.Command(ip, "netns", "del", name).Run() })
	}
	ipRun(t, ip, "-n", ns, "link", "set", "lo", "up")
	for _, d := range l.devs {
		ipRun(t, ip, "-n", ns, "link", "add", d.name, "type", "veth", "peer", "name", d.peer, "netns", peer)
		ipRun(t, ip, "-n", peer, "link", "set", d.peer, "up")
		ipRun(t, ip, "-n", ns, "link", "set", d.name, "up")
		for _, a := range d.addrs {
			ipRun(t, ip, "-n", ns, "addr", "add", a, "dev", d.name)
		}
	}
	if l.forwarding {
		if out, err := exec.Command(ip, "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1").CombinedOutput(); err != nil {
			t.Fatalf("sysctl in %s: %v: %s", ns, err, out)
		}
	}
	return ns
}

var staleNetns = regexp.MustCompile(`^vnic-diffp?-(\d+)-\d+$`)

// removeStaleNetns deletes the namespaces of earlier runs that were
// killed before their cleanup (a name of ours whose process is gone): a
// tier-1 namespace holds some hundreds of MB.
func removeStaleNetns(ip string) {
	out, err := exec.Command(ip, "netns", "list").Output()
	if err != nil {
		return
	}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		m := staleNetns.FindStringSubmatch(f[0])
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		if pid == os.Getpid() || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue
		}
		exec.Command(ip, "netns", "del", f[0]).Run()
	}
}

// kernelBatch is ip -n NS [globals] -force -batch FILE: its stdout and
// stderr. A batch with failed commands exits 1, which is not an error
// here; a batch that does not end in time is.
func kernelBatch(t *testing.T, ip, ns, file string, globals ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append(append([]string{"-n", ns}, globals...), "-force", "-batch", file)
	cmd := exec.CommandContext(ctx, ip, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("ip %s: timed out", strings.Join(args, " "))
	}
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("ip %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String()
}

// kernelShow is ip -n NS ARGS for a report: its output, or its error.
func kernelShow(ip, ns, line string) string {
	out, err := exec.Command(ip, append([]string{"-n", ns}, strings.Fields(line)...)...).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("(%v) %s", err, out)
	}
	return string(out)
}
