package neigh

import (
	"cmp"
	"fmt"
	"math/rand"
	"sync"
	"syscall"
	"time"
	"vnic/stack"
)

// NUDState is a neighbour entry's reachability state, with Linux's NUD_*
// values (what ip neigh and RTM_NEWNEIGH report).
type NUDState uint16

// The states.
const (
	NUDNone       NUDState = 0x00
	NUDIncomplete NUDState = 0x01 // resolving: requests broadcast, packets queued
	NUDReachable  NUDState = 0x02 // confirmed within the reachable time
	NUDStale      NUDState = 0x04 // usable, not confirmed lately
	NUDDelay      NUDState = 0x08 // used while stale: waiting for a confirmation before probing
	NUDProbe      NUDState = 0x10 // unicast probes to the cached address
	NUDFailed     NUDState = 0x20 // resolution failed
	NUDNoARP      NUDState = 0x40
	NUDPermanent  NUDState = 0x80 // static
)

func (s NUDState) String() string {
	switch s {
	case NUDNone:
		return "NONE"
	case NUDIncomplete:
		return "INCOMPLETE"
	case NUDReachable:
		return "REACHABLE"
	case NUDStale:
		return "STALE"
	case NUDDelay:
		return "DELAY"
	case NUDProbe:
		return "PROBE"
	case NUDFailed:
		return "FAILED"
	case NUDNoARP:
		return "NOARP"
	case NUDPermanent:
		return "PERMANENT"
	}
	return fmt.Sprintf("NUDState(%#x)", uint16(s))
}

// NUDValid are the states whose entry has a link-layer address packets
// can use (NUD_VALID).
const NUDValid = NUDReachable | NUDStale | NUDDelay | NUDProbe | NUDPermanent | NUDNoARP

// Params are a table's timers and limits (the neigh/DEV sysctls),
// Linux's defaults by DefaultParams.
type Params struct {
	BaseReachable   time.Duration // base_reachable_time: 30 s
	RetransTime     time.Duration // retrans_time: 1 s between probes
	DelayFirstProbe time.Duration // delay_first_probe_time: 5 s in DELAY
	UcastSolicit    int           // unicast probes in PROBE: 3
	McastSolicit    int           // broadcast requests while INCOMPLETE: 3
	QueueLen        int           // packets queued per unresolved entry: 101 (unres_qlen)
	// Garbage collection (gc_thresh1/2/3, gc_stale_time): below GCThresh1
	// entries the periodic work collects nothing; from GCThresh2 a new
	// entry more than 5 s after the last flush forces a collection; at
	// GCThresh3 a forced collection that frees nothing refuses the new
	// entry. Only entries that are not PERMANENT count.
	GCThresh1, GCThresh2, GCThresh3 int           // 128, 512, 1024
	GCStaleTime                     time.Duration // unused this long, an entry may go: 60 s
}

// DefaultParams are Linux's ARP defaults.
var DefaultParams = Params{BaseReachable: 30 * time.Second, RetransTime: time.Second, DelayFirstProbe: 5 * time.Second,
	UcastSolicit: 3, McastSolicit: 3, QueueLen: 101,
	GCThresh1: 128, GCThresh2: 512, GCThresh3: 1024, GCStaleTime: 60 * time.Second}

// Ops is what a neighbour table needs from the protocol above and
// the device below (ARP's arp_solicit, the neighbour's output, and
// arp_error_report).
type Ops struct {
	// Solicit sends a request for addr: broadcast (while INCOMPLETE) or
	// unicast to mac (PROBE).
	Solicit func(addr [4]byte, mac stack.MAC, broadcast bool)
	// Output sends skb to mac.
	Output func(skb *stack.SKB, mac stack.MAC)
	// Unreachable is told of each queued packet that resolution failed
	// for (ICMP host unreachable goes back to its source); it frees it.
	Unreachable func(skb *stack.SKB)
	// Changed, when set, is told of each state change (the neighbour
	// group's RTM_NEWNEIGH). It runs under the table's lock: it must
	// not call the table, and must not block.
	Changed func(n Neighbour)
	// Deleted, when set, is told of a deleted entry (RTM_DELNEIGH), as
	// Changed is.
	Deleted func(n Neighbour)
}

// Neighbour is one entry as Table.Lookup reports it.
type Neighbour struct {
	Addr      [4]byte
	MAC       stack.MAC
	State     NUDState
	Probes    int           // requests sent in this resolution
	Queued    int           // packets waiting for it
	Confirmed time.Duration // last confirmation (clock time)
	Used      time.Duration // last use
}

