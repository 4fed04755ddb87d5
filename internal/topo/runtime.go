package topo

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"syscall"

	"vnic/hw"
	"vnic/stack"
	"vnic/stack/rtnetlink"
)

// What changes at run time: hosts made and removed (vnic ip netns add,
// del) and devices made, moved and removed (ip link add, set netns, del).
// Each change runs where the simulation may be touched (the control
// socket's exec) and one at a time; Hosts and each host's Devices are
// replaced, never written in place, under the world's lock, so that
// HostList and DeviceList give a snapshot from anywhere.

// EventKind says what an Event reports.
type EventKind int

// Event kinds.
const (
	HostAdded EventKind = iota + 1
	HostRemoved
	DeviceAdded // a device made, or moved into its host
)

// Event is a run-time change of the world.
type Event struct {
	Kind   EventKind
	Host   *Host
	Device *Device // DeviceAdded
}

// Watch calls fn for every later run-time change, in the context of the
// change (it must not block or change the world).
func (w *World) Watch(fn func(Event)) {
	w.mu.Lock()
	w.hooks = append(w.hooks, fn)
	w.mu.Unlock()
}

func (w *World) emit(ev Event) {
	w.mu.Lock()
	hooks := w.hooks
	w.mu.Unlock()
	for _, fn := range hooks {
		fn(ev)
	}
}

// HostList returns the hosts now.
func (w *World) HostList() []*Host {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.Hosts
}

// DeviceList returns the host's devices now.
func (h *Host) DeviceList() []*Device {
	if h.w == nil {
		return h.Devices
	}
	h.w.mu.Lock()
	defer h.w.mu.Unlock()
	return h.Devices
}

// hostByHandle finds a host by its handle (nil: none).
func (w *World) hostByHandle(handle uint32) *Host {
	for _, h := range w.HostList() {
		if h.Handle == handle {
			return h
		}
	}
	return nil
}

// hostOf finds the topology's host of a stack.
func (w *World) hostOf(sh *stack.Host) *Host {
	for _, h := range w.HostList() {
		if h.Stack == sh {
			return h
		}
	}
	return nil
}

// deviceOf finds the topology's device of a net_device.
func (w *World) deviceOf(nd *stack.NetDevice) *Device {
	if h := w.hostOf(nd.Host()); h != nil {
		for _, d := range h.DeviceList() {
			if d.Netdev == nd {
				return d
			}
		}
	}
	return nil
}

// RuntimeCPUs is how many CPUs a host made at run time has.
const RuntimeCPUs = 1

// VethMbps is the speed of the cable between a veth pair's ends (the
// kernel's veth reports 10000Mb/s).
const VethMbps = 10000

// validNetnsName is what ip netns add takes: a name that is a single
// path component.
func validNetnsName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\x00") && len(s) < 256
}

// AddHost makes a host at run time, as ip netns add makes a namespace:
// one CPU, IPv4, its loopback device down, no other device. Its name must
// be unused (EEXIST).
func (w *World) AddHost(name string) (*Host, error) {
	w.ctl.Lock()
	defer w.ctl.Unlock()
	if !validNetnsName(name) {
		return nil, fmt.Errorf("invalid host name %q: %w", name, syscall.EINVAL)
	}
	if w.Host(name) != nil {
		return nil, fmt.Errorf("host %q exists: %w", name, syscall.EEXIST)
	}
	w.mu.Lock()
	seed := w.cfg.Seed + int64(w.handles)
	w.mu.Unlock()
	h, err := w.newHost(HostConfig{Name: name, CPUs: RuntimeCPUs, IPv4: true}, seed)
	if err != nil {
		return nil, err
	}
	for _, c := range h.CPUs {
		c.Start()
	}
	// A new namespace's loopback is down until ip link set lo up.
	if lo := loopbackOf(h); lo != nil {
		if err := lo.Close(); err != nil {
			return nil, err
		}
	}
	w.mu.Lock()
	w.Hosts = append(slices.Clip(w.Hosts), h)
	w.mu.Unlock()
	w.emit(Event{Kind: HostAdded, Host: h})
	return h, nil
}

