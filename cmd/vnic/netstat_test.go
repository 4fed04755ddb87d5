package main

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"vnic/stack/inet"
)

// TestNetstatAsNetTools: FormatNetstat against net-tools 2.10's netstat
// -s run on the same counters. testdata/netstat/gen.py writes
// /proc/net/snmp and /proc/net/netstat holding vnic's keys (every one set,
// none, some); netstat -s read them in a mount namespace with a tmpfs on
// /proc; counters-* are the same values by nstat's names.
func TestNetstatAsNetTools(t *testing.T) {
	for _, m := range []string{"all", "zero", "some"} {
		raw, err := os.ReadFile("testdata/netstat/counters-" + m)
		if err != nil {
			t.Fatal(err)
		}
		var cs []inet.Counter
		for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			name, val, _ := strings.Cut(l, " ")
			n, err := strconv.ParseUint(val, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			cs = append(cs, inet.Counter{Name: name, Value: n})
		}
		want, err := os.ReadFile("testdata/netstat/netstat-" + m + ".out")
		if err != nil {
			t.Fatal(err)
		}
		if got := FormatNetstat(cs); got != string(want) {
			t.Errorf("%s:\n%s\nwant\n%s", m, got, want)
		}
	}
}

// TestNstatJSON: --json is nstat's object, in the counters' order.
func TestNstatJSON(t *testing.T) {
	got := NstatJSON([]inet.Counter{{Name: "IpInReceives", Value: 3}, {Name: "IcmpInMsgs", Value: 0}})
	if want := `{"kernel":{"IpInReceives":3,"IcmpInMsgs":0}}`; got != want {
		t.Errorf("%s, want %s", got, want)
	}
}
