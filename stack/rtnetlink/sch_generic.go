package rtnetlink

import (
	"encoding/binary"

	"vnic/stack"
)

// What a device's qdiscs look like in a dump (tc_fill_qdisc): its grafted
// root, or its default queueing as sch_generic.c attaches it.

// prio2band is pfifo_fast's priority map (sch_default_prio2band), which
// pfifo_fast_dump reports with its three bands as struct tc_prio_qopt.
var prio2band = [16]uint8{1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1}

func prioQopt() []byte {
	b := binary.NativeEndian.AppendUint32(nil, 3)
	return append(b, prio2band[:]...)
}

// qdiscMsgs are d's qdiscs in the order tc_dump_qdisc lists them: the
// root, then (for mq) its pfifo_fast children, the last queue's first as
// the qdisc hash holds them. A device that is down and has no root shows
// none (noop is built in and not dumped).
func qdiscMsgs(d *stack.NetDevice) []QdiscMsg {
	if q := d.Qdisc(); q != nil {
		return []QdiscMsg{rootMsg(d, q)}
	}
	zero := uint8(0)
	base := QdiscMsg{Ifindex: int32(d.Ifindex()), Parent: stack.TCHRoot, Info: 2, HWOffload: &zero}
	switch d.DefaultQdiscKind() {
	case "noop":
		return nil
	case "noqueue":
		m := base
		m.Kind, m.Stats = "noqueue", &QdiscStats{HasBasic: true, HasQueue: true}
		return []QdiscMsg{m}
	case "pfifo_fast":
		m := base
		m.Kind, m.Options, m.Stats = "pfifo_fast", prioQopt(), tcStats(d.TxQueue(0).PfifoStats())
		return []QdiscMsg{m}
	}
	tx, _ := d.RealNumQueues()
	var sum stack.QdiscStats
	var kids []QdiscMsg
	for i := tx - 1; i >= 0; i-- {
		s := d.TxQueue(i).PfifoStats()
		sum.Bytes += s.Bytes
		sum.Packets += s.Packets
		sum.Drops += s.Drops
		sum.Requeues += s.Requeues
		sum.Backlog += s.Backlog
		sum.Qlen += s.Qlen
		kids = append(kids, QdiscMsg{Ifindex: base.Ifindex, Parent: uint32(i + 1), Info: 1, Kind: "pfifo_fast",
			Options: prioQopt(), HWOffload: &zero, Stats: tcStats(s)})
	}
	mq := base
	mq.Kind, mq.Info, mq.Stats = "mq", 1, tcStats(sum)
	return append([]QdiscMsg{mq}, kids...)
}

// rootMsg is tc_fill_qdisc for a grafted root.
func rootMsg(d *stack.NetDevice, q *stack.Qdisc) QdiscMsg {
	zero := uint8(0)
	m := QdiscMsg{Ifindex: int32(d.Ifindex()), Handle: q.Handle(), Parent: stack.TCHRoot, Info: uint32(q.Refcnt()),
		Kind: q.Kind(), HWOffload: &zero, Stats: tcStats(q.Stats())}
	if cfg, ok := q.Netem(); ok {
		o := netemDump(cfg)
		m.Options = o.MarshalDump()
	}
	return m
}

// tcStats is a qdisc's counters as gnet_stats carries them (32-bit queue
// counters).
func tcStats(s stack.QdiscStats) *QdiscStats {
	return &QdiscStats{Bytes: s.Bytes, Packets: s.Packets, Qlen: uint32(s.Qlen), Backlog: uint32(s.Backlog),
		Drops: uint32(s.Drops), Requeues: uint32(s.Requeues), Overlimits: uint32(s.Overlimits), HasBasic: true, HasQueue: true}
}
