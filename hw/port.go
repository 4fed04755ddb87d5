package hw

import (
	"sync"
	"time"
)

// Port is where a device's MAC sends frames.
type Port interface {
	// Transmit puts frame on the wire. The frame is only valid during the
	// call. It returns the time at which the port can take the next frame;
	// a time at or before now means at once.
	Transmit(frame []byte) time.Duration
}

// burstPort is a port that takes several frames in one call, as a MAC
// hands its FIFO's frames to a wire ready at once: transmitBurst does what
// Transmit does for each frame in turn, and returns when the port can take
// more. The frames are only valid during the call. The TX engine uses it
// in real time only.
type burstPort interface {
	transmitBurst(frames [][]byte) time.Duration
}

// Receiver takes frames off the wire (a Device).
type Receiver interface {
	Receive(frame []byte)
}

// TxFIFOBytes is the MAC's transmit packet buffer: the TX engine fetches
// packets (and writes their descriptors back) while the frames waiting for
// the wire fit in it, 24 KiB as in the 82576's default packet buffer split.
const TxFIFOBytes = 24 * 1024

// WireOverhead is what each frame costs on Ethernet beyond its bytes
// without FCS: FCS 4, preamble and SFD 8, inter-frame gap 12.
const WireOverhead = 4 + 8 + 12

// Cable joins two devices back to back, full duplex. In virtual time each
// direction serialises frames at the link speed (frame + 24 bytes of FCS,
// preamble and gap), so 10 Gb/s carries at most 14.88 Mpps of 60-byte
// frames, and delivers each frame when its last bit arrives. In real time it
// hands frames over at once.
type Cable struct {
	clock  Clock
	native int64 // the medium's rate, bits per second
	bps    int64 // the rate the two ends agreed
	dir    [2]cableDir
	tap    *PcapWriter
	ends   [2]*Device
	negT   Timer
	dropT  Timer
}

// LinkSetupTime is how long the two ends take to agree on a link after one
// of them restarts autonegotiation or changes its forced speed (real
// 1000BASE-T takes seconds; the model keeps it short).
const LinkSetupTime = time.Millisecond

type cableDir struct {
	c        *Cable
	tap      *PcapWriter // frames this end sends
	mu       sync.Mutex
	to       Receiver
	wireFree int64      // picoseconds: exact at any line rate
	inflight []inflight // ring buffer of frames on the wire, in arrival order
	head, n  int
	pool     [][]byte
	timer    Timer
	frames   uint64
	bytes    uint64
}

type inflight struct {
	at    time.Duration
	frame []byte
}

// NewCable returns a cable of the given speed in Mb/s.
func NewCable(clock Clock, mbps int) *Cable {
	c := &Cable{clock: clock, bps: int64(mbps) * 1e6, native: int64(mbps) * 1e6}
	c.negT = clock.NewTimer(c.negotiate)
	c.dropT = clock.NewTimer(c.drop)
	for i := range c.dir {
		d := &c.dir[i]
		d.c = c
		d.timer = clock.NewTimer(d.arrive)
	}
	return c
}

// Plug connects a and b with the cable and brings carrier up on both.
func (c *Cable) Plug(a, b *Device) {
	c.dir[0].to, c.dir[1].to = b, a
	c.ends = [2]*Device{a, b}
	a.Connect(cableEnd{&c.dir[0]})
	b.Connect(cableEnd{&c.dir[1]})
	for _, d := range c.ends {
		d.mu.Lock()
		d.negotiator = c
		d.mu.Unlock()
	}
	c.negotiate()
}

// renegotiate is a PHY's request: the other end loses the link at once
// (from outside the requesting device's lock), and the ends agree again
// after LinkSetupTime.
func (c *Cable) renegotiate() {
	c.dropT.Reset(0)
	c.negT.Reset(LinkSetupTime)
}

// repower is a PHY powered down or up: the ends agree again at once.
func (c *Cable) repower() { c.negT.Reset(0) }

func (c *Cable) drop() {
	for _, d := range c.ends {
		d.setNegotiated(false, 0, false)
	}
}

