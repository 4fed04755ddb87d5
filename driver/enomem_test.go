package driver_test

import (
	"bytes"
	"errors"
	"syscall"
	"testing"
	"time"

	"vnic/ethtool"
	"vnic/hw"
	"vnic/internal/topo"
)

// tightEnv is newEnv with h1's DMA arena just big enough for the rings it
// opens with (measured on a probe world of the same config), plus 1 MiB of slack:
// room for a small change, far less than any refused below needs.
func tightEnv(t *testing.T, mutate func(*topo.Config)) *env {
	t.Helper()
	var used int
	probe := func(c *topo.Config) {
		if mutate != nil {
			mutate(c)
		}
	}
	cfg := topo.Config{
		Time: topo.VirtualTime, Seed: 1,
		Hosts: []topo.HostConfig{
			{Name: "h1", CPUs: 2, Devices: []topo.DeviceConfig{{Queues: 1}}},
			{Name: "h2", CPUs: 2, Devices: []topo.DeviceConfig{{Queues: 1}}},
		},
		Cables: []topo.CableConfig{{A: "h1/vnic0", B: "h2/vnic0", SpeedMbps: 10000}},
	}
	probe(&cfg)
	w, err := topo.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.Run(time.Millisecond)
	used, _ = w.Hosts[0].DMA.InUse()
	w.Close()
	return newEnv(t, func(c *topo.Config) {
		probe(c)
		c.Hosts[0].DMABytes = used + 1<<20
	})
}

// passes asserts a frame still goes from h1 to h2 and back.
func passes(t *testing.T, e *env, what string) {
	t.Helper()
	e.w.Run(time.Millisecond)
	for _, p := range [][2]*topo.Device{{e.a, e.b}, {e.b, e.a}} {
		c := listen(p[1])
		f := udpFrame(p[1].Netdev.Addr(), p[0].Netdev.Addr(), 1000, 3)
		if err := xmit(p[0], f); err != nil {
			t.Fatalf("%s: xmit: %v", what, err)
		}
		e.w.Run(time.Millisecond)
		if len(c.frames) != 1 || !bytes.Equal(c.frames[0], f) {
			t.Fatalf("%s: %s → %s: %d frames", what, p[0].HW.Name(), p[1].HW.Name(), len(c.frames))
		}
	}
	if !e.a.Netdev.Carrier() {
		t.Fatalf("%s: no carrier", what)
	}
}

func wantENOMEM(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, syscall.ENOMEM) {
		t.Fatalf("%s: %v, want ENOMEM", what, err)
	}
}

// A ring change whose rings do not fit fails with ENOMEM and leaves the
// device as it was, running (igb_set_ringparam allocates before it swaps).
func TestSetRingENOMEMKeepsDevice(t *testing.T) {
	e := tightEnv(t, nil)
	dev, err := e.w.Ethtool().Device("h1/vnic0")
	if err != nil {
		t.Fatal(err)
	}
	passes(t, e, "before")
	before, _ := dev.Ring()
	used, _ := e.w.Hosts[0].DMA.InUse()
	none := ethtool.Opt32{}
	wantENOMEM(t, "-G rx 4096", dev.SetRing(ethtool.Some32(4096), none, none, none))
	wantENOMEM(t, "-G tx 4096", dev.SetRing(none, none, none, ethtool.Some32(4096)))
	if got, _ := dev.Ring(); got != before {
		t.Fatalf("rings after ENOMEM: %+v, want %+v", got, before)
	}
	if got := e.a.HW.Read32(hw.RDLEN(0)); got != before.Rx*16 {
		t.Fatalf("RDLEN %d", got)
	}
	if now, _ := e.w.Hosts[0].DMA.InUse(); now != used {
		t.Fatalf("DMA in use %d after ENOMEM, was %d", now, used)
	}
	passes(t, e, "after -G")
	// A change that fits still works.
	if err := dev.SetRing(ethtool.Some32(128), none, none, none); err != nil {
		t.Fatal(err)
	}
	if got, _ := dev.Ring(); got.Rx != 128 || got.Tx != before.Tx {
		t.Fatalf("rings after -G rx 128: %+v", got)
	}
	passes(t, e, "after -G rx 128")
}

// So does a channel change.
func TestSetChannelsENOMEMKeepsDevice(t *testing.T) {
	e := tightEnv(t, nil)
	dev, err := e.w.Ethtool().Device("h1/vnic0")
	if err != nil {
		t.Fatal(err)
	}
	before, _ := dev.Channels()
	none := ethtool.Opt32{}
	wantENOMEM(t, "-L combined 4", dev.SetChannels(none, none, none, ethtool.Some32(4)))
	if got, _ := dev.Channels(); got != before {
		t.Fatalf("channels after ENOMEM: %+v, want %+v", got, before)
	}
	if tx, rx := e.a.Netdev.RealNumQueues(); tx != int(before.Combined) || rx != tx {
		t.Fatalf("real_num_queues %d/%d", tx, rx)
	}
	passes(t, e, "after -L")
}

// And an MTU whose buffers do not fit: the MTU stays, the device runs.
func TestChangeMTUENOMEMKeepsDevice(t *testing.T) {
	e := tightEnv(t, nil)
	nd := e.a.Netdev
	rlpml := e.a.HW.Read32(hw.RLPML)
	wantENOMEM(t, "mtu 9000", nd.SetMTU(9000))
	if nd.MTU() != 1500 {
		t.Fatalf("MTU %d after ENOMEM", nd.MTU())
	}
	if got := e.a.HW.Read32(hw.RLPML); got != rlpml {
		t.Fatalf("RLPML %d, was %d", got, rlpml)
	}
	passes(t, e, "after mtu")
	// An MTU in the same buffers needs no new memory: it keeps its rings.
	if err := nd.SetMTU(2000); err != nil {
		t.Fatal(err)
	}
	if got := e.a.HW.Read32(hw.RLPML); got == rlpml {
		t.Fatalf("RLPML still %d after mtu 2000", got)
	}
	passes(t, e, "after mtu 2000")
}
