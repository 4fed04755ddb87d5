package topo

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// valid is a config that Validate takes: what configs/default.yaml gives
// beyond the list items.
func valid() Config {
	c := Pair(DeviceConfig{}, 1, 0)
	c.Duration = 20 * time.Millisecond
	c.Log = LogConfig{Level: "info", Format: "console"}
	c.Traffic = []Traffic{{From: "h1/vnic0", To: "h2/vnic0"}}
	c.SetDefaults()
	return c
}

// TestValidate: each bad value is one line naming its key, with the
// limits of the packages that own them.
func TestValidate(t *testing.T) {
	c := valid()
	if err := c.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	if d := c.Hosts[0].Devices[0]; d.Queues != 1 || d.MaxQueues != 8 || d.Vectors != 10 || d.RxRing != 256 || d.MTU != 1500 || c.Cables[0].SpeedMbps != 1000 {
		t.Fatalf("defaults: %+v %+v", d, c.Cables[0])
	}
	for _, tc := range []struct {
		set  func(c *Config)
		want string
	}{
		{func(c *Config) { c.Time = "sideways" }, `config: time: "sideways": want virtual or real`},
		{func(c *Config) { c.Hosts[0].Devices[0].Queues = 9 }, `config: hosts[0].devices[0].queues: 9: want 1..8 (max_queues, and one vector per queue pair besides "other")`},
		{func(c *Config) { c.Hosts[1].Devices[0].Vectors = 4; c.Hosts[1].Devices[0].Queues = 4 }, `config: hosts[1].devices[0].queues: 4: want 1..3 (max_queues, and one vector per queue pair besides "other")`},
		{func(c *Config) { c.Hosts[0].Devices[0].MaxQueues = 17 }, `config: hosts[0].devices[0].max_queues: 17: want 1..16`},
		{func(c *Config) { c.Hosts[0].Devices[0].Vectors = 30 }, `config: hosts[0].devices[0].vectors: 30: want 2..25`},
		{func(c *Config) { c.Hosts[0].Devices[0].RxRing = 100 }, `config: hosts[0].devices[0].rx_ring: 100: want a multiple of 8 in 8..4096`},
		{func(c *Config) { c.Hosts[0].Devices[0].RxMode = "turbo" }, `config: hosts[0].devices[0].rx_mode: "turbo": want napi, legacy, quota or tick`},
		{func(c *Config) { c.Hosts[0].Devices[0].ITRUsecs = 5 }, `config: hosts[0].devices[0].itr_usecs: 5: want 0 (off), 1 (dynamic), 3 (dynamic conservative) or 10..8191`},
		{func(c *Config) { c.Hosts[0].Devices[0].RxIntDelayUsecs = 70000 }, `config: hosts[0].devices[0].rx_int_delay_usecs: 70000: want 0..67107 (65535 steps of 1.024 µs)`},
		{func(c *Config) { c.Hosts[0].Devices[0].MTU = 9217 }, `config: hosts[0].devices[0].mtu: 9217: want 68..9216`},
		{func(c *Config) { c.Hosts[0].CPUs = 65 }, `config: hosts[0].cpus: 65: want 1..64`},
		{func(c *Config) { c.Cables[0].SpeedMbps = 5 }, `config: cables[0].speed_mbps: 5: want 10..400000`},
		{func(c *Config) {
			c.Hosts[0].IPv4 = true
			c.Bulk = []Bulk{{From: "h1/vnic0", To: "h2/vnic0", SendSize: 1, RateSends: 1}}
		}, `config: bulk[0]: host h1 runs IPv4: bulk streams need hosts without it`},
		{func(c *Config) { c.Costs.IRQ = -time.Microsecond }, `config: costs.irq: -1µs is negative`},
	} {
		c := valid()
		tc.set(&c)
		err := c.Validate()
		if err == nil || err.Error() != tc.want {
			t.Errorf("got %v\nwant %s", err, tc.want)
		}
	}
	// Every bad value is reported, in the file's order.
	c = valid()
	c.Time, c.Hosts[0].Name, c.Log.Format = "x", "", "xml"
	if err := c.Validate(); err == nil || len(strings.Split(err.Error(), "\n")) != 3 ||
		!strings.HasPrefix(err.Error(), "config: time: ") || !strings.HasSuffix(err.Error(), "config: log.format: \"xml\": want console or json") {
		t.Errorf("several: %v", err)
	}
}

