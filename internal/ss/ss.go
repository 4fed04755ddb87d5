package ss

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// Options are ss's command line as it shapes the requests and the
// output (ParseArgs reads them).
type Options struct {
	States    uint32 // idiag_states: 1 << state for each state to show
	Family    uint8  // 0: AF_INET then AF_INET6, as ss asks; AFInet (-4) or AFInet6 (-6)
	Numeric   bool   // -n: ports as numbers (and rates in bits per second)
	Resolve   bool   // -r: host names (vnic's hosts have none: addresses stay numeric)
	Timers    bool   // -o (also -e): the timer column
	Details   bool   // -e: uid, inode, cookie, mark, shutdown
	Memory    bool   // -m: socket memory
	Info      bool   // -i: TCP_INFO
	Processes bool   // -p: the sockets' processes (vnic's have none)
	NoHeader  bool   // -H
	OneLine   bool   // -O: the -i and -m line on the socket's line
	Host      string // -N NAME: the host, as ss -N names a namespace
}

// Requests are the dumps ss sends for the options, in its order: one
// inet_diag_req_v2 per family (inet_show_netlink, sockdiag_send).
func (o Options) Requests() []ReqV2 {
	var ext uint8
	if o.Memory {
		ext |= ExtMemInfo | ExtSkMemInfo
	}
	if o.Info {
		ext |= ExtInfo | ExtVegasInfo | ExtCong
	}
	r := ReqV2{Family: AFInet, Protocol: IPProtoTCP, Ext: ext, States: o.States}
	switch o.Family {
	case AFInet:
		return []ReqV2{r}
	case AFInet6:
		r.Family = AFInet6
		return []ReqV2{r}
	}
	r6 := r
	r6.Family = AFInet6
	return []ReqV2{r, r6}
}

// Env is what ss reads on the machine it runs on besides the sockets:
// service names, the ephemeral port range, the terminal's width and the
// devices' names.
type Env struct {
	// Services maps a TCP port to its name in /etc/services (the first
	// entry for it, as getservbyport finds it).
	Services map[uint16]string
	// PortLow and PortHigh are the host's ip_local_port_range: ports in
	// it keep their numbers. Zero: ss's fallback when it cannot read
	// the range, 1024 to 4999.
	PortLow, PortHigh int
	// Screen is the terminal's width; 0 when the output is not a
	// terminal (ss then sizes the columns to their contents alone).
	Screen int
	// IfName names a bound device's index (nil: "if%d", iproute2's
	// name for an index it does not know).
	IfName func(int) string
}

// Printer prints sockets as ss does: Header first (unless -H), then Sock
// for each reply of the dumps, then Flush.
type Printer struct {
	o   Options
	env Env
	t   *table
}

// NewPrinter prints to w.
func NewPrinter(w io.Writer, o Options, env Env) *Printer {
	p := &Printer{o: o, env: env, t: newTable(w, env.Screen)}
	// One table, no Netid column; one state asked, no State column.
	p.t.cols[colNetid].disabled = true
	if o.States&(o.States-1) == 0 {
		p.t.cols[colState].disabled = true
	}
	return p
}

// Header buffers the column titles (print_header); with -H ss leaves
// it out.
func (p *Printer) Header() {
	if !p.o.NoHeader {
		p.t.header()
	}
}

// Flush renders what is buffered and reports a write error.
func (p *Printer) Flush() error {
	p.t.render()
	return p.t.err
}

// Print prints the header and every reply, as one ss run.
func Print(w io.Writer, o Options, env Env, replies [][]byte) error {
	p := NewPrinter(w, o, env)
	p.Header()
	for _, r := range replies {
		if err := p.Sock(r); err != nil {
			return err
		}
	}
	return p.Flush()
}

