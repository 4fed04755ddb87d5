package driver_test

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"vnic/ethtool"
	"vnic/internal/topo"
	"vnic/stack"
)

// TestDynamicITR: rx-usecs 1 and 3 run igb's own moderation. With one
// queue vector it is the three latency classes (small frames → 70,000/s,
// or 20,000/s when conservative; full frames at a modest rate → 20,000/s;
// a slow link → 4,000/s); with several, the interval follows the average
// frame size. The value chosen is in EITR once the next interrupt came.
func TestDynamicITR(t *testing.T) {
	for _, tc := range []struct {
		name    string
		queues  int
		usecs   uint32
		size    int
		rate    float64
		speed   uint32 // forced link speed (0: the cable's)
		want    time.Duration
		wantReg uint32 // EITR's value: the interval in 0.25 µs units
	}{
		{"classes small frames", 1, 1, 60, 100000, 0, 14 * time.Microsecond, 56},
		{"classes conservative", 1, 3, 60, 100000, 0, 49 * time.Microsecond, 196},
		{"classes full frames", 1, 1, 1500, 20000, 0, 49 * time.Microsecond, 196},
		{"classes slow link", 1, 1, 60, 20000, 100, 245 * time.Microsecond, 980},
		// (60+24)/2 = 42, written as igb writes it (& 0x7FFC): 40, 10 µs.
		{"size small frames", 2, 1, 60, 100000, 0, 10 * time.Microsecond, 40},
		{"size conservative", 2, 3, 60, 100000, 0, 49 * time.Microsecond, 196},
		// (1500+24)/2 = 762 → 760: 190 µs.
		{"size full frames", 2, 1, 1500, 20000, 0, 190 * time.Microsecond, 760},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *topo.Config) {
				for i := range c.Hosts {
					c.Hosts[i].Devices[0].Queues = tc.queues
				}
			})
			listen(e.b)
			if tc.speed != 0 {
				for _, d := range []*topo.Device{e.a, e.b} {
					if err := d.Adapter.SetLinkKsettings(ethtool.LinkRequest{Autoneg: ethtool.OptBool{Set: true, V: false},
						Speed: ethtool.Opt32{Set: true, V: tc.speed}, Duplex: ethtool.Opt32{Set: true, V: ethtool.DuplexFull}}); err != nil {
						t.Fatal(err)
					}
				}
				e.w.Run(50 * time.Millisecond)
			}
			var c ethtool.Coalesce
			c.V[ethtool.RxUsecs] = tc.usecs
			if err := ethtool.SetCoalesce(e.b.Adapter, c, ethtool.RxUsecs.Bit()); err != nil {
				t.Fatal(err)
			}
			if got := e.b.Adapter.GetCoalesce().V[ethtool.RxUsecs]; got != tc.usecs {
				t.Fatalf("rx-usecs reads %d, want %d", got, tc.usecs)
			}
			if got := e.b.Adapter.Interval(0); got != 162*time.Microsecond {
				t.Fatalf("starting interval %v, want IGB_START_ITR's 162µs", got)
			}
			// One flow, on queue 0.
			pg, err := e.a.Host.Stack.NewPktgen(stack.PktgenConfig{Dev: e.a.Netdev, DstMAC: e.b.Netdev.Addr(), SrcIP: [4]byte{198, 18, 0, 1},
				DstIP: [4]byte{198, 19, 0, 1}, Size: tc.size, Flows: 1, Rate: tc.rate, Burst: 1, Queue: 0})
			if err != nil {
				t.Fatal(err)
			}
			pg.Start()
			e.w.Run(20 * time.Millisecond)
			pg.Stop()
			e.w.Run(10 * time.Millisecond)
			q := 0
			for i := 0; i < tc.queues; i++ {
				if e.b.Adapter.QueueStats(i).PollWork > 0 {
					q = i
				}
			}
			if got := e.b.Adapter.Interval(q); got != tc.want || got != time.Duration(tc.wantReg)*time.Microsecond/4 {
				t.Errorf("queue %d's interval %v, want %v (EITR %d)", q, got, tc.want, tc.wantReg)
			}
		})
	}
}

// TestITRSettings: rx-usecs 2 and 4-9 are refused as igb refuses them,
// and nothing changes.
func TestITRSettings(t *testing.T) {
	e := newEnv(t, nil)
	for _, us := range []uint32{2, 4, 9, 8192} {
		var c ethtool.Coalesce
		c.V[ethtool.RxUsecs] = us
		err := ethtool.SetCoalesce(e.b.Adapter, c, ethtool.RxUsecs.Bit())
		if !errors.Is(err, syscall.EINVAL) {
			t.Errorf("rx-usecs %d: %v, want EINVAL", us, err)
		}
		if got := e.b.Adapter.GetCoalesce().V[ethtool.RxUsecs]; got != 0 {
			t.Errorf("rx-usecs %d refused but reads %d", us, got)
		}
	}
	for _, us := range []uint32{10, 1, 3, 0} {
		var c ethtool.Coalesce
		c.V[ethtool.RxUsecs] = us
		if err := ethtool.SetCoalesce(e.b.Adapter, c, ethtool.RxUsecs.Bit()); err != nil {
			t.Errorf("rx-usecs %d: %v", us, err)
		}
	}
}
