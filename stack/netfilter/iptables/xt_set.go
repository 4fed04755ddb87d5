package iptables

import (
	"errors"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"vnic/stack"
)

// IP sets (net/netfilter/ipset): a host's named sets of addresses,
// networks or address-port pairs, which the set match looks packets up
// in. vnic has the types hash:ip, hash:net and hash:ip,port for IPv4,
// with a default timeout per set (and one per entry) and per-entry
// counters.

// Set types.
const (
	SetHashIP     = "hash:ip"
	SetHashNet    = "hash:net"
	SetHashIPPort = "hash:ip,port"
)

// SetTypes are the set types vnic has.
var SetTypes = []string{SetHashIP, SetHashNet, SetHashIPPort}

// setDims is each type's dimension (how many of src/dst a rule gives).
var setDims = map[string]uint8{SetHashIP: 1, SetHashNet: 1, SetHashIPPort: 2}

// SetCreate is a set's header: what ipset create names.
type SetCreate struct {
	Name     string
	Type     string
	HashSize uint32 // buckets asked for (kept, shown)
	MaxElem  uint32
	// Timeout, when not zero, is the default lifetime of an entry in
	// seconds; only a set made with one takes per-entry timeouts.
	Timeout  uint32
	Counters bool
}

// SetEntry is one member: an address (with a prefix length for
// hash:net), and for hash:ip,port a protocol and port. Timeout is the
// lifetime asked for on add (0: the set's), or what is left on read;
// Packets and Bytes are its counters.
type SetEntry struct {
	Addr    [4]byte
	CIDR    uint8
	Proto   uint8
	Port    uint16
	Timeout uint32
	Packets uint64
	Bytes   uint64
	// HasCounters: Packets and Bytes were given (add) or are kept
	// (read).
	HasCounters bool
}

// SetInfo is a set as ipset list shows it.
type SetInfo struct {
	SetCreate
	Index   uint16
	Refs    int
	Entries []SetEntry
}

// The ipset errors (the kernel's IPSET_ERR_* and errnos the tool
// words).
var (
	ErrSetNoSuch       = errors.New("ipset: the set with the given name does not exist")
	ErrSetNameExist    = errors.New("ipset: set with the same name already exists")
	ErrSetInUse        = errors.New("ipset: set is in use by a kernel component")
	ErrSetTypeMismatch = errors.New("ipset: the sets' types do not match")
	ErrSetElemExist    = errors.New("ipset: element is already added")
	ErrSetElemMissing  = errors.New("ipset: element is not added")
	ErrSetFull         = errors.New("ipset: hash is full")
	ErrSetType         = errors.New("ipset: set type not supported")
	ErrSetNoTimeout    = errors.New("ipset: the set was made without timeout support")
	ErrSetNoCounters   = errors.New("ipset: the set was made without counter support")
	ErrSetInvalid      = errors.New("ipset: invalid element for the set's type")
)

type setKey struct {
	addr  [4]byte
	cidr  uint8
	proto uint8
	port  uint16
}

type setElem struct {
	expires     time.Duration // 0: never
	pkts, bytes atomic.Uint64
}

// ipSet is one set's content; a slot's content is swapped whole by
// swap.
type ipSet struct {
	mu    sync.RWMutex
	hdr   SetCreate
	elems map[setKey]*setElem
	cidrs [33]int // hash:net: entries of each prefix length
}

// setSlot is an index of the host's set list (ip_set_list): rules name
// a set by its index.
type setSlot struct {
	set  *ipSet
	refs atomic.Int32
}

// setNet is a host's sets.
type setNet struct {
	mu    sync.Mutex
	slots []*setSlot // by index; nil: free
	clock stack.Clock
}

func setsOf(h *stack.Host) *setNet {
	n := netOf(h)
	n.sets.mu.Lock()
	if n.sets.clock == nil {
		n.sets.clock = h.Clock()
	}
	n.sets.mu.Unlock()
	return &n.sets
}

func (n *setNet) find(name string) (int, *setSlot) {
	for i, s := range n.slots {
		if s != nil && s.set.hdr.Name == name {
			return i, s
		}
	}
	return -1, nil
}

