package topo

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"vnic/driver"
	"vnic/hw"
	"vnic/internal/iproute"
	"vnic/stack"
)

// Limits of keys that no lower package owns.
const (
	maxCPUs         = 64
	minSpeedMbps    = 10
	maxSpeedMbps    = 400000
	maxDuration     = time.Hour
	minVectors      = 2       // one queue pair's and "other"
	maxGROFlushUsec = 1000000 // 1 s
	maxFlows        = 65535
	minFrameSize    = 60    // ETH_ZLEN
	maxSendSize     = 65483 // the TCP payload of a 64 KiB IPv4 packet (stack.BulkConfig)
	maxIfname       = 15    // IFNAMSIZ - 1
	maxBurst        = stack.DefaultTxQueueLen
	maxAutoMACHost  = 0xff // 02:00:00:00:hh:dd: hh is the host's index + 1
	maxAutoMACDev   = 0xff // ...and dd the device's
)

// Validate checks every value of c with its defaults set (SetDefaults)
// and returns one error per bad value, joined, each naming its key as the
// file spells it ("config: hosts[0].devices[1].queues: 9: want 1..8 …").
// The limits are those of the packages that enforce them: the driver's
// queues, rings and timers, the device's queues and vectors.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: %s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.Time != VirtualTime && c.Time != RealTime {
		bad("time", "%q: want virtual or real", c.Time)
	}
	if c.Duration <= 0 || c.Duration > maxDuration {
		bad("duration", "%v: want (0, 1h]", c.Duration)
	}
	for _, cost := range []struct {
		key string
		d   time.Duration
	}{{"irq", c.Costs.IRQ}, {"rx_packet", c.Costs.RxPacket}, {"tx_packet", c.Costs.TxPacket}, {"proto", c.Costs.Proto},
		{"poll", c.Costs.Poll}, {"copy_per_kb", c.Costs.CopyPerKB}, {"gro", c.Costs.GRO}} {
		if cost.d < 0 {
			bad("costs."+cost.key, "%v is negative", cost.d)
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
		if h.CPUs < 1 || h.CPUs > maxCPUs {
			bad(k+".cpus", "%d: want 1..%d", h.CPUs, maxCPUs)
		}
		if h.NetdevBudget < 1 {
			bad(k+".netdev_budget", "%d: want ≥ 1", h.NetdevBudget)
		}
		if h.NetdevBudgetUsecs < 1 {
			bad(k+".netdev_budget_usecs", "%d: want ≥ 1", h.NetdevBudgetUsecs)
		}
		for j, d := range h.Devices {
			d.validate(fmt.Sprintf("%s.devices[%d]", k, j), bad)
		}
	}
	c.validateWiring(bad)
	for i, cb := range c.Cables {
		k := fmt.Sprintf("cables[%d]", i)
		if cb.SpeedMbps < minSpeedMbps || cb.SpeedMbps > maxSpeedMbps {
			bad(k+".speed_mbps", "%d: want %d..%d", cb.SpeedMbps, minSpeedMbps, maxSpeedMbps)
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
		if t.Flows < 1 || t.Flows > maxFlows {
			bad(k+".flows", "%d: want 1..%d", t.Flows, maxFlows)
		}
		if t.Size < minFrameSize {
			bad(k+".size", "%d: want ≥ %d", t.Size, minFrameSize)
		}
		if t.RatePPS <= 0 {
			bad(k+".rate_pps", "%v: want > 0", t.RatePPS)
		} else if !finite(t.RatePPS) {
			bad(k+".rate_pps", "%v: want a finite rate", t.RatePPS)
		}
		if t.Burst < 1 || t.Burst > maxBurst {
			bad(k+".burst", "%d: want 1..%d (txqueuelen: a longer burst loses the rest each time)", t.Burst, maxBurst)
		} else if t.RatePPS > 0 && finite(t.RatePPS) {
			// pktgen sends a burst every burst/rate_pps.
			if gap := float64(t.Burst) / t.RatePPS * float64(time.Second); gap < 1 || gap > float64(maxDuration) {
				bad(k+".rate_pps", "%v with burst %d: a burst every %s: want 1ns..1h", t.RatePPS, t.Burst, gapString(gap))
			}
		}
	}
	for i, b := range c.Bulk {
		k := fmt.Sprintf("bulk[%d]", i)
		if b.SendSize < 1 || b.SendSize > maxSendSize {
			bad(k+".send_size", "%d: want 1..%d", b.SendSize, maxSendSize)
		}
		if b.RateSends <= 0 {
			bad(k+".rate_sends", "%v: want > 0", b.RateSends)
		} else if !finite(b.RateSends) {
			bad(k+".rate_sends", "%v: want a finite rate", b.RateSends)
		} else if gap := float64(time.Second) / b.RateSends; gap < 1 || gap > float64(maxDuration) {
			bad(k+".rate_sends", "%v: a send every %s: want 1ns..1h", b.RateSends, gapString(gap))
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

// validate checks one device's driver parameters; dk is its key.
func (d DeviceConfig) validate(dk string, bad func(key, format string, args ...any)) {
	if _, ok := driver.ParseRxMode(d.RxMode); !ok {
		bad(dk+".rx_mode", "%q: want %s", d.RxMode, driver.RxModeNames)
	}
	if d.PollQuota < 0 {
		bad(dk+".poll_quota", "%d: want 0 (no bound) or more", d.PollQuota)
	}
	if d.MaxQueues < 1 || d.MaxQueues > hw.NumQueues {
		bad(dk+".max_queues", "%d: want 1..%d", d.MaxQueues, hw.NumQueues)
	}
	if d.Vectors < minVectors || d.Vectors > hw.NumVectors {
		bad(dk+".vectors", "%d: want %d..%d", d.Vectors, minVectors, hw.NumVectors)
	}
	// queues' limit follows from max_queues and vectors: only when both are good.
	if most := min(d.MaxQueues, d.Vectors-1); d.MaxQueues >= 1 && d.MaxQueues <= hw.NumQueues &&
		d.Vectors >= minVectors && d.Vectors <= hw.NumVectors && (d.Queues < 1 || d.Queues > most) {
		bad(dk+".queues", "%d: want 1..%d (max_queues, and one vector per queue pair besides \"other\")", d.Queues, most)
	}
	for _, r := range []struct {
		key string
		v   int
	}{{"rx_ring", d.RxRing}, {"tx_ring", d.TxRing}} {
		if r.v < driver.RingMin || r.v > driver.RingMax || r.v%driver.RingMultiple != 0 {
			bad(dk+"."+r.key, "%d: want a multiple of %d in %d..%d", r.v, driver.RingMultiple, driver.RingMin, driver.RingMax)
		}
	}
	if !driver.ValidITRUsecs(d.ITRUsecs) {
		bad(dk+".itr_usecs", "%d: want 0 (off), %d (dynamic), %d (dynamic conservative) or %d..%d",
			d.ITRUsecs, driver.ITRDynamic, driver.ITRConservative, driver.MinITRUsecs, driver.MaxITRUsecs)
	}
	maxDelay := int(driver.MaxRxIntDelay / time.Microsecond)
	for _, r := range []struct {
		key string
		v   int
	}{{"rx_int_delay_usecs", d.RxIntDelayUsecs}, {"rx_abs_int_delay_usecs", d.RxAbsIntDelayUsecs}} {
		if r.v < 0 || r.v > maxDelay {
			bad(dk+"."+r.key, "%d: want 0..%d (%d steps of 1.024 µs)", r.v, maxDelay, hw.RdtrDelayMask)
		}
	}
	if d.RxAbsIntDelayUsecs > 0 && d.RxIntDelayUsecs == 0 {
		bad(dk+".rx_abs_int_delay_usecs", "%d without rx_int_delay_usecs: the absolute timer runs only with the packet timer", d.RxAbsIntDelayUsecs)
	}
	if d.NAPIDeferHardIRQs < 0 {
		bad(dk+".napi_defer_hard_irqs", "%d: want 0 or more", d.NAPIDeferHardIRQs)
	}
	if d.GROFlushTimeoutUsecs < 0 || d.GROFlushTimeoutUsecs > maxGROFlushUsec {
		bad(dk+".gro_flush_timeout_usecs", "%d: want 0..%d", d.GROFlushTimeoutUsecs, maxGROFlushUsec)
	}
	if d.MTU < driver.MinMTU || d.MTU > driver.MaxMTU {
		bad(dk+".mtu", "%d: want %d..%d", d.MTU, driver.MinMTU, driver.MaxMTU)
	}
}

// validateWiring checks what joins hosts: device names, MACs, addresses,
// TAP ports, routes, that each device has at most one cable and a cable
// two different devices, that cables, pktgen and bulk streams keep off
// what they cannot share and reach devices that exist, and the TCP flows'
// ends (validateTCP).
func (c *Config) validateWiring(bad func(key, format string, args ...any)) {
	ipHosts := map[string]bool{}
	ports := map[string]bool{}
	devs := map[string]bool{}     // "host/ifname"
	addrs := map[netip.Addr]int{} // the address's host index
	hosts := map[string]int{}
	// Only with every host named once can an end be called missing.
	named := true
	for i, h := range c.Hosts {
		k := fmt.Sprintf("hosts[%d]", i)
		if o, ok := hosts[h.Name]; ok && h.Name != "" {
			bad(k+".name", "%q is also hosts[%d]'s", h.Name, o)
		} else if !ok {
			hosts[h.Name] = i
		}
		named = named && h.Name != "" && hosts[h.Name] == i
		ip := h.runsIPv4()
		for j, name := range deviceNames(h, k, bad) {
			d := h.Devices[j]
			dk := fmt.Sprintf("%s.devices[%d]", k, j)
			devs[h.Name+"/"+name] = true
			for _, a := range d.Addresses {
				p, err := netip.ParsePrefix(a)
				if err != nil || !p.Addr().Is4() {
					bad(dk+".addresses", "%q: want an IPv4 prefix such as 198.18.5.2/24", a)
					continue
				}
				if o, ok := addrs[p.Addr()]; ok && o != i {
					bad(dk+".addresses", "%q: %s is also hosts[%d]'s (%s): an address belongs to one host", a, p.Addr(), o, c.Hosts[o].Name)
				} else if !ok {
					addrs[p.Addr()] = i
				}
			}
			switch {
			case d.MAC != "":
				if m, err := net.ParseMAC(d.MAC); err != nil || len(m) != 6 {
					bad(dk+".mac", "%q: want a 48-bit MAC such as 02:00:00:00:01:00", d.MAC)
				}
			case i+1 > maxAutoMACHost:
				bad(dk+".mac", "empty, and the automatic MACs (02:00:00:00:hh:dd, hh the host's index + 1) end at hosts[%d]: set one", maxAutoMACHost-1)
			case j > maxAutoMACDev:
				bad(dk+".mac", "empty, and the automatic MACs (02:00:00:00:hh:dd, dd the device's index) end at devices[%d]: set one", maxAutoMACDev)
			}
			switch d.Port.Type {
			case "":
			case "tap":
				ports[h.Name+"/"+name] = true
				if d.Port.Ifname == "" || len(d.Port.Ifname) > maxIfname {
					bad(dk+".port.ifname", "%q: want a TAP name of 1..%d bytes", d.Port.Ifname, maxIfname)
				}
				if c.Time != RealTime {
					bad(dk+".port", "a TAP port needs time: real (the kernel runs on the wall clock)")
				}
				if err := hw.ValidNetns(d.Port.Netns); d.Port.Netns != "" && err != nil {
					bad(dk+".port.netns", "%q: %v", d.Port.Netns, err)
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
	cabled := map[string]int{} // device: its cable's index
	for i, cb := range c.Cables {
		k := fmt.Sprintf("cables[%d]", i)
		for _, end := range []string{cb.A, cb.B} {
			if ports[end] {
				bad(k, "%s has a TAP port: it cannot also be cabled", end)
			}
		}
		if cb.A == cb.B && cb.A != "" {
			bad(k, "%s to itself: a cable joins two devices", cb.A)
			continue
		}
		for _, end := range []struct{ key, dev string }{{"a", cb.A}, {"b", cb.B}} {
			if !strings.Contains(end.dev, "/") {
				continue // reported as want host/ifname
			}
			if !devs[end.dev] {
				if named {
					bad(k+"."+end.key, "%q: no such device", end.dev)
				}
				continue
			}
			if o, ok := cabled[end.dev]; ok {
				bad(k+"."+end.key, "%s is already on cables[%d]: a device has one cable", end.dev, o)
				continue
			}
			cabled[end.dev] = i
		}
	}
	// A pktgen stream may end on an IPv4 host: its sink there takes the
	// stream's frames at PRE_ROUTING (StartTraffic).
	for i, t := range c.Traffic {
		for _, end := range []struct{ key, dev string }{{"from", t.From}, {"to", t.To}} {
			if named && !devs[end.dev] {
				bad(fmt.Sprintf("traffic[%d].%s", i, end.key), "%q: no such device", end.dev)
			}
		}
	}
	for i, b := range c.Bulk {
		for _, end := range []struct{ key, dev string }{{"from", b.From}, {"to", b.To}} {
			if h, _, _ := strings.Cut(end.dev, "/"); ipHosts[h] {
				bad(fmt.Sprintf("bulk[%d]", i), "host %s runs IPv4: bulk streams need hosts without it", h)
			} else if named && !devs[end.dev] {
				bad(fmt.Sprintf("bulk[%d].%s", i, end.key), "%q: no such device", end.dev)
			}
		}
	}
	c.validateTCP(bad, named)
}

// deviceNames is the interface names h's devices get, as the stack
// gives them (a device without a name takes the lowest free vnicN when it
// registers, in order); a name two devices want is reported.
func deviceNames(h HostConfig, k string, bad func(key, format string, args ...any)) []string {
	names := make([]string, len(h.Devices))
	taken := map[string]int{}
	for j, d := range h.Devices {
		name := d.Name
		if name == "" {
			for n := 0; ; n++ {
				if _, ok := taken[fmt.Sprintf("vnic%d", n)]; !ok {
					name = fmt.Sprintf("vnic%d", n)
					break
				}
			}
		}
		if o, ok := taken[name]; ok {
			bad(fmt.Sprintf("%s.devices[%d].name", k, j), "%q is also devices[%d]'s", name, o)
		} else {
			taken[name] = j
		}
		names[j] = name
	}
	return names
}

// finite reports whether f is neither infinite nor NaN.
func finite(f float64) bool { return !math.IsInf(f, 0) && !math.IsNaN(f) }

// gapString is a gap of gap ns, as a duration when it is one.
func gapString(gap float64) string {
	if gap < 1 {
		return strconv.FormatFloat(gap, 'g', 3, 64) + "ns"
	}
	if gap < float64(math.MaxInt64) {
		return time.Duration(gap).String()
	}
	return strconv.FormatFloat(gap/float64(time.Hour), 'g', 3, 64) + "h"
}
