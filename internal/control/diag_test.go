package control

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	mnl "github.com/mdlayher/netlink"

	"vnic/internal/nlclient"
	"vnic/internal/ss"
	"vnic/internal/topo"
	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/netlink"
	"vnic/stack/tcp"
)

// diagWorld is the router topology with TCP on it: h2 listens on :8080
// and 127.0.0.1:22; h1 connects to h2 and sends 3000 bytes h2 does not
// read; h2 connects to its own 127.0.0.1:22 (over loopback) and closes,
// leaving TIME-WAIT behind.
func diagWorld(t testing.TB) *topo.World {
	t.Helper()
	// configs/examples/router.yaml: h1 — r — h2.
	cfg := topo.Config{Time: topo.VirtualTime, Seed: 1, Hosts: []topo.HostConfig{
		{Name: "h1", CPUs: 1, Devices: []topo.DeviceConfig{{Queues: 1, Addresses: []string{"198.18.5.2/24"}}}, Routes: []string{"default via 198.18.5.1"}},
		{Name: "r", CPUs: 1, Forwarding: true, Devices: []topo.DeviceConfig{{Queues: 1, Addresses: []string{"198.18.5.1/24"}}, {Queues: 1, Addresses: []string{"198.18.6.1/24"}}}},
		{Name: "h2", CPUs: 1, Devices: []topo.DeviceConfig{{Queues: 1, Addresses: []string{"198.18.6.2/24"}}}, Routes: []string{"default via 198.18.6.1"}},
	}, Cables: []topo.CableConfig{{A: "h1/vnic0", B: "r/vnic0"}, {A: "r/vnic1", B: "h2/vnic0"}}}
	w := topo.Started(t, cfg, 10*time.Millisecond)
	p1 := tcp.Of(ipv4.Of(w.Host("h1").Stack))
	p2 := tcp.Of(ipv4.Of(w.Host("h2").Stack))
	listen := func(ap string, backlog int) *tcp.Sock {
		l := p2.NewSocket()
		if err := l.Bind(netip.MustParseAddrPort(ap)); err != nil {
			t.Fatal(err)
		}
		if err := l.Listen(backlog); err != nil {
			t.Fatal(err)
		}
		return l
	}
	listen("0.0.0.0:8080", 5)
	ssh := listen("127.0.0.1:22", 128)
	c := p1.NewSocket()
	if err := c.Connect(netip.MustParseAddrPort("198.18.6.2:8080")); !errors.Is(err, syscall.EINPROGRESS) {
		t.Fatal(err)
	}
	lc := p2.NewSocket()
	if err := lc.Connect(netip.MustParseAddrPort("127.0.0.1:22")); !errors.Is(err, syscall.EINPROGRESS) {
		t.Fatal(err)
	}
	w.Run(50 * time.Millisecond)
	if _, err := c.Write(make([]byte, 3000)); err != nil {
		t.Fatal(err)
	}
	s, err := ssh.Accept()
	if err != nil {
		t.Fatal(err)
	}
	lc.Close()
	w.Run(time.Millisecond)
	s.Close()
	w.Run(100 * time.Millisecond)
	return w
}

// diagDump asks the control socket for host's sockets with ss's command
// line args.
func diagDump(t *testing.T, c *nlclient.Conn, host string, args ...string) ([][]byte, ss.Options) {
	t.Helper()
	o, err := ss.ParseArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, r := range o.Requests() {
		body := ss.AppendAttr(r.Append(nil), ss.ReqHost, append([]byte(host), 0))
		replies, err := c.Request(ss.FamilyName, ss.CmdSockDiagByFamily, mnl.Request|mnl.Dump, body)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, replies...)
	}
	return out, o
}

