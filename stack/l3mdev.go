package stack

import (
	"fmt"
	"sync/atomic"
	"syscall"
)

// IFFMaster is IFF_MASTER: a device others are enslaved to (a VRF).
const IFFMaster = 1 << 10

// vrf is an L3 master device (drivers/net/vrf.c): a device with a routing
// table of its own, to which other devices are enslaved, so that their
// addresses' routes and the lookups of traffic through them use that
// table (l3mdev). It carries no traffic of its own in vnic: what is sent
// through it is dropped and counted.
type vrf struct {
	dev   *NetDevice
	table uint32
	drops atomic.Uint64
}

// VRFMTU is a VRF device's MTU, the kernel's (IP_MAX_MTU).
const VRFMTU = 65575

// NewVRF makes a VRF device on routing table table (ip link add NAME
// type vrf table ID), for the host to register.
func NewVRF(name string, table uint32) (*NetDevice, error) {
	if table == 0 {
		return nil, fmt.Errorf("stack: a VRF needs a table: %w", syscall.EINVAL)
	}
	v := &vrf{table: table}
	d := NewEtherDevice(name, v, 1, 1, VRFMTU)
	d.mtu.Store(VRFMTU)
	d.flags = IFFMaster | IFFNoARP
	d.noARP.Store(true)
	d.vrf = v
	d.TxQueueLen = 1000
	d.WatchdogTimeout = 0
	v.dev = d
	return d, nil
}

func (v *vrf) Open() error {
	v.dev.CarrierOn()
	return nil
}

func (v *vrf) Stop() error { return nil }

func (v *vrf) StartXmit(skb *SKB, txq *TxQueue) TxResult {
	v.drops.Add(1)
	skb.Free()
	return TxOK
}

func (v *vrf) ChangeMTU(mtu int) error     { return nil }
func (v *vrf) SetMACAddress(mac MAC) error { return nil }
func (v *vrf) SetRxMode()                  {}
func (v *vrf) TxTimeout(int)               {}
func (v *vrf) GetStats64(s *LinkStats64)   { s.TxDropped = v.drops.Load() }

// VRFTable is d's table when d is a VRF (0 otherwise).
func (d *NetDevice) VRFTable() uint32 {
	if d.vrf == nil {
		return 0
	}
	return d.vrf.table
}

// IsVRF reports whether d is a VRF device.
func (d *NetDevice) IsVRF() bool { return d.vrf != nil }

// Master is the device d is enslaved to (nil: none).
func (d *NetDevice) Master() *NetDevice {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.master
}

// L3mdevTable is l3mdev_fib_table: the table of d's L3 domain, d's own
// when it is a VRF, its master's when it is enslaved to one; 0 for a
// device of the default domain (whose routes go in the main and local
// tables).
func (d *NetDevice) L3mdevTable() uint32 {
	if t := d.VRFTable(); t != 0 {
		return t
	}
	if m := d.Master(); m != nil {
		return m.VRFTable()
	}
	return 0
}

// SetMaster enslaves d to master (nil releases it), as do_set_master with
// the VRF's ndo_add_slave: a device already enslaved elsewhere is released
// first; a device that is up is cycled (closed and opened), so that its
// addresses' routes move to the table of its new domain.
func (d *NetDevice) SetMaster(master *NetDevice) error {
	if master != nil {
		switch {
		case !master.IsVRF():
			return fmt.Errorf("stack: %s cannot take slaves: %w", master.Name(), syscall.EOPNOTSUPP)
		case master == d || d.IsVRF():
			return fmt.Errorf("stack: %s cannot be enslaved to %s: %w", d.Name(), master.Name(), syscall.EINVAL)
		case master.host != d.host:
			return fmt.Errorf("stack: %s and %s are not in one host: %w", d.Name(), master.Name(), syscall.EINVAL)
		case d.IsLoopback():
			return fmt.Errorf("stack: lo cannot be enslaved: %w", syscall.EINVAL)
		}
	}
	if d.Master() == master {
		return nil
	}
	up := d.IsUp()
	if up {
		if err := d.Close(); err != nil {
			return err
		}
	}
	d.mu.Lock()
	d.master = master
	d.mu.Unlock()
	d.notify(NetdevChangeUpper)
	if up {
		return d.Open()
	}
	return nil
}
