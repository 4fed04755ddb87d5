package hw

import "net"

const (
	eepromWords = 64
	// EEPROMChecksumWord holds the word that makes words 0x00-0x3F sum to
	// EEPROMChecksumSum.
	EEPROMChecksumWord = 0x3F
	// EEPROMChecksumSum is the sum every valid NVM image adds up to.
	EEPROMChecksumSum = 0xBABA
)

// DefaultEEPROM returns the NVM image of a vnic device: the MAC in words 0-2
// (low byte first), PCI IDs of an 82576 and the checksum.
func DefaultEEPROM(mac net.HardwareAddr) [eepromWords]uint16 {
	var e [eepromWords]uint16
	e[0] = uint16(mac[0]) | uint16(mac[1])<<8
	e[1] = uint16(mac[2]) | uint16(mac[3])<<8
	e[2] = uint16(mac[4]) | uint16(mac[5])<<8
	e[0x0A] = 0x4C00   // initialisation control word 1
	e[0x0B] = 0x0000   // subsystem ID
	e[0x0C] = VendorID // subsystem vendor
	e[0x0D] = DeviceID // device ID: 82576
	e[0x0E] = VendorID // vendor
	var sum uint16
	for i := 0; i < EEPROMChecksumWord; i++ {
		sum += e[i]
	}
	e[EEPROMChecksumWord] = EEPROMChecksumSum - sum
	return e
}

// WriteEEPROM changes one NVM word, as a programming tool would; it does not
// fix the checksum. Tests use it to make a device with a corrupt NVM.
func (d *Device) WriteEEPROM(word int, v uint16) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if word >= 0 && word < eepromWords {
		d.eeprom[word] = v
	}
}

func (d *Device) eepromMAC() [6]byte {
	return [6]byte{
		byte(d.eeprom[0]), byte(d.eeprom[0] >> 8),
		byte(d.eeprom[1]), byte(d.eeprom[1] >> 8),
		byte(d.eeprom[2]), byte(d.eeprom[2] >> 8),
	}
}

// eewr serves an EEWR write: START with an address and data programs the
// word at once (a word past the image is ignored) and sets DONE.
func (d *Device) eewr(v uint32) {
	if v&EerdStart == 0 {
		d.regs[EEWR/4] = v
		return
	}
	addr := (v >> EerdAddrShift) & 0x3FFF
	if addr < eepromWords {
		d.eeprom[addr] = uint16(v >> EerdDataShift)
	}
	d.regs[EEWR/4] = v&^EerdStart | EerdDone
}

// eerd serves an EERD write: START with an address completes at once with
// DONE and the data.
func (d *Device) eerd(v uint32) {
	if v&EerdStart == 0 {
		d.regs[EERD/4] = v
		return
	}
	addr := (v >> EerdAddrShift) & 0x3FFF
	var data uint16
	if addr < eepromWords {
		data = d.eeprom[addr]
	} else {
		data = 0xFFFF // erased flash
	}
	d.regs[EERD/4] = addr<<EerdAddrShift | EerdDone | uint32(data)<<EerdDataShift
}

// PHY registers (IEEE 802.3 clause 22), PHY address 1.
const (
	PhyBMCR    = 0
	PhyBMSR    = 1
	PhyID1     = 2
	PhyID2     = 3
	PhyANAR    = 4
	PhyANLPAR  = 5
	Phy1000CTL = 9
	Phy1000STS = 10

	BmcrReset    = 1 << 15
	BmcrLoopback = 1 << 14
	BmcrANEnable = 1 << 12
	// BmcrPowerDown (MII_CR_POWER_DOWN) powers the PHY down: no link on
	// the wire, for either end, until it is cleared.
	BmcrPowerDown = 1 << 11
	BmcrRestart   = 1 << 9
	BmcrFD        = 1 << 8
	BmcrSpeed1G   = 1 << 6
	BmcrSpeed100  = 1 << 13 // with BmcrSpeed1G clear; neither is 10 Mb/s

	BmsrLink    = 1 << 2
	BmsrANDone  = 1 << 5
	phyAddr     = 1
	bmsrStatic  = 0x7949 // capabilities: 10/100 HD/FD, extended status, AN able
	phyID1Value = 0x02A8 // IGP3 PHY identifier, as on 82576 boards
	phyID2Value = 0x0390
	anarDefault = 0x01E1
	gctlDefault = 0x0300
	// Advertisement bits: ANAR 10 half b5, 10 full b6, 100 half b7, 100
	// full b8; 1000BASE-T control 1000 half b8, 1000 full b9.
	Anar10Half   = 1 << 5
	Anar10Full   = 1 << 6
	Anar100Half  = 1 << 7
	Anar100Full  = 1 << 8
	Gctl1000Half = 1 << 8
	Gctl1000Full = 1 << 9
	// AnarDefault and GctlDefault advertise every mode.
	AnarDefault  = anarDefault
	GctlDefault  = gctlDefault
	gstsLinkedUp = 0x3C00
)

