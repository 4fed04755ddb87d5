package control

import (
	"vnic/ethtool"
	"vnic/ethtool/nl"
	"vnic/stack"
	"vnic/stack/netlink"
)

// Ethtool is the ethtool service of a control socket: the "ethtool" and
// "vnic_ethtool" families over a backend.
type Ethtool struct {
	NL       *nl.Server
	Families []*netlink.Family
	srv      *netlink.Server
}

// NewEthtool prepares the families for b. exec runs each request where the
// devices may be touched (in virtual time, on the simulation's goroutine
// between steps); nil runs it in place.
func NewEthtool(b ethtool.Backend, exec func(func())) *Ethtool {
	if exec == nil {
		exec = func(fn func()) { fn() }
	}
	e := &Ethtool{NL: &nl.Server{Backend: b}}
	handler := func(family string) netlink.Handler {
		return func(cmd uint8, dump bool, body []byte) ([][]byte, int, error) {
			var replies []nl.Reply
			var err error
			exec(func() { replies, err = e.NL.Serve(family, cmd, dump, body) })
			if err != nil {
				return nil, nl.ErrorOffset(body, err), err
			}
			out := make([][]byte, len(replies))
			for i, r := range replies {
				out[i] = netlink.GenlData(r.Cmd, nl.FamilyVersion, r.Attrs)
			}
			return out, -1, nil
		}
	}
	e.Families = []*netlink.Family{
		{Name: nl.FamilyName, Version: nl.FamilyVersion, Groups: []string{nl.MonitorGroup}, Handle: handler(nl.FamilyName)},
		{Name: nl.VendorFamilyName, Version: 1, Groups: []string{nl.MonitorGroup}, Handle: handler(nl.VendorFamilyName)},
	}
	e.NL.Notify = func(dev string, cmd uint8, attrs []byte) { e.Notify(nl.FamilyName, cmd, attrs) }
	return e
}

// Attach connects notifications to the listening server.
func (e *Ethtool) Attach(s *netlink.Server) { e.srv = s }

// Notify multicasts a notification of family on its "monitor" group.
func (e *Ethtool) Notify(family string, cmd uint8, body []byte) {
	if e.srv != nil {
		e.srv.Notify(family, nl.MonitorGroup, cmd, body)
	}
}

// Watch sends notifications for nd, known to clients as name: its
// features (whatever changed them) and its carrier.
func (e *Ethtool) Watch(name string, nd *stack.NetDevice) {
	nd.Host().RegisterNetdevNotifier(func(ev stack.NetdevEvent, d *stack.NetDevice) {
		if d != nd {
			return
		}
		switch ev {
		case stack.NetdevFeatChange:
			dev, err := e.NL.Backend.Device(name)
			if err != nil {
				return
			}
			if cmd, body, err := nl.FeaturesNtf(dev); err == nil {
				e.Notify(nl.FamilyName, cmd, body)
			}
		case stack.NetdevChange:
			cmd, body := nl.LinkStateNtf(name, nd.Carrier())
			e.Notify(nl.VendorFamilyName, cmd, body)
		}
	})
}
