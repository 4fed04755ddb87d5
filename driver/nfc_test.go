package driver_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"vnic/driver"
	"vnic/ethtool"
	"vnic/header"
	"vnic/hw"
	"vnic/internal/topo"
	"vnic/stack"
)

// stat returns the ethtool -S counter name of d's adapter (-1 if absent).
func stat(a *driver.Adapter, name string) int64 {
	for _, s := range a.GetStats() {
		if s.Name == name {
			return int64(s.Value)
		}
	}
	return -1
}

var full4 = [4]byte{0xff, 0xff, 0xff, 0xff}

// udp4Rule steers UDP flow i of udpFrame (its source port) to queue q.
func udp4Rule(flow int, q uint64, loc uint32) ethtool.RxClsRule {
	return ethtool.RxClsRule{FlowType: ethtool.UDPv4Flow, RingCookie: q, Location: loc,
		Value: ethtool.FlowFields{SrcPort: uint16(stack.PktgenSrcPort + flow), DstPort: stack.PktgenPort},
		Mask:  ethtool.FlowFields{SrcPort: 0xFFFF, DstPort: 0xFFFF}}
}

func etherRule(et uint16, q uint64, loc uint32) ethtool.RxClsRule {
	return ethtool.RxClsRule{FlowType: ethtool.EtherFlow, RingCookie: q, Location: loc,
		Value: ethtool.FlowFields{EtherType: et}, Mask: ethtool.FlowFields{EtherType: 0xFFFF}}
}

// etherFrameTo is a 60-byte frame of EtherType et to dst.
func etherFrameTo(dst, src stack.MAC, et uint16) []byte {
	f := make([]byte, 60)
	eth := header.Ethernet(f)
	eth.SetDst(dst)
	eth.SetSrc(src)
	eth.SetType(et)
	return f
}

// flowQueues sends rounds × flows UDP frames from a to b and returns each
// flow's RX queue on b (checking that a flow keeps its queue).
func (e *env) flowQueues(t *testing.T, c *capture, flows, rounds int) []int {
	t.Helper()
	c.frames, c.queues = nil, nil
	dst, src := e.b.Netdev.Addr(), e.a.Netdev.Addr()
	for r := 0; r < rounds; r++ {
		for f := 0; f < flows; f++ {
			if err := xmit(e.a, udpFrame(dst, src, 60, f)); err != nil {
				t.Fatal(err)
			}
		}
		e.w.Run(time.Millisecond)
	}
	if len(c.frames) != flows*rounds {
		t.Fatalf("received %d of %d", len(c.frames), flows*rounds)
	}
	q := make([]int, flows)
	for i := range q {
		q[i] = -1
	}
	for i, fr := range c.frames {
		// Queues are polled one by one: the flow is in the frame, its
		// source port.
		f := int(binary.BigEndian.Uint16(fr[34:36])) - stack.PktgenSrcPort
		if q[f] < 0 {
			q[f] = c.queues[i]
		} else if c.queues[i] != q[f] {
			t.Fatalf("flow %d moved from queue %d to %d", f, q[f], c.queues[i])
		}
	}
	return q
}

