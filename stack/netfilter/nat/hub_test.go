package nat_test

import (
	"net/netip"
	"testing"

	"vnic/stack"
	"vnic/stack/ipv4"
)

// hub is a shared Ethernet segment for tests: every frame a port sends
// reaches every other port (the receivers' MAC filters keep what is
// theirs). Topologies are cables, point to point; a LAN of three hosts
// (hairpin NAT's) needs this.
type hub struct{ ports []*hubPort }

// hubPort is one host's device on the hub: a driver without NAPI whose
// frames go into the other ports' backlogs (netif_rx), as loopback's do.
type hubPort struct {
	hub *hub
	dev *stack.NetDevice
	tx  uint64
}

func (p *hubPort) Open() error                     { p.dev.CarrierOn(); return nil }
func (p *hubPort) Stop() error                     { return nil }
func (p *hubPort) ChangeMTU(int) error             { return nil }
func (p *hubPort) SetMACAddress(stack.MAC) error   { return nil }
func (p *hubPort) SetRxMode()                      {}
func (p *hubPort) TxTimeout(int)                   {}
func (p *hubPort) GetStats64(s *stack.LinkStats64) { s.TxPackets = p.tx }

func (p *hubPort) StartXmit(skb *stack.SKB, _ *stack.TxQueue) stack.TxResult {
	frame := skb.Data()
	for _, q := range p.hub.ports {
		if q == p || !q.dev.IsUp() {
			continue
		}
		c := q.dev.Host().Pool().Alloc(len(frame) + stack.NetIPAlign)
		if c == nil {
			continue
		}
		c.Reserve(stack.NetIPAlign)
		copy(c.Put(len(frame)), frame)
		c.Dev = q.dev
		c.Protocol = stack.EthTypeTrans(c, q.dev)
		_ = stack.NetifRx(c, 0)
	}
	p.tx++
	skb.Consume()
	return stack.TxOK
}

// plug gives host h a device on the hub with MAC mac and address prefix.
func (hb *hub) plug(t *testing.T, h *stack.Host, mac byte, prefix string) *stack.NetDevice {
	t.Helper()
	p := &hubPort{hub: hb}
	p.dev = stack.NewEtherDevice("lan0", p, 1, 1, 1500)
	p.dev.SetAddrInit(stack.MAC{2, 0, 0, 0, 0xee, mac})
	if err := h.Register(p.dev); err != nil {
		t.Fatal(err)
	}
	if err := p.dev.Open(); err != nil {
		t.Fatal(err)
	}
	if err := ipv4.Of(h).AddAddr(p.dev, netip.MustParsePrefix(prefix)); err != nil {
		t.Fatal(err)
	}
	hb.ports = append(hb.ports, p)
	return p.dev
}
