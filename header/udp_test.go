package header

import "testing"

func TestUDPFields(t *testing.T) {
	checkFields(t, 8, []field{
		{"src port", 0, []byte{0x00, 0x35}, func(b []byte) { UDP(b).SetSrcPort(53) }, func(b []byte) any { return UDP(b).SrcPort() }, uint16(53)},
		{"dst port", 2, []byte{0xc0, 0x00}, func(b []byte) { UDP(b).SetDstPort(49152) }, func(b []byte) any { return UDP(b).DstPort() }, uint16(49152)},
		{"length", 4, []byte{0x05, 0xc8}, func(b []byte) { UDP(b).SetLength(1480) }, func(b []byte) any { return UDP(b).Length() }, uint16(1480)},
		{"checksum", 6, []byte{0xff, 0xff}, func(b []byte) { UDP(b).SetChecksum(0xffff) }, func(b []byte) any { return UDP(b).Checksum() }, uint16(0xffff)},
	})
}

func TestUDPValid(t *testing.T) {
	checkValid(t, func(b []byte) bool { return UDP(b).IsValid() }, []validCase{
		{"empty", nil, false},
		{"7 bytes", make([]byte, 7), false},
		{"8 bytes", make([]byte, 8), true},
		{"with data", make([]byte, 100), true},
	})
	if p := UDP([]byte{0, 1, 0, 2, 0, 11, 0, 0, 'a', 'b', 'c'}).Payload(); string(p) != "abc" {
		t.Fatalf("payload %q", p)
	}
}

func FuzzUDP(f *testing.F) {
	f.Add([]byte{0, 53, 0xc0, 0, 0, 9, 0, 0, 'x'})
	f.Fuzz(func(t *testing.T, b []byte) {
		u := UDP(b)
		if !u.IsValid() {
			return
		}
		_, _, _, _ = u.SrcPort(), u.DstPort(), u.Length(), u.Checksum()
		if len(u.Payload()) != len(b)-UDPHeaderLen {
			t.Fatalf("%d payload bytes of %d", len(u.Payload()), len(b))
		}
	})
}
