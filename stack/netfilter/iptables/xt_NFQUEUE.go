package iptables

import (
	"bytes"
	"sync"
	"syscall"

	"vnic/stack"
)

// NFQueueInfo is the NFQUEUE target, revision 3 (struct xt_NFQ_info_v3).
type NFQueueInfo struct {
	QueueNum    uint16
	QueuesTotal uint16
	Flags       uint16 // NFQueueBypass, NFQueueCPUFanout
}

// NFQUEUE flags (NFQ_FLAG_*).
const (
	NFQueueBypass    = 0x01
	NFQueueCPUFanout = 0x02
	nfqFlagMask      = 0x03
)

// QueuedPacket is a packet an NFQUEUE rule handed to a queue's listener
// (what nfnetlink_queue sends userspace). The listener owns it until it
// gives its verdict, once: Accept resumes the packet's path after the
// queuing table, Drop frees it, Repeat runs the hook point's functions
// again from the table that queued it.
type QueuedPacket struct {
	SKB   *stack.SKB
	Queue uint16
	Hook  stack.NFHook
	In    *stack.NetDevice
	Out   *stack.NetDevice
	nf    *stack.Netfilter
	st    *stack.NFState
	once  sync.Once
}

// Verdict gives the packet's verdict (nfqnl_recv_verdict); only the first
// call counts.
func (q *QueuedPacket) Verdict(v stack.Verdict) {
	q.once.Do(func() { q.nf.Reinject(q.SKB, q.st, v) })
}

// queueNet is a host's queue listeners.
type queueNet struct {
	mu        sync.Mutex
	host      *stack.Host
	listeners map[uint16]func(*QueuedPacket)
	installed bool
}

func (n *queueNet) init(h *stack.Host) { n.host, n.listeners = h, map[uint16]func(*QueuedPacket){} }

func (n *queueNet) bound(q uint16) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.listeners[q] != nil
}

// consume is the host's queue consumer: the packet goes to its queue's
// listener, or is dropped when the listener went meanwhile.
func (n *queueNet) consume(skb *stack.SKB, st *stack.NFState) {
	n.mu.Lock()
	fn := n.listeners[st.QueueNum]
	n.mu.Unlock()
	nf := n.host.Netfilter()
	q := &QueuedPacket{SKB: skb, Queue: st.QueueNum, Hook: st.Hook, In: st.In, Out: st.Out, nf: nf, st: st}
	if fn == nil {
		q.Verdict(stack.NFDrop)
		return
	}
	fn(q)
}

// BindQueue makes fn the listener of queue num on h (a userspace program
// binding an nfnetlink_queue): every packet an NFQUEUE rule sends there is
// handed to fn, in the packet's context; fn must give each its verdict,
// then or later. A queue has one listener (EBUSY).
func BindQueue(h *stack.Host, num uint16, fn func(*QueuedPacket)) error {
	n := &netOf(h).queue
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.listeners[num] != nil {
		return errorf(syscall.EBUSY, "nfqueue: queue %d has a listener", num)
	}
	n.listeners[num] = fn
	if !n.installed {
		h.Netfilter().SetQueue(n.consume)
		n.installed = true
	}
	return nil
}

// UnbindQueue removes queue num's listener: packets sent there are then
// dropped (or, with --queue-bypass, accepted).
func UnbindQueue(h *stack.Host, num uint16) {
	n := &netOf(h).queue
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.listeners, num)
}

type nfqueueTarget struct {
	NFQueueInfo
	q *queueNet
}

// Target is nfqueue_tg_v3: the queue (one of a balanced range by the
// flow's addresses, or by CPU), and without a listener the bypass.
func (t *nfqueueTarget) Target(p Param) Verdict {
	q := t.QueueNum
	if t.QueuesTotal > 1 {
		// --queue-cpu-fanout picks by the CPU; the hook does not know
		// its CPU here, so a fanout stays on the first queue.
		if t.Flags&NFQueueCPUFanout == 0 {
			s, d := be32(p.IP.Src()), be32(p.IP.Dst())
			h := jhash2(s^d, uint32(p.IP.Protocol()))
			q += uint16(uint64(h) * uint64(t.QueuesTotal) >> 32)
		}
	}
	if !t.q.bound(q) {
		if t.Flags&NFQueueBypass != 0 {
			return Accept
		}
		return Drop
	}
	p.State.QueueNum = q
	return Queue
}

