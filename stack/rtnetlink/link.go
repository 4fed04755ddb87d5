package rtnetlink

import (
	"errors"
	"net"
	"slices"
	"syscall"

	"vnic/stack"
	"vnic/stack/netlink"
)

// Init is rtnetlink_init for host h: the link messages (RTM_GETLINK,
// RTM_NEWLINK) and RTM_NEWLINK notifications of carrier changes. The
// protocols register their own messages.
func Init(h *stack.Host) {
	Register(h, RTMGetLink, getLink, nil)
	RegisterDumper(h, RTMGetLink, dumpLinks)
	Register(h, RTMNewLink, newLink, nil)
	Register(h, RTMDelLink, delLink, nil)
	initQdisc(h)
	h.RegisterNetdevNotifier(func(ev stack.NetdevEvent, d *stack.NetDevice) {
		switch ev {
		case stack.NetdevChange, stack.NetdevRegister, stack.NetdevChangeUpper:
			Notify(h, RTMGrpLink, RTMNewLink, LinkMsgOf(d).Marshal())
		case stack.NetdevUnregister:
			Notify(h, RTMGrpLink, RTMDelLink, LinkMsgOf(d).Marshal())
		}
	})
}

// DevByIndex finds h's device with ifindex idx (nil: none).
func DevByIndex(h *stack.Host, idx int) *stack.NetDevice {
	for _, d := range h.Devices() {
		if d.Ifindex() == idx {
			return d
		}
	}
	return nil
}

// getLink is rtnl_getlink and rtnl_dump_ifinfo.
func getLink(h *stack.Host, req Request) ([]Message, error) {
	dump := req.Dump()
	var m LinkMsg
	if err := m.Unmarshal(req.Body); err != nil && !dump {
		return nil, Errorf(syscall.EINVAL, "%v", err)
	}
	var out []Message
	for _, d := range h.Devices() {
		if dump || int(m.Index) == d.Ifindex() || (m.Index == 0 && m.Name == d.Name()) {
			out = append(out, Reply(RTMNewLink, LinkMsgOf(d).Marshal()))
		}
	}
	if !dump && len(out) == 0 {
		return nil, Errorf(syscall.ENODEV, "Cannot find device")
	}
	return out, nil
}

// dumpLinks is rtnl_dump_ifinfo, batch by batch: cb.Args[0] is the
// ifindex the next batch starts from (devices are listed by ifindex).
func dumpLinks(h *stack.Host, req Request, cb *Callback, add func(Message) bool) (bool, error) {
	devs := h.Devices()
	slices.SortFunc(devs, func(a, b *stack.NetDevice) int { return a.Ifindex() - b.Ifindex() })
	for _, d := range devs {
		if int64(d.Ifindex()) < cb.Args[0] {
			continue
		}
		if !add(Reply(RTMNewLink, LinkMsgOf(d).Marshal())) {
			return false, nil
		}
		cb.Args[0] = int64(d.Ifindex()) + 1
	}
	return true, nil
}

// LinkOps makes, removes and moves devices for a host: the rtnl_link_ops
// of the kinds ip link add makes (veth, dummy) and the device's side of
// dev_change_net_namespace. In vnic a device is a NIC with its driver, so
// what provides them is the topology (which builds NICs, cables and
// ports); the stack only asks.
type LinkOps interface {
	// NewLink makes a device of m.Kind in h as ip link add asks: m.Name
	// ("" or a template with %d: the kind's own), m.MTU, m.MAC, and for
	// a veth m.Peer (its name, and its host as a netns handle). It
	// returns the device m names.
	NewLink(h *stack.Host, m LinkMsg) (*stack.NetDevice, error)
	// DelLink removes d (rtnl_dellink): a veth with its peer. A device
	// no ip link add made cannot be removed (EOPNOTSUPP).
	DelLink(h *stack.Host, d *stack.NetDevice) error
	// SetNetns moves d to the host of handle (a NIC unplugged and
	// plugged into that machine: its name, MAC and MTU kept, down, its
	// addresses and routes gone) and returns it there.
	SetNetns(h *stack.Host, d *stack.NetDevice, handle uint32) (*stack.Host, *stack.NetDevice, error)
	// SetCarrier is dev_change_carrier: the device's port loses or
	// regains its link partner, as a cable pulled and plugged back.
	SetCarrier(h *stack.Host, d *stack.NetDevice, on bool) error
	// Info fills what rtnl_fill_ifinfo reports of d's kind and peer:
	// m.Kind, m.Link and m.LinkNetnsID.
	Info(h *stack.Host, d *stack.NetDevice, m *LinkMsg)
}