// check runs Validate on valid() changed by each case's set and wants
// exactly its error ("" for none).
func check(t *testing.T, cases []struct {
	set  func(c *Config)
	want string
}) {
	t.Helper()
	for i, tc := range cases {
		c := valid()
		tc.set(&c)
		err := c.Validate()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("case %d: got %q\nwant %q", i, got, tc.want)
		}
	}
}

// TestValidateCables: a device has one cable, a cable two different
// devices, and both ends exist.
func TestValidateCables(t *testing.T) {
	twoDevs := func(c *Config) { c.Hosts[1].Devices = append(c.Hosts[1].Devices, c.Hosts[1].Devices[0]) }
	check(t, []struct {
		set  func(c *Config)
		want string
	}{
		{func(c *Config) {
			twoDevs(c)
			c.Cables = append(c.Cables, CableConfig{A: "h1/vnic0", B: "h2/vnic1", SpeedMbps: 1000})
		}, `config: cables[1].a: h1/vnic0 is already on cables[0]: a device has one cable`},
		{func(c *Config) {
			twoDevs(c)
			c.Cables = append(c.Cables, CableConfig{A: "h2/vnic1", B: "h2/vnic0", SpeedMbps: 1000})
		}, `config: cables[1].b: h2/vnic0 is already on cables[0]: a device has one cable`},
		{func(c *Config) { c.Cables[0].B = "h1/vnic0" }, `config: cables[0]: h1/vnic0 to itself: a cable joins two devices`},
		{func(c *Config) { c.Cables[0].B = "h3/vnic0" }, `config: cables[0].b: "h3/vnic0": no such device`},
		{func(c *Config) { c.Cables[0].A = "h1/vnic1" }, `config: cables[0].a: "h1/vnic1": no such device`},
		{func(c *Config) { c.Traffic[0].To = "h2/eth0" }, `config: traffic[0].to: "h2/eth0": no such device`},
		{func(c *Config) { c.Bulk = []Bulk{{From: "h9/vnic0", To: "h2/vnic0", SendSize: 1, RateSends: 1}} }, `config: bulk[0].from: "h9/vnic0": no such device`},
		{func(c *Config) { c.Hosts[1].Name = "h1" }, `config: hosts[1].name: "h1" is also hosts[0]'s`},
		// Unnamed devices take the lowest free vnicN, as the stack names them.
		{func(c *Config) {
			c.Hosts[1].Devices = []DeviceConfig{c.Hosts[1].Devices[0], c.Hosts[1].Devices[0]}
			c.Hosts[1].Devices[0].Name = "vnic1"
		}, ``},
		{func(c *Config) {
			c.Hosts[1].Devices = []DeviceConfig{c.Hosts[1].Devices[0], c.Hosts[1].Devices[0]}
			c.Hosts[1].Devices[1].Name = "vnic0"
		}, `config: hosts[1].devices[1].name: "vnic0" is also devices[0]'s`},
		// Two devices of one host, each on its own cable, are fine.
		{func(c *Config) {
			twoDevs(c)
			c.Hosts = append(c.Hosts, HostConfig{Name: "h3", CPUs: 1, NetdevBudget: 1, NetdevBudgetUsecs: 1, Devices: c.Hosts[0].Devices})
			c.Cables = append(c.Cables, CableConfig{A: "h2/vnic1", B: "h3/vnic0", SpeedMbps: 1000})
		}, ``},
	})
}

