package driver

import (
	"vnic/hw"
	"vnic/stack"
)

// rxModeBits returns RCTL's UPE/MPE for the device's flags and list.
func (a *Adapter) rxModeBits() uint32 {
	f := a.netdev.Flags()
	switch {
	case f&stack.IFFPromisc != 0:
		return hw.RctlUPE | hw.RctlMPE
	case f&stack.IFFAllMulti != 0 || len(a.netdev.McList()) > mcListMax:
		return hw.RctlMPE
	}
	return 0
}

// SetRxMode is igb_set_rx_mode (ndo_set_rx_mode): promiscuity → UPE|MPE,
// allmulti or an overflowing list → MPE, otherwise the list hashed into the
// MTA (with RCTL.MO = 0).
func (a *Adapter) SetRxMode() {
	a.mu.Lock()
	defer a.mu.Unlock()
	var mta [128]uint32
	for _, m := range a.netdev.McList() {
		h := hw.MTAHash(m[:], 0)
		mta[h>>5] |= 1 << (h & 31)
	}
	for i, v := range mta {
		a.wr32(hw.MTA0+4*uint32(i), v)
	}
	rctl := a.rd32(hw.RCTL) &^ (hw.RctlUPE | hw.RctlMPE | 3<<hw.RctlMOShift)
	a.wr32(hw.RCTL, rctl|a.rxModeBits())
}

// setMACHW writes receive address 0 with AV.
func (a *Adapter) setMACHW(m stack.MAC) {
	a.wr32(hw.RAH(0), 0) // clear AV while RAL changes
	a.wr32(hw.RAL(0), uint32(m[0])|uint32(m[1])<<8|uint32(m[2])<<16|uint32(m[3])<<24)
	a.wr32(hw.RAH(0), uint32(m[4])|uint32(m[5])<<8|hw.RahAV)
}

// SetMACAddress is igb_set_mac (ndo_set_mac_address); the stack has
// checked that m is a unicast address.
func (a *Adapter) SetMACAddress(m stack.MAC) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.setMACHW(m)
	return nil
}

// ChangeMTU is igb_change_mtu (ndo_change_mtu): the stack has checked the
// range. A running device goes down and up again with buffers sized for the
// new MTU, LPE and RLPML following.
func (a *Adapter) ChangeMTU(mtu int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	wasUp := a.running
	if wasUp {
		a.down()
	}
	a.netdev.SetMTUInit(mtu)
	a.setBufSizes(mtu)
	if wasUp {
		if err := a.up(); err != nil {
			return err
		}
		for _, r := range a.tx {
			r.txq.Wake()
		}
	}
	return nil
}

// updateStats is igb_update_stats: read every clear-on-read register once
// and add it to the running totals.
func (a *Adapter) updateStats() {
	a.statsMu.Lock()
	defer a.statsMu.Unlock()
	s := &a.hwStats
	r := a.rd32
	pair := func(lo, hi uint32) uint64 {
		l := uint64(r(lo))
		return l | uint64(r(hi))<<32 // reading the high half clears both
	}
	s.CRCErrs += uint64(r(hw.CRCERRS))
	s.MPC += uint64(r(hw.MPC))
	s.RLEC += uint64(r(hw.RLEC))
	s.GPRC += uint64(r(hw.GPRC))
	s.BPRC += uint64(r(hw.BPRC))
	s.MPRC += uint64(r(hw.MPRC))
	s.GPTC += uint64(r(hw.GPTC))
	s.GORC += pair(hw.GORCL, hw.GORCH)
	s.GOTC += pair(hw.GOTCL, hw.GOTCH)
	s.TOR += pair(hw.TORL, hw.TORH)
	s.TOT += pair(hw.TOTL, hw.TOTH)
	s.RNBC += uint64(r(hw.RNBC))
	s.RUC += uint64(r(hw.RUC))
	s.ROC += uint64(r(hw.ROC))
	s.TPR += uint64(r(hw.TPR))
	s.TPT += uint64(r(hw.TPT))
	s.MPTC += uint64(r(hw.MPTC))
	s.BPTC += uint64(r(hw.BPTC))
	s.IAC += uint64(r(hw.IAC))
	s.ICRXOC += uint64(r(hw.ICRXOC))
	s.TSCTC += uint64(r(hw.TSCTC))
	for i := 0; i < 6; i++ {
		s.PRC[i] += uint64(r(hw.PRC64 + 4*uint32(i)))
		s.PTC[i] += uint64(r(hw.PTC64 + 4*uint32(i)))
	}
	for q := 0; q < a.cfg.Queues; q++ {
		s.RQDPC[q] += uint64(r(hw.RQDPC(q)))
	}
	s.RxFiltered = uint64(r(hw.VRXFLT))
	s.RxDisabled = uint64(r(hw.VRXDIS))
	s.DMAFaults = uint64(r(hw.VDMAF))
}

// HWStats returns the accumulated hardware counters, read fresh.
func (a *Adapter) HWStats() HWStats {
	a.updateStats()
	a.statsMu.Lock()
	defer a.statsMu.Unlock()
	return a.hwStats
}

// GetStats64 is igb_get_stats64: packets and bytes from the rings (via the
// netdev's per-queue stats), errors and drops from the hardware registers.
func (a *Adapter) GetStats64(st *stack.LinkStats64) {
	hs := a.HWStats()
	nd := a.netdev
	for q := 0; q < nd.NumRxQueues(); q++ {
		p, b, d := nd.RxQueueStats(q).Snapshot()
		st.RxPackets += p
		st.RxBytes += b
		st.RxDropped += d
	}
	for q := 0; q < nd.NumTxQueues(); q++ {
		p, b, _ := nd.TxQueue(q).Stats.Snapshot()
		st.TxPackets += p
		st.TxBytes += b
	}
	st.Multicast = hs.MPRC
	st.RxCRCErrors = hs.CRCErrs
	st.RxLengthErrors = hs.RUC + hs.ROC
	st.RxMissedErrors = hs.MPC
	for _, v := range hs.RQDPC {
		st.RxFIFOErrors += v
	}
	st.RxErrors = st.RxCRCErrors + st.RxLengthErrors
	st.TxDropped = a.txDropped.Load()
}
