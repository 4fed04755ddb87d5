package stack

import (
	"sync"
	"time"
)

// Softnet is a CPU's softnet_data: its NAPI poll list, its TX output queue
// and its counters.
type Softnet struct {
	host *Host
	cpu  CPU

	mu         mutex
	pollDone   *sync.Cond // on mu: a poll finished (napi_disable waits on it)
	head, tail *NAPI
	output     []*TxQueue // queues woken, waiting for qdisc_run

	processed, timeSqueeze, rounds Counter

	// A NET_RX round in progress (virtual time): each poll is its own
	// CPU work item, so the device's DMA goes on between polls as it
	// does while a real CPU polls.
	inRound    bool
	budgetLeft int
	deadline   time.Duration

	// The legacy input path's backlog (netif_rx) and the NAPI instance
	// that drains it in NET_RX (process_backlog).
	backlog      SKBList
	backlogLen   int
	backlogNAPI  *NAPI
	backlogDrops Counter
}

// SoftnetStats is /proc/net/softnet_stat for one CPU.
type SoftnetStats struct {
	Processed   uint64 // packets polled
	TimeSqueeze uint64 // rounds that ran out of budget or time with work left
	Rounds      uint64 // NET_RX rounds
	Dropped     uint64 // backlog full (netif_rx)
	Backlog     int    // packets waiting in the backlog now
}

// Stats returns the counters.
func (s *Softnet) Stats() SoftnetStats {
	s.mu.Lock()
	bl := s.backlogLen
	s.mu.Unlock()
	return SoftnetStats{s.processed.Load(), s.timeSqueeze.Load(), s.rounds.Load(), s.backlogDrops.Load(), bl}
}

func (s *Softnet) link(n *NAPI) {
	n.listed = true
	n.next = nil
	if s.tail == nil {
		s.head, s.tail = n, n
	} else {
		s.tail.next = n
		s.tail = n
	}
}

func (s *Softnet) unlink(n *NAPI) {
	var prev *NAPI
	for p := s.head; p != nil; prev, p = p, p.next {
		if p != n {
			continue
		}
		if prev == nil {
			s.head = p.next
		} else {
			prev.next = p.next
		}
		if s.tail == p {
			s.tail = prev
		}
		n.listed, n.next = false, nil
		return
	}
}

// action is the softirq handler: NET_TX (qdisc runs for woken queues), then
// NET_RX (net_rx_action).
func (s *Softnet) action() {
	s.txAction()
	s.rxAction()
}

// rxAction is net_rx_action: poll the list round robin, each NAPI at most
// its weight per turn, until the list is empty, netdev_budget packets were
// processed or netdev_budget_usecs passed. Work left re-raises the softirq.
func (s *Softnet) rxAction() {
	virtual := s.host.clock.Virtual()
	if !s.inRound {
		s.rounds.Add(1)
		s.budgetLeft = s.host.cfg.NetdevBudget
		s.deadline = s.cpu.Now() + s.host.cfg.NetdevBudgetTime
		s.inRound = virtual
	}
	budget, deadline := s.budgetLeft, s.deadline
	for {
		s.mu.Lock()
		n := s.head
		if n == nil {
			s.mu.Unlock()
			return
		}
		s.unlink(n)
		n.polling = true
		s.mu.Unlock()

		work, total := s.pollOne(n)
		budget -= work

		s.mu.Lock()
		n.polling = false
		s.pollDone.Broadcast()
		if n.cont {
			// The same poll goes on once its work so far has run:
			// first on the list, with no budget or time check (the
			// driver's loop has none).
			n.cont = false
			if n.sched && !n.disabled && !n.listed {
				n.listed, n.next = true, s.head
				s.head = n
				if s.tail == nil {
					s.tail = n
				}
				s.mu.Unlock()
				s.budgetLeft = budget
				s.cpu.ContinueSoftirq()
				return
			}
		}
		var release time.Duration
		if total >= n.weight && n.sched && !n.disabled && !n.listed { // (more than the weight is a driver bug, counted; napi_poll repolls it too)
			if n.preferBusy {
				// A busy poller prefers it (napi_poll's early exit):
				// let go to the timer, the interrupt still masked.
				release = n.releaseToBusyPoll()
			} else {
				// The driver did not complete: poll again after the others.
				s.link(n)
			}
		}
		left := s.head != nil
		s.mu.Unlock()
		if release > 0 {
			n.armDefer(release)
		}

		if !left {
			s.inRound = false
			return
		}
		if budget <= 0 || s.cpu.Now() >= deadline {
			s.inRound = false
			s.timeSqueeze.Add(1)
			s.cpu.RaiseSoftirq()
			return
		}
		if virtual {
			// The round goes on once this poll's work has run.
			s.budgetLeft = budget
			s.cpu.ContinueSoftirq()
			return
		}
	}
}

// pollOne makes one poll call, or the next part of a poll that asked to
// Continue; it returns the work of this call and of the poll so far.
func (s *Softnet) pollOne(n *NAPI) (int, int) {
	before := n.contWork
	if before == 0 {
		s.cpu.Charge(s.host.cfg.Costs.Poll)
	}
	work := n.poll(n, n.weight-before)
	n.groFlushAll() // nothing is held across polls
	s.processed.Add(uint64(work))
	s.mu.Lock()
	more := n.cont
	s.mu.Unlock()
	if more {
		n.contWork += work
		return work, n.contWork
	}
	total := before + work
	n.contWork = 0
	n.polls.Add(1)
	n.packets.Add(uint64(total))
	n.sizes[PollSizeBucket(total)].Add(1)
	if total >= n.weight {
		n.budgetHits.Add(1)
	}
	if total > n.weight {
		n.overBudget.Add(1) // napi_poll's WARN_ON_ONCE(work > weight)
	}
	if total == 0 {
		n.empty.Add(1)
	}
	if n.Observer != nil {
		n.Observer.NAPIPolled(n.IRQ, n.weight, total)
	}
	return work, total
}

// BudgetTime returns the NET_RX time limit.
func (h *Host) BudgetTime() time.Duration { return h.cfg.NetdevBudgetTime }
