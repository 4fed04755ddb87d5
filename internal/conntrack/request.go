package conntrack

import (
	"syscall"

	ct "vnic/stack/netfilter/conntrack"
	"vnic/stack/netlink"
)

// request is a ctnetlink request as the kernel's handlers see it: its
// nfgenmsg family and its top-level attributes by type (nla_parse's
// cda[]), each with its offset in the body for the extended ack; vnic's
// host, groups and flags beside them.
type request struct {
	family uint8
	cda    [CTAStatusMask + 1]*attr
	host   string
	groups uint32
	flags  uint16
}

// parseRequest splits a request body (nfgenmsg, attributes).
func parseRequest(body []byte) (*request, error) {
	family, _, attrs, err := splitNfgenmsg(body)
	if err != nil {
		return nil, netlink.Errorf(syscall.EINVAL, "the request has no struct nfgenmsg")
	}
	r := &request{family: family, groups: GroupAll}
	err = parseAttrs(attrs, func(a attr) error {
		a.off += nfgenmsgLen
		switch {
		case int(a.typ) < len(r.cda):
			r.cda[a.typ] = &a
		case a.typ == AttrHost:
			r.host = a.str()
		case a.typ == AttrGroups:
			g, err := a.ne32()
			if err != nil {
				return attrErr(syscall.ERANGE, a, "")
			}
			r.groups = g
		case a.typ == AttrMsgFlags:
			f, err := a.ne16()
			if err != nil {
				return attrErr(syscall.ERANGE, a, "")
			}
			r.flags = f
		}
		return nil
	})
	if err == ErrMalformed {
		return nil, netlink.Errorf(syscall.EINVAL, "malformed attributes")
	}
	return r, err
}

// attrErr is errno for the attribute a, with msg for the extended ack
// (empty: none, as Linux sends none).
func attrErr(errno syscall.Errno, a attr, msg string) error {
	return &netlink.Error{Errno: errno, Msg: msg, Off: a.off}
}

// plain is errno with no extended ack: what ctnetlink answers.
func plain(errno syscall.Errno) error { return &netlink.Error{Errno: errno, Off: -1} }

// notBuilt is vnic's refusal of what the kernel would do and vnic's
// tracker cannot: EOPNOTSUPP, saying what.
func notBuilt(format string, args ...any) error {
	return netlink.Errorf(syscall.EOPNOTSUPP, format, args...)
}

func (r *request) be32(typ uint16) (uint32, error) {
	a := r.cda[typ]
	v, err := a.be32()
	if err != nil {
		return 0, attrErr(syscall.ERANGE, *a, "")
	}
	return v, nil
}

// zone is ctnetlink_parse_zone: CTA_ZONE, or the default zone.
func (r *request) zone() (uint16, error) {
	a := r.cda[CTAZone]
	if a == nil {
		return 0, nil
	}
	z, err := a.be16()
	if err != nil {
		return 0, attrErr(syscall.ERANGE, *a, "")
	}
	return z, nil
}

