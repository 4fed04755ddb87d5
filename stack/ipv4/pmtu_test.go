package ipv4_test

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/ipv4/fib"
)

// routeTo is h's output decision to dst, as a socket's send takes it.
func routeTo(t *testing.T, in *ipv4.Inet, dst string) *ipv4.Rtable {
	t.Helper()
	fl := fib.FlowKey{Dst: mustAddr(dst).As4()}
	d, err := in.RouteOutput(&fl)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// sysctl writes one of h's settings.
func sysctl(t *testing.T, h *stack.Host, name, v string) {
	t.Helper()
	for _, s := range h.Sysctls() {
		if s.Name == name {
			if err := s.Set(v); err != nil {
				t.Fatalf("%s=%s: %v", name, v, err)
			}
			return
		}
	}
	t.Fatalf("no sysctl %s", name)
}

// A fragmentation needed for a datagram h1 sent teaches h1's nexthop the
// path MTU for that destination: the next DF datagram over it is refused
// locally with it (ping -M do's "message too long, mtu=1280"), one
// without DF leaves already fragmented to it (so the router forwards
// fragments and has nothing to cut), and the exception lapses
// mtu_expires (600 s) later.
func TestPMTUExceptionLearnt(t *testing.T) {
	r, _, _ := routerRig(t, true, 1280)
	h1 := r.inet["h1"]
	if mtu := routeTo(t, h1, "198.18.2.2").MTU(); mtu != 1500 {
		t.Fatalf("before: mtu %d", mtu)
	}
	c := ping(t, h1, "198.18.2.2", 1, 1400, ipv4.PingOptions{DF: true})
	r.run(10 * time.Millisecond)
	if m, ok := c.Recv(); !ok || m.Type != ipv4.ICMPDestUnreach || m.Code != ipv4.ICMPFragNeeded || m.Info != 1280 {
		t.Fatalf("DF: %+v %v", m, ok)
	}
	d := routeTo(t, h1, "198.18.2.2")
	pmtu, locked, left, ok := d.Exception()
	if !ok || pmtu != 1280 || locked || d.MTU() != 1280 {
		t.Fatalf("exception %d locked %v left %v ok %v, mtu %d", pmtu, locked, left, ok, d.MTU())
	}
	if want := 600*time.Second - 10*time.Millisecond; left > 600*time.Second || left < want-time.Millisecond {
		t.Fatalf("left %v, want about %v", left, want)
	}
	// Another destination behind the same gateway is not concerned.
	if mtu := routeTo(t, h1, "198.18.2.3").MTU(); mtu != 1500 {
		t.Fatalf("other destination: mtu %d", mtu)
	}
	// DF again: refused before anything is sent.
	r.frames = nil
	c2, err := h1.OpenPing()
	if err != nil {
		t.Fatal(err)
	}
	err = c2.SendEcho(mustAddr("198.18.2.2"), 2, make([]byte, 1400), ipv4.PingOptions{DF: true})
	var ems *ipv4.ErrMsgSize
	if !errors.As(err, &ems) || ems.MTU != 1280 || !errors.Is(err, syscall.EMSGSIZE) {
		t.Fatalf("DF send: %v", err)
	}
	r.run(10 * time.Millisecond)
	wantLines(t, "refused locally", wireOf(r, "h1/eth0"), nil)
	// Without DF h1 fragments at 1280; the router forwards two
	// fragments and creates none.
	routerFrags := r.inet["r"].Stats.Snapshot().FragCreates
	c3 := ping(t, h1, "198.18.2.2", 3, 1400, ipv4.PingOptions{})
	r.run(10 * time.Millisecond)
	if m, ok := c3.Recv(); !ok || m.Type != ipv4.ICMPEchoReply || m.Len != 1408 {
		t.Fatalf("no DF: %+v %v", m, ok)
	}
	wantLines(t, "fragmented by h1", wireOf(r, "h1/eth0"), []string{
		"h1/eth0 IP 198.18.1.2>198.18.2.2 frag off 0 mf 1 ICMP 8/0 ttl 64 len 1276",
		"h1/eth0 IP 198.18.1.2>198.18.2.2 frag off 157 mf 0 ttl 64 len 172",
	})
	if s := h1.Stats.Snapshot(); s.FragCreates != 2 || s.FragOKs != 1 {
		t.Fatalf("h1 %+v", s)
	}
	if got := r.inet["r"].Stats.Snapshot().FragCreates; got != routerFrags {
		t.Fatalf("router created %d fragments", got-routerFrags)
	}
	// 600 s after it was learnt the exception is gone.
	r.run(600 * time.Second)
	d = routeTo(t, h1, "198.18.2.2")
	if _, _, _, ok := d.Exception(); ok || d.MTU() != 1500 {
		t.Fatalf("after 600 s: exception %v, mtu %d", ok, d.MTU())
	}
}

// A reported MTU under min_pmtu (552) is taken as 552 and locked, as
// __ip_rt_update_pmtu takes it; the sysctl moves the floor.
func TestPMTUMinClamp(t *testing.T) {
	for _, c := range []struct {
		name     string
		min      string
		link     int
		wantPMTU uint32
		wantLock bool
	}{
		{"under the floor", "", 500, 552, true},
		{"above the floor", "", 576, 576, false},
		{"floor lowered", "400", 500, 500, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, _, _ := routerRig(t, true, c.link)
			h1 := r.inet["h1"]
			if c.min != "" {
				sysctl(t, h1.Host(), "net.ipv4.route.min_pmtu", c.min)
			}
			ping(t, h1, "198.18.2.2", 1, 1400, ipv4.PingOptions{DF: true})
			r.run(10 * time.Millisecond)
			d := routeTo(t, h1, "198.18.2.2")
			pmtu, locked, _, ok := d.Exception()
			if !ok || pmtu != c.wantPMTU || locked != c.wantLock || d.MTU() != int(c.wantPMTU) {
				t.Fatalf("exception %d locked %v ok %v mtu %d, want %d locked %v", pmtu, locked, ok, d.MTU(), c.wantPMTU, c.wantLock)
			}
		})
	}
}