// neigh is an entry (guarded by the table's lock).
type entry struct {
	Neighbour
	updated time.Duration // last state change
	timer   stack.Timer
	queue   []*stack.SKB
	// gcPrev and gcNext link the entries garbage collection may take
	// (every one not PERMANENT), oldest update first.
	gcPrev, gcNext *entry
	onGC, gcDoomed bool // on the list; counted in gc.failed
}

// Table is a host's ARP cache for one protocol (neigh_table): entries
// by address, each with Linux's NUD state machine and timers on the
// host's clock.
type Table struct {
	mu      sync.Mutex
	clock   stack.Clock
	params  Params
	ops     Ops
	rnd     *rand.Rand
	reach   time.Duration // the current randomised reachable time
	entries map[[4]byte]*entry
	gc      gcState
	// Counters (ndtstat): resolution failures, queue drops, entries
	// refused for a full table, forced and periodic collections.
	resFailed, unresDiscards, tableFulls, forcedGCRuns, periodicGCRuns stack.Counter
}

// Stats are a table's counters (ip -s ntable's res_failed,
// unresolved_discards, table_fulls, forced_gc_runs and periodic_gc_runs).
type Stats struct {
	ResFailed, UnresDiscards, TableFulls, ForcedGCRuns, PeriodicGCRuns uint64
}

// Stats returns the counters.
func (t *Table) Stats() Stats {
	return Stats{ResFailed: t.resFailed.Load(), UnresDiscards: t.unresDiscards.Load(), TableFulls: t.tableFulls.Load(),
		ForcedGCRuns: t.forcedGCRuns.Load(), PeriodicGCRuns: t.periodicGCRuns.Load()}
}

// NewTable returns a table on clock with params (zero fields: the
// defaults) and ops; seed makes the reachable-time draws reproducible.
func NewTable(clock stack.Clock, params Params, ops Ops, seed int64) *Table {
	d := DefaultParams
	params.BaseReachable = cmp.Or(params.BaseReachable, d.BaseReachable)
	params.RetransTime = cmp.Or(params.RetransTime, d.RetransTime)
	params.DelayFirstProbe = cmp.Or(params.DelayFirstProbe, d.DelayFirstProbe)
	params.UcastSolicit = cmp.Or(params.UcastSolicit, d.UcastSolicit)
	params.McastSolicit = cmp.Or(params.McastSolicit, d.McastSolicit)
	params.QueueLen = cmp.Or(params.QueueLen, d.QueueLen)
	params.GCThresh1 = cmp.Or(params.GCThresh1, d.GCThresh1)
	params.GCThresh2 = cmp.Or(params.GCThresh2, d.GCThresh2)
	params.GCThresh3 = cmp.Or(params.GCThresh3, d.GCThresh3)
	params.GCStaleTime = cmp.Or(params.GCStaleTime, d.GCStaleTime)
	t := &Table{clock: clock, params: params, ops: ops, rnd: rand.New(rand.NewSource(seed)), entries: map[[4]byte]*entry{}}
	t.reach = t.randReach()
	t.gcInit()
	return t
}

// randReach is neigh_rand_reach_time: uniform in [base/2, 3·base/2).
func (t *Table) randReach() time.Duration {
	b := t.params.BaseReachable
	return b/2 + time.Duration(t.rnd.Int63n(int64(b)))
}

// ReachableTime is the reachable time now in force.
func (t *Table) ReachableTime() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.reach
}

// Lookup returns the entry for addr.
func (t *Table) Lookup(addr [4]byte) (Neighbour, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, ok := t.entries[addr]
	if !ok {
		return Neighbour{}, false
	}
	return n.view(), true
}

// view is the entry as callers see it (locked).
func (n *entry) view() Neighbour {
	e := n.Neighbour
	e.Queued = len(n.queue)
	return e
}

// Entries returns every entry, in no particular order.
func (t *Table) Entries() []Neighbour {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Neighbour, 0, len(t.entries))
	for _, n := range t.entries {
		out = append(out, n.view())
	}
	return out
}

// entry returns addr's entry, made in NUD_NONE if need be (neigh_alloc):
// nil when the table is full, the new entry refused. A static entry is
// exempt from the limits. Locked.
func (t *Table) entry(addr [4]byte, static bool) *entry {
	n := t.entries[addr]
	if n != nil {
		return n
	}
	now := t.clock.Now()
	if !static && !t.admit(now) {
		return nil
	}
	// neigh_alloc: a new entry counts as confirmed long ago (two base
	// reachable times), so DELAY goes on to PROBE.
	n = &entry{Neighbour: Neighbour{Addr: addr, Used: now, Confirmed: now - 2*t.params.BaseReachable}, updated: now}
	n.timer = t.clock.NewTimer(func() { t.expire(n) })
	t.entries[addr] = n
	if !static {
		t.gcAdd(n, now)
	}
	return n
}

