package packetdrill

import (
	"fmt"
	"net/netip"
	"strconv"
	"syscall"

	pd "vnic/internal/packetdrill"
)

// sysSocket is socket(AF_INET, SOCK_STREAM, IPPROTO_TCP): the script's
// result is the descriptor's number, and the new socket becomes the one
// under test (run_syscall_socket).
func (r *runner) sysSocket(sc *pd.Syscall) (*call, error) {
	if err := arity(sc, 3); err != nil {
		return nil, err
	}
	if _, ok := sc.Args[0].(*pd.Ellipsis); !ok {
		if d, err := intArg(sc, 0); err != nil || d != symbols["AF_INET"] {
			return nil, unsupported("socket domain %s (vnic's TCP is AF_INET)", sc.Args[0])
		}
	}
	typ, err := intArg(sc, 1)
	if err != nil {
		return nil, err
	}
	nonblock := typ&symbols["SOCK_NONBLOCK"] != 0
	if typ&^symbols["SOCK_NONBLOCK"] != symbols["SOCK_STREAM"] {
		return nil, unsupported("socket type %s (only SOCK_STREAM)", sc.Args[1])
	}
	if p, err := intArg(sc, 2); err != nil || p != 0 && p != symbols["IPPROTO_TCP"] {
		return nil, unsupported("socket protocol %s (only IPPROTO_TCP)", sc.Args[2])
	}
	want, err := eval(sc.Result)
	if err != nil || want < 0 {
		return nil, unsupported("a socket() that fails (= %s)", sc.Result)
	}
	n := int(want)
	if _, dup := r.fds[n]; dup {
		return nil, fmt.Errorf("duplicate fd %d in script", n)
	}
	c := &call{try: func() (int64, error, bool) {
		sk := r.tcp.NewSocket()
		sk.SetNonblock(nonblock)
		r.fds[n] = newFD(n, sk, nonblock)
		s := &socket{state: sockNew, tsValMap: map[uint32]uint32{}}
		r.sockets = append(r.sockets, s)
		r.sut = s
		return completed(int64(n), nil)
	}}
	return c, nil
}

// sockaddrArg is a bind or connect address: "..." is the run's address
// and port (run_syscall_bind, run_syscall_connect); a sockaddr struct
// is taken as written.
func sockaddrArg(e pd.Expr, def netip.AddrPort) (netip.AddrPort, error) {
	if _, ok := e.(*pd.Ellipsis); ok {
		return def, nil
	}
	st, ok := e.(*pd.Struct)
	if !ok {
		return netip.AddrPort{}, mismatchf("Bad type; actual: %s expected: sockaddr", e)
	}
	var addr netip.Addr
	var port uint16
	for _, f := range st.Fields {
		as, ok := f.(*pd.Assign)
		if !ok {
			continue
		}
		switch as.LHS.String() {
		case "sa_family", "sin_family":
			if v, err := eval(as.RHS); err != nil || v != symbols["AF_INET"] {
				return netip.AddrPort{}, unsupported("address family %s", as.RHS)
			}
		case "sin_port":
			v, err := eval(as.RHS)
			if err != nil || v < 0 || v > 65535 {
				return netip.AddrPort{}, fmt.Errorf("bad sin_port %s", as.RHS)
			}
			port = uint16(v)
		case "sin_addr":
			c, ok := as.RHS.(*pd.Call)
			if !ok || c.Func != "inet_addr" || len(c.Args) != 1 {
				return netip.AddrPort{}, fmt.Errorf("bad sin_addr %s", as.RHS)
			}
			s, _ := c.Args[0].(*pd.Str)
			a, err := netip.ParseAddr(strUnquote(s))
			if err != nil || !a.Is4() {
				return netip.AddrPort{}, fmt.Errorf("bad sin_addr %s", as.RHS)
			}
			addr = a
		}
	}
	return netip.AddrPortFrom(addr, port), nil
}

func strUnquote(s *pd.Str) string {
	if s == nil {
		return ""
	}
	if u, err := strconv.Unquote(`"` + s.Raw + `"`); err == nil {
		return u
	}
	return s.Raw
}

func (r *runner) sysBind(sc *pd.Syscall) (*call, error) {
	if err := arity(sc, 3); err != nil {
		return nil, err
	}
	f, err := r.fdArg(sc, 0)
	if err != nil {
		return nil, err
	}
	a, err := sockaddrArg(sc.Args[1], netip.AddrPortFrom(LocalAddr, r.opt.bindPort))
	if err != nil {
		return nil, err
	}
	return &call{try: func() (int64, error, bool) {
		err := f.sk.Bind(a)
		return completed(result(0, err), err)
	}}, nil
}

