package driver

import (
	"syscall"
	"time"

	"vnic/ethtool"
	"vnic/hw"
)

// Driver identity for ethtool -i.
const (
	DriverName    = "vnic"
	DriverVersion = "0.1.0"
)

var _ ethtool.Ops = (*Adapter)(nil)

// DrvInfo is igb_get_drvinfo: the firmware version is the EEPROM's image
// version word, the bus info the device's name.
func (a *Adapter) DrvInfo() ethtool.DrvInfo {
	return ethtool.DrvInfo{Driver: DriverName, Version: DriverVersion, FwVersion: "0.0.0",
		BusInfo: a.fn.Name, EEDumpLen: 64 * 2}
}

// Ring limits: the device takes rings in multiples of 8 descriptors (RDLEN
// and TDLEN count 128-byte units), and the driver caps them at 4096 as igb
// does (IGB_MAX_RXD/TXD).
const (
	RingMax      = maxRing
	RingMin      = minRing
	RingMultiple = 8
)

// GetRingParam is igb_get_ringparam.
func (a *Adapter) GetRingParam() ethtool.Ring {
	a.mu.Lock()
	defer a.mu.Unlock()
	return ethtool.Ring{RxMax: RingMax, TxMax: RingMax, Rx: uint32(a.cfg.RxRing), Tx: uint32(a.cfg.TxRing)}
}

// SetRingParam is igb_set_ringparam: sizes in [8, 4096] and multiples of 8
// (EINVAL otherwise, nothing changed); a running device gets new rings
// without losing a queued packet.
func (a *Adapter) SetRingParam(r ethtool.Ring) error {
	for _, n := range []uint32{r.Rx, r.Tx} {
		if n < RingMin || n > RingMax || n%RingMultiple != 0 {
			return ethtool.Errorf("set ringparam", syscall.EINVAL, "ring size %d: want a multiple of %d in [%d, %d]", n, RingMultiple, RingMin, RingMax)
		}
	}
	a.mu.Lock()
	err := a.reconfigure(func() { a.cfg.RxRing, a.cfg.TxRing = int(r.Rx), int(r.Tx) })
	a.mu.Unlock()
	if err != nil {
		return err
	}
	// TSO needs a ring that holds the largest super-frame: re-run the fix.
	return a.netdev.UpdateFeatures()
}

// MaxITRUsecs is the longest EITR interval (INTERVAL b14:2 in µs).
const MaxITRUsecs = 8191

// GetCoalesce is igb_get_coalesce: rx-usecs is the EITR interval. The RX
// and TX queues of a pair share a vector, so there is no separate tx-usecs
// (reported 0, as igb with paired queues). Adaptive moderation arrives with
// the interrupt-moderation issue.
func (a *Adapter) GetCoalesce() ethtool.Coalesce {
	a.mu.Lock()
	defer a.mu.Unlock()
	return ethtool.Coalesce{RxUsecs: uint32(a.cfg.ITR / time.Microsecond),
		Supported: ethtool.CoalesceRxUsecs | ethtool.CoalesceTxUsecs}
}

// SetCoalesce is igb_set_coalesce: rx-usecs 0 (no throttling) to 8191 µs,
// written to every vector's EITR at once; tx-usecs must stay 0 because the
// queues are paired (EINVAL, as igb).
func (a *Adapter) SetCoalesce(c ethtool.Coalesce) error {
	if c.TxUsecs != 0 {
		return ethtool.Errorf("set coalesce", syscall.EINVAL, "tx-usecs cannot be set: RX and TX queues share vectors; set rx-usecs")
	}
	if c.RxUsecs > MaxITRUsecs {
		return ethtool.Errorf("set coalesce", syscall.EINVAL, "rx-usecs %d exceeds %d", c.RxUsecs, MaxITRUsecs)
	}
	a.mu.Lock()
	a.cfg.ITR = time.Duration(c.RxUsecs) * time.Microsecond
	if a.running {
		for v := 0; v <= a.cfg.Queues; v++ {
			a.wr32(hw.EITR(v), c.RxUsecs<<2)
		}
	}
	a.mu.Unlock()
	// LRO depends on interrupt moderation (FixFeatures).
	return a.netdev.UpdateFeatures()
}

// GetChannels is igb_get_channels: combined queue pairs plus the one
// "other" vector.
func (a *Adapter) GetChannels() ethtool.Channels {
	a.mu.Lock()
	defer a.mu.Unlock()
	return ethtool.Channels{MaxCombined: uint32(min(a.cfg.MaxQueues, a.fn.MSIX.Len()-1)), MaxOther: 1,
		Combined: uint32(a.cfg.Queues), Other: 1}
}

// GetLink is ethtool_op_get_link: the carrier.
func (a *Adapter) GetLink() bool { return a.netdev.Carrier() }
