package iptables_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"vnic/hw"
	"vnic/internal/iptables"
	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/netlink"
)

// The test binary is also the wrapper that makes iptables' tools run
// vnic's: called as xtables-legacy-multi (iptables-test.py's name for
// the legacy binary) or as one of the tools, it runs iptables.Main on the
// host $VNIC_HOST behind the control socket $VNIC_SOCKET, which the test
// serves.
func TestMain(m *testing.M) {
	switch name := filepath.Base(os.Args[0]); name {
	case "xtables-legacy-multi":
		if len(os.Args) < 2 {
			os.Exit(1)
		}
		os.Exit(wrap(filepath.Base(os.Args[1]), os.Args[2:]))
	case "iptables", "iptables-save", "iptables-restore", "ipset":
		os.Exit(wrap(name, os.Args[1:]))
	}
	os.Exit(m.Run())
}

func wrap(prog string, args []string) int {
	return iptables.Main(prog, args, iptables.Options{Socket: os.Getenv("VNIC_SOCKET"), Host: os.Getenv("VNIC_HOST")})
}

// vnicHost is one vnic host served on a control socket, with a directory
// of the tools' names pointing at the wrapper.
type vnicHost struct {
	host *stack.Host
	sock string
	bin  string
}

func newVnicHost(t testing.TB) *vnicHost {
	t.Helper()
	clk := hw.NewVirtualClock()
	h := stack.NewHost("h", clk, []stack.CPU{hw.NewCPU(0, clk, hw.CostModel{})}, stack.HostConfig{})
	// IPv4, for what the NAT targets and state matches need of a host
	// (connection tracking).
	if _, err := ipv4.InetInit(h, ipv4.InetConfig{Seed: 1}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "ctl.sock")
	svc := &iptables.Service{Host: func(name string) *stack.Host {
		if name == "h" {
			return h
		}
		return nil
	}}
	srv, err := netlink.Listen(sock, svc.Family())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"xtables-legacy-multi", "iptables", "iptables-save", "iptables-restore", "ipset"} {
		if err := os.Symlink(self, filepath.Join(bin, n)); err != nil {
			t.Fatal(err)
		}
	}
	return &vnicHost{host: h, sock: sock, bin: bin}
}

// env is the environment a command run against the host gets. A
// wrapper built with the race detector would sleep a second at its exit
// (GORACE's atexit_sleep_ms): it is told not to.
func (v *vnicHost) env() []string {
	return append(os.Environ(), "VNIC_SOCKET="+v.sock, "VNIC_HOST=h", "PATH="+v.bin+":"+os.Getenv("PATH"),
		"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
}

// requireRoot skips (fails under VNIC_REQUIRE_NETNS=1) without root or
// without the tools named.
func requireRoot(t *testing.T, tools ...string) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "needs " + strings.Join(missing, ", ")
	if os.Getenv("VNIC_REQUIRE_NETNS") == "1" {
		t.Fatal(msg + " (VNIC_REQUIRE_NETNS=1)")
	}
	t.Skip(msg)
}

// oracleDir is iptables 1.8.9's tests beside the repository
// (../shared/oracles/iptables), or $VNIC_IPTABLES_ORACLE.
func oracleDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("VNIC_IPTABLES_ORACLE")
	if dir == "" {
		out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
		root := "../.."
		if err == nil {
			root = strings.TrimSpace(string(out))
		}
		dir = filepath.Join(root, "..", "shared", "oracles", "iptables")
	}
	if _, err := os.Stat(filepath.Join(dir, "iptables-test.py")); err != nil {
		if os.Getenv("VNIC_REQUIRE_NETNS") == "1" {
			t.Fatalf("iptables' tests are not at %s (VNIC_REQUIRE_NETNS=1)", dir)
		}
		t.Skipf("iptables' tests are not at %s", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
