package iptables_test

import (
	"net/netip"
	"testing"
	"time"

	"vnic/internal/topo"
	"vnic/stack"
	"vnic/stack/ipv4"
	ipt "vnic/stack/netfilter/iptables"
	"vnic/stack/udp"
)

// A packet the mangle table's OUTPUT chain changes is routed again for
// what it is now (ipt_mangle_out): with a TOS route beside the plain
// one, a DSCP rule at OUTPUT sends the host's UDP out by the TOS route's
// device, and without the rule it takes the plain route.
func TestMangleOutputReroutes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		rule     bool
		toB, toC uint64 // datagrams received by b and by c
	}{
		{"no rule: the plain route", false, 3, 0},
		{"DSCP at OUTPUT: the TOS route", true, 0, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := topo.Config{Time: topo.VirtualTime, Seed: 1, Hosts: []topo.HostConfig{
				{Name: "a", CPUs: 1, Devices: []topo.DeviceConfig{
					{Queues: 1, Addresses: []string{"198.18.1.1/24"}}, {Queues: 1, Addresses: []string{"198.19.0.1/24"}}},
					Routes: []string{"198.20.0.0/16 via 198.18.1.2", "198.20.0.0/16 tos 0x10 via 198.19.0.2"}},
				{Name: "b", CPUs: 1, Devices: []topo.DeviceConfig{{Queues: 1, Addresses: []string{"198.18.1.2/24"}}}},
				{Name: "c", CPUs: 1, Devices: []topo.DeviceConfig{{Queues: 1, Addresses: []string{"198.19.0.2/24"}}}},
			}, Cables: []topo.CableConfig{{A: "a/vnic0", B: "b/vnic0"}, {A: "a/vnic1", B: "c/vnic0"}}}
			w := topo.Started(t, cfg, 10*time.Millisecond)
			a := w.Host("a").Stack
			if tc.rule {
				spec, err := ipt.Get(a, "mangle")
				if err != nil {
					t.Fatal(err)
				}
				spec.Chains[stack.NFLocalOut].Rules = []ipt.Rule{{IP: protoIs(ipt.ProtoUDP),
					Target: ipt.Target{Name: "DSCP", Info: &ipt.DSCPTargetInfo{DSCP: 4}}}}
				if _, err := ipt.Replace(a, spec); err != nil {
					t.Fatal(err)
				}
			}
			c, err := udp.Of(ipv4.Of(a)).Listen(netip.MustParseAddrPort("0.0.0.0:0"))
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 3; i++ {
				if _, err := c.SendTo([]byte("tos"), netip.MustParseAddrPort("198.20.0.9:9")); err != nil {
					t.Fatal(err)
				}
			}
			w.Run(20 * time.Millisecond)
			got := func(h string) uint64 { return ipv4.Of(w.Host(h).Stack).Stats.Snapshot().InReceives }
			if b, cc := got("b"), got("c"); b != tc.toB || cc != tc.toC {
				t.Errorf("b received %d, c %d; want %d and %d", b, cc, tc.toB, tc.toC)
			}
		})
	}
}
