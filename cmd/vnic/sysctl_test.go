package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestUpSysctl drives a running router topology with vnic sysctl: each
// case's output, errors and exit status are procps-ng sysctl 4.0.2's for
// the same command line on Linux (a scratch namespace), with vnic's keys.
func TestUpSysctl(t *testing.T) {
	f, sock := routerConfig(t)
	tests := []struct {
		args        []string
		out, errOut string
		rc          int
	}{
		{[]string{"net.ipv4.ip_forward=0"}, "net.ipv4.ip_forward = 0\n", "", 0},
		{[]string{"-n", "net.ipv4.ip_forward"}, "0\n", "", 0},
		{[]string{"-N", "net.ipv4.ip_forward"}, "net.ipv4.ip_forward\n", "", 0},
		{[]string{"-n", "net.ipv4.ip_forward=1"}, "1\n", "", 0},
		{[]string{"-q", "net.ipv4.ip_forward=1"}, "", "", 0},
		{[]string{"-q", "-w", "net.ipv4.ip_forward=1"}, "", "", 0},
		{[]string{"net.ipv4.ip_forward=0", "net.ipv4.ip_default_ttl"}, "net.ipv4.ip_forward = 0\nnet.ipv4.ip_default_ttl = 64\n", "", 0},
		{[]string{"net.ipv4.foo"}, "", "sysctl: cannot stat /proc/sys/net/ipv4/foo: No such file or directory\n", 1},
		{[]string{"-w", "net.ipv4.foo=1"}, "", "sysctl: cannot stat /proc/sys/net/ipv4/foo: No such file or directory\n", 1},
		{[]string{"-q", "net.ipv4.foo"}, "", "sysctl: cannot stat /proc/sys/net/ipv4/foo: No such file or directory\n", 1},
		{[]string{"-e", "net.ipv4.foo"}, "", "", 0},
		{[]string{"-e", "-w", "net.ipv4.foo=1"}, "", "", 0},
		{[]string{"net.ipv4.foo", "net.ipv4.ip_forward"}, "net.ipv4.ip_forward = 0\n", "sysctl: cannot stat /proc/sys/net/ipv4/foo: No such file or directory\n", 1},
		{[]string{"-w", "net.ipv4.ip_forward=abc"}, "", "sysctl: setting key \"net.ipv4.ip_forward\": Invalid argument\n", 1},
		{[]string{"net.ipv4.ip_forward="}, "", "sysctl: setting key \"net.ipv4.ip_forward\": Invalid argument\n", 1},
		{[]string{"-w", "=1"}, "", "sysctl: Path is not under /proc/sys/: /proc/sys/\n", 1},
		{[]string{"=1"}, "", "sysctl: Path is not under /proc/sys/: /proc/sys/\n", 1},
		{[]string{"-w", "net.ipv4.ip_forward"}, "", "sysctl: command line(0): invalid syntax, continuing...\n", 1},
		{[]string{"-w", "net.ipv4.ip_forward=0", "-q", "net.ipv4.ip_default_ttl"}, "", "sysctl: command line(0): invalid syntax, continuing...\n", 1},
		{[]string{"-w", "net.ipv4.conf=1"}, "", "sysctl: setting key \"net.ipv4.conf\": Invalid argument\n", 1},
		{[]string{"-w", "net.ipv4.ip_default_ttl=3"}, "", "sysctl: permission denied on key \"net.ipv4.ip_default_ttl\"\n", 1},
		{[]string{"-e", "-w", "net.ipv4.ip_default_ttl=3"}, "", "sysctl: permission denied on key \"net.ipv4.ip_default_ttl\"\n", 1},
		{[]string{"net/ipv4/ip_forward"}, "net.ipv4.ip_forward = 0\n", "", 0},
		{[]string{"net.ipv4.conf.vnic1"}, "net.ipv4.conf.vnic1.accept_redirects = 1\nnet.ipv4.conf.vnic1.forwarding = 0\nnet.ipv4.conf.vnic1.ignore_routes_with_linkdown = 0\nnet.ipv4.conf.vnic1.rp_filter = 0\nnet.ipv4.conf.vnic1.secure_redirects = 1\nnet.ipv4.conf.vnic1.send_redirects = 1\nnet.ipv4.conf.vnic1.shared_media = 1\n", "", 0},
		{[]string{"-a", "-r", "ip_forw"}, "net.ipv4.ip_forward = 0\n", "", 0},
		{[]string{"-a", "--pattern", "conf.vnic0.forwarding$"}, "net.ipv4.conf.vnic0.forwarding = 0\n", "", 0},
		{[]string{"-n", "-a", "-r", "forwarding"}, "0\n0\n0\n0\n", "", 0},
		{[]string{"-N", "-a", "-r", "^net.ipv4.conf.all"}, "net.ipv4.conf.all.accept_redirects\nnet.ipv4.conf.all.forwarding\nnet.ipv4.conf.all.ignore_routes_with_linkdown\nnet.ipv4.conf.all.rp_filter\nnet.ipv4.conf.all.secure_redirects\nnet.ipv4.conf.all.send_redirects\nnet.ipv4.conf.all.shared_media\n", "", 0},
		{[]string{"-a", "-r", "["}, "", "", 0},
		{[]string{"-r", "ip_forw"}, "", "sysctl: no variables specified\nTry `vnic sysctl --help' for more information.\n", 1},
		{[]string{"-r", "ttl", "net.ipv4.ip_forward", "net.ipv4.ip_default_ttl"}, "net.ipv4.ip_default_ttl = 64\n", "", 0},
		{[]string{}, "", "sysctl: no variables specified\nTry `vnic sysctl --help' for more information.\n", 1},
	}
	var cmds []func(o, e *bytes.Buffer) int
	for _, tc := range tests {
		cmds = append(cmds, func(o, e *bytes.Buffer) int {
			var so sysctlOpts
			fs := pflag.NewFlagSet("sysctl", pflag.ContinueOnError)
			sysctlFlags(fs, &so)
			if err := fs.Parse(tc.args); err != nil {
				t.Error(err)
				return -1
			}
			so.socket, so.host = sock, "r"
			return runSysctl(so, fs.Args(), o, e)
		})
	}
	_, results, err := runUp(t, cmds, "up", "--config", f, "--socket", sock)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != len(tests) {
		t.Fatalf("%d results", len(results))
	}
	for i, tc := range tests {
		r := results[i]
		if r.rc != tc.rc || r.out != tc.out || r.errOut != tc.errOut {
			t.Errorf("sysctl %q: rc %d out %q err %q, want %d %q %q", tc.args, r.rc, r.out, r.errOut, tc.rc, tc.out, tc.errOut)
		}
	}
}

// FuzzSysctlArgs: any argument and pattern reach the host as a name
// without "=" and never panic the client.
func FuzzSysctlArgs(f *testing.F) {
	f.Add("net.ipv4.ip_forward=1", "", true)
	f.Add(" = ", "[", false)
	f.Add("net/ipv4/conf", "forw.*$", false)
	f.Fuzz(func(t *testing.T, arg, pattern string, write bool) {
		call := func(name, value string, w bool) ([]sysctlPair, error) {
			if strings.Contains(name, "=") {
				t.Fatalf("name %q holds '='", name)
			}
			return []sysctlPair{{name, value}}, nil
		}
		sysctlRun(sysctlOpts{pattern: pattern, write: write}, []string{arg}, call, io.Discard, io.Discard)
	})
}
