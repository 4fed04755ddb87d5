package conntrack

import (
	"testing"
	"time"

	"vnic/header"
	"vnic/stack"
)

func TestUDP(t *testing.T) {
	r := newRig(t)
	q := udpBytes(addrA, addrB, 5353, 53, 20)
	a := udpBytes(addrB, addrA, 53, 5353, 40)
	steps := []struct {
		name    string
		wait    time.Duration
		pkt     []byte
		out     bool
		info    Info
		timeout time.Duration
		assured bool
	}{
		{"query", 0, q, false, New, 30 * time.Second, false},
		{"query again", time.Second, q, false, New, 30 * time.Second, false},
		{"answer", 0, a, true, EstablishedReply, 30 * time.Second, false},
		{"within 2 s", 500 * time.Millisecond, q, false, Established, 30 * time.Second, false},
		{"a stream after 2 s", 600 * time.Millisecond, a, true, EstablishedReply, 120 * time.Second, true},
	}
	for _, s := range steps {
		r.advance(s.wait)
		var res result
		if s.out {
			res = r.out(s.pkt)
		} else {
			res = r.in(s.pkt)
		}
		if res.ct == nil || res.info != s.info || res.ct.Timeout() != s.timeout || (res.ct.Status()&StatusAssured != 0) != s.assured {
			t.Fatalf("%s: %+v timeout %v status %#x, want info %d timeout %v assured %v", s.name, res, res.ct.Timeout(), res.ct.Status(), s.info, s.timeout, s.assured)
		}
	}
	if got := r.n.Count(); got != 1 {
		t.Fatalf("count %d, want 1", got)
	}
}

func TestICMP(t *testing.T) {
	r := newRig(t)
	req := icmpBytes(addrA, addrB, header.ICMPv4Echo, 0, 77, []byte("ping"))
	rep := icmpBytes(addrB, addrA, header.ICMPv4EchoReply, 0, 77, []byte("ping"))
	res := r.in(req)
	if res.info != New || res.ct.Timeout() != 30*time.Second {
		t.Fatalf("request: %+v", res)
	}
	ct := res.ct
	want := Tuple{Src: addrB, Dst: addrA, SrcPort: 77, DstPort: 0 << 8, Proto: 1}
	if got := ct.Tuple(Reply); got != want {
		t.Fatalf("reply tuple %+v, want %+v", got, want)
	}
	if res := r.out(rep); res.ct != ct || res.info != EstablishedReply {
		t.Fatalf("reply: %+v", res)
	}
	// A reply nobody asked for, and an unknown type, make nothing.
	if res := r.in(icmpBytes(addrA, addrB, header.ICMPv4EchoReply, 0, 5, nil)); res.ct != nil {
		t.Fatalf("lone echo reply tracked: %+v", res)
	}
	if got := r.n.Stats().Invalid; got != 1 {
		t.Fatalf("invalid %d, want 1", got)
	}
}

func TestICMPErrorRelated(t *testing.T) {
	r := newRig(t)
	// B (this host) sends a UDP datagram to A; a router answers port
	// unreachable... from A itself, quoting the datagram.
	dgram := udpBytes(addrB, addrA, 4000, 9, 8)
	res := r.out(dgram)
	if res.info != New {
		t.Fatalf("datagram: %+v", res)
	}
	errMsg := icmpBytes(addrR, addrB, header.ICMPv4DstUnreachable, header.ICMPv4PortUnreachable, 0, dgram[:28])
	got := r.in(errMsg)
	if got.ct != res.ct || got.info != RelatedReply {
		t.Fatalf("error: ct %p info %d, want %p RELATED_REPLY", got.ct, got.info, res.ct)
	}
	// The error about a flow nobody tracks is no one's.
	other := udpBytes(addrB, addrA, 4001, 9, 8)
	if got := r.in(icmpBytes(addrR, addrB, header.ICMPv4DstUnreachable, 3, 0, other[:28])); got.ct != nil {
		t.Fatalf("untracked error related: %+v", got)
	}
	// The error sent somewhere else than the flow's source is bogus.
	if got := r.in(icmpBytes(addrR, addrR, header.ICMPv4DstUnreachable, 3, 0, dgram[:28])); got.ct != nil {
		t.Fatalf("misdirected error related: %+v", got)
	}
	if s := r.n.Stats(); s.Error != 2 || s.Invalid != 0 {
		t.Fatalf("stats %+v, want error 2 invalid 0", s)
	}
}

