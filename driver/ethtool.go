package driver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"vnic/driver/dim"
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
		BusInfo: a.fn.Name, NStats: uint32(len(a.GetStats())), TestInfoLen: uint32(len(testNames)), EEDumpLen: uint32(a.GetEEPROMLen()),
		RegDumpLen: uint32(regDumpLen)}
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
	next := a.plan()
	next.rxCount, next.txCount = int(r.Rx), int(r.Tx)
	err := a.reconfigure(next, func() { a.cfg.RxRing, a.cfg.TxRing = int(r.Rx), int(r.Tx) })
	a.mu.Unlock()
	if err != nil {
		return ethtoolErr("set ringparam", err)
	}
	// TSO needs a ring that holds the largest super-frame: re-run the fix.
	return a.netdev.UpdateFeatures()
}

// MaxITRUsecs is the longest EITR interval (INTERVAL b14:2 in µs).
const MaxITRUsecs = 8191

// GetCoalesce is igb_get_coalesce: rx-usecs is the EITR interval. The RX
// and TX queues of a pair share a vector, so tx-usecs is 0 and cannot be
// set (as igb with paired queues). vnic adds lib/dim: adaptive-rx and
// adaptive-tx each run an instance per vector on their queue, and
// rx-usecs and tx-usecs then read back queue 0's current profiles; the
// vector's interval is the shorter of the two (adaptiveInterval).
func (a *Adapter) GetCoalesce() ethtool.Coalesce {
	a.mu.Lock()
	defer a.mu.Unlock()
	var c ethtool.Coalesce
	c.V[ethtool.RxUsecs] = uint32(a.cfg.ITR / time.Microsecond)
	// queue0 is queue 0's current profile in table (the default before
	// the device is up).
	queue0 := func(side func(*qVector) *dim.DIM, table *[dim.NumProfiles]uint32) uint32 {
		if len(a.qv) > 0 {
			if d := side(a.qv[0]); d != nil {
				return table[d.Profile]
			}
		}
		return table[dim.DefaultProfile]
	}
	if a.adaptiveRx {
		c.V[ethtool.AdaptiveRx] = 1
		c.V[ethtool.RxUsecs] = queue0(func(qv *qVector) *dim.DIM { return qv.dim.Load() }, &dim.RxProfilesUsec)
	}
	if a.adaptiveTx {
		c.V[ethtool.AdaptiveTx] = 1
		c.V[ethtool.TxUsecs] = queue0(func(qv *qVector) *dim.DIM { return qv.txDim.Load() }, &dim.TxProfilesUsec)
	}
	c.Supported = ethtool.RxUsecs.Bit() | ethtool.TxUsecs.Bit() | ethtool.AdaptiveRx.Bit() | ethtool.AdaptiveTx.Bit()
	return c
}

