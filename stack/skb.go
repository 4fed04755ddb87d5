package stack

import (
	"fmt"
	"time"
	"unsafe"
)

// Packet types (skb->pkt_type), set by eth_type_trans.
const (
	PacketHost      = 0
	PacketBroadcast = 1
	PacketMulticast = 2
	PacketOtherHost = 3
	PacketOutgoing  = 4
)

// Checksum states (skb->ip_summed).
const (
	ChecksumNone        = 0
	ChecksumUnnecessary = 1
	ChecksumComplete    = 2
	ChecksumPartial     = 3
)

// GSO types (skb_shinfo->gso_type).
const (
	GSOTCPv4 = 1 << 0 // SKB_GSO_TCPV4
)

// Headroom reserved by AllocSKB: NET_SKB_PAD, plus NET_IP_ALIGN that
// drivers add so the IP header is 4-byte aligned after the 14-byte
// Ethernet header.
const (
	NetSKBPad  = 64
	NetIPAlign = 2
)

// SKB is a socket buffer: one packet and its metadata. The bytes live in
// buf; [data, tail) is the packet, [0, data) headroom, [tail, len(buf))
// tailroom:
//
//	head=0        data          tail          end=len(buf)
//	  |  headroom  |   packet    |  tailroom   |
//
// Fields are changed through the methods (Push, Pull, Put, Reserve), which
// keep head <= data <= tail <= end.
//
// The fields from data to the end of cb hold no pointers: a new skb gets
// them zeroed in one clear (as __alloc_skb's memset up to tail), and a
// freed one has its pointers cleared so the pool keeps nothing alive.
type SKB struct {
	buf []byte

	Dev *NetDevice
	// Owner is the sending socket's credentials (what netfilter's owner
	// match reads of skb->sk); nil for a packet no local socket sent.
	Owner *SockOwner

	dst      *Dst    // the route decision (skb_dst)
	fragList *SKB    // further payload buffers of one datagram (skb_shinfo->frag_list)
	nf       NFState // the netfilter state of the current hook
	nfct     any     // the tracked connection (skb->_nfct), conntrack's type
	class    *skbClass
	pool     *SKBPool
	home     *skbHome // where a free returns it: its class, or the cache it came from
	next     *SKB     // queue linkage (qdisc); the free list's while free
	wmem     *Wmem    // the send buffer it is charged to (SetOwner), nil if none
	page     Page     // the driver's page buf is, if built over one (BuildOver)
	own      []byte   // the skb's own buffer while it is built over a page

	// From here to the end of cb: no pointers (clearMeta).
	data, tail int

	macHeader, networkHeader, transportHeader int

	Protocol     uint16 // EtherType, host order
	PktType      uint8
	IPSummed     uint8
	CsumStart    uint16 // from head, as in Linux; see CsumStartOffset
	CsumOffset   uint16 // from CsumStart to the checksum field
	Csum         uint32
	GSOSize      uint16
	GSOSegs      uint16
	GSOType      uint32
	QueueMapping uint16
	TxQueueSet   bool // QueueMapping was chosen by the sender (XPS, pktgen)
	// XmitMore, given to DevQueueXmit, says more packets follow at once:
	// the qdisc is not run until KickTx. Seen by start_xmit, it is
	// netdev_xmit_more(): the qdisc holds more packets for this queue, so
	// the driver may leave the doorbell for the last one.
	XmitMore bool
	Hash     uint32
	L4Hash   bool
	Priority uint32
	Mark     uint32
	Tstamp   time.Duration

	// LRO: the device merged this packet (RSC); it cannot be forwarded
	// (the stand-in for Linux's "gso_size without gso_type" test).
	LRO bool
	// IgnoreDF is skb->ignore_df: the stack may fragment despite DF.
	IgnoreDF bool

	wmemCharge int32 // what it charged to wmem
	// xmitAt is when its transmit path began (SetXmitTime), for the rest
	// of that path to use instead of reading the clock again.
	xmitAt    time.Duration
	xmitAtSet bool

	ctinfo uint8 // the tracked connection's ip_conntrack_info
	live   bool
	tapped bool               // seen by the transmit taps
	cb     [CBSize / 8]uint64 // the owning layer's control block (skb->cb)
}