// maxSetRange is the most addresses one hash:ip add or del takes.
const maxSetRange = 1 << 16

// maxSets is how many sets a host holds (ip_set_max's default).
const maxSets = 256

// IPSetCreate makes a set (EEXIST-like ErrSetNameExist unless exist and
// the same header).
func IPSetCreate(h *stack.Host, c SetCreate, exist bool) error {
	if _, ok := setDims[c.Type]; !ok {
		return ErrSetType
	}
	if c.Name == "" || len(c.Name) > 31 {
		return &Error{Errno: syscall.EINVAL, Msg: "ipset: bad set name"}
	}
	if c.HashSize == 0 {
		c.HashSize = 1024
	}
	if c.MaxElem == 0 {
		c.MaxElem = 65536
	}
	n := setsOf(h)
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, s := n.find(c.Name); s != nil {
		if exist && s.set.hdr == c {
			return nil
		}
		return ErrSetNameExist
	}
	slot := &setSlot{set: &ipSet{hdr: c, elems: map[setKey]*setElem{}}}
	for i, s := range n.slots {
		if s == nil {
			n.slots[i] = slot
			return nil
		}
	}
	if len(n.slots) >= maxSets {
		return &Error{Errno: syscall.ENOSPC, Msg: "ipset: no free set slot"}
	}
	n.slots = append(n.slots, slot)
	return nil
}

// IPSetDestroy removes a set, or (name "") every set no rule uses.
func IPSetDestroy(h *stack.Host, name string) error {
	n := setsOf(h)
	n.mu.Lock()
	defer n.mu.Unlock()
	if name == "" {
		for _, s := range n.slots {
			if s != nil && s.refs.Load() > 0 {
				return ErrSetInUse
			}
		}
		n.slots = nil
		return nil
	}
	i, s := n.find(name)
	if s == nil {
		return ErrSetNoSuch
	}
	if s.refs.Load() > 0 {
		return ErrSetInUse
	}
	n.slots[i] = nil
	return nil
}

// IPSetFlush empties a set, or (name "") every set.
func IPSetFlush(h *stack.Host, name string) error {
	n := setsOf(h)
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, s := range n.slots {
		if s != nil && (name == "" || s.set.hdr.Name == name) {
			s.set.mu.Lock()
			s.set.elems = map[setKey]*setElem{}
			s.set.cidrs = [33]int{}
			s.set.mu.Unlock()
			if name != "" {
				return nil
			}
		}
	}
	if name != "" {
		return ErrSetNoSuch
	}
	return nil
}

// IPSetRename renames a set (not one in use).
func IPSetRename(h *stack.Host, from, to string) error {
	n := setsOf(h)
	n.mu.Lock()
	defer n.mu.Unlock()
	_, s := n.find(from)
	if s == nil {
		return ErrSetNoSuch
	}
	if _, t := n.find(to); t != nil {
		return ErrSetNameExist
	}
	if s.refs.Load() > 0 {
		return ErrSetInUse
	}
	s.set.mu.Lock()
	s.set.hdr.Name = to
	s.set.mu.Unlock()
	return nil
}

// IPSetSwap exchanges two sets of one type: the rules that named either
// index now see the other's content and name.
func IPSetSwap(h *stack.Host, a, b string) error {
	n := setsOf(h)
	n.mu.Lock()
	defer n.mu.Unlock()
	_, sa := n.find(a)
	_, sb := n.find(b)
	if sa == nil || sb == nil {
		return ErrSetNoSuch
	}
	if sa.set.hdr.Type != sb.set.hdr.Type {
		return ErrSetTypeMismatch
	}
	sa.set, sb.set = sb.set, sa.set
	return nil
}

func (n *setNet) slot(name string) (*ipSet, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, s := n.find(name)
	if s == nil {
		return nil, ErrSetNoSuch
	}
	return s.set, nil
}

