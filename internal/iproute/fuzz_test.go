package iproute

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzRun runs arbitrary command lines against the fake host: no panic,
// and the exit code is one of ip's.
func FuzzRun(f *testing.F) {
	for _, s := range []string{
		"addr", "-j -p addr show dev vnic0", "-br -0 addr", "-o link", "route show table all dev vnic0",
		"route show root 198.18.0.0/16 proto kernel scope link type unicast via 198.18.5.7", "-d -j route get 198.18.9.7",
		"route get 198.18.9.7 from 198.18.5.1 iif vnic0", "-s route flush table 100", "-s addr flush dev vnic0 scope global",
		"-l 1 neigh flush all nud all", "neigh show to 198.18.5.0/24 nud stale", "route add 198.18.9.0/24 via 198.18.5.7 metric 10",
		"addr add 198.18.5.9/24 brd + dev vnic0", "link set dev vnic0 down mtu 1400", "neigh replace 198.18.5.5 lladdr 02:00:00:00:00:05 dev vnic0",
		"-6 route", "-f inet6 addr", "-netns h1 monitor", "-x", "--json", "-c=never -h -iec -N -rc 1 link", "help", "route help",
	} {
		f.Add(s)
	}
	stop := make(chan struct{})
	close(stop)
	f.Fuzz(func(t *testing.T, line string) {
		var out, errb bytes.Buffer
		code := Run(strings.Fields(line), Options{T: world(), Stdout: &out, Stderr: &errb, Stop: stop, Count: 1})
		switch code {
		case 0, 1, 2, 255:
		default:
			t.Fatalf("%q: exit %d", line, code)
		}
		if code != 0 && errb.Len() == 0 && !strings.Contains(line, "-l") {
			t.Fatalf("%q: exit %d without a word", line, code)
		}
	})
}
