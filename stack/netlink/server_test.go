package netlink

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The control socket is its user's: a peer of another user (not root) is
// refused, a directory others may write without the sticky bit is no
// place for it, and a socket another user left at the path is not
// replaced.
func TestSocketOwnership(t *testing.T) {
	for _, c := range []struct {
		uid, euid uint32
		ok        bool
	}{{1000, 1000, true}, {0, 1000, true}, {1001, 1000, false}, {1000, 0, false}, {0, 0, true}} {
		if got := peerAllowed(c.uid, c.euid); got != c.ok {
			t.Errorf("peer uid %d, server uid %d: allowed %v, want %v", c.uid, c.euid, got, c.ok)
		}
	}
	open := t.TempDir()
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(filepath.Join(open, "vnic.sock")); err == nil || !strings.Contains(err.Error(), "no sticky bit") {
		t.Errorf("world-writable directory: %v", err)
	}
	sticky := t.TempDir()
	if err := os.Chmod(sticky, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	s, err := Listen(filepath.Join(sticky, "vnic.sock"))
	if err != nil {
		t.Fatalf("sticky directory: %v", err)
	}
	s.Close()
	if os.Geteuid() != 0 {
		t.Skip("a socket of another user needs root to make")
	}
	path := filepath.Join(t.TempDir(), "vnic.sock")
	s, err = Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	s.ln.SetUnlinkOnClose(false)
	s.Close()
	if err := os.Lchown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(path); err == nil || !strings.Contains(err.Error(), "not ours") {
		t.Errorf("another user's socket replaced: %v", err)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Sys().(*syscall.Stat_t).Uid != 65534 {
		t.Errorf("the other user's socket is gone: %v", err)
	}
}
