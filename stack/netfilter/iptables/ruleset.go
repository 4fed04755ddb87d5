package iptables

import (
	"sync/atomic"

	"vnic/stack"
)

// TableSpec is a table's rules as they are replaced and read
// (IPT_SO_SET_REPLACE, IPT_SO_GET_ENTRIES): the built-in chains of the
// table and the user chains, in the order given.
type TableSpec struct {
	Name   string
	Chains []Chain
	// Gen is the generation Get read (a Replace counts one up). A
	// Replace whose rules keep counters (Origin, KeepCounters) must
	// give the generation they were read in, else it fails with EAGAIN.
	Gen uint64
}

// Chain is one chain: a built-in one (named as its hook) with its policy
// and the policy's counters, or a user chain.
type Chain struct {
	Name string
	// Policy is a built-in chain's verdict when no rule decides: Accept
	// or Drop.
	Policy   Verdict
	Counters Counters
	// KeepCounters keeps the policy counters the chain has (a built-in
	// chain only).
	KeepCounters bool
	Rules        []Rule
}

// Rule is one rule (struct ipt_entry with its matches and target).
type Rule struct {
	IP       IPMatch
	Matches  []Match
	Target   Target
	Counters Counters
	// ID identifies the rule in the generation Get read (1 upward, in
	// table order).
	ID uint32
	// Origin, when not zero, is the ID of a rule of the current
	// generation whose counters this rule takes over (Counters is then
	// ignored).
	Origin uint32
}

// Match is one of a rule's matches: an extension and its info.
type Match struct {
	Name     string
	Revision uint8
	Info     any
}

// Target is a rule's target. The standard target (Name "") holds a
// verdict (Accept, Drop, Queue, Return, or Continue for a rule that only
// counts) or, with Chain set, a jump to a user chain (a goto when the
// rule's IP flags have FlagGoto). Anything else is an extension and its
// info.
type Target struct {
	Name     string
	Revision uint8
	Info     any
	Verdict  Verdict
	Chain    string
}

// Counters are packets and bytes (struct xt_counters).
type Counters struct{ Packets, Bytes uint64 }

// counter is one rule's counters, shared by the generations that keep it.
type counter struct{ pkts, bytes atomic.Uint64 }

func (c *counter) load() Counters { return Counters{c.pkts.Load(), c.bytes.Load()} }

func newCounter(v Counters) *counter {
	c := &counter{}
	c.pkts.Store(v.Packets)
	c.bytes.Store(v.Bytes)
	return c
}

// entry kinds.
const (
	kindVerdict  = iota // a standard verdict: end of traversal
	kindJump            // push and go to the chain
	kindGoto            // go to the chain
	kindReturn          // pop (or the policy)
	kindTarget          // an extension target
	kindContinue        // a rule without a target: it counts, then the next rule
)

// entry is one compiled rule (or a chain's tail: the policy of a built-in
// chain, the implicit RETURN of a user chain).
type entry struct {
	ip      ipm
	matches []Matcher
	kind    uint8
	verdict stack.Verdict
	jump    int32
	target  Targeter
	ctr     *counter
}

// ruleset is a compiled table: immutable once made. The traversal reads
// one ruleset from start to end.
type ruleset struct {
	entries   []entry
	hookEntry [stack.NumNFHooks]int32 // first entry of each built-in chain (-1: none)
	underflow [stack.NumNFHooks]int32 // its policy entry
	depth     int                     // the deepest chain of jumps
	spec      *TableSpec              // what it was made from (counters live in cells)
	cells     []*counter              // the rules' counters in spec order
	policy    [stack.NumNFHooks]*counter
	gen       uint64
}

// stackDepth is the jump stack a traversal keeps on the Go stack; a
// deeper ruleset takes one from the heap.
const stackDepth = 32

// do is ipt_do_table: the packet runs through the chain of its hook from
// the first rule; a rule whose IP part and matches all match counts the
// packet and applies its target. A jump remembers where it came from, a
// RETURN or a user chain's end goes back, a built-in chain's end is its
// policy.
func (rs *ruleset) do(skb *stack.SKB, st *stack.NFState) stack.Verdict {
	i := rs.hookEntry[st.Hook]
	if i < 0 {
		return stack.NFAccept
	}
	nh := skb.NetworkHeader()
	if len(nh) < 20 || int(nh[0]&0xf)*4 < 20 || int(nh[0]&0xf)*4 > len(nh) {
		return stack.NFDrop // not an IPv4 header: the stack hands none
	}
	p := Param{SKB: skb, State: st, IP: nh, THOff: int(nh[0]&0xf) * 4,
		FragOff: (uint16(nh[6])<<8 | uint16(nh[7])) & 0x1fff}
	saddr := uint32(nh[12])<<24 | uint32(nh[13])<<16 | uint32(nh[14])<<8 | uint32(nh[15])
	daddr := uint32(nh[16])<<24 | uint32(nh[17])<<16 | uint32(nh[18])<<8 | uint32(nh[19])
	proto := nh[9]
	plen := uint64(skb.TotalLen())
	var local [stackDepth]int32
	jumps := local[:0]
	if rs.depth > stackDepth {
		jumps = make([]int32, 0, rs.depth)
	}
	// Translate refused loops: every path through the chains ends.
	for {
		e := &rs.entries[i]
		if !e.ip.match(saddr, daddr, proto, p.FragOff, st) {
			i++
			continue
		}
		matched := true
		for _, m := range e.matches {
			ok, hotdrop := m.Match(p)
			if hotdrop {
				return stack.NFDrop
			}
			if !ok {
				matched = false
				break
			}
		}
		if !matched {
			i++
			continue
		}
		e.ctr.pkts.Add(1)
		e.ctr.bytes.Add(plen)
		switch e.kind {
		case kindVerdict:
			return e.verdict
		case kindReturn:
			if len(jumps) == 0 {
				i = rs.underflow[st.Hook]
				continue
			}
			i = jumps[len(jumps)-1] + 1
			jumps = jumps[:len(jumps)-1]
		case kindJump:
			jumps = append(jumps, i)
			i = e.jump
		case kindGoto:
			i = e.jump
		case kindContinue:
			i++
		case kindTarget:
			v := e.target.Target(p)
			if v == Continue {
				// A target may have changed the packet (TTL, DSCP, a
				// TCPMSS option inserted): the following rules see
				// the new header and count the new length, as
				// ipt_do_table reads both again.
				nh = skb.NetworkHeader()
				p.IP = nh
				saddr = uint32(nh[12])<<24 | uint32(nh[13])<<16 | uint32(nh[14])<<8 | uint32(nh[15])
				daddr = uint32(nh[16])<<24 | uint32(nh[17])<<16 | uint32(nh[18])<<8 | uint32(nh[19])
				proto = nh[9]
				plen = uint64(skb.TotalLen())
				i++
				continue
			}
			if v == Return {
				if len(jumps) == 0 {
					i = rs.underflow[st.Hook]
					continue
				}
				i = jumps[len(jumps)-1] + 1
				jumps = jumps[:len(jumps)-1]
				continue
			}
			return stack.Verdict(v)
		}
	}
}
