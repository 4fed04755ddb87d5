package topo

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"vnic/driver"
	"vnic/hw"
	"vnic/internal/iproute"
	"vnic/stack"
	"vnic/stack/inet"
	"vnic/stack/ipv4"
	"vnic/stack/netfilter/conntrack"
	"vnic/stack/rtnetlink"
)

// World is a built topology.
type World struct {
	Clock  hw.Clock
	VClock *hw.VirtualClock // nil in real time
	Hosts  []*Host
	Cables []*Cable
	Ports  []*hw.FramePort
	files  []*os.File

	cfg     Config
	ctl     sync.Mutex // serialises the changes made at run time
	mu      sync.Mutex // guards Hosts and each host's Devices once running
	handles uint32     // the last host handle given
	macs    uint32     // MACs given to devices made at run time
	hooks   []func(Event)
}

// Host is a built host.
type Host struct {
	Name    string
	Stack   *stack.Host
	CPUs    []*hw.CPU
	DMA     *hw.DMA
	Devices []*Device
	// Handle names the host in rtnetlink requests that move or make a
	// device there (IFLA_NET_NS_FD: what an open /run/netns/NAME is on
	// Linux); NSID is the id ip netns set gave it, -1 none.
	Handle uint32
	NSID   int32
	w      *World
}

// Device is a vnic with its driver and net_device.
type Device struct {
	Host    *Host
	HW      *hw.Device
	Adapter *driver.Adapter
	Netdev  *stack.NetDevice
	Port    *hw.FramePort // a TAP port (nil on a cable)
	// Kind is how ip link add made it ("veth", "dummy"; "" for a device
	// of the topology file).
	Kind string
	cfg  DeviceConfig
	wire *hw.Cable // the cable it is plugged into, at end 0 or 1
	end  int
	peer *Device  // the device at the cable's other end
	sink *hw.Sink // a dummy's idle port
}

// plugPort connects d to the port pc describes.
func (w *World) plugPort(d *Device, pc PortConfig) error {
	if pc.Type != "tap" {
		return fmt.Errorf("port type %q: want tap", pc.Type)
	}
	if w.VClock != nil {
		return fmt.Errorf("a TAP port needs time: real (the kernel on the other side runs on the wall clock)")
	}
	pipe, hdr, err := hw.OpenTAP(pc.Ifname, pc.Netns, pc.VnetHdr)
	if err != nil {
		return err
	}
	p, err := hw.NewFramePort(w.Clock, pipe, hdr)
	if err != nil {
		pipe.Close()
		return err
	}
	p.Plug(d.HW)
	d.Port = p
	w.Ports = append(w.Ports, p)
	return nil
}

// Cable is a built cable.
type Cable struct {
	Cfg  CableConfig
	Wire *hw.Cable
	Pcap *hw.PcapWriter
}

