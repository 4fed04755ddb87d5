package stack

// NetdevEvent is what the netdev notifier chain reports (NETDEV_*).
type NetdevEvent uint8

// Netdev events.
const (
	NetdevRegister    NetdevEvent = iota + 1 // the device joined the host
	NetdevUnregister                         // the device is leaving: closed, still listed
	NetdevUp                                 // opened (IFF_UP set)
	NetdevDown                               // closed
	NetdevChange                             // carrier on or off
	NetdevFeatChange                         // active features changed
	NetdevChangeMTU                          // the MTU changed
	NetdevChangeAddr                         // the MAC address changed
	NetdevChangeUpper                        // enslaved to a master or released (SetMaster)
)

var netdevEventNames = [...]string{
	NetdevRegister: "REGISTER", NetdevUnregister: "UNREGISTER", NetdevUp: "UP", NetdevDown: "DOWN",
	NetdevChange: "CHANGE", NetdevFeatChange: "FEAT_CHANGE", NetdevChangeMTU: "CHANGEMTU", NetdevChangeAddr: "CHANGEADDR",
	NetdevChangeUpper: "CHANGEUPPER",
}

func (e NetdevEvent) String() string {
	if int(e) < len(netdevEventNames) && netdevEventNames[e] != "" {
		return netdevEventNames[e]
	}
	return "NetdevEvent(?)"
}

// NetdevNotifier is told of a change to one of the host's devices. It runs
// after the change, without the device's lock, in the context that made it,
// and must not block.
type NetdevNotifier func(ev NetdevEvent, d *NetDevice)

// RegisterNetdevNotifier adds fn to the host's netdev notifier chain
// (register_netdevice_notifier): protocols learn of devices going away, the
// control plane of carrier and feature changes. The chain is copied on
// write; notifiers run in registration order.
func (h *Host) RegisterNetdevNotifier(fn NetdevNotifier) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var next []NetdevNotifier
	if cur := h.notifiers.Load(); cur != nil {
		next = append(next, *cur...)
	}
	next = append(next, fn)
	h.notifiers.Store(&next)
}

// notify runs the host's chain for d: nothing before d is registered or
// after it is unregistered.
func (d *NetDevice) notify(ev NetdevEvent) {
	h := d.host
	if h == nil || !d.listed.Load() {
		return
	}
	if chain := h.notifiers.Load(); chain != nil {
		for _, fn := range *chain {
			fn(ev, d)
		}
	}
}
