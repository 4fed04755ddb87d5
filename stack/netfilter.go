package stack

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// NFHook is one of the five IPv4 netfilter hook points, numbered as
// Linux's NF_INET_* (0..4).
type NFHook uint8

// The hook points.
const (
	NFPreRouting NFHook = iota
	NFLocalIn
	NFForward
	NFLocalOut
	NFPostRouting
	NumNFHooks
)

var nfHookNames = [NumNFHooks]string{"PRE_ROUTING", "LOCAL_IN", "FORWARD", "LOCAL_OUT", "POST_ROUTING"}

func (h NFHook) String() string {
	if h < NumNFHooks {
		return nfHookNames[h]
	}
	return fmt.Sprintf("NFHook(%d)", uint8(h))
}

// Verdict is what a hook function decides, with Linux's values.
type Verdict uint8

// The verdicts.
const (
	NFDrop   Verdict = 0 // free the packet; the path stops
	NFAccept Verdict = 1 // go on: the next hook function, or the path
	NFStolen Verdict = 2 // the hook function took the packet: stop, no free
	NFQueue  Verdict = 3 // hand the packet to the queue consumer (dropped without one)
	NFRepeat Verdict = 4 // not valid from a hook function (Linux warns): counted and dropped
)

func (v Verdict) String() string {
	switch v {
	case NFDrop:
		return "DROP"
	case NFAccept:
		return "ACCEPT"
	case NFStolen:
		return "STOLEN"
	case NFQueue:
		return "QUEUE"
	case NFRepeat:
		return "REPEAT"
	}
	return fmt.Sprintf("Verdict(%d)", uint8(v))
}

// NFState is what a hook function is told besides the packet.
type NFState struct {
	Hook    NFHook
	In, Out *NetDevice // ingress and egress devices (nil where none)
	// QueueNum is the queue a hook function that returns NFQueue sends
	// the packet to (NF_QUEUE_NR: the verdict's upper half in Linux).
	QueueNum uint16

	// Where a queued packet resumes (struct nf_queue_entry's hook index
	// and okfn), for Reinject.
	okfn  func(*SKB)
	index int
}

// NFHookOps is one registration: a function at a hook point with a
// priority; functions run in ascending priority (equal ones in
// registration order). The function is Fn or, when Fn is nil, Hooker's
// method.
type NFHookOps struct {
	Name     string
	Hook     NFHook
	Priority int
	Fn       func(skb *SKB, st *NFState) Verdict
	Hooker   NFHooker
}

// NFHooker is a hook function as a method, its receiver the state it
// works on (nf_hookfn's priv). The registry calls it through the
// interface: a method value in Fn is called through a wrapper that
// loads the receiver from the closure and calls the method, a call more
// for every hook function a packet passes.
type NFHooker interface {
	NFHook(skb *SKB, st *NFState) Verdict
}

// Call runs ops's function.
func (ops *NFHookOps) Call(skb *SKB, st *NFState) Verdict {
	if ops.Fn != nil {
		return ops.Fn(skb, st)
	}
	return ops.Hooker.NFHook(skb, st)
}

// funcHooker calls an NFHookOps's Fn as an NFHooker.
type funcHooker func(skb *SKB, st *NFState) Verdict

func (f funcHooker) NFHook(skb *SKB, st *NFState) Verdict { return f(skb, st) }

// nfEntries is one hook point's registrations in order (struct
// nf_hook_entries): the ops, and beside them the functions the traversal
// calls, one interface value each (an Fn through funcHooker).
type nfEntries struct {
	ops []*NFHookOps
	fns []NFHooker
}

// entriesOf is the list of ops with its functions.
func entriesOf(ops []*NFHookOps) *nfEntries {
	e := &nfEntries{ops: ops, fns: make([]NFHooker, len(ops))}
	for i, o := range ops {
		if o.Fn != nil {
			e.fns[i] = funcHooker(o.Fn)
		} else {
			e.fns[i] = o.Hooker
		}
	}
	return e
}

