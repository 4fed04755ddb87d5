package iptables

import (
	"syscall"

	"vnic/stack/netfilter/conntrack"
)

// CTInfo is the CT target, revision 2 (struct xt_ct_target_info_v1).
type CTInfo struct {
	Flags     uint16 // CTNoTrack, …
	Zone      uint16
	CTEvents  uint32 // 1 << conntrack.Event* bits
	ExpEvents uint32 // 1 << conntrack.ExpEvent* bits
	Helper    [16]byte
	Timeout   [32]byte
}

// CT flags (XT_CT_*).
const (
	CTNoTrack      = 1 << 0
	CTNoTrackAlias = 1 << 1
	CTZoneDirOrig  = 1 << 2
	CTZoneDirRepl  = 1 << 3
	CTZoneMark     = 1 << 4
	ctFlagMask     = 0x1f
)

type notrackTarget struct{}

// Target is xt_ct_target with the untracked template: a packet tracking
// has not seen is exempted from it.
func (notrackTarget) Target(p Param) Verdict {
	if ct, info := conntrack.Get(p.SKB); ct == nil && info == 0 {
		conntrack.SetUntracked(p.SKB)
	}
	return Continue
}

// ctTarget is CT with a template: the zone the packet's connection is
// found or made in, the events it reports.
type ctTarget struct {
	tmpl *conntrack.Conn
	ctUser
}

// Target is xt_ct_target: a packet tracking has not seen carries the
// template to the tracking hook.
func (t *ctTarget) Target(p Param) Verdict {
	conntrack.SetTemplate(p.SKB, t.tmpl)
	return Continue
}

// ctZone is the template's zone as xt_ct_tg_check makes it: the id, the
// direction of --zone-orig or --zone-reply (both given, or neither: both
// directions, xt_ct_flags_to_dir), the mark flag of "mark".
func ctZone(i *CTInfo) conntrack.Zone {
	z := conntrack.Zone{ID: i.Zone}
	switch i.Flags & (CTZoneDirOrig | CTZoneDirRepl) {
	case CTZoneDirOrig:
		z.Dir = conntrack.ZoneDirOrig
	case CTZoneDirRepl:
		z.Dir = conntrack.ZoneDirRepl
	}
	if i.Flags&CTZoneMark != 0 {
		z.Flags = conntrack.ZoneFromMark
	}
	return z
}

// ctProto is xt_ct_find_proto: the protocol the rule asks for, 0 for
// any or an inverted one.
func ctProto(r *Rule) uint8 {
	if r == nil || r.IP.InvFlags&InvProto != 0 {
		return 0
	}
	return uint8(r.IP.Proto)
}

// ctCheck is xt_ct_tg_check_v2. --notrack takes the untracked template
// and ignores the rest, as the kernel does. Otherwise the rule holds the
// host's tracking (nf_ct_netns_get) and a template is made with the zone
// and the event masks. vnic builds no conntrack helpers and no timeout
// policies (nfnetlink_cttimeout), so a helper or a timeout policy is one
// the kernel does not know: ENOENT, logged as xt_CT logs it — unless the
// rule has no protocol, for which the kernel refuses a timeout policy
// with EINVAL first.
func ctCheck(c *CheckParam, info any) (Targeter, error) {
	i := info.(*CTInfo)
	if i.Flags&^ctFlagMask != 0 {
		return nil, checkErr("x_tables: CT: unknown flags %#x", i.Flags)
	}
	if i.Flags&CTNoTrack != 0 {
		return notrackTarget{}, nil
	}
	u, err := holdConntrack(c, "CT")
	if err != nil {
		return nil, err
	}
	fail := func(errno syscall.Errno, format string, args ...any) (Targeter, error) {
		u.Destroy()
		return nil, errorf(errno, format, args...)
	}
	proto := ctProto(c.Rule)
	if i.Helper[0] != 0 {
		if cstr(i.Helper[:]) == string(i.Helper[:]) {
			return fail(syscall.ENAMETOOLONG, "xt_CT: helper name not terminated")
		}
		if proto == 0 {
			return fail(syscall.ENOENT, "xt_CT: You must specify a L4 protocol and not use inversions on it")
		}
		return fail(syscall.ENOENT, "xt_CT: No such helper %q", cstr(i.Helper[:]))
	}
	if i.Timeout[0] != 0 {
		if cstr(i.Timeout[:]) == string(i.Timeout[:]) {
			return fail(syscall.ENAMETOOLONG, "xt_CT: timeout policy name not terminated")
		}
		if proto == 0 {
			return fail(syscall.EINVAL, "xt_CT: You must specify a L4 protocol and not use inversions on it")
		}
		return fail(syscall.ENOENT, "No such timeout policy %q", cstr(i.Timeout[:]))
	}
	n := conntrack.Of(c.Host)
	// nf_ct_ecache_ext_add keeps the masks as 16 bits.
	tmpl := n.NewTemplate(ctZone(i), conntrack.EventMask(uint16(i.CTEvents)), conntrack.EventMask(uint16(i.ExpEvents)))
	return &ctTarget{tmpl: tmpl, ctUser: u}, nil
}

func init() {
	RegisterTarget(&TargetType{Name: "CT", Revision: 2, Table: "raw", NewInfo: func() any { return new(CTInfo) }, Check: ctCheck})
	RegisterTarget(&TargetType{Name: "NOTRACK", Table: "raw",
		Check: func(*CheckParam, any) (Targeter, error) { return notrackTarget{}, nil }})
}
