package stack

import (
	"fmt"
	"syscall"
)

// ErrBacklogFull is what NetifRx returns when the backlog is full.
var ErrBacklogFull = fmt.Errorf("stack: netif_rx: backlog full: %w", syscall.ENOBUFS)

// NetifRx is netif_rx, the input path of drivers without NAPI: the packet
// joins CPU cpu's backlog (at most netdev_max_backlog packets; beyond that
// it is dropped and counted — after the driver already spent its work on
// it), and NET_RX drains the backlog at softirq priority, a NAPI weight at
// a time (process_backlog). skb's data starts at the Ethernet header.
func NetifRx(skb *SKB, cpu int) error {
	dev := skb.Dev
	s := dev.host.sn[cpu%len(dev.host.sn)]
	s.mu.Lock()
	if s.backlogLen >= dev.host.cfg.NetdevMaxBacklog {
		s.mu.Unlock()
		s.backlogDrops.Add(1)
		dev.rxDropped.Add(1)
		skb.Free()
		return ErrBacklogFull
	}
	s.backlog.Push(skb)
	s.backlogLen++
	s.mu.Unlock()
	s.backlogNAPI.Schedule()
	return nil
}

// processBacklog is the backlog's poll: up to budget packets go up the
// stack; an empty backlog completes.
func (s *Softnet) processBacklog(n *NAPI, budget int) int {
	work := 0
	for work < budget {
		s.mu.Lock()
		skb := s.backlog.Pop()
		if skb != nil {
			s.backlogLen--
		}
		s.mu.Unlock()
		if skb == nil {
			n.CompleteDone(work)
			return work
		}
		NetifReceiveSKB(skb)
		work++
	}
	return work
}

// BacklogStats returns the backlog NAPI's poll counters.
func (s *Softnet) BacklogStats() NAPIStats { return s.backlogNAPI.Stats() }
