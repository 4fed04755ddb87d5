package ipv4_test

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"vnic/header"
	"vnic/internal/iproute"
	"vnic/internal/stacktest"
	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/ipv4/fib"
	"vnic/stack/neigh"
	"vnic/stack/rtnetlink"
	"vnic/stack/udp"
)

// hub is a shared Ethernet segment: a frame one port sends reaches every
// other port (the MAC filter of each host decides), logged like a wire's.
type hub struct {
	ports  []*hubPort
	frames *[]frame
}

type hubPort struct {
	stacktest.NopOps
	dev *stack.NetDevice
	hub *hub
}

func (p *hubPort) Open() error { p.dev.CarrierOn(); return nil }
func (p *hubPort) StartXmit(s *stack.SKB, q *stack.TxQueue) stack.TxResult {
	b := append([]byte(nil), s.Data()...)
	s.Consume()
	if len(b) < 60 {
		b = append(b, make([]byte, 60-len(b))...)
	}
	*p.hub.frames = append(*p.hub.frames, frame{p.dev.Host().Name() + "/" + p.dev.Name(), b})
	for _, o := range p.hub.ports {
		if o == p {
			continue
		}
		r := o.dev.Host().Pool().Alloc(len(b) + stack.NetIPAlign)
		r.Reserve(stack.NetIPAlign)
		copy(r.Put(len(b)), b)
		r.Protocol = stack.EthTypeTrans(r, o.dev)
		_ = stack.NetifRx(r, 0)
	}
	return stack.TxOK
}

// join puts a device of host (address addr) on the hub.
func (r *inetRig) join(h *hub, host, addr string) *stack.NetDevice {
	r.t.Helper()
	p := &hubPort{hub: h}
	d := stack.NewEtherDevice("eth%d", p, 1, 1, 9000)
	macSeq++
	d.SetAddrInit(stack.MAC{2, 0, 0, 0, 0, macSeq})
	p.dev = d
	if err := r.hosts[host].Register(d); err != nil {
		r.t.Fatal(err)
	}
	if err := d.Open(); err != nil {
		r.t.Fatal(err)
	}
	if err := r.inet[host].AddAddr(d, netip.MustParsePrefix(addr)); err != nil {
		r.t.Fatal(err)
	}
	h.ports = append(h.ports, p)
	return d
}

// redirectRig is a, r1 and r2 on one segment (198.18.1.0/24) and d behind
// r2 (198.18.2.0/24): a's default gateway is r1, whose route to d's
// network goes back out through r2 — the case redirects are for.
func redirectRig(t *testing.T) (*inetRig, map[string]*stack.NetDevice) {
	r := newInetRig(t, "a", "r1", "r2", "d")
	h := &hub{frames: &r.frames}
	devs := map[string]*stack.NetDevice{
		"a": r.join(h, "a", "198.18.1.10/24"), "r1": r.join(h, "r1", "198.18.1.1/24"), "r2": r.join(h, "r2", "198.18.1.2/24"),
	}
	r.link("r2", "198.18.2.1/24", "d", "198.18.2.2/24", 0)
	for _, c := range []struct {
		h, dst string
		l      uint8
		gw     string
	}{{"a", "0.0.0.0", 0, "198.18.1.1"}, {"r1", "198.18.2.0", 24, "198.18.1.2"}, {"d", "0.0.0.0", 0, "198.18.2.1"}} {
		if err := r.inet[c.h].RouteAdd(fib.Route{Dst: mustAddr(c.dst).As4(), Len: c.l, Gateway: mustAddr(c.gw).As4()}, false); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"r1", "r2"} {
		if err := r.inet[n].SetForwarding(true); err != nil {
			t.Fatal(err)
		}
	}
	r.run(time.Millisecond)
	r.frames = nil
	return r, devs
}

func outRedirects(in *ipv4.Inet) uint64 { return in.ICMPStats.OutType[ipv4.ICMPRedirect].Load() }
func inRedirects(in *ipv4.Inet) uint64  { return in.ICMPStats.InType[ipv4.ICMPRedirect].Load() }

