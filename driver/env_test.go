package driver_test

import (
	"fmt"
	"testing"
	"time"

	"vnic/header"
	"vnic/internal/topo"
	"vnic/stack"
)

// env is two hosts, h1 and h2, each with one vnic0, cabled, in virtual
// time with the contract checker on. Cleanup asserts no violations, packet
// conservation on the cable, and no DMA memory or skb left after stop.
type env struct {
	t    *testing.T
	w    *topo.World
	a, b *topo.Device
}

func newEnv(t *testing.T, mutate func(*topo.Config)) *env {
	t.Helper()
	cfg := topo.Config{
		Time: topo.VirtualTime, Seed: 1, Checker: true,
		Hosts: []topo.HostConfig{
			{Name: "h1", CPUs: 2, Devices: []topo.DeviceConfig{{Queues: 1}}},
			{Name: "h2", CPUs: 2, Devices: []topo.DeviceConfig{{Queues: 1}}},
		},
		Cables: []topo.CableConfig{{A: "h1/vnic0", B: "h2/vnic0", SpeedMbps: 10000}},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	w, err := topo.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, w: w, a: w.Hosts[0].Devices[0], b: w.Hosts[1].Devices[0]}
	w.Run(time.Millisecond)
	t.Cleanup(e.finish)
	return e
}

func (e *env) finish() {
	t := e.t
	for _, d := range []*topo.Device{e.a, e.b} {
		if v := d.HW.Checker().Violations(); len(v) != 0 {
			t.Errorf("%s: contract violations: %v", d.HW.Name(), v)
		}
	}
	e.conservation()
	e.w.Close()
	for _, h := range e.w.Hosts {
		if b, n := h.DMA.InUse(); b != 0 || n != 0 {
			t.Errorf("%s: %d bytes of DMA memory in %d regions leaked after stop", h.Name, b, n)
		}
		if n := h.Stack.Pool().Live(); n != 0 {
			t.Errorf("%s: %d skbs leaked after stop", h.Name, n)
		}
	}
}

// conservation: every frame one end put on the cable was received or
// counted as dropped by the other (frames injected from the wire by a test
// are counted as sent by the cable's far end).
//
// In real time the two ends' counters are read one after the other while
// late frames (ACKs, retransmissions) may still cross, so a snapshot can
// straddle a frame: the check is retried until it holds, for up to a
// second, and only the last attempt's difference is reported.
func (e *env) conservation() {
	if len(e.w.Cables) == 0 {
		return
	}
	var bad []string
	for try := 0; try < 100; try++ {
		bad = e.conserved()
		if len(bad) == 0 || e.w.Clock.Virtual() {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, b := range bad {
		e.t.Error(b)
	}
}

// conserved is one reading of conservation's equation: what does not hold.
func (e *env) conserved() []string {
	var bad []string
	aFrames, _, bFrames, _ := e.w.Cables[0].Wire.Stats()
	aFly, bFly := e.w.Cables[0].Wire.InFlight()
	for _, c := range []struct {
		sent uint64
		rx   *topo.Device
	}{{aFrames - aFly, e.b}, {bFrames - bFly, e.a}} {
		s := c.rx.Adapter.HWStats()
		acc := s.GPRC + s.MPC + s.RUC + s.ROC + s.RxFiltered + s.RxDisabled + s.XONRXC + s.XOFFRXC
		if c.sent+injected[c.rx] != acc || s.TPR != acc {
			bad = append(bad, fmt.Sprintf("%s: %d sent + %d injected, TPR %d, received %d + missed %d + runts %d + oversize %d + filtered %d + disabled %d",
				c.rx.HW.Name(), c.sent, injected[c.rx], s.TPR, s.GPRC, s.MPC, s.RUC, s.ROC, s.RxFiltered, s.RxDisabled))
		}
	}
	return bad
}

var injected = map[*topo.Device]uint64{}

// inject delivers frame to d's device as if from the wire, now.
func inject(d *topo.Device, frame []byte) {
	injected[d]++
	d.HW.Receive(frame)
}

// udpFrame returns an n-byte UDP/IPv4 frame of flow i to dst.
func udpFrame(dst, src stack.MAC, n, flow int) []byte {
	f := make([]byte, n)
	stack.BuildUDPFrame(f, dst, src, stack.FlowAddrs([4]byte{198, 18, 0, 1}, flow), [4]byte{198, 19, 0, 1}, uint16(stack.PktgenSrcPort+flow), stack.PktgenPort)
	for i := 42; i < n; i++ {
		f[i] = byte(i * 7)
	}
	return f
}

// xmit sends a raw frame through dev_queue_xmit on d.
func xmit(d *topo.Device, frame []byte) error {
	skb := d.Host.Stack.Pool().Alloc(len(frame) + stack.NetIPAlign)
	skb.Reserve(stack.NetIPAlign)
	copy(skb.Put(len(frame)), frame)
	skb.Dev = d.Netdev
	skb.Protocol = header.Ethernet(frame).Type()
	return stack.DevQueueXmit(skb)
}

// capture records every frame a host's stack receives, MAC header included,
// with its RX queue.
type capture struct {
	frames [][]byte
	queues []int
}

func (c *capture) tap(skb *stack.SKB) {
	c.frames = append(c.frames, append([]byte(nil), skb.MACHeader()...))
	c.queues = append(c.queues, int(skb.QueueMapping))
}

func listen(d *topo.Device) *capture {
	c := &capture{}
	d.Host.Stack.AddTap(c.tap)
	sink := stack.NewSink(0)
	d.Host.Stack.AddProtocol(stack.EthPIPv4, sink.Handle)
	return c
}
