package control

import (
	"net/netip"
	"testing"
	"time"

	"vnic/internal/topo"
	"vnic/stack/ipv4"
)

// routerWorld is configs/examples/router.yaml: h1 — r — h2, the r—h2
// link at MTU mtu.
func routerWorld(t *testing.T, mtu int) *topo.World {
	t.Helper()
	cfg := topo.Config{Time: topo.VirtualTime, Seed: 1, Hosts: []topo.HostConfig{
		{Name: "h1", CPUs: 1, Devices: []topo.DeviceConfig{{Queues: 1, Addresses: []string{"198.18.5.2/24"}}}, Routes: []string{"default via 198.18.5.1"}},
		{Name: "r", CPUs: 1, Forwarding: true, Devices: []topo.DeviceConfig{{Queues: 1, Addresses: []string{"198.18.5.1/24"}}, {Queues: 1, Addresses: []string{"198.18.6.1/24"}, MTU: mtu}}},
		{Name: "h2", CPUs: 1, Devices: []topo.DeviceConfig{{Queues: 1, Addresses: []string{"198.18.6.2/24"}, MTU: mtu}}, Routes: []string{"default via 198.18.6.1"}},
	}, Cables: []topo.CableConfig{{A: "h1/vnic0", B: "r/vnic0"}, {A: "r/vnic1", B: "h2/vnic0"}}}
	return topo.Started(t, cfg, 10*time.Millisecond)
}

// pingDF sends one DF echo of size bytes from h1 to h2 and reports the
// fragmentation needed's MTU (0: none came).
func pingDF(t *testing.T, w *topo.World, size int) uint32 {
	t.Helper()
	pc, err := ipv4.Of(w.Host("h1").Stack).OpenPing()
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if err := pc.SendEcho(netip.MustParseAddr("198.18.6.2"), 1, make([]byte, size), ipv4.PingOptions{DF: true}); err != nil {
		t.Fatal(err)
	}
	w.Run(20 * time.Millisecond)
	m, ok := pc.Recv()
	if !ok || m.Type != ipv4.ICMPDestUnreach || m.Code != ipv4.ICMPFragNeeded {
		return 0
	}
	return m.Info & 0xffff
}

// ip route get shows a learnt path MTU as Linux 6.18 and iproute2 6.1
// print it ("cache expires 598sec mtu 1280 " in a scratch namespace a
// second or two after the ping; here the virtual clock says exactly how
// long is left), a clamped one as "mtu lock 552", nothing once it lapsed.
func TestIPRouteGetException(t *testing.T) {
	const head = "198.18.6.2 via 198.18.5.1 dev vnic0 src 198.18.5.2 "
	for _, c := range []struct {
		name, route string
		mtu         int
		report      uint32
		want        string
	}{
		{"learnt", "", 1280, 1280, head + uid + " \n    cache expires 599sec mtu 1280 \n"},
		{"clamped", "", 500, 500, head + uid + " \n    cache expires 599sec mtu lock 552 \n"},
		{"route mtu given way", "route add 198.18.6.0/24 via 198.18.5.1 mtu 1500", 1280, 1280, head + uid + " \n    cache expires 599sec mtu 1280 \n"},
		{"route mtu locked", "route add 198.18.6.0/24 via 198.18.5.1 mtu lock 1500", 1280, 1280, head + uid + " \n    cache mtu lock 1500 \n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := routerWorld(t, c.mtu)
			conn := ipConn(t, serveRtnl(t, w), "h1", 0)
			if c.route != "" {
				if _, e, code := ip(t, conn, c.route); code != 0 {
					t.Fatalf("%s: %s", c.route, e)
				}
			}
			if got := pingDF(t, w, 1400); got != c.report {
				t.Fatalf("fragmentation needed with %d, want %d", got, c.report)
			}
			w.Run(500 * time.Millisecond)
			out, e, code := ip(t, conn, "route get 198.18.6.2")
			if code != 0 || out != c.want {
				t.Fatalf("route get: %q %q %d\nwant %q", out, e, code, c.want)
			}
		})
	}
	// 600 s on, the exception is gone; 100 s on, 500 s are left.
	w := routerWorld(t, 1280)
	conn := ipConn(t, serveRtnl(t, w), "h1", 0)
	pingDF(t, w, 1400)
	w.Run(100 * time.Second)
	if out, _, _ := ip(t, conn, "route get 198.18.6.2"); out != head+uid+" \n    cache expires 499sec mtu 1280 \n" {
		t.Fatalf("100 s on: %q", out)
	}
	w.Run(500 * time.Second)
	if out, _, _ := ip(t, conn, "route get 198.18.6.2"); out != head+uid+" \n    cache \n" {
		t.Fatalf("600 s on: %q", out)
	}
}

// ip route show cache lists the exceptions that have a decision bound to
// them, as Linux 6.18 lists them (fib_dump_info_fnhe: no source, no uid):
// "198.18.2.2 via 198.18.1.1 dev a0 \n    cache expires 599sec mtu lock 552 ".
func TestIPRouteShowCache(t *testing.T) {
	w := routerWorld(t, 1280)
	conn := ipConn(t, serveRtnl(t, w), "h1", 0)
	if out, e, code := ip(t, conn, "route show cache"); out != "" || code != 0 {
		t.Fatalf("before: %q %q %d", out, e, code)
	}
	pingDF(t, w, 1400)
	w.Run(500 * time.Millisecond)
	// Learnt, but no decision bound yet: nothing to list.
	if out, _, _ := ip(t, conn, "route show cache"); out != "" {
		t.Fatalf("unbound: %q", out)
	}
	ip(t, conn, "route get 198.18.6.2")
	want := "198.18.6.2 via 198.18.5.1 dev vnic0 \n    cache expires 599sec mtu 1280 \n"
	if out, e, code := ip(t, conn, "route show cache"); out != want || code != 0 {
		t.Fatalf("show cache: %q %q %d\nwant %q", out, e, code, want)
	}
	if out, _, _ := ip(t, conn, "route show"); out != "default via 198.18.5.1 dev vnic0 \n198.18.5.0/24 dev vnic0 proto kernel scope link src 198.18.5.2 \n" {
		t.Fatalf("show: %q", out)
	}
	// After net.ipv4.route.flush (ip route flush cache on Linux) the
	// exception is of an old generation: not listed.
	for _, s := range w.Host("h1").Stack.Sysctls() {
		if s.Name == "net.ipv4.route.flush" {
			if err := s.Set("1"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if out, _, _ := ip(t, conn, "route show cache"); out != "" {
		t.Fatalf("flushed: %q", out)
	}
	// Learnt and bound again, then lapsed.
	pingDF(t, w, 1400)
	ip(t, conn, "route get 198.18.6.2")
	if out, _, _ := ip(t, conn, "route show cache"); out != "198.18.6.2 via 198.18.5.1 dev vnic0 \n    cache expires 599sec mtu 1280 \n" {
		t.Fatalf("learnt again: %q", out)
	}
	w.Run(600 * time.Second)
	if out, _, _ := ip(t, conn, "route show cache"); out != "" {
		t.Fatalf("lapsed: %q", out)
	}
}