// set moves n to state s (locked).
func (t *Table) set(n *entry, s NUDState) {
	n.State, n.updated = s, t.clock.Now()
	t.gcTouch(n)
	if t.ops.Changed != nil {
		t.ops.Changed(n.view())
	}
}

// Output sends skb to addr (neigh_resolve_output): at once with a valid
// address (a stale one starts the DELAY timer); otherwise the packet waits
// in the entry's queue (the oldest is dropped when it is full) and an
// unresolved entry starts resolving with a broadcast request.
func (t *Table) Output(addr [4]byte, skb *stack.SKB) {
	t.mu.Lock()
	n := t.entry(addr, false)
	if n == nil {
		// No entry and no room for one: ip_finish_output2 drops it.
		t.mu.Unlock()
		skb.Free()
		return
	}
	now := skb.XmitTime(t.clock) // the sender's reading, if it gave one
	n.Used = now
	if n.State&NUDValid != 0 {
		if n.State == NUDStale {
			t.set(n, NUDDelay)
			n.timer.Reset(t.params.DelayFirstProbe)
		}
		mac := n.MAC
		t.mu.Unlock()
		t.ops.Output(skb, mac)
		return
	}
	var dropped *stack.SKB
	if len(n.queue) >= t.params.QueueLen {
		dropped, n.queue = n.queue[0], n.queue[1:]
		t.unresDiscards.Add(1)
	}
	skb.ClearXmitTime() // it waits: its send goes on later
	n.queue = append(n.queue, skb)
	solicit := false
	if n.State == NUDNone || n.State == NUDFailed {
		t.set(n, NUDIncomplete)
		n.Probes = 1
		n.timer.Reset(t.params.RetransTime)
		solicit = true
	}
	t.mu.Unlock()
	if dropped != nil {
		dropped.Free()
	}
	if solicit {
		t.ops.Solicit(addr, stack.MAC{}, true)
	}
}

// EventSend is neigh_event_send without a packet (ICMP redirect's check
// of the new gateway): an entry without an address — made in NUD_NONE if
// there is none — starts resolving with a broadcast request, a stale one
// moves to DELAY as when used; nothing is queued.
func (t *Table) EventSend(addr [4]byte) {
	t.mu.Lock()
	n := t.entry(addr, false)
	if n == nil {
		t.mu.Unlock()
		return
	}
	n.Used = t.clock.Now()
	solicit := false
	switch n.State {
	case NUDStale:
		t.set(n, NUDDelay)
		n.timer.Reset(t.params.DelayFirstProbe)
	case NUDNone, NUDFailed:
		t.set(n, NUDIncomplete)
		n.Probes = 1
		n.timer.Reset(t.params.RetransTime)
		solicit = true
	}
	t.mu.Unlock()
	if solicit {
		t.ops.Solicit(addr, stack.MAC{}, true)
	}
}

// Source says where a link-layer address came from (neigh_update's
// flags as ARP uses them).
type Source uint8

// The sources.
const (
	// FromReply: an ARP reply to us: the address is confirmed
	// (REACHABLE) and replaces a different one.
	FromReply Source = iota
	// FromRequest: a request (or gratuitous ARP) from the host: its
	// address is learned unconfirmed (STALE) — a new entry is made only
	// for a request aimed at us (create).
	FromRequest
)

// Update is neigh_update for ARP: addr is at mac, learned from an ARP
// packet of kind how; create makes the entry when there is none. A
// resolved entry sends what waited for it. It reports whether addr has an
// entry now: false when there was none to update, or the table refused a
// new one (arp_process answers a request only when it has the entry).
func (t *Table) Update(addr [4]byte, mac stack.MAC, how Source, create bool) bool {
	t.mu.Lock()
	n, ok := t.entries[addr]
	if !ok && !create {
		t.mu.Unlock()
		return false
	}
	if !ok {
		if n = t.entry(addr, false); n == nil {
			t.mu.Unlock()
			return false // the table is full
		}
	}
	if n.State == NUDPermanent || n.State == NUDNoARP {
		t.mu.Unlock()
		return true // administrative entries are not learned over
	}
	now := t.clock.Now()
	changed := n.MAC != mac
	switch {
	case how == FromReply:
		n.MAC = mac
		n.Confirmed = now
		t.set(n, NUDReachable)
		n.timer.Reset(t.reach)
	case n.State&NUDValid == 0 || changed:
		// An unresolved entry takes the address, and a different address
		// replaces the cached one, unconfirmed.
		n.MAC = mac
		t.set(n, NUDStale)
		n.timer.Stop()
	default:
		// The same address again: no news about reachability.
	}
	queue := n.queue
	n.queue = nil
	n.Probes = 0
	t.mu.Unlock()
	for _, skb := range queue {
		t.ops.Output(skb, mac)
	}
	return true
}

