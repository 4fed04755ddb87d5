//go:build linux

package hw

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// tapNetns returns ip and a fresh namespace (deleted when the test ends),
// skipping without root and ip unless VNIC_REQUIRE_NETNS=1, where a missing
// environment fails.
func tapNetns(t *testing.T, name string) (string, string) {
	t.Helper()
	ip, err := exec.LookPath("ip")
	if err != nil || os.Geteuid() != 0 {
		if os.Getenv("VNIC_REQUIRE_NETNS") == "1" {
			t.Fatalf("TAP tests need root and ip (VNIC_REQUIRE_NETNS=1): euid %d, %v", os.Geteuid(), err)
		}
		t.Skip("TAP tests need root and ip")
	}
	ns := fmt.Sprintf("vnic-%s-%d", name, os.Getpid())
	if out, err := exec.Command(ip, "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", ns, err, out)
	}
	t.Cleanup(func() { exec.Command(ip, "netns", "del", ns).Run() })
	return ip, ns
}

// Deleting a running port's TAP (ip link del) takes the device's link down
// within a bounded wait, with LSC, and reports one error naming the TAP.
func TestTAPDeletedTakesLinkDown(t *testing.T) {
	ip, ns := tapNetns(t, "tapdel")
	for _, vnet := range []bool{false, true} {
		t.Run(fmt.Sprintf("vnet=%v", vnet), func(t *testing.T) {
			const ifname = "vtapdel0"
			pipe, hdr, err := OpenTAP(ifname, ns, vnet)
			if err != nil {
				t.Fatal(err)
			}
			dev, _, lost := lostRig(t, pipe, hdr)
			if out, err := exec.Command(ip, "-n", ns, "link", "del", ifname).CombinedOutput(); err != nil {
				t.Fatalf("ip link del: %v: %s", err, out)
			}
			var got error
			select {
			case got = <-lost:
			case <-time.After(10 * time.Second):
				t.Fatal("link still up 10 s after the TAP was deleted")
			}
			t.Logf("OnLost: %v", got)
			if !errors.Is(got, ErrPortLost) || !strings.Contains(got.Error(), "TAP "+ifname) {
				t.Fatalf("OnLost(%v)", got)
			}
			if dev.LinkUp() || dev.Read32(ICR)&IcrLSC == 0 {
				t.Fatalf("after the TAP's deletion: link up %v, no LSC", dev.LinkUp())
			}
		})
	}
}
