package cli

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"vnic/driver"
	"vnic/hw"
	"vnic/internal/topo"
	"vnic/stack"
)

// world is two hosts with a 4-queue vnic0 each, cabled, in virtual time.
func world(t *testing.T) *topo.World {
	t.Helper()
	cfg := topo.Pair(topo.DeviceConfig{Queues: 4}, 2, 10000)
	cfg.Checker = true
	return topo.Started(t, cfg, time.Millisecond)
}

// sh runs one ethtool command line against w.
func sh(t *testing.T, w *topo.World, line string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	rc := Run(strings.Fields(line), Options{Backend: w.Ethtool(), Stdout: &out, Stderr: &errOut})
	return out.String(), errOut.String(), rc
}

// must runs a command that must succeed and returns its output.
func must(t *testing.T, w *topo.World, line string) string {
	t.Helper()
	out, errOut, rc := sh(t, w, line)
	if rc != 0 {
		t.Fatalf("ethtool %s: exit %d: %s", line, rc, errOut)
	}
	return out
}

func hasLine(t *testing.T, text, line string) {
	t.Helper()
	for _, l := range strings.Split(text, "\n") {
		if l == line {
			return
		}
	}
	t.Errorf("no line %q in:\n%s", line, text)
}

func TestVnicFeatures(t *testing.T) {
	w := world(t)
	k := must(t, w, "-k h1/vnic0")
	for _, l := range []string{"Features for h1/vnic0:", "rx-checksumming: on", "scatter-gather: on", "\ttx-scatter-gather: on",
		"\ttx-tcp-segmentation: on", "generic-segmentation-offload: on", "generic-receive-offload: on",
		"large-receive-offload: off", "receive-hashing: on", "\ttx-checksum-sctp: off [fixed]", "rx-vlan-offload: off [fixed]"} {
		hasLine(t, k, l)
	}
	out := must(t, w, "-K h1/vnic0 sg off")
	want := "Actual changes:\ntx-scatter-gather: off\ntx-generic-segmentation: off [not requested]\ntx-tcp-segmentation: off [not requested]\n"
	if out != want {
		t.Errorf("-K sg off printed\n%s\nwant\n%s", out, want)
	}
	k = must(t, w, "-k h1/vnic0")
	hasLine(t, k, "\ttx-tcp-segmentation: off [requested on]")
	hasLine(t, k, "generic-segmentation-offload: off [requested on]")
	must(t, w, "-K h1/vnic0 sg on")
	hasLine(t, must(t, w, "-k h1/vnic0"), "\ttx-tcp-segmentation: on")
	// A fixed feature: nothing changes, exit 1.
	_, errOut, rc := sh(t, w, "-K vnic0 rxvlan on")
	if rc == 0 || !strings.Contains(errOut, "no device matches name") {
		t.Errorf("a bare name on two hosts: exit %d, %q", rc, errOut)
	}
	out, errOut, rc = sh(t, w, "-K h1/vnic0 rxvlan on")
	if rc != 1 || errOut != "Could not change any device features\n" || out != "Actual changes:\nrx-vlan-hw-parse: off [requested on]\n" {
		t.Errorf("-K rxvlan on: exit %d, stdout %q, stderr %q", rc, out, errOut)
	}
}

// flows sends 64 UDP flows from h1 to h2 and returns the RX queue of every
// frame h2's stack received.
func flows(t *testing.T, w *topo.World) []int {
	t.Helper()
	a, b := w.Hosts[0].Devices[0], w.Hosts[1].Devices[0]
	var queues []int
	b.Host.Stack.AddTap(func(skb *stack.SKB) { queues = append(queues, int(skb.QueueMapping)) })
	for f := 0; f < 64; f++ {
		fr := make([]byte, 60)
		stack.BuildUDPFrame(fr, b.Netdev.Addr(), a.Netdev.Addr(), stack.FlowAddrs([4]byte{198, 18, 0, 1}, f), [4]byte{198, 19, 0, 1}, 1000, 9)
		skb := a.Host.Stack.Pool().Alloc(len(fr) + stack.NetIPAlign)
		skb.Reserve(stack.NetIPAlign)
		copy(skb.Put(len(fr)), fr)
		skb.Dev, skb.Protocol = a.Netdev, stack.EthPIPv4
		if err := stack.DevQueueXmit(skb); err != nil {
			t.Fatal(err)
		}
	}
	w.Run(time.Millisecond)
	if len(queues) != 64 {
		t.Fatalf("received %d of 64", len(queues))
	}
	return queues
}

