package driver

import (
	"bytes"
	"syscall"

	"vnic/ethtool"
	"vnic/header"
	"vnic/hw"
	"vnic/ring"
)

// The self-test (igb_diag_test): offline, the device is taken down, its
// registers, EEPROM, interrupt path and PHY loopback are tested, and it is
// reset and brought back up (queued packets kept); online, only the link.
// A test's value is 0 when it passed.
var testNames = []string{
	"Register test  (offline)",
	"Eeprom test    (offline)",
	"Interrupt test (offline)",
	"Loopback test  (offline)",
	"Link test   (on/offline)",
}

// SelfTest runs the tests (ethtool -t).
func (a *Adapter) SelfTest(offline bool) ([]ethtool.TestResult, error) {
	res := make([]ethtool.TestResult, len(testNames))
	for i, n := range testNames {
		res[i].Name = n
	}
	res[4].Value = a.linkTest()
	if !offline {
		return res, nil
	}
	a.mu.Lock()
	running := a.running
	a.down(true)
	if err := a.resetHW(); err != nil {
		a.mu.Unlock()
		return nil, ethtool.Errorf("self test", syscall.EIO, "reset: %v", err)
	}
	res[0].Value = a.regTest()
	res[1].Value = a.eepromTest()
	res[2].Value = a.intrTest()
	res[3].Value = a.loopbackTest()
	err := a.resetHW()
	if err == nil && running {
		err = a.up(nil)
		for _, r := range a.tx {
			r.txq.Wake()
		}
	}
	a.mu.Unlock()
	if err != nil {
		return nil, ethtool.Errorf("self test", syscall.EIO, "bringing the device back: %v", err)
	}
	return res, nil
}

// linkTest: 1 without link.
func (a *Adapter) linkTest() uint64 {
	if a.rd32(hw.STATUS)&hw.StatusLU == 0 {
		return 1
	}
	return 0
}

// regTest writes patterns to read/write registers (masked by what the
// device keeps), checks they read back and restores them; a read-only
// register must ignore writes. It returns 1 + the failing register's
// offset, or 0.
func (a *Adapter) regTest() uint64 {
	tests := []struct {
		off, mask uint32
	}{
		{hw.RDBAL(0), 0xFFFFFF80}, {hw.RDBAH(0), 0xFFFFFFFF}, {hw.RDLEN(0), 0x000FFF80},
		{hw.TDBAL(0), 0xFFFFFF80}, {hw.TDBAH(0), 0xFFFFFFFF}, {hw.TDLEN(0), 0x000FFF80},
		{hw.FCTTV, 0xFFFF}, {hw.FCRTH, 0xFFFF}, {hw.RETA0, 0xFFFFFFFF}, {hw.RSSRK0, 0xFFFFFFFF},
		{hw.MTA0, 0xFFFFFFFF}, {hw.EITR(0), 0x7FFC},
	}
	for _, t := range tests {
		saved := a.rd32(t.off)
		for _, p := range []uint32{0x5A5A5A5A, 0xA5A5A5A5, 0x00000000, 0xFFFFFFFF} {
			a.wr32(t.off, p&t.mask)
			if got := a.rd32(t.off) & t.mask; got != p&t.mask {
				a.wr32(t.off, saved)
				return 1 + uint64(t.off)
			}
		}
		a.wr32(t.off, saved)
	}
	st := a.rd32(hw.STATUS)
	a.wr32(hw.STATUS, ^st)
	if a.rd32(hw.STATUS) != st {
		return 1 + hw.STATUS
	}
	return 0
}

// eepromTest: 1 when words 0x00-0x3F do not sum to the signature.
func (a *Adapter) eepromTest() uint64 {
	var sum uint16
	for w := uint32(0); w <= hw.EEPROMChecksumWord; w++ {
		v, err := a.nvmRead(w)
		if err != nil {
			return 2
		}
		sum += v
	}
	if sum != hw.EEPROMChecksumSum {
		return 1
	}
	return 0
}

// intrTest: with the "other" vector unmasked, ICS of a cause in IMS must
// send its message; with the cause masked it must not. 1 or 2 on failure.
func (a *Adapter) intrTest() uint64 {
	m := a.fn.MSIX
	if err := m.Request(otherVector, a.cpus[0], a.netdev.Name()+"-test", func() {}); err != nil {
		return 3
	}
	defer m.Free(otherVector)
	a.wr32(hw.GPIE, hw.GpieMSIXMode|hw.GpieEIAME|hw.GpiePBA|hw.GpieNSICR)
	a.wr32(hw.IVARMISC, (otherVector|hw.IvarValid)<<8)
	a.wr32(hw.EITR(otherVector), 0)
	a.wr32(hw.EIAC, 1<<otherVector)
	a.wr32(hw.EIAM, 1<<otherVector)
	defer func() {
		a.wr32(hw.IMC, 0xFFFFFFFF)
		a.wr32(hw.EIMC, 0xFFFFFFFF)
		a.rd32(hw.ICR)
	}()
	// Masked: nothing may be sent.
	a.wr32(hw.IMC, 0xFFFFFFFF)
	a.wr32(hw.EIMS, 1<<otherVector)
	before := m.Count(otherVector)
	a.wr32(hw.ICS, hw.IcrLSC)
	if m.Count(otherVector) != before {
		return 1
	}
	a.rd32(hw.ICR)
	// Unmasked: exactly one message.
	a.wr32(hw.IMS, hw.IcrLSC)
	a.wr32(hw.EIMS, 1<<otherVector)
	a.wr32(hw.ICS, hw.IcrLSC)
	if m.Count(otherVector) != before+1 {
		return 2
	}
	return 0
}