// DelHost removes a host, as ip netns del removes a namespace: its
// devices go (a veth's peer with it, a cable's other end loses its
// link), then its CPUs stop.
func (w *World) DelHost(name string) error {
	w.ctl.Lock()
	defer w.ctl.Unlock()
	h := w.Host(name)
	if h == nil {
		return fmt.Errorf("no host %q: %w", name, syscall.ENOENT)
	}
	for _, d := range h.DeviceList() {
		if !slices.Contains(h.DeviceList(), d) {
			continue // a veth's peer here, gone with its other end
		}
		if err := w.removeDevice(d, true); err != nil {
			return err
		}
	}
	if lo := loopbackOf(h); lo != nil {
		lo.Close()
	}
	w.mu.Lock()
	w.Hosts = slices.DeleteFunc(slices.Clone(w.Hosts), func(o *Host) bool { return o == h })
	w.mu.Unlock()
	for _, c := range h.CPUs {
		c.Stop()
	}
	w.emit(Event{Kind: HostRemoved, Host: h})
	return nil
}

func loopbackOf(h *Host) *stack.NetDevice {
	for _, d := range h.Stack.Devices() {
		if d.IsLoopback() {
			return d
		}
	}
	return nil
}

// nextMAC is a locally administered unicast address for a device made at
// run time (02:76:6e:…, "vn"), different for each: Linux draws veth and
// dummy addresses at random, vnic counts so that runs repeat.
func (w *World) nextMAC() net.HardwareAddr {
	w.mu.Lock()
	w.macs++
	n := w.macs
	w.mu.Unlock()
	return net.HardwareAddr{0x02, 0x76, 0x6e, byte(n >> 16), byte(n >> 8), byte(n)}
}

// makeDevice builds a device of a kind in h, named name (a template with
// %d picks the first free), with mac (nil: the next run-time MAC) and mtu
// (0: the default), and lists it.
func (w *World) makeDevice(h *Host, kind, name string, mac net.HardwareAddr, mtu int, dc DeviceConfig) (*Device, error) {
	if mac == nil {
		mac = w.nextMAC()
	}
	if len(mac) != 6 || mac[0]&1 != 0 || net.HardwareAddr(make([]byte, 6)).String() == mac.String() {
		return nil, fmt.Errorf("%s is not a unicast address: %w", mac, syscall.EADDRNOTAVAIL)
	}
	dc.Name, dc.MTU = name, mtu
	if dc.Queues == 0 {
		dc.Queues = 1
	}
	w.mu.Lock()
	seed := w.cfg.Seed + int64(w.macs)*31
	w.mu.Unlock()
	d, err := w.newDevice(h, dc, fmt.Sprintf("%s/%s", h.Name, name), mac, seed)
	if err != nil {
		return nil, err
	}
	d.Kind = kind
	w.mu.Lock()
	h.Devices = append(slices.Clip(h.Devices), d)
	w.mu.Unlock()
	return d, nil
}

// unlist takes d off its host's devices.
func (w *World) unlist(d *Device) {
	w.mu.Lock()
	d.Host.Devices = slices.DeleteFunc(slices.Clone(d.Host.Devices), func(o *Device) bool { return o == d })
	w.mu.Unlock()
}

// removeDevice unplugs d and removes it (igb_remove); withPeer takes a
// veth's other end too, as deleting either end of a pair deletes both.
func (w *World) removeDevice(d *Device, withPeer bool) error {
	if err := d.Adapter.Remove(); err != nil {
		return err
	}
	d.HW.Connect(nil)
	if d.Port != nil {
		d.Port.Close()
		w.mu.Lock()
		w.Ports = slices.DeleteFunc(slices.Clone(w.Ports), func(p *hw.FramePort) bool { return p == d.Port })
		w.mu.Unlock()
	}
	w.unlist(d)
	if p := d.peer; p != nil {
		p.peer, d.peer = nil, nil
		if withPeer && d.Kind == "veth" {
			return w.removeDevice(p, false)
		}
		p.HW.Connect(nil) // the other end of a cable: no link partner
	}
	return nil
}

// plug joins a and b with a new cable of mbps.
func (w *World) plug(a, b *Device, mbps int) {
	c := hw.NewCable(w.Clock, mbps)
	c.Plug(a.HW, b.HW)
	a.wire, a.end, a.peer = c, 0, b
	b.wire, b.end, b.peer = c, 1, a
}

// linkOps is rtnetlink.LinkOps over the world: ip link add's kinds
// (veth: two vnics joined by a cable; dummy: a vnic on an idle port),
// and the moves and carrier changes of any vnic.
type linkOps struct{ w *World }

// kindTemplate is the name a kind's device gets when ip link add names
// none.
var kindTemplate = map[string]string{"veth": "veth%d", "dummy": "dummy%d"}

