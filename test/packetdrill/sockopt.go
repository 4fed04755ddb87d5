package packetdrill

import (
	"fmt"

	pd "vnic/internal/packetdrill"
	"vnic/stack/tcp"
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
	if st, ok := sc.Args[3].(*pd.Struct); ok && level == symbols["SOL_TCP"] && name == symbols["TCP_INFO"] {
		return tcpInfoCall(f, st)
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

// tcpInfoFields are the struct tcp_info fields a script may check, by
// their names in linux/tcp.h.
var tcpInfoFields = map[string]func(i *tcp.TCPInfo) int64{
	"tcpi_state":         func(i *tcp.TCPInfo) int64 { return int64(i.State) },
	"tcpi_ca_state":      func(i *tcp.TCPInfo) int64 { return int64(i.CAState) },
	"tcpi_retransmits":   func(i *tcp.TCPInfo) int64 { return int64(i.Retransmits) },
	"tcpi_probes":        func(i *tcp.TCPInfo) int64 { return int64(i.Probes) },
	"tcpi_backoff":       func(i *tcp.TCPInfo) int64 { return int64(i.Backoff) },
	"tcpi_options":       func(i *tcp.TCPInfo) int64 { return int64(i.Options) },
	"tcpi_snd_mss":       func(i *tcp.TCPInfo) int64 { return int64(i.SndMSS) },
	"tcpi_unacked":       func(i *tcp.TCPInfo) int64 { return int64(i.Unacked) },
	"tcpi_sacked":        func(i *tcp.TCPInfo) int64 { return int64(i.Sacked) },
	"tcpi_lost":          func(i *tcp.TCPInfo) int64 { return int64(i.Lost) },
	"tcpi_retrans":       func(i *tcp.TCPInfo) int64 { return int64(i.Retrans) },
	"tcpi_snd_ssthresh":  func(i *tcp.TCPInfo) int64 { return int64(i.SndSsthresh) },
	"tcpi_snd_cwnd":      func(i *tcp.TCPInfo) int64 { return int64(i.SndCwnd) },
	"tcpi_reordering":    func(i *tcp.TCPInfo) int64 { return int64(i.Reordering) },
	"tcpi_total_retrans": func(i *tcp.TCPInfo) int64 { return int64(i.TotalRetrans) },
	"tcpi_delivered":     func(i *tcp.TCPInfo) int64 { return int64(i.Delivered) },
	"tcpi_delivered_ce":  func(i *tcp.TCPInfo) int64 { return int64(i.DeliveredCE) },
	"tcpi_dsack_dups":    func(i *tcp.TCPInfo) int64 { return int64(i.DSACKDups) },
}

// tcpInfoCall is getsockopt(fd, SOL_TCP, TCP_INFO, {tcpi_…=N, …}, …):
// the fields the script names must be the socket's (packetdrill checks
// those it is given).
func tcpInfoCall(f *fd, st *pd.Struct) (*call, error) {
	type field struct {
		name string
		get  func(*tcp.TCPInfo) int64
		want int64
	}
	var fields []field
	for _, fe := range st.Fields {
		as, ok := fe.(*pd.Assign)
		if !ok {
			return nil, fmt.Errorf("bad tcp_info field %s", fe)
		}
		get := tcpInfoFields[as.LHS.String()]
		if get == nil {
			return nil, unsupported("tcp_info field %s", as.LHS)
		}
		v, err := eval(as.RHS)
		if err != nil {
			return nil, err
		}
		fields = append(fields, field{as.LHS.String(), get, v})
	}
	var info tcp.TCPInfo
	c := &call{}
	c.try = func() (int64, error, bool) {
		info = f.sk.Info()
		return completed(0, nil)
	}
	c.check = func() error {
		for _, x := range fields {
			if got := x.get(&info); got != x.want {
				return mismatchf("Bad getsockopt TCP_INFO %s: expected: %d actual: %d", x.name, x.want, got)
			}
		}
		return nil
	}
	return c, nil
}
