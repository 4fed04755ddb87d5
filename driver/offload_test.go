package driver_test

import (
	"testing"
	"time"

	"vnic/ethtool"
	"vnic/header"
	"vnic/hw"
	"vnic/internal/topo"
	"vnic/stack"
)

// bulkEnv is two hosts with one queue each, interrupt moderation on (so LRO
// can act) and a bulk TCP sender on h1 towards a verifying sink on h2.
func bulkEnv(t *testing.T) (*env, *stack.BulkSink) {
	e := newEnv(t, func(c *topo.Config) {
		c.Costs = topo.Costs(hw.DefaultCosts)
		for i := range c.Hosts {
			c.Hosts[i].Devices[0].ITRUsecs = 50
		}
	})
	sink := stack.NewBulkSink(true)
	e.b.Host.Stack.AddProtocol(stack.EthPIPv4, sink.Handle)
	return e, sink
}

func (e *env) bulk(t *testing.T, sends uint64) *stack.Bulk {
	t.Helper()
	b, err := e.a.Host.Stack.NewBulk(stack.BulkConfig{Dev: e.a.Netdev, DstMAC: e.b.Netdev.Addr(),
		Src: [4]byte{198, 18, 0, 1}, Dst: [4]byte{198, 19, 0, 1}, SPort: 40000, DPort: 5201, Count: sends})
	if err != nil {
		t.Fatal(err)
	}
	b.Start()
	return b
}

// setFeatures changes features of d (mask bits to on) and checks the
// result.
func setFeatures(t *testing.T, d *topo.Device, mask, on ethtool.Features) {
	t.Helper()
	if _, err := d.Netdev.SetWantedFeatures(mask, on); err != nil {
		t.Fatal(err)
	}
}

func wireFrames(e *env) uint64 {
	f, _, _, _ := e.w.Cables[0].Wire.Stats()
	return f
}

func TestFeaturesAfterProbe(t *testing.T) {
	e := newEnv(t, nil)
	nd := e.a.Netdev
	want := ethtool.SG | ethtool.IPCsum | ethtool.RxCsum | ethtool.TSO | ethtool.RxHash | ethtool.GSO | ethtool.GRO
	if got := nd.Features(); got != want {
		t.Fatalf("features after probe %s, want %s", got, want)
	}
	if nd.HWFeatures()&ethtool.LRO == 0 || nd.Features()&ethtool.LRO != 0 {
		t.Fatal("LRO must be changeable and off after probe")
	}
	// sg off takes TSO and GSO with it; sg on brings them back (wanted persists).
	setFeatures(t, e.a, ethtool.SG, 0)
	if f := nd.Features(); f&(ethtool.SG|ethtool.TSO|ethtool.GSO) != 0 || nd.WantedFeatures()&ethtool.TSO == 0 {
		t.Fatalf("sg off: %s (wanted %s)", f, nd.WantedFeatures())
	}
	setFeatures(t, e.a, ethtool.SG, ethtool.SG)
	if f := nd.Features(); !f.Has(ethtool.SG | ethtool.TSO | ethtool.GSO) {
		t.Fatalf("sg on: %s", f)
	}
	// tx off drops TSO, keeps SG.
	setFeatures(t, e.a, ethtool.IPCsum, 0)
	if f := nd.Features(); f&ethtool.TSO != 0 || f&ethtool.SG == 0 {
		t.Fatalf("tx off: %s", f)
	}
	// A fixed feature cannot be changed.
	if _, err := nd.SetWantedFeatures(ethtool.HWCsum, ethtool.HWCsum); err == nil {
		t.Fatal("turning on a fixed feature succeeded")
	}
	// LRO needs interrupt moderation: with EITR 0 it stays off.
	setFeatures(t, e.a, ethtool.LRO, ethtool.LRO)
	if nd.Features()&ethtool.LRO != 0 {
		t.Fatal("LRO on without interrupt moderation")
	}
}

func TestDisableLRORemovesItFromWanted(t *testing.T) {
	e, _ := bulkEnv(t)
	setFeatures(t, e.b, ethtool.LRO, ethtool.LRO)
	if e.b.Netdev.Features()&ethtool.LRO == 0 {
		t.Fatal("LRO did not turn on")
	}
	if err := e.b.Netdev.DisableLRO(); err != nil {
		t.Fatal(err)
	}
	if e.b.Netdev.Features()&ethtool.LRO != 0 || e.b.Netdev.WantedFeatures()&ethtool.LRO != 0 {
		t.Fatal("dev_disable_lro must clear LRO from wanted and active")
	}
	if e.b.HW.Read32(hw.RSCCTL(0))&hw.RscctlEn != 0 {
		t.Fatal("RSCCTL still enabled")
	}
}

