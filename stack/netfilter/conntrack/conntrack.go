// Package conntrack is connection tracking (net/netfilter/nf_conntrack_*):
// every packet through the hooks is matched to a connection by its tuple
// in either direction, the connection's state tracked per protocol, and
// the result attached to the skb for the rule engine and NAT to read.
//
// This file is the part the rest of netfilter builds on: the types of a
// connection and of a packet's relation to it, and Get. The tracker
// itself — the table, the protocol trackers, the hooks — registers with
// IPv4's hook points at Linux's priorities.
package conntrack

import (
	"sync"
	"sync/atomic"
	"time"

	"vnic/stack"
)

// Info is a packet's relation to its connection (enum ip_conntrack_info).
type Info uint8

const (
	Established      Info = 0 // part of a connection that has seen both directions
	Related          Info = 1 // related to a connection (an ICMP error, an expectation)
	New              Info = 2 // the first packet of a connection, or a retransmission of it
	IsReply          Info = 3 // added for the reply direction
	EstablishedReply      = Established + IsReply
	RelatedReply          = Related + IsReply
	Untracked        Info = 7 // exempted by NOTRACK or CT --notrack
)

// Dir is a direction of a connection (enum ip_conntrack_dir).
type Dir uint8

const (
	Original Dir = 0
	Reply    Dir = 1
)

// Status is a connection's status bits (enum ip_conntrack_status, IPS_*).
type Status uint32

const (
	StatusExpected     Status = 1 << 0
	StatusSeenReply    Status = 1 << 1
	StatusAssured      Status = 1 << 2
	StatusConfirmed    Status = 1 << 3
	StatusSrcNAT       Status = 1 << 4
	StatusDstNAT       Status = 1 << 5
	StatusSeqAdjust    Status = 1 << 6
	StatusSrcNATDone   Status = 1 << 7
	StatusDstNATDone   Status = 1 << 8
	StatusDying        Status = 1 << 9
	StatusFixedTimeout Status = 1 << 10
	StatusTemplate     Status = 1 << 11
	StatusNATClash     Status = 1 << 12
	StatusHelper       Status = 1 << 13
	StatusOffload      Status = 1 << 14
	StatusHWOffload    Status = 1 << 15
)

// Tuple is an IPv4 nf_conntrack_tuple: what identifies one direction of a
// connection. For TCP, UDP (and the port-based protocols) the ports; for
// ICMP, SrcPort holds the echo identifier and DstPort the type<<8|code.
type Tuple struct {
	Src, Dst         [4]byte
	SrcPort, DstPort uint16
	Proto            uint8
	_                [3]byte // to 16 bytes: a copy is two aligned words, from which its fields' loads forward
}

// Invert is the tuple of the other direction (nf_ct_invert_tuple): the
// addresses and ports swapped; an ICMP query's type becomes its reply's.
// ok is false for an ICMP type that has no reply.
func (t Tuple) Invert() (r Tuple, ok bool) {
	r = Tuple{Src: t.Dst, Dst: t.Src, SrcPort: t.DstPort, DstPort: t.SrcPort, Proto: t.Proto}
	if t.Proto == 1 {
		rt, ok := icmpReplyType(uint8(t.DstPort >> 8))
		if !ok {
			return Tuple{}, false
		}
		r.SrcPort, r.DstPort = t.SrcPort, uint16(rt)<<8|t.DstPort&0xff
	}
	return r, true
}

// icmpReplyType is invmap in nf_conntrack_proto_icmp.c: the queries that
// have a reply, and that reply.
func icmpReplyType(t uint8) (uint8, bool) {
	switch t {
	case 8:
		return 0, true // echo → echo reply
	case 0:
		return 8, true
	case 13:
		return 14, true // timestamp
	case 14:
		return 13, true
	case 15:
		return 16, true // information
	case 16:
		return 15, true
	case 17:
		return 18, true // address mask
	case 18:
		return 17, true
	}
	return 0, false
}

