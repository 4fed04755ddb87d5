package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vnic/internal/topo"
)

// loadFile loads and decodes yaml as a --config file.
func loadFile(t *testing.T, yaml string) (*topo.Config, error) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(f, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := loadConfig(f)
	if err != nil {
		return nil, err
	}
	return decodeConfig(v)
}

// wantErrors runs each file and wants exactly its error.
func wantErrors(t *testing.T, cases []struct{ yaml, want string }) {
	t.Helper()
	for _, tc := range cases {
		_, err := loadFile(t, tc.yaml)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q:\ngot  %v\nwant %s", tc.yaml, err, tc.want)
		}
	}
}

// one is a one-host topology whose host has the given extra lines.
func one(lines string) string {
	return "hosts:\n  - name: a\n    devices: [{}]\n" + lines
}

// TestConfigTopologyReplacesTheDefault: a file that gives any of hosts,
// cables, traffic, bulk and tcp gives the whole topology (the demo's
// streams and flows do not leak into it); one that gives none keeps the
// demo's, and scalar keys still come from the embedded default.
func TestConfigTopologyReplacesTheDefault(t *testing.T) {
	ipv4 := "hosts:\n  - name: x\n    devices: [{addresses: [198.18.5.1/24]}]\n  - name: y\n    devices: [{addresses: [198.18.5.2/24]}]\ncables: [{a: x/vnic0, b: y/vnic0}]\n"
	for _, tc := range []struct {
		yaml                              string
		hosts, cables, traffic, bulk, tcp int
	}{
		{"seed: 7\n", 2, 1, 3, 0, 2},
		{ipv4, 2, 1, 0, 0, 0},
		{ipv4 + "tcp: [{type: rr, client: x, server: y, count: 10}]\n", 2, 1, 0, 0, 1},
		{"hosts:\n  - name: solo\n    devices: [{}]\n", 1, 0, 0, 0, 0},
		{"hosts:\n  - name: h1\n    devices: [{}]\n  - name: h2\n    devices: [{}]\ntraffic: [{from: h1/vnic0, to: h2/vnic0}]\n", 2, 0, 1, 0, 0},
		{"hosts:\n  - name: h1\n    devices: [{}]\n  - name: h2\n    devices: [{}]\nbulk: [{from: h1/vnic0, to: h2/vnic0}]\n", 2, 0, 0, 1, 0},
	} {
		c, err := loadFile(t, tc.yaml)
		if err != nil {
			t.Errorf("%q: %v", tc.yaml, err)
			continue
		}
		if len(c.Hosts) != tc.hosts || len(c.Cables) != tc.cables || len(c.Traffic) != tc.traffic || len(c.Bulk) != tc.bulk || len(c.TCP) != tc.tcp {
			t.Errorf("%q: hosts %d cables %d traffic %d bulk %d tcp %d, want %d %d %d %d %d", tc.yaml,
				len(c.Hosts), len(c.Cables), len(c.Traffic), len(c.Bulk), len(c.TCP), tc.hosts, tc.cables, tc.traffic, tc.bulk, tc.tcp)
		}
		if c.Time != topo.VirtualTime || c.Duration.String() != "20ms" || c.Costs.IRQ.String() != "1µs" || c.Log.Level != "info" || !c.Checker {
			t.Errorf("%q: scalar defaults lost: %+v", tc.yaml, c)
		}
	}
	// A file's tcp flows alone do not reach the demo's hosts either.
	wantErrors(t, []struct{ yaml, want string }{
		{"tcp: [{type: bulk, client: h1, server: h2}]\n", "config: hosts: no hosts\nconfig: tcp[0].client: \"h1\": no such host\nconfig: tcp[0].server: \"h2\": no such host"},
	})
	// A file's cables alone do not reach the demo's hosts.
	wantErrors(t, []struct{ yaml, want string }{
		{"cables: [{a: h1/vnic0, b: h2/vnic0}]\n", "config: hosts: no hosts\nconfig: cables[0].a: \"h1/vnic0\": no such device\nconfig: cables[0].b: \"h2/vnic0\": no such device"},
	})
	// The example runs as it is, without traffic: [] and bulk: [].
	v, err := loadConfig("../../configs/examples/router.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := decodeConfig(v); err != nil || len(c.Traffic) != 0 || len(c.Bulk) != 0 || len(c.Hosts) != 3 {
		t.Fatalf("router.yaml: %v", err)
	}
}

