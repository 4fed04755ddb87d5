//go:build linux

package test

import (
	"reflect"
	"testing"
)

// The pairing of a route get batch's outputs with its queries, on output
// captured from iproute2 6.1 on Linux 6.18 (ip -d -j -force -batch: the
// decisions on stdout in order, each failure's message then "Command
// failed FILE:N" on stderr).
func TestBatchAnswers(t *testing.T) {
	stdout := `[{"type":"unicast","dst":"10.1.1.1","gateway":"198.18.0.2","dev":"d0","table":"main","prefsrc":"198.18.0.1","flags":[],"uid":0,"cache":[]}]
[{"type":"unicast","dst":"24.1.1.1","from":"198.18.1.1","gateway":"198.18.1.2","dev":"d1","table":"100","flags":[],"uid":0,"cache":[]}]
[{"type":"local","dst":"0.0.0.0","dev":"lo","prefsrc":"127.0.0.1","flags":[],"uid":0,"cache":["local"]}]
`
	stderr := `RTNETLINK answers: No route to host
Command failed /tmp/q:1
Error: Unsupported ip proto.
Command failed /tmp/q:3
`
	want := []answer{
		{Err: "RTNETLINK answers: No route to host"},
		{Type: "unicast", Table: "main", Dev: "d0", Gateway: "198.18.0.2", Src: "198.18.0.1"},
		{Err: "Error: Unsupported ip proto."},
		{Type: "unicast", Table: "100", Dev: "d1", Gateway: "198.18.1.2", From: "198.18.1.1"},
		{Type: "local", Dev: "lo", Src: "127.0.0.1"},
	}
	got, err := batchAnswers(stdout, stderr, len(want))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	for _, c := range []struct {
		name, stdout, stderr string
		n                    int
	}{
		{"answers missing", stdout, stderr, 6},
		{"answers left over", stdout, stderr, 4},
		{"a failure without a message", "", "Command failed /tmp/q:1\n", 1},
		{"a message without a failure", "", "RTNETLINK answers: No route to host\n", 1},
		{"a line failing twice", "", "a\nCommand failed f:1\nb\nCommand failed f:1\n", 1},
	} {
		if _, err := batchAnswers(c.stdout, c.stderr, c.n); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

// A listing's routes by prefix, a multipath route's paths kept with it.
func TestRouteDumpCovering(t *testing.T) {
	d := parseRouteDump(`unicast default via 198.18.1.6 dev d1 table 100 proto boot scope global 
unicast 10.0.0.0/8 via 198.18.0.3 dev d0 table main proto boot scope global 
unicast 10.9.0.0/16 table main proto boot scope global 
	nexthop via 198.18.0.2 dev d0 weight 1 
	nexthop via 198.18.1.2 dev d1 weight 1 
local 10.9.0.1 dev lo table local proto boot scope host 
unicast 11.0.0.0/8 via 198.18.0.3 dev d0 table main proto boot scope global 
`)
	want := `unicast default via 198.18.1.6 dev d1 table 100 proto boot scope global 
unicast 10.0.0.0/8 via 198.18.0.3 dev d0 table main proto boot scope global 
unicast 10.9.0.0/16 table main proto boot scope global 
	nexthop via 198.18.0.2 dev d0 weight 1 
	nexthop via 198.18.1.2 dev d1 weight 1 
local 10.9.0.1 dev lo table local proto boot scope host 
`
	if got := d.covering("10.9.0.1"); got != want {
		t.Errorf("covering 10.9.0.1:\n%s\nwant:\n%s", got, want)
	}
	if got := d.covering("12.0.0.1"); got != "unicast default via 198.18.1.6 dev d1 table 100 proto boot scope global \n" {
		t.Errorf("covering 12.0.0.1: %q", got)
	}
}
