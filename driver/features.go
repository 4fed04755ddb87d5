package driver

import (
	"vnic/ethtool"
	"vnic/hw"
)

// hwFeatures is what igb announces at probe that vnic implements: scatter-
// gather, IPv4 TCP/UDP transmit checksum, receive checksum, TSO, LRO, the
// RSS hash and ntuple filters (rx-ntuple-filter, as igb on the i350 and
// later: vnic's device has the 82576's queue filters). LRO and ntuple are
// off after probe (LRO-07); the core adds GSO and GRO.
const hwFeatures = ethtool.SG | ethtool.IPCsum | ethtool.RxCsum | ethtool.TSO | ethtool.LRO | ethtool.RxHash | ethtool.NTuple

// FixFeatures is ndo_fix_features: LRO needs interrupt moderation, since
// the device flushes aggregates on the throttle interval (ixgbe likewise
// refuses RSC at low interrupt intervals); with EITR 0 it is dropped.
//
// TSO needs a transmit ring that holds the largest super-frame twice over.
func (a *Adapter) FixFeatures(f ethtool.Features) ethtool.Features {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cfg.ITR == 0 && !a.adaptiveRx {
		f &^= ethtool.LRO
	}
	if a.cfg.TxRing < 2*tsoDescs {
		f &^= ethtool.TSO
	}
	return f
}

// SetFeatures is ndo_set_features: RXCSUM's IP and L4 offload bits follow
// rx-checksum, each queue's RSCCTL.RSCEN follows LRO. The transmit features
// need no register: start_xmit reads them per packet. Turning
// rx-ntuple-filter off deletes every classification rule (igb_set_features);
// while it is off rules can still be inserted, as with igb, which checks
// only that the hardware has the feature.
func (a *Adapter) SetFeatures(f ethtool.Features) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.features&ethtool.NTuple != 0 && f&ethtool.NTuple == 0 {
		a.clearNFC()
	}
	a.features = f
	if a.running {
		a.programFeatures()
	}
	return nil
}

// programFeatures writes the receive offload registers for a.features.
func (a *Adapter) programFeatures() {
	rxcsum := a.rd32(hw.RXCSUM) &^ (hw.RxcsumIPOFLD | hw.RxcsumTUOFLD)
	if a.features&ethtool.RxCsum != 0 {
		rxcsum |= hw.RxcsumIPOFLD | hw.RxcsumTUOFLD
	}
	a.wr32(hw.RXCSUM, rxcsum)
	for q := 0; q < a.cfg.Queues; q++ {
		v := uint32(0)
		if a.features&ethtool.LRO != 0 {
			v = hw.RscctlEn | 3<<hw.RscctlMaxDescShift // up to 16 buffers
		}
		a.wr32(hw.RSCCTL(q), v)
	}
}