func (d *Device) phyReset() {
	clear(d.phy[:])
	d.phy[PhyBMCR] = BmcrANEnable | BmcrFD | BmcrSpeed1G
	d.phy[PhyID1] = phyID1Value
	d.phy[PhyID2] = phyID2Value
	d.phy[PhyANAR] = anarDefault
	d.phy[Phy1000CTL] = gctlDefault
}

func (d *Device) phyLoopback() bool {
	return d.phy[PhyBMCR]&(BmcrLoopback|BmcrPowerDown) == BmcrLoopback
}

// phyPoweredDown reports BMCR's power-down bit.
func (d *Device) phyPoweredDown() bool { return d.phy[PhyBMCR]&BmcrPowerDown != 0 }

func (d *Device) phyRead(reg int) uint16 {
	switch reg {
	case PhyBMSR:
		v := uint16(bmsrStatic)
		if d.carrier || d.phyLoopback() {
			v |= BmsrLink | BmsrANDone
		}
		return v
	case PhyANLPAR:
		if d.carrier {
			return anarDefault
		}
		return 0
	case Phy1000STS:
		if d.carrier {
			return gstsLinkedUp
		}
		return 0
	}
	return d.phy[reg]
}

func (d *Device) phyWrite(reg int, v uint16) {
	switch reg {
	case PhyBMCR:
		old := d.phy[PhyBMCR]
		d.setLinkInputs(func() {
			if v&BmcrReset != 0 {
				d.phyReset()
			} else {
				d.phy[PhyBMCR] = v &^ BmcrRestart // restart self-clears
			}
			// A restart or a change of speed, duplex or autonegotiation
			// takes the link down until the two ends agree again.
			const neg = BmcrANEnable | BmcrFD | BmcrSpeed1G | BmcrSpeed100
			switch {
			case d.negotiator == nil:
			case v&(BmcrRestart|BmcrReset) != 0 || d.phy[PhyBMCR]&neg != old&neg:
				d.linkOK = false
				d.negotiator.renegotiate()
			case (d.phy[PhyBMCR]^old)&BmcrPowerDown != 0:
				// Powered down, the other end loses the link; powered
				// up, the ends agree at once (as when plugged), the
				// other end being up.
				if d.phyPoweredDown() {
					d.linkOK = false
				}
				d.negotiator.repower()
			}
		})
	case PhyANAR, Phy1000CTL:
		d.phy[reg] = v
	}
}

// mdic serves an MDIC write: the operation completes at once with READY, or
// ERROR for a PHY address other than 1.
func (d *Device) mdic(v uint32) {
	phy := int(v>>MdicPhyShift) & 0x1f
	reg := int(v>>MdicRegShift) & 0x1f
	res := v &^ (MdicReady | MdicError)
	if phy != phyAddr {
		d.regs[MDIC/4] = res | MdicReady | MdicError
		return
	}
	switch {
	case v&MdicOpRead != 0:
		res = res&^MdicDataMask | uint32(d.phyRead(reg))
	case v&MdicOpWrite != 0:
		d.phyWrite(reg, uint16(v))
	}
	d.regs[MDIC/4] = res | MdicReady
	if v&(1<<29) != 0 { // INT_EN
		d.setICR(IcrMDAC)
	}
}