// Build makes the topology, probes and opens every device and plugs the
// cables. Real-time CPUs are running when it returns; call Close.
func Build(cfg Config) (*World, error) {
	w := &World{cfg: cfg}
	if cfg.Time.Virtual() {
		w.VClock = hw.NewVirtualClock()
		w.Clock = w.VClock
	} else {
		w.Clock = hw.NewRealClock()
	}
	for hi, hc := range cfg.Hosts {
		if hc.Name == "" {
			return nil, fmt.Errorf("topo: host %d has no name", hi)
		}
		for _, o := range w.Hosts {
			if o.Name == hc.Name {
				return nil, fmt.Errorf("topo: host %q defined twice", hc.Name)
			}
		}
		h, err := w.newHost(hc, cfg.Seed+int64(hi))
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("topo: host %s: %w", hc.Name, err)
		}
		w.Hosts = append(w.Hosts, h)
		for di, dc := range hc.Devices {
			mac := dc.MAC
			if mac == "" {
				mac = fmt.Sprintf("02:00:00:00:%02x:%02x", hi+1, di)
			}
			hwmac, err := net.ParseMAC(mac)
			if err != nil || len(hwmac) != 6 {
				w.Close()
				return nil, fmt.Errorf("topo: host %s device %d: bad MAC %q", hc.Name, di, mac)
			}
			d, err := w.newDevice(h, dc, fmt.Sprintf("%s/nic%d", hc.Name, di), hwmac, cfg.Seed+int64(hi*16+di))
			if err != nil {
				w.Close()
				var de deviceError
				if errors.As(err, &de) {
					return nil, fmt.Errorf("topo: host %s device %d: %w", hc.Name, di, err)
				}
				return nil, fmt.Errorf("topo: %w", err)
			}
			h.Devices = append(h.Devices, d)
		}
	}
	for _, cc := range cfg.Cables {
		a, err := w.Device(cc.A)
		if err != nil {
			w.Close()
			return nil, err
		}
		b, err := w.Device(cc.B)
		if err != nil {
			w.Close()
			return nil, err
		}
		if cc.SpeedMbps == 0 {
			cc.SpeedMbps = 1000
		}
		if cc.SpeedMbps < 10 || cc.SpeedMbps > 400000 {
			w.Close()
			return nil, fmt.Errorf("topo: cable %s-%s: speed %d Mb/s outside [10, 400000]", cc.A, cc.B, cc.SpeedMbps)
		}
		c := &Cable{Cfg: cc, Wire: hw.NewCable(w.Clock, cc.SpeedMbps)}
		if cc.Pcap != "" {
			f, err := os.Create(cc.Pcap)
			if err != nil {
				w.Close()
				return nil, fmt.Errorf("topo: cable %s-%s: %w", cc.A, cc.B, err)
			}
			w.files = append(w.files, f)
			if c.Pcap, err = hw.NewPcapWriter(f, 0); err != nil {
				w.Close()
				return nil, fmt.Errorf("topo: %w", err)
			}
			c.Wire.Tap(c.Pcap)
		}
		c.Wire.Plug(a.HW, b.HW)
		a.wire, a.end, a.peer = c.Wire, 0, b
		b.wire, b.end, b.peer = c.Wire, 1, a
		w.Cables = append(w.Cables, c)
	}
	for _, h := range w.Hosts {
		for _, c := range h.CPUs {
			c.Start()
		}
	}
	for hi, h := range w.Hosts {
		for di, d := range h.Devices {
			if pc := cfg.Hosts[hi].Devices[di].Port; pc.Type != "" {
				if err := w.plugPort(d, pc); err != nil {
					w.Close()
					return nil, fmt.Errorf("topo: %s/%s: %w", h.Name, d.Netdev.Name(), err)
				}
			}
			if err := d.Netdev.Open(); err != nil {
				w.Close()
				return nil, fmt.Errorf("topo: %w", err)
			}
		}
	}
	for hi, h := range w.Hosts {
		if err := configureIPv4(h, cfg.Hosts[hi]); err != nil {
			w.Close()
			return nil, fmt.Errorf("topo: host %s: %w", h.Name, err)
		}
	}
	return w, nil
}

// newHost builds a host of hc with its CPUs (not started), its stack,
// rtnetlink and, when hc asks for it, IPv4.
func (w *World) newHost(hc HostConfig, seed int64) (*Host, error) {
	if hc.CPUs < 1 || hc.CPUs > 64 {
		return nil, fmt.Errorf("cpus %d outside [1, 64]", hc.CPUs)
	}
	if hc.DMABytes == 0 {
		hc.DMABytes = 64 << 20
	}
	h := &Host{Name: hc.Name, DMA: hw.NewDMA(hc.DMABytes), w: w, NSID: -1}
	w.handles++
	h.Handle = w.handles
	var scpus []stack.CPU
	costs := w.cfg.Costs.Model()
	if hc.Costs != nil {
		costs = hc.Costs.Model()
	}
	for i := 0; i < hc.CPUs; i++ {
		c := hw.NewCPU(i, w.Clock, costs)
		h.CPUs = append(h.CPUs, c)
		scpus = append(scpus, c)
	}
	h.Stack = stack.NewHost(hc.Name, w.Clock, scpus, stack.HostConfig{
		NetdevBudget: hc.NetdevBudget, NetdevBudgetTime: usecs(hc.NetdevBudgetUsecs),
		Costs: stack.Costs{Proto: costs.Proto, Poll: costs.Poll, GRO: costs.GRO}, Seed: seed,
	})
	rtnetlink.Init(h.Stack)
	rtnetlink.SetLinkOps(h.Stack, linkOps{w})
	if hc.runsIPv4() {
		if _, err := inet.Init(h.Stack, ipv4.InetConfig{Seed: seed}); err != nil {
			return nil, err
		}
		if hc.Conntrack {
			if _, err := conntrack.Enable(h.Stack); err != nil {
				return nil, err
			}
		}
	}
	return h, nil
}

