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
	{"fin_wait2_timeout.pkt", true, "pass"},
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
	{"gtests/blocking/blocking-write.pkt", false, "pass"},
	{"gtests/close/close-local-close-then-remote-fin.pkt", false, "pass"},
	{"gtests/close/close-on-syn-sent.pkt", false, "pass"},
	{"gtests/close/close-remote-fin-then-close.pkt", false, "pass"},
	{"gtests/shutdown/shutdown-rd-close.pkt", false, "pass"},
	{"gtests/shutdown/shutdown-rd-wr-close.pkt", false, "pass"},
	{"gtests/shutdown/shutdown-rdwr-close.pkt", false, "pass"},
	{"gtests/shutdown/shutdown-rdwr-send-queue-ack-close.pkt", false, "pass"},
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