func spread(qs []int) map[int]int {
	m := map[int]int{}
	for _, q := range qs {
		m[q]++
	}
	return m
}

func TestVnicChannelsAndRSS(t *testing.T) {
	w := world(t)
	b := w.Hosts[1].Devices[0]
	if s := spread(flows(t, w)); len(s) != 4 {
		t.Fatalf("4 queues: spread %v", s)
	}
	x := must(t, w, "-x h2/vnic0")
	hasLine(t, x, "RX flow hash indirection table for h2/vnic0 with 4 RX ring(s):")
	hasLine(t, x, "    0:      0     1     2     3     0     1     2     3")
	hasLine(t, x, "    toeplitz: on")

	must(t, w, "-L h2/vnic0 combined 2")
	hasLine(t, must(t, w, "-l h2/vnic0"), "Combined:\t2")
	if s := spread(flows(t, w)); len(s) != 2 || s[0] == 0 || s[1] == 0 {
		t.Errorf("combined 2: spread %v, want queues 0 and 1", s)
	}
	hasLine(t, must(t, w, "-x h2/vnic0"), "    0:      0     1     0     1     0     1     0     1")

	must(t, w, "-X h2/vnic0 equal 1")
	if s := spread(flows(t, w)); len(s) != 1 || s[0] != 64 {
		t.Errorf("equal 1: spread %v, want all on queue 0", s)
	}
	// A user table survives a channel change and blocks one that would
	// orphan its entries.
	must(t, w, "-X h2/vnic0 weight 1 1")
	_, errOut, rc := sh(t, w, "-L h2/vnic0 combined 1")
	if rc == 0 || !strings.Contains(errOut, "indirection table") {
		t.Errorf("-L combined 1 with a table on 2 queues: exit %d, %q", rc, errOut)
	}
	must(t, w, "-X h2/vnic0 default")
	must(t, w, "-L h2/vnic0 combined 1")
	if got := b.HW.Read32(hw.MRQC); got != 0 {
		t.Errorf("MRQC %#x with one queue", got)
	}
	_, errOut, rc = sh(t, w, "-L h2/vnic0 combined 9")
	if rc != 1 || errOut != "netlink error: requested channel count exceeds maximum (offset 40)\nnetlink error: Invalid argument\n" {
		t.Errorf("-L combined 9: exit %d, %q", rc, errOut)
	}
	_, errOut, rc = sh(t, w, "-L h2/vnic0 rx 2")
	if rc != 1 || !strings.Contains(errOut, "Invalid argument") {
		t.Errorf("-L rx 2: exit %d, %q", rc, errOut)
	}
}

// stat returns one -S counter.
func stat(t *testing.T, text, name string) uint64 {
	t.Helper()
	for _, l := range strings.Split(text, "\n") {
		if n, v, ok := strings.Cut(strings.TrimSpace(l), ": "); ok && n == name {
			x, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return x
		}
	}
	t.Fatalf("no %s in -S", name)
	return 0
}

func TestVnicStatsSurviveChanges(t *testing.T) {
	w := world(t)
	flows(t, w)
	check := func(when string) uint64 {
		s := must(t, w, "-S h2/vnic0")
		var sum uint64
		for q := 0; ; q++ {
			if !strings.Contains(s, fmt.Sprintf("rx_queue_%d_packets:", q)) {
				break
			}
			sum += stat(t, s, fmt.Sprintf("rx_queue_%d_packets", q))
		}
		if tot := stat(t, s, "rx_packets"); tot != sum {
			t.Errorf("%s: rx_packets %d, per-queue sum %d", when, tot, sum)
		}
		return sum
	}
	n0 := check("start")
	if n0 != 64 {
		t.Fatalf("rx_packets %d", n0)
	}
	must(t, w, "-G h2/vnic0 rx 64")
	must(t, w, "-L h2/vnic0 combined 1")
	if got := check("after ring and channel changes"); got != n0 {
		t.Errorf("rx_packets went from %d to %d", n0, got)
	}
	hasLine(t, must(t, w, "-g h2/vnic0"), "RX:\t\t64")
	if got := w.Hosts[1].Devices[0].HW.Read32(hw.RDLEN(0)); got != 64*16 {
		t.Errorf("RDLEN %d", got)
	}
	flows(t, w)
	if got := check("after more traffic"); got != n0+64 {
		t.Errorf("rx_packets %d, want %d", got, n0+64)
	}
}

