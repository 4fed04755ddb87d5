package ipv4

import (
	"testing"
	"time"

	"vnic/header"
	"vnic/hw"
	"vnic/stack"
	"vnic/stack/ipv4/fib"
)

func idHost(t *testing.T, name string, seed int64) (*Inet, *hw.VirtualClock) {
	t.Helper()
	clk := hw.NewVirtualClock()
	h := stack.NewHost(name, clk, []stack.CPU{hw.NewCPU(0, clk, hw.CostModel{})}, stack.HostConfig{})
	in, err := InetInit(h, InetConfig{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return in, clk
}

// TestIPIDs: ip_select_ident / ip_idents_reserve. The counters start at
// random values, so new destinations do not share a first ID; one
// destination's IDs go up by one within a jiffy, and after an idle gap
// of n jiffies by a random step of 1..n (the perturbation that keeps the
// counter from telling how much was sent meanwhile); a GSO packet
// reserves one ID per segment. The same seed gives the same IDs.
func TestIPIDs(t *testing.T) {
	in, clk := idHost(t, "h", 1)
	src := [4]byte{198, 18, 0, 1}
	first := map[uint16]bool{}
	for i := range 64 {
		first[in.nextID(src, [4]byte{198, 18, 1, byte(i)}, IPProtoUDP, 1)] = true
	}
	if len(first) < 60 {
		t.Fatalf("64 new destinations share first IDs: %d distinct", len(first))
	}
	dst := [4]byte{198, 18, 2, 1}
	a := in.nextID(src, dst, IPProtoUDP, 1)
	if b := in.nextID(src, dst, IPProtoUDP, 1); b != a+1 {
		t.Fatalf("same jiffy: %d then %d", a, b)
	}
	if c := in.nextID(src, dst, IPProtoUDP, 4); c != a+2 {
		t.Fatalf("a 4-segment packet starts at %d, want %d", c, a+2)
	}
	if d := in.nextID(src, dst, IPProtoUDP, 1); d != a+6 {
		t.Fatalf("after the 4 segments: %d, want %d", d, a+6)
	}
	steps := map[uint16]bool{}
	last := a + 6
	for range 50 {
		clk.RunFor(100 * time.Millisecond)
		id := in.nextID(src, dst, IPProtoUDP, 1)
		step := id - last
		if step < 1 || step > 101 {
			t.Fatalf("step %d after 100 jiffies", step)
		}
		steps[step] = true
		last = id
	}
	if len(steps) < 10 {
		t.Fatalf("the idle steps are not random: %v", steps)
	}
	again, _ := idHost(t, "h", 1)
	other, _ := idHost(t, "h", 2)
	x, y, z := again.nextID(src, dst, IPProtoICMP, 1), in.nextID(src, dst, IPProtoICMP, 1), other.nextID(src, dst, IPProtoICMP, 1)
	in2, _ := idHost(t, "h", 1)
	if w := in2.nextID(src, dst, IPProtoICMP, 1); w != x || x == z {
		t.Fatalf("seeded IDs: %d %d (same seed), %d (another), %d", x, w, z, y)
	}
}

// TestIPIDChoice: ip_select_ident_segs. A connected socket's datagram
// carries the socket's own counter, DF or not; another DF datagram ID 0;
// any other an ID from the per-destination counters.
func TestIPIDChoice(t *testing.T) {
	in, _ := idHost(t, "h", 1)
	var got []uint16
	if err := in.host.Netfilter().Register(&stack.NFHookOps{Name: "ids", Hook: stack.NFLocalOut, Fn: func(skb *stack.SKB, st *stack.NFState) stack.Verdict {
		got = append(got, header.IPv4(skb.Data()).ID())
		return stack.NFDrop
	}}); err != nil {
		t.Fatal(err)
	}
	fl := fib.FlowKey{Dst: [4]byte{127, 0, 0, 1}}
	rt, err := in.RouteOutput(&fl)
	if err != nil {
		t.Fatal(err)
	}
	h := IPHeader{Src: fl.Src, Dst: fl.Dst, Proto: IPProtoUDP, TTL: 64}
	for _, v := range []IPHeader{
		{DF: true, Connected: true, ID: 0x4242},
		{Connected: true, ID: 0x4343},
		{DF: true},
		{},
	} {
		v.Src, v.Dst, v.Proto, v.TTL = h.Src, h.Dst, h.Proto, h.TTL
		if err := in.SendDatagram(rt, v, []byte{1, 2, 3, 4, 5, 6, 7, 8}, nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 4 || got[0] != 0x4242 || got[1] != 0x4343 || got[2] != 0 || got[3] == 0 {
		t.Fatalf("IDs %#x", got)
	}
}
