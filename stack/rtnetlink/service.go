package rtnetlink

import (
	"fmt"
	"syscall"

	mnl "github.com/mdlayher/netlink"

	"vnic/stack"
	"vnic/stack/netlink"
)

// Service serves rtnetlink on a control socket for the hosts of a running
// topology: it is the socket's RouteService, and it forwards each host's
// notifications to the connections bound to that host.
type Service struct {
	// Host finds a namespace by name (nil: none).
	Host func(name string) *stack.Host
	// Exec, when set, runs a request where the simulation may be touched
	// (the virtual clock's goroutine).
	Exec func(func())

	srv *netlink.Server
}

// Attach installs s on srv and forwards the hosts' notifications to it.
func (s *Service) Attach(srv *netlink.Server, hosts []*stack.Host) {
	srv.SetRouteService(s)
	s.srv = srv
	for _, h := range hosts {
		s.AddHost(h)
	}
}

// AddHost forwards h's notifications to the connections bound to it (a
// host made after Attach).
func (s *Service) AddHost(h *stack.Host) {
	ns, srv := h.Name(), s.srv
	ListenGroups(h, func(group uint32, m Message) { srv.NotifyRoute(ns, group, m.Type, m.Body) },
		func(group uint32) bool { return srv.RouteListening(ns, group) })
}

// Namespace implements netlink.RouteService.
func (s *Service) Namespace(name string) error {
	if s.Host(name) == nil {
		return fmt.Errorf("no host %q", name)
	}
	return nil
}

// Handle implements netlink.RouteService.
func (s *Service) Handle(ns string, uid uint32, h mnl.Header, body []byte) (out []mnl.Message, err error) {
	host := s.Host(ns)
	if host == nil {
		return nil, Errorf(syscall.ENOENT, "no host %q", ns)
	}
	run := func() {
		var ms []Message
		ms, err = Handle(host, Request{Type: uint16(h.Type), Flags: uint16(h.Flags), Body: body, UID: uid})
		for _, m := range ms {
			out = append(out, mnl.Message{Header: mnl.Header{Type: mnl.HeaderType(m.Type)}, Data: m.Body})
		}
	}
	if s.Exec != nil {
		s.Exec(run)
	} else {
		run()
	}
	return out, err
}

// HandleBatch implements netlink.RouteBatcher: the requests run one after
// another in a single Exec, until answer says to stop.
func (s *Service) HandleBatch(ns string, uid uint32, reqs []mnl.Message, answer func(i int, replies []mnl.Message, err error) bool) {
	host := s.Host(ns)
	run := func() {
		for i, m := range reqs {
			if host == nil {
				if !answer(i, nil, Errorf(syscall.ENOENT, "no host %q", ns)) {
					return
				}
				continue
			}
			ms, err := Handle(host, Request{Type: uint16(m.Header.Type), Flags: uint16(m.Header.Flags), Body: m.Data, UID: uid})
			var out []mnl.Message
			if len(ms) > 0 {
				out = make([]mnl.Message, len(ms))
				for j, r := range ms {
					out[j] = mnl.Message{Header: mnl.Header{Type: mnl.HeaderType(r.Type)}, Data: r.Body}
				}
			}
			if !answer(i, out, err) {
				return
			}
		}
	}
	if s.Exec != nil {
		s.Exec(run)
	} else {
		run()
	}
}

// Dump implements netlink.RouteDumper: the dump runs batch by batch, each
// batch under Exec (where the simulation may be touched), never waiting
// there: the server sends the batch and asks for the next when the
// client's receive budget has room.
func (s *Service) Dump(ns string, uid uint32, h mnl.Header, body []byte) (netlink.DumpFunc, error) {
	host := s.Host(ns)
	if host == nil {
		return nil, Errorf(syscall.ENOENT, "no host %q", ns)
	}
	req := Request{Type: uint16(h.Type), Flags: uint16(h.Flags), Body: body, UID: uid}
	cb := &Callback{}
	return func(add func(mnl.Message) bool) (done bool, err error) {
		run := func() {
			done, err = Dump(host, req, cb, func(m Message) bool {
				return add(mnl.Message{Header: mnl.Header{Type: mnl.HeaderType(m.Type)}, Data: m.Body})
			})
		}
		if s.Exec != nil {
			s.Exec(run)
		} else {
			run()
		}
		return done, err
	}, nil
}
