package control

import (
	"net"
	"net/netip"
	"testing"
	"time"

	mnl "github.com/mdlayher/netlink"

	"vnic/stack"
	"vnic/stack/netlink"
	"vnic/stack/rtnetlink"
)

// routeTable is a Dumper of n routes made as they are asked for (a table
// too large to hold encoded at once): 10.x.y.0/24 in order, its place in
// cb.Args[0]. calls counts its batches, most the most messages one took.
type routeTable struct {
	n           int
	calls, most int
}

func (r *routeTable) dump(h *stack.Host, req rtnetlink.Request, cb *rtnetlink.Callback, add func(rtnetlink.Message) bool) (bool, error) {
	r.calls++
	took := 0
	defer func() { r.most = max(r.most, took) }()
	for i := int(cb.Args[0]); i < r.n; i++ {
		m := rtnetlink.RouteMsg{DstLen: 24, Table: 254, Protocol: 4, Type: 1,
			Dst: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), Oif: 2}
		if !add(rtnetlink.Reply(rtnetlink.RTMNewRoute, m.Marshal())) {
			return false, nil
		}
		took++
		cb.Args[0] = int64(i + 1)
	}
	return true, nil
}

// A dump of 100k routes streams: batch after batch of DumpBatch bytes as
// the client reads, the server never holding more than its receive budget
// plus one batch for the connection (the whole dump is ~30 times that);
// a client that asks for a dump and does not read stops it there, and
// others are served meanwhile.
func TestLargeRouteDumpStreams(t *testing.T) {
	const n = 100000
	for _, rcvbuf := range []int{netlink.DefaultRcvbuf, 2 * netlink.DumpBatch} {
		w := ipWorld(t)
		s, _ := serve(t, w)
		s.SetRcvbuf(rcvbuf)
		rt := &routeTable{n: n}
		rtnetlink.RegisterDumper(w.Host("h1").Stack, rtnetlink.RTMGetRoute, rt.dump)
		c := ipConn(t, s, "h1", 0)
		msgs, err := c.Route(rtnetlink.RTMGetRoute, mnl.Dump, make([]byte, 12))
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != n {
			t.Fatalf("rcvbuf %d: %d routes, want %d", rcvbuf, len(msgs), n)
		}
		total := 0
		for i, m := range msgs {
			var r rtnetlink.RouteMsg
			if err := r.Unmarshal(m.Data); err != nil || r.Dst != netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}) {
				t.Fatalf("route %d: %v %v", i, r.Dst, err)
			}
			total += 16 + len(m.Data)
		}
		var st netlink.ConnStats // the dumping connection's: the largest
		for _, x := range s.Stats() {
			if x.Peak > st.Peak {
				st = x
			}
		}
		if st.Peak > rcvbuf+netlink.DumpBatch || st.Drops != 0 || total < 20*st.Peak {
			t.Errorf("rcvbuf %d: a dump of %d bytes queued up to %d bytes (drops %d), want at most %d", rcvbuf, total, st.Peak, st.Drops, rcvbuf+netlink.DumpBatch)
		}
		if perBatch := netlink.DumpBatch / 40; rt.most > perBatch || rt.calls < n/perBatch {
			t.Errorf("the dumper was asked %d times, for up to %d routes at once: want batches of about %d", rt.calls, rt.most, perBatch)
		}
	}
}

// A client that asks for a dump and reads nothing holds the dump at its
// receive budget; another client meanwhile dumps links, and Close ends it
// all.
func TestDumpToSlowReader(t *testing.T) {
	w := ipWorld(t)
	s, err := Serve(w, t.TempDir()+"/vnic.sock", nil)
	if err != nil {
		t.Fatal(err)
	}
	rt := &routeTable{n: 100000}
	rtnetlink.RegisterDumper(w.Host("h1").Stack, rtnetlink.RTMGetRoute, rt.dump)
	// The slow client binds and asks, and never reads.
	slow, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: s.Path(), Net: "unixpacket"})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	ae := mnl.NewAttributeEncoder()
	ae.String(netlink.CtrlAttrNetns, "h1")
	bind, _ := ae.Encode()
	for _, m := range []mnl.Message{
		{Header: mnl.Header{Type: netlink.GenlIDCtrl, Flags: mnl.Request | mnl.Acknowledge, Sequence: 1}, Data: netlink.GenlData(netlink.CtrlCmdRouteBind, 2, bind)},
		{Header: mnl.Header{Type: rtnetlink.RTMGetRoute, Flags: mnl.Request | mnl.Dump, Sequence: 2}, Data: make([]byte, 12)},
	} {
		b, _ := netlink.Marshal([]mnl.Message{m})
		if _, err := slow.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	// Wait (a hang guard bounds it) until the slow client's queue has
	// reached its budget: the dump then waits for it to drain to half,
	// which it never does. (What is queued right now may be less: the
	// socket's own buffer takes some, so the peak is what tells.)
	deadline := time.Now().Add(20 * time.Second)
	for {
		full := false
		for _, st := range s.Stats() {
			full = full || st.Peak >= netlink.DefaultRcvbuf
		}
		if full {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the slow client's queue never filled: %+v", s.Stats())
		}
		time.Sleep(time.Millisecond)
	}
	other := ipConn(t, s, "h1", 0)
	links, err := other.Route(rtnetlink.RTMGetLink, mnl.Dump, make([]byte, 16))
	if err != nil || len(links) != 2 {
		t.Fatalf("another client's link dump: %d links, %v", len(links), err)
	}
	for _, st := range s.Stats() {
		if st.Peak > netlink.DefaultRcvbuf+netlink.DumpBatch {
			t.Errorf("a queue peaked at %d bytes", st.Peak)
		}
	}
	calls := rt.calls
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	// What was made: the budget, one batch over it, and what the Unix
	// socket's own buffer took (some hundreds of KiB; 1 MiB is generous).
	if made := calls * netlink.DumpBatch; made > netlink.DefaultRcvbuf+netlink.DumpBatch+1<<20 {
		t.Errorf("%d batches (%d bytes) made for a client that reads nothing", calls, made)
	}
	if rt.calls != calls {
		t.Errorf("the dump went on: %d batches before Close, %d after", calls, rt.calls)
	}
}
