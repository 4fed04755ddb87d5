package conformance

import (
	"bytes"
	"testing"
	"time"

	"vnic/ethtool"
	"vnic/internal/topo"
	"vnic/stack"
)

// TestVnicConforms runs the whole suite against vnic's device: every check
// passes (none may be skipped: the device supports every operation).
func TestVnicConforms(t *testing.T) {
	cfg := topo.Pair(topo.DeviceConfig{Queues: 4}, 2, 10000)
	cfg.Checker = true
	w, err := topo.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Run(time.Millisecond)
	dev, err := w.Ethtool().Device("h1/vnic0")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res := Run(dev, All, &out)
	for _, r := range res {
		if r.Outcome != Pass {
			t.Errorf("%s %s: %s", r.Outcome, r.Name, r.Reason)
		}
	}
	want := "17 passed, 0 failed, 0 skipped\n"
	if !bytes.HasSuffix(out.Bytes(), []byte(want)) {
		t.Errorf("summary:\n%s", out.String())
	}
	if v := w.Hosts[0].Devices[0].HW.Checker().Violations(); len(v) != 0 {
		t.Errorf("contract violations: %v", v)
	}
}

// forgetful is a device whose ring changes do not stick and whose refused
// channel changes go through anyway: the suite must catch both.
type forgetful struct {
	ethtool.Device
	ring ethtool.Ring
}

func (f *forgetful) Ring() (ethtool.Ring, error) { return f.ring, nil }
func (f *forgetful) SetChannels(rx, tx, other, combined ethtool.Opt32) error {
	return nil // accepts anything, changes nothing
}

func TestSuiteCatchesFaults(t *testing.T) {
	w, err := topo.Build(topo.Pair(topo.DeviceConfig{Queues: 2}, 1, 1000))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Run(time.Millisecond)
	dev, _ := w.Ethtool().Device("h1/vnic0")
	g, _ := dev.Ring()
	res := Run(&forgetful{Device: dev, ring: g}, All, nil)
	want := map[string]Outcome{"ring-round-trip": Fail, "channels-round-trip": Fail, "channels-range-error": Fail, "drvinfo": Pass}
	for _, r := range res {
		if o, ok := want[r.Name]; ok && r.Outcome != o {
			t.Errorf("%s: %s (%s), want %s", r.Name, r.Outcome, r.Reason, o)
		}
	}
}

// TestVnicConformsRealTime runs the suite in real time while a paced
// stream flows both ways (the race detector watches reconfiguration, the
// self-test and the data path together). Only outcomes are asserted.
func TestVnicConformsRealTime(t *testing.T) {
	cfg := topo.Pair(topo.DeviceConfig{Queues: 2}, 2, 10000)
	cfg.Time = topo.RealTime
	w, err := topo.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	a, b := w.Hosts[0].Devices[0], w.Hosts[1].Devices[0]
	deadline := time.Now().Add(10 * time.Second)
	for !(a.Netdev.Carrier() && b.Netdev.Carrier()) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	b.Host.Stack.AddProtocol(stack.EthPIPv4, stack.NewSink(0).Handle)
	a.Host.Stack.AddProtocol(stack.EthPIPv4, stack.NewSink(0).Handle)
	var gens []*stack.Pktgen
	for _, p := range [][2]*topo.Device{{a, b}, {b, a}} {
		pg, err := p[0].Host.Stack.NewPktgen(stack.PktgenConfig{Dev: p[0].Netdev, DstMAC: p[1].Netdev.Addr(),
			SrcIP: [4]byte{198, 18, 0, 1}, DstIP: [4]byte{198, 19, 0, 1}, Size: 128, Flows: 8, Rate: 50000, Burst: 8, Queue: -1})
		if err != nil {
			t.Fatal(err)
		}
		pg.Start()
		gens = append(gens, pg)
	}
	dev, _ := w.Ethtool().Device("h1/vnic0")
	res := Run(dev, All, nil)
	for _, g := range gens {
		g.Stop()
	}
	for _, r := range res {
		if r.Outcome != Pass {
			t.Errorf("%s %s: %s", r.Outcome, r.Name, r.Reason)
		}
	}
}