// jhash2 mixes two words (jhash's final mix), symmetric in the addresses
// as nfqueue_hash is, so both directions of a flow meet one queue.
func jhash2(a, b uint32) uint32 {
	c := uint32(0x9e3779b9)
	a += 0xdeadbeef
	c ^= b
	c -= b<<14 | b>>18
	a ^= c
	a -= c<<11 | c>>21
	b ^= a
	b -= a<<25 | a>>7
	c ^= b
	c -= b<<16 | b>>16
	a ^= c
	a -= c<<4 | c>>28
	b ^= a
	b -= a<<14 | a>>18
	c ^= b
	c -= b<<24 | b>>8
	return c
}

// NFLogPacket is what an NFLOG rule reports to its group's listener
// (nfnetlink_log's message): the prefix, where the packet was, its mark
// and a copy of its bytes from the network header (at most Len of them
// with --nflog-size).
type NFLogPacket struct {
	Group   uint16
	Prefix  string
	Hook    stack.NFHook
	In, Out string
	Mark    uint32
	Payload []byte
}

// nflogNet is a host's NFLOG listeners.
type nflogNet struct {
	mu        sync.Mutex
	listeners map[uint16]func(NFLogPacket)
}

// BindNFLog makes fn the listener of NFLOG group g on h (nfnetlink_log's
// bind). fn runs in the packet's context and must not keep the skb (it is
// given a copy).
func BindNFLog(h *stack.Host, g uint16, fn func(NFLogPacket)) error {
	n := &netOf(h).nflog
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.listeners == nil {
		n.listeners = map[uint16]func(NFLogPacket){}
	}
	if n.listeners[g] != nil {
		return errorf(syscall.EBUSY, "nflog: group %d has a listener", g)
	}
	n.listeners[g] = fn
	return nil
}

// UnbindNFLog removes group g's listener.
func UnbindNFLog(h *stack.Host, g uint16) {
	n := &netOf(h).nflog
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.listeners, g)
}

type nflogTarget struct {
	NFLogInfo
	prefix string
	n      *nflogNet
}

// Target is nflog_tg: the packet reported to the group's listener (none:
// nothing), and it goes on.
func (t *nflogTarget) Target(p Param) Verdict {
	t.n.mu.Lock()
	fn := t.n.listeners[t.Group]
	t.n.mu.Unlock()
	if fn == nil {
		return Continue
	}
	data := p.SKB.Data()
	if t.Flags&NFLogCopyLen != 0 && int(t.Len) < len(data) {
		data = data[:t.Len]
	}
	name := func(d *stack.NetDevice) string {
		if d == nil {
			return ""
		}
		return d.Name()
	}
	fn(NFLogPacket{Group: t.Group, Prefix: t.prefix, Hook: p.State.Hook, In: name(p.State.In), Out: name(p.State.Out),
		Mark: p.SKB.Mark, Payload: bytes.Clone(data)})
	return Continue
}

func init() {
	RegisterTarget(&TargetType{Name: "NFQUEUE", Revision: 3, NewInfo: func() any { return new(NFQueueInfo) },
		Check: func(c *CheckParam, info any) (Targeter, error) {
			i := info.(*NFQueueInfo)
			if i.Flags&^nfqFlagMask != 0 {
				return nil, checkErr("x_tables: NFQUEUE: unknown flags %#x", i.Flags)
			}
			if i.QueuesTotal == 0 {
				return nil, checkErr("x_tables: NFQUEUE: number of total queues is 0")
			}
			if uint32(i.QueueNum)+uint32(i.QueuesTotal)-1 > 0xffff {
				return nil, errorf(syscall.ERANGE, "x_tables: NFQUEUE: number of queues (%d) out of range (got %d)", i.QueuesTotal, uint32(i.QueueNum)+uint32(i.QueuesTotal))
			}
			return &nfqueueTarget{NFQueueInfo: *i, q: &netOf(c.Host).queue}, nil
		}})
	RegisterTarget(&TargetType{Name: "NFLOG", NewInfo: func() any { return new(NFLogInfo) },
		Check: func(c *CheckParam, info any) (Targeter, error) {
			i := info.(*NFLogInfo)
			if i.Flags&^NFLogCopyLen != 0 {
				return nil, checkErr("x_tables: NFLOG: unknown flags %#x", i.Flags)
			}
			if i.Prefix[len(i.Prefix)-1] != 0 {
				return nil, checkErr("x_tables: NFLOG: prefix is not null-terminated")
			}
			return &nflogTarget{NFLogInfo: *i, prefix: cstr(i.Prefix[:]), n: &netOf(c.Host).nflog}, nil
		}})
}
