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
	EventSeqAdj    = 8 // IPCT_SEQADJ (iptables' "natseqinfo")
	EventSecmark   = 9
)

// EventMask is a set of 1 << Event* bits.
type EventMask uint32

// Expectation event bits (enum ip_conntrack_expect_events).
const (
	ExpEventNew     = 0
	ExpEventDestroy = 1
)

// allEvents is the mask of a connection that reports everything (an
// ecache extension added without a template's masks: ~0).
const allEvents = 0xffff

// ecacheMasks is init_conntrack's nf_ct_ecache_ext_add: a connection made
// under a template that carries event masks (CT --ctevents,
// --expevents) reports what they say, even with nf_conntrack_events 0;
// one made without reports every event while nf_conntrack_events is on,
// none otherwise (it has no ecache extension). The masks are fixed at
// creation, as the extension is. vnic's value 2 is 1: an event goes to
// whoever subscribed, which may be nobody.
func ecacheMasks(tmpl *Conn, cfg *Config) (ct, exp uint16) {
	if tmpl != nil && tmpl.ctmask|tmpl.expmask != 0 {
		return tmpl.ctmask, tmpl.expmask
	}
	if cfg.Events != 0 {
		return allEvents, allEvents
	}
	return 0, 0
}

// EventMask is the events c reports (its ecache's ctmask): the rest are
// neither cached for it nor delivered.
func (c *Conn) EventMask() EventMask { return EventMask(c.ctmask) }

// ExpectEventMask is the expectation events c reports as a master
// (its ecache's expmask).
func (c *Conn) ExpectEventMask() EventMask { return EventMask(c.expmask) }

// Event is one notification: the connection and what happened to it. A
// subscriber is called in the packet's context (the hook that delivered
// it, or the collector that deleted the entry) and must not keep the
// connection's state longer than the call, nor block.
type Event struct {
	Conn   *Conn
	Events EventMask
}

// ExpectEvent is one expectation notification (struct
// nf_exp_event): the expectation and what happened to it.
type ExpectEvent struct {
	Expect *Expect
	Events EventMask // 1 << ExpEvent* bits
}

// ecache is the event machinery (nf_conntrack_ecache.c): the subscribers
// of connection and of expectation events (ctnetlink's and its expect
// side's notifiers), each a copy-on-write list read without a lock.
type ecache struct {
	subs    subList[Event]
	expSubs subList[ExpectEvent]
}

// subList is a copy-on-write list of subscribers.
type subList[E any] struct {
	mu   sync.Mutex
	list atomic.Pointer[[]*subscriber[E]]
}

type subscriber[E any] struct{ fn func(E) }

func (l *subList[E]) add(fn func(E)) (cancel func()) {
	s := &subscriber[E]{fn}
	l.mu.Lock()
	var next []*subscriber[E]
	if cur := l.list.Load(); cur != nil {
		next = append(next, *cur...)
	}
	next = append(next, s)
	l.list.Store(&next)
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		cur := l.list.Load()
		if cur == nil {
			return
		}
		var next []*subscriber[E]
		for _, o := range *cur {
			if o != s {
				next = append(next, o)
			}
		}
		l.list.Store(&next)
	}
}

func (l *subList[E]) send(ev E) {
	subs := l.list.Load()
	if subs == nil {
		return
	}
	for _, s := range *subs {
		s.fn(ev)
	}
}

// Subscribe registers fn for every connection event (ctnetlink's
// groups); cancel unregisters it.
func (n *Net) Subscribe(fn func(Event)) (cancel func()) { return n.ev.subs.add(fn) }

// SubscribeExpect registers fn for every expectation event (ctnetlink's
// expectation groups); cancel unregisters it.
func (n *Net) SubscribeExpect(fn func(ExpectEvent)) (cancel func()) { return n.ev.expSubs.add(fn) }

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

// deliver hands events to the subscribers (__nf_conntrack_eventmask_report):
// all of them, when one at least is in the connection's ctmask; nothing
// otherwise.
func (e *ecache) deliver(ct *Conn, ev EventMask) {
	if ev&EventMask(ct.ctmask) == 0 {
		return
	}
	e.subs.send(Event{Conn: ct, Events: ev})
}

// deliverExpect is nf_ct_expect_event_report: an expectation's event goes
// to the subscribers when its master's expmask has it.
func (e *ecache) deliverExpect(x *Expect, ev int) {
	if x.Master.expmask&(1<<ev) == 0 {
		return
	}
	e.expSubs.send(ExpectEvent{Expect: x, Events: 1 << ev})
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
