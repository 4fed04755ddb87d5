package stack

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"
	"vnic/header"
)

// PktgenConfig describes a stream of UDP/IPv4 test frames, like the
// kernel's pktgen: Flows flows that differ in source address and ports,
// sent round robin at Rate packets per second in bursts.
type PktgenConfig struct {
	Dev    *NetDevice
	CPU    int     // CPU whose task context sends
	DstMAC MAC     // the peer's MAC
	SrcIP  [4]byte // first flow's source; flow i adds i to the last two bytes
	DstIP  [4]byte
	Size   int     // frame length without FCS, 60..MTU+14
	Flows  int     // ≥ 1
	Rate   float64 // packets per second; 0 sends Count back to back
	Burst  int     // packets per send, default 1
	Count  uint64  // total packets, 0 = until Stop
	// Queue pins the TX queue (pktgen's queue_map); -1 lets the flow hash pick.
	Queue int
}

// Pktgen sends a configured stream through DevQueueXmit.
type Pktgen struct {
	cfg    PktgenConfig
	host   *Host
	cpu    CPU
	timer  Timer
	tickFn func()
	src    MAC // the device's address, read once per burst
	// headers caches each flow's Ethernet/IPv4/UDP header (42 bytes): the
	// frame differs between flows only there.
	headers []byte
	cache   *SKBCache // the sending task's skbs, while it runs
	start   time.Duration
	issued  uint64 // real time: packets due so far
	next    int
	stop    atomic.Bool
	// waiting: a back-to-back stream found a qdisc full and waits for
	// room (resumeFn registered with TxQueue.OnRoom); retry after a down
	// device or carrier loss is paced by the timer instead.
	waiting  atomic.Bool
	resumeFn func()

	sent, failed, refused Counter
}

// Refused returns how often a back-to-back stream backed off.
func (p *Pktgen) Refused() uint64 { return p.refused.Load() }

// Sent returns the packets handed to the device queue.
func (p *Pktgen) Sent() uint64 { return p.sent.Load() }

// Failed returns the packets the stack refused (qdisc full, link down).
func (p *Pktgen) Failed() uint64 { return p.failed.Load() }

// pktgen's frame layout.
const (
	pgIPOff  = EthHdrLen
	pgUDPOff = EthHdrLen + 20
	pgHdrLen = pgUDPOff + 8
	// PktgenPort is the destination port (discard); flow i uses source
	// port PktgenSrcPort+i, clear of the well-known ports dissectors
	// recognise.
	PktgenPort    = 9
	PktgenSrcPort = 10000
)

// NewPktgen validates cfg and returns a stopped generator.
func (h *Host) NewPktgen(cfg PktgenConfig) (*Pktgen, error) {
	if cfg.Dev == nil {
		return nil, fmt.Errorf("stack: pktgen: no device")
	}
	if cfg.Flows < 1 {
		cfg.Flows = 1
	}
	if cfg.Burst < 1 {
		cfg.Burst = 1
	}
	if cfg.Size < 60 || cfg.Size > cfg.Dev.MTU()+EthHdrLen {
		return nil, fmt.Errorf("stack: pktgen: frame size %d outside [60, %d]", cfg.Size, cfg.Dev.MTU()+EthHdrLen)
	}
	if cfg.Rate < 0 {
		return nil, fmt.Errorf("stack: pktgen: negative rate")
	}
	if cfg.CPU < 0 || cfg.CPU >= len(h.cpus) {
		return nil, fmt.Errorf("stack: pktgen: no CPU %d", cfg.CPU)
	}
	p := &Pktgen{cfg: cfg, host: h, cpu: h.cpus[cfg.CPU], headers: make([]byte, cfg.Flows*pgHdrLen)}
	p.tickFn = p.tick // one method value: re-queueing it allocates nothing
	p.resumeFn = p.resume
	p.timer = h.clock.NewTimer(func() { p.cpu.RunTask(p.tickFn) })
	return p, nil
}

