package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"

	"vnic/configs"
	"vnic/hw"
	"vnic/internal/iproute"
	"vnic/internal/topo"
)

// Config is a vnic config file (configs/default.yaml documents every key).
type Config struct {
	Time     string        `mapstructure:"time"`
	Seed     int64         `mapstructure:"seed"`
	Duration time.Duration `mapstructure:"duration"`
	Checker  bool          `mapstructure:"checker"`
	Costs    CostsConfig   `mapstructure:"costs"`
	Hosts    []HostConfig  `mapstructure:"hosts"`
	Cables   []CableConfig `mapstructure:"cables"`
	Traffic  []Traffic     `mapstructure:"traffic"`
	Bulk     []Bulk        `mapstructure:"bulk"`
	Log      LogConfig     `mapstructure:"log"`
}

// CostsConfig is the virtual-time cost model.
type CostsConfig struct {
	IRQ       time.Duration `mapstructure:"irq"`
	RxPacket  time.Duration `mapstructure:"rx_packet"`
	TxPacket  time.Duration `mapstructure:"tx_packet"`
	Proto     time.Duration `mapstructure:"proto"`
	Poll      time.Duration `mapstructure:"poll"`
	CopyPerKB time.Duration `mapstructure:"copy_per_kb"`
	GRO       time.Duration `mapstructure:"gro"`
}

// HostConfig is one host.
type HostConfig struct {
	Name              string         `mapstructure:"name"`
	CPUs              int            `mapstructure:"cpus"`
	NetdevBudget      int            `mapstructure:"netdev_budget"`
	NetdevBudgetUsecs int            `mapstructure:"netdev_budget_usecs"`
	Devices           []DeviceConfig `mapstructure:"devices"`
	// IPv4: the host runs the IPv4 stack (implied by addresses, routes or
	// forwarding); Forwarding is net.ipv4.ip_forward; Routes are ip
	// route add arguments.
	IPv4       bool     `mapstructure:"ipv4"`
	Forwarding bool     `mapstructure:"forwarding"`
	Routes     []string `mapstructure:"routes"`
	// RPFilter is net.ipv4.conf.all.rp_filter: 0 off, 1 strict, 2 loose.
	RPFilter int `mapstructure:"rp_filter"`
}

// PortConfig plugs a device into a Linux TAP instead of a cable.
type PortConfig struct {
	Type    string `mapstructure:"type"`
	Ifname  string `mapstructure:"ifname"`
	Netns   string `mapstructure:"netns"`
	VnetHdr bool   `mapstructure:"vnet_hdr"`
}

// DeviceConfig is one vnic.
type DeviceConfig struct {
	// Name is the interface name (default vnic0, vnic1, … in order).
	Name string `mapstructure:"name"`
	// Addresses are IPv4 prefixes given to the device.
	Addresses []string   `mapstructure:"addresses"`
	Port      PortConfig `mapstructure:"port"`
	// Forwarding is net.ipv4.conf.DEV.forwarding (default: the host's).
	Forwarding *bool  `mapstructure:"forwarding"`
	MAC        string `mapstructure:"mac"`
	Queues     int    `mapstructure:"queues"`
	// MaxQueues caps ethtool -L (default 8, igb's limit; at most 16, the
	// device's queues); Vectors is the MSI-X table size (default 10, the
	// 82576 function's; up to 25): each queue pair needs a vector besides
	// the "other" one.
	MaxQueues int `mapstructure:"max_queues"`
	Vectors   int `mapstructure:"vectors"`
	// RxMode is the driver's receive path: napi (default), legacy,
	// quota (Mogul's polling thread, PollQuota packets per turn, 0 for
	// no bound) or tick (polling on a 1 ms tick, no interrupts).
	RxMode    string `mapstructure:"rx_mode"`
	PollQuota int    `mapstructure:"poll_quota"`
	RxRing    int    `mapstructure:"rx_ring"`
	TxRing    int    `mapstructure:"tx_ring"`
	ITRUsecs  int    `mapstructure:"itr_usecs"`
	// The receive delay timers (e1000's RxIntDelay, RxAbsIntDelay): µs,
	// in 1.024 µs steps.
	RxIntDelayUsecs    int `mapstructure:"rx_int_delay_usecs"`
	RxAbsIntDelayUsecs int `mapstructure:"rx_abs_int_delay_usecs"`
	MTU                int `mapstructure:"mtu"`
	// NAPI deferral and threaded NAPI, as the sysfs files of the same
	// names.
	NAPIDeferHardIRQs    int  `mapstructure:"napi_defer_hard_irqs"`
	GROFlushTimeoutUsecs int  `mapstructure:"gro_flush_timeout_usecs"`
	Threaded             bool `mapstructure:"threaded"`
}