// The redirect r1 sends for a's first echo: type 5 code 1 from r1's
// address on the segment, naming r2, quoting the echo as forwarded (TTL
// 63); the echo itself goes on to r2.
func checkRedirectFrame(t *testing.T, r *inetRig) {
	t.Helper()
	n := 0
	for _, f := range r.frames {
		if f.from != "r1/eth0" || binary.BigEndian.Uint16(f.b[12:14]) != stack.EthPIPv4 {
			continue
		}
		ip := header.IPv4(f.b[14:])
		if ip.Protocol() != ipv4.IPProtoICMP || f.b[14+ip.HeaderLen()] != ipv4.ICMPRedirect {
			continue
		}
		n++
		m := header.ICMPv4(f.b[14+ip.HeaderLen() : 14+int(ip.TotalLen())])
		quoted := header.IPv4(m.Payload())
		if ip.Src() != mustAddr("198.18.1.1").As4() || ip.Dst() != mustAddr("198.18.1.10").As4() || m.Code() != 1 ||
			m.Gateway() != mustAddr("198.18.1.2").As4() || quoted.TTL() != 63 || quoted.Dst() != mustAddr("198.18.2.2").As4() ||
			len(m.Payload()) != 84 || header.Checksum(m) != 0 {
			t.Fatalf("redirect %v>%v code %d gw %v, quoting ttl %d to %v, %d bytes", ip.Src(), ip.Dst(), m.Code(), m.Gateway(), quoted.TTL(), quoted.Dst(), len(m.Payload()))
		}
	}
	if n != 1 {
		t.Fatalf("%d redirects on the wire, want 1", n)
	}
}

