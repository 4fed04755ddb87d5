package conntrack

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"
)

// Expect is an expected connection (struct nf_conntrack_expect): the
// first packet whose tuple matches Tuple under Mask becomes a connection
// RELATED to Master (IPS_EXPECTED, the master's mark). vnic has no
// protocol helpers to make expectations; whoever knows a protocol's
// secondary flows registers them with Net.Expect.
type Expect struct {
	Tuple, Mask Tuple
	Master      *Conn
	// Permanent expectations stay for further connections
	// (NF_CT_EXPECT_PERMANENT); the others are used once.
	Permanent bool
	expires   time.Duration
}

// expectTable is the expectation table (nf_ct_expect_hash; a list: it
// holds few).
type expectTable struct {
	mu   sync.Mutex
	list []*Expect
}

// ErrExpectFull is an expectation past nf_conntrack_expect_max.
var ErrExpectFull = fmt.Errorf("conntrack: expectation table full: %w", syscall.EMFILE)

// Expect is nf_ct_expect_related_report: e waits timeout for its
// connection; subscribers hear IPEXP_NEW if its master reports it.
func (n *Net) Expect(e *Expect, timeout time.Duration) error {
	if e.Master == nil {
		return errors.New("conntrack: an expectation needs a master")
	}
	t := &n.exp
	t.mu.Lock()
	gone := t.expireLocked(n, nil)
	if len(t.list) >= n.conf().ExpectMax {
		t.mu.Unlock()
		n.destroyed(gone)
		return ErrExpectFull
	}
	e.expires = n.clock.Now() + timeout
	t.list = append(t.list, e)
	n.stats.expectCreate.Add(1)
	t.mu.Unlock()
	n.destroyed(gone)
	n.ev.deliverExpect(e, ExpEventNew)
	return nil
}

// Expectations returns the live expectations.
func (n *Net) Expectations() []*Expect {
	t := &n.exp
	t.mu.Lock()
	gone := t.expireLocked(n, nil)
	live := append([]*Expect(nil), t.list...)
	t.mu.Unlock()
	n.destroyed(gone)
	return live
}

// Timeout is the time the expectation has left.
func (e *Expect) Timeout(n *Net) time.Duration { return max(e.expires-n.clock.Now(), 0) }

// expireLocked takes the expectations whose time is up out of the table
// (nf_ct_expectation_timed_out) and appends them to gone.
func (t *expectTable) expireLocked(n *Net, gone []*Expect) []*Expect {
	now := n.clock.Now()
	k := 0
	for _, e := range t.list {
		if e.expires > now {
			t.list[k] = e
			k++
		} else {
			n.stats.expectDelete.Add(1)
			gone = append(gone, e)
		}
	}
	clear(t.list[k:])
	t.list = t.list[:k]
	return gone
}

// destroyed reports IPEXP_DESTROY for expectations taken out of the
// table (nf_ct_unlink_expect_report), outside its lock.
func (n *Net) destroyed(gone []*Expect) {
	for _, e := range gone {
		n.ev.deliverExpect(e, ExpEventDestroy)
	}
}

// maskedEqual is nf_ct_tuple_mask_cmp.
func maskedEqual(a, b, m Tuple) bool {
	for i := range a.Src {
		if (a.Src[i]^b.Src[i])&m.Src[i] != 0 || (a.Dst[i]^b.Dst[i])&m.Dst[i] != 0 {
			return false
		}
	}
	return (a.SrcPort^b.SrcPort)&m.SrcPort == 0 && (a.DstPort^b.DstPort)&m.DstPort == 0 &&
		(a.Proto^b.Proto)&m.Proto == 0
}

// assign is init_conntrack's expectation step (nf_ct_find_expectation):
// a new connection a live expectation of its zone matches
// (nf_ct_zone_equal_any: the ids) is EXPECTED, related to its master and
// marked as it is; a one-shot expectation is used up.
func (t *expectTable) assign(n *Net, ct *Conn) {
	t.mu.Lock()
	if len(t.list) == 0 {
		t.mu.Unlock()
		return
	}
	gone := t.expireLocked(n, nil)
	for i, e := range t.list {
		if e.Master.Status()&StatusDying != 0 || !maskedEqual(ct.tuple[Original], e.Tuple, e.Mask) || ct.zone.ID != e.Master.zone.ID {
			continue
		}
		if !e.Permanent {
			t.list = append(t.list[:i], t.list[i+1:]...)
			gone = append(gone, e)
		}
		ct.status.Or(uint32(StatusExpected))
		ct.master = e.Master
		ct.mark.Store(e.Master.Mark())
		n.stats.expectNew.Add(1)
		break
	}
	t.mu.Unlock()
	n.destroyed(gone)
}

// removeMaster is nf_ct_remove_expectations: a master's going takes its
// expectations.
func (t *expectTable) removeMaster(n *Net, master *Conn) {
	t.mu.Lock()
	if len(t.list) == 0 {
		t.mu.Unlock()
		return
	}
	var gone []*Expect
	k := 0
	for _, e := range t.list {
		if e.Master != master {
			t.list[k] = e
			k++
		} else {
			n.stats.expectDelete.Add(1)
			gone = append(gone, e)
		}
	}
	clear(t.list[k:])
	t.list = t.list[:k]
	t.mu.Unlock()
	n.destroyed(gone)
}
