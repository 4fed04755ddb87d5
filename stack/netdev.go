package stack

import (
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"vnic/ethtool"
)

// Interface flags (include/uapi/linux/if.h).
const (
	IFFUp        = 1 << 0
	IFFBroadcast = 1 << 1
	IFFLoopback  = 1 << 3
	IFFRunning   = 1 << 6
	IFFNoARP     = 1 << 7
	IFFPromisc   = 1 << 8
	IFFAllMulti  = 1 << 9
	IFFMulticast = 1 << 12
	IFFLowerUp   = 1 << 16
)

// Operational states (RFC 2863, IF_OPER_*).
const (
	OperUnknown = 0
	OperDown    = 2
	OperUp      = 6
)

// MAC is an Ethernet address.
type MAC [6]byte

// BroadcastMAC is ff:ff:ff:ff:ff:ff.
var BroadcastMAC = MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

func (m MAC) String() string { return net.HardwareAddr(m[:]).String() }

// IsMulticast reports the group bit (broadcast included).
func (m MAC) IsMulticast() bool { return m[0]&1 != 0 }

// IsZero reports 00:00:00:00:00:00.
func (m MAC) IsZero() bool { return m == MAC{} }

// ParseMAC parses "aa:bb:cc:dd:ee:ff".
func ParseMAC(s string) (MAC, error) {
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 {
		return MAC{}, fmt.Errorf("stack: bad MAC %q: %w", s, syscall.EINVAL)
	}
	return MAC(hw), nil
}

// TxResult is what start_xmit returns.
type TxResult int

const (
	// TxOK: the driver took the skb (sent it or dropped it and counted that).
	TxOK TxResult = iota
	// TxBusy: the driver could not take the skb; the qdisc requeues it.
	TxBusy
)

// LinkStats64 is rtnl_link_stats64, the counters get_stats64 fills.
type LinkStats64 struct {
	RxPackets, TxPackets uint64
	RxBytes, TxBytes     uint64
	RxErrors, TxErrors   uint64
	RxDropped, TxDropped uint64
	Multicast            uint64
	RxLengthErrors       uint64
	RxOverErrors         uint64
	RxCRCErrors          uint64
	RxFIFOErrors         uint64
	RxMissedErrors       uint64
	TxFIFOErrors         uint64
	RxNoHandler          uint64
}

// NetDeviceOps is net_device_ops: what a driver implements.
type NetDeviceOps interface {
	Open() error
	Stop() error
	// StartXmit sends skb on txq. On TxOK the driver owns the skb; on
	// TxBusy the caller keeps it (and the driver should have stopped txq).
	StartXmit(skb *SKB, txq *TxQueue) TxResult
	ChangeMTU(mtu int) error
	SetMACAddress(mac MAC) error
	SetRxMode()
	GetStats64(s *LinkStats64)
	TxTimeout(queue int)
}

// QueueStats counts one queue's traffic.
type QueueStats struct {
	Packets, Bytes, Drops Counter
}

// Add records a batch.
func (q *QueueStats) Add(packets, bytes uint64) {
	q.Packets.Add(packets)
	q.Bytes.Add(bytes)
}

// AddDrops records dropped packets.
func (q *QueueStats) AddDrops(n uint64) { q.Drops.Add(n) }

// Snapshot returns packets, bytes and drops.
func (q *QueueStats) Snapshot() (packets, bytes, drops uint64) {
	return q.Packets.Load(), q.Bytes.Load(), q.Drops.Load()
}