func TestVnicEEPROM(t *testing.T) {
	w := world(t)
	e := must(t, w, "-e h1/vnic0 offset 0 length 6")
	want := "Offset\t\tValues\n------\t\t------\n0x0000:\t\t02 00 00 00 01 00 \n"
	if e != want {
		t.Errorf("-e:\n%q\nwant\n%q", e, want)
	}
	_, errOut, rc := sh(t, w, "-E h1/vnic0 magic 0x1234 offset 5 value 7")
	if rc == 0 || errOut != "Cannot set EEPROM data: Invalid argument\n" {
		t.Errorf("bad magic: exit %d, %q", rc, errOut)
	}
	must(t, w, fmt.Sprintf("-E h1/vnic0 magic %#x offset 5 value 7", driver.EEPROMMagic))
	if e := must(t, w, "-e h1/vnic0 offset 4 length 2"); !strings.Contains(e, "0x0004:\t\t01 07 ") {
		t.Errorf("after -E: %q", e)
	}
	hasLine(t, must(t, w, "-P h1/vnic0"), "Permanent address: 02:00:00:00:01:00")
}

// TestVnicLinkSpeed: -s speed 1000 limits the link to 1 Gb/s: back-to-back
// 64-byte frames (60 bytes and the FCS) then arrive at 1.488 Mpps, one
// every 672 ns; forced unequal speeds leave no link.
func TestVnicLinkSpeed(t *testing.T) {
	w := world(t)
	a, b := w.Hosts[0].Devices[0], w.Hosts[1].Devices[0]
	hasLine(t, must(t, w, "h1/vnic0"), "\tSpeed: 10000Mb/s")
	must(t, w, "-s h1/vnic0 speed 1000")
	w.Run(hw.LinkSetupTime)
	s := must(t, w, "h2/vnic0")
	hasLine(t, s, "\tSpeed: 1000Mb/s")
	hasLine(t, s, "\tLink detected: yes")
	hasLine(t, must(t, w, "h1/vnic0"), "\tAdvertised link modes:  1000baseT/Full")
	pg, err := a.Host.Stack.NewPktgen(stack.PktgenConfig{Dev: a.Netdev, DstMAC: b.Netdev.Addr(), SrcIP: [4]byte{198, 18, 0, 1},
		DstIP: [4]byte{198, 19, 0, 1}, Size: 60, Flows: 1, Burst: 32, Queue: 0})
	if err != nil {
		t.Fatal(err)
	}
	pg.Start()
	w.Run(time.Millisecond) // reach steady state
	f0, _, _, _ := w.Cables[0].Wire.Stats()
	w.Run(672 * time.Microsecond) // 1000 frame times
	f1, _, _, _ := w.Cables[0].Wire.Stats()
	pg.Stop()
	if got := f1 - f0; got != 1000 {
		t.Errorf("%d frames in 1000 frame times at 1 Gb/s", got)
	}
	// Forced 100 against forced 1000: no link.
	must(t, w, "-s h1/vnic0 speed 100 duplex full autoneg off")
	must(t, w, "-s h2/vnic0 speed 1000 duplex full autoneg off")
	w.Run(hw.LinkSetupTime + time.Millisecond)
	hasLine(t, must(t, w, "h1/vnic0"), "\tLink detected: no")
	_, errOut, rc := sh(t, w, "-s h1/vnic0 speed 2500 autoneg off")
	if rc != 75 || !strings.Contains(errOut, "Invalid argument") {
		t.Errorf("speed 2500: exit %d, %q", rc, errOut)
	}
	must(t, w, "-s h2/vnic0 speed 100 autoneg off")
	w.Run(hw.LinkSetupTime + time.Millisecond)
	s = must(t, w, "h2/vnic0")
	hasLine(t, s, "\tSpeed: 100Mb/s")
	hasLine(t, s, "\tAuto-negotiation: off")
	hasLine(t, s, "\tLink detected: yes")
}

// wireFrom counts the frames h1 has put on the cable.
func wireFrom(w *topo.World) uint64 {
	f, _, _, _ := w.Cables[0].Wire.Stats()
	return f
}

