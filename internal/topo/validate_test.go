package topo

import (
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
		{func(c *Config) { c.Hosts[0].IPv4 = true }, `config: traffic[0]: host h1 runs IPv4: pktgen streams need hosts without it`},
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