func ssPrint(t *testing.T, replies [][]byte, o ss.Options) string {
	t.Helper()
	var b bytes.Buffer
	if err := ss.Print(&b, o, ss.Env{PortLow: 32768, PortHigh: 60999}, replies); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// vnic_diag answers ss's requests with the host's sockets in the states
// asked, each as inet_diag_msg and, with -i, tcp_info and the
// congestion control's name; ss prints them as below (the virtual clock
// makes every field exact).
func TestDiagDump(t *testing.T) {
	w := diagWorld(t)
	_, c := serve(t, w)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-tan"}, `State     Recv-Q Send-Q Local Address:Port  Peer Address:Port Process
LISTEN    1      5            0.0.0.0:8080       0.0.0.0:*           
LISTEN    0      128        127.0.0.1:22         0.0.0.0:*           
TIME-WAIT 0      0          127.0.0.1:52683    127.0.0.1:22          
ESTAB     3000   0         198.18.6.2:8080    198.18.5.2:58824       
`},
		{[]string{"-tln"}, `State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess
LISTEN 1      5            0.0.0.0:8080      0.0.0.0:*          
LISTEN 0      128        127.0.0.1:22        0.0.0.0:*          
`},
		{[]string{"-4", "-tn"}, `State Recv-Q Send-Q Local Address:Port Peer Address:Port Process
ESTAB 3000   0         198.18.6.2:8080   198.18.5.2:58824       
`},
		{[]string{"-tanH", "state", "time-wait"}, "0      0      127.0.0.1:52683 127.0.0.1:22\n"},
		// The last line's fields are not measured (ss renders the field
		// it is in without flushing it): the -i line sets no width.
		{[]string{"-tanio"}, "State     Recv-Q Send-Q Local Address:Port  Peer Address:Port Process                    \n" +
			"LISTEN    1      5            0.0.0.0:8080       0.0.0.0:*    \n" +
			"\t cubic cwnd:10 unacked:1 \n" +
			"LISTEN    0      128        127.0.0.1:22         0.0.0.0:*    \n" +
			"\t cubic cwnd:10           \n" +
			"TIME-WAIT 0      0          127.0.0.1:52683    127.0.0.1:22    timer:(timewait,59sec,0)\n" +
			"\t\n" +
			"ESTAB     3000   0         198.18.6.2:8080    198.18.5.2:58824\n" +
			"\t ts sack cubic wscale:7,7 rto:201 rtt:0.003/0.001 ato:40 mss:1448 pmtu:1500 rcvmss:1448 advmss:1460 cwnd:10 bytes_received:3000 segs_out:3 segs_in:3 data_segs_in:3 send 38613333333bps lastsnd:100 lastrcv:100 lastack:100 pacing_rate 77226666664bps rcv_space:14600 rcv_ssthresh:70952 minrtt:0.003 snd_wnd:65280\n"},
	} {
		replies, o := diagDump(t, c, "h2", tc.args...)
		if got := ssPrint(t, replies, o); got != tc.want {
			t.Errorf("ss %v:\n%q\nwant\n%q", tc.args, got, tc.want)
		}
	}
	// h1's end: the data it sent is acknowledged, nothing is queued.
	replies, o := diagDump(t, c, "h1", "-tn")
	if got, want := ssPrint(t, replies, o), "State Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess\nESTAB 0      0         198.18.5.2:58824   198.18.6.2:8080       \n"; got != want {
		t.Errorf("h1:\n%q\nwant %q", got, want)
	}
}

// The installed ss (iproute2 6.1), reading vnic_diag's replies as a
// TCPDIAG_FILE, prints what internal/ss prints: the replies are in
// Linux's layout.
func TestDiagAsInstalledSS(t *testing.T) {
	path, err := exec.LookPath("ss")
	if err != nil {
		t.Skip("no ss on this machine")
	}
	if v, _ := exec.Command(path, "-V").Output(); !strings.Contains(string(v), "iproute2-6.1.0") {
		t.Skipf("ss is %q, not iproute2-6.1.0's", strings.TrimSpace(string(v)))
	}
	w := diagWorld(t)
	_, c := serve(t, w)
	dir := t.TempDir()
	rng := filepath.Join(dir, "range")
	os.WriteFile(rng, []byte("32768\t60999\n"), 0o644)
	for _, args := range [][]string{{"-tan"}, {"-tani"}, {"-tanio"}, {"-taneio"}, {"-tanm"}, {"-tanioO"}, {"-tl"}, {"-tan", "state", "established"}} {
		replies, o := diagDump(t, c, "h2", args...)
		f := filepath.Join(dir, "dump")
		var file []byte
		for _, r := range replies {
			file = appendNlmsg(file, ss.SockDiagByFamily, r)
		}
		file = appendNlmsg(file, ss.NlmsgDone, []byte{0, 0, 0, 0})
		os.WriteFile(f, file, 0o644)
		cmd := exec.Command(path, args...)
		cmd.Env = append(os.Environ(), "TCPDIAG_FILE="+f, "PROC_IP_LOCAL_PORT_RANGE="+rng)
		want, err := cmd.Output()
		if err != nil {
			t.Fatalf("ss %v: %v", args, err)
		}
		var got bytes.Buffer
		services, _ := os.Open("/etc/services")
		env := ss.Env{PortLow: 32768, PortHigh: 60999}
		if services != nil {
			env.Services = ss.ParseServices(services)
			services.Close()
		}
		if err := ss.Print(&got, o, env, replies); err != nil {
			t.Fatal(err)
		}
		if got.String() != string(want) {
			t.Errorf("ss %v:\n%s\nwant (ss)\n%s", args, got.String(), want)
		}
	}
}

// appendNlmsg appends a netlink message as ss -D writes one.
func appendNlmsg(b []byte, typ uint16, payload []byte) []byte {
	b = binary.NativeEndian.AppendUint32(b, uint32(16+len(payload)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = binary.NativeEndian.AppendUint16(b, uint16(mnl.Multi))
	b = binary.NativeEndian.AppendUint32(b, 123456)
	b = binary.NativeEndian.AppendUint32(b, 0)
	b = append(b, payload...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// Refusals, as the kernel words them where it has a word: a short
// request (EINVAL), another protocol or family (ENOENT: no handler), a
// bytecode filter (EOPNOTSUPP), an unknown host (ENOENT). IPv6 is an
// empty dump; without NLM_F_DUMP the request names one socket.
func TestDiagRequests(t *testing.T) {
	w := diagWorld(t)
	_, c := serve(t, w)
	req := func(flags mnl.HeaderFlags, r ss.ReqV2, attrs ...[]byte) ([][]byte, error) {
		body := r.Append(nil)
		for _, a := range attrs {
			body = append(body, a...)
		}
		return c.Request(ss.FamilyName, ss.CmdSockDiagByFamily, flags, body)
	}
	host := ss.AppendAttr(nil, ss.ReqHost, []byte("h2\x00"))
	all := ss.ReqV2{Family: ss.AFInet, Protocol: ss.IPProtoTCP, States: ss.StatesAll}
	dump := mnl.Request | mnl.Dump
	for _, tc := range []struct {
		name  string
		flags mnl.HeaderFlags
		r     ss.ReqV2
		attrs [][]byte
		errno syscall.Errno
		msg   string
		n     int
	}{
		{name: "all", flags: dump, r: all, attrs: [][]byte{host}, n: 4},
		{name: "listeners", flags: dump, r: ss.ReqV2{Family: ss.AFInet, Protocol: ss.IPProtoTCP, States: 1 << ss.StateListen}, attrs: [][]byte{host}, n: 2},
		{name: "none", flags: dump, r: ss.ReqV2{Family: ss.AFInet, Protocol: ss.IPProtoTCP}, attrs: [][]byte{host}, n: 0},
		{name: "ipv6", flags: dump, r: ss.ReqV2{Family: ss.AFInet6, Protocol: ss.IPProtoTCP, States: ss.StatesAll}, attrs: [][]byte{host}, n: 0},
		{name: "udp", flags: dump, r: ss.ReqV2{Family: ss.AFInet, Protocol: 17, States: ss.StatesAll}, attrs: [][]byte{host}, errno: syscall.ENOENT, msg: "no sock_diag handler for protocol 17: vnic serves TCP"},
		{name: "unix", flags: dump, r: ss.ReqV2{Family: 1, Protocol: ss.IPProtoTCP, States: ss.StatesAll}, attrs: [][]byte{host}, errno: syscall.ENOENT, msg: "no sock_diag handler for family 1"},
		{name: "bytecode", flags: dump, r: all, attrs: [][]byte{host, ss.AppendAttr(nil, ss.ReqBytecode, []byte{1, 4, 8, 0})}, errno: syscall.EOPNOTSUPP, msg: "bytecode filters are not supported"},
		{name: "no host", flags: dump, r: all, errno: syscall.ENOENT, msg: `no host "" in the running topology`},
		{name: "unknown host", flags: dump, r: all, attrs: [][]byte{ss.AppendAttr(nil, ss.ReqHost, []byte("nope\x00"))}, errno: syscall.ENOENT, msg: `no host "nope" in the running topology`},
		{name: "exact", flags: mnl.Request, r: ss.ReqV2{Family: ss.AFInet, Protocol: ss.IPProtoTCP,
			ID: ss.SockID{SPort: 22, Src: netip.MustParseAddr("127.0.0.1"), Dst: netip.IPv4Unspecified()}}, attrs: [][]byte{host}, n: 1},
		{name: "exact none", flags: mnl.Request, r: ss.ReqV2{Family: ss.AFInet, Protocol: ss.IPProtoTCP,
			ID: ss.SockID{SPort: 23, Src: netip.MustParseAddr("127.0.0.1"), Dst: netip.IPv4Unspecified()}}, attrs: [][]byte{host}, errno: syscall.ENOENT, msg: "no such socket"},
	} {
		replies, err := req(tc.flags, tc.r, tc.attrs...)
		if tc.errno != 0 {
			var ne *netlink.Error
			if !errors.As(err, &ne) || ne.Errno != tc.errno || ne.Msg != tc.msg {
				t.Errorf("%s: %v, want %v %q", tc.name, err, tc.errno, tc.msg)
			}
			continue
		}
		if err != nil || len(replies) != tc.n {
			t.Errorf("%s: %d replies, %v; want %d", tc.name, len(replies), err, tc.n)
		}
	}
	// A body shorter than the request struct.
	if _, err := c.Request(ss.FamilyName, ss.CmdSockDiagByFamily, dump, []byte{2, 6}); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("short request: %v, want EINVAL", err)
	}
}

// A TIME-WAIT socket is the kernel's inet_twsk_diag_fill: its timer,
// no queues, no attributes even when -i asks; a listener's tcp_info is
// what tcp_get_info gives one.
func TestDiagMsgShapes(t *testing.T) {
	tw := tcp.SockDiag{State: tcp.TimeWait, Local: netip.MustParseAddrPort("198.18.0.1:5000"), Remote: netip.MustParseAddrPort("198.18.0.2:80"),
		RecvQ: 3, Timer: tcp.DiagTimerTimeWait, TimerExpires: 59500 * time.Millisecond, TimerRetrans: 2, Info: tcp.TCPInfo{Congestion: "cubic"}}
	b := diagMsg(tw, ss.ExtInfo|ss.ExtCong)
	m, rest, err := ss.ParseMsg(b)
	if err != nil || len(rest) != 0 || m.State != ss.StateTimeWait || m.Timer != ss.TimerTimeWait || m.Expires != 59500 || m.RQueue != 0 || m.Retrans != 0 {
		t.Errorf("TIME-WAIT: %+v, %d bytes of attributes, %v", m, len(rest), err)
	}
	l := tcp.SockDiag{State: tcp.Listen, Local: netip.MustParseAddrPort("0.0.0.0:80"), RecvQ: 2, SendQ: 128,
		Info: tcp.TCPInfo{State: tcp.Listen, RTO: 1000000, SndMSS: 536, SndCwnd: 10, Reordering: 3, Congestion: "reno"}}
	m, rest, _ = ss.ParseMsg(diagMsg(l, ss.ExtInfo|ss.ExtCong))
	tb := ss.ParseAttrs(rest)
	i := ss.ParseTCPInfo(tb[ss.AttrInfo])
	want := ss.TCPInfo{State: ss.StateListen, SndCwnd: 10, Reordering: 3, Unacked: 2, Sacked: 128, MaxPacingRate: ^uint64(0)}
	if i != want || string(tb[ss.AttrCong]) != "reno\x00" || m.ID.Dst != netip.IPv4Unspecified() || m.RQueue != 2 || m.WQueue != 128 {
		t.Errorf("listener: %+v %+v cong %q", m, i, tb[ss.AttrCong])
	}
	// Without ext bits: the message alone.
	if _, rest, _ := ss.ParseMsg(diagMsg(l, 0)); len(rest) != 0 {
		t.Errorf("no ext: %d bytes of attributes", len(rest))
	}
	if msCeil(1500*time.Microsecond) != 2 || msCeil(0) != 0 || msCeil(-time.Second) != 0 || msCeil(time.Second) != 1000 {
		t.Error("msCeil")
	}
}

// FuzzDiagRequest: any request body is answered or refused without a
// panic, and every answer is an inet_diag_msg ss reads.
func FuzzDiagRequest(f *testing.F) {
	w := diagWorld(f)
	d := &diagService{host: func(n string) *stack.Host {
		if h := w.Host(n); h != nil {
			return h.Stack
		}
		return nil
	}, exec: func(fn func()) { fn() }}
	host := ss.AppendAttr(nil, ss.ReqHost, []byte("h2\x00"))
	for _, r := range []ss.ReqV2{{Family: ss.AFInet, Protocol: ss.IPProtoTCP, States: ss.StatesAll, Ext: 0xff},
		{Family: ss.AFInet6, Protocol: ss.IPProtoTCP, States: 1},
		{Family: ss.AFInet, Protocol: ss.IPProtoTCP, ID: ss.SockID{SPort: 22, Src: netip.MustParseAddr("127.0.0.1"), Dst: netip.IPv4Unspecified()}}} {
		f.Add(append(r.Append(nil), host...), true)
		f.Add(append(r.Append(nil), host...), false)
	}
	f.Add([]byte{}, true)
	f.Fuzz(func(t *testing.T, body []byte, dump bool) {
		replies, off, err := d.handle(ss.CmdSockDiagByFamily, dump, body)
		if err != nil {
			if off > len(body) {
				t.Fatalf("error offset %d past the %d-byte body: %v", off, len(body), err)
			}
			return
		}
		for _, r := range replies {
			_, _, b, ok := netlink.SplitGenl(r)
			if !ok {
				t.Fatal("no genl header")
			}
			if _, _, err := ss.ParseMsg(b); err != nil {
				t.Fatal(err)
			}
			if err := ss.Print(&bytes.Buffer{}, ss.Options{States: ss.StatesAll, Info: true, Timers: true}, ss.Env{}, [][]byte{b}); err != nil {
				t.Fatal(err)
			}
		}
	})
}