// TestVnicPauseHonoured: with rx pause on, a PAUSE frame stops h1's
// transmitter for its quanta (once the 24 KiB already in its FIFO has left);
// XON resumes it; with rx pause off the frame is counted and ignored.
func TestVnicPauseHonoured(t *testing.T) {
	for _, rxPause := range []bool{true, false} {
		w := world(t)
		a, b := w.Hosts[0].Devices[0], w.Hosts[1].Devices[0]
		hasLine(t, must(t, w, "-a h1/vnic0"), "RX:\t\toff")
		if rxPause {
			must(t, w, "-A h1/vnic0 rx on")
		}
		pg, err := a.Host.Stack.NewPktgen(stack.PktgenConfig{Dev: a.Netdev, DstMAC: b.Netdev.Addr(), SrcIP: [4]byte{198, 18, 0, 1},
			DstIP: [4]byte{198, 19, 0, 1}, Size: 60, Flows: 4, Burst: 32, Queue: -1})
		if err != nil {
			t.Fatal(err)
		}
		pg.Start()
		w.Run(100 * time.Microsecond)
		a.HW.Receive(hw.PauseFrame([6]byte(b.Netdev.Addr()), 0xFFFF)) // 3.36 ms at 10 Gb/s
		w.Run(25 * time.Microsecond)                                  // the FIFO drains
		f0 := wireFrom(w)
		w.Run(time.Millisecond)
		paused := wireFrom(w) - f0
		a.HW.Receive(hw.PauseFrame([6]byte(b.Netdev.Addr()), 0)) // XON
		w.Run(100 * time.Microsecond)
		resumed := wireFrom(w) - f0 - paused
		pg.Stop()
		if rxPause && (paused != 0 || resumed == 0) {
			t.Errorf("rx pause on: %d frames while paused, %d after XON", paused, resumed)
		}
		if !rxPause && paused == 0 {
			t.Error("rx pause off: the transmitter stopped")
		}
		injected := "  rx_pause_frames: 2"
		hasLine(t, must(t, w, "-I -a h1/vnic0"), injected)
	}
}

// TestVnicPauseAvoidsDrops: h2 services its 1024-descriptor ring only every
// 2 ms (rx-usecs 2000) while h1 sends back to back at 10 Gb/s: without flow
// control the ring overflows; with tx pause on h2 and rx pause on h1, h2
// sends XOFF in time and nothing is lost.
func TestVnicPauseAvoidsDrops(t *testing.T) {
	for _, fc := range []bool{false, true} {
		w := world(t)
		a, b := w.Hosts[0].Devices[0], w.Hosts[1].Devices[0]
		must(t, w, "-L h2/vnic0 combined 1")
		must(t, w, "-G h2/vnic0 rx 1024")
		must(t, w, "-C h2/vnic0 rx-usecs 2000")
		if fc {
			must(t, w, "-A h2/vnic0 tx on")
			must(t, w, "-A h1/vnic0 rx on")
		}
		listen := stack.NewSink(0)
		b.Host.Stack.AddProtocol(stack.EthPIPv4, listen.Handle)
		pg, err := a.Host.Stack.NewPktgen(stack.PktgenConfig{Dev: a.Netdev, DstMAC: b.Netdev.Addr(), SrcIP: [4]byte{198, 18, 0, 1},
			DstIP: [4]byte{198, 19, 0, 1}, Size: 60, Flows: 4, Burst: 32, Queue: -1, Count: 20000})
		if err != nil {
			t.Fatal(err)
		}
		pg.Start()
		w.Run(100 * time.Millisecond)
		if !pg.Done() {
			t.Fatalf("fc %v: pktgen sent %d", fc, pg.Sent())
		}
		missed := stat(t, must(t, w, "-S h2/vnic0"), "rx_missed_errors")
		p := must(t, w, "-I -a h2/vnic0")
		if !fc && missed == 0 {
			t.Error("no flow control: nothing was missed; the test does not overload h2")
		}
		if fc {
			if missed != 0 {
				t.Errorf("flow control: %d frames missed", missed)
			}
			if got := b.Netdev.Stats64().RxPackets; got != 20000 {
				t.Errorf("flow control: %d of 20000 received", got)
			}
			hasLine(t, p, "TX:\t\ton")
			if strings.Contains(p, "  tx_pause_frames: 0\n") {
				t.Errorf("h2 sent no PAUSE:\n%s", p)
			}
		}
	}
}

