package nlclient

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The client talks only to a socket of its own user or root: another
// user's socket at the path could be anyone's impostor.
func TestDialChecksOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a socket of another user needs root to make")
	}
	path := filepath.Join(t.TempDir(), "vnic.sock")
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := Dial(path)
	if err != nil {
		t.Fatalf("root's own socket: %v", err)
	}
	c.Close()
	if err := os.Lchown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := Dial(path); err == nil || !strings.Contains(err.Error(), "belongs to uid 65534") {
		t.Errorf("another user's socket: %v", err)
	}
}