// Rules steer their flows ahead of RSS, exactly, and count their hits in
// ethtool -S; the other flows keep their RSS queues.
func TestNtupleSteersAndCounts(t *testing.T) {
	e := newEnv(t, queues(4))
	c := listen(e.b)
	a := e.b.Adapter
	const flows, rounds = 8, 5
	base := e.flowQueues(t, c, flows, rounds)
	// Flow 3 to a queue RSS does not give it; flow 5 by its source
	// address and protocol (ip4) to another.
	q3, q5 := uint64(base[3]+1)%4, uint64(base[5]+2)%4
	if loc, err := a.InsertRxClsRule(udp4Rule(3, q3, 0)); err != nil || loc != 0 {
		t.Fatalf("insert udp4 rule: loc %d, %v", loc, err)
	}
	src5 := stack.FlowAddrs([4]byte{198, 18, 0, 1}, 5)
	ip4 := ethtool.RxClsRule{FlowType: ethtool.IPUserFlow, RingCookie: q5, Location: 7,
		Value: ethtool.FlowFields{Src: src5, Proto: header.ProtoUDP}, Mask: ethtool.FlowFields{Src: full4, Proto: 0xFF}}
	if _, err := a.InsertRxClsRule(ip4); err != nil {
		t.Fatal(err)
	}
	if _, err := a.InsertRxClsRule(etherRule(0x88B5, 3, 15)); err != nil {
		t.Fatal(err)
	}
	got := e.flowQueues(t, c, flows, rounds)
	for f := range got {
		want := base[f]
		switch f {
		case 3:
			want = int(q3)
		case 5:
			want = int(q5)
		}
		if got[f] != want {
			t.Errorf("flow %d on queue %d, want %d", f, got[f], want)
		}
	}
	before := stat(a, "rx_queue_3_packets")
	for i := 0; i < 7; i++ {
		inject(e.b, etherFrameTo(e.b.Netdev.Addr(), e.a.Netdev.Addr(), 0x88B5))
	}
	e.w.Run(time.Millisecond)
	if n := stat(a, "rx_queue_3_packets") - before; n != 7 {
		t.Errorf("0x88b5 frames on queue 3: %d, want 7", n)
	}
	for name, want := range map[string]int64{
		"rx_ntuple_0_hits": rounds, "rx_ntuple_7_hits": rounds, "rx_ntuple_15_hits": 7,
		"rx_ntuple_hits": 2*rounds + 7, "rx_ntuple_1_hits": -1,
	} {
		if got := stat(a, name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	rules, _ := a.GetRxClsRules()
	if rules.TableSize != driver.NFCTableSize || len(rules.Rules) != 3 || rules.Rules[0].Location != 0 || rules.Rules[1].Location != 7 || rules.Rules[2].Location != 15 {
		t.Fatalf("rules %+v", rules)
	}
	if r := rules.Rules[1]; r.FlowType != ethtool.IPUserFlow || r.Value.Src != src5 || r.Mask.Src != full4 || r.Value.Proto != 17 || r.Mask.Proto != 0xFF || r.RingCookie != q5 {
		t.Fatalf("ip4 rule reads back as %+v", r)
	}
	// Deleted, flow 3 goes back to RSS and its counter disappears.
	if err := a.DeleteRxClsRule(0); err != nil {
		t.Fatal(err)
	}
	if got := e.flowQueues(t, c, flows, 1); got[3] != base[3] || got[5] != int(q5) {
		t.Fatalf("after delete: flow 3 on %d (want %d), flow 5 on %d (want %d)", got[3], base[3], got[5], q5)
	}
	if stat(a, "rx_ntuple_0_hits") != -1 || stat(a, "rx_ntuple_hits") != 2*rounds+7+1 {
		t.Fatalf("after delete: rx_ntuple_0_hits %d, rx_ntuple_hits %d", stat(a, "rx_ntuple_0_hits"), stat(a, "rx_ntuple_hits"))
	}
}

// What the device cannot match is EINVAL with the reason, as igb; a
// duplicate is EEXIST; the filters of a kind run out at 8.
func TestNtupleRuleErrors(t *testing.T) {
	e := newEnv(t, queues(4))
	a := e.b.Adapter
	partial := udp4Rule(0, 1, 1)
	partial.Mask.Src = [4]byte{255, 255, 255, 0}
	tos := udp4Rule(0, 1, 1)
	tos.Mask.TOS = 0xFF
	vlan := etherRule(0x88B5, 1, 1)
	vlan.FlowType |= ethtool.FlowExt
	vlan.Mask.VLANTCI = 0xE000
	mac := etherRule(0x88B5, 1, 1)
	mac.Mask.SrcMAC = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	noProto := etherRule(0x88B5, 1, 1)
	noProto.Mask.EtherType = 0xFF00
	l4data := ethtool.RxClsRule{FlowType: ethtool.IPUserFlow, RingCookie: 1, Location: 1, Mask: ethtool.FlowFields{L4Bytes: 0xFFFFFFFF}}
	for _, c := range []struct {
		name  string
		rule  ethtool.RxClsRule
		errno syscall.Errno
		text  string
	}{
		{"drop", udp4Rule(0, ethtool.RxClsFlowDisc, 1), syscall.EINVAL, "cannot drop"},
		{"wake", udp4Rule(0, ethtool.RxClsFlowWake, 1), syscall.EINVAL, "action"},
		{"queue past the RX queues", udp4Rule(0, 4, 1), syscall.EINVAL, "below 4"},
		{"location out of range", udp4Rule(0, 1, 16), syscall.EINVAL, "out of range"},
		{"partial address mask", partial, syscall.EINVAL, "whole address"},
		{"tos", tos, syscall.EINVAL, "tos"},
		{"vlan", vlan, syscall.EINVAL, "VLAN"},
		{"MAC address", mac, syscall.EINVAL, "MAC"},
		{"partial proto", noProto, syscall.EINVAL, "full mask"},
		{"l4data", l4data, syscall.EINVAL, "l4data"},
		{"tcp6", ethtool.RxClsRule{FlowType: 0x05, RingCookie: 1, Location: 1}, syscall.EINVAL, "not supported"},
	} {
		_, err := a.InsertRxClsRule(c.rule)
		if !errors.Is(err, c.errno) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: %v, want %v mentioning %q", c.name, err, c.errno, c.text)
		}
	}
	if _, err := a.InsertRxClsRule(udp4Rule(0, 1, 1)); err != nil {
		t.Fatal(err)
	}
	// The same match at another location, or another action: EEXIST.
	if _, err := a.InsertRxClsRule(udp4Rule(0, 2, 9)); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("duplicate: %v", err)
	}
	// Eight EtherType rules fit, the ninth does not, though locations remain.
	for i := 0; i < 8; i++ {
		if _, err := a.InsertRxClsRule(etherRule(0x9000+uint16(i), 1, uint32(2+i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.InsertRxClsRule(etherRule(0x9100, 1, 12)); !errors.Is(err, syscall.EINVAL) || !strings.Contains(fmt.Sprint(err), "all used") {
		t.Fatalf("ninth etype rule: %v", err)
	}
	// Replacing an etype rule in place needs no new filter.
	if _, err := a.InsertRxClsRule(etherRule(0x9100, 2, 2)); err != nil {
		t.Fatalf("replace at 2: %v", err)
	}
	// Special locations: any takes the highest free slot, first the lowest.
	if loc, err := a.InsertRxClsRule(udp4Rule(1, 1, ethtool.RxClsLocAny)); err != nil || loc != 15 {
		t.Fatalf("loc any: %d, %v", loc, err)
	}
	if loc, err := a.InsertRxClsRule(udp4Rule(2, 1, ethtool.RxClsLocFirst)); err != nil || loc != 0 {
		t.Fatalf("loc first: %d, %v", loc, err)
	}
	if err := a.DeleteRxClsRule(14); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("delete of an empty location: %v", err)
	}
	// Channels cannot drop below a rule's queue (the kernel's check).
	if _, err := a.InsertRxClsRule(udp4Rule(3, 3, 13)); err != nil {
		t.Fatal(err)
	}
	if err := a.SetChannels(ethtool.Channels{Combined: 3, Other: 1}); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("channels 3 with a rule on queue 3: %v", err)
	}
	if n, _ := a.GetRxRings(); n != 4 {
		t.Fatalf("rx rings %d", n)
	}
}

// Rules survive ring and channel changes and the offline self-test (which
// resets the device); turning rx-ntuple-filter off deletes them.
func TestNtupleSurvivesResetAndOffClears(t *testing.T) {
	e := newEnv(t, queues(4))
	c := listen(e.b)
	a := e.b.Adapter
	base := e.flowQueues(t, c, 8, 1)
	q := uint64(base[2]+1) % 4
	if _, err := a.InsertRxClsRule(udp4Rule(2, q, 4)); err != nil {
		t.Fatal(err)
	}
	hits, total := int64(0), int64(0)
	check := func(what string) {
		t.Helper()
		got := e.flowQueues(t, c, 8, 2)
		hits, total = hits+2, total+2
		if got[2] != int(q) {
			t.Fatalf("after %s: flow 2 on queue %d, want %d", what, got[2], q)
		}
		if n := stat(a, "rx_ntuple_4_hits"); n != hits {
			t.Fatalf("after %s: rx_ntuple_4_hits %d, want %d", what, n, hits)
		}
	}
	check("insert")
	if err := a.SetRingParam(ethtool.Ring{Rx: 128, Tx: 128}); err != nil {
		t.Fatal(err)
	}
	check("ring change")
	if err := a.SetChannels(ethtool.Channels{Combined: 4, Other: 1}); err != nil {
		t.Fatal(err)
	}
	check("channel change")
	tpr := a.HWStats().TPR
	if _, err := a.SelfTest(true); err != nil {
		t.Fatal(err)
	}
	// The loopback test's frames reached the MAC from the PHY, not the cable.
	injected[e.b] += a.HWStats().TPR - tpr
	e.w.Run(10 * time.Millisecond) // the link comes back
	check("offline self-test")
	// Inserted while the device is down, a rule takes effect at open.
	nd := e.b.Netdev
	if err := nd.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteRxClsRule(4); err != nil {
		t.Fatal(err)
	}
	if _, err := a.InsertRxClsRule(udp4Rule(2, q, 4)); err != nil {
		t.Fatal(err)
	}
	if err := nd.Open(); err != nil {
		t.Fatal(err)
	}
	e.w.Run(10 * time.Millisecond)
	hits = 0
	check("insert while down")
	if _, err := nd.SetWantedFeatures(ethtool.NTuple, ethtool.NTuple); err != nil {
		t.Fatal(err)
	}
	if nd.Features()&ethtool.NTuple == 0 {
		t.Fatal("rx-ntuple-filter did not turn on")
	}
	check("ntuple on")
	if _, err := nd.SetWantedFeatures(ethtool.NTuple, 0); err != nil {
		t.Fatal(err)
	}
	if rules, _ := a.GetRxClsRules(); len(rules.Rules) != 0 {
		t.Fatalf("ntuple off left %d rules", len(rules.Rules))
	}
	if got := e.flowQueues(t, c, 8, 1); got[2] != base[2] {
		t.Fatalf("ntuple off: flow 2 on queue %d, want RSS's %d", got[2], base[2])
	}
	if stat(a, "rx_ntuple_hits") != total {
		t.Fatalf("rx_ntuple_hits %d, want %d", stat(a, "rx_ntuple_hits"), total)
	}
}

// With rules installed, receiving still allocates nothing: the frames the
// rules steer and the ones RSS spreads.
func TestNtupleRxNoAllocs(t *testing.T) {
	e := newEnv(t, func(c *topo.Config) {
		c.Costs = topo.Costs(hw.DefaultCosts)
		for i := range c.Hosts {
			c.Hosts[i].Devices[0].Queues = 4
		}
	})
	a := e.b.Adapter
	for i, r := range []ethtool.RxClsRule{udp4Rule(1, 3, 0), udp4Rule(6, 2, 1), etherRule(0x88B5, 1, 2)} {
		if _, err := a.InsertRxClsRule(r); err != nil {
			t.Fatalf("rule %d: %v", i, err)
		}
	}
	sink := stack.NewSink(0)
	e.b.Host.Stack.AddProtocol(stack.EthPIPv4, sink.Handle)
	frames := make([][]byte, allocBatch)
	for i := range frames {
		frames[i] = udpFrame(e.b.Netdev.Addr(), e.a.Netdev.Addr(), 60+i*45, i%8)
	}
	noAllocs(t, "rx with ntuple rules", func() {
		for _, f := range frames {
			inject(e.b, f)
		}
		e.w.Run(200 * time.Microsecond)
	})
	if got, want := stat(a, "rx_ntuple_0_hits")+stat(a, "rx_ntuple_1_hits"), int64((allocWarm+1+allocRuns)*allocBatch/4); got != want {
		t.Fatalf("rules hit %d times, want %d", got, want)
	}
}