func TestTimeoutThenNew(t *testing.T) {
	r := newRig(t)
	q := udpBytes(addrA, addrB, 1, 2, 0)
	first := r.in(q).ct
	r.advance(29 * time.Second)
	if r.in(q).ct != first {
		t.Fatal("the entry went before its timeout")
	}
	r.advance(30 * time.Second)
	res := r.in(q)
	if res.ct == first || res.info != New {
		t.Fatalf("after the timeout: same entry %v info %d, want a new one", res.ct == first, res.info)
	}
	// The collector takes the idle entry and stops.
	r.advance(31 * time.Second)
	r.clk.RunIdle(r.clk.Now() + 10*time.Minute)
	if r.n.Count() != 0 || r.clk.Pending() {
		t.Fatalf("count %d pending %v after idle: want 0, no events", r.n.Count(), r.clk.Pending())
	}
}

func TestUntrackedLeftAlone(t *testing.T) {
	r := newRig(t)
	skb := r.skb(udpBytes(addrA, addrB, 1, 2, 0))
	defer skb.Consume()
	SetUntracked(skb)
	if v := r.n.conntrackIn(skb, &stack.NFState{Hook: stack.NFPreRouting}); v != stack.NFAccept || !IsUntracked(skb) {
		t.Fatalf("verdict %v untracked %v", v, IsUntracked(skb))
	}
	if r.n.Count() != 0 || r.n.Stats() != (Stats{}) {
		t.Fatalf("count %d stats %+v", r.n.Count(), r.n.Stats())
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name string
		pkt  []byte
		stat func(Stats) uint64
	}{
		{"bad TCP checksum", seg{src: addrA, dst: addrB, sport: 1, dport: 2, flags: syn, win: 1, badCsum: true}.bytes(), func(s Stats) uint64 { return s.Invalid }},
		{"non-first fragment", seg{src: addrA, dst: addrB, sport: 1, dport: 2, flags: syn, win: 1, fragOffset: 100}.bytes(), func(s Stats) uint64 { return s.Invalid }},
		{"short UDP", ipPacket(addrA, addrB, header.ProtoUDP, []byte{0, 1, 0, 2}, -1), func(s Stats) uint64 { return s.Invalid }},
		{"bad ICMP checksum", func() []byte {
			b := icmpBytes(addrA, addrB, header.ICMPv4Echo, 0, 1, nil)
			b[22] ^= 1
			return b
		}(), func(s Stats) uint64 { return s.Error }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			if res := r.in(tt.pkt); res.ct != nil || res.verdict != stack.NFAccept {
				t.Fatalf("%+v, want accepted without a connection", res)
			}
			if got := tt.stat(r.n.Stats()); got != 1 || r.n.Count() != 0 {
				t.Fatalf("counter %d count %d, want 1, 0", got, r.n.Count())
			}
		})
	}
	// nf_conntrack_checksum=0: the bad checksum is not looked at.
	r := newRig(t)
	c := r.n.Config()
	c.Checksum = false
	r.n.SetConfig(c)
	if res := r.in(tests[0].pkt); res.ct == nil {
		t.Fatal("checksum off: not tracked")
	}
}

func TestSYNFloodEarlyDrop(t *testing.T) {
	r := newRig(t)
	c := r.n.Config()
	c.Max = 64
	r.n.SetConfig(c)
	r.n.Resize(64)
	// An established (ASSURED) connection is never evicted.
	runTCP(t, r, []step{
		{name: "SYN", fromA: true, flags: syn, seq: 1, info: New, state: TCPSynSent, timeout: 120 * time.Second},
		{name: "SYN/ACK", flags: syn | ack, seq: 9, ackNo: 2, info: EstablishedReply, state: TCPSynRecv, timeout: 60 * time.Second},
		{name: "ACK", fromA: true, flags: ack, seq: 2, ackNo: 10, info: Established, state: TCPEstablished, timeout: 5 * 24 * time.Hour, assured: true},
	})
	kept, _ := r.n.Lookup(Tuple{Src: addrA, Dst: addrB, SrcPort: 40000, DstPort: 80, Proto: 6}, DefaultZone)
	const flood = 5000
	dropped := 0
	for i := range flood {
		src := [4]byte{198, 19, byte(i >> 8), byte(i)}
		res := r.in(seg{src: src, dst: addrB, sport: uint16(1024 + i), dport: 80, flags: syn, seq: uint32(i), win: 1000}.bytes())
		if res.verdict == stack.NFDrop {
			dropped++
		}
		if r.n.Count() > 64 {
			t.Fatalf("after %d SYNs: %d entries, max 64", i+1, r.n.Count())
		}
	}
	s := r.n.Stats()
	// Every SYN was either dropped or made an entry; every entry made is
	// in the table or was evicted.
	if s.EarlyDrop == 0 || uint64(dropped) != s.Drop || uint64(r.n.Count())+s.EarlyDrop != 1+flood-uint64(dropped) {
		t.Fatalf("early_drop %d drop %d (seen %d), count %d", s.EarlyDrop, s.Drop, dropped, r.n.Count())
	}
	if got, _ := r.n.Lookup(kept.Tuple(Original), DefaultZone); got != kept {
		t.Fatal("the assured connection was evicted")
	}
}