// tuple is ctnetlink_parse_tuple with every field required: the
// addresses, the protocol and its part of the tuple (ports, or ICMP's
// type, code and id, the type one that has a reply), then the tuple's
// zone (CTA_TUPLE_ZONE), which makes *zone a zone of typ's direction —
// EINVAL when *zone already has an id (CTA_ZONE, or the other tuple's).
func (r *request) tuple(typ uint16, zone *ct.Zone) (ct.Tuple, error) {
	var t ct.Tuple
	a := r.cda[typ]
	var ip, proto, tz *attr
	err := parseAttrs(a.v, func(n attr) error {
		n.off += a.off + nlaHdrLen
		switch n.typ {
		case CTATupleIP:
			ip = &n
		case CTATupleProto:
			proto = &n
		case CTATupleZone:
			if len(n.v) < 2 {
				return attrErr(syscall.ERANGE, n, "") // tuple_nla_policy: NLA_U16
			}
			tz = &n
		}
		return nil
	})
	if err != nil {
		if err == ErrMalformed {
			return t, attrErr(syscall.EINVAL, *a, "")
		}
		return t, err
	}
	if r.family != AFInet && r.family != AFInet6 {
		return t, plain(syscall.EOPNOTSUPP)
	}
	if ip == nil {
		return t, plain(syscall.EINVAL)
	}
	var src, dst *attr
	srcType, dstType, size := uint16(CTAIPv4Src), uint16(CTAIPv4Dst), 4
	if r.family == AFInet6 {
		srcType, dstType, size = CTAIPv6Src, CTAIPv6Dst, 16
	}
	if err := parseAttrs(ip.v, func(n attr) error {
		n.off += ip.off + nlaHdrLen
		switch n.typ {
		case srcType:
			src = &n
		case dstType:
			dst = &n
		}
		if (n.typ == srcType || n.typ == dstType) && len(n.v) < size {
			return attrErr(syscall.ERANGE, n, "")
		}
		return nil
	}); err != nil {
		return t, malformed(err, *ip)
	}
	if src == nil || dst == nil {
		return t, plain(syscall.EINVAL)
	}
	if r.family == AFInet {
		copy(t.Src[:], src.v)
		copy(t.Dst[:], dst.v)
	}
	if proto == nil {
		return t, plain(syscall.EINVAL)
	}
	var fields [CTAProtoICMPCode + 1]*attr
	if err := parseAttrs(proto.v, func(n attr) error {
		n.off += proto.off + nlaHdrLen
		if int(n.typ) < len(fields) {
			fields[n.typ] = &n
		}
		return nil
	}); err != nil {
		return t, malformed(err, *proto)
	}
	num := fields[CTAProtoNum]
	if num == nil {
		return t, plain(syscall.EINVAL)
	}
	if t.Proto, err = num.u8(); err != nil {
		return t, attrErr(syscall.ERANGE, *num, "")
	}
	u16 := func(typ uint16) (uint16, error) {
		f := fields[typ]
		if f == nil {
			return 0, plain(syscall.EINVAL)
		}
		v, err := f.be16()
		if err != nil {
			return 0, attrErr(syscall.ERANGE, *f, "")
		}
		return v, nil
	}
	u8 := func(typ uint16) (uint8, error) {
		f := fields[typ]
		if f == nil {
			return 0, plain(syscall.EINVAL)
		}
		v, err := f.u8()
		if err != nil {
			return 0, attrErr(syscall.ERANGE, *f, "")
		}
		return v, nil
	}
	switch t.Proto {
	case 6, 17, 33, 132, 136: // TCP, UDP, DCCP, SCTP, UDP-Lite: nf_ct_port_nlattr_to_tuple
		sp, err := u16(CTAProtoSrcPort)
		if err != nil {
			return t, err
		}
		dp, err := u16(CTAProtoDstPort)
		if err != nil {
			return t, err
		}
		if hasPorts(t.Proto) {
			t.SrcPort, t.DstPort = sp, dp
		}
	case 1: // icmp_nlattr_to_tuple
		typ, err := u8(CTAProtoICMPType)
		if err != nil {
			return t, err
		}
		code, err := u8(CTAProtoICMPCode)
		if err != nil {
			return t, err
		}
		id, err := u16(CTAProtoICMPID)
		if err != nil {
			return t, err
		}
		t.SrcPort, t.DstPort = id, uint16(typ)<<8|uint16(code)
		if _, ok := t.Invert(); !ok {
			return t, plain(syscall.EINVAL)
		}
	}
	if tz != nil {
		if zone == nil || zone.ID != 0 {
			return t, plain(syscall.EINVAL)
		}
		z, _ := tz.be16()
		*zone = ct.Zone{ID: z, Dir: ct.ZoneDirOrig}
		if typ == CTATupleReply {
			zone.Dir = ct.ZoneDirRepl
		}
	}
	return t, nil
}

func malformed(err error, in attr) error {
	if err == ErrMalformed {
		return attrErr(syscall.EINVAL, in, "")
	}
	return err
}

// filter is struct ctnetlink_filter: what a dump or flush keeps.
type filter struct {
	family     uint8
	zone       uint16
	zoneFilter bool
	mark, markMask,
	status, statusMask uint32
}

// dumpFilter is ctnetlink_alloc_filter for r (the request's family and
// its CTA_MARK/CTA_MARK_MASK, CTA_STATUS/CTA_STATUS_MASK and CTA_ZONE).
// CTA_FILTER (tuple filtering, Linux ≥ 5.9) is not built: conntrack-tools
// filters tuples itself.
func (r *request) dumpFilter(family uint8) (filter, error) {
	f := filter{family: family}
	if a := r.cda[CTAFilter]; a != nil {
		return f, attrErr(syscall.EOPNOTSUPP, *a, "tuple filters (CTA_FILTER) are not built")
	}
	if r.cda[CTAMark] != nil {
		v, err := r.be32(CTAMark)
		if err != nil {
			return f, err
		}
		f.mark, f.markMask = v, ^uint32(0)
		if r.cda[CTAMarkMask] != nil {
			if f.markMask, err = r.be32(CTAMarkMask); err != nil {
				return f, err
			}
		}
	} else if r.cda[CTAMarkMask] != nil {
		return f, plain(syscall.EINVAL)
	}
	if r.cda[CTAStatus] != nil {
		v, err := r.be32(CTAStatus)
		if err != nil {
			return f, err
		}
		f.status, f.statusMask = v, v
		if r.cda[CTAStatusMask] != nil {
			if f.statusMask, err = r.be32(CTAStatusMask); err != nil {
				return f, err
			}
		}
		if f.statusMask == 0 {
			return f, plain(syscall.EINVAL)
		}
	} else if r.cda[CTAStatusMask] != nil {
		return f, plain(syscall.EINVAL)
	}
	if r.cda[CTAZone] != nil {
		z, err := r.zone()
		if err != nil {
			return f, err
		}
		f.zone, f.zoneFilter = z, true
	}
	return f, nil
}

// match is ctnetlink_filter_match. Every vnic connection is IPv4.
func (f *filter) match(c *ct.Conn) bool {
	if f.family != 0 && f.family != AFInet {
		return false
	}
	if f.zoneFilter && c.Zone().ID != f.zone { // nf_ct_zone_equal_any: the ids
		return false
	}
	if c.Mark()&f.markMask != f.mark {
		return false
	}
	return uint32(c.Status())&f.statusMask == f.status
}
