package neigh

import "vnic/stack"

// expire is neigh_timer_handler.
func (t *Table) expire(n *entry) {
	t.mu.Lock()
	if t.entries[n.Addr] != n {
		t.mu.Unlock()
		return // deleted
	}
	now := t.clock.Now()
	p := t.params
	var probe func()
	var failed []*stack.SKB
	switch n.State {
	case NUDReachable:
		switch {
		case now < n.Confirmed+t.reach:
			n.timer.Reset(n.Confirmed + t.reach - now)
		case now < n.Used+p.DelayFirstProbe:
			t.set(n, NUDDelay)
			n.timer.Reset(n.Used + p.DelayFirstProbe - now)
		default:
			t.set(n, NUDStale)
		}
	case NUDDelay:
		if now < n.Confirmed+p.DelayFirstProbe {
			t.set(n, NUDReachable)
			n.timer.Reset(n.Confirmed + t.reach - now)
		} else {
			t.set(n, NUDProbe)
			n.Probes = 1
			mac := n.MAC
			probe = func() { t.ops.Solicit(n.Addr, mac, false) }
			n.timer.Reset(p.RetransTime)
		}
	case NUDIncomplete, NUDProbe:
		max := p.McastSolicit
		if n.State == NUDProbe {
			max = p.UcastSolicit
		}
		if n.Probes >= max {
			t.set(n, NUDFailed)
			t.resFailed.Add(1)
			failed, n.queue = n.queue, nil
			n.Probes = 0
		} else {
			n.Probes++
			addr, mac, bcast := n.Addr, n.MAC, n.State == NUDIncomplete
			probe = func() { t.ops.Solicit(addr, mac, bcast) }
			n.timer.Reset(p.RetransTime)
		}
	}
	t.mu.Unlock()
	if probe != nil {
		probe()
	}
	for _, skb := range failed {
		if t.ops.Unreachable != nil {
			t.ops.Unreachable(skb)
		} else {
			skb.Free()
		}
	}
}
