package stack

import "sync/atomic"

// loopback is the loopback device's driver (drivers/net/loopback.c): a
// sent frame comes back in through the CPU's backlog (netif_rx), keeping
// its route decision, so local traffic is delivered without a second
// lookup.
type loopback struct {
	dev                   *NetDevice
	packets, bytes, drops atomic.Uint64
}

// NewLoopback makes the loopback device ("lo"), for IPv4 to register.
func NewLoopback() *NetDevice {
	lo := &loopback{}
	d := NewEtherDevice("lo", lo, 1, 1, 65536)
	d.mtu.Store(65536)
	d.flags = IFFLoopback
	d.loopback = true
	d.TxQueueLen = 1000
	d.WatchdogTimeout = 0
	lo.dev = d
	return d
}

func (l *loopback) Open() error {
	l.dev.CarrierOn()
	return nil
}

func (l *loopback) Stop() error { return nil }

func (l *loopback) StartXmit(skb *SKB, txq *TxQueue) TxResult {
	n := skb.Len()
	skb.Orphan() // loopback_xmit: the receiver's buffer accounts for it now
	skb.Protocol = EthTypeTrans(skb, l.dev)
	skb.PktType = PacketHost
	if NetifRx(skb, 0) != nil {
		l.drops.Add(1)
		return TxOK
	}
	l.packets.Add(1)
	l.bytes.Add(uint64(n))
	return TxOK
}

func (l *loopback) ChangeMTU(mtu int) error     { return nil }
func (l *loopback) SetMACAddress(mac MAC) error { return nil }
func (l *loopback) SetRxMode()                  {}
func (l *loopback) TxTimeout(int)               {}

func (l *loopback) GetStats64(s *LinkStats64) {
	p, b := l.packets.Load(), l.bytes.Load()
	s.RxPackets, s.TxPackets, s.RxBytes, s.TxBytes = p, p, b, b
	s.RxDropped = l.drops.Load()
}
