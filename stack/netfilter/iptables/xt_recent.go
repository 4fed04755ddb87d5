package iptables

import (
	"container/list"
	"math/bits"
	"strings"
	"sync"

	"vnic/stack"
)

// RecentInfo is the recent match, revision 1 (struct
// xt_recent_mtinfo_v1, IPv4 mask).
type RecentInfo struct {
	Seconds  uint32
	HitCount uint32
	CheckSet uint8
	Invert   uint8
	Name     [200]byte
	Side     uint8
	Mask     [4]byte
}

// recent options (XT_RECENT_*).
const (
	RecentCheck  = 1 << 0
	RecentSet    = 1 << 1
	RecentUpdate = 1 << 2
	RecentRemove = 1 << 3
	RecentTTL    = 1 << 4
	RecentReap   = 1 << 5

	RecentSource = 0
	RecentDest   = 1

	recentModifiers = RecentTTL | RecentReap
	recentValid     = RecentCheck | RecentSet | RecentUpdate | RecentRemove | RecentTTL | RecentReap
)

// The module's parameters (ip_list_tot, ip_pkt_list_tot).
const (
	recentListTot    = 100
	recentPktListTot = 20
	recentMaxStamps  = 255
)

// recentEntry is struct recent_entry: an address's last hits.
type recentEntry struct {
	addr   [4]byte
	ttl    uint8
	stamps []uint64 // a ring of hit times (jiffies)
	index  int      // the next slot
	n      int
	lru    *list.Element
}

// recentTable is a named list of addresses.
type recentTable struct {
	name  string
	mask  [4]byte
	refs  int
	max   int // stamps per entry
	ents  map[[4]byte]*recentEntry
	lru   *list.List
	clock stack.Clock
}

// recentNet is a host's recent lists (recent_net), one lock for all of
// them as recent_lock.
type recentNet struct {
	mu     sync.Mutex
	tables map[string]*recentTable
}

func (n *recentNet) init() { n.tables = map[string]*recentTable{} }

type recentMatch struct {
	RecentInfo
	t *recentTable
	n *recentNet
}

func (m *recentMatch) Destroy() {
	m.n.mu.Lock()
	defer m.n.mu.Unlock()
	if m.t.refs--; m.t.refs == 0 {
		delete(m.n.tables, m.t.name)
	}
}

// Match is recent_mt.
func (m *recentMatch) Match(p Param) (bool, bool) {
	addr := p.IP.Src()
	if m.Side == RecentDest {
		addr = p.IP.Dst()
	}
	ttl := p.IP.TTL()
	if p.State.Out != nil && p.SKB.Owner == nil {
		ttl++ // the TTL as seen before forwarding
	}
	ret := m.Invert != 0
	m.n.mu.Lock()
	defer m.n.mu.Unlock()
	t := m.t
	for i := range addr {
		addr[i] &= t.mask[i]
	}
	now := jiffies(t.clock)
	e := t.ents[addr]
	if e != nil && m.CheckSet&RecentTTL != 0 && e.ttl != ttl {
		e = nil
	}
	if e == nil {
		if m.CheckSet&RecentSet == 0 {
			return ret, false
		}
		t.add(addr, ttl, now)
		return !ret, false
	}
	switch {
	case m.CheckSet&RecentSet != 0:
		ret = !ret
	case m.CheckSet&RecentRemove != 0:
		t.remove(e)
		return !ret, false
	case m.CheckSet&(RecentCheck|RecentUpdate) != 0:
		since := now - uint64(m.Seconds)*HZ
		hits := uint32(0)
		for i := 0; i < e.n; i++ {
			if m.Seconds != 0 && int64(e.stamps[i]-since) < 0 { // time_after(since, stamp)
				continue
			}
			hits++
			if m.HitCount == 0 || hits >= m.HitCount {
				ret = !ret
				break
			}
		}
		if m.CheckSet&RecentReap != 0 {
			t.reap(since, e, m.CheckSet&RecentUpdate != 0 && ret)
		}
	}
	if m.CheckSet&RecentSet != 0 || (m.CheckSet&RecentUpdate != 0 && ret) {
		if t.ents[addr] == e {
			t.stamp(e, now)
			e.ttl = ttl
		}
	}
	return ret, false
}

