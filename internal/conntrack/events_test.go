package conntrack

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// TestEvents: conntrack -E over the event family prints each event as
// conntrack prints the kernel's — [NEW] with the state the first packet
// made, [UPDATE] as replies and state changes come, [DESTROY] as -D
// takes the entries — and, interrupted, its count.
func TestEvents(t *testing.T) {
	const (
		udpNew     = "    [NEW] udp      17 30 src=198.18.5.2 dst=198.18.6.2 sport=5353 dport=53 [UNREPLIED] src=198.18.6.2 dst=198.18.5.2 sport=53 dport=5353"
		udpUpdate  = " [UPDATE] udp      17 30 src=198.18.5.2 dst=198.18.6.2 sport=5353 dport=53 src=198.18.6.2 dst=198.18.5.2 sport=53 dport=5353"
		tcpNew     = "    [NEW] tcp      6 120 SYN_SENT src=198.18.5.2 dst=198.18.6.2 sport=40000 dport=8080 [UNREPLIED] src=198.18.6.2 dst=198.18.5.2 sport=8080 dport=40000"
		tcpSynRecv = " [UPDATE] tcp      6 60 SYN_RECV src=198.18.5.2 dst=198.18.6.2 sport=40000 dport=8080 src=198.18.6.2 dst=198.18.5.2 sport=8080 dport=40000"
		tcpEst     = " [UPDATE] tcp      6 432000 ESTABLISHED src=198.18.5.2 dst=198.18.6.2 sport=40000 dport=8080 src=198.18.6.2 dst=198.18.5.2 sport=8080 dport=40000 [ASSURED]"
		udpDestroy = "[DESTROY] udp      17 29 src=198.18.5.2 dst=198.18.6.2 sport=5353 dport=53 src=198.18.6.2 dst=198.18.5.2 sport=53 dport=5353"
		tcpDestroy = "[DESTROY] tcp      6 431999 ESTABLISHED src=198.18.5.2 dst=198.18.6.2 sport=40000 dport=8080 src=198.18.6.2 dst=198.18.5.2 sport=8080 dport=40000 [ASSURED]"
		markUpdate = " [UPDATE] udp      17 29 src=198.18.5.2 dst=198.18.6.2 sport=5353 dport=53 src=198.18.6.2 dst=198.18.5.2 sport=53 dport=5353 mark=7"
		tcpMark    = " [UPDATE] tcp      6 431999 ESTABLISHED src=198.18.5.2 dst=198.18.6.2 sport=40000 dport=8080 src=198.18.6.2 dst=198.18.5.2 sport=8080 dport=40000 [ASSURED] mark=7"
	)
	cases := []struct {
		name string
		args []string
		want []string
	}{
		// The destroys come in the table's order, as -D walks it.
		{"all", nil, []string{udpNew, udpUpdate, tcpNew, tcpSynRecv, tcpEst, udpDestroy, tcpDestroy}},
		{"new", []string{"-e", "NEW"}, []string{udpNew, tcpNew}},
		{"updates,destroy", []string{"-e", "UPDATES,DESTROY"}, []string{udpUpdate, tcpSynRecv, tcpEst, udpDestroy, tcpDestroy}},
		{"tcp", []string{"-p", "tcp"}, []string{tcpNew, tcpSynRecv, tcpEst, tcpDestroy}},
		{"state", []string{"-p", "tcp", "--state", "ESTABLISHED"}, []string{tcpEst, tcpDestroy}},
		{"dport", []string{"-p", "udp", "--dport", "53"}, []string{udpNew, udpUpdate, udpDestroy}},
		{"save", []string{"-o", "save", "-p", "udp"}, []string{
			"-A -t 30 -u UNSET -s 198.18.5.2 -d 198.18.6.2 -r 198.18.6.2 -q 198.18.5.2 -p udp --sport 5353 --dport 53 --reply-port-src 53 --reply-port-dst 5353",
			"-U -t 30 -u SEEN_REPLY -s 198.18.5.2 -d 198.18.6.2 -r 198.18.6.2 -q 198.18.5.2 -p udp --sport 5353 --dport 53 --reply-port-src 53 --reply-port-dst 5353",
			"-D -t 29 -u SEEN_REPLY -s 198.18.5.2 -d 198.18.6.2 -r 198.18.6.2 -q 198.18.5.2 -p udp --sport 5353 --dport 53 --reply-port-src 53 --reply-port-dst 5353"}},
		{"extended,id", []string{"-o", "extended,id", "-e", "NEW"}, []string{
			"    [NEW] ipv4     2 udp      17 30 src=198.18.5.2 dst=198.18.6.2 sport=5353 dport=53 [UNREPLIED] src=198.18.6.2 dst=198.18.5.2 sport=53 dport=5353 id=1",
			"    [NEW] ipv4     2 tcp      6 120 SYN_SENT src=198.18.5.2 dst=198.18.6.2 sport=40000 dport=8080 [UNREPLIED] src=198.18.6.2 dst=198.18.5.2 sport=8080 dport=40000 id=2"}},
		// -U's change is reported at once, as ctnetlink reports it: an
		// update with the mark (and the TCP state).
		{"mark", []string{"-m", "7"}, []string{markUpdate, tcpMark,
			strings.Replace(udpDestroy, "dport=5353", "dport=5353 mark=7", 1), strings.Replace(tcpDestroy, "[ASSURED]", "[ASSURED] mark=7", 1)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newRig(t)
			code, out, errs := g.events(tc.args, func() {
				g.udpFlow(5353, 53, true)
				g.tcpFlow(40000, 0)
				g.w.Run(100 * time.Millisecond)
				if tc.name == "mark" {
					if c, _, e := g.conntrack("-U", "-m", "7"); c != 0 {
						t.Fatal(e)
					}
				}
				if c, _, e := g.conntrack("-D"); c != 0 {
					t.Fatal(e)
				}
			}, func(out string) bool { return len(lines(out)) >= len(tc.want) })
			if code != 0 {
				t.Fatalf("status %d: %s", code, errs)
			}
			if got := lines(out); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if want := prefix + strconv.Itoa(len(tc.want)) + " flow events have been shown.\n"; errs != want {
				t.Fatalf("stderr %q, want %q", errs, want)
			}
		})
	}
}
