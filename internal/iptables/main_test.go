package iptables

import (
	"strings"
	"testing"

	ipt "vnic/stack/netfilter/iptables"
)

func rulesOf(t *testing.T, r *runner, table string) []string {
	t.Helper()
	out := r.must("iptables-save", "-t "+table, "")
	var rules []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "-A ") || strings.HasPrefix(l, ":") {
			rules = append(rules, l)
		}
	}
	return rules
}

// TestRestoreCommit: each table is replaced at its COMMIT in one swap; a
// table whose rule fails is left as it was, while the tables committed
// before it stay; --test commits nothing; --noflush adds to what is
// there.
func TestRestoreCommit(t *testing.T) {
	r := newRunner(t)
	r.must("iptables", "-A INPUT -j ACCEPT", "")
	before := rulesOf(t, r, "filter")
	_, errs, code := r.run("iptables-restore", "", "*mangle\n-A INPUT -j ACCEPT\nCOMMIT\n*filter\n-A INPUT -j DROP\n-A NOPE -j DROP\nCOMMIT\n")
	if code != 1 || errs != "iptables-restore: line 6 failed\n" {
		t.Fatalf("exit %d: %q", code, errs)
	}
	if got := rulesOf(t, r, "filter"); strings.Join(got, "\n") != strings.Join(before, "\n") {
		t.Errorf("filter changed by a failed COMMIT: %q", got)
	}
	if got := rulesOf(t, r, "mangle"); len(got) != 6 || got[5] != "-A INPUT -j ACCEPT" {
		t.Errorf("mangle, committed before the failure: %q", got)
	}
	r.must("iptables-restore", "--test", "*filter\n-A INPUT -j DROP\nCOMMIT\n")
	if got := rulesOf(t, r, "filter"); strings.Join(got, "\n") != strings.Join(before, "\n") {
		t.Errorf("--test changed filter: %q", got)
	}
	r.must("iptables-restore", "--noflush", "*filter\n:X - [0:0]\n-A INPUT -j X\nCOMMIT\n")
	want := append(append([]string{}, before[:3]...), ":X - [0:0]", "-A INPUT -j ACCEPT", "-A INPUT -j X")
	if got := rulesOf(t, r, "filter"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("--noflush:\n got %q\nwant %q", got, want)
	}
	r.must("iptables-restore", "", "*filter\nCOMMIT\n")
	if got := rulesOf(t, r, "filter"); len(got) != 3 {
		t.Errorf("a restore of an empty filter left %q", got)
	}
}

// TestRuleCounters: a rule's counters survive the commits of other
// commands (libiptc keeps them by rule), -Z zeroes them, -c sets them.
func TestRuleCounters(t *testing.T) {
	r := newRunner(t)
	r.must("iptables", "-A INPUT -c 5 6 -j ACCEPT", "")
	r.must("iptables", "-I INPUT -j DROP", "")
	r.must("iptables", "-A FORWARD -j DROP", "")
	spec, _ := ipt.Get(r.h, "filter")
	if c := spec.Chains[0].Rules[1].Counters; c != (ipt.Counters{Packets: 5, Bytes: 6}) {
		t.Errorf("counters after other commits: %+v", c)
	}
	r.must("iptables", "-Z INPUT 2", "")
	spec, _ = ipt.Get(r.h, "filter")
	if c := spec.Chains[0].Rules[1].Counters; c != (ipt.Counters{}) {
		t.Errorf("counters after -Z INPUT 2: %+v", c)
	}
}

// TestMainPrograms: the tools Main knows, and one it does not.
func TestMainPrograms(t *testing.T) {
	r := newRunner(t)
	for _, tc := range []struct {
		prog, args string
		code       int
		out, err   string
	}{
		{"iptables", "-V", 0, "iptables v1.8.9 (legacy)\n", ""},
		{"iptables-save", "-V", 0, "iptables-save v1.8.9 (legacy)\n", ""},
		{"iptables-restore", "-V", 0, "iptables-restore v1.8.9 (legacy)\n", ""},
		{"ipset", "version", 0, "ipset v7.17, protocol version: 7\n", ""},
		{"ip6tables", "-L", 1, "", "ip6tables: not one of iptables, iptables-save, iptables-restore, ipset, dmesg\n"},
		{"iptables", "", 2, "", "iptables v1.8.9 (legacy): no command specified\nTry `iptables -h' or 'iptables --help' for more information.\n"},
	} {
		out, errs, code := r.run(tc.prog, tc.args, "")
		if code != tc.code || out != tc.out || errs != tc.err {
			t.Errorf("%s %s: exit %d, %q, %q; want %d, %q, %q", tc.prog, tc.args, code, out, errs, tc.code, tc.out, tc.err)
		}
	}
}

// TestIPSetList: ipset's list and save of each type, with timeouts and
// counters (vnic's initval is the name's hash, the entries sorted).
func TestIPSetList(t *testing.T) {
	r := newRunner(t)
	for _, c := range []string{
		"create a hash:ip", "add a 198.18.0.2", "add a 198.18.0.1", "add a 192.0.2.0/30",
		"create n hash:net timeout 300 counters", "add n 198.18.0.0/24 timeout 60", "add n 192.0.2.0/25 packets 5 bytes 10",
		"create p hash:ip,port hashsize 100 maxelem 10", "add p 198.18.0.1,udp:53", "add p 198.18.0.1,80", "add p 198.18.0.1,icmp:echo-request",
	} {
		r.must("ipset", c, "")
	}
	got := r.must("ipset", "save", "")
	want := `create a hash:ip family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0xe40c292c
add a 192.0.2.0
add a 192.0.2.1
add a 192.0.2.2
add a 192.0.2.3
add a 198.18.0.1
add a 198.18.0.2
create n hash:net family inet hashsize 1024 maxelem 65536 timeout 300 counters bucketsize 12 initval 0xeb0c3431
add n 192.0.2.0/25 timeout 300 packets 5 bytes 10
add n 198.18.0.0/24 timeout 60 packets 0 bytes 0
create p hash:ip,port family inet hashsize 128 maxelem 10 bucketsize 12 initval 0xf50c43ef
add p 198.18.0.1,icmp:echo-request
add p 198.18.0.1,tcp:80
add p 198.18.0.1,udp:53
`
	if got != want {
		t.Errorf("save:\n%s\nwant:\n%s", got, want)
	}
	got = r.must("ipset", "list -t n", "")
	want = `Name: n
Type: hash:net
Revision: 7
Header: family inet hashsize 1024 maxelem 65536 timeout 300 counters bucketsize 12 initval 0xeb0c3431
Size in memory: 360
References: 0
Number of entries: 2
`
	if got != want {
		t.Errorf("list -t:\n%s\nwant:\n%s", got, want)
	}
	// What save wrote restores into an empty host as it was.
	r2 := newRunner(t)
	r2.must("ipset", "restore", r.must("ipset", "save", ""))
	if a, b := r.must("ipset", "list", ""), r2.must("ipset", "list", ""); a != b {
		t.Errorf("restored sets differ:\n%s\n---\n%s", a, b)
	}
}
