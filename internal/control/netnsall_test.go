package control

import (
	"bytes"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	mnl "github.com/mdlayher/netlink"

	"vnic/internal/iproute"
	"vnic/internal/netns"
)

// ip -all netns exec CMD… and ip -all netns delete, as iproute2 6.1's
// netns_foreach runs them over every namespace (in ip netns list's
// order, the newest first as readdir of /run/netns on a tmpfs gives them): exec prints "\nnetns: NAME\n" before each run and exits 0
// whatever the commands' statuses, except 1 at once for a command a
// signal ended; a command that cannot start is reported and the walk goes
// on. delete removes every host; with none there is nothing to do.
func TestIPAllNetns(t *testing.T) {
	type run struct {
		host string
		argv string
	}
	for _, tc := range []struct {
		name     string
		hosts    []string
		line     string
		exec     func(host string) (int, bool, error) // the fake's answer
		out, err string
		code     int
		runs     []run
		left     string // ip netns list afterwards
	}{
		{name: "exec in each", hosts: []string{"a", "b", "c"}, line: "-all netns exec ip link show",
			out: "\nnetns: c\n\nnetns: b\n\nnetns: a\n", runs: []run{{"c", "ip link show"}, {"b", "ip link show"}, {"a", "ip link show"}}, left: "c\nb\na\n"},
		{name: "statuses are not looked at", hosts: []string{"a", "b"}, line: "-all netns exec false",
			exec: func(string) (int, bool, error) { return 3, false, nil },
			out:  "\nnetns: b\n\nnetns: a\n", runs: []run{{"b", "false"}, {"a", "false"}}, left: "b\na\n"},
		{name: "a signal ends it", hosts: []string{"a", "b", "c"}, line: "-all netns exec sleep 9",
			exec: func(h string) (int, bool, error) { return -1, h == "b", nil },
			out:  "\nnetns: c\n\nnetns: b\n", code: 1, runs: []run{{"c", "sleep 9"}, {"b", "sleep 9"}}, left: "c\nb\na\n"},
		{name: "a command that cannot start", hosts: []string{"a", "b"}, line: "-all netns exec nosuchcmd x",
			exec: func(string) (int, bool, error) {
				return 0, false, &exec.Error{Name: "nosuchcmd", Err: exec.ErrNotFound}
			},
			out: "\nnetns: b\n\nnetns: a\n", err: "exec of \"nosuchcmd\" failed: No such file or directory\nexec of \"nosuchcmd\" failed: No such file or directory\n",
			runs: []run{{"b", "nosuchcmd x"}, {"a", "nosuchcmd x"}}, left: "b\na\n"},
		{name: "no command", hosts: []string{"a"}, line: "-all netns exec", err: "No command specified\n", code: 1, left: "a\n"},
		{name: "no hosts", line: "-all netns exec true", code: 0},
		{name: "a name is a command", hosts: []string{"a"}, line: "-all netns exec a true", out: "\nnetns: a\n", runs: []run{{"a", "a true"}}, left: "a\n"},
		{name: "delete all", hosts: []string{"a", "b", "c"}, line: "-all netns delete", left: ""},
		{name: "delete all, a name ignored", hosts: []string{"a", "b"}, line: "-all netns del a", left: ""},
		{name: "delete all, none", line: "-all netns delete", left: ""},
		{name: "-all is ignored by list", hosts: []string{"a"}, line: "-all netns list", out: "a\n", left: "a\n"},
		{name: "delete one still one", hosts: []string{"a", "b"}, line: "netns delete a", left: "b\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, c, path := emptyWorld(t)
			for _, h := range tc.hosts {
				setUp(t, w, c, path, "netns add "+h)
			}
			var runs []run
			fake := func(host string, argv []string) (int, bool, error) {
				runs = append(runs, run{host, strings.Join(argv, " ")})
				if tc.exec != nil {
					return tc.exec(host)
				}
				return 0, false, nil
			}
			var out, errb bytes.Buffer
			code := iproute.Run(strings.Fields(tc.line), iproute.Options{T: c, Stdout: &out, Stderr: &errb, Exec: fake})
			if out.String() != tc.out || errb.String() != tc.err || code != tc.code {
				t.Errorf("ip %s:\n got %q %q exit %d\nwant %q %q exit %d", tc.line, out.String(), errb.String(), code, tc.out, tc.err, tc.code)
			}
			if len(runs) != len(tc.runs) {
				t.Fatalf("ran %v, want %v", runs, tc.runs)
			}
			for i := range runs {
				if runs[i] != tc.runs[i] {
					t.Fatalf("ran %v, want %v", runs, tc.runs)
				}
			}
			if got, _, _ := ipn(t, c, path, "netns list"); got != tc.left {
				t.Errorf("netns list afterwards %q, want %q", got, tc.left)
			}
			if n := len(w.HostList()); n != strings.Count(tc.left, "\n") {
				t.Errorf("%d hosts in the world, want %d", n, strings.Count(tc.left, "\n"))
			}
		})
	}
}

// refusingNS is a namespace client that cannot delete one host (EBUSY).
type refusingNS struct {
	netns.Client
	refuse string
}

func (r refusingNS) Request(family string, cmd uint8, flags mnl.HeaderFlags, body []byte) ([][]byte, error) {
	if cmd == netns.CmdDel {
		ad, err := mnl.NewAttributeDecoder(body)
		for err == nil && ad.Next() {
			if ad.Type() == netns.AttrName && ad.String() == r.refuse {
				return nil, syscall.EBUSY
			}
		}
	}
	return r.Client.Request(family, cmd, flags, body)
}

// ip -all netns delete stops at the first host it cannot remove, says
// so, and exits 0 (netns_foreach ignores its callback's failure).
func TestIPAllNetnsDelStops(t *testing.T) {
	w, c, path := emptyWorld(t)
	setUp(t, w, c, path, "netns add a", "netns add b", "netns add c")
	var out, errb bytes.Buffer
	nc := refusingNS{Client: c, refuse: "b"}
	code := iproute.Run([]string{"-all", "netns", "delete"}, iproute.Options{T: c, Stdout: &out, Stderr: &errb,
		Namespaces: func() (netns.Client, error) { return nc, nil }})
	if code != 0 || out.String() != "" || errb.String() != "Cannot remove namespace file \"/run/netns/b\": Device or resource busy\n" {
		t.Errorf("got %q %q exit %d", out.String(), errb.String(), code)
	}
	if got, _, _ := ipn(t, c, path, "netns list"); got != "b\na\n" {
		t.Errorf("left %q, want b and a (c went first)", got)
	}
}