// a's first echo to d goes through r1, which forwards it to r2 on the
// same segment and redirects a to r2. a has no neighbour entry for r2
// yet, so it only resolves it (Linux 6.18 in a scratch namespace does
// the same: the first redirect is counted, not taken); the second echo,
// a second later, brings a second redirect, which a takes: a nexthop
// exception with gateway r2, RTCF_REDIRECTED, lapsing gc_timeout (300 s)
// on. The third echo goes to r2 directly; r1 forwards nothing more.
// net.ipv4.route.flush empties the exception.
func TestRedirectSentAndTaken(t *testing.T) {
	r, devs := redirectRig(t)
	a, r1, r2 := r.inet["a"], r.inet["r1"], r.inet["r2"]
	c := ping(t, a, "198.18.2.2", 1, 56, ipv4.PingOptions{})
	r.run(100 * time.Millisecond)
	checkRedirectFrame(t, r)
	if out, in, fw := outRedirects(r1), inRedirects(a), r1.Stats.ForwDatagrams.Load(); out != 1 || in != 1 || fw != 1 {
		t.Fatalf("echo 1: r1 sent %d redirects and forwarded %d, a got %d", out, fw, in)
	}
	// The socket hears the redirect (as ping with IP_RECVERR does), then
	// the reply.
	if m, ok := c.Recv(); !ok || !m.IsError || m.Type != ipv4.ICMPRedirect || m.Code != 1 || m.Info != header.IPv4Uint32(mustAddr("198.18.1.2").As4()) || m.From != mustAddr("198.18.1.1") {
		t.Fatalf("redirect to the socket: %+v %v", m, ok)
	}
	if m, ok := c.Recv(); !ok || m.Type != ipv4.ICMPEchoReply {
		t.Fatalf("reply: %+v %v", m, ok)
	}
	if d := routeTo(t, a, "198.18.2.2"); d.Gateway != mustAddr("198.18.1.1").As4() || d.Flags&ipv4.RTCFRedirected != 0 {
		t.Fatalf("after echo 1: via %v flags %#x", d.Gateway, d.Flags)
	}
	// neigh_event_send: a resolves r2 itself, as Linux does (r2
	// REACHABLE).
	want := neigh.NUDReachable
	if !slices.Contains(r.summary(), "a/eth0 ARP who-has 198.18.1.2 tell 198.18.1.10") {
		t.Fatalf("a did not resolve r2:\n%s", strings.Join(r.summary(), "\n"))
	}
	if n, ok := a.ARP(devs["a"]).Lookup(mustAddr("198.18.1.2").As4()); !ok || n.State != want {
		t.Fatalf("a's entry for r2: %v %v, want %v", n.State, ok, want)
	}
	r.run(900 * time.Millisecond)
	ping(t, a, "198.18.2.2", 2, 56, ipv4.PingOptions{})
	r.run(100 * time.Millisecond)
	if out, in, fw := outRedirects(r1), inRedirects(a), r1.Stats.ForwDatagrams.Load(); out != 2 || in != 2 || fw != 2 {
		t.Fatalf("echo 2: r1 sent %d redirects and forwarded %d, a got %d", out, fw, in)
	}
	d := routeTo(t, a, "198.18.2.2")
	_, _, left, ok := d.Exception()
	if d.Gateway != mustAddr("198.18.1.2").As4() || d.Flags&ipv4.RTCFRedirected == 0 || d.MTU() != 1500 || !ok || left > 300*time.Second-100*time.Millisecond || left < 300*time.Second-101*time.Millisecond {
		t.Fatalf("after echo 2: via %v flags %#x mtu %d, exception %v left %v", d.Gateway, d.Flags, d.MTU(), ok, left)
	}
	// ip route get's answer (rt_fill_info): RTCF_REDIRECTED in rtm_flags'
	// high half ("cache <redirected>"), the new gateway, and 300 s left
	// in RTA_CACHEINFO ("expires 299sec" a moment later).
	ms, err := rtnetlink.Handle(a.Host(), rtnetlink.Request{Type: rtnetlink.RTMGetRoute, Body: rtnetlink.RouteMsg{DstLen: 32, Dst: mustAddr("198.18.2.2")}.Marshal()})
	if err != nil || len(ms) != 1 {
		t.Fatalf("route get: %v %d", err, len(ms))
	}
	var rm rtnetlink.RouteMsg
	if err := rm.Unmarshal(ms[0].Body); err != nil || rm.Flags&ipv4.RTCFRedirected == 0 || rm.Gateway != mustAddr("198.18.1.2") {
		t.Fatalf("route get: %+v %v", rm, err)
	}
	if ci := iproute.RouteCacheInfo(ms[0].Body); ci.Expires != int32((300*time.Second-100*time.Millisecond)/(10*time.Millisecond)) {
		t.Fatalf("route get: expires %d ticks", ci.Expires)
	}
	// Another destination behind r1 keeps r1.
	if d := routeTo(t, a, "198.18.2.3"); d.Gateway != mustAddr("198.18.1.1").As4() {
		t.Fatalf("other destination via %v", d.Gateway)
	}
	r.frames = nil
	fw2 := r2.Stats.ForwDatagrams.Load()
	ping(t, a, "198.18.2.2", 3, 56, ipv4.PingOptions{})
	r.run(100 * time.Millisecond)
	if fw := r1.Stats.ForwDatagrams.Load(); fw != 2 || outRedirects(r1) != 2 {
		t.Fatalf("echo 3: r1 forwarded %d", fw)
	}
	if got := r2.Stats.ForwDatagrams.Load() - fw2; got != 2 {
		t.Fatalf("echo 3: r2 forwarded %d, want 2", got)
	}
	for _, f := range r.frames {
		if f.from == "a/eth0" && binary.BigEndian.Uint16(f.b[12:14]) == stack.EthPIPv4 && stack.MAC(f.b[0:6]) != devs["r2"].Addr() {
			t.Fatalf("echo 3 left a for %v, not r2 (%v)", stack.MAC(f.b[0:6]), devs["r2"].Addr())
		}
	}
	sysctl(t, a.Host(), "net.ipv4.route.flush", "1")
	if d := routeTo(t, a, "198.18.2.2"); d.Gateway != mustAddr("198.18.1.1").As4() || d.Flags&ipv4.RTCFRedirected != 0 {
		t.Fatalf("flushed: via %v flags %#x", d.Gateway, d.Flags)
	}
}

