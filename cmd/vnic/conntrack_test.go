package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestUpNetfilter drives a running router topology with vnic iptables,
// iptables-save and conntrack: a state rule turns tracking on, a ping
// through the router is one ICMP entry, listed, counted, deleted, and the
// rule counted its two packets; an unknown host is conntrack's error.
func TestUpNetfilter(t *testing.T) {
	f, sock := routerConfig(t)
	ct := func(host string, args ...string) func(o, e *bytes.Buffer) int {
		return func(o, e *bytes.Buffer) int {
			return runConntrack(context.Background(), append([]string{"--socket", sock, "--host", host}, args...), o, e)
		}
	}
	ipt := func(prog string, args ...string) func(o, e *bytes.Buffer) int {
		return func(o, e *bytes.Buffer) int {
			return runIptables(prog, append([]string{"--socket", sock, "--host", "r"}, args...), strings.NewReader(""), o, e)
		}
	}
	cmds := []func(o, e *bytes.Buffer) int{
		ipt("iptables", "-A", "FORWARD", "-p", "icmp", "--icmp-type", "echo-request", "-j", "LOG", "--log-prefix", "fwd: "),
		ipt("iptables", "-A", "FORWARD", "-m", "conntrack", "--ctstate", "NEW,ESTABLISHED", "-p", "icmp", "-j", "ACCEPT"),
		ct("r", "-C"),
		func(o, e *bytes.Buffer) int {
			var po pingOpts
			fs := pflag.NewFlagSet("ping", pflag.ContinueOnError)
			pingFlags(fs, &po)
			if err := fs.Parse([]string{"-c", "1", "198.18.6.2"}); err != nil {
				t.Error(err)
				return -1
			}
			po.socket, po.host = sock, "h1"
			return runPing(po, fs.Args(), &bytes.Buffer{}, e)
		},
		ct("r", "-L"),
		ct("r", "-C"),
		ct("r", "-D", "-p", "icmp"),
		ct("r", "-C"),
		ct("nope", "-L"),
		ipt("iptables-save", "-c", "-t", "filter"),
		ipt("iptables", "-L", "FORWARD", "-n", "-v", "-x"),
		ipt("iptables", "-A", "FORWARD", "-j", "NOPE"),
		ipt("dmesg", "-t"),
	}
	_, results, err := runUp(t, cmds, "up", "--config", f, "--socket", sock)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != len(cmds) {
		t.Fatalf("%d results", len(results))
	}
	entry := `icmp     1 (29|30) src=198\.18\.5\.2 dst=198\.18\.6\.2 type=8 code=0 id=(\d+) src=198\.18\.6\.2 dst=198\.18\.5\.2 type=0 code=0 id=(\d+) mark=0 use=1\n`
	want := []struct {
		rc       int
		out, err string // regular expressions
	}{
		{0, `^$`, `^$`},
		{0, `^$`, `^$`},
		{0, `^0\n$`, `^$`},
		{0, ``, `^$`},
		{0, `^` + entry + `$`, `^conntrack v1\.4\.7 \(conntrack-tools\): 1 flow entries have been shown\.\n$`},
		{0, `^1\n$`, `^$`},
		{0, `^` + entry + `$`, `^conntrack v1\.4\.7 \(conntrack-tools\): 1 flow entries have been deleted\.\n$`},
		{0, `^0\n$`, `^$`},
		{1, `^$`, `nope`},
		{0, `(?m)^\*filter\n:INPUT ACCEPT \[0:0\]\n:FORWARD ACCEPT \[0:0\]\n:OUTPUT ACCEPT \[0:0\]\n\[1:84\] -A FORWARD -p icmp -m icmp --icmp-type 8 -j LOG --log-prefix "fwd: "\n\[2:168\] -A FORWARD -p icmp -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT\nCOMMIT\n`, `^$`},
		{0, `^Chain FORWARD \(policy ACCEPT 0 packets, 0 bytes\)\n +pkts +bytes target +prot opt in +out +source +destination +\n +1 +84 LOG +1 +-- +\* +\* +0\.0\.0\.0/0 +0\.0\.0\.0/0 +icmptype 8 LOG flags 0 level 4 prefix "fwd: "\n +2 +168 ACCEPT +1 +-- +\* +\* +0\.0\.0\.0/0 +0\.0\.0\.0/0 +ctstate NEW,ESTABLISHED\n$`, `^$`},
		{2, `^$`, `^iptables v1\.8\.9 \(legacy\): Couldn't load target ` + "`NOPE'" + `:No such file or directory\n\nTry ` + "`iptables -h' or 'iptables --help' for more information.\n$"},
		{0, `^fwd: IN=vnic0 OUT=vnic1 MAC=[0-9a-f:]+ SRC=198\.18\.5\.2 DST=198\.18\.6\.2 LEN=84 TOS=0x00 PREC=0x00 TTL=63 ID=\d+ DF PROTO=ICMP TYPE=8 CODE=0 ID=\d+ SEQ=1 \n$`, `^$`},
	}
	for i, w := range want {
		r := results[i]
		if r.rc != w.rc || (w.out != "" && !regexp.MustCompile(w.out).MatchString(r.out)) || !regexp.MustCompile(w.err).MatchString(r.errOut) {
			t.Errorf("command %d: rc %d out %q err %q, want %d %q %q", i, r.rc, r.out, r.errOut, w.rc, w.out, w.err)
		}
	}
	if m := regexp.MustCompile(entry).FindStringSubmatch(results[4].out); m != nil && m[2] != m[3] {
		t.Errorf("the echo's id differs between the tuples: %s", strings.TrimSpace(results[4].out))
	}
}
