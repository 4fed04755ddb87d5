package neigh_test

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"vnic/internal/stacktest"
	"vnic/stack"
	"vnic/stack/neigh"
)

// neighRig is a table on a virtual clock whose ops record what it does.
type neighRig struct {
	t     *testing.T
	h     *stack.Host
	run   func(time.Duration)
	tab   *neigh.Table
	log   []string
	start time.Duration
	now   func() time.Duration
}

func newNeighRig(t *testing.T, p neigh.Params) *neighRig {
	clk, h := stacktest.NewHost(t, 1)
	r := &neighRig{t: t, h: h, run: clk.RunFor, now: clk.Now}
	at := func() string { return fmt.Sprintf("%v", r.now()-r.start) }
	r.tab = neigh.NewTable(clk, p, neigh.Ops{
		Solicit: func(a [4]byte, mac stack.MAC, bcast bool) {
			kind := "unicast"
			if bcast {
				kind = "broadcast"
			}
			r.log = append(r.log, fmt.Sprintf("%s solicit %s %d", at(), kind, a[3]))
		},
		Output: func(skb *stack.SKB, mac stack.MAC) {
			r.log = append(r.log, fmt.Sprintf("%s send %d to %x", at(), skb.Len(), mac[5]))
			skb.Free()
		},
		Unreachable: func(skb *stack.SKB) {
			r.log = append(r.log, fmt.Sprintf("%s unreachable %d", at(), skb.Len()))
			skb.Free()
		},
	}, 1)
	r.start = clk.Now()
	return r
}

func (r *neighRig) send(a byte, n int) {
	skb := r.h.Pool().Alloc(n)
	skb.Put(n)
	r.tab.Output([4]byte{198, 18, 0, a}, skb)
}

func (r *neighRig) state(a byte) string {
	e, ok := r.tab.Lookup([4]byte{198, 18, 0, a})
	if !ok {
		return "none"
	}
	return e.State.String()
}

func (r *neighRig) check(want ...string) {
	r.t.Helper()
	if got := strings.Join(r.log, "; "); got != strings.Join(want, "; ") {
		r.t.Fatalf("\n got %s\nwant %s", got, strings.Join(want, "; "))
	}
	r.log = nil
}

var macB = stack.MAC{2, 0, 0, 0, 0, 0xb}

// TestNeighResolveFails: three broadcast requests a second apart, then
// FAILED and the queued packets reported unreachable.
func TestNeighResolveFails(t *testing.T) {
	r := newNeighRig(t, neigh.Params{})
	r.send(2, 100)
	r.run(500 * time.Millisecond)
	r.send(2, 200)
	if s := r.state(2); s != "INCOMPLETE" {
		t.Fatalf("state %s", s)
	}
	r.run(3 * time.Second)
	r.check("0s solicit broadcast 2", "1s solicit broadcast 2", "2s solicit broadcast 2", "3s unreachable 100", "3s unreachable 200")
	if s := r.state(2); s != "FAILED" || r.tab.Stats().ResFailed != 1 {
		t.Fatalf("state %s, failures %d", s, r.tab.Stats().ResFailed)
	}
	// A new packet starts over.
	r.send(2, 60)
	r.check("3.5s solicit broadcast 2")
}