// NetDevice is struct net_device.
type NetDevice struct {
	mu mutex // rtnl-like: configuration changes

	// napi_defer_hard_irqs and gro_flush_timeout (ns)
	deferHardIRQs   atomic.Int32
	groFlushTimeout atomic.Int64
	threaded        atomic.Bool // /sys/class/net/<dev>/threaded

	// mtu is read lock-free on the data path (start_xmit, output); SetMTU
	// and SetMTUInit store it.
	mtu atomic.Int32

	host    *Host
	name    string
	ifindex int
	ops     NetDeviceOps

	minMTU, maxMTU int
	addrBits       atomic.Uint64 // the MAC address, 48 bits (Addr)
	flags          uint32
	promiscuity    int
	allmulti       int
	mc             []mcEntry
	carrier        bool
	operstate      int
	registered     bool
	up             atomic.Bool // IFF_UP, read lock-free on the data path
	carrierOK      atomic.Bool // carrier, read lock-free on the data path
	noARP          atomic.Bool // IFF_NOARP, read lock-free on the data path
	loopback       bool        // IFF_LOOPBACK, fixed at creation
	vrf            *vrf        // a VRF device's own state (nil: not one)
	master         *NetDevice  // the L3 master d is enslaved to (under mu)
	listed         atomic.Bool // registered and announced: the notifier chain hears of it

	featMu     sync.Mutex       // serialises feature updates (never held by the data path)
	features   atomic.Uint64    // active; read lock-free on the data path
	hwFeatures ethtool.Features // changeable by the user
	wanted     ethtool.Features // requested by the user

	txq        []*TxQueue
	qdisc      atomic.Pointer[Qdisc] // the grafted root qdisc (nil: the default queueing)
	rxStats    []QueueStats
	realTx     atomic.Int32 // real_num_tx_queues: the queues in use
	realRx     atomic.Int32
	TxQueueLen int
	// WatchdogTimeout is how long a stopped TX queue may make no progress
	// before ndo_tx_timeout (dev->watchdog_timeo); 0 disables the watchdog.
	WatchdogTimeout time.Duration
	watchdog        Timer

	gen [MaxKeys]unsafe.Pointer // protocols' state, by DevKey (dev->ip_ptr)

	lastRx, lastTx atomicDuration
	rxNoHandler    Counter
	rxDropped      Counter
	txDropped      Counter
	carrierChanges Counter
}

type mcEntry struct {
	addr  MAC
	users int
}

// DefaultTxQueueLen is txqueuelen for Ethernet.
const DefaultTxQueueLen = 1000

// NewEtherDevice is alloc_etherdev_mqs: an Ethernet device with ntx TX and
// nrx RX queues, MTU 1500 in [68, maxMTU], broadcast and multicast flags.
// name may hold one %d, replaced at registration by the lowest free index.
func NewEtherDevice(name string, ops NetDeviceOps, ntx, nrx, maxMTU int) *NetDevice {
	if ntx < 1 {
		ntx = 1
	}
	if nrx < 1 {
		nrx = 1
	}
	d := &NetDevice{
		name: name, ops: ops, minMTU: 68, maxMTU: maxMTU,
		flags: IFFBroadcast | IFFMulticast, TxQueueLen: DefaultTxQueueLen,
		WatchdogTimeout: 5 * time.Second, rxStats: make([]QueueStats, nrx),
	}
	for i := 0; i < ntx; i++ {
		d.txq = append(d.txq, &TxQueue{dev: d, index: i})
	}
	d.mtu.Store(1500)
	d.realTx.Store(int32(ntx))
	d.realRx.Store(int32(nrx))
	return d
}

// RealNumQueues returns the TX and RX queues in use (real_num_tx_queues,
// real_num_rx_queues); the rest of the allocated ones are idle.
func (d *NetDevice) RealNumQueues() (tx, rx int) { return int(d.realTx.Load()), int(d.realRx.Load()) }

// SetRealNumQueues is netif_set_real_num_tx/rx_queues: the driver's
// channel count changed. Packets waiting in the qdisc of a TX queue that
// goes idle move to queue i mod tx, in order, rather than being dropped.
func (d *NetDevice) SetRealNumQueues(tx, rx int) error {
	if tx < 1 || tx > len(d.txq) || rx < 1 || rx > len(d.rxStats) {
		return fmt.Errorf("stack: %s: %d TX / %d RX queues outside [1, %d] / [1, %d]: %w", d.name, tx, rx, len(d.txq), len(d.rxStats), syscall.EINVAL)
	}
	d.realTx.Store(int32(tx))
	d.realRx.Store(int32(rx))
	for i := tx; i < len(d.txq); i++ {
		from := d.txq[i]
		from.mu.Lock()
		var moved []*SKB
		for b := range from.bands {
			for s := from.bands[b].Pop(); s != nil; s = from.bands[b].Pop() {
				moved = append(moved, s)
			}
		}
		from.qlen = 0
		wait := from.takeRoomWaiters()
		from.mu.Unlock()
		for _, fn := range wait {
			fn()
		}
		if len(moved) == 0 {
			continue
		}
		to := d.txq[i%tx]
		to.mu.Lock()
		for _, s := range moved {
			s.QueueMapping = uint16(to.index)
			to.bands[prio2band[s.Priority&15]].Push(s)
			to.qlen++
		}
		to.mu.Unlock()
		to.schedule()
	}
	return nil
}

