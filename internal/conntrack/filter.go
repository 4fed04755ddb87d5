package conntrack

import (
	"net/netip"

	ct "vnic/stack/netfilter/conntrack"
)

// The options whose filter compares the template with each entry
// (CT_COMPARISON).
const comparison = 1<<optProto | 1<<optOrigSrc | 1<<optOrigDst | 1<<optReplSrc | 1<<optReplDst |
	1<<optMark | 1<<optSecmark | 1<<optStatus | 1<<optID | 1<<optZone | 1<<optLabel |
	1<<optOrigZone | 1<<optReplZone

// filterInit is nfct_filter_init: a --mask-src/--mask-dst (or CIDR)
// filter needs its address, which stops being matched exactly.
func (c *command) filterInit() *exitError {
	for i, opt := range [2]int{optMaskSrc, optMaskDst} {
		if !c.has(opt) {
			continue
		}
		addrOpt, attr := optOrigSrc, aOrigSrc
		a := &c.tmpl.origSrc
		if i == 1 {
			addrOpt, attr, a = optOrigDst, aOrigDst, &c.tmpl.origDst
		}
		if !c.has(addrOpt) {
			return paramErr("Can't use --mask-%s without --%s", []string{"src", "dst"}[i], []string{"src", "dst"}[i])
		}
		c.nets[i].addr = andAddr(*a, c.nets[i].mask)
		c.tmpl.unset(attr)
	}
	return nil
}

func andAddr(a, m netip.Addr) netip.Addr {
	if !a.IsValid() || !m.IsValid() || a.BitLen() != m.BitLen() {
		return a
	}
	x, y := a.AsSlice(), m.AsSlice()
	for i := range x {
		x[i] &= y[i]
	}
	r, _ := netip.AddrFromSlice(x)
	return r
}

// filtered is nfct_filter: whether the entry is left out.
func (c *command) filtered(e *Entry) bool {
	if c.filterNAT(e) || c.filterMark(e) || c.filterNetwork(e) {
		return true
	}
	return c.options&comparison != 0 && !c.cmp(e, true, true, true, true)
}

// filterMark is filter_mark: -m keeps the entries whose mark (which the
// message must carry) is the value under the mask.
func (c *command) filterMark(e *Entry) bool {
	return c.has(optMark) && !(e.Fields&HasMark != 0 && e.Mark&c.markFilter.mask == c.markFilter.value)
}

// filterNetwork is filter_network.
func (c *command) filterNetwork(e *Entry) bool {
	for i, opt := range [2]int{optMaskSrc, optMaskDst} {
		if !c.has(opt) {
			continue
		}
		if e.Fields&HasOrig == 0 || e.Family != c.family {
			return true
		}
		if c.family != AFInet {
			return true // vnic's entries are IPv4: an IPv6 network matches none
		}
		a := e.Orig.Src
		if i == 1 {
			a = e.Orig.Dst
		}
		if andAddr(netip.AddrFrom4(a), c.nets[i].mask) != c.nets[i].addr {
			return true
		}
	}
	return false
}

// filterNAT is filter_nat: -n, -g and -j keep the entries source or
// destination NATed (to the address and port given, when given).
func (c *command) filterNAT(e *Entry) bool {
	checkSrc, checkDst := c.has(optSrcNAT), c.has(optDstNAT)
	if c.has(optAnyNAT) {
		checkSrc, checkDst = true, true
	}
	t := &c.tmpl
	hasSrc, hasDst := false, false
	if checkSrc {
		hasSrc = natMatch(t.has(aSNATIP), t.snatIP, isSNAT(e), e.Reply.Dst, t.has(aSNATPort), t.snatPort, isSPAT(e), e.Reply.DstPort, e)
	}
	if checkDst {
		hasDst = natMatch(t.has(aDNATIP), t.dnatIP, isDNAT(e), e.Reply.Src, t.has(aDNATPort), t.dnatPort, isDPAT(e), e.Reply.SrcPort, e)
	}
	switch {
	case c.has(optAnyNAT):
		return !(hasSrc || hasDst)
	case c.has(optSrcNAT) && c.has(optDstNAT):
		return !(hasSrc && hasDst)
	case c.has(optSrcNAT):
		return !hasSrc
	case c.has(optDstNAT):
		return !hasDst
	}
	return false
}

// natMatch is one direction of filter_nat.
func natMatch(wantIP bool, ip netip.Addr, nat bool, got [4]byte, wantPort bool, port uint16, pat bool, gotPort uint16, e *Entry) bool {
	has := false
	if wantIP {
		has = nat && ip.Is4() && ip.As4() == got
	}
	if wantPort {
		ok := pat && port == gotPort
		if wantIP && has && !ok {
			has = false
		}
		if !wantIP && ok {
			has = true
		}
	}
	if !wantIP && !wantPort && (nat || pat) {
		has = true
	}
	return has
}