// TestValidateGivenZeros: a zero the file gives is a value, not
// "default", and Validate refuses it with the key's limits.
func TestValidateGivenZeros(t *testing.T) {
	for _, tc := range []struct {
		key, want string
	}{
		{"hosts[0].cpus", `config: hosts[0].cpus: 0: want 1..64`},
		{"hosts[1].netdev_budget", `config: hosts[1].netdev_budget: 0: want ≥ 1`},
		{"hosts[0].netdev_budget_usecs", `config: hosts[0].netdev_budget_usecs: 0: want ≥ 1`},
		{"hosts[0].devices[0].queues", `config: hosts[0].devices[0].queues: 0: want 1..8 (max_queues, and one vector per queue pair besides "other")`},
		{"hosts[0].devices[0].max_queues", `config: hosts[0].devices[0].max_queues: 0: want 1..16`},
		{"hosts[1].devices[0].vectors", `config: hosts[1].devices[0].vectors: 0: want 2..25`},
		{"hosts[0].devices[0].rx_ring", `config: hosts[0].devices[0].rx_ring: 0: want a multiple of 8 in 8..4096`},
		{"hosts[0].devices[0].tx_ring", `config: hosts[0].devices[0].tx_ring: 0: want a multiple of 8 in 8..4096`},
		{"hosts[0].devices[0].mtu", `config: hosts[0].devices[0].mtu: 0: want 68..9216`},
		{"cables[0].speed_mbps", `config: cables[0].speed_mbps: 0: want 10..400000`},
		{"traffic[0].flows", `config: traffic[0].flows: 0: want 1..65535`},
		{"traffic[0].size", `config: traffic[0].size: 0: want ≥ 60`},
		{"traffic[0].burst", `config: traffic[0].burst: 0: want 1..1000 (txqueuelen: a longer burst loses the rest each time)`},
		{"traffic[0].rate_pps", `config: traffic[0].rate_pps: 0: want > 0`},
		{"bulk[0].send_size", `config: bulk[0].send_size: 0: want 1..65483`},
		{"bulk[0].rate_sends", `config: bulk[0].rate_sends: 0: want > 0`},
	} {
		c := Pair(DeviceConfig{}, 0, 0)
		c.Duration = 20 * time.Millisecond
		c.Log = LogConfig{Level: "info", Format: "console"}
		c.Traffic = []Traffic{{From: "h1/vnic0", To: "h2/vnic0"}}
		c.Bulk = []Bulk{{From: "h2/vnic0", To: "h1/vnic0"}}
		c.SetDefaultsUnless(func(key string) bool { return key == tc.key })
		if err := c.Validate(); err == nil || err.Error() != tc.want {
			t.Errorf("%s: got %v\nwant %s", tc.key, err, tc.want)
		}
	}
	// Without given keys it is SetDefaults.
	c := Pair(DeviceConfig{}, 0, 0)
	c.SetDefaultsUnless(func(string) bool { return false })
	if c.Hosts[0].CPUs != 1 || c.Cables[0].SpeedMbps != 1000 {
		t.Errorf("defaults: %+v", c)
	}
}

// TestValidateAddresses: an address belongs to one host (a host may have
// it on two devices, as Linux allows).
func TestValidateAddresses(t *testing.T) {
	addr := func(c *Config, h int, a ...string) {
		c.Traffic = nil
		c.Hosts[h].Devices[0].Addresses = a
	}
	check(t, []struct {
		set  func(c *Config)
		want string
	}{
		{func(c *Config) { addr(c, 0, "198.18.5.1/24"); addr(c, 1, "198.18.5.2/24") }, ``},
		{func(c *Config) { addr(c, 0, "198.18.5.1/24"); addr(c, 1, "198.18.5.1/24") },
			`config: hosts[1].devices[0].addresses: "198.18.5.1/24": 198.18.5.1 is also hosts[0]'s (h1): an address belongs to one host`},
		{func(c *Config) { addr(c, 0, "198.18.5.1/24"); addr(c, 1, "198.18.6.2/24", "198.18.5.1/30") },
			`config: hosts[1].devices[0].addresses: "198.18.5.1/30": 198.18.5.1 is also hosts[0]'s (h1): an address belongs to one host`},
		{func(c *Config) {
			addr(c, 0, "198.18.5.1/24")
			c.Hosts[0].Devices = append(c.Hosts[0].Devices, c.Hosts[0].Devices[0])
		}, ``},
	})
}

