package stack_test

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"
	"time"

	"vnic/header"
	"vnic/hw"
	"vnic/internal/stacktest"
	"vnic/offload"
	"vnic/stack"
)

// wire is a driver that records when each packet reached it, by the
// number the test wrote into it.
type wire struct {
	*stacktest.FakeOps
	clk  *hw.VirtualClock
	got  []arrival
	busy int // refuse this many more packets (stopping the queue)
}

type arrival struct {
	at   time.Duration
	id   uint32
	data []byte
}

func (w *wire) StartXmit(s *stack.SKB, q *stack.TxQueue) stack.TxResult {
	if w.busy > 0 {
		w.busy--
		q.Stop()
		return stack.TxBusy
	}
	d := s.Data()
	w.got = append(w.got, arrival{w.clk.Now(), binary.BigEndian.Uint32(d[stack.EthHdrLen+28:]), append([]byte(nil), d...)})
	s.Consume()
	return stack.TxOK
}

// netemHost is a one-CPU host on a virtual clock with a device of ntx
// queues (up, carrier on) behind netem cfg; cfg.Seed, when not 0, seeds
// the qdisc's generator.
func netemHost(t testing.TB, ntx int, cfg stack.NetemConfig) (*hw.VirtualClock, *stack.Host, *stack.NetDevice, *wire, *stack.Qdisc) {
	t.Helper()
	clk := hw.NewVirtualClock()
	h := stack.NewHost("h", clk, []stack.CPU{hw.NewCPU(0, clk, hw.CostModel{})}, stack.HostConfig{Seed: 1})
	w := &wire{FakeOps: &stacktest.FakeOps{}, clk: clk}
	d := stack.NewEtherDevice("vnic%d", w, ntx, ntx, 9216)
	d.SetAddrInit(stack.MAC{2, 0, 0, 0, 0, 1})
	if err := h.Register(d); err != nil {
		t.Fatal(err)
	}
	if err := d.Open(); err != nil {
		t.Fatal(err)
	}
	d.CarrierOn()
	if cfg.Limit == 0 {
		cfg.Limit = 1000
	}
	if cfg.Seed != 0 {
		cfg.Restart |= stack.RestartSeed
	}
	cfg.Restart |= stack.RestartCorr | stack.RestartReorder | stack.RestartCorrupt | stack.RestartSlot | stack.RestartLoss
	q, err := stack.NewNetem(d, 0x80010000, cfg)
	if err != nil {
		t.Fatal(err)
	}
	d.GraftQdisc(q)
	return clk, h, d, w, q
}

// frame sends a UDP/IPv4 frame of n bytes (at least 46) numbered id.
func frame(t testing.TB, h *stack.Host, d *stack.NetDevice, id uint32, n int) error {
	t.Helper()
	s := h.Pool().Alloc(n + stack.NetIPAlign)
	s.Reserve(stack.NetIPAlign)
	f := s.Put(n)
	clear(f)
	binary.BigEndian.PutUint16(f[12:], stack.EthPIPv4)
	ip := header.IPv4(f[stack.EthHdrLen:])
	ip[0], ip[8], ip[9] = 0x45, 64, header.ProtoUDP
	ip.SetTotalLen(uint16(n - stack.EthHdrLen))
	copy(ip[12:], []byte{198, 18, 0, 1, 198, 18, 0, 2})
	ip.UpdateChecksum()
	binary.BigEndian.PutUint32(f[stack.EthHdrLen+28:], id)
	s.Dev = d
	return stack.DevQueueXmit(s)
}

// ref is the kernel's prandom and get_crandom written out again (the slow
// reference the tests count with).
type ref struct{ s [4]uint32 }

func newRef(seed uint64) *ref {
	i := uint32((seed >> 32) ^ (seed << 10) ^ seed)
	r := &ref{}
	for k, m := range []uint32{2, 8, 16, 128} {
		r.s[k] = i
		if i < m {
			r.s[k] = i + m
		}
	}
	return r
}

