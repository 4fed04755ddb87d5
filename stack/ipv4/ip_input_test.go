package ipv4_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4"
)

// ipPacket is an IPv4 packet: a header of ihl words (options NOOP), total
// length tot, data bytes in all, a valid checksum.
func ipPacket(ihl, tot, data int) []byte {
	p := make([]byte, max(data, 20))
	p[0] = 0x40 | byte(ihl)
	binary.BigEndian.PutUint16(p[2:], uint16(tot))
	p[8], p[9] = 64, 17
	copy(p[12:], []byte{198, 18, 0, 1, 198, 18, 0, 2})
	for i := 20; i < ihl*4 && i < len(p); i++ {
		p[i] = ipv4.IPOptNoop
	}
	if ihl*4 <= len(p) && ihl >= 5 {
		binary.BigEndian.PutUint16(p[10:], header.Checksum(p[:ihl*4]))
	}
	return p[:data]
}

// TestIPRcvCore: each check of ip_rcv_core in its order, with the
// counters Linux moves.
func TestIPRcvCore(t *testing.T) {
	bad := func(p []byte, f func([]byte)) []byte { f(p); return p }
	for _, tc := range []struct {
		name     string
		pkt      []byte
		pktType  uint8
		hw       bool
		err      error
		hdr, tot int
		counts   string // InReceives InHdrErrors InCsumErrors InTruncatedPkts
	}{
		{"good", ipPacket(5, 28, 28), stack.PacketHost, false, nil, 20, 28, "1 0 0 0"},
		{"padded frame", ipPacket(5, 28, 46), stack.PacketBroadcast, false, nil, 20, 28, "1 0 0 0"},
		{"options", ipPacket(7, 40, 40), stack.PacketHost, false, nil, 28, 40, "1 0 0 0"},
		{"another host's", ipPacket(5, 28, 28), stack.PacketOtherHost, false, ipv4.ErrIPOtherHost, 0, 0, "0 0 0 0"},
		{"shorter than 20", ipPacket(5, 28, 28)[:19], stack.PacketHost, false, ipv4.ErrIPHeader, 0, 0, "1 1 0 0"},
		{"version 6", bad(ipPacket(5, 28, 28), func(p []byte) { p[0] = 0x65 }), stack.PacketHost, false, ipv4.ErrIPHeader, 0, 0, "1 1 0 0"},
		{"IHL 4", bad(ipPacket(5, 28, 28), func(p []byte) { p[0] = 0x44 }), stack.PacketHost, false, ipv4.ErrIPHeader, 0, 0, "1 1 0 0"},
		{"IHL past the data", ipPacket(15, 40, 40), stack.PacketHost, false, ipv4.ErrIPHeader, 0, 0, "1 1 0 0"},
		{"bad checksum", bad(ipPacket(5, 28, 28), func(p []byte) { p[10] ^= 1 }), stack.PacketHost, false, ipv4.ErrIPChecksum, 0, 0, "1 1 1 0"},
		{"bad checksum the NIC verified", bad(ipPacket(5, 28, 28), func(p []byte) { p[10] ^= 1 }), stack.PacketHost, true, nil, 20, 28, "1 0 0 0"},
		{"truncated", ipPacket(5, 60, 40), stack.PacketHost, false, ipv4.ErrIPTruncated, 0, 0, "1 0 0 1"},
		{"total under the header", ipPacket(6, 20, 28), stack.PacketHost, false, ipv4.ErrIPHeader, 0, 0, "1 1 0 0"},
	} {
		var s ipv4.IPStats
		hdr, tot, err := s.RcvCore(tc.pkt, tc.pktType, tc.hw)
		if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) || hdr != tc.hdr || tot != tc.tot {
			t.Errorf("%s: %d, %d, %v; want %d, %d, %v", tc.name, hdr, tot, err, tc.hdr, tc.tot, tc.err)
		}
		st := s.Snapshot()
		if got := fmt.Sprint(st.InReceives, st.InHdrErrors, st.InCsumErrors, st.InTruncatedPkts); got != tc.counts {
			t.Errorf("%s: counters %s, want %s", tc.name, got, tc.counts)
		}
	}
}

func FuzzIPRcvCore(f *testing.F) {
	f.Add(ipPacket(5, 28, 46), false)
	f.Add(ipPacket(7, 40, 40), true)
	f.Fuzz(func(t *testing.T, pkt []byte, hw bool) {
		var s ipv4.IPStats
		hdr, tot, err := s.RcvCore(pkt, stack.PacketHost, hw)
		st := s.Snapshot()
		if st.InReceives != 1 {
			t.Fatalf("InReceives %d", st.InReceives)
		}
		if err != nil {
			if st.InHdrErrors+st.InTruncatedPkts != 1 {
				t.Fatalf("%v counted %+v", err, st)
			}
			return
		}
		if hdr < 20 || hdr > 60 || tot < hdr || tot > len(pkt) || (!hw && header.Checksum(pkt[:hdr]) != 0) {
			t.Fatalf("accepted header %d, total %d of %d bytes", hdr, tot, len(pkt))
		}
	})
}
