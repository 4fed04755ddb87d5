package iptables

import (
	"syscall"
	"time"

	"vnic/stack"
	"vnic/stack/netfilter/conntrack"
)

// ConntrackInfo is the conntrack match, revision 3 (struct
// xt_conntrack_mtinfo3, IPv4, ports in host order).
type ConntrackInfo struct {
	OrigSrc, OrigSrcMask [4]byte
	OrigDst, OrigDstMask [4]byte
	ReplSrc, ReplSrcMask [4]byte
	ReplDst, ReplDstMask [4]byte
	ExpiresMin           uint32
	ExpiresMax           uint32
	L4Proto              uint16
	OrigSrcPort          uint16
	OrigDstPort          uint16
	ReplSrcPort          uint16
	ReplDstPort          uint16
	MatchFlags           uint16
	InvertFlags          uint16
	StateMask            uint16
	StatusMask           uint16
	OrigSrcPortHigh      uint16
	OrigDstPortHigh      uint16
	ReplSrcPortHigh      uint16
	ReplDstPortHigh      uint16
}

// conntrack match flags (XT_CONNTRACK_*).
const (
	CTMatchState       = 1 << 0
	CTMatchProto       = 1 << 1
	CTMatchOrigSrc     = 1 << 2
	CTMatchOrigDst     = 1 << 3
	CTMatchReplSrc     = 1 << 4
	CTMatchReplDst     = 1 << 5
	CTMatchStatus      = 1 << 6
	CTMatchExpires     = 1 << 7
	CTMatchOrigSrcPort = 1 << 8
	CTMatchOrigDstPort = 1 << 9
	CTMatchReplSrcPort = 1 << 10
	CTMatchReplDstPort = 1 << 11
	CTMatchDirection   = 1 << 12
	CTMatchStateAlias  = 1 << 13
)

// conntrack state bits (XT_CONNTRACK_STATE_*): the relation's bit, then
// the pseudo-states.
const (
	CTStateInvalid   = 1 << 0
	CTStateSNAT      = 1 << 6
	CTStateDNAT      = 1 << 7
	CTStateUntracked = 1 << 8
)

// CTStateBit is XT_CONNTRACK_STATE_BIT (and XT_STATE_BIT): the bit of a
// tracked packet's relation, its direction folded.
func CTStateBit(info conntrack.Info) uint16 { return 1 << (uint(info)%uint(conntrack.IsReply) + 1) }

// StateInfo is the state match (struct xt_state_info).
type StateInfo struct{ StateMask uint32 }

// StateUntracked is XT_STATE_UNTRACKED (the invalid bit is bit 0, as
// conntrack's).
const StateUntracked = 1 << 6

type conntrackMatch struct {
	ConntrackInfo
	clock stack.Clock
	ctUser
}

func addrDiff(a, b, mask [4]byte) bool { return (be32(a)^be32(b))&be32(mask) != 0 }

