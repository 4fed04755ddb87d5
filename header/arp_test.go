package header

import "testing"

// arpRequest is who-has 198.18.0.2 tell 198.18.0.1 from 02:00:00:00:00:01.
var arpRequest = []byte{
	0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
	0x02, 0, 0, 0, 0, 0x01, 198, 18, 0, 1,
	0, 0, 0, 0, 0, 0, 198, 18, 0, 2,
}

func TestARPFields(t *testing.T) {
	mac := [6]byte{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee}
	ip := [4]byte{198, 19, 0, 7}
	checkFields(t, 46, []field{
		{"op", 6, []byte{0, 2}, func(b []byte) { ARP(b).SetOp(ARPReply) }, func(b []byte) any { return ARP(b).Op() }, uint16(ARPReply)},
		{"sha", 8, mac[:], func(b []byte) { ARP(b).SetSHA(mac) }, func(b []byte) any { return ARP(b).SHA() }, mac},
		{"spa", 14, ip[:], func(b []byte) { ARP(b).SetSPA(ip) }, func(b []byte) any { return ARP(b).SPA() }, ip},
		{"tha", 18, mac[:], func(b []byte) { ARP(b).SetTHA(mac) }, func(b []byte) any { return ARP(b).THA() }, mac},
		{"tpa", 24, ip[:], func(b []byte) { ARP(b).SetTPA(ip) }, func(b []byte) any { return ARP(b).TPA() }, ip},
		{"fixed", 0, []byte{0, 1, 8, 0, 6, 4}, func(b []byte) { ARP(b).SetEthernetIPv4() },
			func(b []byte) any {
				a := ARP(b)
				return [4]int{int(a.HardwareType()), int(a.ProtocolType()), int(a.HardwareLen()), int(a.ProtocolLen())}
			}, [4]int{1, 0x0800, 6, 4}},
	})
}

func TestARPParse(t *testing.T) {
	a := ARP(arpRequest)
	if !a.IsValid() || a.Op() != ARPRequest || a.SHA() != [6]byte{2, 0, 0, 0, 0, 1} ||
		a.SPA() != [4]byte{198, 18, 0, 1} || a.THA() != [6]byte{} || a.TPA() != [4]byte{198, 18, 0, 2} {
		t.Fatalf("request parsed as op %d %x %v %x %v", a.Op(), a.SHA(), a.SPA(), a.THA(), a.TPA())
	}
}

func TestARPValid(t *testing.T) {
	with := func(i int, v byte) []byte {
		b := append([]byte(nil), arpRequest...)
		b[i] = v
		return b
	}
	checkValid(t, func(b []byte) bool { return ARP(b).IsValid() }, []validCase{
		{"request", arpRequest, true},
		{"padded to 46", pad(arpRequest, 46), true},
		{"27 bytes", arpRequest[:27], false},
		{"empty", nil, false},
		{"htype 6", with(1, 6), false},
		{"ptype IPv6", with(2, 0x86), false},
		{"hlen 8", with(4, 8), false},
		{"plen 16", with(5, 16), false},
		{"op 9 (not checked)", with(7, 9), true},
	})
}

func FuzzARP(f *testing.F) {
	f.Add(arpRequest)
	f.Add(arpRequest[:20])
	f.Fuzz(func(t *testing.T, b []byte) {
		a := ARP(b)
		if !a.IsValid() {
			return
		}
		if a.HardwareType() != ARPHardwareEthernet || a.ProtocolType() != EtherTypeIPv4 || a.HardwareLen() != 6 || a.ProtocolLen() != 4 {
			t.Fatal("IsValid passed a message that is not Ethernet/IPv4")
		}
		_, _, _, _, _ = a.Op(), a.SHA(), a.SPA(), a.THA(), a.TPA()
	})
}