// CableConfig is one cable.
type CableConfig struct {
	A         string `mapstructure:"a"`
	B         string `mapstructure:"b"`
	SpeedMbps int    `mapstructure:"speed_mbps"`
	Pcap      string `mapstructure:"pcap"`
}

// Traffic is one pktgen stream.
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

// LogConfig is the logger.
type LogConfig struct {
	Level  string `mapstructure:"level"`
	Format string `mapstructure:"format"`
}

// loadConfig reads the embedded default, merges file over it (if any),
// applies VNIC_* environment variables to scalar keys, and decodes it
// strictly: an unknown key is an error that names it.
func loadConfig(file string) (*viper.Viper, error) {
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(configs.Default)); err != nil {
		return nil, fmt.Errorf("embedded default config: %w", err)
	}
	// Register every scalar key as a default so that environment variables
	// reach Unmarshal (viper only sees env for keys it knows).
	for _, k := range v.AllKeys() {
		v.SetDefault(k, v.Get(k))
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		user := viper.New()
		user.SetConfigType("yaml")
		if err := user.ReadConfig(bytes.NewReader(b)); err != nil {
			return nil, fmt.Errorf("config %s: %w", file, err)
		}
		if err := v.MergeConfigMap(user.AllSettings()); err != nil {
			return nil, fmt.Errorf("config %s: %w", file, err)
		}
	}
	v.SetEnvPrefix("VNIC")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_", "-", "_"))
	v.AutomaticEnv()
	return v, nil
}

// decodeConfig decodes v strictly and validates every value.
func decodeConfig(v *viper.Viper) (*Config, error) {
	var c Config
	err := v.UnmarshalExact(&c, func(dc *mapstructure.DecoderConfig) {
		dc.ErrorUnused = true
		dc.DecodeHook = mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToSliceHookFunc(","),
		)
	})
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c.fillDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// fillDefaults gives list items the defaults that the embedded file cannot
// (viper replaces lists whole): a zero value means "default".
func (c *Config) fillDefaults() {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	for i := range c.Hosts {
		h := &c.Hosts[i]
		def(&h.CPUs, 1)
		def(&h.NetdevBudget, 300)
		def(&h.NetdevBudgetUsecs, 2000)
		for j := range h.Devices {
			d := &h.Devices[j]
			def(&d.Queues, 1)
			def(&d.MaxQueues, 8)
			def(&d.Vectors, 10)
			def(&d.RxRing, 256)
			def(&d.TxRing, 256)
			def(&d.MTU, 1500)
		}
	}
	for i := range c.Cables {
		def(&c.Cables[i].SpeedMbps, 1000)
	}
	for i := range c.Bulk {
		def(&c.Bulk[i].SendSize, 65483)
		if c.Bulk[i].RateSends == 0 {
			c.Bulk[i].RateSends = 1000
		}
	}
	for i := range c.Traffic {
		t := &c.Traffic[i]
		def(&t.Flows, 1)
		def(&t.Size, 64)
		def(&t.Burst, 1)
		if t.RatePPS == 0 {
			t.RatePPS = 10000
		}
	}
}

