package topo

import (
	"fmt"
	"time"

	"vnic/driver"
	"vnic/hw"
)

// Config describes a topology, and is a vnic config file: each field's
// mapstructure tag is its key (configs/default.yaml documents every one),
// so viper decodes a file straight into it. Fields without a key are for
// programs that build topologies themselves. Build reads the topology;
// Duration, Traffic, Bulk, TCP and Log are for the program that runs it.
type Config struct {
	// Time is the clock: VirtualTime (deterministic) or RealTime (the
	// zero value means real time too).
	Time     Clock         `mapstructure:"time"`
	Seed     int64         `mapstructure:"seed"`     // RSS keys and anything else random
	Duration time.Duration `mapstructure:"duration"` // how long traffic runs
	Checker  bool          `mapstructure:"checker"`  // contract checking on every device
	Costs    Costs         `mapstructure:"costs"`
	Hosts    []HostConfig  `mapstructure:"hosts"`
	Cables   []CableConfig `mapstructure:"cables"`
	Traffic  []Traffic     `mapstructure:"traffic"`
	Bulk     []Bulk        `mapstructure:"bulk"`
	TCP      []TCPFlow     `mapstructure:"tcp"`
	Log      LogConfig     `mapstructure:"log"`
}

// Clock is a config's time: key, as the file spells it.
type Clock string

// Clocks.
const (
	VirtualTime Clock = "virtual" // discrete events, deterministic for a seed
	RealTime    Clock = "real"    // the wall clock
)

// Virtual reports whether c is VirtualTime.
func (c Clock) Virtual() bool { return c == VirtualTime }

// Costs is the virtual-time cost model, hw.CostModel with the file's keys:
// the two convert into each other (topo.Costs(hw.DefaultCosts)). Timer,
// Indirect and Switch have no key.
type Costs struct {
	IRQ       time.Duration `mapstructure:"irq"`
	RxPacket  time.Duration `mapstructure:"rx_packet"`
	TxPacket  time.Duration `mapstructure:"tx_packet"`
	Proto     time.Duration `mapstructure:"proto"`
	Poll      time.Duration `mapstructure:"poll"`
	CopyPerKB time.Duration `mapstructure:"copy_per_kb"`
	GRO       time.Duration `mapstructure:"gro"`
	Timer     time.Duration `mapstructure:"-"`
	Indirect  time.Duration `mapstructure:"-"`
	Switch    time.Duration `mapstructure:"-"`
}

// Model is c as the CPUs take it.
func (c Costs) Model() hw.CostModel { return hw.CostModel(c) }

// HostConfig describes one host.
type HostConfig struct {
	Name string `mapstructure:"name"`
	CPUs int    `mapstructure:"cpus"`
	// NetdevBudget and NetdevBudgetUsecs are netdev_budget and
	// netdev_budget_usecs (0: the stack's 300 packets and 2 ms).
	NetdevBudget      int            `mapstructure:"netdev_budget"`
	NetdevBudgetUsecs int            `mapstructure:"netdev_budget_usecs"`
	Devices           []DeviceConfig `mapstructure:"devices"`
	// IPv4 gives the host the IPv4 stack (it also follows from addresses,
	// routes or forwarding); Forwarding is net.ipv4.ip_forward; Routes
	// are ip route add arguments ("default via 198.18.5.1").
	IPv4       bool     `mapstructure:"ipv4"`
	Forwarding bool     `mapstructure:"forwarding"`
	Routes     []string `mapstructure:"routes"`
	// RPFilter is net.ipv4.conf.all.rp_filter (0 off, 1 strict, 2 loose).
	RPFilter int `mapstructure:"rp_filter"`
	// Conntrack turns connection tracking on for the host from the start
	// (as a state rule would: conntrack.Enable).
	Conntrack bool `mapstructure:"conntrack"`
	// DMABytes is the DMA arena's size, default 64 MiB.
	DMABytes int `mapstructure:"-"`
	// Costs, when set, replaces the world's cost model for this host
	// (an ideal load generator: all zero).
	Costs *Costs `mapstructure:"-"`
}

