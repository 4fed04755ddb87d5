package stack

import (
	"fmt"
	"syscall"

	"vnic/ethtool"
)

// FeatureOps is what a driver implements to take part in feature changes:
// ndo_fix_features (drop what the device cannot do in combination) and
// ndo_set_features (program the hardware). A driver without it accepts
// whatever the core rules leave.
type FeatureOps interface {
	FixFeatures(f ethtool.Features) ethtool.Features
	SetFeatures(f ethtool.Features) error
}

// Features returns the active features.
func (d *NetDevice) Features() ethtool.Features { return ethtool.Features(d.features.Load()) }

// HWFeatures returns the features the user may change.
func (d *NetDevice) HWFeatures() ethtool.Features {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.hwFeatures
}

// WantedFeatures returns the features the user asked for.
func (d *NetDevice) WantedFeatures() ethtool.Features {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.wanted
}

// InitFeatures is for drivers at probe, before registration: hw is what can
// be changed, on what starts enabled (FEAT-01; LRO is left out of on, LRO-07).
func (d *NetDevice) InitFeatures(hw, on ethtool.Features) {
	d.hwFeatures = hw
	d.features.Store(uint64(on))
}

// registerFeatures is register_netdevice's part: the software features GSO
// and GRO become changeable and on, wanted = features ∩ hw_features, and
// the rules are applied.
func (d *NetDevice) registerFeatures() {
	d.mu.Lock()
	d.hwFeatures |= ethtool.SoftFeatures
	f := d.Features() | ethtool.SoftFeatures
	d.features.Store(uint64(f))
	d.wanted = f & d.hwFeatures
	d.mu.Unlock()
	d.updateFeatures()
}

// ErrFeatureFixed is returned when every requested change touched a
// feature the device cannot change.
var ErrFeatureFixed = fmt.Errorf("stack: feature cannot be changed: %w", syscall.EOPNOTSUPP)

// SetWantedFeatures is the ethtool -K path (ETHTOOL_SFEATURES): for each
// bit in mask, want it on or off as on says. Bits outside hw_features are
// not changeable: they are left alone and returned as unsupported. Then the
// features are recomputed (UpdateFeatures); the wanted bits persist, so a
// feature dropped for a missing dependency returns with it.
func (d *NetDevice) SetWantedFeatures(mask, on ethtool.Features) (unsupported ethtool.Features, err error) {
	d.mu.Lock()
	unsupported = mask &^ d.hwFeatures
	mask &= d.hwFeatures
	d.wanted = d.wanted&^mask | on&mask
	d.mu.Unlock()
	if err := d.UpdateFeatures(); err != nil {
		return unsupported, err
	}
	if mask == 0 && unsupported != 0 {
		return unsupported, ErrFeatureFixed
	}
	return unsupported, nil
}

// DisableLRO is dev_disable_lro: LRO leaves wanted (not merely active), as
// when forwarding is switched on for the device.
func (d *NetDevice) DisableLRO() error {
	d.mu.Lock()
	d.wanted &^= ethtool.LRO
	d.mu.Unlock()
	return d.UpdateFeatures()
}

// UpdateFeatures is netdev_update_features: the wanted features (plus the
// active ones the user cannot change), fixed by the driver and then by the
// core rules; if the result differs from the active set the driver's
// set_features programs it, and on success it becomes active.
//
// Updates are serialised; the driver is called without the device lock, so
// it may take its own locks and read the device.
func (d *NetDevice) UpdateFeatures() error {
	return d.updateFeatures()
}

func (d *NetDevice) updateFeatures() error {
	d.featMu.Lock()
	defer d.featMu.Unlock()
	d.mu.Lock()
	cur := d.Features()
	f := cur&^d.hwFeatures | d.wanted&d.hwFeatures
	d.mu.Unlock()
	fo, ok := d.ops.(FeatureOps)
	if ok {
		f = fo.FixFeatures(f)
	}
	f = ethtool.Fix(f)
	if f == cur {
		return nil
	}
	if ok {
		if err := fo.SetFeatures(f); err != nil {
			return fmt.Errorf("stack: %s: set features %s: %w", d.name, f, err)
		}
	}
	d.features.Store(uint64(f))
	d.notify(NetdevFeatChange) // nothing while registering: not yet listed
	return nil
}
