package conntrack

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// sipRef is SipHash-c-d of msg under (k0, k1), written from the paper
// byte by byte: the reference the table's hash is checked against.
func sipRef(c, d int, k0, k1 uint64, msg []byte) uint64 {
	v0 := k0 ^ 0x736f6d6570736575
	v1 := k1 ^ 0x646f72616e646f6d
	v2 := k0 ^ 0x6c7967656e657261
	v3 := k1 ^ 0x7465646279746573
	block := func(m uint64, rounds int) {
		v3 ^= m
		for range rounds {
			v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
		}
		v0 ^= m
	}
	n := len(msg)
	for len(msg) >= 8 {
		block(binary.LittleEndian.Uint64(msg), c)
		msg = msg[8:]
	}
	last := uint64(n) << 56
	for i, b := range msg {
		last |= uint64(b) << (8 * i)
	}
	block(last, c)
	v2 ^= 0xff
	for range d {
		v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	}
	return v0 ^ v1 ^ v2 ^ v3
}

// TestSipRef: the reference is SipHash-2-4 as the paper's appendix
// gives it (key 00…0f, the 15 bytes 00…0e).
func TestSipRef(t *testing.T) {
	msg := make([]byte, 15)
	for i := range msg {
		msg[i] = byte(i)
	}
	if got, want := sipRef(2, 4, 0x0706050403020100, 0x0f0e0d0c0b0a0908, msg), uint64(0xa129ca6149be45e5); got != want {
		t.Fatalf("SipHash-2-4 = %#x, want %#x", got, want)
	}
}

// TestHashRaw: the table's hash is SipHash-1-3 of the tuple's 13 bytes
// (addresses, ports in network order, protocol) under the host's key with
// the zone id folded in, for any tuple, key and zone.
func TestHashRaw(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		n := &Net{k0: r.Uint64(), k1: r.Uint64()}
		var tu Tuple
		binary.BigEndian.PutUint32(tu.Src[:], r.Uint32())
		binary.BigEndian.PutUint32(tu.Dst[:], r.Uint32())
		tu.SrcPort, tu.DstPort, tu.Proto = uint16(r.Uint32()), uint16(r.Uint32()), uint8(r.Uint32())
		zone := uint16(0)
		if i%2 == 1 {
			zone = uint16(r.Uint32())
		}
		msg := append(append(tu.Src[:], tu.Dst[:]...), byte(tu.SrcPort>>8), byte(tu.SrcPort), byte(tu.DstPort>>8), byte(tu.DstPort), tu.Proto)
		want := uint32(sipRef(1, 3, n.k0^uint64(zone), n.k1, msg))
		if got := n.hashRaw(&tu, zone); got != want {
			t.Fatalf("%+v zone %d: hash %#x, want %#x", tu, zone, got, want)
		}
	}
}
