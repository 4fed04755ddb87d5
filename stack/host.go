package stack

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// HostConfig holds a namespace's tunables.
type HostConfig struct {
	// NetdevBudget is net.core.netdev_budget: packets one NET_RX round may
	// process (default 300).
	NetdevBudget int
	// NetdevBudgetTime is net.core.netdev_budget_usecs (default 2 ms).
	NetdevBudgetTime time.Duration
	// NetdevMaxBacklog is net.core.netdev_max_backlog: the per-CPU
	// backlog of the legacy (netif_rx) input path (default 1000).
	NetdevMaxBacklog int
	Costs            Costs
	// Seed makes the core's randomised choices repeat (netem's draws).
	Seed int64
}

// Host is one network namespace: its devices, protocol handlers, taps and
// per-CPU softnet state. Several hosts can share a process.
type Host struct {
	name  string
	clock Clock
	cfg   HostConfig
	cpus  []CPU
	sn    []*Softnet
	pool  *SKBPool

	mu      sync.Mutex
	devs    []*NetDevice
	ifindex int

	ptypes atomic.Pointer[[]ptype] // protocol handlers by EtherType, copied on write
	taps   []Tap
	xtaps  []Tap // transmit taps: what the stack hands the driver

	off offloadCounters

	pollThreads []*PollThread // per CPU, made on first use

	nf Netfilter

	notifiers atomic.Pointer[[]NetdevNotifier] // the netdev notifier chain, copied on write
	sysctls   []func() []Sysctl                // settings tables (under mu)

	gen [MaxKeys]unsafe.Pointer // protocols' state, by HostKey (net_generic)
}

// Netfilter returns the host's netfilter hook registry.
func (h *Host) Netfilter() *Netfilter { return &h.nf }

// AddXmitTap registers a tap that sees every packet the stack hands a
// driver, after software GSO and checksum (the capture point "before the
// driver"). Register before traffic flows.
func (h *Host) AddXmitTap(t Tap) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.xtaps = append(h.xtaps, t)
}

// Handler receives an skb whose data is at the network header. It owns the
// skb and must free or consume it.
type Handler func(skb *SKB)

// Tap sees every received frame (ptype_all: tcpdump, packet sockets) before
// protocol dispatch; it must not keep the skb.
type Tap func(skb *SKB)

type ptype struct {
	proto uint16
	fn    Handler
}

// NewHost returns a namespace running on cpus.
func NewHost(name string, clock Clock, cpus []CPU, cfg HostConfig) *Host {
	if cfg.NetdevBudget <= 0 {
		cfg.NetdevBudget = 300
	}
	if cfg.NetdevBudgetTime <= 0 {
		cfg.NetdevBudgetTime = 2 * time.Millisecond
	}
	if cfg.NetdevMaxBacklog <= 0 {
		cfg.NetdevMaxBacklog = 1000
	}
	h := &Host{name: name, clock: clock, cfg: cfg, cpus: cpus, pool: NewSKBPool()}
	h.pool.setVirtual(clock.Virtual())
	for _, c := range cpus {
		sn := &Softnet{host: h, cpu: c}
		sn.mu.off = clock.Virtual()
		sn.pollDone = sync.NewCond(&sn.mu)
		sn.backlogNAPI = &NAPI{poll: sn.processBacklog, weight: NAPIWeight, sn: sn, IRQ: -1}
		h.sn = append(h.sn, sn)
		c.SetSoftirqHandler(sn.action)
	}
	return h
}

// Name returns the host name.
func (h *Host) Name() string { return h.name }

// Clock returns the host's clock.
func (h *Host) Clock() Clock { return h.clock }

// CPUs returns the host's CPUs.
func (h *Host) CPUs() []CPU { return h.cpus }

// Softnet returns CPU i's softnet state.
func (h *Host) Softnet(i int) *Softnet { return h.sn[i] }

// Pool returns the host's skb pool.
func (h *Host) Pool() *SKBPool { return h.pool }

// Costs returns the stack's cost model.
func (h *Host) Costs() Costs { return h.cfg.Costs }

// Register is register_netdevice: a unique name from the template, the next
// ifindex, and the device becomes visible.
func (h *Host) Register(d *NetDevice) error {
	if err := h.register(d); err != nil {
		return err
	}
	// Listed from here on: the chain hears of the device, not under the
	// host's lock (a notifier may list the host's devices).
	d.listed.Store(true)
	d.notify(NetdevRegister)
	return nil
}

func (h *Host) register(d *NetDevice) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if d.registered {
		return fmt.Errorf("stack: %s already registered: %w", d.name, syscall.EEXIST)
	}
	name, err := allocName(d.name, func(n string) bool {
		for _, o := range h.devs {
			if o.name == n {
				return true
			}
		}
		return false
	})
	if err != nil {
		return err
	}
	h.ifindex++
	d.name, d.ifindex, d.host, d.registered = name, h.ifindex, h, true
	d.registerFeatures()
	d.mu.off = h.clock.Virtual()
	for _, q := range d.txq {
		q.mu.off = h.clock.Virtual()
	}
	d.mu.Lock()
	d.updateOperstate()
	d.mu.Unlock()
	h.devs = append(h.devs, d)
	return nil
}

// Unregister is unregister_netdevice: closes the device and removes it.
func (h *Host) Unregister(d *NetDevice) error {
	h.mu.Lock()
	listed := slices.Contains(h.devs, d)
	h.mu.Unlock()
	if !listed {
		return fmt.Errorf("stack: %s not registered: %w", d.name, syscall.ENODEV)
	}
	if d.IsVRF() {
		// vrf_dellink: its slaves are released (and cycled) first.
		for _, o := range h.Devices() {
			if o.Master() == d {
				if err := o.SetMaster(nil); err != nil {
					return err
				}
			}
		}
	}
	if err := d.Close(); err != nil {
		return err
	}
	d.notify(NetdevUnregister)
	d.listed.Store(false) // the chain hears nothing more of it
	h.mu.Lock()
	defer h.mu.Unlock()
	if i := slices.Index(h.devs, d); i >= 0 {
		h.devs = slices.Delete(h.devs, i, i+1)
		d.registered = false
		return nil
	}
	return fmt.Errorf("stack: %s not registered: %w", d.name, syscall.ENODEV)
}

// Device returns the device called name.
func (h *Host) Device(name string) (*NetDevice, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, d := range h.devs {
		if d.name == name {
			return d, nil
		}
	}
	return nil, fmt.Errorf("stack: %s: no device %q: %w", h.name, name, syscall.ENODEV)
}

// Devices returns the registered devices in ifindex order.
func (h *Host) Devices() []*NetDevice {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*NetDevice(nil), h.devs...)
}

// AddProtocol is dev_add_pack for one EtherType (replacing its handler).
// The table is copied on write, so it may change while traffic flows: the
// receive path reads it without a lock.
func (h *Host) AddProtocol(proto uint16, fn Handler) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var next []ptype
	if cur := h.ptypes.Load(); cur != nil {
		next = append(next, *cur...)
	}
	for i := range next {
		if next[i].proto == proto {
			next[i].fn = fn
			h.ptypes.Store(&next)
			return
		}
	}
	next = append(next, ptype{proto, fn})
	h.ptypes.Store(&next)
}

// AddTap registers a capture tap (ptype_all). Register before traffic flows.
func (h *Host) AddTap(t Tap) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.taps = append(h.taps, t)
}