// cmp is nfct_cmp of the template with an entry, over the meta
// attributes and the tuples asked for. With mask (NFCT_CMP_MASK) an
// attribute the template has and the entry lacks fails the comparison
// (or, for the zones, compares with zero); without, it is skipped.
func (c *command) cmp(e *Entry, mask, meta, orig, repl bool) bool {
	t := &c.tmpl
	// one is __cmp: set in the template (a) or the entry (b).
	one := func(a, b, strict bool, eq func() bool) bool {
		switch {
		case a && b:
			return eq()
		case a && mask:
			return !strict && eq()
		}
		return true
	}
	hasOrig, hasRepl := e.Fields&HasOrig != 0, e.Fields&HasReply != 0
	if meta {
		ok := one(t.has(aID), e.Fields&HasID != 0, true, func() bool { return t.id == e.ID }) &&
			one(t.has(aTimeout), e.Fields&HasTimeout != 0, true, func() bool { return t.timeout == e.Timeout }) &&
			one(t.has(aStatus), e.Fields&HasStatus != 0, true, func() bool { return t.status&e.Status == t.status }) &&
			one(t.has(aTCPState), e.Fields&HasTCPState != 0, true, func() bool { return t.tcpState == e.TCPState }) &&
			one(t.has(aZone), e.Fields&HasZone != 0, false, func() bool { return t.zone == e.Zone })
		if !ok {
			return false
		}
	}
	l4 := func(proto uint8, tu *ct4, hasTuple bool, sport, dport int, tsport, tdport uint16) bool {
		if proto != tu.proto {
			return false
		}
		switch proto {
		case 1, 58:
			return one(t.has(aICMPID), hasTuple && tu.proto == 1, true, func() bool { return t.icmpID == tu.icmpID }) &&
				one(t.has(aICMPCode), hasTuple && tu.proto == 1, true, func() bool { return t.icmpCode == tu.icmpCode }) &&
				one(t.has(aICMPType), hasTuple && tu.proto == 1, true, func() bool { return t.icmpType == tu.icmpType })
		case 6, 17, 136, 33, 132:
			return one(t.has(sport), hasTuple && hasPorts(tu.proto), true, func() bool { return tsport == tu.sport }) &&
				one(t.has(dport), hasTuple && hasPorts(tu.proto), true, func() bool { return tdport == tu.dport })
		}
		return true
	}
	addr := func(a int, want netip.Addr, hasTuple bool, got [4]byte) bool {
		// An IPv6 address is an attribute no IPv4 entry has.
		return one(t.has(a), hasTuple && want.Is4(), true, func() bool { return want.As4() == got })
	}
	if orig {
		o := tuple4(e.Orig)
		if !one(t.has(aOrigL3), hasOrig, true, func() bool { return t.origL3 == e.Family }) ||
			!one(t.has(aOrigL4), hasOrig, true, func() bool { return l4(t.origL4, &o, hasOrig, aOrigSport, aOrigDport, t.origSport, t.origDport) }) ||
			!addr(aOrigSrc, t.origSrc, hasOrig, e.Orig.Src) || !addr(aOrigDst, t.origDst, hasOrig, e.Orig.Dst) ||
			!one(t.has(aOrigZone), e.Fields&HasOrigZone != 0, false, func() bool { return t.origZone == e.OrigZone }) {
			return false
		}
	}
	if repl {
		r := tuple4(e.Reply)
		if !one(t.has(aReplL3), hasRepl, true, func() bool { return t.replL3 == e.Family }) ||
			!one(t.has(aReplL4), hasRepl, true, func() bool { return l4(t.replL4, &r, hasRepl, aReplSport, aReplDport, t.replSport, t.replDport) }) ||
			!addr(aReplSrc, t.replSrc, hasRepl, e.Reply.Src) || !addr(aReplDst, t.replDst, hasRepl, e.Reply.Dst) ||
			!one(t.has(aReplZone), e.Fields&HasReplZone != 0, false, func() bool { return t.replZone == e.ReplZone }) {
			return false
		}
	}
	return true
}

// ct4 is a tuple's transport part as the comparison reads it.
type ct4 struct {
	proto              uint8
	sport, dport       uint16
	icmpType, icmpCode uint8
	icmpID             uint16
}

func tuple4(t ct.Tuple) ct4 {
	return ct4{proto: t.Proto, sport: t.SrcPort, dport: t.DstPort, icmpType: uint8(t.DstPort >> 8),
		icmpCode: uint8(t.DstPort), icmpID: t.SrcPort}
}