// deviceError is an error of a device's own settings (reported with the
// host and device it is about).
type deviceError struct{ error }

// newDevice builds a vnic in h: the NIC (hw name hwName, MAC mac in its
// EEPROM), its driver probed with dc's parameters, and the settings dc
// gives the net_device. It is not plugged or opened.
func (w *World) newDevice(h *Host, dc DeviceConfig, hwName string, mac net.HardwareAddr, seed int64) (*Device, error) {
	nic, err := hw.NewDevice(hw.DeviceConfig{Name: hwName, MAC: mac, Checker: w.cfg.Checker, Vectors: dc.Vectors}, w.Clock, h.DMA)
	if err != nil {
		return nil, err
	}
	rxMode, ok := driver.ParseRxMode(dc.RxMode)
	if !ok {
		return nil, fmt.Errorf("driver: %s: receive mode %q: want %s", hwName, dc.RxMode, driver.RxModeNames)
	}
	ad, err := driver.Probe(nic.Function(), h.Stack, h.CPUs, driver.Config{
		Name: dc.Name, Queues: dc.Queues, MaxQueues: dc.MaxQueues, RxRing: dc.RxRing, TxRing: dc.TxRing, ITR: usecs(dc.ITRUsecs),
		RxIntDelay: usecs(dc.RxIntDelayUsecs), RxAbsIntDelay: usecs(dc.RxAbsIntDelayUsecs), TxTimeout: dc.TxTimeout,
		RxMode: rxMode, LegacyBatch: dc.LegacyBatch, PollQuota: dc.PollQuota,
		Seed: seed,
	})
	if err != nil {
		return nil, err
	}
	d := &Device{Host: h, HW: nic, Adapter: ad, Netdev: ad.NetDevice(), cfg: dc}
	if dc.MTU != 0 {
		if err := d.Netdev.SetMTU(dc.MTU); err != nil {
			d.Adapter.Remove()
			return nil, err
		}
	}
	if dc.NAPIDeferHardIRQs != 0 || dc.GROFlushTimeoutUsecs != 0 {
		if err := d.Netdev.SetNAPIDefer(dc.NAPIDeferHardIRQs, usecs(dc.GROFlushTimeoutUsecs)); err != nil {
			d.Adapter.Remove()
			return nil, deviceError{err}
		}
	}
	d.Netdev.SetThreaded(dc.Threaded)
	return d, nil
}

// runsIPv4 reports whether the host gets the IPv4 stack: asked for, or
// implied by forwarding, routes or an address.
func (hc HostConfig) runsIPv4() bool {
	if hc.IPv4 || hc.Forwarding || len(hc.Routes) > 0 {
		return true
	}
	for _, d := range hc.Devices {
		if len(d.Addresses) > 0 {
			return true
		}
	}
	return false
}

// addrs is the host's IPv4 addresses as the file gives them, in order
// (those that parse).
func (hc HostConfig) addrs() []netip.Addr {
	var out []netip.Addr
	for _, d := range hc.Devices {
		for _, a := range d.Addresses {
			if p, err := netip.ParsePrefix(a); err == nil && p.Addr().Is4() {
				out = append(out, p.Addr())
			}
		}
	}
	return out
}