// TestNeighLifecycle: resolved by a reply, used, STALE after the
// reachable time, DELAY on use, then PROBE with unicast requests and
// FAILED; a confirmation in DELAY makes it REACHABLE again.
func TestNeighLifecycle(t *testing.T) {
	r := newNeighRig(t, neigh.Params{})
	reach := r.tab.ReachableTime()
	if reach < 15*time.Second || reach >= 45*time.Second {
		t.Fatalf("reachable time %v outside [15s, 45s)", reach)
	}
	r.send(3, 100)
	r.run(300 * time.Millisecond)
	r.tab.Update([4]byte{198, 18, 0, 3}, macB, neigh.FromReply, false)
	r.send(3, 101) // resolved: straight out
	r.check("0s solicit broadcast 3", "300ms send 100 to b", "300ms send 101 to b")
	if s := r.state(3); s != "REACHABLE" {
		t.Fatalf("state %s", s)
	}
	r.run(reach + time.Second)
	if s := r.state(3); s != "STALE" {
		t.Fatalf("after the reachable time: %s", s)
	}
	// Use while stale: sent at once, DELAY for 5 s, then PROBE.
	r.log = nil
	r.send(3, 102)
	if s := r.state(3); s != "DELAY" {
		t.Fatalf("used while stale: %s", s)
	}
	at := r.now() - r.start
	r.run(5*time.Second + 3500*time.Millisecond)
	r.check(fmt.Sprintf("%v send 102 to b", at),
		fmt.Sprintf("%v solicit unicast 3", at+5*time.Second),
		fmt.Sprintf("%v solicit unicast 3", at+6*time.Second),
		fmt.Sprintf("%v solicit unicast 3", at+7*time.Second))
	if s := r.state(3); s != "FAILED" {
		t.Fatalf("after three unanswered probes: %s", s)
	}
	// Again, but a confirmation during DELAY ends it REACHABLE.
	r.tab.Update([4]byte{198, 18, 0, 3}, macB, neigh.FromReply, false)
	r.run(reach + time.Second)
	r.send(3, 103)
	r.run(time.Second)
	r.tab.Confirm([4]byte{198, 18, 0, 3})
	r.run(5 * time.Second)
	if s := r.state(3); s != "REACHABLE" {
		t.Fatalf("confirmed in DELAY: %s (%v)", s, r.log)
	}
}

// TestNeighLearnQueueStatic: a request teaches an address as STALE; a
// full queue drops its oldest packet; a static entry is not learned over;
// deleting drops what waits.
func TestNeighLearnQueueStatic(t *testing.T) {
	r := newNeighRig(t, neigh.Params{QueueLen: 2})
	a := [4]byte{198, 18, 0, 4}
	r.tab.Update(a, macB, neigh.FromRequest, false)
	if s := r.state(4); s != "none" {
		t.Fatalf("learned without create: %s", s)
	}
	r.tab.Update(a, macB, neigh.FromRequest, true)
	if s := r.state(4); s != "STALE" {
		t.Fatalf("learned from a request: %s", s)
	}
	other := stack.MAC{2, 0, 0, 0, 0, 0xc}
	r.tab.Update(a, other, neigh.FromRequest, false)
	if e, _ := r.tab.Lookup(a); e.MAC != other || e.State != neigh.NUDStale {
		t.Fatalf("a new address: %+v", e)
	}
	// Queue of two: the oldest goes.
	live := r.h.Pool().Live()
	r.send(5, 1)
	r.send(5, 2)
	r.send(5, 3)
	if e, _ := r.tab.Lookup([4]byte{198, 18, 0, 5}); e.Queued != 2 || r.tab.Stats().UnresDiscards != 1 || r.h.Pool().Live() != live+2 {
		t.Fatalf("queue %d, discards %d, live %d", e.Queued, r.tab.Stats().UnresDiscards, r.h.Pool().Live()-live)
	}
	r.tab.AddStatic([4]byte{198, 18, 0, 5}, macB)
	r.check("0s solicit broadcast 5", "0s send 2 to b", "0s send 3 to b")
	r.tab.Update([4]byte{198, 18, 0, 5}, other, neigh.FromReply, false)
	if e, _ := r.tab.Lookup([4]byte{198, 18, 0, 5}); e.State != neigh.NUDPermanent || e.MAC != macB {
		t.Fatalf("static entry learned over: %+v", e)
	}
	r.run(time.Minute) // no timers on a static entry
	r.check()
	r.send(6, 9)
	if !r.tab.Delete([4]byte{198, 18, 0, 6}) || r.h.Pool().Live() != live {
		t.Fatalf("delete: %d live", r.h.Pool().Live()-live)
	}
	r.run(5 * time.Second) // the deleted entry's timer does nothing
	r.check("1m0s solicit broadcast 6")
	var states []string
	for _, e := range r.tab.Entries() {
		states = append(states, fmt.Sprintf("%d:%v", e.Addr[3], e.State))
	}
	sort.Strings(states)
	if got := strings.Join(states, " "); got != "4:STALE 5:PERMANENT" {
		t.Fatalf("entries %s", got)
	}
}