// SetPartial marks the skb CHECKSUM_PARTIAL with the L4 header at start
// bytes from data and the checksum field offset bytes into it.
func (s *SKB) SetPartial(start, offset int) {
	s.IPSummed = ChecksumPartial
	s.CsumStart = uint16(s.data + start)
	s.CsumOffset = uint16(offset)
}

// CsumStartOffset is csum_start relative to data (skb_checksum_start_offset).
func (s *SKB) CsumStartOffset() int { return int(s.CsumStart) - s.data }

// Len is the packet length, data to tail.
func (s *SKB) Len() int { return s.tail - s.data }

// Data returns the packet bytes.
func (s *SKB) Data() []byte { return s.buf[s.data:s.tail] }

// Headroom is the space before data.
func (s *SKB) Headroom() int { return s.data }

// Tailroom is the space after tail.
func (s *SKB) Tailroom() int { return len(s.buf) - s.tail }

// Reserve moves data and tail forward by n on an empty skb (skb_reserve).
func (s *SKB) Reserve(n int) {
	if s.tail != s.data || n < 0 || s.tail+n > len(s.buf) {
		panic(skbBug{"reserve", n, s.data, s.tail, len(s.buf)})
	}
	s.data += n
	s.tail += n
}

// skbBug is what Reserve, Put and Push panic with (skb_under_panic and
// the like: the caller's bug), a value rather than a formatted string so
// that those three stay small enough to inline.
type skbBug struct {
	op                 string
	n, data, tail, end int
}

func (b skbBug) Error() string {
	switch b.op {
	case "reserve":
		return fmt.Sprintf("stack: skb_reserve(%d) on len %d tailroom %d", b.n, b.tail-b.data, b.end-b.tail)
	case "put":
		return fmt.Sprintf("stack: skb_over_panic: put %d with tailroom %d", b.n, b.end-b.tail)
	}
	return fmt.Sprintf("stack: skb_under_panic: push %d with headroom %d", b.n, b.data)
}

// Put extends the packet by n bytes at the tail and returns them (skb_put).
// Asking for more than the tailroom is a bug (skb_over_panic).
func (s *SKB) Put(n int) []byte {
	if n < 0 || s.tail+n > len(s.buf) {
		panic(skbBug{"put", n, s.data, s.tail, len(s.buf)})
	}
	b := s.buf[s.tail : s.tail+n]
	s.tail += n
	return b
}

// Push prepends n bytes and returns the new start (skb_push). Asking for
// more than the headroom is a bug (skb_under_panic).
func (s *SKB) Push(n int) []byte {
	if n < 0 || n > s.data {
		panic(skbBug{"push", n, s.data, s.tail, len(s.buf)})
	}
	s.data -= n
	return s.buf[s.data : s.data+n]
}

// Pull removes n bytes from the front and returns the new data (skb_pull).
// Pulling more than Len fails: it returns nil and leaves the skb unchanged.
func (s *SKB) Pull(n int) []byte {
	if n < 0 || n > s.Len() {
		return nil
	}
	s.data += n
	return s.buf[s.data:s.tail]
}

// Trim cuts the packet to n bytes (skb_trim); a longer n is ignored.
func (s *SKB) Trim(n int) {
	if n >= 0 && n < s.Len() {
		s.tail = s.data + n
	}
}

// ResetMACHeader marks the current data as the MAC header.
func (s *SKB) ResetMACHeader() { s.macHeader = s.data }

// ResetNetworkHeader marks the current data as the network header.
func (s *SKB) ResetNetworkHeader() { s.networkHeader = s.data }

// ResetTransportHeader marks the current data as the transport header.
func (s *SKB) ResetTransportHeader() { s.transportHeader = s.data }

// SetNetworkHeader marks data+off as the network header.
func (s *SKB) SetNetworkHeader(off int) { s.networkHeader = s.data + off }

// SetTransportHeader marks data+off as the transport header.
func (s *SKB) SetTransportHeader(off int) { s.transportHeader = s.data + off }

// MACHeader returns the bytes from the MAC header to tail (nil if unset).
func (s *SKB) MACHeader() []byte { return s.from(s.macHeader) }