func (c *Config) validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: %s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.Time != "virtual" && c.Time != "real" {
		bad("time", "%q: want virtual or real", c.Time)
	}
	if c.Duration <= 0 || c.Duration > time.Hour {
		bad("duration", "%v: want (0, 1h]", c.Duration)
	}
	for i, d := range []time.Duration{c.Costs.IRQ, c.Costs.RxPacket, c.Costs.TxPacket, c.Costs.Proto, c.Costs.Poll, c.Costs.CopyPerKB, c.Costs.GRO} {
		if d < 0 {
			bad("costs."+[]string{"irq", "rx_packet", "tx_packet", "proto", "poll", "copy_per_kb", "gro"}[i], "%v is negative", d)
		}
	}
	if len(c.Hosts) == 0 {
		bad("hosts", "no hosts")
	}
	for i, h := range c.Hosts {
		k := fmt.Sprintf("hosts[%d]", i)
		if h.Name == "" {
			bad(k+".name", "empty")
		}
		if h.CPUs < 1 || h.CPUs > 64 {
			bad(k+".cpus", "%d: want 1..64", h.CPUs)
		}
		if h.NetdevBudget < 1 {
			bad(k+".netdev_budget", "%d: want ≥ 1", h.NetdevBudget)
		}
		if h.NetdevBudgetUsecs < 1 {
			bad(k+".netdev_budget_usecs", "%d: want ≥ 1", h.NetdevBudgetUsecs)
		}
		for j, d := range h.Devices {
			dk := fmt.Sprintf("%s.devices[%d]", k, j)
			if d.RxMode != "" && d.RxMode != "napi" && d.RxMode != "legacy" && d.RxMode != "quota" && d.RxMode != "tick" {
				bad(dk+".rx_mode", "%q: want napi, legacy, quota or tick", d.RxMode)
			}
			if d.PollQuota < 0 {
				bad(dk+".poll_quota", "%d: want 0 (no bound) or more", d.PollQuota)
			}
			if d.MaxQueues < 1 || d.MaxQueues > 16 {
				bad(dk+".max_queues", "%d: want 1..16", d.MaxQueues)
			}
			if d.Vectors < 2 || d.Vectors > 25 {
				bad(dk+".vectors", "%d: want 2..25", d.Vectors)
			}
			if d.Queues < 1 || d.Queues > min(d.MaxQueues, d.Vectors-1) {
				bad(dk+".queues", "%d: want 1..%d (max_queues, and one vector per queue pair besides \"other\")", d.Queues, min(d.MaxQueues, d.Vectors-1))
			}
			for _, r := range []struct {
				key string
				v   int
			}{{"rx_ring", d.RxRing}, {"tx_ring", d.TxRing}} {
				if r.v < 8 || r.v > 4096 || r.v%8 != 0 {
					bad(dk+"."+r.key, "%d: want a multiple of 8 in 8..4096", r.v)
				}
			}
			if d.ITRUsecs < 0 || d.ITRUsecs > 8191 || d.ITRUsecs == 2 || (d.ITRUsecs > 3 && d.ITRUsecs < 10) {
				bad(dk+".itr_usecs", "%d: want 0 (off), 1 (dynamic), 3 (dynamic conservative) or 10..8191", d.ITRUsecs)
			}
			for _, r := range []struct {
				key string
				v   int
			}{{"rx_int_delay_usecs", d.RxIntDelayUsecs}, {"rx_abs_int_delay_usecs", d.RxAbsIntDelayUsecs}} {
				if r.v < 0 || r.v > 67107 {
					bad(dk+"."+r.key, "%d: want 0..67107 (65535 steps of 1.024 µs)", r.v)
				}
			}
			if d.RxAbsIntDelayUsecs > 0 && d.RxIntDelayUsecs == 0 {
				bad(dk+".rx_abs_int_delay_usecs", "%d without rx_int_delay_usecs: the absolute timer runs only with the packet timer", d.RxAbsIntDelayUsecs)
			}
			if d.NAPIDeferHardIRQs < 0 {
				bad(dk+".napi_defer_hard_irqs", "%d: want 0 or more", d.NAPIDeferHardIRQs)
			}
			if d.GROFlushTimeoutUsecs < 0 || d.GROFlushTimeoutUsecs > 1000000 {
				bad(dk+".gro_flush_timeout_usecs", "%d: want 0..1000000", d.GROFlushTimeoutUsecs)
			}
			if d.MTU < 68 || d.MTU > 9216 {
				bad(dk+".mtu", "%d: want 68..9216", d.MTU)
			}
		}
	}
	ipHosts := map[string]bool{}
	ports := map[string]bool{}
	for i, h := range c.Hosts {
		k := fmt.Sprintf("hosts[%d]", i)
		ip := h.IPv4 || h.Forwarding || len(h.Routes) > 0
		for j, d := range h.Devices {
			dk := fmt.Sprintf("%s.devices[%d]", k, j)
			name := d.Name
			if name == "" {
				name = fmt.Sprintf("vnic%d", j)
			}
			if len(d.Addresses) > 0 {
				ip = true
			}
			for _, a := range d.Addresses {
				if p, err := netip.ParsePrefix(a); err != nil || !p.Addr().Is4() {
					bad(dk+".addresses", "%q: want an IPv4 prefix such as 198.18.5.2/24", a)
				}
			}
			switch d.Port.Type {
			case "":
			case "tap":
				ports[h.Name+"/"+name] = true
				if d.Port.Ifname == "" || len(d.Port.Ifname) > 15 {
					bad(dk+".port.ifname", "%q: want a TAP name of 1..15 bytes", d.Port.Ifname)
				}
				if c.Time != "real" {
					bad(dk+".port", "a TAP port needs time: real (the kernel runs on the wall clock)")
				}
			default:
				bad(dk+".port.type", "%q: want tap (or no port: a cable)", d.Port.Type)
			}
		}
		for j, r := range h.Routes {
			if _, err := iproute.ParseRoute(strings.Fields(r)); err != nil {
				bad(fmt.Sprintf("%s.routes[%d]", k, j), "%q: %v", r, err)
			}
		}
		if h.RPFilter < 0 || h.RPFilter > 2 {
			bad(k+".rp_filter", "%d: want 0 (off), 1 (strict) or 2 (loose)", h.RPFilter)
		}
		if ip {
			ipHosts[h.Name] = true
		}
	}
	for i, cb := range c.Cables {
		for _, end := range []string{cb.A, cb.B} {
			if ports[end] {
				bad(fmt.Sprintf("cables[%d]", i), "%s has a TAP port: it cannot also be cabled", end)
			}
		}
	}
	for i, t := range c.Traffic {
		for _, end := range []string{t.From, t.To} {
			if h, _, _ := strings.Cut(end, "/"); ipHosts[h] {
				bad(fmt.Sprintf("traffic[%d]", i), "host %s runs IPv4: pktgen streams need hosts without it", h)
			}
		}
	}
	for i, b := range c.Bulk {
		for _, end := range []string{b.From, b.To} {
			if h, _, _ := strings.Cut(end, "/"); ipHosts[h] {
				bad(fmt.Sprintf("bulk[%d]", i), "host %s runs IPv4: bulk streams need hosts without it", h)
			}
		}
	}
	for i, cb := range c.Cables {
		k := fmt.Sprintf("cables[%d]", i)
		if cb.SpeedMbps < 10 || cb.SpeedMbps > 400000 {
			bad(k+".speed_mbps", "%d: want 10..400000", cb.SpeedMbps)
		}
		if !strings.Contains(cb.A, "/") {
			bad(k+".a", "%q: want host/ifname", cb.A)
		}
		if !strings.Contains(cb.B, "/") {
			bad(k+".b", "%q: want host/ifname", cb.B)
		}
	}
	for i, t := range c.Traffic {
		k := fmt.Sprintf("traffic[%d]", i)
		if t.Flows < 1 || t.Flows > 65535 {
			bad(k+".flows", "%d: want 1..65535", t.Flows)
		}
		if t.Size < 60 {
			bad(k+".size", "%d: want ≥ 60", t.Size)
		}
		if t.RatePPS <= 0 {
			bad(k+".rate_pps", "%v: want > 0", t.RatePPS)
		}
		if t.Burst < 1 {
			bad(k+".burst", "%d: want ≥ 1", t.Burst)
		}
	}
	for i, b := range c.Bulk {
		k := fmt.Sprintf("bulk[%d]", i)
		if b.SendSize < 1 || b.SendSize > 65483 {
			bad(k+".send_size", "%d: want 1..65483", b.SendSize)
		}
		if b.RateSends <= 0 {
			bad(k+".rate_sends", "%v: want > 0", b.RateSends)
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q: want debug, info, warn or error", c.Log.Level)
	}
	if c.Log.Format != "console" && c.Log.Format != "json" {
		bad("log.format", "%q: want console or json", c.Log.Format)
	}
	return errors.Join(errs...)
}

