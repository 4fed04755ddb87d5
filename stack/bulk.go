package stack

import (
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"vnic/ethtool"
	"vnic/offload"
)

// BulkConfig describes a TCP-shaped bulk sender, the traffic that makes
// TSO, GSO, GRO and LRO act until the stack has TCP: large sends of one
// flow, cut the way Linux TCP cuts them. With GSO or TSO active a send
// leaves the stack as one super-packet (CHECKSUM_PARTIAL when the device
// checksums); without, as MSS-sized packets.
type BulkConfig struct {
	Dev          *NetDevice
	CPU          int
	DstMAC       MAC
	Src, Dst     [4]byte
	SPort, DPort uint16
	SendSize     int     // payload bytes per send, default 65483 (a 64 KiB IPv4 packet)
	MSS          int     // default MTU - 40
	Rate         float64 // sends per second; 0 is back to back
	Count        uint64  // sends, 0 = until Stop
	// Window, with Acked, plays TCP's window without TCP: the sender waits
	// while more than Window bytes are unacknowledged, Acked reporting what
	// the receiver has taken. Without it nothing is ever retransmitted, so a
	// sender that outruns its receiver loses data for good.
	Window uint64
	Acked  func() uint64
}

// MaxBulkSend is the largest send: a 64 KiB IPv4 packet less its headers.
const MaxBulkSend = 65535 - 20 - 20 - 12

// Bulk is a running bulk sender.
type Bulk struct {
	cfg    BulkConfig
	host   *Host
	cpu    CPU
	timer  Timer
	tickFn func()
	seq    uint32
	id     uint16
	stop   bool

	sends, bytes, refused counter
}

// NewBulk validates cfg.
func (h *Host) NewBulk(cfg BulkConfig) (*Bulk, error) {
	if cfg.Dev == nil {
		return nil, fmt.Errorf("stack: bulk: no device")
	}
	if cfg.SendSize == 0 {
		cfg.SendSize = MaxBulkSend
	}
	if cfg.MSS == 0 {
		cfg.MSS = cfg.Dev.MTU() - 40
	}
	if cfg.SendSize < 1 || cfg.SendSize > MaxBulkSend {
		return nil, fmt.Errorf("stack: bulk: send size %d outside [1, %d]", cfg.SendSize, MaxBulkSend)
	}
	if cfg.MSS < 1 || cfg.MSS > cfg.Dev.MTU()-40 {
		return nil, fmt.Errorf("stack: bulk: MSS %d outside [1, %d]", cfg.MSS, cfg.Dev.MTU()-40)
	}
	if cfg.CPU < 0 || cfg.CPU >= len(h.cpus) {
		return nil, fmt.Errorf("stack: bulk: no CPU %d", cfg.CPU)
	}
	if cfg.Window > 0 && cfg.Acked == nil {
		return nil, fmt.Errorf("stack: bulk: a window needs Acked")
	}
	b := &Bulk{cfg: cfg, host: h, cpu: h.cpus[cfg.CPU], seq: 1}
	b.tickFn = b.tick
	b.timer = h.clock.NewTimer(func() { b.cpu.RunTask(b.tickFn) })
	return b, nil
}

// Start begins sending.
func (b *Bulk) Start() { b.cpu.RunTask(b.tickFn) }

// Stop ends sending.
func (b *Bulk) Stop() { b.stop = true; b.timer.Stop() }

// Sends returns the completed sends.
func (b *Bulk) Sends() uint64 { return b.sends.load() }

// Bytes returns the payload bytes handed to the stack.
func (b *Bulk) Bytes() uint64 { return b.bytes.load() }

// inFlight is what was sent and not yet acknowledged.
func (b *Bulk) inFlight() uint64 {
	sent, acked := b.bytes.load(), b.cfg.Acked()
	if acked >= sent {
		return 0
	}
	return sent - acked
}

// Refused returns how often the sender backed off a full qdisc.
func (b *Bulk) Refused() uint64 { return b.refused.load() }