// NetworkHeader returns the bytes from the network header to tail.
func (s *SKB) NetworkHeader() []byte { return s.from(s.networkHeader) }

// TransportHeader returns the bytes from the transport header to tail.
func (s *SKB) TransportHeader() []byte { return s.from(s.transportHeader) }

// MACHeaderOffset returns the MAC header's offset from head (-1 if unset).
func (s *SKB) MACHeaderOffset() int { return s.macHeader }

// DataOffset returns data's offset from head.
func (s *SKB) DataOffset() int { return s.data }

func (s *SKB) from(off int) []byte {
	if off < 0 || off > s.tail {
		return nil
	}
	return s.buf[off:s.tail]
}

// Free drops the skb: it was not delivered (kfree_skb). The host's drop
// counter counts it.
func (s *SKB) Free() {
	if s.pool != nil {
		s.pool.dropped.Add(1)
	}
	s.release()
}

// Consume frees an skb that did its job (consume_skb).
func (s *SKB) Consume() { s.release() }

func (s *SKB) release() {
	if !s.live {
		panic("stack: skb freed twice")
	}
	s.live = false
	if s.wmem != nil {
		s.wmem.uncharge(int64(s.wmemCharge)) // sock_wfree
	}
	if pg := s.page; pg != nil {
		s.buf, s.own, s.page = s.own, nil, nil
		pg.Release()
	}
	next := s.fragList
	if s.pool != nil {
		s.pool.put(s)
	}
	for next != nil {
		n := next.fragList
		next.fragList = nil
		next.release()
		next = n
	}
}

// Page is a driver's receive buffer an skb can be built over (build_skb
// over a page of its ring): the device wrote the packet there, and the
// stack takes it where it lies.
type Page interface {
	// Release takes the page back (page_pool_put_page) when the skb
	// built over it is freed; it may be called on any goroutine.
	Release()
}

// BuildOver makes a fresh, empty skb's buffer b, a driver's page, with
// data and tail at off (build_skb): the device's bytes at b[off:] become
// the packet with Put. The skb's own buffer waits aside until the skb is
// freed, when pg.Release is called. Building over a non-empty skb, one
// already built over a page, or with off outside b is a bug.
func (s *SKB) BuildOver(b []byte, off int, pg Page) {
	if s.page != nil || s.tail != s.data || s.macHeader >= 0 || off < 0 || off > len(b) {
		panic(fmt.Sprintf("stack: build_skb over %d bytes at %d on a used skb", len(b), off))
	}
	s.own, s.buf, s.page = s.buf, b, pg
	s.data, s.tail = off, off
}

// CBSize is the size of an skb's control block.
const CBSize = 96

// CB is the control block (skb->cb): private per-packet state of the
// layer that holds the skb (IPv4's IPCB, reassembly's fragment offsets),
// copied with the metadata, zero in a new skb. A layer views it as its own
// struct of at most CBSize bytes that holds no pointers (the collector does
// not scan it), 8-byte aligned:
//
//	func ipcb(skb *stack.SKB) *inetSkbParm { return (*inetSkbParm)(skb.CB()) }
func (s *SKB) CB() unsafe.Pointer { return unsafe.Pointer(&s.cb) }

// Dst returns the skb's route decision (nil before routing).
func (s *SKB) Dst() *Dst { return s.dst }

// SetDst attaches a route decision; a received packet with one skips the
// input route lookup (A-RF-03).
func (s *SKB) SetDst(d *Dst) { s.dst = d }

// TotalLen is the datagram length including a frag_list chain.
func (s *SKB) TotalLen() int {
	n := s.Len()
	for f := s.fragList; f != nil; f = f.fragList {
		n += f.Len()
	}
	return n
}

