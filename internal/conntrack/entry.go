package conntrack

import (
	ct "vnic/stack/netfilter/conntrack"
)

// Fields says which of an Entry's optional fields its message carried
// (libnetfilter_conntrack's attribute set bits).
type Fields uint32

// Entry fields that a message may leave out.
const (
	HasStatus Fields = 1 << iota
	HasTimeout
	HasMark
	HasZone
	HasID
	HasUse
	HasTCPState
	HasCounters // both directions (CTA_COUNTERS_ORIG and _REPLY)
	HasMaster
	HasOrig
	HasReply
	HasOrigZone // CTA_TUPLE_ZONE in the original tuple
	HasReplZone // CTA_TUPLE_ZONE in the reply tuple
)

// Entry is one conntrack message as conntrack reads it: the tuples of
// both directions and what the kernel reports with them. Tuples are the
// tracker's (for ICMP, SrcPort is the id and DstPort type<<8|code).
type Entry struct {
	Family      uint8 // nfgen_family
	Orig, Reply ct.Tuple
	Master      ct.Tuple
	Fields      Fields
	Status      uint32
	Timeout     uint32 // seconds
	Mark        uint32
	Zone        uint16 // CTA_ZONE: a zone of both directions
	OrigZone    uint16 // a zone of the original direction only
	ReplZone    uint16 // a zone of the reply direction only
	ID          uint32
	Use         uint32
	TCPState    uint8
	Packets     [2]uint64 // per direction
	Bytes       [2]uint64
}

// hasPorts is whether a protocol's tuple carries ports on the wire: the
// protocols vnic tracks with ports (TCP, UDP; the others are the
// generic tracker's, whose tuples have none).
func hasPorts(proto uint8) bool { return proto == 6 || proto == 17 }

// appendTuple appends a tuple as typ, nested (ctnetlink_dump_tuples):
// CTA_TUPLE_IP with the addresses, CTA_TUPLE_PROTO with the protocol and
// its ports, or ICMP's id, type and code.
func appendTuple(b []byte, typ uint16, t ct.Tuple) []byte {
	return appendZonedTuple(b, typ, t, 0, false)
}

// appendZonedTuple is appendTuple with, when has, the zone of the
// tuple's direction after it (CTA_TUPLE_ZONE, as ctnetlink_fill_info
// dumps a zone of one direction).
func appendZonedTuple(b []byte, typ uint16, t ct.Tuple, zone uint16, has bool) []byte {
	b, outer := nestStart(b, typ)
	b, ip := nestStart(b, CTATupleIP)
	b = appendAttr(b, CTAIPv4Src, t.Src[:])
	b = appendAttr(b, CTAIPv4Dst, t.Dst[:])
	b = nestEnd(b, ip)
	b, proto := nestStart(b, CTATupleProto)
	b = appendU8(b, CTAProtoNum, t.Proto)
	switch {
	case hasPorts(t.Proto):
		b = appendBE16(b, CTAProtoSrcPort, t.SrcPort)
		b = appendBE16(b, CTAProtoDstPort, t.DstPort)
	case t.Proto == 1:
		b = appendBE16(b, CTAProtoICMPID, t.SrcPort)
		b = appendU8(b, CTAProtoICMPType, uint8(t.DstPort>>8))
		b = appendU8(b, CTAProtoICMPCode, uint8(t.DstPort))
	}
	b = nestEnd(b, proto)
	if has {
		b = appendBE16(b, CTATupleZone, zone)
	}
	return nestEnd(b, outer)
}

func appendCounters(b []byte, typ uint16, packets, bytes uint64) []byte {
	b, at := nestStart(b, typ)
	b = appendBE64(b, CTACountersPackets, packets)
	b = appendBE64(b, CTACountersBytes, bytes)
	return nestEnd(b, at)
}

func appendTCPState(b []byte, state uint8) []byte {
	b, pi := nestStart(b, CTAProtoinfo)
	b, tcp := nestStart(b, CTAProtoinfoTCP)
	b = appendU8(b, CTAProtoinfoTCPState, state)
	b = nestEnd(b, tcp)
	return nestEnd(b, pi)
}