// add is recent_entry_init: a new address with one hit; the least
// recently seen one goes when the list is full.
func (t *recentTable) add(addr [4]byte, ttl uint8, now uint64) {
	if old := t.ents[addr]; old != nil {
		t.remove(old) // one of another TTL
	}
	if len(t.ents) >= recentListTot {
		if old := t.lru.Front(); old != nil {
			t.remove(old.Value.(*recentEntry))
		}
	}
	e := &recentEntry{addr: addr, ttl: ttl, stamps: make([]uint64, t.max)}
	e.lru = t.lru.PushBack(e)
	t.ents[addr] = e
	t.stamp(e, now)
}

func (t *recentTable) stamp(e *recentEntry, now uint64) {
	e.stamps[e.index] = now
	e.index = (e.index + 1) % len(e.stamps)
	e.n = min(e.n+1, len(e.stamps))
	t.lru.MoveToBack(e.lru)
}

func (t *recentTable) remove(e *recentEntry) {
	t.lru.Remove(e.lru)
	delete(t.ents, e.addr)
}

// reap is recent_entry_reap: the oldest entry goes if its last hit is
// older than since (unless it is e being updated).
func (t *recentTable) reap(since uint64, e *recentEntry, update bool) {
	front := t.lru.Front()
	if front == nil {
		return
	}
	old := front.Value.(*recentEntry)
	if update && old == e {
		return
	}
	last := old.stamps[(old.index+len(old.stamps)-1)%len(old.stamps)]
	if int64(last-since) < 0 {
		t.remove(old)
	}
}

func init() {
	RegisterMatch(&MatchType{Name: "recent", Revision: 1, NewInfo: func() any { return new(RecentInfo) },
		Check: func(c *CheckParam, info any) (Matcher, error) {
			i := info.(*RecentInfo)
			if i.CheckSet&^recentValid != 0 || bits.OnesCount8(i.CheckSet&(RecentSet|RecentRemove|RecentCheck|RecentUpdate)) != 1 {
				return nil, checkErr("x_tables: recent: exactly one of --set, --rcheck, --update, --remove")
			}
			if i.CheckSet&(RecentSet|RecentRemove) != 0 && (i.Seconds != 0 || i.HitCount != 0 || i.CheckSet&recentModifiers != 0) {
				return nil, checkErr("x_tables: recent: --set and --remove take no --seconds, --hitcount, --rttl or --reap")
			}
			if i.CheckSet&RecentReap != 0 && i.Seconds == 0 {
				return nil, checkErr("x_tables: recent: --reap needs --seconds")
			}
			if i.HitCount > recentMaxStamps {
				return nil, checkErr("x_tables: recent: hitcount (%d) is larger than allowed maximum (%d)", i.HitCount, recentMaxStamps)
			}
			name := cstr(i.Name[:])
			if name == "" || name == "." || name == ".." || strings.Contains(name, "/") || len(name) >= len(i.Name) {
				return nil, checkErr("x_tables: recent: bad list name %q", name)
			}
			n := &netOf(c.Host).recent
			n.mu.Lock()
			defer n.mu.Unlock()
			t := n.tables[name]
			if t != nil {
				if t.mask != i.Mask {
					return nil, checkErr("x_tables: recent: table with the same name exists but with a different mask")
				}
				t.refs++
			} else {
				stamps := max(int(i.HitCount), recentPktListTot)
				stamps = 1 << bits.Len(uint(stamps-1)) // rounded up to a power of two
				t = &recentTable{name: name, mask: i.Mask, refs: 1, max: stamps, ents: map[[4]byte]*recentEntry{},
					lru: list.New(), clock: c.Host.Clock()}
				n.tables[name] = t
			}
			return &recentMatch{RecentInfo: *i, t: t, n: n}, nil
		}})
}

// RecentList returns the addresses of h's recent list name, least
// recently seen first (what /proc/net/xt_recent/NAME shows).
func RecentList(h *stack.Host, name string) [][4]byte {
	n := &netOf(h).recent
	n.mu.Lock()
	defer n.mu.Unlock()
	t := n.tables[name]
	if t == nil {
		return nil
	}
	var out [][4]byte
	for e := t.lru.Front(); e != nil; e = e.Next() {
		out = append(out, e.Value.(*recentEntry).addr)
	}
	return out
}
