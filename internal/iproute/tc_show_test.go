package iproute

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	mnl "github.com/mdlayher/netlink"

	"vnic/internal/stacktest"
	"vnic/stack"
	"vnic/stack/rtnetlink"
)

// What vnic's host dumps for a range of qdiscs, printed by iproute2 6.1's
// tc: testdata/tc/capture_show.sh writes the messages (VNIC_TC_DUMP=FILE
// makes this test write them), runs `tc monitor file` and `tc -s monitor
// file` over them in a scratch namespace and keeps the output in
// show.json. The test makes the same messages again (they must not have
// changed) and holds vnic's printer to tc's output.

// tcShowNetem are the netem configurations, as tc sets them.
var tcShowNetem = []string{
	"",
	"delay 10ms",
	"delay 10ms 1ms",
	"delay 10ms 1ms 25%",
	"delay 100ms 10ms 0.5% distribution normal",
	"delay 1us",
	"delay 1.5ms 250us",
	"delay 2s 100ms",
	"delay 274s",
	"delay 0.0001ms",
	"loss 1%",
	"loss 0.1% 25%",
	"loss 100%",
	"loss 33.3333%",
	"loss 0.0001%",
	"loss state 1%",
	"loss state 1% 10% 20% 30% 40%",
	"loss gemodel 1%",
	"loss gemodel 1% 10% 70% 0.1%",
	"loss 1% ecn",
	"duplicate 2%",
	"duplicate 2% 10% delay 1ms 1ms 5%",
	"corrupt 0.1%",
	"corrupt 0.1% 25%",
	"delay 10ms reorder 25%",
	"delay 10ms reorder 25% 50% gap 5",
	"delay 10ms reorder 100% gap 3",
	"rate 1mbit",
	"rate 1.5mbit",
	"rate 100kbit 20",
	"rate 10gbit -20 100 5",
	"rate 34gbit",
	"rate 1000",
	"rate 1KiBps",
	"limit 100",
	"limit 4294967295",
	"limit 0",
	"slot 800us",
	"slot 800us 1ms packets 8 bytes 2k",
	"slot 1s 2s",
	"slot distribution normal 1ms 100us packets 4",
	"delay 20ms 2ms 25% loss 1% 30% duplicate 2% 10% reorder 25% 50% gap 5 corrupt 0.1% rate 1mbit",
	"limit 500 delay 100ms 10ms distribution normal loss state 1% 10% duplicate 1% corrupt 1% 5% rate 10mbit 14 slot 1ms 2ms packets 4 ecn",
}

// tcShowInputs builds the messages: lo (ifindex 1) under each netem, then
// with traffic held and dropped, then the default qdiscs of a one-queue
// and a four-queue device with traffic through them.
func tcShowInputs(t *testing.T) []mnl.Message {
	h := tcHost(t)
	lo, err := h.Device("lo")
	if err != nil {
		t.Fatal(err)
	}
	tc := func(line string) {
		t.Helper()
		var e bytes.Buffer
		if rc := RunTC(strings.Fields(line), Options{T: hostTransport{h}, Stderr: &e}); rc != 0 {
			t.Fatalf("tc %s: %d %s", line, rc, e.String())
		}
	}
	dump := func(d *stack.NetDevice) []mnl.Message {
		t.Helper()
		ms, err := hostTransport{h}.Route(rtnetlink.RTMGetQdisc, mnl.Dump, rtnetlink.QdiscMsg{}.Marshal())
		if err != nil {
			t.Fatal(err)
		}
		var out []mnl.Message
		for _, m := range ms {
			var q rtnetlink.QdiscMsg
			if q.Unmarshal(m.Data) == nil && int(q.Ifindex) == d.Ifindex() {
				out = append(out, m)
			}
		}
		return out
	}
	send := func(d *stack.NetDevice, n, size int) {
		for range n {
			s := h.Pool().Alloc(size + stack.NetIPAlign)
			s.Reserve(stack.NetIPAlign)
			f := s.Put(size)
			clear(f)
			binary.BigEndian.PutUint16(f[12:], 0x88b5) // local experimental: nobody takes it
			s.Dev = d
			stack.DevQueueXmit(s)
		}
	}
	var ms []mnl.Message
	ms = append(ms, dump(lo)...) // noqueue
	for _, args := range tcShowNetem {
		tc("qdisc replace dev lo root netem " + args)
		ms = append(ms, dump(lo)...)
	}
	// Held: 3 of 100 bytes, then 1000 of 1024 (1000Kb), then 1100 of
	// 1000 and more (over a megabyte).
	tc("qdisc replace dev lo root netem delay 1s limit 5000")
	for _, n := range [][2]int{{3, 100}, {1000, 1024}, {100, 1000}, {1, 14}} {
		send(lo, n[0], n[1])
		ms = append(ms, dump(lo)...)
	}
	tc("qdisc replace dev lo root netem loss 50% limit 10")
	send(lo, 100, 60)
	ms = append(ms, dump(lo)...)
	tc("qdisc del dev lo root")

	one, _ := stacktest.NewDev(t, h, 1)
	four, _ := stacktest.NewDev(t, h, 4)
	for _, d := range []*stack.NetDevice{one, four} {
		if err := d.Open(); err != nil {
			t.Fatal(err)
		}
		d.CarrierOn()
		send(d, 5, 1500)
		ms = append(ms, dump(d)...)
	}
	tc("qdisc add dev " + four.Name() + " root netem delay 5ms")
	ms = append(ms, dump(four)...)
	return ms
}

