package stack_test

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"vnic/ethtool"
	"vnic/header"
	"vnic/internal/stacktest"
	"vnic/stack"
	"vnic/stack/inet"
	"vnic/stack/ipv4"
	"vnic/test/pkt"
)

// groRig runs frames through one NAPI poll of a device with GRO on and
// collects what the protocol handler receives.
type groRig struct {
	t      *testing.T
	h      *stack.Host
	dev    *stack.NetDevice
	napi   *stack.NAPI
	got    []*stack.SKB
	pollFn func(frames ...[]byte)
}

func newGRORig(t *testing.T) *groRig {
	clk, h := stacktest.NewHost(t, 1)
	r := &groRig{t: t, h: h}
	r.dev, _ = stacktest.NewDevFeatures(t, h, stack.MAC(pkt.MACB), ethtool.SG, ethtool.SG)
	r.dev.Open()
	r.dev.CarrierOn()
	h.AddProtocol(stack.EthPIPv4, func(s *stack.SKB) { r.got = append(r.got, s) })
	var pending [][][]byte
	r.napi = h.NewNAPI(r.dev, 0, func(n *stack.NAPI, budget int) int {
		if len(pending) == 0 {
			n.CompleteDone(0)
			return 0
		}
		frames := pending[0]
		pending = pending[1:]
		for _, f := range frames {
			s := h.Pool().Alloc(len(f) + stack.NetIPAlign)
			s.Reserve(stack.NetIPAlign)
			copy(s.Put(len(f)), f)
			s.Protocol = stack.EthTypeTrans(s, r.dev)
			n.Receive(s)
		}
		n.CompleteDone(len(frames))
		return len(frames)
	}, 64)
	r.napi.Enable()
	poll := func(frames ...[]byte) {
		pending = append(pending, frames)
		r.napi.Schedule()
		clk.RunFor(time.Millisecond)
	}
	r.pollFn = poll
	return r
}

func (r *groRig) poll(frames ...[]byte) { r.pollFn(frames...) }

func flowFrame(sport uint16, k, mss int, flags uint8) []byte {
	return pkt.TCP(pkt.TCPSpec{DstMAC: pkt.MACB, SrcMAC: pkt.MACA, Src: pkt.IPA, Dst: pkt.IPB, SPort: sport, DPort: 80,
		Seq: uint32(1000 + k*mss), Ack: 1, Flags: header.TCPAck | flags, ID: uint16(k), DF: true,
		Payload: pkt.Payload(mss, uint32(k*mss))})
}