// Match is conntrack_mt (revision 3): each option asked for must hold,
// "!" inverting it; a packet without a connection matches only a state
// test.
func (m *conntrackMatch) Match(p Param) (bool, bool) {
	ct, info := conntrack.Get(p.SKB)
	var statebit uint16
	switch {
	case ct != nil:
		statebit = CTStateBit(info)
	case info == conntrack.Untracked:
		statebit = CTStateUntracked
	default:
		statebit = CTStateInvalid
	}
	f, inv := m.MatchFlags, m.InvertFlags
	if f&CTMatchState != 0 {
		if ct != nil {
			if ct.Status()&conntrack.StatusSrcNAT != 0 {
				statebit |= CTStateSNAT
			}
			if ct.Status()&conntrack.StatusDstNAT != 0 {
				statebit |= CTStateDNAT
			}
		}
		if (m.StateMask&statebit != 0) == (inv&CTMatchState != 0) {
			return false, false
		}
	}
	if ct == nil {
		return f&CTMatchState != 0, false
	}
	test := func(flag uint16, hit bool) bool { return f&flag == 0 || hit != (inv&flag != 0) }
	orig, repl := ct.Tuple(conntrack.Original), ct.Tuple(conntrack.Reply)
	if !test(CTMatchDirection, info < conntrack.IsReply) ||
		!test(CTMatchOrigSrc, !addrDiff(orig.Src, m.OrigSrc, m.OrigSrcMask)) ||
		!test(CTMatchOrigDst, !addrDiff(orig.Dst, m.OrigDst, m.OrigDstMask)) ||
		!test(CTMatchReplSrc, !addrDiff(repl.Src, m.ReplSrc, m.ReplSrcMask)) ||
		!test(CTMatchReplDst, !addrDiff(repl.Dst, m.ReplDst, m.ReplDstMask)) ||
		!test(CTMatchProto, uint16(orig.Proto) == m.L4Proto) ||
		!test(CTMatchOrigSrcPort, orig.SrcPort >= m.OrigSrcPort && orig.SrcPort <= m.OrigSrcPortHigh) ||
		!test(CTMatchOrigDstPort, orig.DstPort >= m.OrigDstPort && orig.DstPort <= m.OrigDstPortHigh) ||
		!test(CTMatchReplSrcPort, repl.SrcPort >= m.ReplSrcPort && repl.SrcPort <= m.ReplSrcPortHigh) ||
		!test(CTMatchReplDstPort, repl.DstPort >= m.ReplDstPort && repl.DstPort <= m.ReplDstPortHigh) ||
		!test(CTMatchStatus, uint32(m.StatusMask)&uint32(ct.Status()) != 0) {
		return false, false
	}
	if f&CTMatchExpires != 0 {
		var left time.Duration
		if m.clock != nil {
			left = max(ct.Expires()-m.clock.Now(), 0)
		}
		secs := uint64(left / time.Second)
		if (secs >= uint64(m.ExpiresMin) && secs <= uint64(m.ExpiresMax)) == (inv&CTMatchExpires != 0) {
			return false, false
		}
	}
	return true, false
}

type stateMatch struct {
	StateInfo
	ctUser
}

// Match is state_mt.
func (m *stateMatch) Match(p Param) (bool, bool) {
	ct, info := conntrack.Get(p.SKB)
	var bit uint32
	switch {
	case ct != nil:
		bit = uint32(CTStateBit(info))
	case info == conntrack.Untracked:
		bit = StateUntracked
	default:
		bit = CTStateInvalid
	}
	return m.StateMask&bit != 0, false
}

func init() {
	RegisterMatch(&MatchType{Name: "conntrack", Revision: 3, NewInfo: func() any { return new(ConntrackInfo) },
		Check: func(c *CheckParam, info any) (Matcher, error) {
			u, err := holdConntrack(c, "conntrack")
			if err != nil {
				return nil, err
			}
			return &conntrackMatch{ConntrackInfo: *info.(*ConntrackInfo), clock: c.Host.Clock(), ctUser: u}, nil
		}})
	RegisterMatch(&MatchType{Name: "state", NewInfo: func() any { return new(StateInfo) },
		Check: func(c *CheckParam, info any) (Matcher, error) {
			u, err := holdConntrack(c, "state")
			if err != nil {
				return nil, err
			}
			return &stateMatch{StateInfo: *info.(*StateInfo), ctUser: u}, nil
		}})
}

// ctUser is a match or target that reads or writes connection state: its
// rule holds the host's connection tracking while it is in a table (the
// checkentry's nf_ct_netns_get, the destroy's nf_ct_netns_put), so that a
// state rule is all it takes to turn tracking on.
type ctUser struct{ host *stack.Host }

func holdConntrack(c *CheckParam, name string) (ctUser, error) {
	if _, err := conntrack.Enable(c.Host); err != nil {
		return ctUser{}, errorf(syscall.EOPNOTSUPP, "x_tables: %s: %v", name, err)
	}
	return ctUser{c.Host}, nil
}

// Destroy releases the reference.
func (u ctUser) Destroy() {
	if u.host != nil {
		_ = conntrack.Disable(u.host)
	}
}
