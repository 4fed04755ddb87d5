package topo

import (
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"vnic/ethtool"
	"vnic/hw"
	"vnic/stack/ipv4"
	"vnic/stack/tcp"
)

// socketFlow is a bulk transfer on sockets the test drives itself,
// writing and reading between steps of the clock; run advances it by d,
// and it returns the bytes received so far.
func socketFlow(t *testing.T, w *World) (run func(d time.Duration), rcvd func() uint64) {
	p1, p2 := tcp.Of(ipv4.Of(w.Hosts[0].Stack)), tcp.Of(ipv4.Of(w.Hosts[1].Stack))
	l := p2.NewSocket()
	if err := l.Bind(benchServer); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(1); err != nil {
		t.Fatal(err)
	}
	c := p1.NewSocket()
	if err := c.Connect(benchServer); !errors.Is(err, syscall.EINPROGRESS) {
		t.Fatal(err)
	}
	w.Run(10 * time.Millisecond)
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	buf, rbuf := make([]byte, 128<<10), make([]byte, 256<<10)
	var n uint64
	run = func(d time.Duration) {
		end := w.Clock.Now() + d
		for w.Clock.Now() < end {
			for {
				if _, err := c.Write(buf); err != nil {
					break
				}
			}
			w.Run(50 * time.Microsecond)
			for {
				k, err := s.Read(rbuf)
				n += uint64(k)
				if err != nil || k == 0 {
					break
				}
			}
		}
	}
	return run, func() uint64 { return n }
}

// configFlow is the same transfer as a tcp entry of the topology's
// config, its ends the hosts' threads.
func configFlow(t *testing.T, w *World) (run func(d time.Duration), rcvd func() uint64) {
	cfg := Config{TCP: []TCPFlow{{Type: TCPBulk, Client: "h1", Server: "h2", Duration: time.Hour}}}
	cfg.SetDefaults()
	tt, err := StartTCP(w, cfg.TCP, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tt.Close)
	return w.Run, func() uint64 { return tt.Results()[0].Bytes }
}

// An offload toggled on a running TCP flow, with ethtool -K through the
// topology's ethtool backend, changes its packets at once: with TSO on
// the sender's NIC cuts super-packets (TSO contexts), with TSO off the
// stack's software GSO does, with GSO off too TCP sends MSS segments
// itself; with GRO off at the receiver nothing is merged; LRO on at the
// receiver (with interrupt moderation) aggregates in the device. The flow is a
// pair of sockets the test drives, or a tcp entry of the config.
func TestOffloadToggleOnRunningFlow(t *testing.T) {
	for _, tc := range []struct {
		name string
		flow func(t *testing.T, w *World) (func(time.Duration), func() uint64)
	}{
		{"sockets", socketFlow},
		{"config", configFlow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := tcpBenchWorld(true, 0, hw.DefaultCosts)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { w.Close() })
			run, rcvd := tc.flow(t, w)
			toggleOffloads(t, w, run, rcvd)
		})
	}
}

// toggleOffloads runs the flow through the offload steps, each counted
// over a 2 ms window (a few thousand segments at the flow's rate).
func toggleOffloads(t *testing.T, w *World, run func(time.Duration), rcvd func() uint64) {
	const window = 2 * time.Millisecond
	h1, h2 := w.Hosts[0], w.Hosts[1]
	type snap struct{ tso, gso, merged uint64 }
	take := func() snap {
		return snap{h1.Devices[0].Adapter.HWStats().TSCTC, h1.Stack.OffloadStats().GSOPackets, h2.Stack.OffloadStats().GROMerged}
	}
	step := func(dev, args string) (before, after snap) {
		req, err := ethtool.ParseFeatureArgs(strings.Fields(args), ethtool.KernelFeatureNames[:])
		if err != nil {
			t.Fatal(err)
		}
		d, err := w.Ethtool().Device(dev)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.SetFeatures(req); err != nil {
			t.Fatalf("ethtool -K %s %s: %v", dev, args, err)
		}
		run(time.Millisecond) // what was in flight settles
		before = take()
		got := rcvd()
		run(window)
		after = take()
		if rcvd() == got {
			t.Fatalf("ethtool -K %s %s: the flow stopped", dev, args)
		}
		return before, after
	}
	run(window) // all on
	a0 := take()
	run(window)
	a1 := take()
	if a1.tso == a0.tso || a1.gso != a0.gso || a1.merged == a0.merged {
		t.Errorf("all on: TSO contexts %d→%d, software GSO %d→%d, GRO merges %d→%d", a0.tso, a1.tso, a0.gso, a1.gso, a0.merged, a1.merged)
	}
	b0, b1 := step("h1/vnic0", "tso off")
	if b1.tso != b0.tso || b1.gso == b0.gso {
		t.Errorf("tso off: TSO contexts %d→%d (want none), software GSO %d→%d (want more)", b0.tso, b1.tso, b0.gso, b1.gso)
	}
	c0, c1 := step("h1/vnic0", "gso off")
	if c1.tso != c0.tso || c1.gso != c0.gso {
		t.Errorf("gso off: TSO contexts %d→%d, software GSO %d→%d (want neither)", c0.tso, c1.tso, c0.gso, c1.gso)
	}
	d0, d1 := step("h2/vnic0", "gro off")
	if d1.merged != d0.merged {
		t.Errorf("gro off at the receiver: GRO merges %d→%d (want none)", d0.merged, d1.merged)
	}

	// LRO at the receiver: refused without interrupt moderation (the
	// device would have no time to wait), taken with rx-usecs 50, and
	// then the device hands the stack aggregates of the MSS segments the
	// sender now cuts itself (rx_lro_frames, ethtool -S).
	rx, err := w.Ethtool().Device("h2/vnic0")
	if err != nil {
		t.Fatal(err)
	}
	lroFrames := func() uint64 {
		st, err := rx.Stats()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range st {
			if s.Name == "rx_lro_frames" {
				return s.Value
			}
		}
		t.Fatal("no rx_lro_frames in ethtool -S")
		return 0
	}
	lroOn, err := ethtool.ParseFeatureArgs([]string{"lro", "on"}, ethtool.KernelFeatureNames[:])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rx.SetFeatures(lroOn); err != nil {
		t.Fatal(err)
	}
	if f := h2.Devices[0].Netdev.Features(); f&ethtool.LRO != 0 {
		t.Errorf("lro on with rx-usecs 0: taken (features %v)", f)
	}
	var c ethtool.Coalesce
	c.V[ethtool.RxUsecs] = 50
	if err := rx.SetCoalesce(c, ethtool.RxUsecs.Bit()); err != nil {
		t.Fatalf("ethtool -C h2/vnic0 rx-usecs 50: %v", err)
	}
	l0 := lroFrames()
	e0, e1 := step("h2/vnic0", "lro on")
	l1 := lroFrames()
	if h2.Devices[0].Netdev.Features()&ethtool.LRO == 0 || l1 == l0 {
		t.Errorf("lro on with rx-usecs 50: features %v, rx_lro_frames %d→%d (want more)", h2.Devices[0].Netdev.Features(), l0, l1)
	}
	if e1.merged != e0.merged {
		t.Errorf("lro on, gro off: GRO merges %d→%d (want none)", e0.merged, e1.merged)
	}
}