// Start begins sending.
func (p *Pktgen) Start() { p.cpu.RunTask(p.tickFn) }

// Stop ends sending after the current burst.
func (p *Pktgen) Stop() { p.stop.Store(true); p.timer.Stop() }

// Done reports whether Count packets were sent.
//
// Paced streams (Rate > 0) count a packet the stack refused as failed and
// move on; back-to-back streams (Rate 0) back off and retry it, so they end
// with Count packets sent.
func (p *Pktgen) Done() bool {
	if p.cfg.Rate == 0 {
		return p.cfg.Count > 0 && p.sent.Load() >= p.cfg.Count
	}
	return p.cfg.Count > 0 && p.sent.Load()+p.failed.Load() >= p.cfg.Count
}

func (p *Pktgen) tick() {
	if p.stop.Load() {
		p.releaseCache()
		return
	}
	if p.cache == nil {
		p.cache = p.host.pool.NewCache()
	}
	p.src = p.cfg.Dev.Addr()
	n := p.cfg.Burst
	if p.cfg.Rate > 0 && !p.host.clock.Virtual() {
		// Real time: runtime timers are coarse, so send what is due by
		// now (at most 64 bursts at once) to keep the average rate.
		now := p.host.clock.Now()
		if p.issued == 0 {
			p.start = now
		}
		due := uint64(p.cfg.Rate*float64(now-p.start)/float64(time.Second)) + uint64(p.cfg.Burst)
		n = int(min(due-min(due, p.issued), uint64(64*p.cfg.Burst)))
		p.issued += uint64(n)
	}
	var refused error
	for i := 0; i < n && !p.Done(); i++ {
		if err := p.sendOne(); err != nil && p.cfg.Rate == 0 {
			refused = err // back off: let the softirqs drain the queue
			break
		}
	}
	p.cfg.Dev.KickTx()
	if p.Done() || p.stop.Load() {
		p.releaseCache()
		return
	}
	p.cache.Flush()
	if p.cfg.Rate == 0 {
		switch {
		case refused == nil:
			p.cpu.RunTask(p.tickFn)
		case refused == ErrXmitQueueFull && p.waitRoom():
		case refused == ErrXmitQueueFull:
			p.cpu.RunTask(p.tickFn) // drained meanwhile
		default:
			// Down or no carrier: nothing will make room soon; retry
			// at a bounded pace rather than spinning in zero time.
			p.timer.Reset(PktgenRetry)
		}
		return
	}
	p.timer.Reset(time.Duration(float64(p.cfg.Burst) / p.cfg.Rate * float64(time.Second)))
}

// releaseCache gives the skb cache back when the stream ends (a restart
// takes one again).
func (p *Pktgen) releaseCache() {
	if p.cache != nil {
		p.cache.Release()
		p.cache = nil
	}
}

// PktgenRetry is how long a back-to-back stream waits before retrying a
// device that is down or without carrier.
const PktgenRetry = time.Millisecond

// waitRoom registers the stream with every full TX queue of the device; the
// first to make room resumes it.
func (p *Pktgen) waitRoom() bool {
	p.waiting.Store(true)
	waits := false
	for _, q := range p.cfg.Dev.txq {
		if q.OnRoom(p.resumeFn) {
			waits = true
		}
	}
	if !waits {
		// No queue is full any more: the caller retries at once.
		p.waiting.Store(false)
		return false
	}
	return true
}

// resume runs from the qdisc that made room; later calls from the other
// queues it waited on find it running already.
func (p *Pktgen) resume() {
	if !p.waiting.CompareAndSwap(true, false) {
		return
	}
	p.cpu.RunTask(p.tickFn)
}