// TestOffloadPaths sends the same bulk traffic under each configuration and
// checks what reaches the driver, the wire and the receiving stack.
func TestOffloadPaths(t *testing.T) {
	const sends = 20
	payload := uint64(sends * stack.MaxBulkSend)
	wireSegs := uint64(sends * ((stack.MaxBulkSend + 1459) / 1460))
	tests := []struct {
		name       string
		txOff, rx  ethtool.Features // features turned off on h1, on h2
		lro        bool
		gsoSegs    bool // software GSO segments expected
		csumHelp   bool
		superAtRx  bool // the receiving stack sees merged packets
		verifiedSW bool // the receiving stack verifies checksums itself
	}{
		{name: "all on", superAtRx: true},
		{name: "tso off: software GSO", txOff: ethtool.TSO, gsoSegs: true, superAtRx: true},
		{name: "tx checksum off", txOff: ethtool.IPCsum, gsoSegs: true, superAtRx: true},
		{name: "gso and tso off", txOff: ethtool.TSO | ethtool.GSO, superAtRx: true},
		{name: "gro off", rx: ethtool.GRO},
		{name: "rx checksum off", rx: ethtool.RxCsum, superAtRx: true, verifiedSW: true},
		{name: "lro instead of gro", rx: ethtool.GRO, lro: true, superAtRx: true},
		{name: "lro and gro", lro: true, superAtRx: true},
		{name: "all off", txOff: ethtool.TSO | ethtool.GSO | ethtool.IPCsum | ethtool.SG, rx: ethtool.GRO | ethtool.RxCsum, verifiedSW: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, sink := bulkEnv(t)
			setFeatures(t, e.a, tc.txOff, 0)
			setFeatures(t, e.b, tc.rx, 0)
			if tc.lro {
				setFeatures(t, e.b, ethtool.LRO, ethtool.LRO)
			}
			var toDriver, supers int
			e.a.Host.Stack.AddXmitTap(func(s *stack.SKB) {
				toDriver++
				if s.GSOSize > 0 {
					supers++
				}
			})
			b := e.bulk(t, sends)
			e.w.Run(50 * time.Millisecond)
			if !b.Done() {
				t.Fatalf("%d of %d sends", b.Sends(), sends)
			}
			st := sink.Stats()
			if st.Bytes != payload || st.Bad != 0 || st.Disorder != 0 {
				t.Fatalf("sink %+v, want %d bytes", st, payload)
			}
			if w := wireFrames(e); w != wireSegs {
				t.Fatalf("%d frames on the wire, want %d", w, wireSegs)
			}
			off := e.a.Host.Stack.OffloadStats()
			if (off.GSOSegments > 0) != tc.gsoSegs || (off.CsumHelp > 0) != tc.csumHelp {
				t.Fatalf("sender offload stats %+v", off)
			}
			hwTSO := e.a.Netdev.Features()&ethtool.TSO != 0
			if hwTSO && (supers != sends || toDriver != sends) {
				t.Fatalf("TSO: %d packets (%d super) reached the driver, want %d super", toDriver, supers, sends)
			}
			if !hwTSO && (supers != 0 || uint64(toDriver) != wireSegs) {
				t.Fatalf("no TSO: %d packets (%d super) reached the driver, want %d plain", toDriver, supers, wireSegs)
			}
			if (st.Super > 0) != tc.superAtRx || (tc.superAtRx && st.Packets >= wireSegs) {
				t.Fatalf("receiving stack saw %d packets, %d merged", st.Packets, st.Super)
			}
			if !tc.superAtRx && st.Packets != wireSegs {
				t.Fatalf("receiving stack saw %d packets, want one per frame (%d)", st.Packets, wireSegs)
			}
			rx := e.b.Host.Stack.OffloadStats()
			if (rx.CsumVerified > 0) != tc.verifiedSW {
				t.Fatalf("receiver verified %d checksums in software", rx.CsumVerified)
			}
			if tc.lro {
				if e.b.Adapter.QueueStats(0).LROFrames == 0 || e.b.HW.Read32(hw.VLROFL) == 0 {
					t.Fatal("LRO did not aggregate")
				}
				// The NIC counts wire frames, the stack fewer packets (LRO-03).
				if e.b.Adapter.HWStats().GPRC != wireSegs {
					t.Fatalf("GPRC %d", e.b.Adapter.HWStats().GPRC)
				}
			}
		})
	}
}

