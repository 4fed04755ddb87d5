package hw

import (
	"bytes"
	"slices"
	"sync"
	"testing"
	"time"

	"vnic/ring"
)

// waitPort is a port that records what it is sent and when and, for the
// frame of index at (counting from 0), answers "not ready until hold from
// now", calling onWait first if set.
type waitPort struct {
	clock  Clock
	at     int
	hold   time.Duration
	onWait func()

	mu      sync.Mutex
	frames  [][]byte
	times   []time.Duration
	readyAt time.Duration
}

func (p *waitPort) Transmit(f []byte) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	p.frames = append(p.frames, bytes.Clone(f))
	p.times = append(p.times, now)
	if len(p.frames)-1 == p.at {
		if p.onWait != nil {
			p.onWait()
		}
		p.readyAt = now + p.hold
		return p.readyAt
	}
	return 0
}

func (p *waitPort) sent() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.frames)
}

// burstTrain is a train of frames of every kind the engine treats apart:
// short ones padded (PSP) beside long ones, two-descriptor ones, runts no
// MAC sends, broadcast and unicast.
func burstTrain() [][]byte {
	sizes := []int{14, 40, 59, 60, 61, 1514, 3000, 100, 10, 42}
	var fs [][]byte
	for i := 0; i < 45; i++ {
		dst := bcastMAC
		if i%3 == 0 {
			dst = mustMAC("02:00:00:00:00:77")
		}
		n := sizes[i%len(sizes)]
		f := frame(dst, max(n, 14), [4]byte{198, 18, 0, byte(i)}, uint16(1000+i))
		fs = append(fs, f[:n])
	}
	return fs
}

// The real-time engine's bursts put on the wire what the virtual-time
// engine, one packet at a time, does: the same frames, byte for byte (a
// short frame's padding never reaches into the next frame of its burst),
// the same write-backs, TDH and statistics.
func TestTxBurstMatchesOneByOne(t *testing.T) {
	type result struct {
		wire  [][]byte
		dd    []bool
		tdh   uint32
		stats []uint32
	}
	run := func(clock Clock) result {
		r := newRigOn(t, false, clock)
		port := &waitPort{clock: clock, at: -1}
		r.dev.Connect(port)
		r.txRing(0, 128)
		for _, f := range burstTrain() {
			r.send(0, f)
		}
		r.doorbell(0)
		var res result
		res.wire, res.tdh = port.sent(), r.rd(TDH(0))
		for i := uint32(0); i < r.tx[0].n; i++ {
			res.dd = append(res.dd, ring.TxDesc(r.tx[0].desc.Buf[i*16:i*16+16]).Done())
		}
		for _, off := range []uint32{GPTC, TPT, GOTCL, TOTL, PTC64, PTC127, PTC1023, PTC1522, BPTC, MPTC, VTXNL} {
			res.stats = append(res.stats, r.rd(off))
		}
		return res
	}
	virt, real := run(NewVirtualClock()), run(NewRealClock())
	if len(virt.wire) != 41 { // 45 frames, 4 runts
		t.Fatalf("virtual time sent %d frames, want 41", len(virt.wire))
	}
	if len(real.wire) != len(virt.wire) {
		t.Fatalf("bursts sent %d frames, one by one %d", len(real.wire), len(virt.wire))
	}
	for i := range virt.wire {
		if !bytes.Equal(real.wire[i], virt.wire[i]) {
			t.Fatalf("frame %d: bursts sent % x, one by one % x", i, real.wire[i], virt.wire[i])
		}
	}
	if real.tdh != virt.tdh || !slices.Equal(real.dd, virt.dd) || !slices.Equal(real.stats, virt.stats) {
		t.Fatalf("bursts: TDH %d DD %v stats %v; one by one: TDH %d DD %v stats %v",
			real.tdh, real.dd, real.stats, virt.tdh, virt.dd, virt.stats)
	}
}

// A burst raises its queue's cause once, after its last write-back: the
// interrupt finds every descriptor of the burst done.
func TestTxBurstInterruptsAfterWriteBack(t *testing.T) {
	r := newRigOn(t, false, NewRealClock())
	r.msix()
	tr := r.txRing(0, 128)
	var done []int
	r.dev.MSIX().SetTrace(func(vec int) {
		if vec != 1 {
			return
		}
		n := 0
		for i := uint32(0); i < tr.n; i++ {
			if ring.TxDesc(tr.desc.Buf[i*16 : i*16+16]).Done() {
				n++
			}
		}
		done = append(done, n)
	})
	for i := 0; i < 40; i++ {
		r.send(0, frame(bcastMAC, 60, [4]byte{198, 18, 0, byte(i)}, uint16(i)))
	}
	r.doorbell(0)
	// EIAM masks the vector as it fires: the second burst only sets EICR.
	if !slices.Equal(done, []int{txBurst}) {
		t.Fatalf("interrupts found %v descriptors done, want [%d]", done, txBurst)
	}
	if got := r.rd(GPTC); got != 40 {
		t.Fatalf("GPTC %d, want 40", got)
	}
}

