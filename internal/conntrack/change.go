package conntrack

import (
	"syscall"

	ct "vnic/stack/netfilter/conntrack"
)

// The status bits ctnetlink may not change (IPS_UNCHANGEABLE_MASK).
const unchangeable = ct.StatusSrcNATDone | ct.StatusDstNATDone | ct.StatusSrcNAT | ct.StatusDstNAT |
	ct.StatusExpected | ct.StatusConfirmed | ct.StatusDying | ct.StatusSeqAdjust | ct.StatusTemplate |
	ct.StatusOffload | ct.StatusHWOffload | ct.StatusNATClash

// change is ctnetlink_new_conntrack: an existing entry is changed
// (ctnetlink_change_conntrack, in its order: helper, timeout, status,
// protocol state, mark, sequence adjustment, synproxy, labels); creating
// one is not built.
func (s *Service) change(r *request) error {
	c, err := s.find(r)
	if err != nil {
		return err
	}
	if c == nil {
		if r.flags&FlagCreate == 0 {
			return plain(syscall.ENOENT)
		}
		if r.cda[CTATupleOrig] == nil || r.cda[CTATupleReply] == nil {
			return plain(syscall.EINVAL)
		}
		o, _ := r.tuple(CTATupleOrig, nil)
		p, _ := r.tuple(CTATupleReply, nil)
		if o.Proto != p.Proto {
			return plain(syscall.EINVAL)
		}
		return notBuilt("creating entries (-I, -A) is not built: vnic's tracker makes entries from packets only")
	}
	if r.flags&FlagExcl != 0 {
		return plain(syscall.EEXIST)
	}
	for _, typ := range []uint16{CTANATSrc, CTANATDst, CTATupleMaster} {
		if r.cda[typ] != nil {
			return plain(syscall.EOPNOTSUPP)
		}
	}
	if a := r.cda[CTAHelp]; a != nil {
		name, err := helperName(*a)
		if err != nil {
			return err
		}
		if name != "" {
			return attrErr(syscall.EOPNOTSUPP, *a, "conntrack helpers are not built")
		}
	}
	if a := r.cda[CTATimeout]; a != nil {
		return attrErr(syscall.EOPNOTSUPP, *a, "changing an entry's timeout (-U -t) is not built: the tracker sets timeouts from packets only")
	}
	if a := r.cda[CTAStatus]; a != nil {
		v, err := r.be32(CTAStatus)
		if err != nil {
			return err
		}
		cur := c.Status()
		want := ct.Status(v)
		d := cur ^ want
		if d&ct.StatusSeenReply != 0 && want&ct.StatusSeenReply == 0 || d&ct.StatusAssured != 0 && want&ct.StatusAssured == 0 {
			return plain(syscall.EBUSY)
		}
		if d&^unchangeable != 0 {
			return attrErr(syscall.EOPNOTSUPP, *a, "changing status bits (-U -u) is not built")
		}
	}
	if a := r.cda[CTAProtoinfo]; a != nil {
		return attrErr(syscall.EOPNOTSUPP, *a, "changing the protocol state is not built")
	}
	if r.cda[CTAMark] != nil {
		v, err := r.be32(CTAMark)
		if err != nil {
			return err
		}
		var keep uint32
		if r.cda[CTAMarkMask] != nil {
			m, err := r.be32(CTAMarkMask)
			if err != nil {
				return err
			}
			keep = ^m
		}
		s.exec(func() { c.SetMark(c.Mark()&keep ^ v) })
	}
	if r.cda[CTALabels] != nil {
		return plain(syscall.ENOSPC) // no labels extension: nf_connlabels_replace
	}
	// The change is reported at once, as ctnetlink reports it (with the
	// events it may have made; vnic has no helpers, labels, sequence
	// adjustment or synproxy to add).
	n, err := s.net(r)
	if err != nil {
		return err
	}
	s.exec(func() {
		n.Report(c, 1<<ct.EventReply|1<<ct.EventAssured|1<<ct.EventHelper|1<<ct.EventProtoinfo|1<<ct.EventMark)
	})
	return nil
}

// helperName reads CTA_HELP's CTA_HELP_NAME (EINVAL without one).
func helperName(a attr) (string, error) {
	name, found := "", false
	err := parseAttrs(a.v, func(n attr) error {
		if n.typ == 1 {
			name, found = n.str(), true
		}
		return nil
	})
	if err != nil || !found {
		return "", plain(syscall.EINVAL)
	}
	return name, nil
}