// Confirm is neigh_confirm: an upper layer saw forward progress (a TCP
// ACK), so a resolved entry is reachable again without a probe.
func (t *Table) Confirm(addr [4]byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n, ok := t.entries[addr]; ok && n.State&NUDValid != 0 {
		n.Confirmed = t.clock.Now()
	}
}

// AddStatic makes a PERMANENT entry (ip neigh add … nud permanent); what
// waited for the address is sent.
func (t *Table) AddStatic(addr [4]byte, mac stack.MAC) { _ = t.Admin(addr, &mac, NUDPermanent, true) }

// ErrNoLLAddr is a valid state asked of an entry without a link-layer
// address, none given (__neigh_update's "No link layer address given").
var ErrNoLLAddr = fmt.Errorf("neigh: no link layer address given: %w", syscall.EINVAL)

// Admin is neigh_add's update (__neigh_update as the administrator, with
// override: ip neigh add, change, replace): addr's entry takes state s and
// mac (nil: the address it has). Without an entry, one is made if create
// (else ENOENT). A state that is not valid (none, incomplete, failed)
// stops the timer and keeps the address; failed after a resolution drops
// what waited (told Unreachable). A valid state needs an address: given,
// or the entry's valid one (else ErrNoLLAddr); reachable runs the
// reachable timer, delay and probe the state machine at once, and what
// waited for the address is sent.
func (t *Table) Admin(addr [4]byte, mac *stack.MAC, s NUDState, create bool) error {
	t.mu.Lock()
	n, ok := t.entries[addr]
	switch {
	case !ok && !create:
		t.mu.Unlock()
		return syscall.ENOENT
	case !ok && s&NUDValid != 0 && mac == nil:
		t.mu.Unlock()
		return ErrNoLLAddr
	case !ok:
		if n = t.entry(addr, s == NUDPermanent); n == nil {
			t.mu.Unlock()
			return syscall.ENOBUFS // the table is full
		}
	}
	old := n.State
	if s&NUDValid == 0 {
		n.timer.Stop()
		t.set(n, s)
		var failed []*stack.SKB
		if old&(NUDIncomplete|NUDProbe) != 0 && s == NUDFailed {
			failed, n.queue = n.queue, nil // neigh_invalidate
		}
		t.mu.Unlock()
		for _, skb := range failed {
			if t.ops.Unreachable != nil {
				t.ops.Unreachable(skb)
			} else {
				skb.Free()
			}
		}
		return nil
	}
	if mac == nil {
		if old&NUDValid == 0 {
			t.mu.Unlock()
			return ErrNoLLAddr
		}
		mac = &n.MAC
	}
	n.MAC = *mac
	if s&(NUDPermanent|NUDNoARP|NUDReachable) != 0 {
		n.Confirmed = t.clock.Now()
	}
	t.set(n, s)
	switch s {
	case NUDReachable:
		n.timer.Reset(t.reach)
	case NUDDelay, NUDProbe:
		n.timer.Reset(0)
	default:
		n.timer.Stop()
	}
	queue := n.queue
	n.queue = nil
	n.Probes = 0
	m := n.MAC
	t.mu.Unlock()
	for _, skb := range queue {
		t.ops.Output(skb, m)
	}
	return nil
}

// Delete removes addr's entry; its queued packets are dropped.
func (t *Table) Delete(addr [4]byte) bool {
	t.mu.Lock()
	n, ok := t.entries[addr]
	var queue []*stack.SKB
	if ok {
		queue = t.remove(n)
	}
	t.mu.Unlock()
	for _, skb := range queue {
		skb.Free()
	}
	return ok
}

// remove takes n out of the table; it returns n's queue for the caller to
// free once unlocked. Locked.
func (t *Table) remove(n *entry) []*stack.SKB {
	n.timer.Stop()
	delete(t.entries, n.Addr)
	t.gcUnlink(n)
	if t.ops.Deleted != nil {
		t.ops.Deleted(n.view())
	}
	q := n.queue
	n.queue = nil
	return q
}