// In virtual time the engine stops exactly where the port asks it to wait:
// the packets after that one stay on the ring, not written back, until the
// port is ready.
func TestTxVirtualStopsAtPort(t *testing.T) {
	r := newRig(t, false)
	port := &waitPort{clock: r.clk, at: 4, hold: 10 * time.Microsecond}
	r.dev.Connect(port)
	r.txRing(0, 64)
	for i := 0; i < 20; i++ {
		r.send(0, frame(bcastMAC, 60, [4]byte{198, 18, 0, byte(i)}, uint16(i)))
	}
	r.doorbell(0)
	if n, tdh := len(port.sent()), r.rd(TDH(0)); n != 5 || tdh != 5 {
		t.Fatalf("before the port is ready: %d frames sent, TDH %d; want 5 and 5", n, tdh)
	}
	if ring.TxDesc(r.tx[0].desc.Buf[5*16 : 6*16]).Done() {
		t.Fatal("descriptor 5 written back before the port could take it")
	}
	r.clk.RunFor(time.Millisecond)
	if n, tdh := len(port.sent()), r.rd(TDH(0)); n != 20 || tdh != 20 {
		t.Fatalf("after: %d frames sent, TDH %d; want 20 and 20", n, tdh)
	}
}

// In real time a port that asks the engine to wait in the middle of a
// burst has the rest of the burst wait in the MAC, in order, and go when
// the port is ready; none is lost or sent twice.
func TestTxBurstWaitsForPort(t *testing.T) {
	clock := NewRealClock()
	r := newRigOn(t, false, clock)
	tdh := ^uint32(0)
	port := &waitPort{clock: clock, at: 4, hold: time.Millisecond, onWait: func() { tdh = r.rd(TDH(0)) }}
	r.dev.Connect(port)
	r.txRing(0, 64)
	var want [][]byte
	for i := 0; i < 40; i++ {
		f := frame(bcastMAC, 60, [4]byte{198, 18, 0, byte(i)}, uint16(i))
		want = append(want, f)
		r.send(0, f)
	}
	r.doorbell(0)
	deadline := time.Now().Add(10 * time.Second)
	for len(port.sent()) < len(want) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Microsecond)
	}
	time.Sleep(time.Millisecond) // a frame sent twice would come now
	port.mu.Lock()
	defer port.mu.Unlock()
	if tdh != txBurst {
		t.Fatalf("TDH %d when the port asked to wait, want %d (the burst taken)", tdh, txBurst)
	}
	if !slices.EqualFunc(port.frames, want, bytes.Equal) {
		t.Fatalf("wire: %d frames, want the %d sent, in order", len(port.frames), len(want))
	}
	for i := port.at + 1; i < len(port.times); i++ {
		if port.times[i] < port.readyAt {
			t.Fatalf("frame %d sent at %v, before the port was ready (%v)", i, port.times[i], port.readyAt)
		}
	}
	if tdh := r.rd(TDH(0)); tdh != 40 {
		t.Fatalf("TDH %d, want 40", tdh)
	}
}

// A reset empties the MAC: the rest of a burst waiting there is dropped,
// and the engine starts afresh on the reprogrammed ring.
func TestTxBurstResetDropsHeld(t *testing.T) {
	clock := NewRealClock()
	r := newRigOn(t, false, clock)
	port := &waitPort{clock: clock, at: 4, hold: time.Hour}
	r.dev.Connect(port)
	r.txRing(0, 64)
	for i := 0; i < 20; i++ {
		r.send(0, frame(bcastMAC, 60, [4]byte{198, 18, 0, byte(i)}, uint16(i)))
	}
	r.doorbell(0)
	if n := len(port.sent()); n != 5 {
		t.Fatalf("at the wait: %d frames sent, want 5", n)
	}
	r.wr(CTRL, CtrlRST)
	r.txRing(0, 64)
	f := frame(bcastMAC, 100, [4]byte{198, 18, 1, 1}, 7)
	r.send(0, f)
	r.doorbell(0)
	got := port.sent()
	if len(got) != 6 || !bytes.Equal(got[5], f) {
		t.Fatalf("after the reset: %d frames sent (want 6, the last the new one)", len(got))
	}
}

// txBench is a real-time device whose TX queue 0 (1024 descriptors) holds
// the same n-byte frame in every buffer, sending to a Sink; batch reposts
// k descriptors and rings the doorbell once, as a driver with xmit_more
// does.
type txBench struct {
	r    *rig
	tr   *rigRing
	size int
}

func newTxBench(t testing.TB, size int) *txBench {
	r := newRigOn(t, false, NewRealClock())
	r.msix()
	tr := r.txRing(0, 1024)
	f := frame(bcastMAC, size, [4]byte{198, 18, 0, 1}, 9)
	for _, b := range tr.bufs {
		copy(b.Buf, f)
	}
	return &txBench{r: r, tr: tr, size: size}
}

