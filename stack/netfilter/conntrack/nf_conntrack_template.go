package conntrack

import "vnic/stack"

// Templates (nf_ct_tmpl_alloc in nf_conntrack_core.c): the raw table's CT
// target attaches one to a packet tracking has not seen; tracking then
// takes from it what the connection it finds or makes is to have — the
// zone it is looked up and created in, and the events it reports — and
// drops it from the packet. A template is a Conn with IPS_TEMPLATE (and
// IPS_CONFIRMED, so that the confirmation hook leaves it alone) that is
// never in the table.

// NewTemplate is nf_ct_tmpl_alloc with the ecache extension of
// xt_ct_tg_check: a template of zone (ZoneFromMark: the zone id is each
// packet's mark) whose connections report the events in ctmask and, as
// masters, the expectation events in expmask. Both masks zero means no
// ecache extension: the connection reports what nf_conntrack_events
// says.
func (n *Net) NewTemplate(zone Zone, ctmask, expmask EventMask) *Conn {
	t := &Conn{zone: zone, net: n, ctmask: uint16(ctmask), expmask: uint16(expmask)}
	t.node[Original].ct, t.node[Reply].ct = t, t
	t.status.Store(uint32(StatusTemplate | StatusConfirmed))
	return t
}

// SetTemplate is xt_ct_target: a packet tracking has not seen (no
// connection, not untracked) carries tmpl to the tracking hook, as NEW;
// one already seen (looped back) is left as it is.
func SetTemplate(skb *stack.SKB, tmpl *Conn) {
	if ct, info := skb.NFCT(); ct != nil || info != 0 {
		return
	}
	skb.SetNFCT(tmpl, uint8(New))
}

// templateOf is nf_conntrack_in's first step: the template skb carries
// (taken off it), whether the packet is one tracking has already seen or
// exempted (seen: leave it alone), or neither (nil, false).
func templateOf(skb *stack.SKB) (tmpl *Conn, seen bool) {
	c, info := skb.NFCT()
	if c == nil {
		return nil, Info(info) == Untracked
	}
	t, _ := c.(*Conn)
	if t == nil || t.status.Load()&uint32(StatusTemplate) == 0 {
		return nil, true
	}
	skb.SetNFCT(nil, 0)
	return t, false
}

// zoneOf is nf_ct_zone_tmpl: the zone a packet is tracked in — the
// default without a template, the template's, or for a template of
// ZoneFromMark the packet's mark (its low 16 bits) in the template's
// directions.
func zoneOf(tmpl *Conn, skb *stack.SKB) Zone {
	if tmpl == nil {
		return DefaultZone
	}
	if z := tmpl.zone; z.Flags&ZoneFromMark != 0 {
		return Zone{ID: uint16(skb.Mark), Dir: z.Dir}
	}
	return tmpl.zone
}
