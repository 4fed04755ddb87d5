package selftests

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeVnic records how it was called: the host in $VNIC_HOST, then each
// argument in brackets (so spaces show).
const fakeVnic = `#!/bin/sh
echo "host=${VNIC_HOST:-}"
for a do echo "[$a]"; done
`

// TestAlias runs the wrappers in alias/ on a fake vnic: what each command
// becomes, and the IPv6 requests answered without vnic (0 for a change, 4
// for a query).
func TestAlias(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("the wrappers are /bin/sh scripts:", err)
	}
	alias, err := filepath.Abs("alias")
	if err != nil {
		t.Fatal(err)
	}
	fake := filepath.Join(t.TempDir(), "vnic")
	if err := os.WriteFile(fake, []byte(fakeVnic), 0o755); err != nil {
		t.Fatal(err)
	}
	const skipped = "vnic alias: IPv6 command skipped (vnic has no IPv6): "
	tests := []struct {
		cmd    []string
		vnic   string // the fake's record; "" when vnic is not run
		stderr string
		code   int
	}{
		// ip goes to vnic ip as it is.
		{cmd: []string{"ip", "-netns", "ns1", "route", "add", "198.18.1.0/24", "dev", "veth1"},
			vnic: "host=init [ip] [-netns] [ns1] [route] [add] [198.18.1.0/24] [dev] [veth1]"},
		{cmd: []string{"ip", "netns", "add", "ns1"}, vnic: "host=init [ip] [netns] [add] [ns1]"},
		{cmd: []string{"ip", "-4", "rule", "add", "pref", "32765", "table", "local"},
			vnic: "host=init [ip] [-4] [rule] [add] [pref] [32765] [table] [local]"},
		{cmd: []string{"ip", "link", "set", "dev", "a b", "up"}, vnic: "host=init [ip] [link] [set] [dev] [a b] [up]"},
		// An IPv4 route through an IPv6 gateway is vnic's to refuse.
		{cmd: []string{"ip", "-netns", "ns1", "ro", "add", "198.18.4.0/24", "via", "inet6", "2001:db8:101::2"},
			vnic: "host=init [ip] [-netns] [ns1] [ro] [add] [198.18.4.0/24] [via] [inet6] [2001:db8:101::2]"},
		// -n takes the next word as its name, even -6.
		{cmd: []string{"ip", "-n", "-6", "link", "show"}, vnic: "host=init [ip] [-n] [-6] [link] [show]"},

		// ip netns exec: the vnic counterpart on that host, or nothing.
		{cmd: []string{"ip", "netns", "exec", "ns2", "ping", "-w1", "-c1", "198.18.0.1"},
			vnic: "host=init [ping] [--host] [ns2] [-w1] [-c1] [198.18.0.1]"},
		{cmd: []string{"ip", "netns", "exec", "ns2", "/somewhere/bin/ping", "-c1", "198.18.0.1"},
			vnic: "host=init [ping] [--host] [ns2] [-c1] [198.18.0.1]"},
		{cmd: []string{"ip", "netns", "exec", "ns2", "sysctl", "-qw", "net.ipv4.ip_forward=1"},
			vnic: "host=init [sysctl] [--host] [ns2] [-qw] [net.ipv4.ip_forward=1]"},
		{cmd: []string{"ip", "netns", "exec", "ns2", "ip", "link", "set", "veth2", "up"},
			vnic: "host=init [ip] [-n] [ns2] [link] [set] [veth2] [up]"},
		{cmd: []string{"ip", "netns", "exec", "ns2", "tc", "qdisc", "add", "dev", "lo", "ingress"},
			stderr: "vnic: tc has no vnic counterpart (not run in host ns2)", code: 1},
		{cmd: []string{"ip", "netns", "exec", "ns1", "/usr/bin/socat", "STDIN", "UDP4:198.18.0.2:9"},
			stderr: "vnic: socat has no vnic counterpart (not run in host ns1)", code: 1},
		{cmd: []string{"ip", "netns", "exec", "ns1", "bash", "-c", "true"},
			stderr: "vnic: bash has no vnic counterpart (not run in host ns1)", code: 1},
		{cmd: []string{"ip", "netns", "exec", "ns1"}, vnic: "host=init [ip] [netns] [exec] [ns1]"},

		// IPv6 changes succeed without vnic, IPv6 queries fail with 4.
		{cmd: []string{"ip", "-netns", "ns1", "-6", "address", "add", "2001:db8:1::1/64", "dev", "dummy0"},
			stderr: skipped + "ip -netns ns1 -6 address add 2001:db8:1::1/64 dev dummy0"},
		{cmd: []string{"ip", "-n", "ns1", "-6", "ro", "flush", "2001:db8:104::/64"},
			stderr: skipped + "ip -n ns1 -6 ro flush 2001:db8:104::/64"},
		{cmd: []string{"ip", "-6", "rule", "del", "pref", "0"}, stderr: skipped + "ip -6 rule del pref 0"},
		{cmd: []string{"ip", "-f", "inet6", "route", "replace", "2001:db8::/64", "dev", "d"},
			stderr: skipped + "ip -f inet6 route replace 2001:db8::/64 dev d"},
		{cmd: []string{"ip", "-family", "inet6", "link", "set", "d", "up"}, stderr: skipped + "ip -family inet6 link set d up"},
		{cmd: []string{"ip", "-netns", "ns1", "-6", "route", "get", "fibmatch", "2001:db8:1::2"},
			stderr: skipped + "ip -netns ns1 -6 route get fibmatch 2001:db8:1::2", code: 4},
		{cmd: []string{"ip", "-netns", "ns1", "-6", "-br", "addr", "show", "dev", "dummy0"},
			stderr: skipped + "ip -netns ns1 -6 -br addr show dev dummy0", code: 4},
		{cmd: []string{"ip", "-6", "ro", "ls", "match", "2001:db8:104::/64"},
			stderr: skipped + "ip -6 ro ls match 2001:db8:104::/64", code: 4},
		{cmd: []string{"ip", "-6", "route"}, stderr: skipped + "ip -6 route", code: 4},
		{cmd: []string{"ip", "netns", "exec", "ns1", "ip", "-6", "addr", "add", "2001:db8::1/64", "dev", "d"},
			stderr: skipped + "ip -n ns1 -6 addr add 2001:db8::1/64 dev d"},
		{cmd: []string{"ip", "-f", "inet", "route", "add", "198.18.1.0/24", "dev", "d"},
			vnic: "host=init [ip] [-f] [inet] [route] [add] [198.18.1.0/24] [dev] [d]"},

		// ping and sysctl on the script's own host.
		{cmd: []string{"ping", "-c", "1", "198.18.0.1"}, vnic: "host=init [ping] [-c] [1] [198.18.0.1]"},
		{cmd: []string{"sysctl", "-q", "net.ipv4.ip_forward"}, vnic: "host=init [sysctl] [-q] [net.ipv4.ip_forward]"},
		{cmd: []string{"sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"},
			stderr: skipped + "sysctl -qw net.ipv6.conf.all.forwarding=1"},
		{cmd: []string{"sysctl", "net.ipv6.conf.all.forwarding=0"}, stderr: skipped + "sysctl net.ipv6.conf.all.forwarding=0"},
		{cmd: []string{"sysctl", "--write", "net/ipv6/conf/all/forwarding=0"},
			stderr: skipped + "sysctl --write net/ipv6/conf/all/forwarding=0"},
		{cmd: []string{"sysctl", "-n", "net.ipv6.conf.all.forwarding"},
			stderr: skipped + "sysctl -n net.ipv6.conf.all.forwarding", code: 4},
		{cmd: []string{"ip", "netns", "exec", "ns1", "sysctl", "-qw", "net.ipv6.conf.all.keep_addr_on_down=1"},
			stderr: skipped + "sysctl --host ns1 -qw net.ipv6.conf.all.keep_addr_on_down=1"},
		{cmd: []string{"ip", "netns", "exec", "ns1", "sysctl", "net.ipv6.conf.all.forwarding"},
			stderr: skipped + "sysctl --host ns1 net.ipv6.conf.all.forwarding", code: 4},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.cmd, " "), func(t *testing.T) {
			cmd := exec.Command(filepath.Join(alias, tt.cmd[0]), tt.cmd[1:]...)
			cmd.Env = []string{"PATH=" + alias, "VNIC_HOST=init", "SELFTESTS_VNIC=" + fake}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			vnic := strings.TrimSpace(strings.ReplaceAll(stdout.String(), "\n", " "))
			if vnic != tt.vnic || strings.TrimSpace(stderr.String()) != tt.stderr || code != tt.code {
				t.Errorf("got vnic %q, stderr %q, exit %d\nwant vnic %q, stderr %q, exit %d",
					vnic, strings.TrimSpace(stderr.String()), code, tt.vnic, tt.stderr, tt.code)
			}
		})
	}
}