// Append encodes e as a dump's message (nfgenmsg, then the attributes in
// ctnetlink_fill_info's order), the fields it has and no others.
func (e *Entry) Append(b []byte) []byte {
	b = appendNfgenmsg(b, e.Family, 0)
	if e.Fields&HasOrig != 0 {
		b = appendZonedTuple(b, CTATupleOrig, e.Orig, e.OrigZone, e.Fields&HasOrigZone != 0)
	}
	if e.Fields&HasReply != 0 {
		b = appendZonedTuple(b, CTATupleReply, e.Reply, e.ReplZone, e.Fields&HasReplZone != 0)
	}
	if e.Fields&HasZone != 0 {
		b = appendBE16(b, CTAZone, e.Zone)
	}
	if e.Fields&HasStatus != 0 {
		b = appendBE32(b, CTAStatus, e.Status)
	}
	if e.Fields&HasMark != 0 {
		b = appendBE32(b, CTAMark, e.Mark)
	}
	if e.Fields&HasID != 0 {
		b = appendBE32(b, CTAID, e.ID)
	}
	if e.Fields&HasUse != 0 {
		b = appendBE32(b, CTAUse, e.Use)
	}
	if e.Fields&HasMaster != 0 {
		b = appendTuple(b, CTATupleMaster, e.Master)
	}
	if e.Fields&HasTimeout != 0 {
		b = appendBE32(b, CTATimeout, e.Timeout)
	}
	if e.Fields&HasTCPState != 0 {
		b = appendTCPState(b, e.TCPState)
	}
	if e.Fields&HasCounters != 0 {
		b = appendCounters(b, CTACountersOrig, e.Packets[0], e.Bytes[0])
		b = appendCounters(b, CTACountersRepl, e.Packets[1], e.Bytes[1])
	}
	return b
}

// ParseEntry reads a conntrack message (nfgenmsg and attributes) as
// nfct_nlmsg_parse does: known attributes fill the entry, unknown ones
// are skipped, a malformed one is ErrMalformed.
func ParseEntry(b []byte) (Entry, error) {
	var e Entry
	family, _, attrs, err := splitNfgenmsg(b)
	if err != nil {
		return e, err
	}
	e.Family = family
	var counters Fields
	err = parseAttrs(attrs, func(a attr) error {
		var err error
		switch a.typ {
		case CTATupleOrig:
			var has bool
			e.Fields |= HasOrig
			if e.Orig, e.OrigZone, has, err = parseTuple(a.v); has {
				e.Fields |= HasOrigZone
			}
		case CTATupleReply:
			var has bool
			e.Fields |= HasReply
			if e.Reply, e.ReplZone, has, err = parseTuple(a.v); has {
				e.Fields |= HasReplZone
			}
		case CTATupleMaster:
			e.Fields |= HasMaster
			e.Master, _, _, err = parseTuple(a.v)
		case CTAStatus:
			e.Fields |= HasStatus
			e.Status, err = a.be32()
		case CTATimeout:
			e.Fields |= HasTimeout
			e.Timeout, err = a.be32()
		case CTAMark:
			e.Fields |= HasMark
			e.Mark, err = a.be32()
		case CTAZone:
			e.Fields |= HasZone
			e.Zone, err = a.be16()
		case CTAID:
			e.Fields |= HasID
			e.ID, err = a.be32()
		case CTAUse:
			e.Fields |= HasUse
			e.Use, err = a.be32()
		case CTAProtoinfo:
			err = parseAttrs(a.v, func(p attr) error {
				if p.typ != CTAProtoinfoTCP {
					return nil
				}
				return parseAttrs(p.v, func(s attr) error {
					if s.typ != CTAProtoinfoTCPState {
						return nil
					}
					var err error
					e.TCPState, err = s.u8()
					e.Fields |= HasTCPState
					return err
				})
			})
		case CTACountersOrig, CTACountersRepl:
			d := 0
			if a.typ == CTACountersRepl {
				d = 1
			}
			counters |= 1 << d
			err = parseAttrs(a.v, func(c attr) error {
				var err error
				switch c.typ {
				case CTACountersPackets:
					e.Packets[d], err = c.be64()
				case CTACountersBytes:
					e.Bytes[d], err = c.be64()
				}
				return err
			})
		}
		return err
	})
	if counters == 3 {
		e.Fields |= HasCounters
	}
	return e, err
}