// TestEarlyDropNextBuckets: early_drop searches the new entry's bucket
// and, that one having nothing to evict, the buckets after it: an
// unassured entry 1 or 7 buckets on is evicted, one 8 on is out of reach
// (NF_CT_EVICTION_RANGE is 8 buckets).
func TestEarlyDropNextBuckets(t *testing.T) {
	const size = 64
	for _, dist := range []int{1, 7, 8} {
		r := newRig(t)
		c := r.n.Config()
		c.Max = 1
		r.n.SetConfig(c)
		r.n.Resize(size)
		victim := Tuple{Src: addrA, Dst: addrB, SrcPort: 1000, DstPort: 53, Proto: 17}
		if !r.confirmUDP(victim, &c) {
			t.Fatal("victim refused")
		}
		inv, _ := victim.Invert()
		used := map[int]bool{scale(r.n.hashRaw(&victim, 0), size): true, scale(r.n.hashRaw(&inv, 0), size): true}
		// A hash whose bucket is dist before one of the victim's, the
		// buckets between holding none of them.
		var hash uint32
		found := false
		for b := 0; b < size && !found; b++ {
			found = used[(b+dist)%size]
			for d := 0; d < dist; d++ {
				found = found && !used[(b+d)%size]
			}
			hash = uint32(b) << 26 // scale(hash, 64) == b
		}
		if !found {
			t.Fatalf("dist %d: no bucket found", dist)
		}
		want := dist < evictionRange
		if got := r.n.earlyDrop(hash); got != want {
			t.Errorf("victim %d buckets on: early_drop %v, want %v", dist, got, want)
		}
		if gone := r.n.Count() == 0; gone != want {
			t.Errorf("victim %d buckets on: evicted %v, want %v", dist, gone, want)
		}
	}
}