// TestValidateRates: rates pktgen and bulk can keep: finite, and a
// burst's (a send's) gap between 1 ns and 1 h; bursts that fit txqueuelen.
func TestValidateRates(t *testing.T) {
	tr := func(rate float64, burst int) func(c *Config) {
		return func(c *Config) { c.Traffic[0].RatePPS, c.Traffic[0].Burst = rate, burst }
	}
	bulk := func(rate float64) func(c *Config) {
		return func(c *Config) { c.Bulk = []Bulk{{From: "h1/vnic0", To: "h2/vnic0", SendSize: 1000, RateSends: rate}} }
	}
	check(t, []struct {
		set  func(c *Config)
		want string
	}{
		{tr(400000, 8), ``},
		{tr(1e9, 1), ``},
		{tr(1.0/3600, 1), ``},
		{tr(math.NaN(), 1), `config: traffic[0].rate_pps: NaN: want a finite rate`},
		{tr(math.Inf(1), 1), `config: traffic[0].rate_pps: +Inf: want a finite rate`},
		{tr(-5, 1), `config: traffic[0].rate_pps: -5: want > 0`},
		{tr(2e9, 1), `config: traffic[0].rate_pps: 2e+09 with burst 1: a burst every 0.5ns: want 1ns..1h`},
		{tr(1e-6, 1), `config: traffic[0].rate_pps: 1e-06 with burst 1: a burst every 277h46m40s: want 1ns..1h`},
		{tr(1e-20, 1), `config: traffic[0].rate_pps: 1e-20 with burst 1: a burst every 2.78e+16h: want 1ns..1h`},
		{tr(1000, 1001), `config: traffic[0].burst: 1001: want 1..1000 (txqueuelen: a longer burst loses the rest each time)`},
		{tr(1000, -1), `config: traffic[0].burst: -1: want 1..1000 (txqueuelen: a longer burst loses the rest each time)`},
		{bulk(2000), ``},
		{bulk(math.NaN()), `config: bulk[0].rate_sends: NaN: want a finite rate`},
		{bulk(math.Inf(1)), `config: bulk[0].rate_sends: +Inf: want a finite rate`},
		{bulk(5e9), `config: bulk[0].rate_sends: 5e+09: a send every 0.2ns: want 1ns..1h`},
		{bulk(1e-4), `config: bulk[0].rate_sends: 0.0001: a send every 2h46m40s: want 1ns..1h`},
	})
}

// TestValidateMACs: a device without a MAC gets 02:00:00:00:hh:dd, which
// runs out at host 255 and device 256; a MAC given must be one.
func TestValidateMACs(t *testing.T) {
	hosts := func(n int) func(c *Config) {
		return func(c *Config) {
			c.Cables, c.Traffic = nil, nil
			for i := len(c.Hosts); i < n; i++ {
				h := c.Hosts[0]
				h.Name = fmt.Sprintf("h%d", i+1)
				c.Hosts = append(c.Hosts, h)
			}
		}
	}
	devices := func(n int) func(c *Config) {
		return func(c *Config) {
			c.Cables, c.Traffic = nil, nil
			for len(c.Hosts[0].Devices) < n {
				c.Hosts[0].Devices = append(c.Hosts[0].Devices, c.Hosts[0].Devices[0])
			}
		}
	}
	check(t, []struct {
		set  func(c *Config)
		want string
	}{
		{hosts(255), ``},
		{hosts(256), `config: hosts[255].devices[0].mac: empty, and the automatic MACs (02:00:00:00:hh:dd, hh the host's index + 1) end at hosts[254]: set one`},
		{func(c *Config) { hosts(256)(c); c.Hosts[255].Devices[0].MAC = "02:00:00:01:00:00" }, ``},
		{devices(256), ``},
		{devices(257), `config: hosts[0].devices[256].mac: empty, and the automatic MACs (02:00:00:00:hh:dd, dd the device's index) end at devices[255]: set one`},
		{func(c *Config) { c.Hosts[0].Devices[0].MAC = "02:00:00:00:01" }, `config: hosts[0].devices[0].mac: "02:00:00:00:01": want a 48-bit MAC such as 02:00:00:00:01:00`},
		{func(c *Config) { c.Hosts[0].Devices[0].MAC = "02:00:00:00:00:00:00:01" }, `config: hosts[0].devices[0].mac: "02:00:00:00:00:00:00:01": want a 48-bit MAC such as 02:00:00:00:01:00`},
	})
}

// A TAP port's namespace is a name, never a path.
func TestValidateNetns(t *testing.T) {
	tap := func(ns string) func(c *Config) {
		return func(c *Config) {
			c.Time, c.Cables, c.Traffic = RealTime, nil, nil
			c.Hosts[0].Devices[0].Port = PortConfig{Type: "tap", Ifname: "vt0", Netns: ns}
		}
	}
	check(t, []struct {
		set  func(c *Config)
		want string
	}{
		{tap("vnic-test"), ""},
		{tap(""), ""},
		{tap("../../etc/passwd"), `config: hosts[0].devices[0].port.netns: "../../etc/passwd": want a namespace name, not a path: invalid argument`},
		{tap(".."), `config: hosts[0].devices[0].port.netns: "..": want a namespace name, not a path: invalid argument`},
	})
}
