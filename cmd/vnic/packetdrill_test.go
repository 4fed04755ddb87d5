package main

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

// vnic packetdrill prints a line a script and exits 0 only when every
// script passed, 1 when one failed, 2 for a usage or parse error.
func TestPacketdrill(t *testing.T) {
	const dir = "../../test/packetdrill/testdata/"
	tests := []struct {
		args   []string
		out    string
		errOut string
		rc     int
	}{
		{[]string{dir + "server.pkt", dir + "client.pkt"},
			"ok   " + dir + "server.pkt\nok   " + dir + "client.pkt\n", "", 0},
		{[]string{dir + "server.pkt", dir + "fail/first.pkt"},
			"ok   " + dir + "server.pkt\nFAIL " + dir + "fail/first.pkt:2: first event should be at time 0\n", "", 1},
		{[]string{"-o", "tolerance_usecs=100000", dir + "fail/time.pkt"},
			"ok   " + dir + "fail/time.pkt\n", "", 0},
		{[]string{dir + "nested/fallback.pkt"},
			"ok   " + dir + "nested/fallback.pkt (note: ../common/defaults.sh not found; ran ../defaults.sh instead)\n", "", 0},
		{[]string{dir + "fail/first.pkt", dir + "absent.pkt"},
			"FAIL " + dir + "fail/first.pkt:2: first event should be at time 0\nFAIL packetdrill: open " + dir + "absent.pkt: no such file or directory\n", "", 2},
		{[]string{dir + "broken.pkt"},
			"FAIL " + dir + "broken.pkt:3:1: expected ',' or ')' in the arguments of socket, found end of file\n", "", 2},
		{[]string{}, "", "vnic packetdrill: no scripts given\nTry `vnic packetdrill --help' for more information.\n", 2},
		{[]string{"--no-such-flag", dir + "server.pkt"}, "",
			"vnic packetdrill: unknown flag: --no-such-flag\nTry `vnic packetdrill --help' for more information.\n", 2},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var errOut bytes.Buffer
			appErr = &errOut
			defer func() { appErr = os.Stderr }()
			out, err := run(t, append([]string{"packetdrill"}, tc.args...)...)
			rc := 0
			var ee exitError
			if errors.As(err, &ee) {
				rc = ee.code
			} else if err != nil {
				t.Fatal(err)
			}
			if out != tc.out || errOut.String() != tc.errOut || rc != tc.rc {
				t.Errorf("got %q %q %d\nwant %q %q %d", out, errOut.String(), rc, tc.out, tc.errOut, tc.rc)
			}
		})
	}
}

// --verbose logs the run before the script's line.
func TestPacketdrillVerbose(t *testing.T) {
	out, err := run(t, "packetdrill", "--verbose", "../../test/packetdrill/testdata/server.pkt")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"0.000000 line 6: 0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n",
		"0.050000 inject 192.0.2.1:40000 > 198.18.0.1:8080 S 0:0(0) win 65535 <mss 1000,nop,wscale 7>\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	if !strings.HasSuffix(out, "\nok   ../../test/packetdrill/testdata/server.pkt\n") {
		t.Errorf("the last line is not the result: %q", out[max(0, len(out)-200):])
	}
}
