package iptables

import (
	"syscall"

	"bytes"
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"vnic/stack"
)

// StatisticInfo is the statistic match (struct xt_statistic_info, its
// union spread out).
type StatisticInfo struct {
	Mode        uint16 // StatisticRandom or StatisticNth
	Flags       uint16 // StatisticInvert
	Probability uint32 // random: matches when a draw & 0x7fffffff is below it
	Every       uint32 // nth: every Every+1'th packet
	Packet      uint32
	Count       uint32 // nth: the counter's start
}

// statistic modes and flags (XT_STATISTIC_*).
const (
	StatisticRandom = 0
	StatisticNth    = 1
	StatisticInvert = 0x1
)

type statisticMatch struct {
	StatisticInfo
	count atomic.Uint32
	rng   *lockedRand
}

// lockedRand is a host's generator for the random mode: seeded from the
// host's name, so that a run repeats (Linux draws get_random_u32).
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (l *lockedRand) u32() uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Uint32()
}

var rngs sync.Map // *stack.Host → *lockedRand

func hostRand(h *stack.Host) *lockedRand {
	if v, ok := rngs.Load(h); ok {
		return v.(*lockedRand)
	}
	f := fnv.New64a()
	f.Write([]byte(h.Name()))
	l := &lockedRand{r: rand.New(rand.NewPCG(f.Sum64(), 0x9e3779b97f4a7c15))}
	v, _ := rngs.LoadOrStore(h, l)
	return v.(*lockedRand)
}

// Match is statistic_mt.
func (m *statisticMatch) Match(Param) (bool, bool) {
	ret := m.Flags&StatisticInvert != 0
	switch m.Mode {
	case StatisticRandom:
		if m.rng.u32()&0x7fffffff < m.Probability {
			ret = !ret
		}
	case StatisticNth:
		for {
			o := m.count.Load()
			n := o + 1
			if o == m.Every {
				n = 0
			}
			if m.count.CompareAndSwap(o, n) {
				if n == 0 {
					ret = !ret
				}
				break
			}
		}
	}
	return ret, false
}

// StringInfo is the string match, revision 1 (struct xt_string_info).
type StringInfo struct {
	FromOffset, ToOffset uint16
	Algo                 [16]byte
	Pattern              [128]byte
	PatLen               uint8
	Flags                uint8 // StringInvert, StringIgnoreCase
}

// string flags (XT_STRING_FLAG_*).
const (
	StringInvert     = 0x01
	StringIgnoreCase = 0x02
	StringMaxPattern = 128
)

type stringMatch struct {
	StringInfo
	pat []byte
}

// Match is string_mt: the pattern within [from, to) of the packet from
// its network header (skb_find_text over the linear data).
func (m *stringMatch) Match(p Param) (bool, bool) {
	data := p.SKB.Data()
	to := min(int(m.ToOffset), len(data))
	found := false
	if from := int(m.FromOffset); from < to {
		hay := data[from:to]
		if m.Flags&StringIgnoreCase != 0 {
			found = indexFold(hay, m.pat) >= 0
		} else {
			found = bytes.Contains(hay, m.pat)
		}
	}
	return found != (m.Flags&StringInvert != 0), false
}

// indexFold is bytes.Index ignoring ASCII case (pat already lower case).
func indexFold(hay, pat []byte) int {
	lower := func(c byte) byte {
		if c >= 'A' && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
outer:
	for i := 0; i+len(pat) <= len(hay); i++ {
		for j := range pat {
			if lower(hay[i+j]) != pat[j] {
				continue outer
			}
		}
		return i
	}
	return -1
}

func init() {
	RegisterMatch(&MatchType{Name: "statistic", NewInfo: func() any { return new(StatisticInfo) },
		Check: func(c *CheckParam, info any) (Matcher, error) {
			i := info.(*StatisticInfo)
			if i.Mode > StatisticNth || i.Flags&^StatisticInvert != 0 {
				return nil, checkErr("x_tables: statistic: bad mode or flags")
			}
			m := &statisticMatch{StatisticInfo: *i, rng: hostRand(c.Host)}
			m.count.Store(i.Count)
			return m, nil
		}})
	RegisterMatch(&MatchType{Name: "string", Revision: 1, NewInfo: func() any { return new(StringInfo) },
		Check: func(c *CheckParam, info any) (Matcher, error) {
			i := info.(*StringInfo)
			if i.FromOffset > i.ToOffset {
				return nil, checkErr("x_tables: string: from offset above to offset")
			}
			if algo := cstr(i.Algo[:]); algo != "bm" && algo != "kmp" {
				return nil, errorf(syscall.ENOENT, "x_tables: string: no search algorithm %q", algo)
			}
			if i.PatLen == 0 || i.PatLen > StringMaxPattern || i.Flags&^(StringInvert|StringIgnoreCase) != 0 {
				return nil, checkErr("x_tables: string: bad pattern or flags")
			}
			pat := bytes.Clone(i.Pattern[:i.PatLen])
			if i.Flags&StringIgnoreCase != 0 {
				pat = bytes.ToLower(pat)
			}
			return &stringMatch{StringInfo: *i, pat: pat}, nil
		}})
}
