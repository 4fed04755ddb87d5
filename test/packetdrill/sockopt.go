package packetdrill

import (
	"fmt"

	pd "vnic/internal/packetdrill"
)

// sysSetsockopt is setsockopt(fd, level, name, value, len) for what
// vnic's sockets take: an int ([1]), a linger ({onoff=1, linger=0}) and
// a congestion control's name ("reno").
func (r *runner) sysSetsockopt(sc *pd.Syscall) (*call, error) {
	if err := arity(sc, 5); err != nil {
		return nil, err
	}
	f, err := r.fdArg(sc, 0)
	if err != nil {
		return nil, err
	}
	level, err := intArg(sc, 1)
	if err != nil {
		return nil, err
	}
	name, err := intArg(sc, 2)
	if err != nil {
		return nil, err
	}
	if _, err := intArg(sc, 4); err != nil {
		if _, ok := sc.Args[4].(*pd.Ellipsis); !ok {
			return nil, err
		}
	}
	var try func() error
	switch v := sc.Args[3].(type) {
	case *pd.List:
		if len(v.Elems) != 1 {
			return nil, mismatchf("Expected [<element>] but got multiple elements")
		}
		n, err := eval(v.Elems[0])
		if err != nil {
			return nil, err
		}
		try = func() error { return f.sk.SetsockoptInt(int(level), int(name), int(n)) }
	case *pd.Struct:
		if level != symbols["SOL_SOCKET"] || name != symbols["SO_LINGER"] {
			return nil, unsupported("setsockopt %s, %s with %s", sc.Args[1], sc.Args[2], v)
		}
		var onoff, secs int64
		for _, fe := range v.Fields {
			as, ok := fe.(*pd.Assign)
			if !ok {
				return nil, fmt.Errorf("bad linger field %s", fe)
			}
			n, err := eval(as.RHS)
			if err != nil {
				return nil, err
			}
			switch as.LHS.String() {
			case "onoff", "l_onoff":
				onoff = n
			case "linger", "l_linger":
				secs = n
			default:
				return nil, fmt.Errorf("bad linger field %s", as.LHS)
			}
		}
		try = func() error { f.sk.SetLinger(onoff != 0, int(secs)); return nil }
	case *pd.Str:
		if level != symbols["SOL_TCP"] || name != symbols["TCP_CONGESTION"] {
			return nil, unsupported("setsockopt %s, %s with a string", sc.Args[1], sc.Args[2])
		}
		s := strUnquote(v)
		try = func() error { return f.sk.SetCongestion(s) }
	default:
		return nil, unsupported("setsockopt value %s", sc.Args[3])
	}
	return &call{try: func() (int64, error, bool) {
		err := try()
		return completed(result(0, err), err)
	}}, nil
}

// sysGetsockopt is getsockopt(fd, level, name, [value], [4]) for int
// options; the value returned must be the script's.
func (r *runner) sysGetsockopt(sc *pd.Syscall) (*call, error) {
	if err := arity(sc, 5); err != nil {
		return nil, err
	}
	f, err := r.fdArg(sc, 0)
	if err != nil {
		return nil, err
	}
	level, err := intArg(sc, 1)
	if err != nil {
		return nil, err
	}
	name, err := intArg(sc, 2)
	if err != nil {
		return nil, err
	}
	bracketed := func(e pd.Expr) (int64, error) {
		l, ok := e.(*pd.List)
		if !ok {
			return 0, unsupported("getsockopt value %s (only [int])", e)
		}
		if len(l.Elems) != 1 {
			return 0, mismatchf("Expected [<element>] but got multiple elements")
		}
		return eval(l.Elems[0])
	}
	want, err := bracketed(sc.Args[3])
	if err != nil {
		return nil, err
	}
	optlen, err := bracketed(sc.Args[4])
	if err != nil {
		return nil, err
	}
	if optlen != 4 {
		return nil, mismatchf("Unsupported getsockopt optlen: %d", optlen)
	}
	var got int
	c := &call{}
	c.try = func() (int64, error, bool) {
		var err error
		got, err = f.sk.GetsockoptInt(int(level), int(name))
		return completed(result(0, err), err)
	}
	c.check = func() error {
		if int64(got) != want {
			return mismatchf("Bad getsockopt optval: expected: %d actual: %d", want, got)
		}
		return nil
	}
	return c, nil
}

// sysFcntl is fcntl(fd, F_GETFL) and fcntl(fd, F_SETFL, flags): the
// descriptor's O_NONBLOCK, which decides whether a call that would block
// waits.
func (r *runner) sysFcntl(sc *pd.Syscall) (*call, error) {
	if len(sc.Args) < 2 || len(sc.Args) > 3 {
		return nil, mismatchf("Expected 2 or 3 args but got %d", len(sc.Args))
	}
	f, err := r.fdArg(sc, 0)
	if err != nil {
		return nil, err
	}
	cmd, err := intArg(sc, 1)
	if err != nil {
		return nil, err
	}
	rdwr, nb := symbols["O_RDWR"], symbols["O_NONBLOCK"]
	switch {
	case cmd == symbols["F_GETFL"] && len(sc.Args) == 2:
		return &call{try: func() (int64, error, bool) {
			v := rdwr
			if f.nonblock {
				v |= nb
			}
			return completed(v, nil)
		}}, nil
	case cmd == symbols["F_SETFL"] && len(sc.Args) == 3:
		v, err := intArg(sc, 2)
		if err != nil {
			return nil, err
		}
		return &call{try: func() (int64, error, bool) {
			f.nonblock = v&nb != 0
			f.sk.SetNonblock(f.nonblock)
			return completed(0, nil)
		}}, nil
	}
	return nil, unsupported("fcntl %s", sc.Args[1])
}