// DeviceConfig describes one vnic and its driver parameters.
type DeviceConfig struct {
	// Name is the interface name (default: vnic0, vnic1, … in order).
	Name string `mapstructure:"name"`
	// Addresses are IPv4 prefixes (198.18.5.2/24) added once it is up.
	Addresses []string `mapstructure:"addresses"`
	// Port plugs the device into something other than a cable.
	Port PortConfig `mapstructure:"port"`
	// Forwarding, when set, is the device's own forwarding switch
	// (net.ipv4.conf.DEV.forwarding); otherwise it follows the host's.
	Forwarding *bool  `mapstructure:"forwarding"`
	MAC        string `mapstructure:"mac"` // EEPROM MAC; default 02:00:00:00:hh:dd
	Queues     int    `mapstructure:"queues"`
	// MaxQueues caps ethtool -L (default 8, igb's limit; at most 16, the
	// device's queues); Vectors is the MSI-X table size (default 10, the
	// 82576 function's; up to 25): each queue pair needs a vector besides
	// the "other" one.
	MaxQueues int `mapstructure:"max_queues"`
	Vectors   int `mapstructure:"vectors"`
	// RxMode is the driver's receive path as driver.ParseRxMode reads
	// it: napi (default), legacy, quota (Mogul's polling thread,
	// PollQuota packets per turn, 0 for no bound) or tick (polling on a
	// 1 ms tick, no interrupts). LegacyBatch bounds a legacy interrupt's
	// packets (driver.Config).
	RxMode      string `mapstructure:"rx_mode"`
	PollQuota   int    `mapstructure:"poll_quota"`
	LegacyBatch int    `mapstructure:"-"`
	RxRing      int    `mapstructure:"rx_ring"`
	TxRing      int    `mapstructure:"tx_ring"`
	// ITRUsecs is EITR's interval as ethtool's rx-usecs: 0 (off), 1
	// (dynamic), 3 (dynamic conservative) or 10..8191 µs.
	ITRUsecs int `mapstructure:"itr_usecs"`
	// The receive delay timers (e1000's RxIntDelay, RxAbsIntDelay): µs,
	// in 1.024 µs steps.
	RxIntDelayUsecs    int `mapstructure:"rx_int_delay_usecs"`
	RxAbsIntDelayUsecs int `mapstructure:"rx_abs_int_delay_usecs"`
	MTU                int `mapstructure:"mtu"`
	// NAPIDeferHardIRQs and GROFlushTimeoutUsecs are the net device's
	// napi_defer_hard_irqs and gro_flush_timeout (NAPI deferral);
	// Threaded polls its NAPIs in kthreads (threaded NAPI).
	NAPIDeferHardIRQs    int  `mapstructure:"napi_defer_hard_irqs"`
	GROFlushTimeoutUsecs int  `mapstructure:"gro_flush_timeout_usecs"`
	Threaded             bool `mapstructure:"threaded"`
	// TxTimeout is the TX watchdog timeout (default 5 s).
	TxTimeout time.Duration `mapstructure:"-"`
}

// usecs is a count of µs as a duration.
func usecs(n int) time.Duration { return time.Duration(n) * time.Microsecond }

// PortConfig says where a device's wire goes when it is not a cable: a
// Linux TAP (Type "tap": Ifname, made in network namespace Netns when
// set; VnetHdr opens it with IFF_VNET_HDR for offloads).
type PortConfig struct {
	Type    string `mapstructure:"type"`
	Ifname  string `mapstructure:"ifname"`
	Netns   string `mapstructure:"netns"`
	VnetHdr bool   `mapstructure:"vnet_hdr"`
}

// CableConfig joins two devices named "host/ifname".
type CableConfig struct {
	A         string `mapstructure:"a"`
	B         string `mapstructure:"b"`
	SpeedMbps int    `mapstructure:"speed_mbps"` // default 1000
	Pcap      string `mapstructure:"pcap"`       // capture file for both directions, "" for none
}

// Traffic is one pktgen stream between two devices, "host/ifname".
type Traffic struct {
	From    string  `mapstructure:"from"`
	To      string  `mapstructure:"to"`
	Flows   int     `mapstructure:"flows"`
	Size    int     `mapstructure:"size"`
	RatePPS float64 `mapstructure:"rate_pps"`
	Burst   int     `mapstructure:"burst"`
}

// Bulk is one TCP-shaped bulk stream.
type Bulk struct {
	From      string  `mapstructure:"from"`
	To        string  `mapstructure:"to"`
	SendSize  int     `mapstructure:"send_size"`
	RateSends float64 `mapstructure:"rate_sends"`
}

// TCPFlow is one TCP traffic entry: Connections connections from the
// client host to a listener on the server host, over the hosts' own TCP
// (stack/tcp), each end a thread of its host (StartTCP).
//
// Type "bulk": each connection sends Bytes bytes in writes of
// MessageSize, or sends for Duration; then it shuts down its side and the
// server, having read everything, closes. Type "rr" (request/response,
// netperf's TCP_RR): each connection sends a request of RequestSize
// bytes, the server answers with ResponseSize bytes, and the client sends
// the next once the whole answer is in: Count transactions, or as many as
// fit in Duration. Without Bytes, Count or Duration a flow runs as long
// as the topology's duration (vnic demo) or until stopped (vnic up).
type TCPFlow struct {
	Type   string `mapstructure:"type"`   // bulk or rr
	Client string `mapstructure:"client"` // the host that connects
	Server string `mapstructure:"server"` // the host that listens
	// Address is what the client connects to (default: the server's first
	// address in the file) and Port the listener's port.
	Address     string        `mapstructure:"address"`
	Port        int           `mapstructure:"port"`
	Connections int           `mapstructure:"connections"`
	Bytes       int64         `mapstructure:"bytes"` // bulk: per connection
	Count       int64         `mapstructure:"count"` // rr: transactions per connection
	Duration    time.Duration `mapstructure:"duration"`
	// MessageSize is a bulk client's write; RequestSize and ResponseSize
	// are an rr transaction's two messages.
	MessageSize  int `mapstructure:"message_size"`
	RequestSize  int `mapstructure:"request_size"`
	ResponseSize int `mapstructure:"response_size"`
	// NoDelay sets TCP_NODELAY on both ends; Congestion is
	// TCP_CONGESTION on both ends ("": the host's default, cubic).
	NoDelay    bool   `mapstructure:"nodelay"`
	Congestion string `mapstructure:"congestion"`
}