// TestConfigIntegersAreExact: a number an integer key cannot hold exactly
// is an error naming the key, not truncated or wrapped.
func TestConfigIntegersAreExact(t *testing.T) {
	wantErrors(t, []struct{ yaml, want string }{
		{"hosts:\n  - name: a\n    cpus: 1.5\n    devices: [{}]\n", "config: hosts[0].cpus: 1.5: want an integer"},
		{"hosts:\n  - name: a\n    cpus: true\n", "config: hosts[0].cpus: true: want an integer"},
		{"hosts:\n  - name: a\n    cpus: 18446744073709551615\n", "config: hosts[0].cpus: 18446744073709551615: outside the key's 64-bit integer (-9223372036854775808..9223372036854775807)"},
		{"hosts:\n  - name: a\n    cpus: 1e30\n", "config: hosts[0].cpus: 1e+30: outside the key's 64-bit integer (-9223372036854775808..9223372036854775807)"},
		{"hosts:\n  - name: a\n    cpus: 9223372036854775808\n", "config: hosts[0].cpus: 9223372036854775808: outside the key's 64-bit integer (-9223372036854775808..9223372036854775807)"},
		{"hosts:\n  - name: a\n    devices: [{queues: 99999999999}]\n", `config: hosts[0].devices[0].queues: 99999999999: want 1..8 (max_queues, and one vector per queue pair besides "other")`},
		{"hosts:\n  - name: a\n    devices: [{mtu: 1500.5}]\n", "config: hosts[0].devices[0].mtu: 1500.5: want an integer"},
		{"hosts:\n  - name: a\n    devices: [{rx_ring: .inf}]\n", "config: hosts[0].devices[0].rx_ring: +Inf: want an integer"},
		{"seed: 2.5\n", "config: seed: 2.5: want an integer"},
		{"hosts:\n  - name: a\n    cpus: 0.5\n    netdev_budget: -1.25\n", "config: hosts[0].cpus: 0.5: want an integer\nconfig: hosts[0].netdev_budget: -1.25: want an integer"},
	})
	// Integral floats are integers; VNIC_* strings parse exactly.
	c, err := loadFile(t, "seed: 3.0\nhosts:\n  - name: a\n    cpus: 2e0\n    devices: [{}]\n")
	if err != nil || c.Seed != 3 || c.Hosts[0].CPUs != 2 {
		t.Fatalf("integral floats: %v %+v", err, c)
	}
	t.Setenv("VNIC_SEED", "1.5")
	if _, err := loadFile(t, "time: virtual\n"); err == nil || !strings.Contains(err.Error(), "seed") {
		t.Errorf("VNIC_SEED=1.5: %v", err)
	}
}

