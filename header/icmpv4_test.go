package header

import "testing"

func TestICMPv4Fields(t *testing.T) {
	gw := [4]byte{198, 18, 0, 254}
	checkFields(t, 36, []field{
		{"type", 0, []byte{3}, func(b []byte) { ICMPv4(b).SetType(ICMPv4DstUnreachable) }, func(b []byte) any { return ICMPv4(b).Type() }, uint8(3)},
		{"code", 1, []byte{4}, func(b []byte) { ICMPv4(b).SetCode(ICMPv4FragNeeded) }, func(b []byte) any { return ICMPv4(b).Code() }, uint8(4)},
		{"checksum", 2, []byte{0xab, 0xcd}, func(b []byte) { ICMPv4(b).SetChecksum(0xabcd) }, func(b []byte) any { return ICMPv4(b).Checksum() }, uint16(0xabcd)},
		{"rest", 4, []byte{1, 2, 3, 4}, func(b []byte) { ICMPv4(b).SetRest(0x01020304) }, func(b []byte) any { return ICMPv4(b).Rest() }, uint32(0x01020304)},
		{"ident", 4, []byte{0x12, 0x34}, func(b []byte) { ICMPv4(b).SetIdent(0x1234) }, func(b []byte) any { return ICMPv4(b).Ident() }, uint16(0x1234)},
		{"seq", 6, []byte{0, 7}, func(b []byte) { ICMPv4(b).SetSeq(7) }, func(b []byte) any { return ICMPv4(b).Seq() }, uint16(7)},
		{"gateway", 4, gw[:], func(b []byte) { ICMPv4(b).SetGateway(gw) }, func(b []byte) any { return ICMPv4(b).Gateway() }, gw},
		{"pointer", 4, []byte{22}, func(b []byte) { ICMPv4(b).SetPointer(22) }, func(b []byte) any { return ICMPv4(b).Pointer() }, uint8(22)},
		{"mtu", 6, []byte{0x05, 0xd4}, func(b []byte) { ICMPv4(b).SetMTU(1492) }, func(b []byte) any { return ICMPv4(b).MTU() }, uint16(1492)},
	})
}

func TestICMPv4Valid(t *testing.T) {
	checkValid(t, func(b []byte) bool { return ICMPv4(b).IsValid() }, []validCase{
		{"empty", nil, false},
		{"7 bytes", make([]byte, 7), false},
		{"8 bytes", make([]byte, 8), true},
		{"error with quote", make([]byte, 36), true},
	})
}

func TestICMPv4EchoChecksum(t *testing.T) {
	// An echo request with identifier 1, sequence 1 and "abcd": by hand,
	// ^(0x0800 + 0x0001 + 0x0001 + 0x6162 + 0x6364) = ^0xccc8 = 0x3337.
	m := ICMPv4(append(make([]byte, 8), "abcd"...))
	m.SetType(ICMPv4Echo)
	m.SetIdent(1)
	m.SetSeq(1)
	m.UpdateChecksum()
	if m.Checksum() != 0x3337 || !m.ChecksumValid() || string(m.Payload()) != "abcd" {
		t.Fatalf("checksum %#04x valid %v payload %q", m.Checksum(), m.ChecksumValid(), m.Payload())
	}
	m[9] ^= 1
	if m.ChecksumValid() {
		t.Fatal("a changed byte still verifies")
	}
}

func TestICMPv4IsError(t *testing.T) {
	errs := map[uint8]bool{3: true, 4: true, 5: true, 11: true, 12: true}
	m := ICMPv4(make([]byte, 8))
	for typ := 0; typ < 256; typ++ {
		m.SetType(uint8(typ))
		if m.IsError() != errs[uint8(typ)] {
			t.Errorf("type %d: IsError %v", typ, m.IsError())
		}
	}
}

func FuzzICMPv4(f *testing.F) {
	f.Add([]byte{3, 4, 0, 0, 0, 0, 0x05, 0xd4, 0x45, 0, 0, 28})
	f.Fuzz(func(t *testing.T, b []byte) {
		m := ICMPv4(b)
		if !m.IsValid() {
			return
		}
		_, _, _, _, _ = m.Type(), m.Code(), m.Checksum(), m.Rest(), m.Ident()
		_, _, _, _, _ = m.Seq(), m.Gateway(), m.Pointer(), m.MTU(), m.IsError()
		_ = m.ChecksumValid()
		if len(m.Payload()) != len(b)-ICMPv4HeaderLen {
			t.Fatalf("%d payload bytes of %d", len(m.Payload()), len(b))
		}
	})
}