// Done reports whether Count sends were made.
func (b *Bulk) Done() bool { return b.cfg.Count > 0 && b.sends.load() >= b.cfg.Count }

func (b *Bulk) tick() {
	if b.stop || b.Done() {
		return
	}
	if b.cfg.Window > 0 && b.inFlight() >= b.cfg.Window {
		b.timer.Reset(10 * time.Microsecond) // the window is full: wait for ACKs
		return
	}
	if !b.send() {
		// The qdisc was full: back off and retry this send.
		b.refused.add(1)
		b.timer.Reset(20 * time.Microsecond)
		return
	}
	b.sends.add(1)
	if b.Done() || b.stop {
		return
	}
	if b.cfg.Rate == 0 {
		b.cpu.RunTask(b.tickFn)
		return
	}
	b.timer.Reset(time.Duration(float64(time.Second) / b.cfg.Rate))
}

// send hands one send to the stack; it reports false, having sent nothing,
// when the device's qdisc had no room.
func (b *Bulk) send() bool {
	dev := b.cfg.Dev
	f := dev.Features()
	q := dev.txq[0]
	q.mu.Lock()
	room := dev.TxQueueLen - q.qlen
	q.mu.Unlock()
	n := b.cfg.SendSize
	super := f&(ethtool.GSO|ethtool.TSO) != 0 && n > b.cfg.MSS
	segs := (n + b.cfg.MSS - 1) / b.cfg.MSS
	if (super && room < 1) || (!super && room < segs) {
		return false
	}
	csum := f&(ethtool.IPCsum|ethtool.HWCsum) != 0
	if super {
		b.emit(n, b.cfg.MSS, csum, true)
	} else {
		for off := 0; off < n; off += b.cfg.MSS {
			b.emit(min(b.cfg.MSS, n-off), 0, csum, off+b.cfg.MSS >= n)
		}
	}
	dev.KickTx()
	return true
}

// emit builds one packet of payload bytes; gso > 0 makes it a super-packet
// of gso-byte segments.
func (b *Bulk) emit(payload, gso int, csum, last bool) {
	const hdr = EthHdrLen + 20 + 20
	skb := b.host.pool.Alloc(hdr + payload + NetIPAlign)
	skb.Reserve(NetIPAlign)
	f := skb.Put(hdr + payload)
	dev := b.cfg.Dev
	src := dev.Addr()
	copy(f[0:6], b.cfg.DstMAC[:])
	copy(f[6:12], src[:])
	binary.BigEndian.PutUint16(f[12:14], EthPIPv4)
	ip := offload.IPv4(f[EthHdrLen:])
	ip[0], ip[1] = 0x45, 0
	ip.SetTotalLen(uint16(40 + payload))
	ip.SetID(b.id)
	binary.BigEndian.PutUint16(ip[6:8], offload.IPv4DF)
	ip[8], ip[9] = 64, offload.ProtoTCP
	copy(ip[12:16], b.cfg.Src[:])
	copy(ip[16:20], b.cfg.Dst[:])
	ip.UpdateChecksum()
	th := offload.TCP(f[EthHdrLen+20:])
	binary.BigEndian.PutUint16(th[0:], b.cfg.SPort)
	binary.BigEndian.PutUint16(th[2:], b.cfg.DPort)
	th.SetSeq(b.seq)
	binary.BigEndian.PutUint32(th[8:], 1)
	th[12] = 5 << 4
	flags := uint8(offload.TCPAck)
	if last {
		flags |= offload.TCPPsh
	}
	th.SetFlags(flags)
	binary.BigEndian.PutUint16(th[14:], 65535)
	th[16], th[17], th[18], th[19] = 0, 0, 0, 0
	BulkPattern(f[hdr:], b.seq)
	// One pass through TCP and IP output per packet handed to the device
	// layer (tcp_transmit_skb, ip_queue_xmit): what GSO and TSO save.
	b.cpu.Charge(b.host.cfg.Costs.Proto)
	b.cpu.ChargeCopy(payload) // the user's data copied in
	l4 := f[EthHdrLen+20:]
	if csum {
		th.SetChecksum(offload.Fold(offload.PseudoHeaderIPv4(b.cfg.Src, b.cfg.Dst, offload.ProtoTCP, uint16(len(l4)))))
		skb.SetPartial(EthHdrLen+20, offload.TCPChecksumOffset)
	} else {
		th.SetChecksum(offload.L4Checksum(ip, l4))
		b.cpu.ChargeCopy(payload) // checksummed by the CPU
	}
	segs := 1
	if gso > 0 {
		segs = (payload + gso - 1) / gso
		skb.GSOSize, skb.GSOSegs, skb.GSOType = uint16(gso), uint16(segs), GSOTCPv4
	}
	b.seq += uint32(payload)
	b.id += uint16(segs)
	b.bytes.add(uint64(payload))
	skb.Dev = dev
	skb.Protocol = EthPIPv4
	skb.ResetMACHeader()
	skb.XmitMore = true
	DevQueueXmit(skb)
}