// TestConfigGivenZeros: a zero the file gives is refused with the key's
// limits (a zero left out still means the default).
func TestConfigGivenZeros(t *testing.T) {
	two := "hosts:\n  - name: h1\n    devices: [{}]\n  - name: h2\n    devices: [{}]\n"
	ip2 := "hosts:\n  - name: h1\n    devices: [{addresses: [198.18.0.1/24]}]\n  - name: h2\n    devices: [{addresses: [198.18.0.2/24]}]\n"
	wantErrors(t, []struct{ yaml, want string }{
		{"hosts:\n  - name: a\n    cpus: 0\n    devices: [{}]\n", "config: hosts[0].cpus: 0: want 1..64"},
		{"hosts:\n  - name: a\n    netdev_budget: 0\n", "config: hosts[0].netdev_budget: 0: want ≥ 1"},
		{one("") + "  - name: b\n    devices: [{}, {queues: 0}]\n", `config: hosts[1].devices[1].queues: 0: want 1..8 (max_queues, and one vector per queue pair besides "other")`},
		{"hosts:\n  - name: a\n    devices: [{rx_ring: 0}]\n", "config: hosts[0].devices[0].rx_ring: 0: want a multiple of 8 in 8..4096"},
		{"hosts:\n  - name: a\n    devices: [{mtu: 0}]\n", "config: hosts[0].devices[0].mtu: 0: want 68..9216"},
		{two + "cables: [{a: h1/vnic0, b: h2/vnic0, speed_mbps: 0}]\n", "config: cables[0].speed_mbps: 0: want 10..400000"},
		{two + "traffic: [{from: h1/vnic0, to: h2/vnic0, rate_pps: 0}]\n", "config: traffic[0].rate_pps: 0: want > 0"},
		{two + "traffic: [{from: h1/vnic0, to: h2/vnic0, burst: 0}]\n", "config: traffic[0].burst: 0: want 1..1000 (txqueuelen: a longer burst loses the rest each time)"},
		{two + "bulk: [{from: h1/vnic0, to: h2/vnic0, send_size: 0}]\n", "config: bulk[0].send_size: 0: want 1..65483"},
		{ip2 + "tcp: [{type: rr, client: h1, server: h2, request_size: 0}]\n", "config: tcp[0].request_size: 0: want 1..1048576"},
		{ip2 + "tcp: [{type: bulk, client: h1, server: h2, connections: 0}]\n", "config: tcp[0].connections: 0: want 1..64"},
		{ip2 + "tcp: [{type: bulk, client: h1, server: h2, bytes: 1.5}]\n", "config: tcp[0].bytes: 1.5: want an integer"},
	})
	c, err := loadFile(t, two+"traffic: [{from: h1/vnic0, to: h2/vnic0}]\n")
	if err != nil || c.Hosts[0].CPUs != 1 || c.Traffic[0].Burst != 1 || c.Hosts[0].Devices[0].MTU != 1500 {
		t.Fatalf("defaults: %v %+v", err, c)
	}
}

// TestConfigWiringErrors: Validate's wiring checks, through a file.
func TestConfigWiringErrors(t *testing.T) {
	two := "hosts:\n  - name: h1\n    devices: [{}, {}]\n  - name: h2\n    devices: [{}, {}]\n"
	wantErrors(t, []struct{ yaml, want string }{
		{two + "cables: [{a: h1/vnic0, b: h2/vnic0}, {a: h1/vnic1, b: h2/vnic0}]\n", "config: cables[1].b: h2/vnic0 is already on cables[0]: a device has one cable"},
		{two + "cables: [{a: h1/vnic1, b: h1/vnic1}]\n", "config: cables[0]: h1/vnic1 to itself: a cable joins two devices"},
		{"hosts:\n  - name: h1\n    devices: [{addresses: [198.18.5.1/24]}]\n  - name: h2\n    devices: [{addresses: [198.18.5.1/24]}]\n",
			`config: hosts[1].devices[0].addresses: "198.18.5.1/24": 198.18.5.1 is also hosts[0]'s (h1): an address belongs to one host`},
		{two + "traffic: [{from: h1/vnic0, to: h2/vnic0, rate_pps: .nan}]\n", "config: traffic[0].rate_pps: NaN: want a finite rate"},
		{two + "traffic: [{from: h1/vnic0, to: h2/vnic0, rate_pps: 3e9}]\n", "config: traffic[0].rate_pps: 3e+09 with burst 1: a burst every 0.333ns: want 1ns..1h"},
		{two + "bulk: [{from: h1/vnic0, to: h2/vnic0, rate_sends: .inf}]\n", "config: bulk[0].rate_sends: +Inf: want a finite rate"},
	})
}