func (r *runner) sysListen(sc *pd.Syscall) (*call, error) {
	if err := arity(sc, 2); err != nil {
		return nil, err
	}
	f, err := r.fdArg(sc, 0)
	if err != nil {
		return nil, err
	}
	backlog, err := intArg(sc, 1)
	if err != nil {
		return nil, err
	}
	return &call{try: func() (int64, error, bool) {
		err := f.sk.Listen(int(backlog))
		if err == nil && r.sut != nil {
			// run_syscall_listen: the socket under test now listens.
			r.sut.state = sockListening
		}
		return completed(result(0, err), err)
	}}, nil
}

// sysAccept is accept(fd, ..., ...) = N: the accepted connection gets the
// script's descriptor N and joins the connection the script's packets
// set up (run_syscall_accept).
func (r *runner) sysAccept(sc *pd.Syscall) (*call, error) {
	if err := arity(sc, 3); err != nil {
		return nil, err
	}
	f, err := r.fdArg(sc, 0)
	if err != nil {
		return nil, err
	}
	for i := 1; i < 3; i++ {
		if err := ellipsisArg(sc, i); err != nil {
			return nil, err
		}
	}
	want, err := eval(sc.Result)
	if err != nil {
		return nil, err
	}
	c := &call{fds: []*fd{f}, fdResult: true}
	c.try = func() (int64, error, bool) {
		sk, err := f.sk.Accept()
		if wouldBlock(err, syscall.EAGAIN, f.nonblock) {
			return 0, nil, false
		}
		if err != nil {
			return completed(-1, err)
		}
		if want < 0 {
			// The script expected a failure; the check reports it.
			return completed(int64(r.maxFD()+1), nil)
		}
		n := int(want)
		if _, dup := r.fds[n]; dup {
			return completed(0, fmt.Errorf("duplicate fd %d in script", n))
		}
		if s := r.acceptedSocket(sk.RemoteAddr()); s == nil {
			return completed(0, fmt.Errorf("unable to find socket matching accept() call"))
		}
		r.fds[n] = newFD(n, sk, false)
		return completed(int64(n), nil)
	}
	return c, nil
}

func (r *runner) maxFD() int {
	m := 2
	for n := range r.fds {
		m = max(m, n)
	}
	return m
}

// acceptedSocket finds the connection the script handshook whose peer
// is remote.
func (r *runner) acceptedSocket(remote netip.AddrPort) *socket {
	for _, s := range r.sockets {
		if (s.state == sockPassiveSynAckSent || s.state == sockPassiveSynAckAcked) &&
			s.live.remote.addr == remote.Addr() && s.live.remote.port == remote.Port() {
			return s
		}
	}
	return nil
}

// sysConnect is connect(fd, ..., ...): to the remote address and
// --connect_port; a blocking socket waits for the handshake.
func (r *runner) sysConnect(sc *pd.Syscall) (*call, error) {
	if err := arity(sc, 3); err != nil {
		return nil, err
	}
	f, err := r.fdArg(sc, 0)
	if err != nil {
		return nil, err
	}
	a, err := sockaddrArg(sc.Args[1], netip.AddrPortFrom(RemoteAddr, r.opt.connectPort))
	if err != nil {
		return nil, err
	}
	started := false
	c := &call{fds: []*fd{f}}
	c.try = func() (int64, error, bool) {
		if !started {
			started = true
			if s := r.sut; s != nil {
				// run_syscall_connect: the socket under test connects.
				s.state = sockConnecting
				s.live.remote = endpoint{a.Addr(), a.Port()}
			}
			err := f.sk.Connect(a)
			if !wouldBlock(err, syscall.EINPROGRESS, f.nonblock) {
				return completed(result(0, err), err)
			}
		}
		ok, err := f.sk.ConnectDone()
		if !ok {
			return 0, nil, false
		}
		return completed(result(0, err), err)
	}
	return c, nil
}

func (r *runner) sysClose(sc *pd.Syscall) (*call, error) {
	if err := arity(sc, 1); err != nil {
		return nil, err
	}
	f, err := r.fdArg(sc, 0)
	if err != nil {
		return nil, err
	}
	return &call{try: func() (int64, error, bool) {
		err := f.sk.Close()
		f.closed = true
		delete(r.fds, f.num)
		return completed(result(0, err), err)
	}}, nil
}

func (r *runner) sysShutdown(sc *pd.Syscall) (*call, error) {
	if err := arity(sc, 2); err != nil {
		return nil, err
	}
	f, err := r.fdArg(sc, 0)
	if err != nil {
		return nil, err
	}
	how, err := intArg(sc, 1)
	if err != nil {
		return nil, err
	}
	return &call{try: func() (int64, error, bool) {
		err := f.sk.Shutdown(int(how))
		return completed(result(0, err), err)
	}}, nil
}
