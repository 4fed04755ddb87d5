package rtnetlink_test

import (
	"bytes"
	"errors"
	"reflect"
	"syscall"
	"testing"
	"time"

	"vnic/internal/stacktest"
	"vnic/stack"
	"vnic/stack/netlink"
	"vnic/stack/rtnetlink"
)

// tcHost is a host with rtnetlink and one up device of ntx queues.
func tcHost(t *testing.T, ntx int) (*stack.Host, *stack.NetDevice) {
	t.Helper()
	_, h := stacktest.NewHost(t, 1)
	rtnetlink.Init(h)
	d, _ := stacktest.NewDev(t, h, ntx)
	if err := d.Open(); err != nil {
		t.Fatal(err)
	}
	d.CarrierOn()
	return h, d
}

// netemReq is a netem request for d as tc makes it.
func netemReq(d *stack.NetDevice, handle uint32, o rtnetlink.NetemOptions) []byte {
	m := rtnetlink.QdiscMsg{Ifindex: int32(d.Ifindex()), Parent: stack.TCHRoot, Handle: handle, Kind: "netem", Options: o.MarshalRequest()}
	return m.Marshal()
}

func extack(err error) string {
	var ne *netlink.Error
	if errors.As(err, &ne) {
		return ne.Msg
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// The qdisc requests in sequence, each answered as sch_api.c answers it
// (the words are the extended acks).
func TestQdiscRequests(t *testing.T) {
	h, d := tcHost(t, 1)
	const add, change, replace = rtnetlink.FlagCreate | rtnetlink.FlagExcl, 0, rtnetlink.FlagCreate | rtnetlink.FlagReplace
	delay := func(ms uint32) rtnetlink.NetemOptions {
		return rtnetlink.NetemOptions{Qopt: rtnetlink.NetemQopt{Limit: 1000, Latency: ms * 15625}}
	}
	root := func(kind string) []byte {
		return rtnetlink.QdiscMsg{Ifindex: int32(d.Ifindex()), Parent: stack.TCHRoot, Kind: kind}.Marshal()
	}
	steps := []struct {
		typ, flags uint16
		body       []byte
		errno      syscall.Errno
		msg        string
		kind       string // the root's kind after
		handle     uint32
		latency    time.Duration
	}{
		{rtnetlink.RTMNewQdisc, change, netemReq(d, 0, delay(1)), syscall.ENOENT, "Qdisc not found. To create specify NLM_F_CREATE flag", "pfifo_fast", 0, 0},
		{rtnetlink.RTMDelQdisc, 0, root(""), syscall.ENOENT, "Cannot delete qdisc with handle of zero", "pfifo_fast", 0, 0},
		{rtnetlink.RTMNewQdisc, add, root("tbf"), syscall.ENOENT, "Specified qdisc kind is unknown", "pfifo_fast", 0, 0},
		{rtnetlink.RTMNewQdisc, add, root("netem"), syscall.EINVAL, "", "pfifo_fast", 0, 0}, // netem_init without options
		{rtnetlink.RTMNewQdisc, add, netemReq(d, 0, delay(1)), 0, "", "netem", 0x80020000, time.Millisecond},
		{rtnetlink.RTMNewQdisc, add, netemReq(d, 0, delay(2)), syscall.EEXIST, "Exclusivity flag on, cannot modify", "netem", 0x80020000, time.Millisecond},
		{rtnetlink.RTMNewQdisc, change, netemReq(d, 0, delay(3)), 0, "", "netem", 0x80020000, 3 * time.Millisecond},
		{rtnetlink.RTMNewQdisc, replace, netemReq(d, 0, delay(4)), 0, "", "netem", 0x80020000, 4 * time.Millisecond},
		{rtnetlink.RTMNewQdisc, change, netemReq(d, 0x80020000, delay(5)), 0, "", "netem", 0x80020000, 5 * time.Millisecond},
		{rtnetlink.RTMNewQdisc, add, netemReq(d, 0x10000, delay(6)), syscall.EEXIST, "NLM_F_REPLACE needed to override", "netem", 0x80020000, 5 * time.Millisecond},
		{rtnetlink.RTMNewQdisc, replace, netemReq(d, 0x10001, delay(6)), syscall.EINVAL, "Invalid minor handle", "netem", 0x80020000, 5 * time.Millisecond},
		// replace with another handle makes a new qdisc in its place.
		{rtnetlink.RTMNewQdisc, replace, netemReq(d, 0x10000, delay(7)), 0, "", "netem", 0x10000, 7 * time.Millisecond},
		{rtnetlink.RTMDelQdisc, 0, rtnetlink.QdiscMsg{Ifindex: int32(d.Ifindex()), Parent: stack.TCHRoot, Kind: "tbf"}.Marshal(), syscall.EINVAL, "Invalid qdisc name: must match existing qdisc", "netem", 0x10000, 7 * time.Millisecond},
		{rtnetlink.RTMDelQdisc, 0, rtnetlink.QdiscMsg{Ifindex: int32(d.Ifindex()), Handle: 0x20000}.Marshal(), syscall.ENOENT, "Failed to find qdisc with specified handle", "netem", 0x10000, 7 * time.Millisecond},
		{rtnetlink.RTMDelQdisc, 0, rtnetlink.QdiscMsg{Ifindex: int32(d.Ifindex()), Handle: 0x10000}.Marshal(), syscall.EINVAL, "Classid cannot be zero", "netem", 0x10000, 7 * time.Millisecond},
		{rtnetlink.RTMNewQdisc, add, rtnetlink.QdiscMsg{Ifindex: int32(d.Ifindex()), Parent: 0x20000, Kind: "netem"}.Marshal(), syscall.ENOENT, "Failed to find specified qdisc", "netem", 0x10000, 7 * time.Millisecond},
		{rtnetlink.RTMNewQdisc, add, rtnetlink.QdiscMsg{Ifindex: int32(d.Ifindex()), Kind: "netem"}.Marshal(), syscall.EINVAL, "Handle cannot be zero", "netem", 0x10000, 7 * time.Millisecond},
		{rtnetlink.RTMNewQdisc, add, rtnetlink.QdiscMsg{Ifindex: 99, Parent: stack.TCHRoot, Kind: "netem"}.Marshal(), syscall.ENODEV, "", "netem", 0x10000, 7 * time.Millisecond},
		{rtnetlink.RTMDelQdisc, 0, root("netem"), 0, "", "pfifo_fast", 0, 0},
		// The next automatic handle is 8003: (the refused create took 8001:, as
		// qdisc_alloc_handle counts before netem_init refuses).
		{rtnetlink.RTMNewQdisc, replace, netemReq(d, 0, delay(8)), 0, "", "netem", 0x80030000, 8 * time.Millisecond},
	}
	for i, s := range steps {
		_, err := rtnetlink.Handle(h, rtnetlink.Request{Type: s.typ, Flags: s.flags, Body: s.body})
		var errno syscall.Errno
		if err != nil && !errors.As(err, &errno) {
			t.Fatalf("step %d: %v", i, err)
		}
		if errno != s.errno || extack(err) != s.msg && s.msg != "" || (s.msg == "" && err != nil && extack(err) != err.Error()) {
			t.Errorf("step %d: %v (%q), want %v %q", i, err, extack(err), s.errno, s.msg)
		}
		if d.QdiscKind() != s.kind {
			t.Errorf("step %d: root %s, want %s", i, d.QdiscKind(), s.kind)
		}
		if q := d.Qdisc(); q != nil {
			c, _ := q.Netem()
			if q.Handle() != s.handle || c.Latency != s.latency {
				t.Errorf("step %d: handle %#x latency %v, want %#x %v", i, q.Handle(), c.Latency, s.handle, s.latency)
			}
		}
	}
}

// netem_change keeps what a request does not name (a correlation, a
// rate, ECN), but the loss model is the random one unless named.
func TestNetemChangeKeeps(t *testing.T) {
	h, d := tcHost(t, 1)
	corr := rtnetlink.NetemCorr{Loss: 7}
	rate := rtnetlink.NetemRate{Rate: 125000}
	one := uint32(1)
	first := rtnetlink.NetemOptions{Qopt: rtnetlink.NetemQopt{Limit: 1000, Loss: 9}, Corr: &corr, Rate: &rate, ECN: &one,
		Loss: &rtnetlink.NetemLoss{GE: &stack.NetemGE{P: 1, R: 2}}}
	for _, o := range []rtnetlink.NetemOptions{first, {Qopt: rtnetlink.NetemQopt{Limit: 10, Latency: 15625}}} {
		if _, err := rtnetlink.Handle(h, rtnetlink.Request{Type: rtnetlink.RTMNewQdisc, Flags: rtnetlink.FlagCreate | rtnetlink.FlagReplace, Body: netemReq(d, 0, o)}); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := d.Qdisc().Netem()
	if c.Limit != 10 || c.Latency != time.Millisecond || c.Loss != 0 || c.LossCorr != 7 || c.Rate != 125000 || !c.ECN || c.LossModel != stack.LossRandom {
		t.Errorf("after the change: %+v", c)
	}
}

// What netem_dump reports parses back to what was set, and the dump's
// options hold the kernel's order and sizes.
func TestNetemDumpRoundTrip(t *testing.T) {
	h, d := tcHost(t, 4)
	r64 := uint64(5 << 32)
	o := rtnetlink.NetemOptions{
		Qopt:    rtnetlink.NetemQopt{Limit: 77, Latency: 156250, Jitter: 15625, Loss: 3, Gap: 2, Duplicate: 4},
		Corr:    &rtnetlink.NetemCorr{Delay: 1, Loss: 2, Dup: 3},
		Reorder: &rtnetlink.NetemProb{Probability: 5, Correlation: 6},
		Corrupt: &rtnetlink.NetemProb{Probability: 7, Correlation: 8},
		Rate:    &rtnetlink.NetemRate{Rate: ^uint32(0), PacketOverhead: -3, CellSize: 64, CellOverhead: 2},
		Rate64:  &r64,
		Slot:    &stack.NetemSlot{MinDelay: 1e6, MaxDelay: 2e6},
		Loss:    &rtnetlink.NetemLoss{GI: &stack.NetemGI{P13: 1, P31: 2, P32: 3, P14: 4, P23: 5}},
	}
	if _, err := rtnetlink.Handle(h, rtnetlink.Request{Type: rtnetlink.RTMNewQdisc, Flags: rtnetlink.FlagCreate | rtnetlink.FlagExcl, Body: netemReq(d, 0, o)}); err != nil {
		t.Fatal(err)
	}
	ms, err := rtnetlink.Handle(h, rtnetlink.Request{Type: rtnetlink.RTMGetQdisc, Flags: 0x300})
	if err != nil || len(ms) != 1 {
		t.Fatalf("dump: %v %d", err, len(ms))
	}
	var m rtnetlink.QdiscMsg
	if err := m.Unmarshal(ms[0].Body); err != nil {
		t.Fatal(err)
	}
	if m.Kind != "netem" || m.Info != 5 || m.Handle != 0x80010000 || m.Parent != stack.TCHRoot || m.Stats == nil {
		t.Fatalf("message %+v", m)
	}
	got, err := rtnetlink.ParseNetemOptions(m.Options)
	if err != nil {
		t.Fatal(err)
	}
	lat, jit := int64(10*time.Millisecond), int64(time.Millisecond)
	o.Latency64, o.Jitter64 = &lat, &jit
	got.Seed = nil
	if !reflect.DeepEqual(got, o) {
		t.Errorf("dumped\n%+v\nwant\n%+v", got, o)
	}
	// A second dump is the same bytes: nothing in it moves by itself.
	ms2, _ := rtnetlink.Handle(h, rtnetlink.Request{Type: rtnetlink.RTMGetQdisc, Flags: 0x300})
	if !bytes.Equal(ms[0].Body, ms2[0].Body) {
		t.Error("two dumps differ")
	}
}

// The options parser refuses what netem_policy refuses (short structs,
// empty or long tables, a loss model of the wrong size) and takes the rest.
func TestParseNetemOptionsPolicy(t *testing.T) {
	qopt := make([]byte, 24)
	attr := func(typ uint16, n int) []byte {
		b := []byte{byte(4 + n), byte((4 + n) >> 8), byte(typ), byte(typ >> 8)}
		b = append(b, make([]byte, n)...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	tests := []struct {
		name string
		b    []byte
		ok   bool
	}{
		{"short qopt", qopt[:20], false},
		{"qopt", qopt, true},
		{"corr", append(append([]byte{}, qopt...), attr(1, 12)...), true},
		{"short corr", append(append([]byte{}, qopt...), attr(1, 8)...), false},
		{"short rate", append(append([]byte{}, qopt...), attr(6, 12)...), false},
		{"empty table", append(append([]byte{}, qopt...), attr(2, 0)...), false},
		{"table", append(append([]byte{}, qopt...), attr(2, 8)...), true},
		{"long table", append(append([]byte{}, qopt...), attr(2, 2*16385)...), false},
		{"gi short", append(append([]byte{}, qopt...), append(attr(5, 0)[:0], []byte{20, 0, 5, 0, 16, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}...)...), false},
		{"unknown attribute", append(append([]byte{}, qopt...), attr(99, 3)...), true},
	}
	for _, tc := range tests {
		if _, err := rtnetlink.ParseNetemOptions(tc.b); (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// FuzzParseNetemOptions: the parser never panics, and what it takes
// encodes (in either order) to bytes it takes again as the same options.
func FuzzParseNetemOptions(f *testing.F) {
	o := rtnetlink.NetemOptions{Qopt: rtnetlink.NetemQopt{Limit: 1000, Latency: 15625}, Corr: &rtnetlink.NetemCorr{Delay: 1},
		Loss: &rtnetlink.NetemLoss{GE: &stack.NetemGE{P: 1}}, DelayDist: []int16{1, -2, 3}}
	f.Add(o.MarshalRequest())
	f.Add(o.MarshalDump())
	f.Add(make([]byte, 24))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := rtnetlink.ParseNetemOptions(b)
		if err != nil {
			return
		}
		for i, enc := range [][]byte{o.MarshalRequest(), o.MarshalDump()} {
			p, err := rtnetlink.ParseNetemOptions(enc)
			if err != nil {
				t.Fatalf("re-encoded options refused: %v", err)
			}
			// A request (tc 6.1's) has no 64-bit times, a dump no tables.
			if i == 0 {
				p.Latency64, p.Jitter64 = o.Latency64, o.Jitter64
			} else {
				p.DelayDist, p.SlotDist = o.DelayDist, o.SlotDist
			}
			if !reflect.DeepEqual(p, o) {
				t.Fatalf("round trip %d\n%+v\n%+v", i, p, o)
			}
		}
	})
}

// FuzzUnmarshalQdisc: tcmsg and its attributes never panic the parser.
func FuzzUnmarshalQdisc(f *testing.F) {
	f.Add(rtnetlink.QdiscMsg{Kind: "netem", Options: make([]byte, 24), Stats: &rtnetlink.QdiscStats{Packets: 1 << 33}}.Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		var m rtnetlink.QdiscMsg
		m.Unmarshal(b)
	})
}

// A graft is told to RTMGRP_TC: the old qdiscs deleted, the new added;
// a change the changed qdisc; a delete the deleted one.
func TestQdiscNotifications(t *testing.T) {
	h, d := tcHost(t, 1)
	var got []string
	rtnetlink.Listen(h, func(group uint32, m rtnetlink.Message) {
		if group != rtnetlink.RTMGrpTC {
			return
		}
		var q rtnetlink.QdiscMsg
		q.Unmarshal(m.Body)
		got = append(got, map[uint16]string{rtnetlink.RTMNewQdisc: "new ", rtnetlink.RTMDelQdisc: "del "}[m.Type]+q.Kind)
	})
	o := rtnetlink.NetemOptions{Qopt: rtnetlink.NetemQopt{Limit: 1000}}
	for _, r := range []rtnetlink.Request{
		{Type: rtnetlink.RTMNewQdisc, Flags: rtnetlink.FlagCreate | rtnetlink.FlagExcl, Body: netemReq(d, 0, o)},
		{Type: rtnetlink.RTMNewQdisc, Body: netemReq(d, 0, o)},
		{Type: rtnetlink.RTMDelQdisc, Body: rtnetlink.QdiscMsg{Ifindex: int32(d.Ifindex()), Parent: stack.TCHRoot}.Marshal()},
	} {
		if _, err := rtnetlink.Handle(h, r); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"del pfifo_fast", "new netem", "new netem", "del netem"}; !reflect.DeepEqual(got, want) {
		t.Errorf("notifications %v, want %v", got, want)
	}
}