// TestNeighAdmin: the administrator's states (ip neigh add/replace/change,
// neigh_add's __neigh_update): a valid state needs an address given or
// held; failed, incomplete and none keep it; failed during a resolution
// reports what waited; reachable and stale send what waited; delay goes
// on to probe at once (a new entry's confirmation is long past); without
// create a missing entry is ENOENT.
func TestNeighAdmin(t *testing.T) {
	r := newNeighRig(t, neigh.Params{})
	a := func(n byte) [4]byte { return [4]byte{198, 18, 0, n} }
	mac := macB
	for _, c := range []struct {
		addr   byte
		mac    *stack.MAC
		state  neigh.NUDState
		create bool
		err    error
		after  string
	}{
		{2, nil, neigh.NUDPermanent, true, neigh.ErrNoLLAddr, "none"},
		{2, nil, neigh.NUDNoARP, true, neigh.ErrNoLLAddr, "none"},
		{2, nil, neigh.NUDFailed, true, nil, "FAILED"},
		{2, nil, neigh.NUDReachable, true, neigh.ErrNoLLAddr, "FAILED"},
		{2, &mac, neigh.NUDStale, true, nil, "STALE"},
		{2, nil, neigh.NUDReachable, false, nil, "REACHABLE"}, // the address it holds
		{2, nil, neigh.NUDIncomplete, false, nil, "INCOMPLETE"},
		{3, &mac, neigh.NUDStale, false, syscall.ENOENT, "none"},
		{4, nil, neigh.NUDNone, true, nil, "NONE"},
	} {
		err := r.tab.Admin(a(c.addr), c.mac, c.state, c.create)
		if !errors.Is(err, c.err) || r.state(c.addr) != c.after {
			t.Fatalf("%d %v: %v, %s; want %v, %s", c.addr, c.state, err, r.state(c.addr), c.err, c.after)
		}
	}
	r.check()
	// A resolution set to failed drops its packets as unreachable.
	r.send(5, 100)
	if err := r.tab.Admin(a(5), nil, neigh.NUDFailed, false); err != nil {
		t.Fatal(err)
	}
	r.check("0s solicit broadcast 5", "0s unreachable 100")
	// Packets waiting for an address go when the administrator gives one.
	r.send(6, 70)
	if err := r.tab.Admin(a(6), &mac, neigh.NUDReachable, true); err != nil {
		t.Fatal(err)
	}
	r.check("0s solicit broadcast 6", "0s send 70 to b")
	// Delay probes at once.
	if err := r.tab.Admin(a(7), &mac, neigh.NUDDelay, true); err != nil {
		t.Fatal(err)
	}
	r.run(time.Millisecond)
	if r.state(7) != "PROBE" {
		t.Fatalf("delay is %s", r.state(7))
	}
	r.check("0s solicit unicast 7")
}

// EventSend (neigh_event_send without a packet) starts resolving an
// address that has no entry or a failed one with a broadcast request,
// moves a stale entry to DELAY without a request, and leaves a
// reachable or incomplete one alone.
func TestEventSend(t *testing.T) {
	mac := stack.MAC{2, 0, 0, 0, 0, 9}
	for _, c := range []struct {
		name  string
		setup func(r *neighRig, a [4]byte)
		state string
		log   []string
	}{
		{"no entry", func(*neighRig, [4]byte) {}, "INCOMPLETE", []string{"0s solicit broadcast 7"}},
		{"stale", func(r *neighRig, a [4]byte) { r.tab.Update(a, mac, neigh.FromRequest, true) }, "DELAY", nil},
		{"reachable", func(r *neighRig, a [4]byte) { r.tab.Update(a, mac, neigh.FromReply, true) }, "REACHABLE", nil},
		{"incomplete", func(r *neighRig, a [4]byte) {
			r.tab.EventSend(a)
			r.log = nil
		}, "INCOMPLETE", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newNeighRig(t, neigh.DefaultParams)
			a := [4]byte{198, 18, 0, 7}
			c.setup(r, a)
			r.tab.EventSend(a)
			if got := r.state(7); got != c.state {
				t.Fatalf("state %s, want %s", got, c.state)
			}
			r.check(c.log...)
		})
	}
}
