package stack

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"vnic/ethtool"
	"vnic/header"
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
	// Window is TCP's send window: with it, the sender waits while more
	// than Window bytes are unacknowledged, and resumes as ACK packets
	// arrive (HandleACK) — an ACK clock. The receiving BulkSink must send
	// ACKs. Without a window nothing throttles the sender and nothing is
	// retransmitted, so a sender that outruns its receiver loses data.
	Window uint64
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
	stop   atomic.Bool

	sends, bytes, refused Counter
	acked, acks           Counter     // bytes acknowledged, ACK packets taken
	waiting               atomic.Bool // the window is full: an ACK resumes us
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
	b := &Bulk{cfg: cfg, host: h, cpu: h.cpus[cfg.CPU], seq: 1}
	b.tickFn = b.tick
	b.timer = h.clock.NewTimer(func() { b.cpu.RunTask(b.tickFn) })
	return b, nil
}

// Start begins sending.
func (b *Bulk) Start() { b.cpu.RunTask(b.tickFn) }

// Stop ends sending.
func (b *Bulk) Stop() { b.stop.Store(true); b.timer.Stop() }

// Sends returns the completed sends.
func (b *Bulk) Sends() uint64 { return b.sends.Load() }

// Bytes returns the payload bytes handed to the stack.
func (b *Bulk) Bytes() uint64 { return b.bytes.Load() }

// inFlight is what was sent and not yet acknowledged.
func (b *Bulk) inFlight() uint64 {
	sent, acked := b.bytes.Load(), b.acked.Load()
	if acked >= sent {
		return 0
	}
	return sent - acked
}

// Acked returns the payload bytes the receiver has acknowledged.
func (b *Bulk) Acked() uint64 { return b.acked.Load() }

// ACKs returns the ACK packets the sender has taken.
func (b *Bulk) ACKs() uint64 { return b.acks.Load() }

// IsACK reports whether skb (at the network header) is an ACK for this
// sender's flow.
func (b *Bulk) IsACK(skb *SKB) bool {
	ip := header.IPv4(skb.Data())
	if !ip.IsValid() || ip.Protocol() != header.ProtoTCP || ip.Src() != b.cfg.Dst || ip.Dst() != b.cfg.Src {
		return false
	}
	th := header.TCP(ip[ip.HeaderLen():])
	return th.IsValid() && th.SrcPort() == b.cfg.DPort && th.DstPort() == b.cfg.SPort
}

// HandleACK takes an ACK packet for the flow (tcp_ack): the acknowledged
// bytes grow to its ACK number and a sender waiting on the window resumes.
// It charges a pass of TCP input work and consumes skb.
func (b *Bulk) HandleACK(skb *SKB) {
	defer skb.Consume()
	b.cpu.Charge(b.host.cfg.Costs.Proto)
	if !ChecksumOK(skb) {
		return
	}
	ip := header.IPv4(skb.Data())
	th := header.TCP(ip[ip.HeaderLen():])
	if th.Flags()&header.TCPAck == 0 {
		return
	}
	acked := uint64(th.Ack() - 1) // the stream starts at sequence number 1
	for {
		cur := b.acked.Load()
		if acked <= cur || acked > b.bytes.Load() || b.acked.v.CompareAndSwap(cur, acked) {
			break
		}
	}
	b.acks.Add(1)
	if b.waiting.Load() && b.inFlight() < b.cfg.Window && b.waiting.CompareAndSwap(true, false) {
		b.cpu.RunTask(b.tickFn)
	}
}

// Refused returns how often the sender backed off a full qdisc.
func (b *Bulk) Refused() uint64 { return b.refused.Load() }

// Done reports whether Count sends were made.
func (b *Bulk) Done() bool { return b.cfg.Count > 0 && b.sends.Load() >= b.cfg.Count }