func (r *ref) u32() uint32 {
	step := func(s, a, b, c, d uint32) uint32 { return ((s & c) << d) ^ (((s << a) ^ s) >> b) }
	r.s[0] = step(r.s[0], 6, 13, 0xfffffffe, 18)
	r.s[1] = step(r.s[1], 2, 27, 0xfffffff8, 2)
	r.s[2] = step(r.s[2], 13, 21, 0xfffffff0, 7)
	r.s[3] = step(r.s[3], 3, 12, 0xffffff80, 13)
	return r.s[0] ^ r.s[1] ^ r.s[2] ^ r.s[3]
}

const (
	pct      = 42949673 // 1% of 2^32-1, as tc scales it
	seed     = 0x5eed
	nPackets = 10000
)

// run sends n packets of size bytes at once, runs the clock for d and
// returns what arrived.
func run(t *testing.T, cfg stack.NetemConfig, n, size int, d time.Duration) (*wire, *stack.Qdisc, []error) {
	t.Helper()
	clk, h, dev, w, q := netemHost(t, 1, cfg)
	var errs []error
	for i := range n {
		errs = append(errs, frame(t, h, dev, uint32(i), size))
	}
	clk.RunFor(d)
	return w, q, errs
}

// Counts of what netem did to 10000 packets, held to the reference's
// count of the same draws and to the number itself (a change of the
// sequence is a change of every seeded run).
func TestNetemCounts(t *testing.T) {
	lossRef := func(p uint32) int {
		r, k := newRef(seed), 0
		for range nPackets {
			if p >= r.u32() {
				k++
			}
		}
		return k
	}
	tests := []struct {
		name           string
		cfg            stack.NetemConfig
		arrived, drops int
		refArrived     int // -1: not computed by the reference
	}{
		{"loss 10%", stack.NetemConfig{Loss: 10 * pct}, 8961, 1039, nPackets - lossRef(10*pct)},
		{"loss 1%", stack.NetemConfig{Loss: pct}, 9890, 110, nPackets - lossRef(pct)},
		{"loss 100%", stack.NetemConfig{Loss: ^uint32(0)}, 0, nPackets, 0},
		{"duplicate 50%", stack.NetemConfig{Duplicate: 50 * pct}, 15086, 0, nPackets + lossRef(50*pct)},
		{"duplicate 100%", stack.NetemConfig{Duplicate: ^uint32(0)}, 2 * nPackets, 0, 2 * nPackets},
		// A fully correlated loss repeats its first decision for ever
		// (here: sent).
		{"loss 50% correlation 100%", stack.NetemConfig{Loss: 50 * pct, LossCorr: ^uint32(0)}, nPackets, 0, -1},
		// The 4-state model with p13 0 never loses; Gilbert with a bad
		// state that loses all (1-h 100%) and never recovers loses all
		// after the first transition.
		{"loss state 0%", stack.NetemConfig{LossModel: stack.Loss4State, GI: stack.NetemGI{P31: ^uint32(0), P23: ^uint32(0)}}, nPackets, 0, nPackets},
		{"loss gemodel 1% 0% 100%", stack.NetemConfig{LossModel: stack.LossGE, GE: stack.NetemGE{P: pct}}, 77, 9923, geRef(pct, 0, 0, 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Seed = seed
			w, q, _ := run(t, tc.cfg, nPackets, 60, time.Second)
			st := q.Stats()
			if len(w.got) != tc.arrived || int(st.Drops) != tc.drops {
				t.Errorf("%d arrived, %d dropped; want %d, %d", len(w.got), st.Drops, tc.arrived, tc.drops)
			}
			if tc.refArrived >= 0 && tc.refArrived != tc.arrived {
				t.Errorf("the reference counts %d arrivals", tc.refArrived)
			}
			if int(st.Packets) != len(w.got) || int(st.Bytes) != 60*len(w.got) || st.Qlen != 0 || st.Backlog != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// geRef counts the packets Gilbert-Elliot sends, by the reference's draws.
func geRef(p, r, h, k1 uint32) int {
	g, bad, sent := newRef(seed), false, 0
	for range nPackets {
		lost := false
		if !bad {
			if g.u32() < p {
				bad = true
			}
			lost = g.u32() < k1
		} else {
			if g.u32() < r {
				bad = false
			}
			lost = g.u32() > h
		}
		if !lost {
			sent++
		}
	}
	return sent
}

// Times: each packet leaves exactly when netem says.
func TestNetemTimes(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		cfg  stack.NetemConfig
		n    int
		size int
		want func(i int) time.Duration // departure of the i-th to leave
	}{
		{"delay 10ms", stack.NetemConfig{Latency: 10 * ms}, 5, 100, func(i int) time.Duration { return 10 * ms }},
		// 1 mbit/s: 1000 bytes take 8 ms; the first leaves after its own.
		{"rate 1mbit", stack.NetemConfig{Rate: 125000}, 5, 1000, func(i int) time.Duration { return time.Duration(i+1) * 8 * ms }},
		{"rate 1mbit 20", stack.NetemConfig{Rate: 125000, PacketOverhead: 20}, 4, 1000, func(i int) time.Duration { return time.Duration(i+1) * 8160 * time.Microsecond }},
		// 1000 bytes in 64-byte cells of 68: 16 cells, 1088 bytes.
		{"rate 1mbit 0 64 4", stack.NetemConfig{Rate: 125000, CellSize: 64, CellOverhead: 4}, 3, 1000, func(i int) time.Duration { return time.Duration(i+1) * 8704 * time.Microsecond }},
		// Delay and rate: the delay once, then the serialisation of each.
		{"delay 10ms rate 1mbit", stack.NetemConfig{Latency: 10 * ms, Rate: 125000}, 3, 1000, func(i int) time.Duration { return 10*ms + time.Duration(i+1)*8*ms }},
		// One packet a slot of 1 ms, the first at once.
		{"slot 1ms 1ms packets 1", stack.NetemConfig{Slot: stack.NetemSlot{MinDelay: 1e6, MaxDelay: 1e6, MaxPackets: 1}}, 4, 100, func(i int) time.Duration { return time.Duration(i) * ms }},
		// 250 bytes a slot: two packets of 100 fit, the third closes it.
		{"slot 2ms bytes 250", stack.NetemConfig{Slot: stack.NetemSlot{MinDelay: 2e6, MaxDelay: 2e6, MaxBytes: 250}}, 6, 100, func(i int) time.Duration { return time.Duration(i/3) * 2 * ms }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Seed = seed
			w, _, _ := run(t, tc.cfg, tc.n, tc.size, time.Second)
			if len(w.got) != tc.n {
				t.Fatalf("%d arrived", len(w.got))
			}
			for i, a := range w.got {
				if a.id != uint32(i) || a.at != tc.want(i) {
					t.Errorf("%d: packet %d at %v, want %d at %v", i, a.id, a.at, i, tc.want(i))
				}
			}
		})
	}
}

// Jitter: uniform in [delay-jitter, delay+jitter) from one draw a packet
// (the reference's), the packets leaving in time order.
func TestNetemJitterUniform(t *testing.T) {
	const n = 200
	cfg := stack.NetemConfig{Latency: 10 * time.Millisecond, Jitter: time.Millisecond, Seed: seed}
	w, _, _ := run(t, cfg, n, 100, time.Second)
	r := newRef(seed)
	want := make(map[uint32]time.Duration)
	for i := range n {
		want[uint32(i)] = time.Duration(int64(r.u32()%2000000)) + 9*time.Millisecond
	}
	if len(w.got) != n {
		t.Fatalf("%d arrived", len(w.got))
	}
	for i, a := range w.got {
		if a.at != want[a.id] {
			t.Errorf("packet %d at %v, want %v", a.id, a.at, want[a.id])
		}
		if i > 0 && a.at < w.got[i-1].at {
			t.Errorf("packet %d left before the one before it", a.id)
		}
	}
}

// Reorder with a gap: one of every gap packets goes at once (reorder
// 100%: exactly every third), the others after the delay.
func TestNetemReorderGap(t *testing.T) {
	cfg := stack.NetemConfig{Latency: 10 * time.Millisecond, Gap: 3, Reorder: ^uint32(0)}
	w, q, _ := run(t, cfg, 9, 100, time.Second)
	var ids []uint32
	for _, a := range w.got {
		ids = append(ids, a.id)
		if want := map[bool]time.Duration{true: 0, false: 10 * time.Millisecond}[a.id%3 == 2]; a.at != want {
			t.Errorf("packet %d at %v, want %v", a.id, a.at, want)
		}
	}
	if want := []uint32{2, 5, 8, 0, 1, 3, 4, 6, 7}; !slices.Equal(ids, want) {
		t.Errorf("order %v, want %v", ids, want)
	}
	if st := q.Stats(); st.Requeues != 3 {
		t.Errorf("requeues %d, want 3 (netem counts its reorders)", st.Requeues)
	}
}

// Corrupt: one bit of each packet flipped, the rest as sent.
func TestNetemCorruptOneBit(t *testing.T) {
	cfg := stack.NetemConfig{Corrupt: ^uint32(0), Seed: seed}
	clk, h, d, w, _ := netemHost(t, 1, cfg)
	var sent [][]byte
	for i := range 50 {
		frame(t, h, d, uint32(i), 100)
		// What was sent (the frame function is deterministic).
		f := make([]byte, 100)
		binary.BigEndian.PutUint16(f[12:], stack.EthPIPv4)
		ip := header.IPv4(f[stack.EthHdrLen:])
		ip[0], ip[8], ip[9] = 0x45, 64, header.ProtoUDP
		ip.SetTotalLen(86)
		copy(ip[12:], []byte{198, 18, 0, 1, 198, 18, 0, 2})
		ip.UpdateChecksum()
		binary.BigEndian.PutUint32(f[stack.EthHdrLen+28:], uint32(i))
		sent = append(sent, f)
	}
	clk.RunFor(time.Millisecond)
	if len(w.got) != 50 {
		t.Fatalf("%d arrived", len(w.got))
	}
	for i, a := range w.got {
		bitsOff := 0
		for j := range a.data {
			for x := a.data[j] ^ sent[i][j]; x != 0; x &= x - 1 {
				bitsOff++
			}
		}
		if bitsOff != 1 {
			t.Errorf("packet %d: %d bits differ", i, bitsOff)
		}
	}
}

// A CHECKSUM_PARTIAL packet to corrupt has its checksum finished first
// (skb_checksum_help): what arrives is the finished packet with one bit
// flipped, and it says CHECKSUM_NONE.
func TestNetemCorruptFinishesChecksum(t *testing.T) {
	cfg := stack.NetemConfig{Corrupt: ^uint32(0), Seed: seed}
	clk, h, d, w, _ := netemHost(t, 1, cfg)
	build := func(s []byte) header.IPv4 {
		binary.BigEndian.PutUint16(s[12:], stack.EthPIPv4)
		ip := header.IPv4(s[stack.EthHdrLen:])
		ip[0], ip[8], ip[9] = 0x45, 64, header.ProtoUDP
		ip.SetTotalLen(uint16(len(s) - stack.EthHdrLen))
		copy(ip[12:], []byte{198, 18, 0, 1, 198, 18, 0, 2})
		ip.UpdateChecksum()
		udp := ip[20:]
		binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
		for i := 8; i < len(udp); i++ {
			udp[i] = byte(i)
		}
		return ip
	}
	s := h.Pool().Alloc(200 + stack.NetIPAlign)
	s.Reserve(stack.NetIPAlign)
	ip := build(s.Put(200))
	udp := ip[20:]
	// The pseudo-header sum in the field, as a stack leaves it for the
	// device.
	binary.BigEndian.PutUint16(udp[6:], header.Fold(header.PseudoHeaderIPv4(ip.Src(), ip.Dst(), header.ProtoUDP, uint16(len(udp)))))
	s.SetPartial(stack.EthHdrLen+20, header.UDPChecksumOffset)
	s.Dev = d
	if err := stack.DevQueueXmit(s); err != nil {
		t.Fatal(err)
	}
	clk.RunFor(time.Millisecond)
	if len(w.got) != 1 {
		t.Fatalf("%d arrived", len(w.got))
	}
	want := make([]byte, 200)
	wip := build(want)
	header.UDP(wip[20:]).SetChecksum(0)
	header.UDP(wip[20:]).SetChecksum(header.L4Checksum(wip, wip[20:]))
	diff := 0
	for j := range want {
		for x := want[j] ^ w.got[0].data[j]; x != 0; x &= x - 1 {
			diff++
		}
	}
	if diff != 1 {
		t.Errorf("%d bits differ from the finished packet", diff)
	}
}

// The limit: the qdisc takes limit packets; the next is refused with the
// full qdisc's error and counted.
func TestNetemLimit(t *testing.T) {
	cfg := stack.NetemConfig{Latency: time.Second, Limit: 5}
	w, q, errs := run(t, cfg, 7, 100, 0)
	for i, err := range errs {
		if full := i >= 5; full != errors.Is(err, stack.ErrXmitQueueFull) {
			t.Errorf("packet %d: %v", i, err)
		}
	}
	if st := q.Stats(); st.Drops != 2 || st.Qlen != 5 || st.Backlog != 500 || len(w.got) != 0 {
		t.Errorf("stats %+v, %d arrived", st, len(w.got))
	}
}

// The same seed gives the same run; another seed another.
func TestNetemDeterministic(t *testing.T) {
	cfg := stack.NetemConfig{Latency: 5 * time.Millisecond, Jitter: 2 * time.Millisecond, Loss: 5 * pct, Duplicate: 5 * pct, Reorder: 10 * pct, Gap: 1, Corrupt: pct}
	trace := func(s uint64) []arrival {
		c := cfg
		c.Seed = s
		w, _, _ := run(t, c, 2000, 100, time.Second)
		return w.got
	}
	same := func(a, b []arrival) bool {
		return slices.EqualFunc(a, b, func(x, y arrival) bool { return x.at == y.at && x.id == y.id && string(x.data) == string(y.data) })
	}
	a, b, c := trace(1), trace(1), trace(2)
	if !same(a, b) {
		t.Error("two runs with one seed differ")
	}
	if same(a, c) {
		t.Error("two seeds gave one run")
	}
}

// A stopped queue holds netem's next packet (requeued, counted) until the
// driver wakes it; nothing is lost.
func TestNetemStoppedQueue(t *testing.T) {
	clk, h, d, w, q := netemHost(t, 1, stack.NetemConfig{Latency: time.Millisecond})
	w.busy = 1
	for i := range 3 {
		frame(t, h, d, uint32(i), 100)
	}
	clk.RunFor(2 * time.Millisecond)
	if len(w.got) != 0 || !d.TxQueue(0).Stopped() {
		t.Fatalf("%d arrived while stopped", len(w.got))
	}
	d.TxQueue(0).Wake()
	clk.RunFor(time.Millisecond)
	if len(w.got) != 3 {
		t.Fatalf("%d arrived after the wake", len(w.got))
	}
	for i, a := range w.got {
		if a.id != uint32(i) {
			t.Errorf("order: %d at %d", a.id, i)
		}
	}
	if st := q.Stats(); st.Packets != 3 || st.Qlen != 0 {
		t.Errorf("stats %+v", st)
	}
}

// Grafting and removing: the default queueing comes back and sends at
// once; the carrier going off empties netem without counting drops.
func TestNetemGraftAndReset(t *testing.T) {
	clk, h, d, w, q := netemHost(t, 1, stack.NetemConfig{Latency: time.Second})
	frame(t, h, d, 1, 100)
	d.CarrierOff()
	if st := q.Stats(); st.Qlen != 0 || st.Drops != 0 {
		t.Errorf("after carrier off: %+v", st)
	}
	d.CarrierOn()
	frame(t, h, d, 2, 100)
	if old := d.GraftQdisc(nil); old != q || d.Qdisc() != nil || d.QdiscKind() != "pfifo_fast" {
		t.Fatalf("graft nil: %v %v", old, d.Qdisc())
	}
	frame(t, h, d, 3, 100)
	clk.RunFor(2 * time.Second)
	if len(w.got) != 1 || w.got[0].id != 3 || h.Pool().Live() != 0 {
		t.Errorf("arrived %v, %d skbs live", w.got, h.Pool().Live())
	}
}

// On a multiqueue device netem is one root for every queue; each packet
// still goes out on the queue it was mapped to.
func TestNetemMultiqueue(t *testing.T) {
	clk, h, d, w, q := netemHost(t, 4, stack.NetemConfig{Latency: time.Millisecond})
	if q.Refcnt() != 5 {
		t.Errorf("refcnt %d, want 5", q.Refcnt())
	}
	for i := range 8 {
		s := h.Pool().Alloc(100 + stack.NetIPAlign)
		s.Reserve(stack.NetIPAlign)
		f := s.Put(100)
		clear(f)
		binary.BigEndian.PutUint32(f[stack.EthHdrLen+28:], uint32(i))
		s.Dev, s.QueueMapping, s.TxQueueSet = d, uint16(i%4), true
		stack.DevQueueXmit(s)
	}
	clk.RunFor(2 * time.Millisecond)
	if len(w.got) != 8 {
		t.Fatalf("%d arrived", len(w.got))
	}
	for i := range 4 {
		if p, _, _ := d.TxQueue(i).Stats.Snapshot(); p != 2 {
			t.Errorf("queue %d sent %d", i, p)
		}
	}
}

// A super-packet to corrupt is cut into its segments first
// (netem_segment): each arrives as the segment GSO makes of it, with one
// bit flipped (corrupt 100% draws again for every segment).
func TestNetemCorruptGSO(t *testing.T) {
	const mss, segs = 100, 3
	clk, h, d, w, q := netemHost(t, 1, stack.NetemConfig{Corrupt: ^uint32(0), Seed: seed})
	build := func(f []byte) {
		binary.BigEndian.PutUint16(f[12:], stack.EthPIPv4)
		ip := header.IPv4(f[stack.EthHdrLen:])
		ip[0], ip[8], ip[9] = 0x45, 64, header.ProtoTCP
		ip.SetTotalLen(uint16(len(f) - stack.EthHdrLen))
		copy(ip[12:], []byte{198, 18, 0, 1, 198, 18, 0, 2})
		ip.UpdateChecksum()
		th := header.TCP(ip[20:])
		th[12] = 5 << 4
		th.SetFlags(header.TCPAck)
		th.SetSeq(1000)
		for i := 40; i < len(ip); i++ {
			ip[i] = byte(i)
		}
		th.SetChecksum(header.Fold(header.PseudoHeaderIPv4(ip.Src(), ip.Dst(), header.ProtoTCP, 0)))
	}
	n := stack.EthHdrLen + 40 + segs*mss
	s := h.Pool().Alloc(n + stack.NetIPAlign)
	s.Reserve(stack.NetIPAlign)
	build(s.Put(n))
	s.GSOSize, s.GSOSegs, s.GSOType = mss, segs, stack.GSOTCPv4
	s.Dev = d
	if err := stack.DevQueueXmit(s); err != nil {
		t.Fatal(err)
	}
	clk.RunFor(time.Millisecond)
	ref := make([]byte, n)
	build(ref)
	var want [][]byte
	if _, r := offload.SegmentTCPv4(ref, stack.EthHdrLen, 20, 20, mss, false, make([]byte, 65536), func(seg []byte) {
		want = append(want, append([]byte(nil), seg...))
	}); r != offload.SegmentOK {
		t.Fatal(r)
	}
	if len(w.got) != segs {
		t.Fatalf("%d arrived", len(w.got))
	}
	for i, a := range w.got {
		diff := 0
		for j := range a.data {
			for x := a.data[j] ^ want[i][j]; x != 0; x &= x - 1 {
				diff++
			}
		}
		if len(a.data) != len(want[i]) || diff != 1 {
			t.Errorf("segment %d: %d bytes, %d bits differ", i, len(a.data), diff)
		}
	}
	if st := q.Stats(); st.Packets != segs || st.Drops != 0 || h.Pool().Live() != 0 {
		t.Errorf("stats %+v, %d skbs live", st, h.Pool().Live())
	}
}
