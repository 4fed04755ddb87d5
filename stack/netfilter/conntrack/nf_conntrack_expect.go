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

// Expect is nf_ct_expect_related: e waits timeout for its connection.
func (n *Net) Expect(e *Expect, timeout time.Duration) error {
	if e.Master == nil {
		return errors.New("conntrack: an expectation needs a master")
	}
	t := &n.exp
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expireLocked(n)
	if len(t.list) >= n.conf().ExpectMax {
		return ErrExpectFull
	}
	e.expires = n.clock.Now() + timeout
	t.list = append(t.list, e)
	n.stats.expectCreate.Add(1)
	return nil
}

// Expectations returns the live expectations.
func (n *Net) Expectations() []*Expect {
	t := &n.exp
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expireLocked(n)
	return append([]*Expect(nil), t.list...)
}

// Timeout is the time the expectation has left.
func (e *Expect) Timeout(n *Net) time.Duration { return max(e.expires-n.clock.Now(), 0) }

func (t *expectTable) expireLocked(n *Net) {
	now := n.clock.Now()
	k := 0
	for _, e := range t.list {
		if e.expires > now {
			t.list[k] = e
			k++
		} else {
			n.stats.expectDelete.Add(1)
		}
	}
	clear(t.list[k:])
	t.list = t.list[:k]
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
// a new connection a live expectation matches is EXPECTED, related to its
// master and marked as it is; a one-shot expectation is used up.
func (t *expectTable) assign(n *Net, ct *Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.list) == 0 {
		return
	}
	t.expireLocked(n)
	for i, e := range t.list {
		if e.Master.Status()&StatusDying != 0 || !maskedEqual(ct.tuple[Original], e.Tuple, e.Mask) || ct.zone != e.Master.zone {
			continue
		}
		if !e.Permanent {
			t.list = append(t.list[:i], t.list[i+1:]...)
		}
		ct.status.Or(uint32(StatusExpected))
		ct.master = e.Master
		ct.mark.Store(e.Master.Mark())
		n.stats.expectNew.Add(1)
		return
	}
}

// removeMaster is nf_ct_remove_expectations: a master's going takes its
// expectations.
func (t *expectTable) removeMaster(n *Net, master *Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := 0
	for _, e := range t.list {
		if e.Master != master {
			t.list[k] = e
			k++
		} else {
			n.stats.expectDelete.Add(1)
		}
	}
	clear(t.list[k:])
	t.list = t.list[:k]
}