func (b *Bulk) tick() {
	if b.stop.Load() || b.Done() {
		return
	}
	if b.cfg.Window > 0 && b.inFlight() >= b.cfg.Window {
		// The window is full: the next ACK resumes us. Check again after
		// announcing it, in case the ACK came in between.
		b.waiting.Store(true)
		if b.inFlight() >= b.cfg.Window || !b.waiting.CompareAndSwap(true, false) {
			return
		}
	}
	if !b.send() {
		// The qdisc was full: back off and retry this send.
		b.refused.Add(1)
		b.timer.Reset(20 * time.Microsecond)
		return
	}
	b.sends.Add(1)
	if b.Done() || b.stop.Load() {
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
	ip := header.IPv4(f[EthHdrLen:])
	ip[0], ip[1] = 0x45, 0
	ip.SetTotalLen(uint16(40 + payload))
	ip.SetID(b.id)
	binary.BigEndian.PutUint16(ip[6:8], header.IPv4DF)
	ip[8], ip[9] = 64, header.ProtoTCP
	copy(ip[12:16], b.cfg.Src[:])
	copy(ip[16:20], b.cfg.Dst[:])
	ip.UpdateChecksum()
	th := header.TCP(f[EthHdrLen+20:])
	binary.BigEndian.PutUint16(th[0:], b.cfg.SPort)
	binary.BigEndian.PutUint16(th[2:], b.cfg.DPort)
	th.SetSeq(b.seq)
	binary.BigEndian.PutUint32(th[8:], 1)
	th[12] = 5 << 4
	flags := uint8(header.TCPAck)
	if last {
		flags |= header.TCPPsh
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
		th.SetChecksum(header.Fold(header.PseudoHeaderIPv4(b.cfg.Src, b.cfg.Dst, header.ProtoTCP, uint16(len(l4)))))
		skb.SetPartial(EthHdrLen+20, header.TCPChecksumOffset)
	} else {
		th.SetChecksum(header.L4Checksum(ip, l4))
		b.cpu.ChargeCopy(payload) // checksummed by the CPU
	}
	segs := 1
	if gso > 0 {
		segs = (payload + gso - 1) / gso
		skb.GSOSize, skb.GSOSegs, skb.GSOType = uint16(gso), uint16(segs), GSOTCPv4
	}
	b.seq += uint32(payload)
	b.id += uint16(segs)
	b.bytes.Add(uint64(payload))
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
//
// With SendACKs it answers as a TCP receiver does (delayed ACK): an ACK of
// the next expected byte for every second segment received, for every
// merged (GRO or LRO) packet, and on PSH; each ACK is a 54-byte TCP/IPv4
// packet sent back out of the receiving device and costs a pass of TCP
// output work.
type BulkSink struct {
	mu                                         sync.Mutex // flows arrive on several CPUs
	next                                       map[[12]byte]uint32
	unacked                                    map[[12]byte]int  // segments since the last ACK
	flowBytes                                  map[uint16]uint64 // by source port
	packets, bytes, bad, disorder, super, acks Counter
	Verify                                     bool // check every payload byte
	SendACKs                                   bool
}

// NewBulkSink returns a sink.
func NewBulkSink(verify bool) *BulkSink {
	return &BulkSink{next: map[[12]byte]uint32{}, unacked: map[[12]byte]int{}, flowBytes: map[uint16]uint64{}, Verify: verify}
}

// Handle is the IPv4 protocol handler.
func (s *BulkSink) Handle(skb *SKB) {
	defer skb.Consume()
	ip := header.IPv4(skb.Data())
	if !ip.IsValid() || ip.Protocol() != header.ProtoTCP || !ChecksumOK(skb) {
		s.bad.Add(1)
		return
	}
	th := header.TCP(ip[ip.HeaderLen():ip.TotalLen()])
	if !th.IsValid() {
		s.bad.Add(1)
		return
	}
	payload := th[th.HeaderLen():]
	s.packets.Add(1)
	if skb.GSOSegs > 1 {
		s.super.Add(1)
	}
	if s.Verify {
		for i, c := range payload {
			if c != byte(th.Seq()+uint32(i)) {
				s.bad.Add(1)
				return
			}
		}
	}
	key := offload.GROFlowKey(ip, th)
	segs := max(int(skb.GSOSegs), 1)
	s.mu.Lock()
	next, ok := s.next[key]
	ackNo := th.Seq() + uint32(len(payload))
	s.next[key] = ackNo
	s.flowBytes[th.SrcPort()] += uint64(len(payload))
	s.unacked[key] += segs
	ack := s.SendACKs && (s.unacked[key] >= 2 || segs > 1 || th.Flags()&header.TCPPsh != 0)
	if ack {
		s.unacked[key] = 0
	}
	s.mu.Unlock()
	if ok && th.Seq() != next {
		s.disorder.Add(1)
	}
	s.bytes.Add(uint64(len(payload)))
	if ack {
		s.sendACK(skb, ip, th, ackNo)
	}
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
	Packets, Bytes, Bad, Disorder, Super, ACKs uint64
}

// Stats returns the counters.
func (s *BulkSink) Stats() BulkSinkStats {
	return BulkSinkStats{s.packets.Load(), s.bytes.Load(), s.bad.Load(), s.disorder.Load(), s.super.Load(), s.acks.Load()}
}

// sendACK answers the data packet in skb with an ACK of ackNo, out of the
// device it came in on, to the MAC it came from.
func (s *BulkSink) sendACK(in *SKB, ip header.IPv4, th header.TCP, ackNo uint32) {
	dev := in.Dev
	h := dev.host
	mac := in.MACHeader()
	if len(mac) < EthHdrLen {
		return
	}
	h.cpus[0].Charge(h.cfg.Costs.Proto) // tcp_send_ack: TCP and IP output
	const n = EthHdrLen + 40
	skb := h.pool.Alloc(n + NetIPAlign)
	skb.Reserve(NetIPAlign)
	f := skb.Put(n)
	src := dev.Addr()
	copy(f[0:6], mac[6:12])
	copy(f[6:12], src[:])
	binary.BigEndian.PutUint16(f[12:14], EthPIPv4)
	aip := header.IPv4(f[EthHdrLen:])
	aip[0], aip[1] = 0x45, 0
	aip.SetTotalLen(40)
	binary.BigEndian.PutUint16(aip[6:8], header.IPv4DF)
	aip[8], aip[9] = 64, header.ProtoTCP
	dst, srcIP := ip.Src(), ip.Dst()
	copy(aip[12:16], srcIP[:])
	copy(aip[16:20], dst[:])
	aip.UpdateChecksum()
	at := header.TCP(f[EthHdrLen+20:])
	binary.BigEndian.PutUint16(at[0:], th.DstPort())
	binary.BigEndian.PutUint16(at[2:], th.SrcPort())
	at.SetSeq(th.Ack())
	binary.BigEndian.PutUint32(at[8:], ackNo)
	at[12] = 5 << 4
	at.SetFlags(header.TCPAck)
	binary.BigEndian.PutUint16(at[14:], 65535)
	at.SetChecksum(0)
	at.SetChecksum(header.L4Checksum(aip, f[EthHdrLen+20:]))
	skb.Dev, skb.Protocol = dev, EthPIPv4
	skb.ResetMACHeader()
	if DevQueueXmit(skb) == nil {
		s.acks.Add(1)
	}
}

// BulkMux is the IPv4 protocol handler of a host that runs bulk streams:
// ACKs go to the sender whose flow they answer, other TCP to the sink, and
// everything else to Other (or is dropped). Set it up before traffic flows.
type BulkMux struct {
	Senders []*Bulk
	Sink    *BulkSink
	Other   Handler
}

// Handle is the Handler.
func (m *BulkMux) Handle(skb *SKB) {
	if d := skb.Data(); len(d) > 9 && d[9] == header.ProtoTCP {
		for _, b := range m.Senders {
			if b.IsACK(skb) {
				b.HandleACK(skb)
				return
			}
		}
		if m.Sink != nil {
			m.Sink.Handle(skb)
			return
		}
	}
	if m.Other != nil {
		m.Other(skb)
		return
	}
	skb.Free()
}
