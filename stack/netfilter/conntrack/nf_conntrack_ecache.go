package conntrack

import (
	"sync"
	"sync/atomic"
)

// Event bits (enum ip_conntrack_events).
const (
	EventNew       = 0
	EventRelated   = 1
	EventDestroy   = 2
	EventReply     = 3
	EventAssured   = 4
	EventProtoinfo = 5
	EventHelper    = 6
	EventMark      = 7
)

// EventMask is a set of 1 << Event* bits.
type EventMask uint32

// Event is one notification: the connection and what happened to it. A
// subscriber is called in the packet's context (the hook that delivered
// it, or the collector that deleted the entry) and must not keep the
// connection's state longer than the call, nor block.
type Event struct {
	Conn   *Conn
	Events EventMask
}

// ecache is the event machinery (nf_conntrack_ecache.c): the subscribers,
// a copy-on-write list read without a lock.
type ecache struct {
	mu   sync.Mutex
	subs atomic.Pointer[[]*subscriber]
}

type subscriber struct{ fn func(Event) }

// Subscribe registers fn for every event (ctnetlink's groups); cancel
// unregisters it.
func (n *Net) Subscribe(fn func(Event)) (cancel func()) {
	s := &subscriber{fn}
	e := &n.ev
	e.mu.Lock()
	var next []*subscriber
	if cur := e.subs.Load(); cur != nil {
		next = append(next, *cur...)
	}
	next = append(next, s)
	e.subs.Store(&next)
	e.mu.Unlock()
	return func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		cur := e.subs.Load()
		if cur == nil {
			return
		}
		var next []*subscriber
		for _, o := range *cur {
			if o != s {
				next = append(next, o)
			}
		}
		e.subs.Store(&next)
	}
}

// cacheEvent is nf_conntrack_event_cache: the event waits for the
// packet's confirmation hook.
func (c *Conn) cacheEvent(ev int) { c.events.Or(1 << ev) }

// deliverCached is nf_ct_deliver_cached_events: a confirmed, living
// connection's cached events go to the subscribers at once.
func (e *ecache) deliverCached(ct *Conn) {
	if ct.Status()&(StatusConfirmed|StatusDying) != StatusConfirmed {
		return
	}
	if ev := ct.events.Swap(0); ev != 0 {
		e.deliver(ct, EventMask(ev))
	}
}

// deliver hands events to the subscribers (nf_conntrack_eventmask_report),
// unless nf_conntrack_events is 0.
func (e *ecache) deliver(ct *Conn, ev EventMask) {
	subs := e.subs.Load()
	if subs == nil || len(*subs) == 0 || ct.net.conf().Events == 0 {
		return
	}
	for _, s := range *subs {
		s.fn(Event{Conn: ct, Events: ev})
	}
}

// Report is nf_conntrack_eventmask_report for a change made outside the
// packet path (ctnetlink's updates): ev and the events c has cached go
// to the subscribers at once, not with its next packet.
func (n *Net) Report(c *Conn, ev EventMask) {
	ev |= EventMask(c.events.Swap(0))
	if c.Status()&(StatusConfirmed|StatusDying) == StatusConfirmed {
		n.ev.deliver(c, ev)
	}
}