// topology converts the config into a topo.Config.
func (c *Config) topology() topo.Config {
	t := topo.Config{
		Virtual: c.Time == "virtual",
		Seed:    c.Seed,
		Checker: c.Checker,
		Costs: hw.CostModel{
			IRQ: c.Costs.IRQ, RxPacket: c.Costs.RxPacket, TxPacket: c.Costs.TxPacket,
			Proto: c.Costs.Proto, Poll: c.Costs.Poll, CopyPerKB: c.Costs.CopyPerKB, GRO: c.Costs.GRO,
		},
	}
	for _, h := range c.Hosts {
		hc := topo.HostConfig{Name: h.Name, CPUs: h.CPUs, Budget: h.NetdevBudget, BudgetT: time.Duration(h.NetdevBudgetUsecs) * time.Microsecond,
			IPv4: h.IPv4, Forwarding: h.Forwarding, Routes: h.Routes, RPFilter: h.RPFilter}
		for _, d := range h.Devices {
			hc.Devices = append(hc.Devices, topo.DeviceConfig{
				Name: d.Name, Addresses: d.Addresses, Forwarding: d.Forwarding,
				Port: topo.PortConfig{Type: d.Port.Type, Ifname: d.Port.Ifname, Netns: d.Port.Netns, VnetHdr: d.Port.VnetHdr},
				MAC:  d.MAC, Queues: d.Queues, MaxQueues: d.MaxQueues, Vectors: d.Vectors, RxRing: d.RxRing, TxRing: d.TxRing, RxMode: d.RxMode, PollQuota: d.PollQuota,
				ITR: time.Duration(d.ITRUsecs) * time.Microsecond, MTU: d.MTU,
				RxIntDelay: time.Duration(d.RxIntDelayUsecs) * time.Microsecond, RxAbsIntDelay: time.Duration(d.RxAbsIntDelayUsecs) * time.Microsecond,
				NAPIDeferHardIRQs: d.NAPIDeferHardIRQs, GROFlushTimeout: time.Duration(d.GROFlushTimeoutUsecs) * time.Microsecond, Threaded: d.Threaded,
			})
		}
		t.Hosts = append(t.Hosts, hc)
	}
	for _, cb := range c.Cables {
		t.Cables = append(t.Cables, topo.CableConfig{A: cb.A, B: cb.B, SpeedMbps: cb.SpeedMbps, Pcap: cb.Pcap})
	}
	return t
}