// Conn is one tracked connection (struct nf_conn). The tracker owns its
// fields; the rest of netfilter reads them through the methods. Its two
// hash nodes put it in the table under both directions' tuples.
type Conn struct {
	node    [2]hnode      // ct->tuplehash[dir]'s list linkage
	tuple   [2]Tuple      // the original and reply directions
	status  atomic.Uint32 // IPS_* bits
	mark    atomic.Uint32 // ct mark (CONNMARK)
	zone    Zone          // conntrack zone
	l4      uint8         // the protocol's tracker (its number, or 0: generic)
	events  atomic.Uint32 // cached events not yet delivered (ct->ecache's cache)
	ctmask  uint16        // the events reported (ecache's ctmask; 0: none, no ecache)
	expmask uint16        // the expectation events reported (ecache's expmask)
	expires atomic.Int64  // the host clock's time the entry times out; relative while unconfirmed
	id      uint32        // the id ctnetlink reports (CTA_ID)
	mu      sync.Mutex    // ct->lock: the protocol state
	proto   protoState    // the protocol tracker's state (ct->proto)
	acct    *[2]counter   // per-direction accounting (nf_conn_acct), when acct was on at creation
	master  *Conn         // the connection that expected this one
	ext     Extension     // another module's state (NAT's binding), set before confirmation
	net     *Net
}

// counter is one direction's accounting.
type counter struct{ packets, bytes atomic.Uint64 }

// Tuple is the tuple of direction d (ct->tuplehash[d].tuple).
func (c *Conn) Tuple(d Dir) Tuple { return c.tuple[d] }

// Status returns the status bits.
func (c *Conn) Status() Status { return Status(c.status.Load()) }

// Mark is the connection mark.
func (c *Conn) Mark() uint32 { return c.mark.Load() }

// SetMark sets the connection mark (CONNMARK --set-mark); a change is an
// IPCT_MARK event.
func (c *Conn) SetMark(m uint32) {
	if c.mark.Swap(m) != m {
		c.cacheEvent(EventMark)
	}
}

// Zone is the connection's conntrack zone (nf_ct_zone).
func (c *Conn) Zone() Zone { return c.zone }

// IsTemplate reports whether c is a template (IPS_TEMPLATE: the CT
// target's, which an skb carries from the raw table to tracking), not a
// connection.
func (c *Conn) IsTemplate() bool { return c.Status()&StatusTemplate != 0 }

// Expires is the host-clock time (stack.Clock's Now) at which the entry
// times out.
func (c *Conn) Expires() time.Duration {
	e := time.Duration(c.expires.Load())
	if c.Status()&StatusConfirmed == 0 && c.net != nil {
		// Unconfirmed, the timeout is relative (it starts at confirmation).
		return c.net.clock.Now() + e
	}
	return e
}

// ProtoState is the protocol tracker's state: for TCP one of the TCP
// conntrack states, 0 for protocols without one.
func (c *Conn) ProtoState() uint8 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.proto.tcp.state
}

// Counters are the packets and bytes seen in direction d (zero unless
// nf_conntrack_acct was on when the connection was made).
func (c *Conn) Counters(d Dir) (packets, bytes uint64) {
	if c.acct == nil {
		return 0, 0
	}
	return c.acct[d].packets.Load(), c.acct[d].bytes.Load()
}

// HasAcct reports whether the connection counts packets and bytes (the
// acct extension: nf_conntrack_acct was on when it was made).
func (c *Conn) HasAcct() bool { return c.acct != nil }

// ID is the connection's id as ctnetlink reports it (CTA_ID).
func (c *Conn) ID() uint32 { return c.id }

// Master is the connection that expected this one (ct->master), nil for
// one that was not expected.
func (c *Conn) Master() *Conn { return c.master }

// Get returns the connection skb belongs to and how (nf_ct_get): nil with
// Untracked for a packet exempted from tracking, nil with 0 for one
// tracking has not seen or found invalid.
func Get(skb *stack.SKB) (*Conn, Info) {
	ct, info := skb.NFCT()
	c, _ := ct.(*Conn)
	return c, Info(info)
}

// SetUntracked exempts skb from tracking (the raw table's NOTRACK and CT
// --notrack: nf_ct_set(skb, NULL, IP_CT_UNTRACKED)); the tracker's hooks
// then leave it alone.
func SetUntracked(skb *stack.SKB) { skb.SetNFCT(nil, uint8(Untracked)) }

// IsUntracked reports whether skb was exempted from tracking.
func IsUntracked(skb *stack.SKB) bool {
	ct, info := skb.NFCT()
	return ct == nil && Info(info) == Untracked
}