// SetLinkOps installs ops on h (nil: no device can be made).
func SetLinkOps(h *stack.Host, ops LinkOps) {
	t := tableOf(h)
	t.mu.Lock()
	t.linkOps = ops
	t.mu.Unlock()
}

func linkOpsOf(h *stack.Host) LinkOps {
	t := tableOf(h)
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.linkOps
}

// newLink is rtnl_newlink: a new device (NLM_F_CREATE, the name not
// taken), or do_setlink on an existing one: its namespace first, then
// MAC address, MTU, carrier and IFF_UP, as the kernel orders them.
func newLink(h *stack.Host, req Request) ([]Message, error) {
	var m LinkMsg
	if err := m.Unmarshal(req.Body); err != nil {
		return nil, Errorf(syscall.EINVAL, "%v", err)
	}
	d := DevByIndex(h, int(m.Index))
	if m.Index != 0 && d == nil {
		return nil, Errorf(syscall.ENODEV, "Cannot find device")
	}
	if d == nil && m.Name != "" {
		d, _ = h.Device(m.Name)
	}
	if d == nil {
		if req.Flags&FlagCreate == 0 {
			return nil, Errorf(syscall.ENODEV, "Cannot find device")
		}
		return createLink(h, m)
	}
	if req.Flags&FlagExcl != 0 {
		return nil, syscall.EEXIST
	}
	if m.Kind != "" {
		// rtnl_newlink on an existing device with a kind: changelink,
		// which the kinds vnic makes do not have.
		return nil, syscall.EOPNOTSUPP
	}
	return nil, setLink(h, d, m)
}

func createLink(h *stack.Host, m LinkMsg) ([]Message, error) {
	if m.Kind == "" {
		return nil, syscall.EOPNOTSUPP
	}
	if m.Kind == "vrf" {
		return nil, newVRF(h, m)
	}
	ops := linkOpsOf(h)
	if ops == nil {
		return nil, Errorf(syscall.EOPNOTSUPP, "Unknown device type")
	}
	if m.Name != "" && !validIfname(m.Name) {
		return nil, syscall.EINVAL
	}
	d, err := ops.NewLink(h, m)
	if err != nil {
		return nil, opsErr(err)
	}
	if m.Flags&stack.IFFUp != 0 {
		if err := d.Open(); err != nil {
			return nil, KernErr(err)
		}
		Notify(h, RTMGrpLink, RTMNewLink, LinkMsgOf(d).Marshal())
	}
	return nil, nil
}

// newVRF is vrf_newlink: an L3 master device of the stack's own (no
// NIC behind it), on the table the request names.
func newVRF(h *stack.Host, m LinkMsg) error {
	if m.VRFTable == 0 {
		return Errorf(syscall.EINVAL, "Invalid VRF table id")
	}
	if m.Name == "" {
		m.Name = "vrf%d"
	} else if !validIfname(m.Name) {
		return syscall.EINVAL
	}
	d, err := stack.NewVRF(m.Name, m.VRFTable)
	if err != nil {
		return KernErr(err)
	}
	if m.MTU != 0 {
		d.SetMTUInit(int(m.MTU))
	}
	if err := h.Register(d); err != nil {
		return KernErr(err)
	}
	if m.Flags&stack.IFFUp != 0 {
		if err := d.Open(); err != nil {
			return KernErr(err)
		}
		Notify(h, RTMGrpLink, RTMNewLink, LinkMsgOf(d).Marshal())
	}
	return nil
}

// opsErr is a LinkOps refusal as the request's error: one with an
// extended ack message keeps it, the rest is its errno.
func opsErr(err error) error {
	var ne *netlink.Error
	if errors.As(err, &ne) {
		return ne
	}
	return KernErr(err)
}

// validIfname is dev_valid_name: at most IFNAMSIZ-1 bytes, not "." or
// "..", no '/', ':' or white space.
func validIfname(s string) bool {
	if len(s) >= 16 || s == "." || s == ".." {
		return false
	}
	for _, c := range s {
		if c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' {
			return false
		}
	}
	return true
}