// A redirect's exception lapses gc_timeout after it was taken.
func TestRedirectExpires(t *testing.T) {
	r, _ := redirectRig(t)
	a := r.inet["a"]
	sysctl(t, a.Host(), "net.ipv4.route.gc_timeout", "60")
	for seq := uint16(1); seq <= 2; seq++ {
		ping(t, a, "198.18.2.2", seq, 56, ipv4.PingOptions{})
		r.run(time.Second)
	}
	if d := routeTo(t, a, "198.18.2.2"); d.Gateway != mustAddr("198.18.1.2").As4() {
		t.Fatalf("taken: via %v", d.Gateway)
	}
	r.run(58 * time.Second)
	if d := routeTo(t, a, "198.18.2.2"); d.Gateway != mustAddr("198.18.1.2").As4() {
		t.Fatalf("59 s on: via %v", d.Gateway)
	}
	r.run(time.Second + 10*time.Millisecond)
	if d := routeTo(t, a, "198.18.2.2"); d.Gateway != mustAddr("198.18.1.1").As4() || d.Flags&ipv4.RTCFRedirected != 0 {
		t.Fatalf("60 s on: via %v", d.Gateway)
	}
}

// r1's redirects to one sender back off exponentially: the first at
// once, the n-th 20 ms << (n-1) after the one before, nine in all
// (20·(2+4+…+256) = 10.2 s with an echo every 10 ms); then none while the
// sender keeps sending, and again after 20.48 s of silence. Every echo
// is forwarded. a refuses the redirects (accept_redirects 0), so each
// echo goes through r1.
func TestRedirectRateLimit(t *testing.T) {
	r, _ := redirectRig(t)
	a, r1 := r.inet["a"], r.inet["r1"]
	sysctl(t, a.Host(), "net.ipv4.conf.all.accept_redirects", "0")
	sysctl(t, a.Host(), "net.ipv4.conf.eth0.accept_redirects", "0")
	c, err := a.OpenPing()
	if err != nil {
		t.Fatal(err)
	}
	seq := uint16(0)
	echoes := func(n int) {
		for range n {
			seq++
			if err := c.SendEcho(mustAddr("198.18.2.2"), seq, make([]byte, 56), ipv4.PingOptions{}); err != nil {
				t.Fatal(err)
			}
			r.run(10 * time.Millisecond)
		}
	}
	// Redirect k goes with the first echo past 20 ms·(2^k − 2) after
	// the first, each echo 10 ms apart: echoes 0, 5, 14, 31, 64, 129,
	// 258, 515, 1028 (0-based).
	for _, step := range []struct{ echoes, want int }{{1, 1}, {4, 1}, {1, 2}, {300, 7}, {800, 9}, {1000, 9}} {
		echoes(step.echoes)
		if got := outRedirects(r1); got != uint64(step.want) {
			t.Fatalf("after %d echoes: %d redirects, want %d", seq, got, step.want)
		}
	}
	if fw := r1.Stats.ForwDatagrams.Load(); fw != uint64(seq) {
		t.Fatalf("forwarded %d of %d", fw, seq)
	}
	if in := inRedirects(a); in != 9 {
		t.Fatalf("a got %d redirects", in)
	}
	if d := routeTo(t, a, "198.18.2.2"); d.Gateway != mustAddr("198.18.1.1").As4() {
		t.Fatalf("refused redirects taken: via %v", d.Gateway)
	}
	// Just under the silence: still nothing; past it: the count starts
	// over.
	r.run(20480*time.Millisecond - 10*time.Millisecond - time.Millisecond)
	echoes(1)
	if got := outRedirects(r1); got != 9 {
		t.Fatalf("before the silence ended: %d", got)
	}
	r.run(20480*time.Millisecond + time.Millisecond)
	echoes(1)
	if got := outRedirects(r1); got != 10 {
		t.Fatalf("after the silence: %d", got)
	}
}

// forge delivers to a, as if from src on the segment, a redirect (code,
// to gw) quoting q.
func forge(r *inetRig, devA *stack.NetDevice, src string, code uint8, gw string, q []byte) {
	icmp := make([]byte, 8+len(q))
	icmp[0], icmp[1] = ipv4.ICMPRedirect, code
	copy(icmp[4:8], mustAddr(gw).AsSlice())
	copy(icmp[8:], q)
	binary.BigEndian.PutUint16(icmp[2:], header.Checksum(icmp))
	ip := make([]byte, 20+len(icmp))
	ip[0], ip[8], ip[9] = 0x45, 64, ipv4.IPProtoICMP
	binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
	copy(ip[12:16], mustAddr(src).AsSlice())
	copy(ip[16:20], mustAddr("198.18.1.10").AsSlice())
	binary.BigEndian.PutUint16(ip[10:], header.Checksum(ip[:20]))
	copy(ip[20:], icmp)
	mac := devA.Addr()
	f := append(append(append(mac[:], 2, 0, 0, 0, 0, 0xee), 0x08, 0x00), ip...)
	skb := devA.Host().Pool().Alloc(len(f) + stack.NetIPAlign)
	skb.Reserve(stack.NetIPAlign)
	copy(skb.Put(len(f)), f)
	skb.Protocol = stack.EthTypeTrans(skb, devA)
	_ = stack.NetifRx(skb, 0)
	r.run(time.Millisecond)
}