// TestOffloadToggleMidStream flips features while bulk traffic flows: every
// byte arrives once, in order, intact.
func TestOffloadToggleMidStream(t *testing.T) {
	e, sink := bulkEnv(t)
	b := e.bulk(t, 0)
	toggles := []struct {
		d       *topo.Device
		mask    ethtool.Features
		enabled bool
	}{
		{e.a, ethtool.TSO, false}, {e.b, ethtool.GRO, false}, {e.a, ethtool.IPCsum, false},
		{e.b, ethtool.LRO, true}, {e.b, ethtool.RxCsum, false}, {e.a, ethtool.SG, false},
		{e.a, ethtool.SG | ethtool.IPCsum | ethtool.TSO, true}, {e.b, ethtool.GRO | ethtool.RxCsum, true},
		{e.b, ethtool.LRO, false},
	}
	for _, tg := range toggles {
		e.w.Run(2 * time.Millisecond)
		on := ethtool.Features(0)
		if tg.enabled {
			on = tg.mask
		}
		setFeatures(t, tg.d, tg.mask, on)
	}
	e.w.Run(2 * time.Millisecond)
	b.Stop()
	e.w.Run(200 * time.Millisecond) // the qdisc holds up to 1000 super-packets
	if e.a.Netdev.TxQueue(0).Counters().Backlog != 0 {
		t.Fatal("backlog left")
	}
	st := sink.Stats()
	if st.Bytes != b.Bytes() || st.Bad != 0 || st.Disorder != 0 || st.Bytes == 0 {
		t.Fatalf("sent %d bytes, sink %+v", b.Bytes(), st)
	}
}

// TestCorruptChecksumRejected: a frame whose TCP checksum is wrong is
// rejected by the stack whether the device checks (TCPE) or not (rx off).
func TestCorruptChecksumRejected(t *testing.T) {
	for _, rxOff := range []bool{false, true} {
		e, sink := bulkEnv(t)
		if rxOff {
			setFeatures(t, e.b, ethtool.RxCsum, 0)
		}
		f := udpFrame(e.b.Netdev.Addr(), e.a.Netdev.Addr(), 100, 0)
		ip := header.IPv4(f[header.EthernetHeaderLen:])
		ip.SetProtocol(header.ProtoTCP) // now "TCP": the UDP bytes make a wrong TCP checksum
		ip.UpdateChecksum()
		inject(e.b, f)
		e.w.Run(time.Millisecond)
		if st := sink.Stats(); st.Bad != 1 || st.Packets != 0 {
			t.Fatalf("rx off %v: sink %+v", rxOff, st)
		}
		if !rxOff && e.b.Adapter.QueueStats(0).CsumErrors != 1 {
			t.Fatal("the device's checksum error was not counted")
		}
	}
}

// TestOffloadsRealTime runs bulk TCP over two queues on real-time CPUs with
// TSO, GSO and GRO each way, under the race detector in make test.
func TestOffloadsRealTime(t *testing.T) {
	for _, off := range []ethtool.Features{0, ethtool.TSOMask} {
		e := newEnv(t, func(c *topo.Config) {
			queues(2)(c)
			c.Time = topo.RealTime
			for i := range c.Hosts {
				c.Hosts[i].Devices[0].ITRUsecs = 50
			}
		})
		setFeatures(t, e.a, off, 0)
		setFeatures(t, e.b, ethtool.LRO, ethtool.LRO)
		sink := stack.NewBulkSink(true)
		sink.SendACKs = true
		e.b.Host.Stack.AddProtocol(stack.EthPIPv4, sink.Handle)
		mux := &stack.BulkMux{}
		for i := 0; i < 2; i++ {
			// Two flows of at most 96 KiB in flight fit the receiver's rings.
			b, err := e.a.Host.Stack.NewBulk(stack.BulkConfig{Dev: e.a.Netdev, CPU: i, DstMAC: e.b.Netdev.Addr(),
				Src: [4]byte{198, 18, 0, byte(1 + i)}, Dst: [4]byte{198, 19, 0, 1}, SPort: uint16(40000 + i), DPort: 5201,
				Count: 100, Window: 96 << 10})
			if err != nil {
				t.Fatal(err)
			}
			mux.Senders = append(mux.Senders, b)
		}
		e.a.Host.Stack.AddProtocol(stack.EthPIPv4, mux.Handle)
		for _, b := range mux.Senders {
			b.Start()
		}
		want := uint64(2 * 100 * stack.MaxBulkSend)
		deadline := time.Now().Add(30 * time.Second)
		for sink.Stats().Bytes < want && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if st := sink.Stats(); st.Bytes != want || st.Bad != 0 || st.Disorder != 0 {
			hs := e.b.Adapter.HWStats()
			t.Fatalf("off %s: sink %+v, want %d bytes; rx MPC %d GPRC %d filtered %d; tx dropped %+v; b rx %+v",
				off, st, want, hs.MPC, hs.GPRC, hs.RxFiltered, e.a.Netdev.Stats64(), e.b.Netdev.Stats64())
		}
	}
}