// etherTypeLocalExp1 is IEEE 802's Local Experimental EtherType 1: the
// loopback test's frames are nobody's protocol.
const etherTypeLocalExp1 = 0x88B5

// loopbackTest sends frames through TX queue 0 with the PHY looping back
// and checks each arrives intact on RX queue 0. It returns the number of
// frames that did not (or 100 + a setup failure).
func (a *Adapter) loopbackTest() uint64 {
	const frames, size = 32, 1024
	rx, err := a.allocRx(0, 64, a.rxBuf)
	if err != nil {
		return 101
	}
	defer a.freeRx(rx)
	tx, err := a.allocTx(0, 64)
	if err != nil {
		return 102
	}
	defer a.freeTx(tx)
	bmcr, err := a.phyRead(hw.PhyBMCR)
	if err != nil {
		return 103
	}
	// As igb_integrated_phy_loopback, the PHY powered for the test (and
	// put back as it was after).
	if err := a.phyWrite(hw.PhyBMCR, (bmcr|hw.BmcrLoopback)&^hw.BmcrPowerDown); err != nil {
		return 104
	}
	defer a.phyWrite(hw.PhyBMCR, bmcr)
	a.wr32(hw.CTRL, a.rd32(hw.CTRL)|hw.CtrlSLU|hw.CtrlFD)
	// Rings.
	a.wr32(hw.RCTL, 0)
	a.wr32(hw.MRQC, 0)
	a.wr32(hw.RDBAL(0), uint32(rx.desc.Addr))
	a.wr32(hw.RDBAH(0), uint32(rx.desc.Addr>>32))
	a.wr32(hw.RDLEN(0), rx.count*ring.DescSize)
	a.wr32(hw.RDH(0), 0)
	a.wr32(hw.RDT(0), 0)
	a.wr32(hw.SRRCTL(0), 2|hw.SrrctlDescAdv1Buf)
	a.wr32(hw.RXDCTL(0), hw.DctlEnable)
	for i := uint32(0); i < rx.count-1; i++ {
		rx.descAt(i).SetRead(rx.bufs[i].Addr)
	}
	a.wr32(hw.RDT(0), rx.count-1)
	a.wr32(hw.RCTL, hw.RctlEN|hw.RctlBAM|hw.RctlSECRC|hw.RctlUPE|hw.RctlMPE)
	a.wr32(hw.TDBAL(0), uint32(tx.desc.Addr))
	a.wr32(hw.TDBAH(0), uint32(tx.desc.Addr>>32))
	a.wr32(hw.TDLEN(0), tx.count*ring.DescSize)
	a.wr32(hw.TDH(0), 0)
	a.wr32(hw.TDT(0), 0)
	a.wr32(hw.TXDCTL(0), hw.DctlEnable)
	a.wr32(hw.TCTL, hw.TctlEN|hw.TctlPSP|0xF<<4|0x3F<<12)
	defer func() {
		a.wr32(hw.RCTL, 0)
		a.wr32(hw.RXDCTL(0), 0)
		a.wr32(hw.TXDCTL(0), 0)
		a.wr32(hw.TCTL, 0)
	}()
	// Frames: to our own address, each with its own byte pattern.
	want := make([][]byte, frames)
	for i := range want {
		f := make([]byte, size)
		eth := header.Ethernet(f)
		eth.SetDst(a.mac)
		eth.SetSrc(a.mac)
		eth.SetType(etherTypeLocalExp1)
		for k := header.EthernetHeaderLen; k < size; k++ {
			f[k] = byte(i*31 + k)
		}
		want[i] = f
		copy(tx.bufs[i].Buf, f)
		tx.descAt(uint32(i)).SetData(ring.TxData{Addr: tx.bufs[i].Addr, Len: size, Cmd: ring.TxCmdEOP | ring.TxCmdIFCS | ring.TxCmdRS, PayLen: size})
	}
	a.wr32(hw.TDT(0), frames)
	bad := uint64(0)
	for i := range want {
		d := rx.descAt(uint32(i))
		st := d.Status()
		if st&ring.RxStatDD == 0 || st&ring.RxStatEOP == 0 || int(d.Length()) != size ||
			!bytes.Equal(rx.bufs[i].Buf[:size], want[i]) {
			bad++
		}
	}
	return bad
}