// nlStream is the messages as rtnl_from_file reads them.
func nlStream(ms []mnl.Message) []byte {
	var b []byte
	for i, m := range ms {
		h := make([]byte, 16)
		binary.NativeEndian.PutUint32(h, uint32(16+len(m.Data)))
		binary.NativeEndian.PutUint16(h[4:], uint16(m.Header.Type))
		binary.NativeEndian.PutUint32(h[8:], uint32(i+1))
		b = append(b, h...)
		b = append(b, m.Data...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	return b
}

// tcFileTransport answers the printer's link dump with lo alone (tc in
// the capture's namespace knew only lo: the others print as ifN).
type tcFileTransport struct{ ms []mnl.Message }

func (m tcFileTransport) Route(typ uint16, flags mnl.HeaderFlags, body []byte) ([]mnl.Message, error) {
	if typ == rtnetlink.RTMGetLink {
		lo := rtnetlink.LinkMsg{Index: 1, Name: "lo"}
		return []mnl.Message{{Header: mnl.Header{Type: rtnetlink.RTMNewLink}, Data: lo.Marshal()}}, nil
	}
	return m.ms, nil
}

func (tcFileTransport) ReceiveRoute(time.Duration) ([]mnl.Message, error) { return nil, nil }

func TestTCShowAgainstIproute2(t *testing.T) {
	ms := tcShowInputs(t)
	stream := nlStream(ms)
	if p := os.Getenv("VNIC_TC_DUMP"); p != "" {
		if err := os.WriteFile(p, stream, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile("testdata/tc/show.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Input, Text, Stats string
	}
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(stream); got != golden.Input {
		t.Fatalf("the dumps changed: capture show.json again (capture_show.sh)")
	}
	for _, c := range []struct {
		args []string
		want string
	}{{[]string{"qdisc", "show"}, golden.Text}, {[]string{"-s", "qdisc", "show"}, golden.Stats}} {
		var o, e bytes.Buffer
		if rc := RunTC(c.args, Options{T: tcFileTransport{ms}, Stdout: &o, Stderr: &e}); rc != 0 {
			t.Fatalf("tc %v: %d %s", c.args, rc, e.String())
		}
		if o.String() != c.want {
			gl, wl := strings.Split(o.String(), "\n"), strings.Split(c.want, "\n")
			for i := range max(len(gl), len(wl)) {
				var g, w string
				if i < len(gl) {
					g = gl[i]
				}
				if i < len(wl) {
					w = wl[i]
				}
				if g != w {
					t.Errorf("tc %v line %d:\n got %q\nwant %q", c.args, i+1, g, w)
				}
			}
		}
	}
}
