package topo

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"vnic/ethtool"
	"vnic/hw"
	"vnic/stack/ipv4"
	"vnic/stack/tcp"
)

// An offload toggled on a running TCP flow changes its packets at once:
// with TSO on the sender's NIC cuts super-packets (TSO contexts), with
// TSO off the stack's software GSO does, with GSO off too TCP sends MSS
// segments itself; with GRO off at the receiver nothing is merged.
func TestOffloadToggleOnRunningFlow(t *testing.T) {
	w, err := tcpBenchWorld(true, 0, hw.DefaultCosts)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	h1, h2 := w.Hosts[0], w.Hosts[1]
	p1, p2 := tcp.Of(ipv4.Of(h1.Stack)), tcp.Of(ipv4.Of(h2.Stack))
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
	var rcvd uint64
	run := func(d time.Duration) {
		end := w.Clock.Now() + d
		for w.Clock.Now() < end {
			for {
				if _, err := c.Write(buf); err != nil {
					break
				}
			}
			w.Run(50 * time.Microsecond)
			for {
				n, err := s.Read(rbuf)
				rcvd += uint64(n)
				if err != nil || n == 0 {
					break
				}
			}
		}
	}
	type snap struct{ tso, gso, merged uint64 }
	take := func() snap {
		return snap{h1.Devices[0].Adapter.HWStats().TSCTC, h1.Stack.OffloadStats().GSOPackets, h2.Stack.OffloadStats().GROMerged}
	}
	step := func(name string, off ethtool.Features, dev *Device) (before, after snap) {
		if _, err := dev.Netdev.SetWantedFeatures(off, 0); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		run(time.Millisecond) // what was in flight settles
		before = take()
		got := rcvd
		run(5 * time.Millisecond)
		after = take()
		if rcvd == got {
			t.Fatalf("%s: the flow stopped", name)
		}
		return before, after
	}
	run(5 * time.Millisecond) // all on
	a0 := take()
	run(5 * time.Millisecond)
	a1 := take()
	if a1.tso == a0.tso || a1.gso != a0.gso || a1.merged == a0.merged {
		t.Errorf("all on: TSO contexts %d→%d, software GSO %d→%d, GRO merges %d→%d", a0.tso, a1.tso, a0.gso, a1.gso, a0.merged, a1.merged)
	}
	b0, b1 := step("tso off", ethtool.TSOMask, h1.Devices[0])
	if b1.tso != b0.tso || b1.gso == b0.gso {
		t.Errorf("tso off: TSO contexts %d→%d (want none), software GSO %d→%d (want more)", b0.tso, b1.tso, b0.gso, b1.gso)
	}
	c0, c1 := step("gso off", ethtool.TSOMask|ethtool.GSO, h1.Devices[0])
	if c1.tso != c0.tso || c1.gso != c0.gso {
		t.Errorf("gso off: TSO contexts %d→%d, software GSO %d→%d (want neither)", c0.tso, c1.tso, c0.gso, c1.gso)
	}
	d0, d1 := step("gro off", ethtool.GRO, h2.Devices[0])
	if d1.merged != d0.merged {
		t.Errorf("gro off at the receiver: GRO merges %d→%d (want none)", d0.merged, d1.merged)
	}
}
