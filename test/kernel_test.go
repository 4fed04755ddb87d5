//go:build linux

package test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// requireNetns skips (fails under VNIC_REQUIRE_NETNS=1) without root and ip.
func requireNetns(t *testing.T) string {
	t.Helper()
	ip := requireTool(t, "ip")
	if os.Geteuid() != 0 {
		if os.Getenv("VNIC_REQUIRE_NETNS") == "1" {
			t.Fatal("network namespaces need root (VNIC_REQUIRE_NETNS=1)")
		}
		t.Skip("network namespaces need root")
	}
	return ip
}

// vethNetns creates a namespace with a veth pair va/vb, both up, and
// removes it when the test ends.
func vethNetns(t *testing.T, ip, name string) string {
	t.Helper()
	ns := fmt.Sprintf("vnic-%s-%d", name, os.Getpid())
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ip, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", ns)
	t.Cleanup(func() { exec.Command(ip, "netns", "del", ns).Run() })
	run("-n", ns, "link", "add", "va", "type", "veth", "peer", "name", "vb")
	run("-n", ns, "link", "set", "va", "up")
	run("-n", ns, "link", "set", "vb", "up")
	return ns
}

// buildVnic builds the vnic binary once per test run.
func buildVnic(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "vnic")
	cmd := exec.Command("go", "build", "-o", bin, "vnic/cmd/vnic")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	return bin
}

type result struct {
	out string
	rc  int
}

func inNetns(t *testing.T, ip, ns string, args ...string) result {
	t.Helper()
	cmd := exec.Command(ip, append([]string{"netns", "exec", ns}, args...)...)
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("%v: timed out", args)
	}
	return result{b.String(), cmd.ProcessState.ExitCode()}
}

// TestKernelBackendMatchesEthtool runs the same command lines through
// `vnic ethtool --kernel` in one namespace and the real ethtool in another
// with an identical veth pair: output and exit codes must be equal (sets
// included, since both namespaces see the same sequence). -S is left out:
// the kernel backend's library returns statistics unordered.
func TestKernelBackendMatchesEthtool(t *testing.T) {
	ip := requireNetns(t)
	ethtool := requireTool(t, "ethtool")
	bin := buildVnic(t)
	nsA, nsB := vethNetns(t, ip, "kA"), vethNetns(t, ip, "kB")
	lines := []string{
		"-i va", "-k va", "--json -k va", "-l va", "-P va", "va", "-g va", "-c va", "-a va", "-x va",
		"-e va", "-d va", "-t va", "-n va rx-flow-hash tcp4",
		"-K va tx off", "-k va", "-K va tx on", "-K va sg off", "-k va", "-K va sg on", "-K va lro on", "-K va rxcsum off",
		"-K va gro on", "-k va", "-L va rx 2", "-l va", "-L va rx 5", "-L va combined 1", "-L va rx 1",
		"-G va rx 100", "-C va rx-usecs 3", "-A va rx on", "-s va speed 100", "-r va", "-X va equal 1",
		"-N va rx-flow-hash tcp4 sdfn", "-E va magic 1 offset 0 value 1", "-s va msglvl 1",
		"-g nosuch", "-i nosuch", "-k nosuch", "-G va rx", "-G va foo 1", "-k va extra", "-g",
	}
	for _, l := range lines {
		args := strings.Fields(l)
		got := inNetns(t, ip, nsA, append([]string{bin, "ethtool", "--kernel"}, args...)...)
		want := inNetns(t, ip, nsB, append([]string{ethtool}, args...)...)
		if got != want {
			t.Errorf("ethtool %s:\nvnic --kernel (exit %d):\n%s\nethtool (exit %d):\n%s", l, got.rc, got.out, want.rc, want.out)
		}
	}
}

// TestConformanceOnVeth runs the conformance suite against a veth through
// the kernel backend: nothing fails; what veth or the ioctls lack skips.
func TestConformanceOnVeth(t *testing.T) {
	ip := requireNetns(t)
	bin := buildVnic(t)
	ns := vethNetns(t, ip, "conf")
	r := inNetns(t, ip, ns, bin, "conformance", "--kernel", "--target", "va")
	if r.rc != 0 || !strings.Contains(r.out, " 0 failed,") {
		t.Fatalf("exit %d:\n%s", r.rc, r.out)
	}
	if !strings.Contains(r.out, "PASS features-fix-rules") || !strings.Contains(r.out, "SKIP ring-round-trip: get ring: not supported") {
		t.Errorf("unexpected outcomes:\n%s", r.out)
	}
}