// parseTuple reads a nested tuple and its zone (CTA_TUPLE_ZONE, when
// hasZone); what it leaves out stays zero.
func parseTuple(b []byte) (t ct.Tuple, zone uint16, hasZone bool, err error) {
	err = parseAttrs(b, func(a attr) error {
		switch a.typ {
		case CTATupleZone:
			var err error
			zone, err = a.be16()
			hasZone = err == nil
			return err
		case CTATupleIP:
			return parseAttrs(a.v, func(ip attr) error {
				switch ip.typ {
				case CTAIPv4Src, CTAIPv4Dst:
					if len(ip.v) < 4 {
						return ErrMalformed
					}
					if ip.typ == CTAIPv4Src {
						copy(t.Src[:], ip.v)
					} else {
						copy(t.Dst[:], ip.v)
					}
				}
				return nil
			})
		case CTATupleProto:
			return parseAttrs(a.v, func(p attr) error {
				var err error
				var u uint8
				switch p.typ {
				case CTAProtoNum:
					t.Proto, err = p.u8()
				case CTAProtoSrcPort, CTAProtoICMPID:
					t.SrcPort, err = p.be16()
				case CTAProtoDstPort:
					t.DstPort, err = p.be16()
				case CTAProtoICMPType:
					u, err = p.u8()
					t.DstPort = uint16(u)<<8 | t.DstPort&0xff
				case CTAProtoICMPCode:
					u, err = p.u8()
					t.DstPort = t.DstPort&0xff00 | uint16(u)
				}
				return err
			})
		}
		return nil
	})
	return t, zone, hasZone, err
}

// Stats is one CTA_STATS_* message of -S: the CPU (res_id) and the
// counters it carried, by attribute type.
type Stats struct {
	CPU    uint16
	Values [CTAStatsChainTooLong + 1]uint32
	Has    [CTAStatsChainTooLong + 1]bool
}

// ParseStats reads an IPCTNL_MSG_CT_GET_STATS_CPU message.
func ParseStats(b []byte) (Stats, error) {
	var s Stats
	_, cpu, attrs, err := splitNfgenmsg(b)
	if err != nil {
		return s, err
	}
	s.CPU = cpu
	err = parseAttrs(attrs, func(a attr) error {
		if a.typ == 0 || int(a.typ) >= len(s.Values) {
			return nil
		}
		v, err := a.be32()
		s.Values[a.typ], s.Has[a.typ] = v, err == nil
		return err
	})
	return s, err
}

// ParseCount reads an IPCTNL_MSG_CT_GET_STATS message: the entries and
// the table's limit.
func ParseCount(b []byte) (entries, max uint32, ok bool, err error) {
	_, _, attrs, err := splitNfgenmsg(b)
	if err != nil {
		return 0, 0, false, err
	}
	err = parseAttrs(attrs, func(a attr) error {
		var err error
		switch a.typ {
		case CTAStatsGlobalEntries:
			entries, err = a.be32()
			ok = err == nil
		case CTAStatsGlobalMaxEntries:
			max, err = a.be32()
		}
		return err
	})
	return entries, max, ok, err
}

// eventHeader reads an event's message type and flags (AttrMsgType,
// AttrMsgFlags).
func eventHeader(b []byte) (typ, flags uint16, err error) {
	_, _, attrs, err := splitNfgenmsg(b)
	if err != nil {
		return 0, 0, err
	}
	err = parseAttrs(attrs, func(a attr) error {
		var err error
		switch a.typ {
		case AttrMsgType:
			typ, err = a.ne16()
		case AttrMsgFlags:
			flags, err = a.ne16()
		}
		return err
	})
	return typ, flags, err
}
