package topo

import (
	"testing"
	"time"
)

// TestValidateTCP: each bad tcp entry is one error naming its key: the
// ends, the server's address and port, and the sizes and targets of each
// type (a type's keys on the other type are refused, not ignored).
func TestValidateTCP(t *testing.T) {
	// with gives valid()'s hosts addresses and the tcp entries fs, their
	// defaults set.
	with := func(fs ...TCPFlow) func(c *Config) {
		return func(c *Config) {
			c.Hosts[0].Devices[0].Addresses = []string{"198.18.0.1/24"}
			c.Hosts[1].Devices[0].Addresses = []string{"198.18.0.2/24", "198.18.1.2/24"}
			c.TCP = fs
			c.SetDefaults()
		}
	}
	bulk := TCPFlow{Type: TCPBulk, Client: "h1", Server: "h2"}
	rr := TCPFlow{Type: TCPRR, Client: "h2", Server: "h1", Port: 7000}
	change := func(f TCPFlow, set func(f *TCPFlow)) TCPFlow { set(&f); return f }
	check(t, []struct {
		set  func(c *Config)
		want string
	}{
		{with(bulk, rr), ``},
		{with(change(bulk, func(f *TCPFlow) { f.Bytes, f.Connections, f.Congestion, f.NoDelay = 1<<20, 8, "reno", true })), ``},
		{with(change(rr, func(f *TCPFlow) { f.Count, f.RequestSize, f.ResponseSize = 100, 1<<20, 1 })), ``},
		{with(change(bulk, func(f *TCPFlow) { f.Address = "198.18.1.2" })), ``},
		// A pktgen stream may end on an IPv4 host beside the flows.
		{func(c *Config) {
			with(bulk)(c)
			c.Traffic = []Traffic{{From: "h1/vnic0", To: "h2/vnic0"}}
			c.SetDefaults()
		}, ``},
		{with(change(bulk, func(f *TCPFlow) { f.Type = "udp" })), `config: tcp[0].type: "udp": want bulk or rr`},
		{with(change(bulk, func(f *TCPFlow) { f.Type = "" })), `config: tcp[0].type: empty: want bulk or rr`},
		{with(change(bulk, func(f *TCPFlow) { f.Client = "h9" })), `config: tcp[0].client: "h9": no such host`},
		{with(change(bulk, func(f *TCPFlow) { f.Client = "" })), `config: tcp[0].client: empty: want a host's name`},
		{with(change(bulk, func(f *TCPFlow) { f.Server = "h1" })), `config: tcp[0].server: "h1" is also the client: a flow joins two hosts`},
		{func(c *Config) { with(bulk)(c); c.Hosts[1].Devices[0].Addresses = nil },
			`config: tcp[0].server: host h2 has no IPv4 (give it an address)`},
		{func(c *Config) { with(bulk)(c); c.Hosts[1].Devices[0].Addresses, c.Hosts[1].IPv4 = nil, true },
			`config: tcp[0].address: empty, and server h2 has no address to take: give it one`},
		{with(change(bulk, func(f *TCPFlow) { f.Address = "198.18.0.1" })), `config: tcp[0].address: 198.18.0.1 is not an address of server h2`},
		{with(change(bulk, func(f *TCPFlow) { f.Address = "h2" })), `config: tcp[0].address: "h2": want an IPv4 address such as 198.18.0.2`},
		{with(bulk, change(bulk, func(f *TCPFlow) { f.Type = TCPRR; f.RequestSize, f.ResponseSize = 1, 1 })),
			`config: tcp[1].port: 5201 on h2 is also tcp[0]'s: a port has one listener`},
		{with(bulk, change(rr, func(f *TCPFlow) { f.Port = 5201 })), ``}, // the same port on another host
		{with(change(bulk, func(f *TCPFlow) { f.Port = 70000 })), `config: tcp[0].port: 70000: want 1..65535`},
		{with(change(bulk, func(f *TCPFlow) { f.Connections = 65 })), `config: tcp[0].connections: 65: want 1..64`},
		{with(change(bulk, func(f *TCPFlow) { f.MessageSize = 32 << 20 })), `config: tcp[0].message_size: 33554432: want 1..16777216`},
		{with(change(bulk, func(f *TCPFlow) { f.Bytes = -1 })), `config: tcp[0].bytes: -1: want 1..1099511627776, or none (for a duration)`},
		{with(change(bulk, func(f *TCPFlow) { f.Bytes, f.Duration = 1, time.Second })), `config: tcp[0]: bytes 1 and duration 1s: give one`},
		{with(change(bulk, func(f *TCPFlow) { f.Count = 5 })), `config: tcp[0].count: 5: for rr flows`},
		{with(change(bulk, func(f *TCPFlow) { f.ResponseSize = 5 })), `config: tcp[0].response_size: 5: for rr flows`},
		{with(change(rr, func(f *TCPFlow) { f.RequestSize = 2 << 20 })), `config: tcp[0].request_size: 2097152: want 1..1048576`},
		{with(change(rr, func(f *TCPFlow) { f.ResponseSize = -3 })), `config: tcp[0].response_size: -3: want 1..1048576`},
		{with(change(rr, func(f *TCPFlow) { f.Count, f.Duration = 3, time.Millisecond })), `config: tcp[0]: count 3 and duration 1ms: give one`},
		{with(change(rr, func(f *TCPFlow) { f.Bytes = 10 })), `config: tcp[0].bytes: 10: for bulk flows`},
		{with(change(rr, func(f *TCPFlow) { f.MessageSize = 10 })), `config: tcp[0].message_size: 10: for bulk flows`},
		{with(change(rr, func(f *TCPFlow) { f.Duration = 2 * time.Hour })), `config: tcp[0].duration: 2h0m0s: want (0, 1h], or none (the topology's duration)`},
		{with(change(rr, func(f *TCPFlow) { f.Congestion = "bbr" })), `config: tcp[0].congestion: "bbr": want cubic or reno (or none: the host's default)`},
	})
}