// configureIPv4 adds the host's addresses, forwarding switch and routes.
func configureIPv4(h *Host, hc HostConfig) error {
	in := ipv4.Of(h.Stack)
	if in == nil {
		return nil
	}
	for di, dc := range hc.Devices {
		d := h.Devices[di].Netdev
		for _, a := range dc.Addresses {
			p, err := netip.ParsePrefix(a)
			if err != nil || !p.Addr().Is4() {
				return fmt.Errorf("%s: address %q is not an IPv4 prefix (198.18.5.2/24)", d.Name(), a)
			}
			if err := in.AddAddr(d, p); err != nil {
				return fmt.Errorf("%s: address %s: %w", d.Name(), a, err)
			}
		}
	}
	if err := in.SetForwarding(hc.Forwarding); err != nil {
		return err
	}
	if err := in.SetRPFilter(nil, hc.RPFilter); err != nil {
		return err
	}
	for di, dc := range hc.Devices {
		if dc.Forwarding != nil {
			if err := in.SetDevForwarding(h.Devices[di].Netdev, *dc.Forwarding); err != nil {
				return err
			}
		}
	}
	// Routes take the path of ip route add: the RTM_NEWROUTE handler, with
	// its checks (the local table's rule among them).
	for _, rs := range hc.Routes {
		spec, err := iproute.ParseRoute(strings.Fields(rs))
		if err != nil {
			return fmt.Errorf("route %q: %w", rs, err)
		}
		m, err := spec.Message(rtnetlink.RTMNewRoute, func(name string) (uint32, error) {
			d, err := h.Stack.Device(name)
			if err != nil {
				return 0, &iproute.Error{Msg: fmt.Sprintf("Cannot find device \"%s\"", name)}
			}
			return uint32(d.Ifindex()), nil
		})
		if err != nil {
			return fmt.Errorf("route %q: %w", rs, err)
		}
		req := rtnetlink.Request{Type: rtnetlink.RTMNewRoute, Flags: rtnetlink.FlagRequest | rtnetlink.FlagAck | rtnetlink.FlagCreate | rtnetlink.FlagExcl, Body: m.Marshal()}
		if _, err := rtnetlink.Handle(h.Stack, req); err != nil {
			return fmt.Errorf("route %q: %w", rs, err)
		}
	}
	return nil
}

// Device finds "host/ifname".
func (w *World) Device(path string) (*Device, error) {
	hn, dn, ok := strings.Cut(path, "/")
	if !ok {
		return nil, fmt.Errorf("topo: %q is not host/ifname", path)
	}
	for _, h := range w.HostList() {
		if h.Name != hn {
			continue
		}
		for _, d := range h.DeviceList() {
			if d.Netdev.Name() == dn {
				return d, nil
			}
		}
		return nil, fmt.Errorf("topo: host %s has no device %q", hn, dn)
	}
	return nil, fmt.Errorf("topo: no host %q", hn)
}

// Host finds a host by name.
func (w *World) Host(name string) *Host {
	for _, h := range w.HostList() {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// Run advances the topology by d: virtual time runs the event loop, real
// time sleeps.
func (w *World) Run(d time.Duration) {
	if w.VClock != nil {
		w.VClock.RunFor(d)
		return
	}
	time.Sleep(d)
}

// Close stops every device and CPU and closes capture files.
func (w *World) Close() error {
	for _, h := range w.HostList() {
		for _, d := range h.DeviceList() {
			d.Netdev.Close()
		}
	}
	if w.VClock != nil {
		// Let the stop settle (pending events for closed devices are no-ops).
		w.VClock.RunFor(time.Millisecond)
	}
	for _, p := range w.Ports {
		p.Close()
	}
	w.Ports = nil
	for _, h := range w.HostList() {
		for _, c := range h.CPUs {
			c.Stop()
		}
	}
	var first error
	for _, f := range w.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	w.files = nil
	return first
}

// Pair is the usual two-host test topology: h1 and h2, each with one
// device dc (vnic0) and CPUs cpus, cabled at mbps, in virtual time with
// seed 1 unless changed.
func Pair(dc DeviceConfig, cpus, mbps int) Config {
	return Config{
		Time: VirtualTime, Seed: 1,
		Hosts: []HostConfig{
			{Name: "h1", CPUs: cpus, Devices: []DeviceConfig{dc}},
			{Name: "h2", CPUs: cpus, Devices: []DeviceConfig{dc}},
		},
		Cables: []CableConfig{{A: "h1/vnic0", B: "h2/vnic0", SpeedMbps: mbps}},
	}
}