// A route whose mtu is locked (ip route … mtu lock 1500) ignores
// fragmentation needed; an unlocked mtu metric gives way to the
// exception.
func TestPMTULockedRoute(t *testing.T) {
	for _, c := range []struct {
		name string
		lock bool
		want int
	}{{"mtu lock 1500", true, 1500}, {"mtu 1500", false, 1280}} {
		t.Run(c.name, func(t *testing.T) {
			r, _, _ := routerRig(t, true, 1280)
			h1 := r.inet["h1"]
			rt := fib.Route{Dst: mustAddr("198.18.2.0").As4(), Len: 24, Gateway: mustAddr("198.18.1.1").As4()}
			rt.Metrics.Val[2] = 1500
			if c.lock {
				rt.Metrics.Val[1] = 1 << 2
			}
			if err := h1.RouteAdd(rt, false); err != nil {
				t.Fatal(err)
			}
			c1 := ping(t, h1, "198.18.2.2", 1, 1400, ipv4.PingOptions{DF: true})
			r.run(10 * time.Millisecond)
			if m, ok := c1.Recv(); !ok || m.Code != ipv4.ICMPFragNeeded {
				t.Fatalf("DF: %+v %v", m, ok)
			}
			d := routeTo(t, h1, "198.18.2.2")
			if _, _, _, ok := d.Exception(); ok == c.lock || d.MTU() != c.want {
				t.Fatalf("exception %v mtu %d, want %d", ok, d.MTU(), c.want)
			}
		})
	}
}

// net.ipv4.route.flush empties the exceptions (fnhe_genid_bump): Linux
// 6.18's ip route get after ip route flush cache shows no expires and no
// mtu, and the path MTU is the route's again until the next report.
func TestPMTUFlushCache(t *testing.T) {
	r, _, _ := routerRig(t, true, 1280)
	h1 := r.inet["h1"]
	ping(t, h1, "198.18.2.2", 1, 1400, ipv4.PingOptions{DF: true})
	r.run(10 * time.Millisecond)
	if d := routeTo(t, h1, "198.18.2.2"); d.MTU() != 1280 {
		t.Fatalf("learnt: mtu %d", d.MTU())
	}
	sysctl(t, h1.Host(), "net.ipv4.route.flush", "1")
	d := routeTo(t, h1, "198.18.2.2")
	if _, _, _, ok := d.Exception(); ok || d.MTU() != 1500 {
		t.Fatalf("flushed: exception %v mtu %d", ok, d.MTU())
	}
	ping(t, h1, "198.18.2.2", 2, 1400, ipv4.PingOptions{DF: true})
	r.run(10 * time.Millisecond)
	if d := routeTo(t, h1, "198.18.2.2"); d.MTU() != 1280 {
		t.Fatalf("learnt again: mtu %d", d.MTU())
	}
}

// net.ipv4.route.mtu_expires sets how long a learnt MTU lasts;
// min_pmtu refuses a floor under 68 (IPV4_MIN_MTU), as Linux 6.18 does.
func TestPMTUSysctls(t *testing.T) {
	r, _, _ := routerRig(t, true, 1280)
	h1 := r.inet["h1"]
	get := func(name string) string {
		for _, s := range h1.Host().Sysctls() {
			if s.Name == name {
				return s.Get()
			}
		}
		t.Fatalf("no sysctl %s", name)
		return ""
	}
	if a, b := get("net.ipv4.route.min_pmtu"), get("net.ipv4.route.mtu_expires"); a != "552" || b != "600" {
		t.Fatalf("defaults min_pmtu %s mtu_expires %s", a, b)
	}
	for _, s := range h1.Host().Sysctls() {
		if s.Name == "net.ipv4.route.min_pmtu" {
			if err := s.Set("60"); !errors.Is(err, syscall.EINVAL) {
				t.Fatalf("min_pmtu 60: %v", err)
			}
		}
	}
	sysctl(t, h1.Host(), "net.ipv4.route.mtu_expires", "100")
	ping(t, h1, "198.18.2.2", 1, 1400, ipv4.PingOptions{DF: true})
	r.run(10 * time.Millisecond)
	if _, _, left, ok := routeTo(t, h1, "198.18.2.2").Exception(); !ok || left > 100*time.Second || left < 99*time.Second {
		t.Fatalf("learnt: %v left, ok %v", left, ok)
	}
	r.run(100 * time.Second)
	if d := routeTo(t, h1, "198.18.2.2"); d.MTU() != 1500 {
		t.Fatalf("100 s on: mtu %d", d.MTU())
	}
}