// ErrNFHook is a registration the registry refuses.
var ErrNFHook = errors.New("stack: netfilter hook")

// Netfilter is a host's hook registry (the per-namespace nf_hook_entries):
// registering and unregistering are copy-on-write, so a packet traverses a
// consistent list without a lock, and a change takes effect with the next
// packet.
type Netfilter struct {
	mu sync.Mutex // writers
	// hooks are each point's functions in order, nil when none is
	// registered (never an empty list: Active is one load).
	hooks [NumNFHooks]atomic.Pointer[nfEntries]
	// Queue consumes packets a hook queued (NF_QUEUE); nil drops them.
	queue atomic.Pointer[func(skb *SKB, st *NFState)]
	stats [NumNFHooks]struct{ drops, stolen, queued, invalid Counter }
}

// Register adds ops at its hook point.
func (nf *Netfilter) Register(ops *NFHookOps) error {
	if ops == nil || ops.Fn == nil && ops.Hooker == nil || ops.Hook >= NumNFHooks {
		return fmt.Errorf("%w: want a function at one of the five hook points", ErrNFHook)
	}
	nf.mu.Lock()
	defer nf.mu.Unlock()
	var cur []*NFHookOps
	if p := nf.hooks[ops.Hook].Load(); p != nil {
		cur = p.ops
	}
	if slices.Contains(cur, ops) {
		return fmt.Errorf("%w: %q already registered at %v", ErrNFHook, ops.Name, ops.Hook)
	}
	next := slices.Clone(cur)
	i, _ := slices.BinarySearchFunc(next, ops.Priority, func(o *NFHookOps, p int) int {
		if o.Priority <= p {
			return -1 // equal priorities keep registration order
		}
		return 1
	})
	next = slices.Insert(next, i, ops)
	nf.hooks[ops.Hook].Store(entriesOf(next))
	return nil
}

// Unregister removes ops.
func (nf *Netfilter) Unregister(ops *NFHookOps) error {
	if ops == nil || ops.Hook >= NumNFHooks {
		return fmt.Errorf("%w: no such registration", ErrNFHook)
	}
	nf.mu.Lock()
	defer nf.mu.Unlock()
	p := nf.hooks[ops.Hook].Load()
	if p == nil || !slices.Contains(p.ops, ops) {
		return fmt.Errorf("%w: %q is not registered at %v", ErrNFHook, ops.Name, ops.Hook)
	}
	next := slices.DeleteFunc(slices.Clone(p.ops), func(o *NFHookOps) bool { return o == ops })
	if len(next) == 0 {
		nf.hooks[ops.Hook].Store(nil)
		return nil
	}
	nf.hooks[ops.Hook].Store(entriesOf(next))
	return nil
}

// SetQueue installs the consumer of queued packets (nil: none, queued
// packets are dropped, as without an nfqueue listener).
func (nf *Netfilter) SetQueue(fn func(skb *SKB, st *NFState)) {
	if fn == nil {
		nf.queue.Store(nil)
		return
	}
	nf.queue.Store(&fn)
}

// Active reports whether any function is registered at hook h. With none,
// a caller goes straight on to its okfn without Run (as Linux's NF_HOOK
// finds no entries for the hook): the hook costs a load and a branch, and
// the okfn is a direct call. A function registered meanwhile sees the next
// packet, as with Run.
func (nf *Netfilter) Active(h NFHook) bool { return nf.hooks[h].Load() != nil }