// Negotiate is the outcome of two PHYs on a medium of native Mb/s: both
// autonegotiating, the link runs at the medium's rate, or at the highest
// speed both advertise when one restricts its advertisement; one
// forced, the other detects its speed (parallel detection); both forced,
// their speeds must match. A forced speed the medium cannot carry, or
// unequal forced speeds, mean no link; so does a PHY powered down.
func Negotiate(native int, a, b PHYConfig) (ok bool, mbps int, full bool) {
	if a.PowerDown || b.PowerDown {
		return false, 0, false // a PHY powered down sends nothing
	}
	switch {
	case a.Autoneg && b.Autoneg:
		m := native
		for _, adv := range []int{a.AdvMbps, b.AdvMbps} {
			if adv != 0 {
				m = min(m, adv)
			}
		}
		if m <= 0 {
			return false, 0, false
		}
		return true, m, true
	case a.Autoneg:
		mbps, full = b.Mbps, b.Full
	case b.Autoneg:
		mbps, full = a.Mbps, a.Full
	default:
		if a.Mbps != b.Mbps {
			return false, 0, false
		}
		mbps, full = a.Mbps, a.Full && b.Full
	}
	if mbps > native {
		return false, 0, false
	}
	return true, mbps, full
}

func (c *Cable) negotiate() {
	if c.ends[0] == nil {
		return
	}
	ok, mbps, full := Negotiate(int(c.native/1e6), c.ends[0].phyConfig(), c.ends[1].phyConfig())
	if ok {
		c.bps = int64(mbps) * 1e6
	}
	for _, d := range c.ends {
		d.setNegotiated(ok, mbps, full)
	}
}

// Rate returns the agreed rate in Mb/s.
func (c *Cable) Rate() int { return int(c.bps / 1e6) }

// Tap copies every frame either end sends to w.
func (c *Cable) Tap(w *PcapWriter) { c.tap = w }

// TapEnd copies every frame end i (0 for a, 1 for b) sends to w.
func (c *Cable) TapEnd(i int, w *PcapWriter) { c.dir[i].tap = w }

// Stats returns the frames and bytes carried from end 0 (a) and end 1 (b).
// Each direction is read under its lock: in real time the sending CPUs
// count while a test or report reads.
func (c *Cable) Stats() (aFrames, aBytes, bFrames, bBytes uint64) {
	aFrames, aBytes = c.dir[0].counts()
	bFrames, bBytes = c.dir[1].counts()
	return
}

func (d *cableDir) counts() (frames, bytes uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.frames, d.bytes
}

// InFlight returns the frames on the wire now, from end 0 and from end 1.
func (c *Cable) InFlight() (a, b uint64) {
	for i, p := range []*uint64{&a, &b} {
		d := &c.dir[i]
		d.mu.Lock()
		*p = uint64(d.n)
		d.mu.Unlock()
	}
	return a, b
}

// SerializationTime is how long a frame of n bytes (no FCS) occupies the
// wire, rounded down to the nanosecond (the cable keeps picoseconds).
func (c *Cable) SerializationTime(n int) time.Duration {
	return time.Duration(c.serializationPs(n) / 1000)
}

func (c *Cable) serializationPs(n int) int64 {
	return int64(n+WireOverhead) * 8 * 1_000_000_000_000 / c.bps
}

type cableEnd struct{ d *cableDir }