// TCP flow types.
const (
	TCPBulk = "bulk"
	TCPRR   = "rr"
)

// LogConfig is the program's logger.
type LogConfig struct {
	Level  string `mapstructure:"level"`
	Format string `mapstructure:"format"`
}

// Defaults of list items.
const (
	defaultCPUs         = 1
	defaultNetdevBudget = 300  // stack.HostConfig's
	defaultBudgetUsecs  = 2000 // stack.HostConfig's 2 ms
	defaultVectors      = 10   // hw.DeviceConfig's, the 82576 function's
	defaultMTU          = 1500
	defaultSpeedMbps    = 1000
	defaultFlows        = 1
	defaultFrameSize    = 64
	defaultBurst        = 1
	defaultRatePPS      = 10000
	defaultRateSends    = 1000
	defaultTCPPort      = 5201      // iperf3's
	defaultMessageSize  = 128 << 10 // iperf3's TCP block
	defaultRRSize       = 1         // netperf TCP_RR's request and response
)

// SetDefaults gives list items (hosts, devices, cables, traffic, bulk, tcp) the
// defaults a file's list cannot take from the embedded one (a file's
// topology replaces the embedded one whole): a zero number means
// "default". Bools are left alone, since false cannot be told from unset:
// every list item's bool defaults to false. Keys outside lists take their
// defaults from the embedded file.
func (c *Config) SetDefaults() { c.SetDefaultsUnless(nil) }

// SetDefaultsUnless is SetDefaults, except that a key for which given
// reports true ("hosts[0].cpus", as Validate names it) keeps its zero, for
// Validate to refuse: a file that says cpus: 0 means 0, not "default".
// A nil given is SetDefaults.
func (c *Config) SetDefaultsUnless(given func(key string) bool) {
	def := func(p *int, v int, key string, args ...any) {
		if *p == 0 && (given == nil || !given(fmt.Sprintf(key, args...))) {
			*p = v
		}
	}
	deff := func(p *float64, v float64, key string, args ...any) {
		if *p == 0 && (given == nil || !given(fmt.Sprintf(key, args...))) {
			*p = v
		}
	}
	for i := range c.Hosts {
		h := &c.Hosts[i]
		def(&h.CPUs, defaultCPUs, "hosts[%d].cpus", i)
		def(&h.NetdevBudget, defaultNetdevBudget, "hosts[%d].netdev_budget", i)
		def(&h.NetdevBudgetUsecs, defaultBudgetUsecs, "hosts[%d].netdev_budget_usecs", i)
		for j := range h.Devices {
			d := &h.Devices[j]
			def(&d.Queues, driver.DefaultQueues, "hosts[%d].devices[%d].queues", i, j)
			def(&d.MaxQueues, driver.DefaultMaxQueues, "hosts[%d].devices[%d].max_queues", i, j)
			def(&d.Vectors, defaultVectors, "hosts[%d].devices[%d].vectors", i, j)
			def(&d.RxRing, driver.DefaultRing, "hosts[%d].devices[%d].rx_ring", i, j)
			def(&d.TxRing, driver.DefaultRing, "hosts[%d].devices[%d].tx_ring", i, j)
			def(&d.MTU, defaultMTU, "hosts[%d].devices[%d].mtu", i, j)
		}
	}
	for i := range c.Cables {
		def(&c.Cables[i].SpeedMbps, defaultSpeedMbps, "cables[%d].speed_mbps", i)
	}
	for i := range c.Bulk {
		b := &c.Bulk[i]
		def(&b.SendSize, maxSendSize, "bulk[%d].send_size", i)
		deff(&b.RateSends, defaultRateSends, "bulk[%d].rate_sends", i)
	}
	for i := range c.TCP {
		f := &c.TCP[i]
		def(&f.Port, defaultTCPPort, "tcp[%d].port", i)
		def(&f.Connections, 1, "tcp[%d].connections", i)
		switch f.Type {
		case TCPBulk:
			def(&f.MessageSize, defaultMessageSize, "tcp[%d].message_size", i)
		case TCPRR:
			def(&f.RequestSize, defaultRRSize, "tcp[%d].request_size", i)
			def(&f.ResponseSize, defaultRRSize, "tcp[%d].response_size", i)
		}
	}
	for i := range c.Traffic {
		t := &c.Traffic[i]
		def(&t.Flows, defaultFlows, "traffic[%d].flows", i)
		def(&t.Size, defaultFrameSize, "traffic[%d].size", i)
		def(&t.Burst, defaultBurst, "traffic[%d].burst", i)
		deff(&t.RatePPS, defaultRatePPS, "traffic[%d].rate_pps", i)
	}
}
