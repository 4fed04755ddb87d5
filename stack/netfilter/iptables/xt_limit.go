package iptables

import (
	"sync"
	"syscall"
	"time"

	"vnic/stack"
)

// HZ is the tick the rate matches count in: their credits are Linux's for
// a kernel of CONFIG_HZ=1000, read from the host clock.
const HZ = 1000

func jiffies(c stack.Clock) uint64 { return uint64(c.Now() / (time.Second / HZ)) }

// LimitInfo is the limit match (struct xt_rateinfo, the fields iptables
// sets): Avg is the average interval between packets in 1/10000 s
// (XT_LIMIT_SCALE), Burst the bucket's size in packets.
type LimitInfo struct {
	Avg   uint32
	Burst uint32
}

// LimitScale is XT_LIMIT_SCALE.
const LimitScale = 10000

// limit credits (xt_limit.c): CREDITS_PER_JIFFY is the largest power of
// two that lets a day's credits fit 32 bits.
const (
	limitMaxCPJ         = 0xFFFFFFFF / (HZ * 60 * 60 * 24)
	limitCreditsPerJiff = 32 // POW2_BELOW32(limitMaxCPJ) for HZ 1000
)

// limitUser2Credits is xt_limit's user2credits.
func limitUser2Credits(user uint32) uint32 {
	if uint64(user) > 0xFFFFFFFF/(HZ*limitCreditsPerJiff) {
		return (user / LimitScale) * HZ * limitCreditsPerJiff
	}
	return user * HZ * limitCreditsPerJiff / LimitScale
}

type limitMatch struct {
	mu                       sync.Mutex
	clock                    stack.Clock
	prev                     uint64
	credit, creditCap, costs uint32
}

// Match is limit_mt: a token bucket refilled per jiffy.
func (m *limitMatch) Match(Param) (bool, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := jiffies(m.clock)
	c := uint64(m.credit) + (now-m.prev)*limitCreditsPerJiff
	m.prev = now
	m.credit = uint32(min(c, uint64(m.creditCap)))
	if m.credit >= m.costs {
		m.credit -= m.costs
		return true, false
	}
	return false, false
}

// HashlimitInfo is the hashlimit match, revision 3 (struct
// xt_hashlimit_mtinfo3 with its cfg).
type HashlimitInfo struct {
	Name       [16]byte
	Avg        uint64 // interval in 1/1000000 s (packets) or bytes per second's inverse (bytes)
	Burst      uint64
	Mode       uint32
	Size       uint32 // buckets
	Max        uint32 // entries
	GCInterval uint32 // ms
	Expire     uint32 // ms
	Interval   uint32 // s (rate-match)
	SrcMask    uint8
	DstMask    uint8
}

// hashlimit modes (XT_HASHLIMIT_*) and scales.
const (
	HashDstIP      = 1 << 0
	HashDstPort    = 1 << 1
	HashSrcIP      = 1 << 2
	HashSrcPort    = 1 << 3
	HashInvert     = 1 << 4
	HashBytes      = 1 << 5
	HashRateMatch  = 1 << 6
	hashModeAll    = 0x7f
	HashlimitScale = 1000000 // XT_HASHLIMIT_SCALE_v2
	hashByteShift  = 4
	hashMaxSize    = 1048576
)

// hashlimit credits (xt_hashlimit.c) for HZ 1000.
const (
	hashCreditsPerJiffy      = 1 << 37 // POW2_BELOW64(2^64/(HZ*86400))
	hashCreditsPerJiffyBytes = 1 << 22 // POW2_BELOW32(2^32/HZ)
)

func hashUser2Credits(user uint64) uint64 { return user * (HZ * hashCreditsPerJiffy / HashlimitScale) }

func hashUser2CreditsByte(user uint32) uint32 {
	return uint32(uint64(user) * HZ * hashCreditsPerJiffyBytes >> 32)
}

// hashDst is struct dsthash_dst.
type hashDst struct {
	src, dst         [4]byte
	srcPort, dstPort uint16
}

// hashEnt is struct dsthash_ent.
type hashEnt struct {
	expires                  uint64
	prev                     uint64
	credit, creditCap, cost  uint64
	rate, burst, currentRate uint64
	prevWindow               bool
	interval                 uint64
}

// htable is a named hashlimit table, shared by the rules that name it.
type htable struct {
	mu      sync.Mutex
	name    string
	cfg     HashlimitInfo
	refs    int
	ents    map[hashDst]*hashEnt
	lastGC  uint64
	clock   stack.Clock
	hashNet *hashlimitNet
}