// Whether a takes a redirect, judged as __ip_do_redirect judges it: each
// case forges one (r1 itself sends none: send_redirects 0) about a's echo
// to d, with r2 (and 198.18.3.1, off the segment) in a's ARP table.
func TestRedirectTaken(t *testing.T) {
	type rig struct {
		r   *inetRig
		a   *ipv4.Inet
		dev *stack.NetDevice
	}
	set := func(kv ...string) func(*testing.T, rig) {
		return func(t *testing.T, g rig) {
			for i := 0; i < len(kv); i += 2 {
				sysctl(t, g.a.Host(), kv[i], kv[i+1])
			}
		}
	}
	for _, c := range []struct {
		name     string
		setup    func(*testing.T, rig)
		src, gw  string
		code     uint8
		reply    bool // quote an echo reply (the kernel's) rather than the socket's request
		noSocket bool // the echo's socket is closed first
		want     bool
	}{
		{name: "host redirect from the gateway", src: "198.18.1.1", gw: "198.18.1.2", code: 1, want: true},
		{name: "net redirect", src: "198.18.1.1", gw: "198.18.1.2", code: 0, want: true},
		{name: "TOS host redirect", src: "198.18.1.1", gw: "198.18.1.2", code: 3, want: true},
		{name: "code 9 taken by its low bits", src: "198.18.1.1", gw: "198.18.1.2", code: 9, want: true},
		{name: "code 4", src: "198.18.1.1", gw: "198.18.1.2", code: 4},
		{name: "not from the current gateway", src: "198.18.1.3", gw: "198.18.1.2", code: 1},
		{name: "accept_redirects 0", setup: set("net.ipv4.conf.all.accept_redirects", "0", "net.ipv4.conf.eth0.accept_redirects", "0"), src: "198.18.1.1", gw: "198.18.1.2", code: 1},
		{name: "host: all 0, device 1", setup: set("net.ipv4.conf.all.accept_redirects", "0"), src: "198.18.1.1", gw: "198.18.1.2", code: 1, want: true},
		{name: "router: all 1, device 0", setup: func(t *testing.T, g rig) {
			if err := g.a.SetForwarding(true); err != nil {
				t.Fatal(err)
			}
			set("net.ipv4.conf.eth0.accept_redirects", "0")(t, g)
		}, src: "198.18.1.1", gw: "198.18.1.2", code: 1},
		{name: "router: both 1", setup: func(t *testing.T, g rig) {
			if err := g.a.SetForwarding(true); err != nil {
				t.Fatal(err)
			}
		}, src: "198.18.1.1", gw: "198.18.1.2", code: 1, want: true},
		{name: "conf/default reaches the device", setup: set("net.ipv4.conf.all.accept_redirects", "0", "net.ipv4.conf.default.accept_redirects", "0"), src: "198.18.1.1", gw: "198.18.1.2", code: 1},
		{name: "new gateway is the old", src: "198.18.1.1", gw: "198.18.1.1", code: 1},
		{name: "new gateway a group", src: "198.18.1.1", gw: "224.0.0.5", code: 1},
		{name: "new gateway the broadcast", src: "198.18.1.1", gw: "255.255.255.255", code: 1},
		{name: "new gateway zero", src: "198.18.1.1", gw: "0.0.0.0", code: 1},
		{name: "new gateway this host", src: "198.18.1.1", gw: "198.18.1.10", code: 1},
		{name: "new gateway the subnet broadcast", src: "198.18.1.1", gw: "198.18.1.255", code: 1},
		{name: "new gateway unresolved", src: "198.18.1.1", gw: "198.18.1.4", code: 1},
		{name: "shared media: off-link gateway with a neighbour", src: "198.18.1.1", gw: "198.18.3.1", code: 1, want: true},
		{name: "not shared: off-link gateway", setup: set("net.ipv4.conf.all.shared_media", "0", "net.ipv4.conf.eth0.shared_media", "0"), src: "198.18.1.1", gw: "198.18.3.1", code: 1},
		{name: "not shared, secure: not a route's gateway", setup: set("net.ipv4.conf.all.shared_media", "0", "net.ipv4.conf.eth0.shared_media", "0"), src: "198.18.1.1", gw: "198.18.1.2", code: 1},
		{name: "not shared, secure: a route's gateway", setup: func(t *testing.T, g rig) {
			set("net.ipv4.conf.all.shared_media", "0", "net.ipv4.conf.eth0.shared_media", "0")(t, g)
			if err := g.a.RouteAdd(fib.Route{Dst: mustAddr("198.18.9.0").As4(), Len: 24, Gateway: mustAddr("198.18.1.2").As4()}, false); err != nil {
				t.Fatal(err)
			}
		}, src: "198.18.1.1", gw: "198.18.1.2", code: 1, want: true},
		{name: "not shared, not secure", setup: set("net.ipv4.conf.all.shared_media", "0", "net.ipv4.conf.eth0.shared_media", "0",
			"net.ipv4.conf.all.secure_redirects", "0", "net.ipv4.conf.eth0.secure_redirects", "0"), src: "198.18.1.1", gw: "198.18.1.2", code: 1, want: true},
		{name: "no socket for the echo", src: "198.18.1.1", gw: "198.18.1.2", code: 1, noSocket: true},
		{name: "the kernel's echo reply", src: "198.18.1.1", gw: "198.18.1.2", code: 1, reply: true, noSocket: true, want: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, devs := redirectRig(t)
			g := rig{r, r.inet["a"], devs["a"]}
			sysctl(t, r.inet["r1"].Host(), "net.ipv4.conf.all.send_redirects", "0")
			sysctl(t, r.inet["r1"].Host(), "net.ipv4.conf.eth0.send_redirects", "0")
			g.a.ARP(g.dev).AddStatic(mustAddr("198.18.1.2").As4(), devs["r2"].Addr())
			g.a.ARP(g.dev).AddStatic(mustAddr("198.18.3.1").As4(), stack.MAC{2, 0, 0, 0, 0, 0xee})
			if c.setup != nil {
				c.setup(t, g)
			}
			pc := ping(t, g.a, "198.18.2.2", 1, 56, ipv4.PingOptions{})
			r.run(10 * time.Millisecond)
			if outRedirects(r.inet["r1"]) != 0 {
				t.Fatal("r1 sent a redirect")
			}
			var q []byte
			for _, f := range r.frames {
				if f.from == "a/eth0" && binary.BigEndian.Uint16(f.b[12:14]) == stack.EthPIPv4 {
					q = append([]byte(nil), f.b[14:14+84]...)
					break
				}
			}
			if q == nil {
				t.Fatal("no echo on the wire")
			}
			if c.reply {
				q[20] = ipv4.ICMPEchoReply
			}
			if c.noSocket {
				pc.Close()
			}
			forge(r, g.dev, c.src, c.code, c.gw, q)
			if in := inRedirects(g.a); in != 1 {
				t.Fatalf("a counted %d redirects", in)
			}
			d := routeTo(t, g.a, "198.18.2.2")
			taken := d.Flags&ipv4.RTCFRedirected != 0
			if taken != c.want || taken && d.Gateway != mustAddr(c.gw).As4() || !taken && d.Gateway != mustAddr("198.18.1.1").As4() {
				t.Fatalf("via %v flags %#x: taken %v, want %v", d.Gateway, d.Flags, taken, c.want)
			}
		})
	}
}

