package topo

import (
	"strings"
	"syscall"

	"vnic/ethtool"
)

// Ethtool returns the world as an ethtool backend.
func (w *World) Ethtool() ethtool.Backend { return backend{w} }

type backend struct{ w *World }

// Device resolves an interface name for ethtool: "h1/vnic0", or a bare
// "vnic0" when exactly one host has it. The name a device answers to is the
// one it was asked by.
func (b backend) Device(name string) (ethtool.Device, error) {
	d, err := b.w.Lookup(name)
	if err != nil {
		return nil, err
	}
	return ethtool.NewLocal(name, d.Adapter, d.Netdev, nil), nil
}

// Lookup finds a device by "host/dev" or an unambiguous bare name (ENODEV
// otherwise, with the kernel's message).
func (w *World) Lookup(name string) (*Device, error) {
	host, dev, qualified := strings.Cut(name, "/")
	if !qualified {
		host, dev = "", name
	}
	var found []*Device
	for _, h := range w.HostList() {
		if qualified && h.Name != host {
			continue
		}
		for _, d := range h.DeviceList() {
			if d.Netdev.Name() == dev {
				found = append(found, d)
			}
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return nil, ethtool.AttrErrorf("lookup", "dev", syscall.ENODEV, "no device matches name")
	}
	return nil, ethtool.AttrErrorf("lookup", "dev", syscall.ENODEV, "no device matches name: %q is on %d hosts; use host/%s", dev, len(found), dev)
}

// Names lists every device as host/dev (for dumps).
func (b backend) Names() []string {
	var out []string
	for _, h := range b.w.HostList() {
		for _, d := range h.DeviceList() {
			out = append(out, h.Name+"/"+d.Netdev.Name())
		}
	}
	return out
}