// TestValidateTCPGivenZeros: a zero the file gives for a tcp size is
// refused with its limits; the defaults follow the type.
func TestValidateTCPGivenZeros(t *testing.T) {
	for _, tc := range []struct {
		typ, key, want string
	}{
		{TCPBulk, "tcp[0].message_size", `config: tcp[0].message_size: 0: want 1..16777216`},
		{TCPBulk, "tcp[0].connections", `config: tcp[0].connections: 0: want 1..64`},
		{TCPBulk, "tcp[0].port", `config: tcp[0].port: 0: want 1..65535`},
		{TCPRR, "tcp[0].request_size", `config: tcp[0].request_size: 0: want 1..1048576`},
		{TCPRR, "tcp[0].response_size", `config: tcp[0].response_size: 0: want 1..1048576`},
	} {
		c := Pair(DeviceConfig{}, 0, 0)
		c.Duration = 20 * time.Millisecond
		c.Log = LogConfig{Level: "info", Format: "console"}
		c.Hosts[0].Devices[0].Addresses = []string{"198.18.0.1/24"}
		c.Hosts[1].Devices[0].Addresses = []string{"198.18.0.2/24"}
		c.TCP = []TCPFlow{{Type: tc.typ, Client: "h1", Server: "h2"}}
		c.SetDefaultsUnless(func(key string) bool { return key == tc.key })
		if err := c.Validate(); err == nil || err.Error() != tc.want {
			t.Errorf("%s: got %v\nwant %s", tc.key, err, tc.want)
		}
	}
	c := Config{TCP: []TCPFlow{{Type: TCPBulk}, {Type: TCPRR}}}
	c.SetDefaults()
	if b, r := c.TCP[0], c.TCP[1]; b.Port != 5201 || b.Connections != 1 || b.MessageSize != 128<<10 || b.RequestSize != 0 ||
		r.RequestSize != 1 || r.ResponseSize != 1 || r.MessageSize != 0 {
		t.Errorf("defaults: %+v", c.TCP)
	}
}