// hashlimitNet is a host's named tables.
type hashlimitNet struct {
	mu     sync.Mutex
	tables map[string]*htable
}

func (n *hashlimitNet) init() { n.tables = map[string]*htable{} }

func (n *hashlimitNet) get(name string, cfg *HashlimitInfo, clock stack.Clock) *htable {
	n.mu.Lock()
	defer n.mu.Unlock()
	if t := n.tables[name]; t != nil {
		t.refs++
		return t
	}
	c := *cfg
	if c.Size == 0 {
		c.Size = 1024
	}
	if c.Max == 0 {
		c.Max = 8 * c.Size
	}
	t := &htable{name: name, cfg: c, refs: 1, ents: map[hashDst]*hashEnt{}, clock: clock, hashNet: n}
	n.tables[name] = t
	return t
}

func (n *hashlimitNet) put(t *htable) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if t.refs--; t.refs == 0 {
		delete(n.tables, t.name)
	}
}

type hashlimitMatch struct {
	HashlimitInfo
	t *htable
}

func (m *hashlimitMatch) Destroy() { m.t.hashNet.put(m.t) }

func maskl(a [4]byte, l uint8) [4]byte {
	if l == 0 {
		return [4]byte{}
	}
	v := be32(a) & (^uint32(0) << (32 - l))
	return [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
}

// Match is hashlimit_mt_common: one bucket per masked address/port key,
// rate-limiting packets (or bytes) of each key.
func (m *hashlimitMatch) Match(p Param) (bool, bool) {
	t := m.t
	cfg := &t.cfg
	var d hashDst
	if cfg.Mode&HashDstIP != 0 {
		d.dst = maskl(p.IP.Dst(), cfg.DstMask)
	}
	if cfg.Mode&HashSrcIP != 0 {
		d.src = maskl(p.IP.Src(), cfg.SrcMask)
	}
	if cfg.Mode&(HashDstPort|HashSrcPort) != 0 {
		switch p.IP.Protocol() {
		case ProtoTCP, ProtoUDP, ProtoUDPLite, ProtoSCTP, ProtoDCCP:
			pp, ok := header4(p, 4)
			if !ok {
				return false, true
			}
			if cfg.Mode&HashSrcPort != 0 {
				d.srcPort = uint16(pp[0])<<8 | uint16(pp[1])
			}
			if cfg.Mode&HashDstPort != 0 {
				d.dstPort = uint16(pp[2])<<8 | uint16(pp[3])
			}
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := jiffies(t.clock)
	if now-t.lastGC >= uint64(cfg.GCInterval)*HZ/1000 {
		for k, e := range t.ents {
			if now >= e.expires {
				delete(t.ents, k)
			}
		}
		t.lastGC = now
	}
	e := t.ents[d]
	if e == nil {
		if uint32(len(t.ents)) >= cfg.Max {
			return false, true // dsthash_alloc_init fails: the table is full
		}
		e = &hashEnt{}
		t.ents[d] = e
		e.expires = now + uint64(cfg.Expire)*HZ/1000
		m.init(e, now)
	} else {
		e.expires = now + uint64(cfg.Expire)*HZ/1000
		m.recalc(e, now)
	}
	inv := cfg.Mode&HashInvert != 0
	if cfg.Mode&HashRateMatch != 0 {
		cost := uint64(1)
		if cfg.Mode&HashBytes != 0 {
			cost = uint64(p.SKB.TotalLen())
		}
		e.currentRate += cost
		if !e.prevWindow && e.currentRate <= e.burst {
			return !inv, false
		}
		return inv, false
	}
	cost := e.cost
	if cfg.Mode&HashBytes != 0 {
		tmp := min(uint64(p.SKB.TotalLen()>>hashByteShift+1)*e.cost, hashCreditsPerJiffyBytes*HZ)
		if e.credit < tmp && e.creditCap != 0 {
			e.creditCap--
			e.credit = hashCreditsPerJiffyBytes * HZ
		}
		cost = tmp
	}
	if e.credit >= cost {
		e.credit -= cost
		return !inv, false
	}
	return inv, false
}

// init is rateinfo_init.
func (m *hashlimitMatch) init(e *hashEnt, now uint64) {
	cfg := &m.t.cfg
	e.prev = now
	switch {
	case cfg.Mode&HashRateMatch != 0:
		if cfg.Mode&HashBytes != 0 {
			r := uint64(0xFFFFFFFF)
			if uint32(cfg.Avg) != 0 {
				r = 0xFFFFFFFF / uint64(uint32(cfg.Avg))
			}
			e.rate = (r - 1) << hashByteShift
			e.burst = e.rate
			if cfg.Burst != 0 {
				e.burst = cfg.Burst * e.rate
			}
		} else {
			e.rate = HashlimitScale / cfg.Avg
			e.burst = cfg.Burst + e.rate
		}
		e.interval = uint64(cfg.Interval)
	case cfg.Mode&HashBytes != 0:
		e.credit = hashCreditsPerJiffyBytes * HZ
		e.cost = uint64(hashUser2CreditsByte(uint32(cfg.Avg)))
		e.creditCap = cfg.Burst
	default:
		e.credit = hashUser2Credits(cfg.Avg * cfg.Burst)
		e.cost = hashUser2Credits(cfg.Avg)
		e.creditCap = e.credit
	}
}

// recalc is rateinfo_recalc.
func (m *hashlimitMatch) recalc(e *hashEnt, now uint64) {
	cfg := &m.t.cfg
	delta := now - e.prev
	if delta == 0 {
		return
	}
	if cfg.Mode&HashRateMatch != 0 {
		interval := e.interval * HZ
		if delta < interval {
			return
		}
		e.prev = now
		e.prevWindow = e.currentRate*interval > delta*e.rate
		e.currentRate = 0
		return
	}
	e.prev = now
	var limit uint64
	if cfg.Mode&HashBytes != 0 {
		old := e.credit
		e.credit += hashCreditsPerJiffyBytes * delta
		limit = hashCreditsPerJiffyBytes * HZ
		if old >= e.credit {
			e.credit = limit
			return
		}
	} else {
		e.credit += delta * hashCreditsPerJiffy
		limit = e.creditCap
	}
	e.credit = min(e.credit, limit)
}

func validProcName(n string) bool {
	return n != "" && n != "." && n != ".." && len(n) < 16 && !containsByte(n, '/')
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

func init() {
	RegisterMatch(&MatchType{Name: "limit", NewInfo: func() any { return new(LimitInfo) },
		Check: func(c *CheckParam, info any) (Matcher, error) {
			r := info.(*LimitInfo)
			if r.Burst == 0 || limitUser2Credits(r.Avg*r.Burst) < limitUser2Credits(r.Avg) {
				return nil, errorf(syscall.ERANGE, "x_tables: limit: Overflow, try lower: %d/%d", r.Avg, r.Burst)
			}
			m := &limitMatch{clock: c.Host.Clock()}
			m.prev = jiffies(m.clock)
			m.credit = limitUser2Credits(r.Avg * r.Burst)
			m.creditCap = m.credit
			m.costs = limitUser2Credits(r.Avg)
			return m, nil
		}})
	RegisterMatch(&MatchType{Name: "hashlimit", Revision: 3, NewInfo: func() any { return new(HashlimitInfo) },
		Check: func(c *CheckParam, info any) (Matcher, error) {
			i := info.(*HashlimitInfo)
			name := cstr(i.Name[:])
			if !validProcName(name) {
				return nil, checkErr("x_tables: hashlimit: bad name %q", name)
			}
			if i.GCInterval == 0 || i.Expire == 0 || i.SrcMask > 32 || i.DstMask > 32 || i.Mode&^hashModeAll != 0 {
				return nil, checkErr("x_tables: hashlimit: bad configuration")
			}
			cfg := *i
			cfg.Size, cfg.Max = min(cfg.Size, hashMaxSize), min(cfg.Max, hashMaxSize)
			switch {
			case cfg.Mode&HashRateMatch != 0:
				if cfg.Avg == 0 || cfg.Avg > 0xFFFFFFFF {
					return nil, errorf(syscall.ERANGE, "x_tables: hashlimit: invalid rate")
				}
				if cfg.Interval == 0 {
					return nil, checkErr("x_tables: hashlimit: invalid interval")
				}
			case cfg.Mode&HashBytes != 0:
				if hashUser2CreditsByte(uint32(cfg.Avg)) == 0 {
					return nil, checkErr("x_tables: hashlimit: overflow, rate too high: %d", cfg.Avg)
				}
			default:
				if cfg.Burst == 0 || hashUser2Credits(cfg.Avg*cfg.Burst) < hashUser2Credits(cfg.Avg) {
					return nil, errorf(syscall.ERANGE, "x_tables: hashlimit: overflow, try lower: %d/%d", cfg.Avg, cfg.Burst)
				}
			}
			t := netOf(c.Host).hash.get(name, &cfg, c.Host.Clock())
			return &hashlimitMatch{HashlimitInfo: *i, t: t}, nil
		}})
}
