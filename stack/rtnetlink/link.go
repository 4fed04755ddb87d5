package rtnetlink

import (
	"net"
	"slices"
	"syscall"

	"vnic/stack"
)

// Init is rtnetlink_init for host h: the link messages (RTM_GETLINK,
// RTM_NEWLINK) and RTM_NEWLINK notifications of carrier changes. The
// protocols register their own messages.
func Init(h *stack.Host) {
	Register(h, RTMGetLink, getLink, nil)
	RegisterDumper(h, RTMGetLink, dumpLinks)
	Register(h, RTMNewLink, newLink, nil)
	h.RegisterNetdevNotifier(func(ev stack.NetdevEvent, d *stack.NetDevice) {
		if ev == stack.NetdevChange {
			Notify(h, RTMGrpLink, RTMNewLink, LinkMsgOf(d).Marshal())
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

// newLink is rtnl_newlink for an existing device: its MTU and IFF_UP.
func newLink(h *stack.Host, req Request) ([]Message, error) {
	var m LinkMsg
	if err := m.Unmarshal(req.Body); err != nil {
		return nil, Errorf(syscall.EINVAL, "%v", err)
	}
	d := DevByIndex(h, int(m.Index))
	if d == nil && m.Name != "" {
		d, _ = h.Device(m.Name)
	}
	if d == nil {
		if req.Flags&FlagCreate != 0 {
			return nil, Errorf(syscall.EOPNOTSUPP, "creating links is not supported")
		}
		return nil, Errorf(syscall.ENODEV, "Cannot find device")
	}
	if m.MTU != 0 && int(m.MTU) != d.MTU() {
		if err := d.SetMTU(int(m.MTU)); err != nil {
			return nil, KernErr(err)
		}
	}
	if m.Change&stack.IFFUp != 0 {
		var err error
		if m.Flags&stack.IFFUp != 0 {
			err = d.Open()
		} else {
			err = d.Close()
		}
		if err != nil {
			return nil, KernErr(err)
		}
	}
	Notify(h, RTMGrpLink, RTMNewLink, LinkMsgOf(d).Marshal())
	return nil, nil
}

// LinkMsgOf is rtnl_fill_ifinfo for d.
func LinkMsgOf(d *stack.NetDevice) LinkMsg {
	f := d.Flags()
	m := LinkMsg{Index: int32(d.Ifindex()), Flags: f, Type: 1, Name: d.Name(), MTU: uint32(d.MTU()), TxQLen: uint32(d.TxQueueLen),
		Operstate: uint8(d.Operstate()), Qdisc: "pfifo_fast"}
	mac := d.Addr()
	m.MAC = net.HardwareAddr(mac[:])
	m.Broadcast = net.HardwareAddr(stack.BroadcastMAC[:])
	if tx, _ := d.RealNumQueues(); tx > 1 {
		m.Qdisc = "mq"
	}
	if f&stack.IFFLoopback != 0 {
		m.Type, m.Qdisc, m.Broadcast = 772, "noqueue", net.HardwareAddr(make([]byte, 6))
		if f&stack.IFFUp != 0 {
			m.Operstate = 0 // UNKNOWN, as the kernel reports lo
		}
	}
	if f&stack.IFFUp == 0 {
		m.Qdisc = "noop"
	}
	return m
}