// TestVnicSelfTest: the offline self-test passes on a running device, which
// carries traffic afterwards as before; online runs only the link test.
func TestVnicSelfTest(t *testing.T) {
	w := world(t)
	flows(t, w)
	before := must(t, w, "-S h2/vnic0")
	out, errOut, rc := sh(t, w, "-t h2/vnic0")
	want := "The test result is PASS\nThe test extra info:\nRegister test  (offline)\t 0\nEeprom test    (offline)\t 0\n" +
		"Interrupt test (offline)\t 0\nLoopback test  (offline)\t 0\nLink test   (on/offline)\t 0\n"
	if rc != 0 || out != want {
		t.Fatalf("-t: exit %d\n%s%s", rc, out, errOut)
	}
	// The loopback test's 32 frames went out and came back in.
	after := must(t, w, "-S h2/vnic0")
	for _, c := range []string{"tx_hw_packets", "rx_hw_packets"} {
		if d := stat(t, after, c) - stat(t, before, c); d != 32 {
			t.Errorf("%s grew by %d during the self-test, want 32", c, d)
		}
	}
	w.Run(time.Millisecond) // the link comes back
	if s := spread(flows(t, w)); len(s) != 4 {
		t.Errorf("after the self-test: spread %v", s)
	}
	hasLine(t, must(t, w, "-i h2/vnic0"), "supports-test: yes")
	out = must(t, w, "-t h2/vnic0 online")
	hasLine(t, out, "Link test   (on/offline)\t 0")
	hasLine(t, out, "Loopback test  (offline)\t 0")
}

// phase is what one bulk phase looked like.
type phase struct {
	toDriver, supers, partial int // skbs h1's driver got, how many were super-packets, with partial checksums
	wire                      uint64
	sink                      stack.BulkSinkStats
	rxOff, txOff              stack.OffloadStats
	lro                       uint64
}

