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
// fields; the rest of netfilter reads them through the methods.
type Conn struct {
	tuple   [2]Tuple      // the original and reply directions
	status  Status        // IPS_* bits
	mark    uint32        // ct mark (CONNMARK)
	zone    uint16        // conntrack zone
	expires time.Duration // the host clock's time the entry times out
	proto   uint8         // the protocol tracker's state (TCP: enum tcp_conntrack)
	packets [2]uint64     // per-direction accounting (nf_conn_acct)
	bytes   [2]uint64
}

// Tuple is the tuple of direction d (ct->tuplehash[d].tuple).
func (c *Conn) Tuple(d Dir) Tuple { return c.tuple[d] }

// Status returns the status bits.
func (c *Conn) Status() Status { return c.status }

// Mark is the connection mark.
func (c *Conn) Mark() uint32 { return c.mark }

// SetMark sets the connection mark (CONNMARK --set-mark).
func (c *Conn) SetMark(m uint32) { c.mark = m }

// Zone is the connection's conntrack zone.
func (c *Conn) Zone() uint16 { return c.zone }

// Expires is the host-clock time (stack.Clock's Now) at which the entry
// times out.
func (c *Conn) Expires() time.Duration { return c.expires }

// ProtoState is the protocol tracker's state: for TCP one of the TCP
// conntrack states, 0 for protocols without one.
func (c *Conn) ProtoState() uint8 { return c.proto }

// Counters are the packets and bytes seen in direction d.
func (c *Conn) Counters(d Dir) (packets, bytes uint64) { return c.packets[d], c.bytes[d] }

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