// CopyMeta copies what a fragment or a copy of s inherits (the
// metadata of ip_copy_metadata: device, protocol, priority, mark, route,
// IPv4 control block, hash).
func (s *SKB) CopyMeta(from *SKB) {
	s.Dev, s.Protocol, s.Priority, s.Mark, s.dst, s.cb = from.Dev, from.Protocol, from.Priority, from.Mark, from.dst, from.cb
	s.Hash, s.L4Hash, s.PktType, s.Tstamp, s.IgnoreDF = from.Hash, from.L4Hash, from.PktType, from.Tstamp, from.IgnoreDF
	s.nfct, s.ctinfo = from.nfct, from.ctinfo // nf_copy
	s.Owner = from.Owner                      // fragments stay the socket's,
	s.chargeTo(from.wmem)                     // charged to it if from was
}

// SockOwner is who owns a socket: the credentials of the file behind it
// (f_cred's fsuid and fsgid), as netfilter's owner match sees them, and
// the socket's send buffer, if it keeps one.
type SockOwner struct {
	UID, GID uint32
	// Wmem, if set, is charged with every skb given the owner by SetOwner.
	Wmem *Wmem
}

// SetOwner gives the skb to a sending socket (skb_set_owner_w): Owner
// is set, and if the owner keeps a send buffer the skb's truesize is
// charged to it until the skb is freed. An skb charged before gives its
// charge back first.
func (s *SKB) SetOwner(o *SockOwner) {
	s.Owner = o
	var w *Wmem
	if o != nil {
		w = o.Wmem
	}
	s.chargeTo(w)
}

// chargeTo moves the skb's send-buffer charge to w (nil: none). An SKB
// that is not the pool's (a scratch copy of metadata, never freed) names
// the account for CopyMeta to pass on but is charged nothing.
func (s *SKB) chargeTo(w *Wmem) {
	if s.wmem != nil {
		s.wmem.uncharge(int64(s.wmemCharge))
		s.wmem, s.wmemCharge = nil, 0
	}
	if w != nil {
		n := 0
		if s.pool != nil {
			n = s.Truesize()
			w.alloc.Add(int64(n))
		}
		s.wmem, s.wmemCharge = w, int32(n)
	}
}

// Orphan gives the skb's send-buffer charge back now (skb_orphan): it
// leaves its sender's accounting, as a looped-back packet does when it
// turns into a received one. Owner stays.
func (s *SKB) Orphan() { s.chargeTo(nil) }

// SetXmitTime records when the skb's transmit path began (the clock the
// sender read once): the neighbour output and the device queue use it
// rather than reading the clock again, and it is forgotten when the skb
// waits in a queue (what runs it later reads the clock anew).
func (s *SKB) SetXmitTime(t time.Duration) { s.xmitAt, s.xmitAtSet = t, true }

// XmitTime is the time SetXmitTime recorded or, if none, clk's reading,
// which it records: the path's first reader (a forwarded packet's
// neighbour output) reads the clock for the rest of it, the device queue's
// run included.
func (s *SKB) XmitTime(clk Clock) time.Duration {
	if !s.xmitAtSet {
		s.xmitAt, s.xmitAtSet = clk.Now(), true
	}
	return s.xmitAt
}

// ClearXmitTime forgets the transmit time: the skb is queued, and what
// sends it on later is another path.
func (s *SKB) ClearXmitTime() { s.xmitAtSet = false }

// NFCT returns the connection the skb belongs to and how (skb_nfct and
// its ip_conntrack_info): what connection tracking set, nil and 0 when it
// has not seen the packet. The core does not know the type.
func (s *SKB) NFCT() (ct any, info uint8) { return s.nfct, s.ctinfo }

// SetNFCT attaches a tracked connection to the skb (nf_ct_set).
func (s *SKB) SetNFCT(ct any, info uint8) { s.nfct, s.ctinfo = ct, info }

// FragList returns the next buffer of the datagram's chain
// (skb_shinfo->frag_list), nil at the end.
func (s *SKB) FragList() *SKB { return s.fragList }

// SetFragList chains f after s.
func (s *SKB) SetFragList(f *SKB) { s.fragList = f }

// NF returns the netfilter state of the hook the skb is traversing.
func (s *SKB) NF() *NFState { return &s.nf }

// Truesize is what the skb costs memory accounting (skb->truesize): its
// buffer and the metadata.
func (s *SKB) Truesize() int {
	n := 256 // struct sk_buff and shared info
	if s.class != nil {
		return n + s.class.size
	}
	return n + len(s.buf)
}