// key checks e against the set's type and makes its key.
func (s *ipSet) key(e SetEntry) (setKey, error) {
	k := setKey{addr: e.Addr}
	switch s.hdr.Type {
	case SetHashIP:
		if e.CIDR != 0 && e.CIDR != 32 {
			return k, ErrSetInvalid
		}
	case SetHashNet:
		cidr := e.CIDR
		if cidr == 0 {
			cidr = 32
		}
		if cidr > 32 {
			return k, ErrSetInvalid
		}
		k.cidr = cidr
		k.addr = maskl(e.Addr, cidr)
	case SetHashIPPort:
		if e.CIDR != 0 && e.CIDR != 32 {
			return k, ErrSetInvalid
		}
		k.proto, k.port = e.Proto, e.Port
	}
	return k, nil
}

// IPSetAdd adds an entry (ErrSetElemExist unless exist, which then
// renews its timeout and counters). A hash:ip entry with a prefix length
// is every address of the network (as ipset's ranges).
func IPSetAdd(h *stack.Host, name string, e SetEntry, exist bool) error {
	return eachAddr(h, name, e, func(e SetEntry) error { return ipSetAdd(h, name, e, exist) })
}

// eachAddr runs fn for e, or for each address of a hash:ip entry's
// network.
func eachAddr(h *stack.Host, name string, e SetEntry, fn func(SetEntry) error) error {
	s, err := setsOf(h).slot(name)
	if err != nil {
		return err
	}
	if s.hdr.Type != SetHashIP || e.CIDR == 0 || e.CIDR >= 32 {
		return fn(e)
	}
	base, count := be32(maskl(e.Addr, e.CIDR)), uint64(1)<<(32-e.CIDR)
	if count > maxSetRange {
		return &Error{Errno: syscall.ERANGE, Msg: "ipset: a range of more than 65536 addresses"}
	}
	for i := uint64(0); i < count; i++ {
		a := base + uint32(i)
		e.Addr, e.CIDR = [4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}, 0
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func ipSetAdd(h *stack.Host, name string, e SetEntry, exist bool) error {
	n := setsOf(h)
	s, err := n.slot(name)
	if err != nil {
		return err
	}
	if e.Timeout != 0 && s.hdr.Timeout == 0 {
		return ErrSetNoTimeout
	}
	if e.HasCounters && !s.hdr.Counters {
		return ErrSetNoCounters
	}
	k, err := s.key(e)
	if err != nil {
		return err
	}
	now := n.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	el := s.elems[k]
	if el != nil && el.live(now) && !exist {
		return ErrSetElemExist
	}
	if el == nil || !el.live(now) {
		if el == nil && uint32(len(s.elems)) >= s.hdr.MaxElem {
			s.gc(now)
			if uint32(len(s.elems)) >= s.hdr.MaxElem {
				return ErrSetFull
			}
		}
		if el == nil && s.hdr.Type == SetHashNet {
			s.cidrs[k.cidr]++
		}
		el = &setElem{}
		s.elems[k] = el
	}
	el.expires = 0
	if t := e.Timeout; t != 0 || s.hdr.Timeout != 0 {
		if t == 0 {
			t = s.hdr.Timeout
		}
		el.expires = now + time.Duration(t)*time.Second
	}
	if e.HasCounters {
		el.pkts.Store(e.Packets)
		el.bytes.Store(e.Bytes)
	}
	return nil
}

func (e *setElem) live(now time.Duration) bool { return e.expires == 0 || now < e.expires }

// gc drops expired entries (the caller holds the write lock).
func (s *ipSet) gc(now time.Duration) {
	for k, e := range s.elems {
		if !e.live(now) {
			delete(s.elems, k)
			if s.hdr.Type == SetHashNet {
				s.cidrs[k.cidr]--
			}
		}
	}
}

// IPSetDel removes an entry (ErrSetElemMissing unless exist).
func IPSetDel(h *stack.Host, name string, e SetEntry, exist bool) error {
	return eachAddr(h, name, e, func(e SetEntry) error { return ipSetDel(h, name, e, exist) })
}

func ipSetDel(h *stack.Host, name string, e SetEntry, exist bool) error {
	n := setsOf(h)
	s, err := n.slot(name)
	if err != nil {
		return err
	}
	k, err := s.key(e)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	el := s.elems[k]
	if el == nil || !el.live(n.clock.Now()) {
		if exist {
			return nil
		}
		return ErrSetElemMissing
	}
	delete(s.elems, k)
	if s.hdr.Type == SetHashNet {
		s.cidrs[k.cidr]--
	}
	return nil
}

// lookup is the type's test of a key: hash:net tries the prefix lengths
// it holds, longest first (the caller holds the read lock).
func (s *ipSet) lookup(k setKey, now time.Duration) *setElem {
	if s.hdr.Type != SetHashNet {
		if e := s.elems[k]; e != nil && e.live(now) {
			return e
		}
		return nil
	}
	for c := 32; c >= 1; c-- {
		if s.cidrs[c] == 0 {
			continue
		}
		if e := s.elems[setKey{addr: maskl(k.addr, uint8(c)), cidr: uint8(c)}]; e != nil && e.live(now) {
			return e
		}
	}
	return nil
}

// IPSetTest reports whether e is in the set (hash:net: an address in
// one of its networks, or the network itself).
func IPSetTest(h *stack.Host, name string, e SetEntry) (bool, error) {
	n := setsOf(h)
	s, err := n.slot(name)
	if err != nil {
		return false, err
	}
	k, err := s.key(e)
	if err != nil {
		return false, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.hdr.Type == SetHashNet && e.CIDR != 0 && e.CIDR != 32 {
		el := s.elems[k]
		return el != nil && el.live(n.clock.Now()), nil
	}
	return s.lookup(k, n.clock.Now()) != nil, nil
}

// IPSetList returns the sets (or the one named), in index order, their
// entries sorted.
func IPSetList(h *stack.Host, name string) ([]SetInfo, error) {
	n := setsOf(h)
	now := n.clock.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []SetInfo
	for i, sl := range n.slots {
		if sl == nil || (name != "" && sl.set.hdr.Name != name) {
			continue
		}
		s := sl.set
		s.mu.RLock()
		info := SetInfo{SetCreate: s.hdr, Index: uint16(i), Refs: int(sl.refs.Load())}
		for k, e := range s.elems {
			if !e.live(now) {
				continue
			}
			en := SetEntry{Addr: k.addr, CIDR: k.cidr, Proto: k.proto, Port: k.port, HasCounters: s.hdr.Counters}
			if e.expires != 0 {
				en.Timeout = uint32((e.expires - now) / time.Second)
			}
			en.Packets, en.Bytes = e.pkts.Load(), e.bytes.Load()
			info.Entries = append(info.Entries, en)
		}
		s.mu.RUnlock()
		sort.Slice(info.Entries, func(a, b int) bool { return entryLess(&info.Entries[a], &info.Entries[b]) })
		out = append(out, info)
	}
	if name != "" && len(out) == 0 {
		return nil, ErrSetNoSuch
	}
	return out, nil
}

func entryLess(a, b *SetEntry) bool {
	if x, y := be32(a.Addr), be32(b.Addr); x != y {
		return x < y
	}
	if a.CIDR != b.CIDR {
		return a.CIDR < b.CIDR
	}
	if a.Proto != b.Proto {
		return a.Proto < b.Proto
	}
	return a.Port < b.Port
}

// IPSetIndex is the index of set name (ip_set_get_byname).
func IPSetIndex(h *stack.Host, name string) (uint16, bool) {
	n := setsOf(h)
	n.mu.Lock()
	defer n.mu.Unlock()
	i, s := n.find(name)
	return uint16(i), s != nil
}

// IPSetName is the name of the set at index (ip_set_name_byindex).
func IPSetName(h *stack.Host, index uint16) (string, bool) {
	n := setsOf(h)
	n.mu.Lock()
	defer n.mu.Unlock()
	if int(index) >= len(n.slots) || n.slots[index] == nil {
		return "", false
	}
	return n.slots[index].set.hdr.Name, true
}

// SetMatchInfo is the set match, revision 4 (struct
// xt_set_info_match_v4): the set by index, the dimensions the rule
// gives with their directions, counter tests and flags.
type SetMatchInfo struct {
	Index    uint16
	Dim      uint8
	Flags    uint8 // SetInvMatch, SetDimSrc(i)
	Packets  SetCounterMatch
	Bytes    SetCounterMatch
	CmdFlags uint32 // SetSkipCounterUpdate, …
}

// SetCounterMatch is struct ip_set_counter_match: Op one of
// SetCounterNone, Eq, Ne, Lt, Gt.
type SetCounterMatch struct {
	Value uint64
	Op    uint8
}

// set match flags and counter ops (IPSET_INV_MATCH, IPSET_DIM_*_SRC,
// IPSET_FLAG_*, IPSET_COUNTER_*).
const (
	SetInvMatch             = 1 << 0
	SetReturnNomatch        = 1 << 7 // in Flags
	SetSkipCounterUpdate    = 1 << 3
	SetSkipSubcounterUpdate = 1 << 4
	SetMatchCounters        = 1 << 5

	SetCounterNone = 0
	SetCounterEq   = 1
	SetCounterNe   = 2
	SetCounterLt   = 3
	SetCounterGt   = 4

	SetDimMax = 6
)

// SetDimSrc is the flag that dimension i (1 upward) takes the source.
func SetDimSrc(i int) uint8 { return 1 << i }

type setMatch struct {
	SetMatchInfo
	slot *setSlot
	n    *setNet
}

func (m *setMatch) Destroy() { m.slot.refs.Add(-1) }

func counterTest(c SetCounterMatch, v uint64) bool {
	switch c.Op {
	case SetCounterEq:
		return v == c.Value
	case SetCounterNe:
		return v != c.Value
	case SetCounterLt:
		return v < c.Value
	case SetCounterGt:
		return v > c.Value
	}
	return true
}

// Match is set_match_v4 over the types' kadt: the packet's address (and
// port) in the directions the rule gives; a rule giving fewer
// dimensions than the set has never matches. A hit updates the entry's
// counters unless told not to.
func (m *setMatch) Match(p Param) (bool, bool) {
	inv := m.Flags&SetInvMatch != 0
	s := m.slot.set
	dims := setDims[s.hdr.Type]
	if m.Dim < dims {
		return inv, false
	}
	var k setKey
	if m.Flags&SetDimSrc(1) != 0 {
		k.addr = p.IP.Src()
	} else {
		k.addr = p.IP.Dst()
	}
	if s.hdr.Type == SetHashIPPort {
		proto := p.IP.Protocol()
		switch proto {
		case ProtoTCP, ProtoUDP, ProtoUDPLite, ProtoSCTP:
			if p.FragOff != 0 {
				return inv, false
			}
			pp, ok := header4(p, 4)
			if !ok {
				return inv, false
			}
			if m.Flags&SetDimSrc(2) != 0 {
				k.port = uint16(pp[0])<<8 | uint16(pp[1])
			} else {
				k.port = uint16(pp[2])<<8 | uint16(pp[3])
			}
		default:
			// Other protocols are entries of port 0 (ipset's
			// "proto:0" for protocols without ports).
		}
		k.proto = proto
	}
	s.mu.RLock()
	e := s.lookup(k, m.n.clock.Now())
	s.mu.RUnlock()
	if e == nil {
		return inv, false
	}
	if s.hdr.Counters {
		if m.CmdFlags&SetMatchCounters != 0 &&
			(!counterTest(m.Packets, e.pkts.Load()) || !counterTest(m.Bytes, e.bytes.Load())) {
			return inv, false
		}
		if m.CmdFlags&SetSkipCounterUpdate == 0 {
			e.pkts.Add(1)
			e.bytes.Add(uint64(p.SKB.TotalLen()))
		}
	}
	return !inv, false
}

func init() {
	RegisterMatch(&MatchType{Name: "set", Revision: 4, NewInfo: func() any { return new(SetMatchInfo) },
		Check: func(c *CheckParam, info any) (Matcher, error) {
			i := info.(*SetMatchInfo)
			n := setsOf(c.Host)
			n.mu.Lock()
			defer n.mu.Unlock()
			if int(i.Index) >= len(n.slots) || n.slots[i.Index] == nil {
				return nil, checkErr("xt_set: Cannot find set identified by id %d to match", i.Index)
			}
			if i.Dim == 0 || i.Dim > SetDimMax {
				return nil, checkErr("xt_set: Protocol error: set match dimension is over the limit!")
			}
			slot := n.slots[i.Index]
			slot.refs.Add(1)
			return &setMatch{SetMatchInfo: *i, slot: slot, n: n}, nil
		}})
}