// Name returns the interface name.
func (d *NetDevice) Name() string { return d.name }

// Ifindex returns the interface index (0 until registered).
func (d *NetDevice) Ifindex() int { return d.ifindex }

// Host returns the namespace the device is registered in.
func (d *NetDevice) Host() *Host { return d.host }

// Ops returns the driver's operations.
func (d *NetDevice) Ops() NetDeviceOps { return d.ops }

// MTU returns the MTU: one atomic load, safe against SetMTU on the data path.
func (d *NetDevice) MTU() int { return int(d.mtu.Load()) }

// MTURange returns the minimum and maximum MTU.
func (d *NetDevice) MTURange() (int, int) { return d.minMTU, d.maxMTU }

// Addr returns the MAC address. It is read lock-free: the receive path
// (eth_type_trans) and the transmit path (the Ethernet header) read it
// per packet.
func (d *NetDevice) Addr() MAC {
	v := d.addrBits.Load()
	return MAC{byte(v >> 40), byte(v >> 32), byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
}

func (d *NetDevice) storeAddr(m MAC) {
	d.addrBits.Store(uint64(m[0])<<40 | uint64(m[1])<<32 | uint64(m[2])<<24 | uint64(m[3])<<16 | uint64(m[4])<<8 | uint64(m[5]))
}

// SetAddrInit sets the MAC before registration (the driver's probe).
func (d *NetDevice) SetAddrInit(m MAC) { d.storeAddr(m) }

// Flags returns the interface flags, with RUNNING and LOWER_UP derived from
// the carrier as dev_get_flags does.
func (d *NetDevice) Flags() uint32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	f := d.flags
	if d.flags&IFFUp != 0 && d.carrier {
		f |= IFFRunning | IFFLowerUp
	}
	return f
}

// IsUp reports IFF_UP (lock-free: the data path asks).
func (d *NetDevice) IsUp() bool { return d.up.Load() }

// CarrierOK is netif_carrier_ok without the lock (the data path asks).
func (d *NetDevice) CarrierOK() bool { return d.carrierOK.Load() }

// IsLoopback reports IFF_LOOPBACK, fixed when the device is made.
func (d *NetDevice) IsLoopback() bool { return d.loopback }

// NoARP reports IFF_NOARP (lock-free).
func (d *NetDevice) NoARP() bool { return d.noARP.Load() }

// TxDroppedInc counts a packet the stack dropped on its way to the device
// (dev_core_stats_tx_dropped_inc).
func (d *NetDevice) TxDroppedInc() { d.txDropped.Add(1) }

// Promiscuity returns the promiscuity counter.
func (d *NetDevice) Promiscuity() int { d.mu.Lock(); defer d.mu.Unlock(); return d.promiscuity }

// AllMulti returns the allmulti counter.
func (d *NetDevice) AllMulti() int { d.mu.Lock(); defer d.mu.Unlock(); return d.allmulti }

// NumTxQueues returns the number of TX queues.
func (d *NetDevice) NumTxQueues() int { return len(d.txq) }

// NumRxQueues returns the number of RX queues.
func (d *NetDevice) NumRxQueues() int { return len(d.rxStats) }

// TxQueue returns TX queue i.
func (d *NetDevice) TxQueue(i int) *TxQueue { return d.txq[i] }