// BulkPattern fills b with the bulk sender's payload for sequence number
// seq: byte i is the low byte of seq+i, so any receiver can check bytes
// against their sequence numbers.
func BulkPattern(b []byte, seq uint32) {
	for i := range b {
		b[i] = byte(seq + uint32(i))
	}
}

// BulkSink receives bulk TCP: it verifies checksums (ChecksumOK), checks
// the payload against its sequence numbers and counts in-order bytes,
// packets, and anything out of order or corrupt.
type BulkSink struct {
	mu                                   sync.Mutex // flows arrive on several CPUs
	next                                 map[[12]byte]uint32
	flowBytes                            map[uint16]uint64 // by source port
	packets, bytes, bad, disorder, super counter
	Verify                               bool // check every payload byte
}

// NewBulkSink returns a sink.
func NewBulkSink(verify bool) *BulkSink {
	return &BulkSink{next: map[[12]byte]uint32{}, flowBytes: map[uint16]uint64{}, Verify: verify}
}

// Handle is the IPv4 protocol handler.
func (s *BulkSink) Handle(skb *SKB) {
	defer skb.Consume()
	ip := offload.IPv4(skb.Data())
	if !ip.IsValid() || ip.Protocol() != offload.ProtoTCP || !ChecksumOK(skb) {
		s.bad.add(1)
		return
	}
	th := offload.TCP(ip[ip.HeaderLen():ip.TotalLen()])
	if !th.IsValid() {
		s.bad.add(1)
		return
	}
	payload := th[th.HeaderLen():]
	s.packets.add(1)
	if skb.GSOSegs > 1 {
		s.super.add(1)
	}
	if s.Verify {
		for i, c := range payload {
			if c != byte(th.Seq()+uint32(i)) {
				s.bad.add(1)
				return
			}
		}
	}
	key := offload.GROFlowKey(ip, th)
	s.mu.Lock()
	next, ok := s.next[key]
	s.next[key] = th.Seq() + uint32(len(payload))
	s.flowBytes[th.SrcPort()] += uint64(len(payload))
	s.mu.Unlock()
	if ok && th.Seq() != next {
		s.disorder.add(1)
	}
	s.bytes.add(uint64(len(payload)))
}

// FlowBytes returns the bytes received from source port sport: what a
// sender with that port may count as acknowledged.
func (s *BulkSink) FlowBytes(sport uint16) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flowBytes[sport]
}

// BulkSinkStats are a sink's counters.
type BulkSinkStats struct {
	Packets, Bytes, Bad, Disorder, Super uint64
}

// Stats returns the counters.
func (s *BulkSink) Stats() BulkSinkStats {
	return BulkSinkStats{s.packets.load(), s.bytes.load(), s.bad.load(), s.disorder.load(), s.super.load()}
}