// TestVnicOffloadsFollowEthtool sends bulk TCP (ten 64 KiB sends a phase)
// from h1 to h2 while ethtool changes features between phases; each phase
// shows the data path the features call for.
func TestVnicOffloadsFollowEthtool(t *testing.T) {
	w := world(t)
	a, b := w.Hosts[0].Devices[0], w.Hosts[1].Devices[0]
	must(t, w, "-C h2/vnic0 rx-usecs 50") // interrupt moderation, so LRO can aggregate
	sink := stack.NewBulkSink(true)
	b.Host.Stack.AddProtocol(stack.EthPIPv4, sink.Handle)
	var cur phase
	a.Host.Stack.AddXmitTap(func(s *stack.SKB) {
		cur.toDriver++
		if s.GSOSize > 0 {
			cur.supers++
		}
		if s.IPSummed == stack.ChecksumPartial {
			cur.partial++
		}
	})
	const sends = 10
	wireSegs := uint64(sends * ((stack.MaxBulkSend + 1459) / 1460))
	sport := uint16(40000)
	run := func() phase {
		t.Helper()
		cur = phase{}
		s0, rx0, tx0 := sink.Stats(), b.Host.Stack.OffloadStats(), a.Host.Stack.OffloadStats()
		lro0 := b.Adapter.QueueStats(0).LROFrames + b.Adapter.QueueStats(1).LROFrames + b.Adapter.QueueStats(2).LROFrames + b.Adapter.QueueStats(3).LROFrames
		f0 := wireFrom(w)
		sport++
		bulk, err := a.Host.Stack.NewBulk(stack.BulkConfig{Dev: a.Netdev, DstMAC: b.Netdev.Addr(),
			Src: [4]byte{198, 18, 0, 1}, Dst: [4]byte{198, 19, 0, 1}, SPort: sport, DPort: 5201, Count: sends})
		if err != nil {
			t.Fatal(err)
		}
		bulk.Start()
		w.Run(20 * time.Millisecond)
		if !bulk.Done() {
			t.Fatalf("%d of %d sends", bulk.Sends(), sends)
		}
		p := cur
		p.wire = wireFrom(w) - f0
		s1 := sink.Stats()
		p.sink = stack.BulkSinkStats{Packets: s1.Packets - s0.Packets, Bytes: s1.Bytes - s0.Bytes, Bad: s1.Bad - s0.Bad,
			Disorder: s1.Disorder - s0.Disorder, Super: s1.Super - s0.Super}
		rx1, tx1 := b.Host.Stack.OffloadStats(), a.Host.Stack.OffloadStats()
		p.rxOff = stack.OffloadStats{CsumVerified: rx1.CsumVerified - rx0.CsumVerified, GROMerged: rx1.GROMerged - rx0.GROMerged}
		p.txOff = stack.OffloadStats{GSOSegments: tx1.GSOSegments - tx0.GSOSegments, CsumHelp: tx1.CsumHelp - tx0.CsumHelp}
		p.lro = b.Adapter.QueueStats(0).LROFrames + b.Adapter.QueueStats(1).LROFrames + b.Adapter.QueueStats(2).LROFrames + b.Adapter.QueueStats(3).LROFrames - lro0
		if p.sink.Bytes != sends*stack.MaxBulkSend || p.sink.Bad != 0 || p.sink.Disorder != 0 {
			t.Fatalf("sink %+v", p.sink)
		}
		if p.wire != wireSegs {
			t.Fatalf("%d frames on the wire, want %d", p.wire, wireSegs)
		}
		return p
	}

	// All on: ten TSO super-packets with partial checksums reach the driver.
	if p := run(); p.toDriver != sends || p.supers != sends || p.partial != sends {
		t.Errorf("all on: %+v", p)
	}
	// tso off: software GSO hands the driver MSS-sized segments.
	must(t, w, "-K h1/vnic0 tso off")
	if p := run(); p.supers != 0 || uint64(p.toDriver) != wireSegs || p.txOff.GSOSegments != wireSegs {
		t.Errorf("tso off: %+v", p)
	}
	// tx off: TSO goes with it (rule 3); the stack checksums in software.
	out := must(t, w, "-K h1/vnic0 tso on tx off")
	if !strings.Contains(out, "tx-tcp-segmentation: off [requested on]") {
		t.Errorf("-K tso on tx off printed:\n%s", out)
	}
	// (GSO computes full checksums as it segments; the sink checks them.)
	if p := run(); p.partial != 0 || p.supers != 0 || uint64(p.toDriver) != wireSegs {
		t.Errorf("tx off: %+v", p)
	}
	// sg off: TSO and GSO drop; the sender makes MSS-sized packets itself.
	must(t, w, "-K h1/vnic0 tx on")
	out = must(t, w, "-K h1/vnic0 sg off")
	for _, l := range []string{"tx-tcp-segmentation: off [not requested]", "tx-generic-segmentation: off [not requested]"} {
		if !strings.Contains(out, l) {
			t.Errorf("-K sg off: no %q in\n%s", l, out)
		}
	}
	if p := run(); p.supers != 0 || p.txOff.GSOSegments != 0 || uint64(p.toDriver) != wireSegs {
		t.Errorf("sg off: %+v", p)
	}
	// sg on: TSO and GSO come back by themselves (wanted persisted).
	must(t, w, "-K h1/vnic0 sg on")
	if p := run(); p.supers != sends {
		t.Errorf("sg on: %+v", p)
	}
	// gro off on h2: every wire frame reaches the stack on its own.
	must(t, w, "-K h2/vnic0 gro off")
	if p := run(); p.sink.Super != 0 || p.sink.Packets != wireSegs || p.rxOff.GROMerged != 0 {
		t.Errorf("gro off: %+v", p)
	}
	// lro on: the device aggregates instead.
	must(t, w, "-K h2/vnic0 lro on")
	if p := run(); p.lro == 0 || p.sink.Super == 0 || p.sink.Packets >= wireSegs {
		t.Errorf("lro on: %+v", p)
	}
	// rx off: the stack verifies every checksum itself.
	must(t, w, "-K h2/vnic0 lro off rx off")
	if p := run(); p.rxOff.CsumVerified != p.sink.Packets || p.sink.Packets != wireSegs {
		t.Errorf("rx off: %+v", p)
	}
}

