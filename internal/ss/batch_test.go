package ss

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A listing past five MiB of buffer is rendered in batches, each with
// its own widths, where ss renders them: the installed ss over a large
// dump prints what the printer prints.
func TestLargeDumpBatches(t *testing.T) {
	path, err := exec.LookPath("ss")
	if err != nil {
		t.Skip("no ss on this machine")
	}
	if v, _ := exec.Command(path, "-V").Output(); !strings.Contains(string(v), "iproute2-6.1.0") {
		t.Skip("ss is not iproute2-6.1.0's")
	}
	if testing.Short() {
		t.Skip("a large dump")
	}
	var replies [][]byte
	for k := 0; k < 40000; k++ {
		// The addresses and the -i line grow along the dump, so that
		// each batch's widths differ.
		src := netip.AddrFrom4([4]byte{198, 18, byte(k >> 8 % 200), byte(k)})
		if k < 9000 {
			src = netip.AddrFrom4([4]byte{10, 0, 0, byte(k % 10)})
		}
		i := TCPInfo{State: StateEstablished, RTT: uint32(k), SndMSS: 1448, SndCwnd: uint32(k % 97), Reordering: 3,
			BytesAcked: uint64(k) * uint64(k) * 1000, SegsOut: uint32(k), RcvSpace: uint32(k * 7)}
		m := Msg{Family: AFInet, State: StateEstablished, Timer: uint8(k % 5), Expires: uint32(k * 37),
			ID: SockID{SPort: uint16(k), DPort: 443, Src: src, Dst: netip.MustParseAddr("198.19.0.1")}, RQueue: uint32(k * k)}
		b := AppendAttr(m.Append(nil), AttrInfo, i.Marshal())
		replies = append(replies, AppendAttr(b, AttrCong, []byte("cubic\x00")))
	}
	f := filepath.Join(t.TempDir(), "large.diag")
	if err := os.WriteFile(f, diagFile(replies), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, "-tanio")
	cmd.Env = append(os.Environ(), "TCPDIAG_FILE="+f)
	want, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < 6<<20 {
		t.Fatalf("ss printed %d bytes: not past one batch", len(want))
	}
	o, _ := ParseArgs([]string{"-tanio"})
	var got bytes.Buffer
	if err := Print(&got, o, Env{}, replies); err != nil {
		t.Fatal(err)
	}
	if d := lineDiff(got.String(), string(want)); d != "" {
		t.Errorf("%s", d)
	}
}
