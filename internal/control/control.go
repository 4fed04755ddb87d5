// Package control serves vnic's control socket over a running topology:
// the ethtool families on every device, vnic_inet, each host's
// rtnetlink, its connection tracking (ctnetlink) and its x_tables and IP
// sets (vnic_iptables), so that vnic up and the tests open the same socket.
package control

import (
	"vnic/internal/conntrack"
	"vnic/internal/iptables"
	"vnic/internal/netns"
	"vnic/internal/topo"
	"vnic/stack"
	"vnic/stack/inet"
	"vnic/stack/netlink"
	"vnic/stack/rtnetlink"
)

// Serve opens the control socket at path over w: the ethtool families for
// every device (with their notifications), vnic_inet, and rtnetlink for
// every host. exec runs each request where the simulation may be touched
// (in virtual time, on the clock's goroutine between steps); nil runs it in
// place.
func Serve(w *topo.World, path string, exec func(func())) (*netlink.Server, error) {
	e := NewEthtool(w.Ethtool(), exec)
	hostOf := func(name string) *stack.Host {
		if h := w.Host(name); h != nil {
			return h.Stack
		}
		return nil
	}
	in := &inet.Service{Host: hostOf, Exec: exec}
	ns := &netns.Service{Topo: topology{w}, Exec: exec}
	ctnl := &conntrack.Service{Host: hostOf, Exec: exec}
	families := append(e.Families, in.Family(), ns.Family(), diagFamily(hostOf, exec), (&Iperf{Host: hostOf}).Family())
	families = append(families, ctnl.Families()...)
	families = append(families, (&iptables.Service{Host: hostOf, Exec: exec}).Family())
	srv, err := netlink.Listen(path, families...)
	if err != nil {
		return nil, err
	}
	e.Attach(srv)
	rt := &rtnetlink.Service{Exec: exec, Host: hostOf}
	rt.Attach(srv, nil)
	// Hosts and devices made at run time are served as those of the
	// topology file: their notifications reach the clients bound to them.
	w.Watch(func(ev topo.Event) {
		switch ev.Kind {
		case topo.HostAdded:
			rt.AddHost(ev.Host.Stack)
		case topo.DeviceAdded:
			e.Watch(ev.Host.Name+"/"+ev.Device.Netdev.Name(), ev.Device.Netdev)
		}
	})
	for _, h := range w.HostList() {
		rt.AddHost(h.Stack)
		for _, d := range h.DeviceList() {
			e.Watch(h.Name+"/"+d.Netdev.Name(), d.Netdev)
		}
	}
	return srv, nil
}

// topology is the world as ip netns's service sees it.
type topology struct{ w *topo.World }

func (t topology) AddHost(name string) error {
	_, err := t.w.AddHost(name)
	return err
}

func (t topology) DelHost(name string) error { return t.w.DelHost(name) }

func (t topology) SetNSID(name string, id int32) error { return t.w.SetNSID(name, id) }

func (t topology) Hosts() []netns.Info {
	var out []netns.Info
	for _, h := range t.w.HostList() {
		out = append(out, netns.Info{Name: h.Name, Handle: h.Handle, NSID: t.w.NSID(h)})
	}
	return out
}