// TestVnicRingSizeAndDrops: the same instantaneous burst of 200 frames fits
// a 256-descriptor ring (255 posted) but overflows a 64-descriptor one (63
// posted): 137 missed.
func TestVnicRingSizeAndDrops(t *testing.T) {
	for _, tc := range []struct {
		rx     string
		missed uint64
	}{{"256", 0}, {"64", 137}} {
		w := world(t)
		a, b := w.Hosts[0].Devices[0], w.Hosts[1].Devices[0]
		must(t, w, "-L h2/vnic0 combined 1")
		must(t, w, "-G h2/vnic0 rx "+tc.rx)
		b.Host.Stack.AddProtocol(stack.EthPIPv4, stack.NewSink(0).Handle)
		for f := 0; f < 200; f++ {
			fr := make([]byte, 60)
			stack.BuildUDPFrame(fr, b.Netdev.Addr(), a.Netdev.Addr(), stack.FlowAddrs([4]byte{198, 18, 0, 1}, f), [4]byte{198, 19, 0, 1}, 1000, 9)
			b.HW.Receive(fr)
		}
		w.Run(time.Millisecond)
		s := must(t, w, "-S h2/vnic0")
		if got := stat(t, s, "rx_missed_errors"); got != tc.missed {
			t.Errorf("rx %s: %d missed, want %d", tc.rx, got, tc.missed)
		}
		if got := stat(t, s, "rx_packets"); got != 200-tc.missed {
			t.Errorf("rx %s: %d received", tc.rx, got)
		}
	}
}

// TestVnicCoalesceCountsInterrupts: 143 frames 7 µs apart on one queue:
// rx-usecs 0 gives an interrupt per frame; rx-usecs 100 one at the first
// frame and one at the end of each 100 µs window that saw frames, 11.
func TestVnicCoalesceCountsInterrupts(t *testing.T) {
	for _, tc := range []struct {
		usecs string
		want  uint64
	}{{"0", 143}, {"100", 11}} {
		w := world(t)
		a, b := w.Hosts[0].Devices[0], w.Hosts[1].Devices[0]
		must(t, w, "-L h2/vnic0 combined 1")
		must(t, w, "-C h2/vnic0 rx-usecs "+tc.usecs)
		hasLine(t, must(t, w, "-c h2/vnic0"), "rx-usecs: "+tc.usecs)
		b.Host.Stack.AddProtocol(stack.EthPIPv4, stack.NewSink(0).Handle)
		base := b.Adapter.QueueStats(0).Interrupts
		for k := 0; k < 143; k++ {
			fr := make([]byte, 60)
			stack.BuildUDPFrame(fr, b.Netdev.Addr(), a.Netdev.Addr(), stack.FlowAddrs([4]byte{198, 18, 0, 1}, k), [4]byte{198, 19, 0, 1}, 1000, 9)
			tm := w.Clock.NewTimer(func() { b.HW.Receive(fr) })
			tm.Reset(500*time.Nanosecond + time.Duration(k)*7*time.Microsecond)
		}
		w.Run(2 * time.Millisecond)
		if got := b.Adapter.QueueStats(0).Interrupts - base; got != tc.want {
			t.Errorf("rx-usecs %s: %d interrupts, want %d", tc.usecs, got, tc.want)
		}
	}
}

// TestVnicSixteenChannels: with 25 MSI-X vectors and max_queues 16 the
// device runs 16 queue pairs, and flows spread over all of them.
func TestVnicSixteenChannels(t *testing.T) {
	cfg := topo.Pair(topo.DeviceConfig{Queues: 1, MaxQueues: 16, Vectors: 25}, 2, 10000)
	cfg.Checker = true
	w, err := topo.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Run(time.Millisecond)
	hasLine(t, must(t, w, "-l h2/vnic0"), "Combined:\t16")
	must(t, w, "-L h2/vnic0 combined 16")
	_, errOut, rc := sh(t, w, "-L h2/vnic0 combined 17")
	if rc != 1 || !strings.Contains(errOut, "exceeds maximum") {
		t.Errorf("combined 17: exit %d, %q", rc, errOut)
	}
	var qs []int
	b := w.Hosts[1].Devices[0]
	b.Host.Stack.AddTap(func(skb *stack.SKB) { qs = append(qs, int(skb.QueueMapping)) })
	b.Host.Stack.AddProtocol(stack.EthPIPv4, stack.NewSink(0).Handle)
	a := w.Hosts[0].Devices[0]
	for f := 0; f < 256; f++ {
		fr := make([]byte, 60)
		stack.BuildUDPFrame(fr, b.Netdev.Addr(), a.Netdev.Addr(), stack.FlowAddrs([4]byte{198, 18, 0, 1}, f), [4]byte{198, 19, 0, 1}, 1000, 9)
		b.HW.Receive(fr)
	}
	w.Run(time.Millisecond)
	if s := spread(qs); len(s) != 16 {
		t.Errorf("256 flows on %d queues: %v", len(s), s)
	}
	if v := b.HW.Checker().Violations(); len(v) != 0 {
		t.Errorf("violations: %v", v)
	}
}

