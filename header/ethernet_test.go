package header

import "testing"

func TestEthernetFields(t *testing.T) {
	a := [6]byte{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}
	checkFields(t, 64, []field{
		{"dst", 0, a[:], func(b []byte) { Ethernet(b).SetDst(a) }, func(b []byte) any { return Ethernet(b).Dst() }, a},
		{"src", 6, a[:], func(b []byte) { Ethernet(b).SetSrc(a) }, func(b []byte) any { return Ethernet(b).Src() }, a},
		{"type", 12, []byte{0x08, 0x06}, func(b []byte) { Ethernet(b).SetType(EtherTypeARP) }, func(b []byte) any { return Ethernet(b).Type() }, uint16(EtherTypeARP)},
	})
	checkFields(t, 4, []field{
		{"opcode", 0, []byte{0, 1}, func(b []byte) { MACControl(b).SetOpcode(MACControlPause) }, func(b []byte) any { return MACControl(b).Opcode() }, uint16(1)},
		{"quanta", 2, []byte{0xff, 0xfe}, func(b []byte) { MACControl(b).SetQuanta(0xfffe) }, func(b []byte) any { return MACControl(b).Quanta() }, uint16(0xfffe)},
	})
}

func TestEthernetValid(t *testing.T) {
	checkValid(t, func(b []byte) bool { return Ethernet(b).IsValid() }, []validCase{
		{"empty", nil, false},
		{"13 bytes", make([]byte, 13), false},
		{"14 bytes", make([]byte, 14), true},
		{"60 bytes", make([]byte, 60), true},
	})
	checkValid(t, func(b []byte) bool { return MACControl(b).IsValid() }, []validCase{
		{"3 bytes", make([]byte, 3), false},
		{"4 bytes", make([]byte, 4), true},
	})
}

func TestEthernetAddressKinds(t *testing.T) {
	for _, c := range []struct {
		dst              [6]byte
		broadcast, group bool
	}{
		{[6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, true, true},
		{[6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}, false, true},
		{[6]byte{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}, false, true},
		{[6]byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x01}, false, true},
		{[6]byte{0x02, 0, 0, 0, 0, 1}, false, false},
		{[6]byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff}, false, false},
	} {
		e := Ethernet(make([]byte, 14))
		e.SetDst(c.dst)
		if e.IsBroadcast() != c.broadcast || e.IsMulticast() != c.group {
			t.Errorf("%x: broadcast %v multicast %v, want %v %v", c.dst, e.IsBroadcast(), e.IsMulticast(), c.broadcast, c.group)
		}
	}
}

func TestEthernetInnerType(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		et   uint16
		off  int
	}{
		{"IPv4", pad([]byte{12: 0x08, 0x00}, 60), EtherTypeIPv4, 14},
		{"ARP", pad([]byte{12: 0x08, 0x06}, 60), EtherTypeARP, 14},
		{"tagged IPv4", pad([]byte{12: 0x81, 0x00, 0x20, 0x05, 0x08, 0x00}, 60), EtherTypeIPv4, 18},
		{"tagged IPv6", pad([]byte{12: 0x81, 0x00, 0x00, 0x01, 0x86, 0xdd}, 60), EtherTypeIPv6, 18},
		{"tag cut short", []byte{12: 0x81, 0x00, 0x00, 0x01, 0x08}, EtherTypeVLAN, 14},
		{"tag exactly", []byte{12: 0x81, 0x00, 0x00, 0x01, 0x08, 0x00}, EtherTypeIPv4, 18},
		{"header only", []byte{12: 0x88, 0x08}, EtherTypeMACControl, 14},
	} {
		et, off := Ethernet(c.b).InnerType()
		if et != c.et || off != c.off {
			t.Errorf("%s: InnerType = %#04x, %d; want %#04x, %d", c.name, et, off, c.et, c.off)
		}
	}
}

func FuzzEthernet(f *testing.F) {
	f.Add(pad([]byte{12: 0x81, 0x00, 0, 1, 0x08, 0x00}, 60))
	f.Add([]byte{12: 0x88, 0x08, 0, 1, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		e := Ethernet(b)
		if !e.IsValid() {
			return
		}
		_, _, _ = e.Dst(), e.Src(), e.Type()
		_, _ = e.IsBroadcast(), e.IsMulticast()
		et, off := e.InnerType()
		if off > len(b) || (off != EthernetHeaderLen && (off != EthernetHeaderLen+VLANTagLen || e.Type() != EtherTypeVLAN)) {
			t.Fatalf("InnerType offset %d for a %d-byte frame of type %#04x", off, len(b), e.Type())
		}
		if off == EthernetHeaderLen && et != e.Type() {
			t.Fatalf("untagged InnerType %#04x, Type %#04x", et, e.Type())
		}
		if mc := MACControl(e.Payload()); mc.IsValid() {
			_, _ = mc.Opcode(), mc.Quanta()
		}
	})
}