// SetCoalesce is igb_set_coalesce: rx-usecs 0 (no throttling), 1
// (dynamic) or 3 (dynamic conservative: igb's own adaptive moderation,
// driver/itr.go), or a fixed 10 to 8191 µs, written to every vector's
// EITR at once; 2 and 4 to 9 are EINVAL, as igb. tx-usecs must stay 0
// because the queues are paired (EINVAL, as igb), or what adaptive-tx
// reads back. adaptive-rx and adaptive-tx turn lib/dim on for their side;
// adaptive-tx does not combine with rx-usecs 1 or 3 (one scheme per
// vector).
func (a *Adapter) SetCoalesce(c ethtool.Coalesce) error {
	cur := a.GetCoalesce()
	adaptive, adaptiveTx := c.V[ethtool.AdaptiveRx] != 0, c.V[ethtool.AdaptiveTx] != 0
	if tx := c.V[ethtool.TxUsecs]; tx != 0 && !(cur.V[ethtool.AdaptiveTx] != 0 && tx == cur.V[ethtool.TxUsecs]) {
		if adaptiveTx {
			return ethtool.AttrErrorf("set coalesce", "tx-usecs", syscall.EINVAL, "tx-usecs is chosen by adaptive-tx")
		}
		return ethtool.Errorf("set coalesce", syscall.EINVAL, "tx-usecs cannot be set: RX and TX queues share vectors; set rx-usecs")
	}
	us := c.V[ethtool.RxUsecs]
	if us > MaxITRUsecs {
		return ethtool.Errorf("set coalesce", syscall.EINVAL, "rx-usecs %d exceeds %d", us, MaxITRUsecs)
	}
	if !validITR(us) {
		return ethtool.AttrErrorf("set coalesce", "rx-usecs", syscall.EINVAL, "rx-usecs %d: want 0 (off), 1 (dynamic), 3 (dynamic conservative) or %d to %d", us, MinITRUsecs, MaxITRUsecs)
	}
	if adaptive && us != cur.V[ethtool.RxUsecs] {
		return ethtool.AttrErrorf("set coalesce", "rx-usecs", syscall.EINVAL, "rx-usecs is chosen by adaptive-rx; turn it off first")
	}
	if adaptiveTx && !adaptive && dynamicITR(us) {
		return ethtool.AttrErrorf("set coalesce", "adaptive-tx", syscall.EINVAL, "adaptive-tx with rx-usecs %d: igb's dynamic moderation and lib/dim cannot share a vector", us)
	}
	a.mu.Lock()
	if !adaptive {
		a.cfg.ITR = time.Duration(us) * time.Microsecond
	}
	a.adaptiveRx, a.adaptiveTx = adaptive, adaptiveTx
	a.itrSetting.Store(uint32(a.cfg.ITR / time.Microsecond))
	if a.running {
		dynamic := !adaptive && !adaptiveTx && dynamicITR(uint32(a.cfg.ITR/time.Microsecond))
		for v := 0; v <= a.cfg.Queues; v++ {
			itr := uint32(a.cfg.ITR/time.Microsecond) << 2
			if adaptive || adaptiveTx {
				itr = a.adaptiveInterval(dim.DefaultProfile, dim.DefaultProfile) << 2
			} else if dynamic {
				itr = itrStart
			}
			a.wr32(hw.EITR(v), itr)
		}
		if dynamic {
			for _, qv := range a.qv {
				qv.itrReset.Store(true)
			}
		}
		for _, qv := range a.qv {
			qv.rxMoved.Store(false)
			qv.txMoved.Store(false)
			if adaptive {
				qv.dim.Store(dim.New())
			} else {
				qv.dim.Store(nil)
			}
			if adaptiveTx {
				qv.txDim.Store(dim.New())
			} else {
				qv.txDim.Store(nil)
			}
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
	return ethtool.Channels{MaxCombined: uint32(a.maxQueues()), MaxOther: 1,
		Combined: uint32(a.cfg.Queues), Other: 1}
}

// maxQueues is the channel limit: the driver's cap and one MSI-X vector
// per queue pair besides "other".
func (a *Adapter) maxQueues() int { return min(a.cfg.MaxQueues, a.fn.MSIX.Len()-1) }

// SetChannels is igb_set_channels: only combined channels (separate RX or
// TX channels are EINVAL, as igb), "other" stays 1. A running device is
// reconfigured with the new queue pairs and vectors; the default RSS table
// follows the count unless the user set one.
func (a *Adapter) SetChannels(ch ethtool.Channels) error {
	if ch.Rx != 0 || ch.Tx != 0 {
		return ethtool.Errorf("set channels", syscall.EINVAL, "separate RX and TX channels are not supported; use combined")
	}
	if ch.Other != 1 {
		return ethtool.Errorf("set channels", syscall.EINVAL, "other must be 1")
	}
	n := int(ch.Combined)
	if n < 1 || n > a.maxQueues() {
		return ethtool.Errorf("set channels", syscall.EINVAL, "combined %d outside [1, %d]", n, a.maxQueues())
	}
	a.mu.Lock()
	used := a.nfcMaxQueue()
	a.mu.Unlock()
	if n <= used {
		// As the kernel's ethtool core (ethtool_get_max_rxnfc_channel).
		return ethtool.Errorf("set channels", syscall.EINVAL, "requested channel counts are too low for existing ntuple filter settings (a rule steers to queue %d)", used)
	}
	a.updateStats() // the RQDPC of queues about to go idle
	a.mu.Lock()
	next := a.plan()
	next.queues = n
	err := a.reconfigure(next, func() {
		a.cfg.Queues = n
		if !a.userIndir {
			a.defaultIndir()
		}
	})
	a.mu.Unlock()
	if err != nil {
		return ethtoolErr("set channels", err)
	}
	return a.netdev.SetRealNumQueues(n, n)
}

// ethtoolErr is a reconfiguration's failure as the ethtool core reports
// it: ENOMEM when its rings did not fit (nothing changed), EIO when the
// device could not come back up.
func ethtoolErr(op string, err error) error {
	if errors.Is(err, syscall.ENOMEM) {
		return ethtool.Errorf(op, syscall.ENOMEM, "%v", err)
	}
	return ethtool.Errorf(op, syscall.EIO, "%v", err)
}

// GetLink is ethtool_op_get_link: the carrier.
func (a *Adapter) GetLink() bool { return a.netdev.Carrier() }

// linkModes are the PHY's modes (it does not do 1000BASE-T half duplex).
var linkModes = []string{"10baseT/Half", "10baseT/Full", "100baseT/Half", "100baseT/Full", "1000baseT/Full"}

// GetLinkKsettings is igb_get_link_ksettings, from STATUS, the PHY's BMCR
// and VLSPD (the agreed rate: the model's cable may run faster than
// STATUS.SPEED can say).
func (a *Adapter) GetLinkKsettings() (ethtool.LinkSettings, error) {
	ls := ethtool.LinkSettings{Port: ethtool.PortTP, PHYAddr: 1, Transceiver: ethtool.XcvrInternal,
		Supported: linkModes, Ports: []string{"TP"}, AutonegSupported: true,
		Speed: ethtool.SpeedUnknown, Duplex: ethtool.DuplexUnknown, MDIX: ethtool.MDIXUnknown}
	bmcr, err := a.phyRead(hw.PhyBMCR)
	if err != nil {
		return ls, err
	}
	ls.Autoneg = bmcr&hw.BmcrANEnable != 0
	if ls.Autoneg {
		anar, err := a.phyRead(hw.PhyANAR)
		if err != nil {
			return ls, err
		}
		gctl, err := a.phyRead(hw.Phy1000CTL)
		if err != nil {
			return ls, err
		}
		for _, m := range []struct {
			name string
			on   bool
		}{{"10baseT/Half", anar&hw.Anar10Half != 0}, {"10baseT/Full", anar&hw.Anar10Full != 0},
			{"100baseT/Half", anar&hw.Anar100Half != 0}, {"100baseT/Full", anar&hw.Anar100Full != 0},
			{"1000baseT/Full", gctl&hw.Gctl1000Full != 0}} {
			if m.on {
				ls.Advertising = append(ls.Advertising, m.name)
			}
		}
	}
	st := a.rd32(hw.STATUS)
	if st&hw.StatusLU != 0 {
		ls.Speed = a.rd32(hw.VLSPD)
		ls.Duplex = ethtool.DuplexHalf
		if st&hw.StatusFD != 0 {
			ls.Duplex = ethtool.DuplexFull
		}
		if ls.Autoneg {
			ls.PartnerAdv = linkModes
		}
	}
	return ls, nil
}

// SetLinkKsettings is igb_set_link_ksettings: autoneg on restarts
// autonegotiation, advertising only the speed and duplex given (all modes
// without them); autoneg off forces speed (10, 100 or 1000) and duplex
// in the PHY (EINVAL for anything else; 1000 half is not a mode). The link
// drops and the two ends agree again; forced speeds that differ between the
// ends mean no link. (igb turns a forced 1000 full into autonegotiation
// advertising only 1000 full; vnic's PHY forces it.)
func (a *Adapter) SetLinkKsettings(r ethtool.LinkRequest) error {
	cur, err := a.GetLinkKsettings()
	if err != nil {
		return err
	}
	bmcr, err := a.phyRead(hw.PhyBMCR)
	if err != nil {
		return err
	}
	autoneg := cur.Autoneg
	if r.Autoneg.Set {
		autoneg = r.Autoneg.V
	}
	if autoneg {
		// With autonegotiation, a speed (and duplex) limits what is
		// advertised, as the kernel turns it into advertised modes.
		anar, gctl := uint16(hw.AnarDefault), uint16(hw.GctlDefault)
		if r.Speed.Set || r.Duplex.Set {
			half, fullOK := true, true
			if r.Duplex.Set {
				half, fullOK = r.Duplex.V == ethtool.DuplexHalf, r.Duplex.V == ethtool.DuplexFull
			}
			anar &^= hw.Anar10Half | hw.Anar10Full | hw.Anar100Half | hw.Anar100Full
			gctl &^= hw.Gctl1000Half | hw.Gctl1000Full
			speeds := []uint32{10, 100, 1000}
			if r.Speed.Set {
				speeds = []uint32{r.Speed.V}
			}
			for _, sp := range speeds {
				switch sp {
				case 10:
					anar |= pick(half, hw.Anar10Half) | pick(fullOK, hw.Anar10Full)
				case 100:
					anar |= pick(half, hw.Anar100Half) | pick(fullOK, hw.Anar100Full)
				case 1000:
					gctl |= pick(fullOK, hw.Gctl1000Full)
				default:
					return ethtool.AttrErrorf("set link ksettings", "speed", syscall.EINVAL, "unsupported speed %d", sp)
				}
			}
			if anar&(hw.Anar10Half|hw.Anar10Full|hw.Anar100Half|hw.Anar100Full) == 0 && gctl&hw.Gctl1000Full == 0 {
				return ethtool.AttrErrorf("set link ksettings", "duplex", syscall.EINVAL, "no link mode matches")
			}
		}
		if err := a.phyWrite(hw.PhyANAR, anar); err != nil {
			return err
		}
		if err := a.phyWrite(hw.Phy1000CTL, gctl); err != nil {
			return err
		}
		return a.phyWrite(hw.PhyBMCR, bmcr|hw.BmcrANEnable|hw.BmcrRestart)
	}
	speed := cur.Speed
	if r.Speed.Set {
		speed = r.Speed.V
	} else if bmcr&hw.BmcrANEnable != 0 || speed == ethtool.SpeedUnknown {
		speed = 1000
	}
	full := bmcr&hw.BmcrFD != 0
	if r.Duplex.Set {
		full = r.Duplex.V == ethtool.DuplexFull
		if r.Duplex.V != ethtool.DuplexFull && r.Duplex.V != ethtool.DuplexHalf {
			return ethtool.AttrErrorf("set link ksettings", "duplex", syscall.EINVAL, "unknown duplex")
		}
	}
	v := uint16(0)
	switch speed {
	case 10:
	case 100:
		v |= hw.BmcrSpeed100
	case 1000:
		if !full {
			return ethtool.AttrErrorf("set link ksettings", "duplex", syscall.EINVAL, "1000 Mb/s half duplex is not supported")
		}
		v |= hw.BmcrSpeed1G
	default:
		return ethtool.AttrErrorf("set link ksettings", "speed", syscall.EINVAL, "unsupported speed %d", speed)
	}
	if full {
		v |= hw.BmcrFD
	}
	v |= bmcr & hw.BmcrPowerDown // a forced speed set while down keeps the PHY down
	return a.phyWrite(hw.PhyBMCR, v)
}

func pick(ok bool, bit uint16) uint16 {
	if ok {
		return bit
	}
	return 0
}

// NwayReset is igb_nway_reset: restart autonegotiation through the PHY
// (EINVAL when autonegotiation is off).
func (a *Adapter) NwayReset() error {
	bmcr, err := a.phyRead(hw.PhyBMCR)
	if err != nil {
		return err
	}
	if bmcr&hw.BmcrANEnable == 0 {
		return ethtool.Errorf("nway reset", syscall.EINVAL, "autonegotiation is off")
	}
	return a.phyWrite(hw.PhyBMCR, bmcr|hw.BmcrRestart)
}

// phyRead reads a PHY register through MDIC.
func (a *Adapter) phyRead(reg int) (uint16, error) {
	a.wr32(hw.MDIC, uint32(reg)<<hw.MdicRegShift|1<<hw.MdicPhyShift|hw.MdicOpRead)
	v := a.rd32(hw.MDIC)
	if v&hw.MdicReady == 0 || v&hw.MdicError != 0 {
		return 0, ethtool.Errorf("mdio read", syscall.EIO, "PHY register %d: MDIC %#x", reg, v)
	}
	return uint16(v & hw.MdicDataMask), nil
}

// phyWrite writes a PHY register through MDIC.
func (a *Adapter) phyWrite(reg int, val uint16) error {
	a.wr32(hw.MDIC, uint32(val)|uint32(reg)<<hw.MdicRegShift|1<<hw.MdicPhyShift|hw.MdicOpWrite)
	v := a.rd32(hw.MDIC)
	if v&hw.MdicReady == 0 || v&hw.MdicError != 0 {
		return ethtool.Errorf("mdio write", syscall.EIO, "PHY register %d: MDIC %#x", reg, v)
	}
	return nil
}

// PermAddr is the MAC address the EEPROM holds.
func (a *Adapter) PermAddr() [6]byte { return a.mac }

// GetMsglevel and SetMsglevel are the netif_msg bits (ethtool -s msglvl).
func (a *Adapter) GetMsglevel() uint32 { a.mu.Lock(); defer a.mu.Unlock(); return a.msglevel }

// SetMsglevel stores the message level.
func (a *Adapter) SetMsglevel(v uint32) { a.mu.Lock(); a.msglevel = v; a.mu.Unlock() }

// Flow control. The driver starts with it off (igb starts with full flow
// control) so that benchmarks measure the data path; ethtool -A turns it
// on. Pause autonegotiation is not modelled: the settings apply as given.
const (
	fcPauseTime = 0x0680 // IGB_FC_PAUSE_TIME: quanta in XOFF frames
)

// GetPauseParam is igb_get_pauseparam: CTRL.RFCE and CTRL.TFCE, with the
// pause frame counters.
func (a *Adapter) GetPauseParam() (ethtool.Pause, error) {
	hs := a.HWStats()
	ctrl := a.rd32(hw.CTRL)
	return ethtool.Pause{Rx: ctrl&hw.CtrlRFCE != 0, Tx: ctrl&hw.CtrlTFCE != 0,
		RxPauseFrames: hs.XONRXC + hs.XOFFRXC, TxPauseFrames: hs.XONTXC + hs.XOFFTXC}, nil
}

// SetPauseParam is igb_set_pauseparam: rx honours received PAUSE frames,
// tx sends XOFF when an RX ring has less than half its descriptors free and
// XON when three quarters are free again. (The half is headroom: the other
// end's 24 KiB TX FIFO is already on its way when it pauses — about 290
// minimum-size frames.)
func (a *Adapter) SetPauseParam(p ethtool.Pause) error {
	if p.Autoneg {
		return ethtool.AttrErrorf("set pauseparam", "autoneg", syscall.EOPNOTSUPP, "pause autonegotiation is not supported; set rx and tx")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fcRx, a.fcTx = p.Rx, p.Tx
	a.programFC()
	return nil
}

// programFC writes the flow-control settings and thresholds.
func (a *Adapter) programFC() {
	ring := uint32(a.cfg.RxRing)
	a.wr32(hw.FCTTV, fcPauseTime)
	a.wr32(hw.FCRTH, ring/2)
	a.wr32(hw.FCRTL, ring*3/4|hw.FcrtlXONE)
	ctrl := a.rd32(hw.CTRL) &^ (hw.CtrlRFCE | hw.CtrlTFCE)
	if a.fcRx {
		ctrl |= hw.CtrlRFCE
	}
	if a.fcTx {
		ctrl |= hw.CtrlTFCE
	}
	a.wr32(hw.CTRL, ctrl)
}

// EEPROM: 64 words, read through EERD and written through EEWR.
const eepromBytes = 64 * 2

// EEPROMMagic is what ethtool -E must pass: vendor ID | device ID << 16,
// as igb checks.
const EEPROMMagic = uint32(hw.VendorID) | uint32(hw.DeviceID)<<16

// GetEEPROMLen is igb_get_eeprom_len.
func (a *Adapter) GetEEPROMLen() int { return eepromBytes }

// GetEEPROM is igb_get_eeprom: whole words through EERD, trimmed to the
// byte range.
func (a *Adapter) GetEEPROM(off, n uint32) ([]byte, error) {
	out := make([]byte, 0, n+2)
	for w := off / 2; w <= (off+n-1)/2 && n > 0; w++ {
		v, err := a.nvmRead(w)
		if err != nil {
			return nil, err
		}
		out = binary.LittleEndian.AppendUint16(out, v)
	}
	s := off % 2
	return out[s : s+n], nil
}

// SetEEPROM is igb_set_eeprom: the magic must match (EINVAL), partial
// words are read-modify-written, and the checksum word is updated so the
// image stays valid.
func (a *Adapter) SetEEPROM(magic, off uint32, data []byte) error {
	if magic != EEPROMMagic {
		return ethtool.Errorf("set eeprom", syscall.EINVAL, "bad magic %#x", magic)
	}
	first, last := off/2, (off+uint32(len(data))-1)/2
	buf, err := a.GetEEPROM(first*2, (last-first+1)*2)
	if err != nil {
		return err
	}
	copy(buf[off-first*2:], data)
	for i := first; i <= last; i++ {
		if i == hw.EEPROMChecksumWord {
			continue // recomputed below
		}
		if err := a.nvmWrite(i, binary.LittleEndian.Uint16(buf[(i-first)*2:])); err != nil {
			return err
		}
	}
	var sum uint16
	for i := uint32(0); i < hw.EEPROMChecksumWord; i++ {
		v, err := a.nvmRead(i)
		if err != nil {
			return err
		}
		sum += v
	}
	return a.nvmWrite(hw.EEPROMChecksumWord, hw.EEPROMChecksumSum-sum)
}

func (a *Adapter) nvmRead(word uint32) (uint16, error) {
	a.wr32(hw.EERD, word<<hw.EerdAddrShift|hw.EerdStart)
	v := a.rd32(hw.EERD)
	if v&hw.EerdDone == 0 {
		return 0, ethtool.Errorf("eeprom", syscall.EIO, "EERD read of word %d did not complete", word)
	}
	return uint16(v >> hw.EerdDataShift), nil
}

func (a *Adapter) nvmWrite(word uint32, val uint16) error {
	a.wr32(hw.EEWR, uint32(val)<<hw.EerdDataShift|word<<hw.EerdAddrShift|hw.EerdStart)
	if a.rd32(hw.EEWR)&hw.EerdDone == 0 {
		return ethtool.Errorf("eeprom", syscall.EIO, "EEWR write of word %d did not complete", word)
	}
	return nil
}

// Register dump: every implemented register instance, in hw.Registers
// order, 4 bytes each, little-endian. RegsVersion names this layout.
const RegsVersion = 1

var regDumpLen = func() int {
	n := 0
	for _, r := range hw.Registers() {
		n += 4 * r.Count
	}
	return n
}()

// GetRegs is igb_get_regs. Reading clear-on-read statistics registers
// would lose counts, so those are read through the accumulated totals'
// update first and dump as 0 (the driver owns their values).
func (a *Adapter) GetRegs() (ethtool.Regs, error) {
	a.updateStats()
	out := make([]byte, 0, regDumpLen)
	for _, r := range hw.Registers() {
		for k := 0; k < r.Count; k++ {
			off := r.Offset + uint32(k)*r.Stride
			var v uint32
			if !hw.ReadHasSideEffects(off) {
				v = a.rd32(off)
			}
			out = binary.LittleEndian.AppendUint32(out, v)
		}
	}
	return ethtool.Regs{Version: RegsVersion, Data: out}, nil
}

// RSS.

// defaultIndir is ethtool_rxfh_indir_default over the current queues.
func (a *Adapter) defaultIndir() {
	for i := range a.indir {
		a.indir[i] = uint8(i % a.cfg.Queues)
	}
}

// GetRxfh is igb_get_rxfh: the key, the table and Toeplitz.
func (a *Adapter) GetRxfh() (ethtool.RSS, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := ethtool.RSS{Key: append([]byte(nil), a.rssKey[:]...), Indir: make([]uint32, hw.RetaSize),
		HFunc: ethtool.HashToeplitz, RxRings: uint32(a.cfg.Queues)}
	for i, q := range a.indir {
		r.Indir[i] = uint32(q)
	}
	r.UserSet = a.userIndir
	return r, nil
}

// UserIndir reports whether the RSS table was set by the user.
func (a *Adapter) UserIndir() bool { a.mu.Lock(); defer a.mu.Unlock(); return a.userIndir }

// SetRxfh is igb_set_rxfh: a nil table restores the default; the key and
// table are written to RSSRK and RETA at once on a running device.
func (a *Adapter) SetRxfh(r ethtool.RSS) error {
	if r.HFunc != ethtool.HashToeplitz {
		return ethtool.Errorf("set rxfh", syscall.EOPNOTSUPP, "only toeplitz hashing")
	}
	if len(r.Key) != hw.RSSKeySize {
		return ethtool.Errorf("set rxfh", syscall.EINVAL, "key of %d bytes, want %d", len(r.Key), hw.RSSKeySize)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.Indir != nil {
		if len(r.Indir) != hw.RetaSize {
			return ethtool.Errorf("set rxfh", syscall.EINVAL, "table of %d entries, want %d", len(r.Indir), hw.RetaSize)
		}
		for _, q := range r.Indir {
			if int(q) >= a.cfg.Queues {
				return ethtool.Errorf("set rxfh", syscall.EINVAL, "entry %d past the %d RX queues", q, a.cfg.Queues)
			}
		}
		for i, q := range r.Indir {
			a.indir[i] = uint8(q)
		}
		a.userIndir = true
	} else {
		a.defaultIndir()
		a.userIndir = false
	}
	copy(a.rssKey[:], r.Key)
	if a.running {
		a.configureRSS()
	}
	return nil
}

// Receive flow hashing (igb_get_rss_hash_opts / igb_set_rss_hash_opt):
// IPv4 and TCP/IPv4 always hash addresses (and ports for TCP); UDP/IPv4
// ports are optional (MRQC's UDP bit).
const (
	hashIP = ethtool.RxhIPSrc | ethtool.RxhIPDst
	hashL4 = ethtool.RxhL4B01 | ethtool.RxhL4B23
)

// GetRxFlowHash returns the fields MRQC hashes for a flow type.
func (a *Adapter) GetRxFlowHash(ft ethtool.FlowType) (uint64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch ft {
	case ethtool.TCPv4Flow:
		return hashIP | hashL4, nil
	case ethtool.UDPv4Flow:
		if a.rssUDP {
			return hashIP | hashL4, nil
		}
		return hashIP, nil
	case ethtool.IPv4Flow:
		return hashIP, nil
	}
	return 0, ethtool.Errorf("get rx flow hash", syscall.EINVAL, "flow type %#x is not hashed by the device", uint32(ft))
}

// SetRxFlowHash changes what MRQC hashes: TCP/IPv4 and IPv4 are fixed
// (EINVAL for anything else), UDP/IPv4 takes addresses with or without
// ports.
func (a *Adapter) SetRxFlowHash(ft ethtool.FlowType, fields uint64) error {
	cur, err := a.GetRxFlowHash(ft)
	if err != nil {
		return err
	}
	if fields == cur {
		return nil
	}
	if ft != ethtool.UDPv4Flow || (fields != hashIP && fields != hashIP|hashL4) {
		return ethtool.Errorf("set rx flow hash", syscall.EINVAL, "the device cannot hash fields %#x for flow type %#x", fields, uint32(ft))
	}
	a.mu.Lock()
	a.rssUDP = fields == hashIP|hashL4
	if a.running {
		a.wr32(hw.MRQC, a.mrqc())
	}
	a.mu.Unlock()
	return nil
}

// Statistics (ethtool -S): global counters, then per queue pair. The
// per-queue list covers every queue the device has used, so totals (sums
// over it) never decrease when channels shrink.
func (a *Adapter) GetStats() []ethtool.Stat {
	hs := a.HWStats()
	nd := a.netdev
	a.mu.Lock()
	nq := max(a.cfg.Queues, a.usedQueues)
	a.mu.Unlock()
	type qs struct{ rxp, rxb, rxd, txp, txb, csum, lro, restart, rqdpc uint64 }
	per := make([]qs, nq)
	var tot qs
	for q := 0; q < nq; q++ {
		s := &per[q]
		s.rxp, s.rxb, s.rxd = nd.RxQueueStats(q).Snapshot()
		s.txp, s.txb, _ = nd.TxQueue(q).Stats.Snapshot()
		s.csum, s.lro, s.restart = a.qtot[q].csumErr.Load(), a.qtot[q].lro.Load(), a.qtot[q].restarts.Load()
		s.rqdpc = hs.RQDPC[q]
		tot.rxp += s.rxp
		tot.rxb += s.rxb
		tot.rxd += s.rxd
		tot.txp += s.txp
		tot.txb += s.txb
		tot.csum += s.csum
		tot.lro += s.lro
		tot.restart += s.restart
		tot.rqdpc += s.rqdpc
	}
	out := []ethtool.Stat{
		{Name: "rx_packets", Value: tot.rxp}, {Name: "tx_packets", Value: tot.txp}, {Name: "rx_bytes", Value: tot.rxb}, {Name: "tx_bytes", Value: tot.txb},
		{Name: "rx_broadcast", Value: hs.BPRC}, {Name: "tx_broadcast", Value: hs.BPTC}, {Name: "rx_multicast", Value: hs.MPRC}, {Name: "tx_multicast", Value: hs.MPTC},
		{Name: "rx_hw_packets", Value: hs.GPRC}, {Name: "tx_hw_packets", Value: hs.GPTC}, {Name: "rx_hw_bytes", Value: hs.GORC}, {Name: "tx_hw_bytes", Value: hs.GOTC},
		{Name: "rx_total_packets", Value: hs.TPR}, {Name: "tx_total_packets", Value: hs.TPT},
		{Name: "rx_crc_errors", Value: hs.CRCErrs}, {Name: "rx_length_errors", Value: hs.RLEC}, {Name: "rx_short_length_errors", Value: hs.RUC},
		{Name: "rx_long_length_errors", Value: hs.ROC}, {Name: "rx_no_buffer_count", Value: hs.RNBC}, {Name: "rx_missed_errors", Value: hs.MPC},
		{Name: "rx_queue_drop_packet_count", Value: tot.rqdpc}, {Name: "rx_drops", Value: tot.rxd}, {Name: "rx_csum_offload_errors", Value: tot.csum},
		{Name: "rx_lro_frames", Value: tot.lro}, {Name: "tx_restart_queue", Value: tot.restart}, {Name: "tx_timeout_count", Value: a.txTimeouts.Load()},
		{Name: "tx_dropped", Value: a.txDropped.Load()}, {Name: "tx_dma_faults", Value: hs.DMAFaults}, {Name: "rx_filtered", Value: hs.RxFiltered},
		{Name: "rx_disabled", Value: hs.RxDisabled}, {Name: "interrupts_other", Value: a.otherIRQs.Load()}, {Name: "link_changes", Value: a.lscEvents.Load()},
		{Name: "tx_no_link_drops", Value: hs.TxNoLink},
	}
	out = append(out, a.nfcStats()...)
	for q, s := range per {
		out = append(out,
			ethtool.Stat{Name: fmt.Sprintf("tx_queue_%d_packets", q), Value: s.txp},
			ethtool.Stat{Name: fmt.Sprintf("tx_queue_%d_bytes", q), Value: s.txb},
			ethtool.Stat{Name: fmt.Sprintf("tx_queue_%d_restart", q), Value: s.restart})
	}
	for q, s := range per {
		out = append(out,
			ethtool.Stat{Name: fmt.Sprintf("rx_queue_%d_packets", q), Value: s.rxp},
			ethtool.Stat{Name: fmt.Sprintf("rx_queue_%d_bytes", q), Value: s.rxb},
			ethtool.Stat{Name: fmt.Sprintf("rx_queue_%d_drops", q), Value: s.rxd},
			ethtool.Stat{Name: fmt.Sprintf("rx_queue_%d_csum_err", q), Value: s.csum},
			ethtool.Stat{Name: fmt.Sprintf("rx_queue_%d_lro_frames", q), Value: s.lro},
			ethtool.Stat{Name: fmt.Sprintf("rx_queue_%d_missed", q), Value: s.rqdpc})
	}
	return out
}

// FormatRegs decodes a register dump of this driver for ethtool -d: one
// line per register instance, offset, name (with its index in an array)
// and value. ok is false for a dump it does not know.
func FormatRegs(driverName string, r ethtool.Regs) (string, bool) {
	if driverName != DriverName || r.Version != RegsVersion || len(r.Data) != regDumpLen {
		return "", false
	}
	var b strings.Builder
	i := 0
	for _, reg := range hw.Registers() {
		for k := 0; k < reg.Count; k++ {
			name := reg.Name
			if reg.Count > 1 {
				name = fmt.Sprintf("%s[%d]", reg.Name, k)
			}
			fmt.Fprintf(&b, "0x%05X: %-14s 0x%08X\n", reg.Offset+uint32(k)*reg.Stride, name, binary.LittleEndian.Uint32(r.Data[i:]))
			i += 4
		}
	}
	return b.String(), true
}
