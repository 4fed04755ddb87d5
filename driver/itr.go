package driver

import (
	"time"

	"vnic/hw"
)

// igb's own adaptive interrupt moderation, chosen by rx-usecs as igb's
// ethtool does: 1 is dynamic, 3 dynamic conservative (never the lowest
// latency class); 0 is no throttling and 10 µs up a fixed interval.
// (lib/dim is the other adaptive scheme, through adaptive-rx.)
//
// At each NAPI completion, before the vector is unmasked, the driver
// looks at the packets and bytes the vector moved since the last look:
// with one queue vector it walks igb_set_itr's three latency classes
// (lowest 70,000/s, low 20,000/s, bulk 4,000/s); with several,
// igb_update_ring_itr sets the interval from the average frame size. The
// new value is written to EITR at the start of the next interrupt, as igb
// does (a write resets the device's interval timer).
const (
	ITRDynamic      = 1 // rx-usecs 1
	ITRConservative = 3 // rx-usecs 3
	// MinITRUsecs is the shortest fixed interval (IGB_MIN_ITR_USECS):
	// 2 and 4 to 9 µs are refused.
	MinITRUsecs = 10
)

// EITR values (interval in 0.25 µs units, as written) of igb.
const (
	itr70K   = 56  // 14 µs
	itr20K   = 196 // 49 µs
	itr4K    = 980 // 245 µs
	itrStart = 648 // IGB_START_ITR, 162 µs
)

// latencyClass is igb's latency_range.
type latencyClass uint8

const (
	lowestLatency latencyClass = iota
	lowLatency
	bulkLatency
)

// itrState is a vector's dynamic moderation state.
type itrState struct {
	val            uint32       // EITR value in force or to be written
	pending        bool         // val is written at the next interrupt
	rx, tx         latencyClass // igb_ring_container.itr
	rxPkts, rxByte uint64       // RX totals at the last look
	txPkts, txByte uint64       // TX totals at the last look
}

// ValidITRUsecs reports whether rx-usecs us is a setting igb takes: 0, 1,
// 3, or MinITRUsecs up to MaxITRUsecs.
func ValidITRUsecs(us int) bool { return us >= 0 && us <= MaxITRUsecs && validITR(uint32(us)) }

// validITR is ValidITRUsecs of a register-width value.
func validITR(us uint32) bool {
	return us == 0 || us == ITRDynamic || us == ITRConservative || (us >= MinITRUsecs && us <= MaxITRUsecs)
}

// dynamicITR reports whether rx-usecs us is one of the dynamic settings.
func dynamicITR(us uint32) bool { return us == ITRDynamic || us == ITRConservative }

// resetITR starts a vector's dynamic moderation over (igb_alloc_q_vector:
// IGB_START_ITR, lowest latency).
func (qv *qVector) resetITR() {
	rp, rb, _ := qv.a.netdev.RxQueueStats(qv.rx.q).Snapshot()
	qv.itr = itrState{val: itrStart, rxPkts: rp, rxByte: rb,
		txPkts: qv.tx.tot.txPackets.Load(), txByte: qv.tx.tot.txBytes.Load()}
}

// nextClass is igb_update_itr: the latency class after an interval that
// moved packets frames of bytes bytes in all.
func nextClass(c latencyClass, packets, bytes uint64) latencyClass {
	if packets == 0 {
		return c
	}
	avg := bytes / packets
	switch c {
	case lowestLatency:
		if avg > 8000 { // TSO and jumbo frames
			return bulkLatency
		}
		if packets < 5 && bytes > 512 {
			return lowLatency
		}
	case lowLatency:
		if bytes > 10000 {
			if avg > 8000 || packets < 10 || avg > 1200 {
				return bulkLatency
			}
			if packets > 35 {
				return lowestLatency
			}
		} else if avg > 2000 {
			return bulkLatency
		} else if packets <= 2 && bytes < 512 {
			return lowestLatency
		}
	case bulkLatency:
		if bytes > 25000 {
			if packets > 35 {
				return lowLatency
			}
		} else if bytes < 1500 {
			return lowLatency
		}
	}
	return c
}

// classITR is the EITR value of a class.
func classITR(c latencyClass) uint32 {
	switch c {
	case lowestLatency:
		return itr70K
	case lowLatency:
		return itr20K
	}
	return itr4K
}

// sizeITR is igb_update_ring_itr's interval for an average frame of avg
// bytes (without FCS): add 24 bytes of CRC, preamble and gap, cap at
// 3000, and take a third of it for mid-size frames, half otherwise.
func sizeITR(avg uint64) uint32 {
	w := min(avg+24, 3000)
	if w > 300 && w < 1200 {
		return uint32(w / 3)
	}
	return uint32(w / 2)
}

// updateITR runs at a NAPI completion while rx-usecs is 1 or 3. Links
// under 1 Gb/s get a fixed 4,000/s (igb: any speed but 1000, which is the
// fastest an 82576 runs; this model's faster cables count as gigabit).
func (qv *qVector) updateITR(setting uint32, single bool) {
	if qv.itrReset.Swap(false) {
		qv.resetITR()
	}
	st := &qv.itr
	a := qv.a
	rp, rb, _ := a.netdev.RxQueueStats(qv.rx.q).Snapshot()
	tp, tb := qv.tx.tot.txPackets.Load(), qv.tx.tot.txBytes.Load()
	dRxP, dRxB := rp-st.rxPkts, rb-st.rxByte
	dTxP, dTxB := tp-st.txPkts, tb-st.txByte
	st.rxPkts, st.rxByte, st.txPkts, st.txByte = rp, rb, tp, tb

	var val uint32
	switch {
	case a.rd32(hw.STATUS)&hw.StatusLU != 0 && a.rd32(hw.VLSPD) < 1000:
		st.rx, st.tx = lowestLatency, lowestLatency
		val = itr4K
	case single:
		st.rx = nextClass(st.rx, dRxP, dRxB)
		st.tx = nextClass(st.tx, dTxP, dTxB)
		c := max(st.rx, st.tx)
		if c == lowestLatency && setting == ITRConservative {
			c = lowLatency
		}
		val = classITR(c)
		// igb_set_itr "biases toward bulk" when the interval shrinks with
		// max(new·old / (new + old/4), new): the max makes it new, so
		// the new value applies at once either way. (e1000 smooths on
		// rates instead; igb's formula does not.)
	default:
		var avg uint64
		if dRxP > 0 {
			avg = dRxB / dRxP
		}
		if dTxP > 0 {
			avg = max(avg, dTxB/dTxP)
		}
		if avg == 0 {
			return // nothing moved: keep the interval
		}
		val = sizeITR(avg)
		if val < itr20K && setting == ITRConservative {
			val = itr20K
		}
	}
	if val != st.val {
		st.val, st.pending = val, true
	}
}

// writeITR is igb_write_itr, at the start of an interrupt.
func (qv *qVector) writeITR() {
	if qv.itr.pending {
		qv.a.wr32(hw.EITR(qv.vec), qv.itr.val&hw.EitrIntervalMask)
		qv.itr.pending = false
	}
}

// Interval returns queue pair q's interrupt interval as its EITR
// register holds it now (0 for no throttling, or when q is not there).
func (a *Adapter) Interval(q int) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.running || q < 0 || q >= len(a.qv) {
		return 0
	}
	v := a.rd32(hw.EITR(a.qv[q].vec)) & hw.EitrIntervalMask
	return time.Duration(v) * time.Microsecond / 4
}