func TestVnicMsglevel(t *testing.T) {
	w := world(t)
	s := must(t, w, "h1/vnic0")
	hasLine(t, s, "\tCurrent message level: 0x00000000 (0)")
	must(t, w, "-s h1/vnic0 msglvl 7")
	hasLine(t, must(t, w, "h1/vnic0"), "\t\t\t       drv probe link")
	must(t, w, "-s h1/vnic0 msglvl probe off hw on")
	s = must(t, w, "h1/vnic0")
	hasLine(t, s, "\tCurrent message level: 0x00002005 (8197)")
	hasLine(t, s, "\t\t\t       drv link hw")
}

// TestVnicUDPFlowHash: UDP flows that differ only in ports all land on one
// queue while udp4 hashes addresses (sd); with ports (sdfn) they spread.
func TestVnicUDPFlowHash(t *testing.T) {
	w := world(t)
	a, b := w.Hosts[0].Devices[0], w.Hosts[1].Devices[0]
	var qs []int
	b.Host.Stack.AddTap(func(skb *stack.SKB) { qs = append(qs, int(skb.QueueMapping)) })
	b.Host.Stack.AddProtocol(stack.EthPIPv4, stack.NewSink(0).Handle)
	send := func() map[int]int {
		qs = nil
		for p := 0; p < 64; p++ {
			fr := make([]byte, 60)
			stack.BuildUDPFrame(fr, b.Netdev.Addr(), a.Netdev.Addr(), [4]byte{198, 18, 0, 1}, [4]byte{198, 19, 0, 1}, uint16(20000+p), 9)
			b.HW.Receive(fr)
		}
		w.Run(time.Millisecond)
		return spread(qs)
	}
	hasLine(t, must(t, w, "-n h2/vnic0 rx-flow-hash udp4"), "IP DA")
	if s := send(); len(s) != 1 {
		t.Errorf("udp4 sd: ports changed the queue: %v", s)
	}
	must(t, w, "-N h2/vnic0 rx-flow-hash udp4 sdfn")
	hasLine(t, must(t, w, "-n h2/vnic0 rx-flow-hash udp4"), "L4 bytes 0 & 1 [TCP/UDP src port]")
	if s := send(); len(s) != 4 {
		t.Errorf("udp4 sdfn: 64 port pairs on %d queues: %v", len(s), s)
	}
	_, errOut, _ := sh(t, w, "-N h2/vnic0 rx-flow-hash tcp4 sd")
	if !strings.Contains(errOut, "Invalid argument") {
		t.Errorf("tcp4 sd: %q", errOut)
	}
}

// vnic's device: a missing name in the default mode reads as ethtool's
// five failed requests and exit 75; -T shows the kernel's software
// timestamping; identify is not supported (the driver has no
// set_phys_id).
func TestVnicMissingAndAbsentOps(t *testing.T) {
	w := world(t)
	_, errOut, rc := sh(t, w, "h1/nosuch")
	if rc != 75 || strings.Count(errOut, "netlink error: No such device\n") != 5 || !strings.HasSuffix(errOut, "No data available\n") {
		t.Errorf("missing device: exit %d\n%s", rc, errOut)
	}
	out := must(t, w, "-T h1/vnic0")
	if out != "Time stamping parameters for h1/vnic0:\nCapabilities:\n\tsoftware-transmit\n\tsoftware-receive\n\tsoftware-system-clock\n"+
		"PTP Hardware Clock: none\nHardware Transmit Timestamp Modes: none\nHardware Receive Filter Modes: none\n" {
		t.Errorf("-T:\n%s", out)
	}
	if _, errOut, rc := sh(t, w, "-p h1/vnic0 1"); rc != 255 || errOut != "Cannot identify NIC: Operation not supported\n" {
		t.Errorf("-p: exit %d %q", rc, errOut)
	}
}