// Whether r1 sends a redirect for a's echo (ip_route_input_slow's
// RTCF_DOREDIRECT and ip_rt_send_redirect): the echo leaves by the device
// it came in on, r1 sends redirects (conf/all or the device), and the
// way back to the source is a route without a gateway through that
// device, the source on its subnet unless the link is shared media.
func TestRedirectSent(t *testing.T) {
	for _, c := range []struct {
		name  string
		conf  []string // r1's sysctls
		route string   // r1's way back to 198.18.7.0/24: "dev" or "via" a; "": none
		src   string   // a's source ("": its address on the segment)
		want  uint64
	}{
		{name: "default", want: 1},
		{name: "send_redirects 0", conf: []string{"net.ipv4.conf.all.send_redirects", "0", "net.ipv4.conf.eth0.send_redirects", "0"}},
		{name: "all 0, device 1", conf: []string{"net.ipv4.conf.all.send_redirects", "0"}, want: 1},
		{name: "all 1, device 0", conf: []string{"net.ipv4.conf.eth0.send_redirects", "0"}, want: 1},
		{name: "shared media: source off the subnet, on-link", route: "dev", src: "198.18.7.10", want: 1},
		{name: "not shared: source off the subnet", conf: []string{"net.ipv4.conf.all.shared_media", "0", "net.ipv4.conf.eth0.shared_media", "0"}, route: "dev", src: "198.18.7.10"},
		{name: "not shared: source on the subnet", conf: []string{"net.ipv4.conf.all.shared_media", "0", "net.ipv4.conf.eth0.shared_media", "0"}, want: 1},
		{name: "source behind a gateway", route: "via", src: "198.18.7.10"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, devs := redirectRig(t)
			a, r1 := r.inet["a"], r.inet["r1"]
			for i := 0; i < len(c.conf); i += 2 {
				sysctl(t, r1.Host(), c.conf[i], c.conf[i+1])
			}
			o := ipv4.PingOptions{}
			if c.src != "" {
				if err := a.AddAddr(devs["a"], netip.MustParsePrefix(c.src+"/24")); err != nil {
					t.Fatal(err)
				}
				o.Src = mustAddr(c.src)
			}
			switch c.route {
			case "dev":
				if err := r1.RouteAdd(fib.Route{Dst: mustAddr("198.18.7.0").As4(), Len: 24, Dev: devs["r1"], Scope: fib.ScopeLink}, false); err != nil {
					t.Fatal(err)
				}
			case "via":
				if err := r1.RouteAdd(fib.Route{Dst: mustAddr("198.18.7.0").As4(), Len: 24, Gateway: mustAddr("198.18.1.10").As4()}, false); err != nil {
					t.Fatal(err)
				}
			}
			ping(t, a, "198.18.2.2", 1, 56, o)
			r.run(10 * time.Millisecond)
			if got, fw := outRedirects(r1), r1.Stats.ForwDatagrams.Load(); got != c.want || fw != 1 {
				t.Fatalf("%d redirects, %d forwarded; want %d, 1", got, fw, c.want)
			}
			if got := outRedirects(r.inet["r2"]); got != 0 {
				t.Fatalf("r2, forwarding to another device, sent %d", got)
			}
		})
	}
}