// ss's names for the states (sock_state_print's sstate_name).
var stateNames = [...]string{"UNKNOWN", "ESTAB", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",
	"TIME-WAIT", "UNCONN", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING"}

// Sock buffers one socket: a reply's body, struct inet_diag_msg and its
// attributes (show_one_inet_sock, inet_show_sock). A socket of a family
// the options leave out is skipped, as ss skips it.
func (p *Printer) Sock(reply []byte) error {
	m, rest, err := ParseMsg(reply)
	if err != nil {
		return err
	}
	if p.o.Family != 0 && m.Family != p.o.Family || m.Family != AFInet && m.Family != AFInet6 {
		return nil
	}
	tb := ParseAttrs(rest)
	proto := uint8(IPProtoTCP)
	if a := tb[AttrProtocol]; len(a) >= 1 {
		proto = a[0]
	}
	t := p.t
	// sock_state_print
	t.set(colNetid)
	t.out("tcp")
	t.set(colState)
	name := "UNKNOWN"
	if int(m.State) < len(stateNames) {
		name = stateNames[m.State]
	}
	t.out(name)
	t.set(colRecvQ)
	t.out(fmt.Sprintf("%-6d", int32(m.RQueue)))
	t.set(colSendQ)
	t.out(fmt.Sprintf("%-6d", int32(m.WQueue)))
	t.set(colAddr)
	v6only := false
	if a := tb[AttrSkV6Only]; m.Family == AFInet6 && len(a) >= 1 {
		v6only = a[0] != 0
	}
	p.addr(m.ID.Src, m.ID.SPort, int(m.ID.If), v6only)
	p.addr(m.ID.Dst, m.ID.DPort, 0, v6only)
	// -p: vnic's sockets belong to no process (proc_ctx_print finds none).
	if p.o.Timers {
		p.timer(m)
	}
	if p.o.Details {
		p.details(m, tb, v6only)
	}
	if p.o.Memory || p.o.Info && proto != 17 { // IPPROTO_UDP
		if !p.o.OneLine {
			t.out("\n\t")
		}
		p.tcpInfo(m, tb)
	}
	return nil
}

// addr prints an address and its port (inet_addr_print, sock_addr_print).
func (p *Printer) addr(a netip.Addr, port uint16, ifindex int, v6only bool) {
	var s string
	switch {
	case a.Is4():
		s = a.String()
	case !v6only && a == netip.IPv6Unspecified():
		s = "*"
	default:
		s = a.String()
		if strings.Contains(s, ":") {
			s = "[" + s + "]"
		}
	}
	if ifindex != 0 {
		name := fmt.Sprintf("if%d", ifindex)
		if p.env.IfName != nil {
			name = p.env.IfName(ifindex)
		}
		s += "%" + name
	}
	p.t.out(s + ":")
	p.t.next()
	p.t.out(p.service(port))
	p.t.next()
}

// service is a port as ss shows it (resolve_service): "*" for none; its
// name in /etc/services unless -n or the port is ephemeral.
func (p *Printer) service(port uint16) string {
	if port == 0 {
		return "*"
	}
	if !p.o.Numeric {
		lo, hi := p.env.PortLow, p.env.PortHigh
		if lo == 0 {
			lo, hi = 1024, 4999 // is_ephemeral without the range
		}
		if int(port) < lo || int(port) > hi {
			if name, ok := p.env.Services[port]; ok {
				return name
			}
		}
	}
	return strconv.Itoa(int(port))
}

var timerNames = [...]string{"off", "on", "keepalive", "timewait", "persist", "unknown"}

// timer prints the pending timer (tcp_timer_print).
func (p *Printer) timer(m Msg) {
	if m.Timer == 0 {
		return
	}
	k := min(int(m.Timer), 5)
	p.t.out(fmt.Sprintf(" timer:(%s,%s,%d)", timerNames[k], msTimer(m.Expires), m.Retrans))
}

// msTimer is ss's print_ms_timer: minutes, seconds and milliseconds,
// the smaller units dropped as the larger grow.
func msTimer(timeout uint32) string {
	secs := int(timeout / 1000)
	minutes := secs / 60
	secs %= 60
	msecs := int(timeout % 1000)
	var b strings.Builder
	if minutes != 0 {
		msecs = 0
		fmt.Fprintf(&b, "%dmin", minutes)
		if minutes > 9 {
			secs = 0
		}
	}
	if secs != 0 {
		if secs > 9 {
			msecs = 0
		}
		sep := "sec"
		if msecs != 0 {
			sep = "."
		}
		fmt.Fprintf(&b, "%d%s", secs, sep)
	}
	if msecs != 0 {
		fmt.Fprintf(&b, "%03dms", msecs)
	}
	return b.String()
}

// details prints -e's fields (sock_details_print, then inet_show_sock's
// v6only and shutdown). ss's cgroup path is left out: vnic's sockets
// have no cgroup.
func (p *Printer) details(m Msg, tb Attrs, v6only bool) {
	t := p.t
	if m.UID != 0 {
		t.out(fmt.Sprintf(" uid:%d", m.UID))
	}
	t.out(fmt.Sprintf(" ino:%d", m.Inode))
	t.out(fmt.Sprintf(" sk:%x", uint64(m.ID.Cookie[1])<<32|uint64(m.ID.Cookie[0])))
	if a := tb[AttrMark]; len(a) >= 4 {
		if mark := binary.NativeEndian.Uint32(a); mark != 0 {
			t.out(fmt.Sprintf(" fwmark:0x%x", mark))
		}
	}
	if m.Family == AFInet6 && tb[AttrSkV6Only] != nil {
		v := 0
		if v6only {
			v = 1
		}
		t.out(fmt.Sprintf(" v6only:%d", v))
	}
	if a := tb[AttrShutdown]; len(a) >= 1 {
		rd, wr := byte('<'), byte('>')
		if a[0]&1 != 0 {
			rd = '-'
		}
		if a[0]&2 != 0 {
			wr = '-'
		}
		t.out(fmt.Sprintf(" %c-%c", rd, wr))
	}
}

// u32s reads n host-order words of b, zero past its end.
func u32s(b []byte, n int) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		if len(b) >= 4*(i+1) {
			out[i] = binary.NativeEndian.Uint32(b[4*i:])
		}
	}
	return out
}

// skmem prints -m's memory (print_skmeminfo): SKMEMINFO's counters,
// else the older MEMINFO.
func (p *Printer) skmem(tb Attrs) {
	a := tb[AttrSkMemInfo]
	if a == nil {
		if mi := tb[AttrMemInfo]; mi != nil {
			v := u32s(mi, 4)
			p.t.out(fmt.Sprintf(" mem:(r%d,w%d,f%d,t%d)", v[0], v[1], v[2], v[3]))
		}
		return
	}
	v := u32s(a, skMemInfoVars)
	p.t.out(fmt.Sprintf(" skmem:(r%d,rb%d,t%d,tb%d,f%d,w%d,o%d", v[0], v[1], v[2], v[3], v[4], v[5], v[6]))
	if len(a) >= (skMemInfoBacklog+1)*4 {
		p.t.out(fmt.Sprintf(",bl%d", v[skMemInfoBacklog]))
	}
	if len(a) >= (skMemInfoDrops+1)*4 {
		p.t.out(fmt.Sprintf(",d%d", v[skMemInfoDrops]))
	}
	p.t.out(")")
}
