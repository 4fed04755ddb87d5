package driver

import (
	"fmt"

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
	next := a.plan()
	next.rxBuf = rxBufSize(mtu)
	err := a.reconfigure(next, func() {
		a.netdev.SetMTUInit(mtu)
		a.setBufSizes(mtu)
	})
	if err != nil {
		return fmt.Errorf("driver: %s: mtu %d: %w", a.netdev.Name(), mtu, err)
	}
	return nil
}

// updateStats is igb_update_stats: read every clear-on-read register once
// and add it to the running totals.
func (a *Adapter) updateStats() {
	a.statsMu.Lock()
	defer a.statsMu.Unlock()
	s := &a.hwStats
	for _, c := range []struct {
		reg uint32
		acc *uint64
	}{
		{hw.CRCERRS, &s.CRCErrs}, {hw.MPC, &s.MPC}, {hw.RLEC, &s.RLEC}, {hw.GPRC, &s.GPRC},
		{hw.BPRC, &s.BPRC}, {hw.MPRC, &s.MPRC}, {hw.GPTC, &s.GPTC}, {hw.RNBC, &s.RNBC},
		{hw.RUC, &s.RUC}, {hw.ROC, &s.ROC}, {hw.TPR, &s.TPR}, {hw.TPT, &s.TPT},
		{hw.MPTC, &s.MPTC}, {hw.BPTC, &s.BPTC}, {hw.IAC, &s.IAC}, {hw.ICRXOC, &s.ICRXOC},
		{hw.TSCTC, &s.TSCTC}, {hw.XONRXC, &s.XONRXC}, {hw.XONTXC, &s.XONTXC}, {hw.XOFFRXC, &s.XOFFRXC},
		{hw.XOFFTXC, &s.XOFFTXC},
	} {
		*c.acc += uint64(a.rd32(c.reg))
	}
	// 64-bit pairs: low first; reading the high half clears both.
	for _, c := range []struct {
		lo, hi uint32
		acc    *uint64
	}{{hw.GORCL, hw.GORCH, &s.GORC}, {hw.GOTCL, hw.GOTCH, &s.GOTC}, {hw.TORL, hw.TORH, &s.TOR}, {hw.TOTL, hw.TOTH, &s.TOT}} {
		lo := uint64(a.rd32(c.lo))
		*c.acc += lo | uint64(a.rd32(c.hi))<<32
	}
	for i := 0; i < 6; i++ {
		s.PRC[i] += uint64(a.rd32(hw.PRC64 + 4*uint32(i)))
		s.PTC[i] += uint64(a.rd32(hw.PTC64 + 4*uint32(i)))
	}
	for q := 0; q < a.cfg.Queues; q++ {
		s.RQDPC[q] += uint64(a.rd32(hw.RQDPC(q)))
	}
	// vnic diagnostics are running counters.
	s.RxFiltered = uint64(a.rd32(hw.VRXFLT))
	s.RxDisabled = uint64(a.rd32(hw.VRXDIS))
	s.DMAFaults = uint64(a.rd32(hw.VDMAF))
	s.TxNoLink = uint64(a.rd32(hw.VTXNL))
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