// Run is NF_HOOK: it passes skb through the functions registered at
// st.Hook in priority order and, if every one accepts, calls okfn. A drop
// frees the packet; a steal leaves it to the function that stole it;
// a queued packet goes to the queue consumer. It returns the verdict that
// ended the traversal (NFAccept when okfn ran).
func (nf *Netfilter) Run(st *NFState, skb *SKB, okfn func(*SKB)) Verdict {
	if st.Hook < NumNFHooks {
		if p := nf.hooks[st.Hook].Load(); p != nil {
			// run's loop in line: a traversal every function accepts
			// makes no call but theirs and okfn's. The first call is
			// before the loop (a list is never empty): after it no
			// register holds nf or okfn, so that the loop reloads only
			// what it uses.
			fns := p.fns
			i, v := 0, fns[0].NFHook(skb, st)
			for v == NFAccept {
				if i++; i == len(fns) {
					okfn(skb)
					return NFAccept
				}
				v = fns[i].NFHook(skb, st)
			}
			return nf.verdict(st, skb, okfn, i, v)
		}
	}
	okfn(skb)
	return NFAccept
}

// run is nf_hook_slow from the index'th function of list on.
func (nf *Netfilter) run(st *NFState, skb *SKB, okfn func(*SKB), list []NFHooker, from int) Verdict {
	for i := from; i < len(list); i++ {
		if v := list[i].NFHook(skb, st); v != NFAccept {
			return nf.verdict(st, skb, okfn, i, v)
		}
	}
	okfn(skb)
	return NFAccept
}

// verdict ends a traversal on the index'th function's verdict v, not
// NFAccept: a drop frees the packet, a steal leaves it to the function, a
// queued packet goes to the consumer (dropped without one), anything else
// is refused, counted and dropped.
func (nf *Netfilter) verdict(st *NFState, skb *SKB, okfn func(*SKB), index int, v Verdict) Verdict {
	switch v {
	case NFDrop:
		nf.stats[st.Hook].drops.Add(1)
		skb.Free()
		return NFDrop
	case NFStolen:
		nf.stats[st.Hook].stolen.Add(1)
		return NFStolen
	case NFQueue:
		if q := nf.queue.Load(); q != nil {
			st.okfn, st.index = okfn, index
			nf.stats[st.Hook].queued.Add(1)
			(*q)(skb, st)
			return NFQueue
		}
		nf.stats[st.Hook].drops.Add(1)
		skb.Free()
		return NFDrop
	}
	nf.stats[st.Hook].invalid.Add(1)
	nf.stats[st.Hook].drops.Add(1)
	skb.Free()
	return NFDrop
}

// Reinject is nf_reinject: the verdict on a packet the queue consumer
// was given. NFAccept resumes the traversal with the hook function after
// the one that queued it (then okfn), NFRepeat with that one again;
// anything else drops it. st is the state the consumer was given.
func (nf *Netfilter) Reinject(skb *SKB, st *NFState, v Verdict) Verdict {
	if st.okfn == nil || st.Hook >= NumNFHooks {
		skb.Free()
		return NFDrop
	}
	okfn, from := st.okfn, st.index
	st.okfn = nil
	var list []NFHooker
	if p := nf.hooks[st.Hook].Load(); p != nil {
		list = p.fns
	}
	switch v {
	case NFAccept:
		from++
	case NFRepeat:
	default:
		nf.stats[st.Hook].drops.Add(1)
		skb.Free()
		return NFDrop
	}
	// The list may have changed while the packet waited: resume at the
	// same position, as Linux does with its hook index.
	return nf.run(st, skb, okfn, list, min(from, len(list)))
}

// NFStats are one hook point's counters.
type NFStats struct {
	Drops, Stolen, Queued, Invalid uint64
	Registered                     int
}

// Stats returns hook h's counters.
func (nf *Netfilter) Stats(h NFHook) NFStats {
	if h >= NumNFHooks {
		return NFStats{}
	}
	s := &nf.stats[h]
	n := 0
	if p := nf.hooks[h].Load(); p != nil {
		n = len(p.ops)
	}
	return NFStats{Drops: s.drops.Load(), Stolen: s.stolen.Load(), Queued: s.queued.Load(), Invalid: s.invalid.Load(), Registered: n}
}