func setLink(h *stack.Host, d *stack.NetDevice, m LinkMsg) error {
	if m.HasNetns {
		ops := linkOpsOf(h)
		if ops == nil || d.IsLoopback() {
			return Errorf(syscall.EINVAL, "The interface netns is immutable")
		}
		nh, nd, err := ops.SetNetns(h, d, m.NetnsFD)
		if err != nil {
			return opsErr(err)
		}
		h, d = nh, nd
	}
	changed := m.HasNetns
	if m.HasMaster {
		// do_set_master: 0 releases.
		var master *stack.NetDevice
		if m.Master != 0 {
			if master = DevByIndex(h, int(m.Master)); master == nil {
				return syscall.EINVAL
			}
		}
		if master != d.Master() {
			if err := d.SetMaster(master); err != nil {
				return KernErr(err)
			}
			changed = true
		}
	}
	if m.MAC != nil {
		if len(m.MAC) != 6 {
			return syscall.EINVAL
		}
		var mac stack.MAC
		copy(mac[:], m.MAC)
		if mac != d.Addr() {
			if err := d.SetMACAddress(mac); err != nil {
				return KernErr(err)
			}
			changed = true
		}
	}
	if m.MTU != 0 && int(m.MTU) != d.MTU() {
		if err := d.SetMTU(int(m.MTU)); err != nil {
			return KernErr(err)
		}
		changed = true
	}
	if m.Carrier != nil {
		ops := linkOpsOf(h)
		if ops == nil {
			return syscall.EOPNOTSUPP
		}
		if err := ops.SetCarrier(h, d, *m.Carrier); err != nil {
			return opsErr(err)
		}
	}
	if m.Change&stack.IFFUp != 0 && (m.Flags&stack.IFFUp != 0) != d.IsUp() {
		var err error
		if m.Flags&stack.IFFUp != 0 {
			err = d.Open()
		} else {
			err = d.Close()
		}
		if err != nil {
			return KernErr(err)
		}
		changed = true
	}
	if changed {
		Notify(h, RTMGrpLink, RTMNewLink, LinkMsgOf(d).Marshal())
	}
	return nil
}

// delLink is rtnl_dellink: by index or name, through the device's kind.
func delLink(h *stack.Host, req Request) ([]Message, error) {
	var m LinkMsg
	if err := m.Unmarshal(req.Body); err != nil {
		return nil, Errorf(syscall.EINVAL, "%v", err)
	}
	d := DevByIndex(h, int(m.Index))
	if d == nil && m.Index == 0 && m.Name != "" {
		d, _ = h.Device(m.Name)
	}
	if d == nil {
		return nil, Errorf(syscall.ENODEV, "Cannot find device")
	}
	if d.IsVRF() {
		return nil, KernErr(h.Unregister(d))
	}
	ops := linkOpsOf(h)
	if ops == nil || d.IsLoopback() {
		return nil, syscall.EOPNOTSUPP
	}
	if err := ops.DelLink(h, d); err != nil {
		return nil, opsErr(err)
	}
	return nil, nil
}

// LinkMsgOf is rtnl_fill_ifinfo for d.
func LinkMsgOf(d *stack.NetDevice) LinkMsg {
	f := d.Flags()
	m := LinkMsg{Index: int32(d.Ifindex()), Flags: f, Type: 1, Name: d.Name(), MTU: uint32(d.MTU()), TxQLen: uint32(d.TxQueueLen),
		Operstate: uint8(d.Operstate()), Qdisc: d.QdiscKind()}
	mac := d.Addr()
	m.MAC = net.HardwareAddr(mac[:])
	m.Broadcast = net.HardwareAddr(stack.BroadcastMAC[:])
	if f&stack.IFFLoopback != 0 {
		m.Type, m.Broadcast = 772, net.HardwareAddr(make([]byte, 6))
		if f&stack.IFFUp != 0 {
			m.Operstate = 0 // UNKNOWN, as the kernel reports lo
		}
	}
	m.LinkNetnsID = -1
	if d.IsVRF() {
		m.Kind, m.VRFTable = "vrf", d.VRFTable()
	}
	if ms := d.Master(); ms != nil {
		m.Master, m.HasMaster = uint32(ms.Ifindex()), true
	}
	if h := d.Host(); h != nil {
		if ops := linkOpsOf(h); ops != nil {
			ops.Info(h, d, &m)
		}
		// default_operstate: up without carrier, with a peer in this
		// namespace that has none either, is LOWERLAYERDOWN.
		if m.Operstate == stack.OperDown && f&stack.IFFUp != 0 && m.Link != 0 && m.Link != m.Index && m.LinkNetnsID < 0 {
			if p := DevByIndex(h, int(m.Link)); p != nil && !p.CarrierOK() {
				m.Operstate = operLowerLayerDown
			}
		}
	}
	return m
}

// operLowerLayerDown is IF_OPER_LOWERLAYERDOWN.
const operLowerLayerDown = 3