func (b *txBench) batch(k int) {
	tr := b.tr
	for i := 0; i < k; i++ {
		ring.TxDesc(tr.desc.Buf[tr.tail*16 : tr.tail*16+16]).SetData(ring.TxData{Addr: tr.bufs[tr.tail].Addr, Len: uint16(b.size),
			Cmd: ring.TxCmdIFCS | ring.TxCmdEOP | ring.TxCmdRS, PayLen: uint32(b.size)})
		tr.tail = ring.Next(tr.tail, tr.n)
	}
	b.r.doorbell(0)
}

// The TX engine allocates nothing per packet, in bursts or one by one.
func TestTxEngineZeroAllocs(t *testing.T) {
	b := newTxBench(t, 60)
	for _, k := range []int{1, 64} {
		if n := testing.AllocsPerRun(200, func() { b.batch(k) }); n != 0 {
			t.Errorf("%d-packet doorbells: %v allocations a doorbell", k, n)
		}
	}
	if got, want := b.r.out.Frames, uint64(201+201*64); got != want {
		t.Fatalf("sink counted %d frames, want %d", got, want)
	}
}

// BenchmarkTransmitRealTime is the TX engine alone on a real-time device
// (its locks on): one op is one packet, 64 of them a doorbell, 64- and
// 1514-byte frames.
func BenchmarkTransmitRealTime(b *testing.B) {
	for _, size := range []int{60, 1510} {
		b.Run(map[int]string{60: "size=64", 1510: "size=1514"}[size], func(b *testing.B) {
			tb := newTxBench(b, size)
			b.ReportAllocs()
			for i := 0; i < b.N; i += 64 {
				tb.batch(64)
			}
			b.StopTimer()
			tb.r.out.Lock()
			defer tb.r.out.Unlock()
			if tb.r.out.Frames < uint64(b.N) {
				b.Fatalf("sink counted %d of %d frames", tb.r.out.Frames, b.N)
			}
		})
	}
}

// A real-time cable takes a burst as one train: the other end receives
// every frame of it, padded, in order, and the cable counts them; with a
// capture on it goes frame by frame, with the same result.
func TestTxBurstOverRealTimeCable(t *testing.T) {
	for _, tapped := range []bool{false, true} {
		clock := NewRealClock()
		c := NewCable(clock, 1000)
		if tapped {
			var buf bytes.Buffer
			w, err := NewPcapWriter(&buf, 65535)
			if err != nil {
				t.Fatal(err)
			}
			c.TapEnd(0, w)
		}
		dmaA, dmaB := NewDMA(8<<20), NewDMA(8<<20)
		da, _ := NewDevice(DeviceConfig{Name: "a", MAC: rigMAC}, clock, dmaA)
		db, _ := NewDevice(DeviceConfig{Name: "b", MAC: rigMAC}, clock, dmaB)
		a := &rig{t: t, dma: dmaA, dev: da}
		b := &rig{t: t, dma: dmaB, dev: db}
		c.Plug(da, db)
		b.rxRing(0, 128, 2048)
		b.wr(RCTL, RctlEN|RctlBAM|RctlSECRC|RctlUPE) // every frame of the train
		a.txRing(0, 128)
		var want [][]byte
		var bytesWant uint64
		for _, f := range burstTrain() {
			if len(f) > 2048 || len(f) < 14 {
				continue // one receive buffer a frame; runts never leave
			}
			a.send(0, f)
			w := append(bytes.Clone(f), make([]byte, max(0, MinFrame-len(f)))...)
			want = append(want, w)
			bytesWant += uint64(len(w))
		}
		a.doorbell(0)
		got := b.reap(0)
		if !slices.EqualFunc(got, want, bytes.Equal) {
			t.Fatalf("tapped %v: the other end received %d frames, want the %d sent, in order and padded", tapped, len(got), len(want))
		}
		if frames, nbytes, _, _ := c.Stats(); frames != uint64(len(want)) || nbytes != bytesWant {
			t.Fatalf("tapped %v: cable counted %d frames %d bytes, want %d and %d", tapped, frames, nbytes, len(want), bytesWant)
		}
	}
}

// A Sink takes a burst in one call and counts what the frames one by one
// would have: frames and padded bytes.
func TestTxBurstSinkCounts(t *testing.T) {
	r := newRigOn(t, false, NewRealClock())
	r.txRing(0, 128)
	var frames, nbytes uint64
	for _, f := range burstTrain() {
		r.send(0, f)
		if len(f) >= 14 {
			frames++
			nbytes += uint64(max(len(f), MinFrame))
		}
	}
	r.doorbell(0)
	r.out.Lock()
	defer r.out.Unlock()
	if r.out.Frames != frames || r.out.Bytes != nbytes {
		t.Fatalf("sink counted %d frames %d bytes, want %d and %d", r.out.Frames, r.out.Bytes, frames, nbytes)
	}
}
