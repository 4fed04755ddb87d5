package packetdrill

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// oracleDir holds the packetdrill scripts vnic runs, beside the checkout
// (../shared/oracles/packetdrill from the repository's root); they are
// read there, never copied in.
const oracleDir = "../../../shared/oracles/packetdrill"

func oracleScripts(t *testing.T) map[string]*Script {
	t.Helper()
	if _, err := os.Stat(oracleDir); err != nil {
		t.Skipf("no oracle scripts: %v", err)
	}
	scripts := map[string]*Script{}
	err := filepath.WalkDir(oracleDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".pkt") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(oracleDir, path)
		s, err := Parse(rel, src)
		if err != nil {
			t.Errorf("%v", err)
			return nil
		}
		checkRoundTrip(t, rel, src)
		scripts[filepath.ToSlash(rel)] = s
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return scripts
}

// Every oracle script parses and prints back.
func TestOracleScripts(t *testing.T) {
	scripts := oracleScripts(t)
	if len(scripts) != 23 {
		t.Errorf("%d scripts, want 23", len(scripts))
	}
}

func TestOracleFacts(t *testing.T) {
	scripts := oracleScripts(t)
	get := func(name string) *Script {
		s := scripts[name]
		if s == nil {
			t.Fatalf("%s missing", name)
		}
		return s
	}

	c := get("tcp_basic_client.pkt")
	if c.Init == nil || c.Init.Text != "./defaults.sh" || c.Cleanup != nil || len(c.Options) != 0 || len(c.Events) != 12 {
		t.Errorf("tcp_basic_client: init %v cleanup %v options %v, %d events", c.Init, c.Cleanup, c.Options, len(c.Events))
	}
	if ev := c.Events[0]; ev.Pos != (Pos{8, 5}) || ev.Time != (Time{Kind: AbsoluteTime}) || ev.Action.(*Syscall).Result.(*Int).Value != 4 {
		t.Errorf("tcp_basic_client event 1: %v at %v", ev, ev.Pos)
	}
	if sc := c.Events[1].Action.(*Syscall); sc.Name != "connect" || !sc.Blocking || sc.End != 0 || !sc.EndIsRelative {
		t.Errorf("tcp_basic_client event 2: %+v", sc)
	}
	third := c.Events[2]
	pk := third.Action.(*Packet)
	wantOpts := []TCPOption{{Kind: OptMSS, MSS: 1460}, {Kind: OptSACKPerm}, {Kind: OptTimestamp, TSVal: 0, TSEcr: 0},
		{Kind: OptNOP}, {Kind: OptWScale, WScale: 8}}
	if third.Pos.Line != 12 || pk.Direction != Outbound || pk.TCP.Flags != "S" || pk.TCP.HasAck || pk.TCP.HasWin ||
		!reflect.DeepEqual(pk.TCP.Options, wantOpts) {
		t.Errorf("tcp_basic_client event 3 (line %d): %v", third.Pos.Line, pk)
	}
	if pk := c.Events[3].Action.(*Packet); pk.Direction != Inbound || pk.TCP.Win != 65535 || pk.TCP.Ack != 1 {
		t.Errorf("tcp_basic_client event 4: %v", pk)
	}

	w := get("gtests/blocking/blocking-write.pkt")
	if len(w.Options) != 1 || w.Options[0] != (Option{Pos: Pos{2, 1}, Name: "tolerance_usecs", Value: "10000", HasValue: true}) {
		t.Errorf("blocking-write options %+v", w.Options)
	}
	if w.Init == nil || w.Init.Text != "../common/defaults.sh\n ../common/set_sysctls.py /proc/sys/net/ipv4/tcp_min_tso_segs=10\n" {
		t.Errorf("blocking-write init %q", w.Init)
	}
	if w.Cleanup == nil || w.Cleanup.Text != "/tmp/sysctl_restore_${PPID}.sh" || w.Cleanup.Pos != (Pos{34, 1}) {
		t.Errorf("blocking-write cleanup %+v", w.Cleanup)
	}
	if ev := w.Events[10]; ev.Pos != (Pos{24, 4}) || ev.Action.(*Syscall).Name != "write" || ev.Action.(*Syscall).End != 300000 {
		t.Errorf("blocking-write write: %v at %v", ev, ev.Pos)
	}
	if sc := w.Events[9].Action.(*Syscall); sc.Args[3].String() != "[42000]" || sc.Args[4].String() != "[4]" {
		t.Errorf("blocking-write getsockopt %v", sc)
	}

	r := get("gtests/blocking/blocking-read.pkt")
	if sc := r.Events[11].Action.(*Syscall); r.Events[11].Time.Usecs != 100000 || sc.End != 200000 || !sc.EndIsRelative {
		t.Errorf("blocking-read +.1...0.200: %v", r.Events[11])
	}

	d := get("tcp_defer_accept_timeout.pkt")
	ev := d.Events[12]
	if ev.Time != (Time{Kind: RelativeRange, Usecs: 350000, EndUsecs: 2350000}) || !ev.Action.(*Packet).TCP.AnyOptions {
		t.Errorf("tcp_defer_accept_timeout range: %v", ev)
	}
	if sc := d.Events[8].Action.(*Syscall); sc.Errno != "EWOULDBLOCK" || sc.Strerror != "operation would block" {
		t.Errorf("tcp_defer_accept_timeout accept: %+v", sc)
	}
	if sc := d.Events[2].Action.(*Syscall); sc.Args[2].String() != "O_RDWR|O_NONBLOCK" {
		t.Errorf("fcntl %v", sc)
	}

	s := get("gtests/close/close-on-syn-sent.pkt")
	if sc := s.Events[2].Action.(*Syscall); sc.Errno != "EINPROGRESS" || sc.Strerror != "Operation now in progress" || sc.Result.(*Int).Value != -1 {
		t.Errorf("close-on-syn-sent connect: %+v", sc)
	}
	q := get("gtests/shutdown/shutdown-rdwr-write-queue-close.pkt")
	var ranges int
	for _, ev := range q.Events {
		if ev.Time.Kind == RelativeRange {
			ranges++
			if ev.Time.Usecs != 10000 || ev.Time.EndUsecs != 15000 || ev.Pos != (Pos{36, 2}) {
				t.Errorf("shutdown-rdwr-write-queue-close range %v at %v", ev.Time, ev.Pos)
			}
		}
	}
	if ranges != 1 {
		t.Errorf("%d ranges", ranges)
	}
	if len(get("sanity_test.pkt").Events) != 1 {
		t.Errorf("sanity_test events")
	}
}