func (e cableEnd) Transmit(frame []byte) time.Duration {
	d := e.d
	c := d.c
	if c.tap != nil {
		c.tap.Write(c.clock.Now(), frame)
	}
	if d.tap != nil {
		d.tap.Write(c.clock.Now(), frame)
	}
	if !c.clock.Virtual() {
		d.mu.Lock()
		d.frames++
		d.bytes += uint64(len(frame))
		d.mu.Unlock()
		d.to.Receive(frame)
		return 0
	}
	now := c.clock.Now()
	start := d.wireFree
	if nowPs := int64(now) * 1000; start < nowPs {
		start = nowPs
	}
	d.wireFree = start + c.serializationPs(len(frame))
	done := time.Duration((d.wireFree + 999) / 1000) // the last bit, in whole ns
	d.frames++
	d.bytes += uint64(len(frame))
	var buf []byte
	if n := len(d.pool); n > 0 {
		buf, d.pool = d.pool[n-1][:0], d.pool[:n-1]
	}
	buf = append(buf, frame...)
	if d.n == len(d.inflight) {
		grown := make([]inflight, 2*len(d.inflight)+16)
		for i := 0; i < d.n; i++ {
			grown[i] = d.inflight[(d.head+i)%len(d.inflight)]
		}
		d.inflight, d.head = grown, 0
	}
	d.inflight[(d.head+d.n)%len(d.inflight)] = inflight{at: done, frame: buf}
	d.n++
	if d.n == 1 {
		d.timer.Reset(done - now)
	}
	// The MAC's transmit FIFO holds TxFIFOBytes of frames waiting for the
	// wire: the next frame may come once the backlog fits in it again.
	// (Rounded down to the nanosecond: an early hand-over still starts on
	// the wire exactly at wireFree.)
	fifoPs := int64(TxFIFOBytes) * 8 * 1_000_000_000_000 / c.bps
	return time.Duration((d.wireFree - fifoPs) / 1000)
}

// transmitBurst is Transmit for each of frames; in real time without a
// capture the direction's counters are taken once and the other end
// receives the frames as one train (Device.ReceiveBurst).
func (e cableEnd) transmitBurst(frames [][]byte) time.Duration {
	d := e.d
	c := d.c
	if c.clock.Virtual() || c.tap != nil || d.tap != nil {
		// Frame by frame: each has its own time on the wire (virtual
		// time) or in the capture.
		var ready time.Duration
		for _, f := range frames {
			ready = max(ready, e.Transmit(f))
		}
		return ready
	}
	var bytes uint64
	for _, f := range frames {
		bytes += uint64(len(f))
	}
	d.mu.Lock()
	d.frames += uint64(len(frames))
	d.bytes += bytes
	d.mu.Unlock()
	if br, ok := d.to.(burstReceiver); ok {
		br.ReceiveBurst(frames)
		return 0
	}
	for _, f := range frames {
		d.to.Receive(f)
	}
	return 0
}

// burstReceiver is a Receiver that takes a train of frames in one call (a
// Device).
type burstReceiver interface {
	ReceiveBurst(frames [][]byte)
}

// arrive delivers every frame whose last bit has arrived (virtual time).
func (d *cableDir) arrive() {
	now := d.c.clock.Now()
	for d.n > 0 && d.inflight[d.head].at <= now {
		f := d.inflight[d.head]
		d.inflight[d.head] = inflight{}
		d.head = (d.head + 1) % len(d.inflight)
		d.n--
		d.to.Receive(f.frame)
		d.pool = append(d.pool, f.frame)
	}
	if d.n > 0 {
		d.timer.Reset(d.inflight[d.head].at - now)
	}
}

// Sink is a port that counts and discards what it is sent; benchmarks use
// it. Read Frames and Bytes under Lock.
type Sink struct {
	sync.Mutex
	Frames uint64
	Bytes  uint64
}

// Transmit counts the frame.
func (s *Sink) Transmit(frame []byte) time.Duration {
	s.Lock()
	s.Frames++
	s.Bytes += uint64(len(frame))
	s.Unlock()
	return 0
}

// transmitBurst counts the frames under one hold of the lock.
func (s *Sink) transmitBurst(frames [][]byte) time.Duration {
	var bytes uint64
	for _, f := range frames {
		bytes += uint64(len(f))
	}
	s.Lock()
	s.Frames += uint64(len(frames))
	s.Bytes += bytes
	s.Unlock()
	return 0
}

// Tee is a port that copies what it sends to a pcap writer, then passes it on.
type Tee struct {
	Next  Port
	W     *PcapWriter
	Clock Clock
}

// Transmit writes the frame to the capture and sends it on.
func (t Tee) Transmit(frame []byte) time.Duration {
	t.W.Write(t.Clock.Now(), frame)
	if t.Next == nil {
		return 0
	}
	return t.Next.Transmit(frame)
}
