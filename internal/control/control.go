// Package control serves vnic's control socket over a running topology:
// the ethtool families on every device, vnic_inet and each host's
// rtnetlink, so that vnic up and the tests open the same socket.
package control

import (
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
	srv, err := netlink.Listen(path, append(e.Families, in.Family())...)
	if err != nil {
		return nil, err
	}
	e.Attach(srv)
	var hosts []*stack.Host
	for _, h := range w.Hosts {
		hosts = append(hosts, h.Stack)
	}
	rt := &rtnetlink.Service{Exec: exec, Host: hostOf}
	rt.Attach(srv, hosts)
	for _, h := range w.Hosts {
		for _, d := range h.Devices {
			e.Watch(h.Name+"/"+d.Netdev.Name(), d.Netdev)
		}
	}
	return srv, nil
}
