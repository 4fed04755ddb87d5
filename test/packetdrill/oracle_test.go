package packetdrill

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// oracleDir is where the upstream scripts are, beside the checkout.
var oracleDir = filepath.Join("..", "..", "..", "shared", "oracles", "packetdrill")

// gvisorArgs are how gVisor's harness runs its scripts
// (test/packetdrill/packetdrill_test.sh): a 100 ms tolerance, and an
// init script setting the buffers (testdata/gvisor-setup.sh does the
// same).
var gvisorArgs = []string{"--tolerance_usecs=100000", "--init_scripts=testdata/gvisor-setup.sh"}

// oracles is every upstream script and what it does against vnic's TCP
// today: "pass", or "fail at line N: the first mismatch". The TCP works
// down the failures; a script that starts passing, or fails elsewhere,
// fails this test until the table says so.
var oracles = []struct {
	path   string
	gvisor bool // a gVisor script, run as gVisor's harness runs it
	want   string
}{
	{"accept_ack_drop.pkt", true, "pass"},
	{"fin_wait2_timeout.pkt", true, "fail at line 23: the FIN_WAIT2 timeout (TCP_LINGER2 1 s) sends R. 2:2(0) ack 1 at 1.2 s; Linux turns the orphan into a time-wait socket that dies silently, and the peer's ACK at 2.2 s meets R 2:2(0)"},
	{"listen_close_before_handshake_complete.pkt", true, "pass"},
	{"no_rst_to_rst.pkt", true, "pass"},
	{"reset_for_ack_when_no_syn_cookies_in_use.pkt", true, "pass"},
	{"sanity_test.pkt", true, "pass"},
	{"tcp_basic_client.pkt", false, "pass"},
	{"tcp_basic_server.pkt", false, "pass"},
	{"tcp_defer_accept.pkt", true, "pass"},
	{"tcp_defer_accept_timeout.pkt", true, "pass"},
	{"gtests/blocking/blocking-accept.pkt", false, "pass"},
	{"gtests/blocking/blocking-connect.pkt", false, "pass"},
	{"gtests/blocking/blocking-read.pkt", false, "pass"},
	{"gtests/blocking/blocking-write.pkt", false, "fail at line 24: the write of 61000 never completes: after ack 10001 vnic sends 10001:20001 (10000 bytes) where Linux in slow start sends 20000, so ack 30001 acks data never sent and the queue never drains"},
	{"gtests/close/close-local-close-then-remote-fin.pkt", false, "pass"},
	{"gtests/close/close-on-syn-sent.pkt", false, "pass"},
	{"gtests/close/close-remote-fin-then-close.pkt", false, "fail at line 20: the ACK of the peer's FIN, the first segment after the handshake, leaves at 0.05 s, a 40 ms delayed ACK; the script wants it at once (0.01 s), as Linux sends it: its ato is still 0 before any data, so the delayed ACK fires at once"},
	{"gtests/shutdown/shutdown-rd-close.pkt", false, "pass"},
	{"gtests/shutdown/shutdown-rd-wr-close.pkt", false, "pass"},
	{"gtests/shutdown/shutdown-rdwr-close.pkt", false, "pass"},
	{"gtests/shutdown/shutdown-rdwr-send-queue-ack-close.pkt", false, "fail at line 22: the first 10000 bytes (the initial window) of a 20000-byte write go as . 1:10001(10000), without the PSH the script wants (P. 1:10001(10000))"},
	{"gtests/shutdown/shutdown-rdwr-write-queue-close.pkt", false, "pass"},
	{"gtests/shutdown/shutdown-wr-close.pkt", false, "pass"},
}

var failAt = regexp.MustCompile(`^fail at line (\d+): `)

// TestOracles runs every upstream script under ../shared/oracles and
// holds vnic's TCP to the table above.
func TestOracles(t *testing.T) {
	if _, err := os.Stat(oracleDir); err != nil {
		if os.Getenv("VNIC_REQUIRE_NETNS") == "1" {
			t.Fatalf("the oracle scripts are missing: %v", err)
		}
		t.Skipf("no oracle scripts beside the checkout (%v)", err)
	}
	listed := map[string]bool{}
	for _, o := range oracles {
		listed[o.path] = true
	}
	err := filepath.WalkDir(oracleDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".pkt") {
			rel, _ := filepath.Rel(oracleDir, p)
			if !listed[filepath.ToSlash(rel)] {
				t.Errorf("%s is not in the table: add it", rel)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range oracles {
		t.Run(o.path, func(t *testing.T) {
			cfg := Config{}
			if o.gvisor {
				cfg.Args = gvisorArgs
			}
			res := RunFile(filepath.Join(oracleDir, filepath.FromSlash(o.path)), cfg)
			m := failAt.FindStringSubmatch(o.want)
			switch {
			case o.want == "pass" && res.Err != nil:
				t.Errorf("marked pass, but: %s", res.Line())
			case m == nil && o.want != "pass":
				t.Errorf("bad table entry %q: want \"pass\" or \"fail at line N: why\"", o.want)
			case m != nil && res.Err == nil:
				t.Errorf("marked %q, but it passes: update the table", o.want)
			case m != nil:
				if f, ok := res.Err.(*Failure); !ok || strconv.Itoa(f.Line) != m[1] {
					t.Errorf("marked to fail at line %s, but: %s: update the table", m[1], res.Line())
				}
			}
		})
	}
}