// RxQueueStats returns RX queue i's counters (the driver adds to them).
func (d *NetDevice) RxQueueStats(i int) *QueueStats { return &d.rxStats[i] }

// LastRx and LastTx return when a packet last passed each way.
func (d *NetDevice) LastRx() time.Duration { return d.lastRx.load() }

// LastTx returns when a packet was last handed to the driver.
func (d *NetDevice) LastTx() time.Duration { return d.lastTx.load() }

// MarkRx records receive time (the driver calls it once per poll).
func (d *NetDevice) MarkRx(now time.Duration) { d.lastRx.store(now) }

// Operstate returns the RFC 2863 state.
func (d *NetDevice) Operstate() int { d.mu.Lock(); defer d.mu.Unlock(); return d.operstate }

// Carrier reports netif_carrier_ok.
func (d *NetDevice) Carrier() bool { d.mu.Lock(); defer d.mu.Unlock(); return d.carrier }

// CarrierChanges counts carrier transitions.
func (d *NetDevice) CarrierChanges() uint64 { return d.carrierChanges.Load() }

// CarrierOn is netif_carrier_on.
func (d *NetDevice) CarrierOn() { d.setCarrier(true) }

// CarrierOff is netif_carrier_off.
func (d *NetDevice) CarrierOff() { d.setCarrier(false) }

func (d *NetDevice) setCarrier(on bool) {
	d.mu.Lock()
	if d.carrier == on {
		d.mu.Unlock()
		return
	}
	d.carrier = on
	d.carrierOK.Store(on)
	d.carrierChanges.Add(1)
	d.updateOperstate()
	d.mu.Unlock()
	defer d.notify(NetdevChange)
	if !on {
		// As dev_deactivate does, drop what waits in the qdiscs.
		for _, q := range d.txq {
			q.flush()
		}
	}
}

func (d *NetDevice) updateOperstate() {
	switch {
	case d.flags&IFFUp == 0:
		d.operstate = OperDown
	case d.carrier:
		d.operstate = OperUp
	default:
		d.operstate = OperDown
	}
}

// Open is dev_open: the driver's ndo_open, then IFF_UP and the RX mode.
func (d *NetDevice) Open() error {
	d.mu.Lock()
	if d.flags&IFFUp != 0 {
		d.mu.Unlock()
		return nil
	}
	if !d.registered {
		d.mu.Unlock()
		return fmt.Errorf("stack: %s: not registered: %w", d.name, syscall.ENODEV)
	}
	d.mu.Unlock()
	if err := d.ops.Open(); err != nil {
		return fmt.Errorf("stack: %s: open: %w", d.name, err)
	}
	d.mu.Lock()
	d.flags |= IFFUp
	d.up.Store(true)
	d.updateOperstate()
	d.mu.Unlock()
	for _, q := range d.txq {
		q.stopped.Store(false)
	}
	d.startWatchdog()
	d.ops.SetRxMode()
	d.notify(NetdevUp)
	return nil
}

// Close is dev_close: IFF_UP off, qdiscs flushed, then the driver's ndo_stop.
func (d *NetDevice) Close() error {
	d.mu.Lock()
	if d.flags&IFFUp == 0 {
		d.mu.Unlock()
		return nil
	}
	d.flags &^= IFFUp
	d.up.Store(false)
	d.updateOperstate()
	d.mu.Unlock()
	if d.watchdog != nil {
		d.watchdog.Stop()
	}
	for _, q := range d.txq {
		q.flush()
	}
	err := d.ops.Stop()
	d.notify(NetdevDown)
	return err
}

// SetMTU is dev_set_mtu: the range is checked, then ndo_change_mtu.
func (d *NetDevice) SetMTU(mtu int) error {
	if mtu < d.minMTU || mtu > d.maxMTU {
		return fmt.Errorf("stack: %s: MTU %d outside [%d, %d]: %w", d.name, mtu, d.minMTU, d.maxMTU, syscall.EINVAL)
	}
	if mtu == d.MTU() {
		return nil
	}
	if err := d.ops.ChangeMTU(mtu); err != nil {
		return err
	}
	d.mtu.Store(int32(mtu))
	d.notify(NetdevChangeMTU)
	return nil
}