func TestExpectation(t *testing.T) {
	r := newRig(t)
	master := r.in(seg{src: addrA, dst: addrB, sport: 40000, dport: 21, flags: syn, seq: 1, win: 100}.bytes()).ct
	master.SetMark(7)
	e := &Expect{Tuple: Tuple{Src: addrA, Dst: addrB, DstPort: 2000, Proto: 6},
		Mask: Tuple{Src: [4]byte{255, 255, 255, 255}, Dst: [4]byte{255, 255, 255, 255}, DstPort: 0xffff, Proto: 0xff}, Master: master}
	if err := r.n.Expect(e, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	res := r.in(seg{src: addrA, dst: addrB, sport: 33333, dport: 2000, flags: syn, seq: 1, win: 100}.bytes())
	if res.info != Related || res.ct.Master() != master || res.ct.Mark() != 7 || res.ct.Status()&StatusExpected == 0 {
		t.Fatalf("expected connection: info %d master %v mark %d", res.info, res.ct.Master() == master, res.ct.Mark())
	}
	if n := len(r.n.Expectations()); n != 0 {
		t.Fatalf("%d expectations left, want 0 (used once)", n)
	}
	// One that times out is gone.
	r.n.Expect(&Expect{Tuple: e.Tuple, Mask: e.Mask, Master: master}, time.Second)
	r.advance(2 * time.Second)
	if res := r.in(seg{src: addrA, dst: addrB, sport: 33334, dport: 2000, flags: syn, seq: 1, win: 100}.bytes()); res.info != New {
		t.Fatalf("after the expectation's timeout: info %d, want NEW", res.info)
	}
	if s := r.n.Stats(); s.ExpectCreate != 2 || s.ExpectNew != 1 || s.ExpectDelete != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestEvents(t *testing.T) {
	r := newRig(t)
	var got []EventMask
	cancel := r.n.Subscribe(func(e Event) { got = append(got, e.Events) })
	defer cancel()
	runTCP(t, r, []step{
		{name: "SYN", fromA: true, flags: syn, seq: 1, info: New, state: TCPSynSent, timeout: 120 * time.Second},
		{name: "SYN/ACK", flags: syn | ack, seq: 9, ackNo: 2, info: EstablishedReply, state: TCPSynRecv, timeout: 60 * time.Second},
		{name: "ACK", fromA: true, flags: ack, seq: 2, ackNo: 10, info: Established, state: TCPEstablished, timeout: 5 * 24 * time.Hour, assured: true},
		{name: "ACK again", fromA: true, flags: ack, seq: 2, ackNo: 10, info: Established, state: TCPEstablished, timeout: 5 * 24 * time.Hour, assured: true},
		{name: "RST", flags: rst, seq: 10, info: EstablishedReply, state: TCPClose, timeout: 10 * time.Second, assured: true},
	})
	r.advance(11 * time.Second)
	r.clk.RunIdle(r.clk.Now() + 2*time.Minute)
	want := []EventMask{1<<EventNew | 1<<EventProtoinfo, 1<<EventReply | 1<<EventProtoinfo,
		1<<EventProtoinfo | 1<<EventAssured, 1 << EventProtoinfo, 1 << EventDestroy}
	if len(got) != len(want) {
		t.Fatalf("events %b, want %b", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d: %b, want %b (all %b)", i, got[i], want[i], got)
		}
	}
}

func TestAcct(t *testing.T) {
	r := newRig(t)
	c := r.n.Config()
	c.Acct = true
	r.n.SetConfig(c)
	q := udpBytes(addrA, addrB, 1, 2, 100)
	a := udpBytes(addrB, addrA, 2, 1, 10)
	ct := r.in(q).ct
	r.in(q)
	r.out(a)
	if p, b := ct.Counters(Original); p != 2 || b != 2*128 {
		t.Fatalf("original %d/%d, want 2/256", p, b)
	}
	if p, b := ct.Counters(Reply); p != 1 || b != 38 {
		t.Fatalf("reply %d/%d, want 1/38", p, b)
	}
}

func TestClashResolve(t *testing.T) {
	r := newRig(t)
	q := udpBytes(addrA, addrB, 1, 2, 0)
	// Two packets of a new flow raced: both made an entry before either
	// was confirmed.
	s1, s2 := r.skb(q), r.skb(q)
	defer s1.Consume()
	defer s2.Consume()
	pre := &stack.NFState{Hook: stack.NFPreRouting}
	post := &stack.NFState{Hook: stack.NFLocalIn}
	r.n.conntrackIn(s1, pre)
	r.n.conntrackIn(s2, pre)
	r.n.confirmHook(s1, post)
	if v := r.n.confirmHook(s2, post); v != stack.NFAccept {
		t.Fatalf("clash verdict %v", v)
	}
	c1, _ := Get(s1)
	c2, _ := Get(s2)
	if c1 != c2 || r.n.Count() != 1 || r.n.Stats().ClashResolve != 1 {
		t.Fatalf("same %v count %d clash_resolve %d", c1 == c2, r.n.Count(), r.n.Stats().ClashResolve)
	}
	// TCP does not allow it.
	syn := seg{src: addrA, dst: addrB, sport: 1, dport: 2, flags: syn, seq: 1, win: 9}.bytes()
	t1, t2 := r.skb(syn), r.skb(syn)
	defer t1.Consume()
	defer t2.Consume()
	r.n.conntrackIn(t1, pre)
	r.n.conntrackIn(t2, pre)
	r.n.confirmHook(t1, post)
	if v := r.n.confirmHook(t2, post); v != stack.NFDrop || r.n.Stats().InsertFailed != 1 {
		t.Fatalf("TCP clash: %v insert_failed %d", v, r.n.Stats().InsertFailed)
	}
}

func TestResizeKeepsEntries(t *testing.T) {
	r := newRig(t)
	var cts []*Conn
	for i := range 100 {
		cts = append(cts, r.in(udpBytes(addrA, addrB, uint16(i), 9, 0)).ct)
	}
	for _, size := range []int{1, 7, 4096} {
		r.n.Resize(size)
		for i, ct := range cts {
			if got, d := r.n.Lookup(ct.Tuple(Reply), DefaultZone); got != ct || d != Reply {
				t.Fatalf("size %d: entry %d lost", size, i)
			}
		}
	}
}

func TestEstablishedNoAllocs(t *testing.T) {
	r := newRig(t)
	runTCP(t, r, []step{
		{name: "SYN", fromA: true, flags: syn, seq: 1, info: New, state: TCPSynSent, timeout: 120 * time.Second},
		{name: "SYN/ACK", flags: syn | ack, seq: 9, ackNo: 2, info: EstablishedReply, state: TCPSynRecv, timeout: 60 * time.Second},
		{name: "ACK", fromA: true, flags: ack, seq: 2, ackNo: 10, info: Established, state: TCPEstablished, timeout: 5 * 24 * time.Hour, assured: true},
	})
	skb := r.skb(seg{src: addrA, dst: addrB, sport: 40000, dport: 80, flags: ack, seq: 2, ack: 10, win: 65535}.bytes())
	defer skb.Consume()
	pre, in := &stack.NFState{Hook: stack.NFPreRouting}, &stack.NFState{Hook: stack.NFLocalIn}
	var sink *Conn
	allocs := testing.AllocsPerRun(1000, func() {
		skb.SetNFCT(nil, 0)
		r.n.conntrackIn(skb, pre)
		r.n.confirmHook(skb, in)
		sink, _ = Get(skb)
	})
	if allocs != 0 || sink == nil {
		t.Fatalf("%v allocations per established packet, want 0", allocs)
	}
}