func (p *Pktgen) sendOne() error {
	skb := p.cache.Alloc(p.cfg.Size + NetIPAlign)
	skb.Reserve(NetIPAlign)
	f := skb.Put(p.cfg.Size)
	hdr := p.headers[p.next*pgHdrLen : (p.next+1)*pgHdrLen]
	if p.src != MAC(hdr[6:12]) {
		// First use of this flow, or the device's address changed.
		BuildUDPFrame(f, p.cfg.DstMAC, p.src, FlowAddrs(p.cfg.SrcIP, p.next), p.cfg.DstIP, uint16(PktgenSrcPort+p.next), PktgenPort)
		copy(hdr, f)
	} else {
		copy(f, hdr)
		clear(f[pgHdrLen:])
	}
	p.next = (p.next + 1) % p.cfg.Flows
	skb.Dev = p.cfg.Dev
	skb.ResetMACHeader()
	skb.Protocol = EthPIPv4
	if p.cfg.Queue >= 0 {
		skb.QueueMapping, skb.TxQueueSet = uint16(p.cfg.Queue), true
	}
	skb.XmitMore = true // the burst ends with KickTx
	if err := DevQueueXmit(skb); err != nil {
		if p.cfg.Rate == 0 {
			p.next = (p.next + p.cfg.Flows - 1) % p.cfg.Flows // resend this flow
			p.refused.Add(1)
		} else {
			p.failed.Add(1)
		}
		return err
	}
	p.sent.Add(1)
	return nil
}

// FlowAddrs returns flow i's source address: base plus i in the low 16 bits.
func FlowAddrs(base [4]byte, i int) [4]byte {
	v := binary.BigEndian.Uint32(base[:]) + uint32(i)
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], v)
	return a
}

// BuildUDPFrame fills f (its whole length) with an Ethernet/IPv4/UDP frame:
// DF set, TTL 64, a valid header checksum, UDP checksum 0 and a zero payload.
func BuildUDPFrame(f []byte, dst, src MAC, sip, dip [4]byte, sport, dport uint16) {
	copy(f[0:6], dst[:])
	copy(f[6:12], src[:])
	binary.BigEndian.PutUint16(f[12:14], EthPIPv4)
	ip := f[pgIPOff:]
	tot := len(f) - EthHdrLen
	ip[0], ip[1] = 0x45, 0
	binary.BigEndian.PutUint16(ip[2:4], uint16(tot))
	binary.BigEndian.PutUint16(ip[4:6], 0)
	binary.BigEndian.PutUint16(ip[6:8], 0x4000)
	ip[8], ip[9] = 64, 17
	ip[10], ip[11] = 0, 0
	copy(ip[12:16], sip[:])
	copy(ip[16:20], dip[:])
	binary.BigEndian.PutUint16(ip[10:12], header.Checksum(ip[:20]))
	u := f[pgUDPOff:]
	binary.BigEndian.PutUint16(u[0:2], sport)
	binary.BigEndian.PutUint16(u[2:4], dport)
	binary.BigEndian.PutUint16(u[4:6], uint16(tot-20))
	binary.BigEndian.PutUint16(u[6:8], 0)
	clear(u[8:])
}

// Sink is a protocol handler that counts what it receives, per flow (UDP
// source port minus PktgenSrcPort), and consumes it.
type Sink struct {
	packets, bytes Counter
	perFlow        []Counter
}

// NewSink returns a sink that counts up to flows flows.
func NewSink(flows int) *Sink { return &Sink{perFlow: make([]Counter, flows)} }

// Handle is the Handler.
func (s *Sink) Handle(skb *SKB) {
	s.packets.Add(1)
	s.bytes.Add(uint64(skb.Len()))
	d := skb.Data()
	if len(d) >= 24 && d[9] == 17 {
		f := int(binary.BigEndian.Uint16(d[20:22])) - PktgenSrcPort
		if f >= 0 && f < len(s.perFlow) {
			s.perFlow[f].Add(1)
		}
	}
	skb.Consume()
}

// Packets returns the packets received.
func (s *Sink) Packets() uint64 { return s.packets.Load() }

// Bytes returns the bytes received (from the IP header on).
func (s *Sink) Bytes() uint64 { return s.bytes.Load() }

// Flow returns flow i's packets.
func (s *Sink) Flow(i int) uint64 { return s.perFlow[i].Load() }