func (o linkOps) NewLink(sh *stack.Host, m rtnetlink.LinkMsg) (*stack.NetDevice, error) {
	w := o.w
	w.ctl.Lock()
	defer w.ctl.Unlock()
	h := w.hostOf(sh)
	if h == nil {
		return nil, fmt.Errorf("host %s is not in the topology: %w", sh.Name(), syscall.ENODEV)
	}
	if m.HasNetns {
		// Made in another host (ip link add … netns NAME).
		if h = w.hostByHandle(m.NetnsFD); h == nil {
			return nil, syscall.EINVAL
		}
		sh = h.Stack
	}
	tmpl, ok := kindTemplate[m.Kind]
	if !ok {
		return nil, rtnetlink.Errorf(syscall.EOPNOTSUPP, "Unknown device type")
	}
	name := m.Name
	if name == "" {
		name = tmpl
	}
	if _, err := sh.Device(name); err == nil {
		return nil, syscall.EEXIST
	}
	switch m.Kind {
	case "dummy":
		if m.Peer != nil {
			return nil, syscall.EINVAL
		}
		d, err := w.makeDevice(h, "dummy", name, m.MAC, int(m.MTU), DeviceConfig{})
		if err != nil {
			return nil, err
		}
		d.sink = &hw.Sink{}
		d.HW.Connect(d.sink)
		w.emit(Event{Kind: DeviceAdded, Host: h, Device: d})
		return d.Netdev, nil
	}
	// veth: the peer first (it takes the lower ifindex, as veth_newlink
	// registers it first), in its own host when the request names one.
	ph, pname, pmac, pmtu := h, tmpl, net.HardwareAddr(nil), 0
	if p := m.Peer; p != nil {
		if p.HasNetns {
			if ph = w.hostByHandle(p.NetnsFD); ph == nil {
				return nil, syscall.EINVAL
			}
		}
		if p.Name != "" {
			if !validPeerName(p.Name) {
				return nil, syscall.EINVAL
			}
			pname = p.Name
		}
		pmac, pmtu = p.MAC, int(p.MTU)
	}
	// The new device's name is taken first, then the peer's, as the
	// kernel allocates them.
	name = freeName(h, name, "")
	if ph == h {
		pname = freeName(ph, pname, name)
	} else {
		pname = freeName(ph, pname, "")
	}
	if _, err := ph.Stack.Device(pname); err == nil || (ph == h && pname == name) {
		return nil, syscall.EEXIST
	}
	peer, err := w.makeDevice(ph, "veth", pname, pmac, pmtu, DeviceConfig{})
	if err != nil {
		return nil, err
	}
	d, err := w.makeDevice(h, "veth", name, m.MAC, int(m.MTU), DeviceConfig{})
	if err != nil {
		w.removeDevice(peer, false)
		return nil, err
	}
	w.plug(d, peer, VethMbps)
	w.emit(Event{Kind: DeviceAdded, Host: ph, Device: peer})
	w.emit(Event{Kind: DeviceAdded, Host: h, Device: d})
	return d.Netdev, nil
}

// freeName resolves a name template (veth%d) to the first name h has
// no device of and that is not also; a plain name is itself.
func freeName(h *Host, tmpl, also string) string {
	if !strings.Contains(tmpl, "%d") {
		return tmpl
	}
	for i := 0; i < 1<<15; i++ {
		n := fmt.Sprintf(tmpl, i)
		if _, err := h.Stack.Device(n); err != nil && n != also {
			return n
		}
	}
	return tmpl
}

func validPeerName(s string) bool {
	return len(s) < 16 && s != "." && s != ".." && !strings.ContainsAny(s, "/: \t\n")
}

func (o linkOps) DelLink(sh *stack.Host, nd *stack.NetDevice) error {
	w := o.w
	w.ctl.Lock()
	defer w.ctl.Unlock()
	d := w.deviceOf(nd)
	if d == nil || d.Kind == "" {
		// A NIC of the topology file is hardware: it has no dellink.
		return syscall.EOPNOTSUPP
	}
	return w.removeDevice(d, true)
}

