package conntrack

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
)

// need skips the test (fails it under VNIC_REQUIRE_NETNS=1) when what
// it needs is missing.
func need(t *testing.T, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("VNIC_REQUIRE_NETNS") == "1" {
		t.Fatalf("%s (VNIC_REQUIRE_NETNS=1)", what)
	}
	t.Skip(what)
}

var netnsSeq atomic.Int32

// netns makes a network namespace with its loopback up, removed when the
// test ends; it needs root, ip and /usr/sbin/conntrack.
func netns(t *testing.T) string {
	t.Helper()
	need(t, os.Geteuid() == 0, "network namespaces need root")
	_, err := exec.LookPath("ip")
	need(t, err == nil, "no ip command")
	_, err = os.Stat("/usr/sbin/conntrack")
	need(t, err == nil, "no /usr/sbin/conntrack")
	ns := fmt.Sprintf("vnic-ct-%d-%d", os.Getpid(), netnsSeq.Add(1))
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		need(t, false, fmt.Sprintf("ip netns add: %v: %s", err, out))
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	nsRun(t, ns, "ip", "link", "set", "lo", "up")
	return ns
}

// nsRun runs a command in ns and returns its output; a failure fails the
// test.
func nsRun(t *testing.T, ns string, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