func TestGROInterleavedFlows(t *testing.T) {
	r := newGRORig(t)
	const mss = 1000
	var frames [][]byte
	for k := 0; k < 4; k++ {
		frames = append(frames, flowFrame(1, k, mss, 0), flowFrame(2, k, mss, 0))
	}
	r.poll(frames...)
	if len(r.got) != 2 {
		t.Fatalf("%d packets up, want one per flow", len(r.got))
	}
	for _, s := range r.got {
		if s.GSOSegs != 4 || s.GSOSize != mss || s.Len() != 40+4*mss || s.IPSummed != stack.ChecksumUnnecessary {
			t.Fatalf("merged skb: segs %d size %d len %d", s.GSOSegs, s.GSOSize, s.Len())
		}
		if !header.IPv4(s.Data()).ChecksumValid() {
			t.Fatal("IPv4 header checksum not fixed after merging")
		}
	}
	if st := r.h.OffloadStats(); st.GROMerged != 6 || st.GROFlushed != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestGROFlushAtPollEnd(t *testing.T) {
	r := newGRORig(t)
	r.poll(flowFrame(1, 0, 1000, 0), flowFrame(1, 1, 1000, 0))
	if len(r.got) != 1 {
		t.Fatalf("%d packets after the poll: GRO held something across it", len(r.got))
	}
	r.poll(flowFrame(1, 2, 1000, 0))
	if len(r.got) != 2 || r.got[1].GSOSegs > 1 {
		t.Fatal("a new poll starts a new train")
	}
}

func TestGROOffPassesEachFrame(t *testing.T) {
	r := newGRORig(t)
	r.dev.SetWantedFeatures(ethtool.GRO, 0)
	r.poll(flowFrame(1, 0, 1000, 0), flowFrame(1, 1, 1000, 0), flowFrame(1, 2, 1000, 0))
	if len(r.got) != 3 {
		t.Fatalf("gro off: %d packets, want 3", len(r.got))
	}
}

// TestGROResegmentRestoresWire: a merged skb segmented again by software
// GSO gives back the original wire packets, byte for byte.
func TestGROResegmentRestoresWire(t *testing.T) {
	r := newGRORig(t)
	const mss = 1200
	var orig [][]byte
	for k := 0; k < 5; k++ {
		flags := uint8(0)
		if k == 4 {
			flags = header.TCPPsh
		}
		orig = append(orig, flowFrame(7, k, mss, flags))
	}
	r.poll(orig...)
	if len(r.got) != 1 || r.got[0].GSOSegs != 5 {
		t.Fatalf("%d packets", len(r.got))
	}
	merged := r.got[0]
	// Forward it out of a device without TSO or checksum offload.
	out, ops := stacktest.NewDevFeatures(t, r.h, stack.MAC(pkt.MACB), ethtool.SG, ethtool.SG)
	out.Open()
	out.CarrierOn()
	merged.Push(stack.EthHdrLen)
	merged.Dev = out
	merged.IPSummed = stack.ChecksumNone
	if err := stack.DevQueueXmit(merged); err != nil {
		t.Fatal(err)
	}
	if len(ops.Sent) != len(orig) {
		t.Fatalf("%d segments, want %d", len(ops.Sent), len(orig))
	}
	for i, s := range ops.Sent {
		if !bytes.Equal(s.Data(), orig[i]) {
			t.Fatalf("segment %d differs from the original wire packet", i)
		}
	}
	ops.Free()
}

func TestChecksumOKStates(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	d, _ := stacktest.NewDevFeatures(t, h, stack.MAC(pkt.MACB), ethtool.SG, ethtool.SG)
	good := flowFrame(1, 0, 300, 0)
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 0xff
	mk := func(f []byte, state uint8, csum uint32) *stack.SKB {
		s := h.Pool().Alloc(len(f))
		copy(s.Put(len(f)), f)
		s.Protocol = stack.EthTypeTrans(s, d)
		s.IPSummed, s.Csum = state, csum
		return s
	}
	full := uint32(header.Fold(header.Sum(good[34:], 0)))
	fullBad := uint32(header.Fold(header.Sum(bad[34:], 0)))
	tests := []struct {
		name  string
		f     []byte
		state uint8
		csum  uint32
		ok    bool
	}{
		{"none, good", good, stack.ChecksumNone, 0, true},
		{"none, bad", bad, stack.ChecksumNone, 0, false},
		{"unnecessary trusts the device", bad, stack.ChecksumUnnecessary, 0, true},
		{"complete, right sum", good, stack.ChecksumComplete, full, true},
		{"complete, wrong sum, good packet", good, stack.ChecksumComplete, full ^ 1, true},
		{"complete, bad packet", bad, stack.ChecksumComplete, fullBad, false},
	}
	for _, tc := range tests {
		s := mk(tc.f, tc.state, tc.csum)
		if got := stack.ChecksumOK(s); got != tc.ok {
			t.Errorf("%s: %v", tc.name, got)
		}
		s.Consume()
	}
}

// FWD-01/V-14: a GRO aggregate is forwarded as one packet and leaves a
// device without TSO as its original segments, each with TTL−1 and the
// next hop's MAC.
func TestForwardGROResegments(t *testing.T) {
	r := newGRORig(t)
	const mss = 1200
	var orig [][]byte
	for k := 0; k < 5; k++ {
		orig = append(orig, flowFrame(7, k, mss, 0))
	}
	r.poll(orig...)
	if len(r.got) != 1 || r.got[0].GSOSegs != 5 {
		t.Fatalf("%d packets", len(r.got))
	}
	merged := r.got[0]
	in, err := inet.Init(r.h, ipv4.InetConfig{Seed: 1, Forwarding: true})
	if err != nil {
		t.Fatal(err)
	}
	out, ops := stacktest.NewDevFeatures(t, r.h, stack.MAC(pkt.MACB), ethtool.SG, ethtool.SG)
	out.SetAddrInit(stack.MAC{2, 0, 0, 0, 0, 0x77})
	out.Open()
	out.CarrierOn()
	if err := in.AddAddr(r.dev, netip.MustParsePrefix("198.18.0.254/24")); err != nil {
		t.Fatal(err)
	}
	if err := in.AddAddr(out, netip.MustParsePrefix("198.19.0.254/24")); err != nil {
		t.Fatal(err)
	}
	if err := in.SetForwarding(true); err != nil {
		t.Fatal(err)
	}
	next := stack.MAC{2, 0, 0, 0, 0, 0x99}
	in.NeighAdd(out, netip.MustParseAddr("198.19.0.1"), next)
	ops.Free() // the gratuitous ARP
	stack.NetifReceiveSKB(merged)
	if len(ops.Sent) != len(orig) {
		t.Fatalf("%d frames out, want %d", len(ops.Sent), len(orig))
	}
	for i, s := range ops.Sent {
		want := append([]byte(nil), orig[i]...)
		copy(want[0:6], next[:])
		mac := out.Addr()
		copy(want[6:12], mac[:])
		ip := header.IPv4(want[14:])
		want[14+8]--
		ip.UpdateChecksum()
		if !bytes.Equal(s.Data(), want) {
			t.Fatalf("segment %d:\n got %x\nwant %x", i, s.Data()[:54], want[:54])
		}
	}
	ops.Free()
	if st := in.Stats.Snapshot(); st.ForwDatagrams != 1 {
		t.Fatalf("ForwDatagrams %d", st.ForwDatagrams)
	}
}
