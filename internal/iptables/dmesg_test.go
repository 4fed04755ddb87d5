package iptables

import (
	"bytes"
	"strings"
	"testing"
	"time"

	ipt "vnic/stack/netfilter/iptables"
)

// dmesg prints the host's log as util-linux's dmesg prints the kernel's:
// the time of the host's clock, the raw level prefix, -x's facility and
// level, -l's filter; the options a vnic host cannot honour are refused.
func TestDmesg(t *testing.T) {
	h := newTestHost(t)
	log := ipt.Log(h)
	log.Printf(ipt.LogWarning, "IN=vnic0 OUT= SRC=198.18.0.1 DST=198.18.0.2 LEN=84 PROTO=ICMP")
	log.Printf(ipt.LogInfo, "second line")
	r := &runner{t: t, h: h}
	for _, tc := range []struct {
		args     []string
		out, err string
		rc       int
	}{
		{nil, "[    0.000000] IN=vnic0 OUT= SRC=198.18.0.1 DST=198.18.0.2 LEN=84 PROTO=ICMP\n[    0.000000] second line\n", "", 0},
		{[]string{"-t"}, "IN=vnic0 OUT= SRC=198.18.0.1 DST=198.18.0.2 LEN=84 PROTO=ICMP\nsecond line\n", "", 0},
		{[]string{"-r", "-l", "info"}, "<6>[    0.000000] second line\n", "", 0},
		{[]string{"-x", "-t", "--level=warn,err"}, "kern  :warn  : IN=vnic0 OUT= SRC=198.18.0.1 DST=198.18.0.2 LEN=84 PROTO=ICMP\n", "", 0},
		{[]string{"-l", "loud"}, "", "dmesg: unknown level 'loud'\nTry 'dmesg --help' for more information.\n", 1},
		{[]string{"-w"}, "", "dmesg: -w: not supported by vnic's dmesg (the host's log is read whole, with the host's clock)\nTry 'dmesg --help' for more information.\n", 1},
		{[]string{"--bogus"}, "", "dmesg: unrecognized option '--bogus'\nTry 'dmesg --help' for more information.\n", 1},
	} {
		out, errb, rc := r.run("dmesg", strings.Join(tc.args, " "), "")
		if out != tc.out || errb != tc.err || rc != tc.rc {
			t.Errorf("dmesg %q: rc %d\n%q\n%q\nwant %d\n%q\n%q", tc.args, rc, out, errb, tc.rc, tc.out, tc.err)
		}
	}
	// The time is the host clock's, to the microsecond.
	var b bytes.Buffer
	printDmesg(&b, []ipt.LogLine{{Time: 12*time.Second + 345678*time.Microsecond, Level: 4, Text: "x"}}, dmesgOpts{})
	if b.String() != "[   12.345678] x\n" {
		t.Errorf("time %q", b.String())
	}
}