// A UDP socket's datagram through r1 brings redirects that its error
// handler hands to ipv4_sk_redirect (__udp4_lib_err): the second one,
// once a has resolved r2, is taken, and the socket's next datagram goes
// to r2 directly. The socket itself is told nothing.
func TestRedirectTakenForUDP(t *testing.T) {
	r, _ := redirectRig(t)
	a, r1 := r.inet["a"], r.inet["r1"]
	c, err := udp.Listen(a, netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	to := netip.MustParseAddrPort("198.18.2.2:9") // d has no socket there: a port unreachable comes back too
	for i, want := range []struct{ out, fw uint64 }{{1, 1}, {2, 2}, {2, 2}} {
		if _, err := c.SendTo([]byte("x"), to); err != nil {
			t.Fatal(err)
		}
		r.run(time.Second)
		if out, fw := outRedirects(r1), r1.Stats.ForwDatagrams.Load(); out != want.out || fw != want.fw {
			t.Fatalf("datagram %d: r1 sent %d redirects and forwarded %d, want %d and %d", i+1, out, fw, want.out, want.fw)
		}
	}
	if d := routeTo(t, a, "198.18.2.2"); d.Gateway != mustAddr("198.18.1.2").As4() || d.Flags&ipv4.RTCFRedirected == 0 {
		t.Fatalf("after the redirects: via %v flags %#x", d.Gateway, d.Flags)
	}
}