func (o linkOps) SetNetns(sh *stack.Host, nd *stack.NetDevice, handle uint32) (*stack.Host, *stack.NetDevice, error) {
	w := o.w
	w.ctl.Lock()
	defer w.ctl.Unlock()
	d := w.deviceOf(nd)
	if d == nil {
		return nil, nil, rtnetlink.Errorf(syscall.EINVAL, "The interface netns is immutable")
	}
	th := w.hostByHandle(handle)
	if th == nil {
		return nil, nil, syscall.EINVAL
	}
	if th == d.Host {
		return sh, nd, nil
	}
	if _, err := th.Stack.Device(nd.Name()); err == nil {
		return nil, nil, syscall.EEXIST
	}
	// The NIC leaves this machine and is plugged into the other: what it
	// keeps is what the kernel keeps of a device changing namespace (its
	// name, MAC and MTU); it arrives down, without addresses or routes.
	name, mac, mtu := nd.Name(), nd.Addr(), nd.MTU()
	port, peer, sink, kind := d.Port, d.peer, d.sink, d.Kind
	wasPort := port != nil
	d.Port = nil // a TAP stays open: it is plugged into the new device
	d.peer = nil
	if err := d.Adapter.Remove(); err != nil {
		return nil, nil, err
	}
	d.HW.Connect(nil)
	w.unlist(d)
	nd2, err := w.makeDevice(th, kind, name, net.HardwareAddr(mac[:]), mtu, d.cfg)
	if err != nil {
		if peer != nil {
			peer.peer = nil
			peer.HW.Connect(nil)
		}
		return nil, nil, err
	}
	switch {
	case peer != nil:
		if d.end == 0 {
			w.replug(d.wire, nd2, peer)
		} else {
			w.replug(d.wire, peer, nd2)
		}
	case sink != nil:
		nd2.sink = sink
		nd2.HW.Connect(sink)
	case wasPort:
		nd2.Port = port
		port.Plug(nd2.HW)
	}
	w.emit(Event{Kind: DeviceAdded, Host: th, Device: nd2})
	return th.Stack, nd2.Netdev, nil
}

// replug plugs a and b into the cable c (a at end 0).
func (w *World) replug(c *hw.Cable, a, b *Device) {
	c.Plug(a.HW, b.HW)
	a.wire, a.end, a.peer = c, 0, b
	b.wire, b.end, b.peer = c, 1, a
}

// SetCarrier takes a dummy's carrier on and off, as the kernel's dummy
// does (its ndo_change_carrier); a veth or a NIC of the topology file
// has no such operation, as on Linux, where carrier follows the link.
func (o linkOps) SetCarrier(sh *stack.Host, nd *stack.NetDevice, on bool) error {
	d := o.w.deviceOf(nd)
	if d == nil || d.Kind != "dummy" {
		return syscall.EOPNOTSUPP
	}
	d.HW.SetCarrier(on)
	return nil
}

func (o linkOps) Info(sh *stack.Host, nd *stack.NetDevice, m *rtnetlink.LinkMsg) {
	d := o.w.deviceOf(nd)
	if d == nil {
		return
	}
	m.Kind = d.Kind
	if d.Kind != "veth" || d.peer == nil {
		return
	}
	p := d.peer
	m.Link = int32(p.Netdev.Ifindex())
	if p.Host != d.Host {
		m.LinkNetnsID = o.w.nsidOf(p.Host)
	}
}

// nsidOf is peernet2id_alloc: the host's nsid, given the first free one
// if it has none yet.
func (w *World) nsidOf(h *Host) int32 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if h.NSID < 0 {
		h.NSID = w.freeNSID()
	}
	return h.NSID
}

// freeNSID is the lowest nsid no host has (under w.mu).
func (w *World) freeNSID() int32 {
	for id := int32(0); ; id++ {
		if !slices.ContainsFunc(w.Hosts, func(h *Host) bool { return h.NSID == id }) {
			return id
		}
	}
}

// NSID is the host's nsid (-1: none).
func (w *World) NSID(h *Host) int32 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return h.NSID
}

// SetNSID is ip netns set NAME ID|auto (id -1): the nsid the host is
// known by. A host keeps the first it is given; an id is one host's.
func (w *World) SetNSID(name string, id int32) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var h *Host
	for _, o := range w.Hosts {
		if o.Name == name {
			h = o
		}
	}
	if h == nil {
		return fmt.Errorf("no host %q: %w", name, syscall.ENOENT)
	}
	if h.NSID >= 0 {
		return rtnetlink.Errorf(syscall.EEXIST, "Peer netns already has a nsid assigned")
	}
	if id < 0 {
		h.NSID = w.freeNSID()
		return nil
	}
	if slices.ContainsFunc(w.Hosts, func(o *Host) bool { return o.NSID == id }) {
		return rtnetlink.Errorf(syscall.EEXIST, "The specified nsid is already used")
	}
	h.NSID = id
	return nil
}