// SetMTUInit is for drivers: ndo_change_mtu stores the accepted MTU through it.
func (d *NetDevice) SetMTUInit(mtu int) { d.mtu.Store(int32(mtu)) }

// SetMACAddress is dev_set_mac_address: a unicast, non-zero address.
func (d *NetDevice) SetMACAddress(m MAC) error {
	if m.IsMulticast() || m.IsZero() {
		return fmt.Errorf("stack: %s: %s is not a unicast address: %w", d.name, m, syscall.EADDRNOTAVAIL)
	}
	if err := d.ops.SetMACAddress(m); err != nil {
		return err
	}
	d.storeAddr(m)
	d.notify(NetdevChangeAddr)
	return nil
}

// Stats64 is dev_get_stats: the driver's counters plus the core's.
func (d *NetDevice) Stats64() LinkStats64 {
	var s LinkStats64
	d.ops.GetStats64(&s)
	s.RxDropped += d.rxDropped.Load()
	s.TxDropped += d.txDropped.Load()
	s.RxNoHandler += d.rxNoHandler.Load()
	return s
}

// CoreStats returns the drops the core counted: rx dropped, tx dropped and
// rx_nohandler.
func (d *NetDevice) CoreStats() (rxDropped, txDropped, rxNoHandler uint64) {
	return d.rxDropped.Load(), d.txDropped.Load(), d.rxNoHandler.Load()
}

// allocName replaces %d in a name template with the lowest free index.
func allocName(tmpl string, taken func(string) bool) (string, error) {
	if !strings.Contains(tmpl, "%d") {
		if taken(tmpl) {
			return "", fmt.Errorf("stack: name %q in use: %w", tmpl, syscall.EEXIST)
		}
		return tmpl, nil
	}
	if strings.Count(tmpl, "%") != 1 {
		return "", fmt.Errorf("stack: bad name template %q: %w", tmpl, syscall.EINVAL)
	}
	for i := 0; i < 32768; i++ {
		n := strings.Replace(tmpl, "%d", strconv.Itoa(i), 1)
		if !taken(n) {
			return n, nil
		}
	}
	return "", fmt.Errorf("stack: no free name for %q: %w", tmpl, syscall.ENFILE)
}

type atomicDuration struct{ v Counter }

// store writes d unless it is there already (netif_trans_update's test): a
// device stamped once per packet at the same time — every packet of a
// virtual-time event — pays a load, not a locked exchange.
func (a *atomicDuration) store(d time.Duration) {
	if a.v.v.Load() != uint64(d) {
		a.v.v.Store(uint64(d))
	}
}

func (a *atomicDuration) load() time.Duration { return time.Duration(a.v.Load()) }

// SetNAPIDefer sets napi_defer_hard_irqs (empty polls before the interrupt
// comes back) and gro_flush_timeout (the re-poll timer) for the device's
// NAPI instances: deferral is on when both are non-zero.
func (d *NetDevice) SetNAPIDefer(n int, timeout time.Duration) error {
	if n < 0 || n > math.MaxInt32 || timeout < 0 {
		return fmt.Errorf("stack: napi_defer_hard_irqs %d, gro_flush_timeout %v: want both ≥ 0", n, timeout)
	}
	d.deferHardIRQs.Store(int32(n))
	d.groFlushTimeout.Store(int64(timeout))
	return nil
}

// NAPIDefer returns napi_defer_hard_irqs and gro_flush_timeout.
func (d *NetDevice) NAPIDefer() (int, time.Duration) {
	return int(d.deferHardIRQs.Load()), time.Duration(d.groFlushTimeout.Load())
}

// SetThreaded is /sys/class/net/<dev>/threaded: the device's NAPI
// instances poll in their own kthreads (napi/<dev>-<irq>, normal
// priority, competing with user threads) instead of NET_RX. Set it while
// the device is down.
func (d *NetDevice) SetThreaded(on bool) { d.threaded.Store(on) }

// Threaded reports SetThreaded.
func (d *NetDevice) Threaded() bool { return d.threaded.Load() }
