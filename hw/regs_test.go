package hw

import (
	"testing"
)

func TestRegisterResetValues(t *testing.T) {
	r := newRig(t, false)
	tests := []struct {
		off  uint32
		want uint32
	}{
		{CTRL, 0x00000001}, {EECD, EecdPres | EecdAutoRd}, {TCTL, 0x000000F8}, {RLPML, 0x2600},
		{SRRCTL(0), 2}, {SRRCTL(15), 2}, {MDIC, MdicReady}, {EIMS, 0}, {RCTL, 0},
		{RAL(0), 0x00000002}, {RAH(0), 0x0100 | RahAV}, {RAL(1), 0}, {RAH(1), 0},
	}
	for _, tc := range tests {
		if got := r.rd(tc.off); got != tc.want {
			t.Errorf("reset %#x = %#x, want %#x", tc.off, got, tc.want)
		}
	}
}

func TestRegisterReadWrite(t *testing.T) {
	r := newRig(t, false)
	tests := []struct {
		name       string
		off, write uint32
		want       uint32
	}{
		{"RW all bits", CTRL_EXT, 0xDEADBEEF, 0xDEADBEEF},
		{"RW masked (RDBAL 128-byte aligned)", RDBAL(3), 0x12345678, 0x12345600},
		{"RW masked (RDLEN)", RDLEN(0), 0xFFFFFFFF, 0x000FFF80},
		{"RW masked (EITR interval)", EITR(2), 0xFFFFFFFF, 0x80007FFC},
		{"RW masked (IVAR)", IVAR(1), 0xFFFFFFFF, 0x9F9F9F9F},
		{"RO ignores writes (no link: no speed or duplex)", STATUS, 0xFFFFFFFF, StatusGIOME},
		{"RO EECD", EECD, 0, EecdPres | EecdAutoRd},
		{"RC stat ignores writes", GPRC, 55, 0},
		{"WO reads 0 (EICS)", EICS, 0, 0},
		{"IMS ORs in", IMS, IcrLSC, IcrLSC},
		{"MTA", MTA0 + 4*127, 0x80000001, 0x80000001},
		{"RETA", RETA0 + 4*31, 0x03020100, 0x03020100},
		{"RSSRK", RSSRK0 + 36, 0xCAFEF00D, 0xCAFEF00D},
	}
	for _, tc := range tests {
		r.wr(tc.off, tc.write)
		if got := r.rd(tc.off); got != tc.want {
			t.Errorf("%s: wrote %#x to %#x, read %#x, want %#x", tc.name, tc.write, tc.off, got, tc.want)
		}
	}
}

func TestUnknownRegisters(t *testing.T) {
	r := newRig(t, false)
	for _, off := range []uint32{0x0004, 0x0F00, 0x9000, 0xFFFC, 0x10000, 0x0002} {
		if got := r.rd(off); got != 0 {
			t.Errorf("unknown read %#x = %#x", off, got)
		}
	}
	if got := r.rd(VURC); got != 6 {
		t.Fatalf("VURC = %d, want 6", got)
	}
	before := r.dev.regs
	for _, off := range []uint32{0x0004, 0x9000, 0xFFFC, STATUS, GPRC, 0x20000} {
		r.wr(off, 0xFFFFFFFF)
	}
	if got := r.rd(VUWC); got != 6 {
		t.Fatalf("VUWC = %d, want 6", got)
	}
	if r.dev.regs != before {
		t.Fatal("an ignored write changed a register")
	}
}

func TestCtrlResetRestoresEverything(t *testing.T) {
	r := newRig(t, false)
	for _, reg := range regTable {
		for k := 0; k < reg.n; k++ {
			off := reg.off + uint32(k)*reg.stride
			if reg.kind == kRW {
				r.wr(off, 0xA5A5A5A5)
			}
		}
	}
	r.wr(RAL(0), 0x11111111)
	r.wr(CTRL, CtrlRST|CtrlSLU)
	if got := r.rd(CTRL); got&CtrlRST != 0 || got != 1 {
		t.Fatalf("CTRL after reset = %#x (RST must self-clear, SLU reset)", got)
	}
	for _, reg := range regTable {
		for k := 0; k < reg.n; k++ {
			off := reg.off + uint32(k)*reg.stride
			want := reg.reset
			switch off {
			case RAL(0):
				want = 0x00000002
			case RAH(0):
				want = 0x0100 | RahAV
			}
			if reg.kind != kRW {
				continue
			}
			if got := r.rd(off); got != want {
				t.Errorf("%s[%d] after RST = %#x, want %#x", reg.name, k, got, want)
			}
		}
	}
}

func TestStatisticsClearOnRead(t *testing.T) {
	r := newRig(t, false)
	r.rxRing(0, 64, 2048)
	bcast := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	for i := 0; i < 3; i++ {
		r.dev.Receive(frame(bcast, 100, [4]byte{198, 18, 0, 1}, 1))
	}
	tests := []struct {
		name  string
		off   uint32
		first uint32
	}{
		{"GPRC", GPRC, 3}, {"BPRC", BPRC, 3}, {"TPR", TPR, 3}, {"PRC127", PRC127, 3}, {"MPRC", MPRC, 0},
	}
	for _, tc := range tests {
		if got := r.rd(tc.off); got != tc.first {
			t.Errorf("%s first read %d, want %d", tc.name, got, tc.first)
		}
		if got := r.rd(tc.off); got != 0 {
			t.Errorf("%s second read %d, want 0", tc.name, got)
		}
	}
	// 64-bit pair: low does not clear, high clears both.
	if lo := r.rd(GORCL); lo != 3*104 {
		t.Fatalf("GORCL %d, want %d (FCS included)", lo, 3*104)
	}
	if lo := r.rd(GORCL); lo != 3*104 {
		t.Fatal("reading GORCL cleared it")
	}
	if hi := r.rd(GORCH); hi != 0 {
		t.Fatalf("GORCH %d", hi)
	}
	if lo := r.rd(GORCL); lo != 0 {
		t.Fatalf("GORCL after GORCH read = %d, want 0", lo)
	}
	// 64-bit counters carry into the high word; 32-bit ones saturate.
	r.dev.count(GORCL, 0x1_0000_0005)
	if lo, hi := r.rd(GORCL), r.rd(GORCH); lo != 5 || hi != 1 {
		t.Fatalf("GORC pair lo %#x hi %#x", lo, hi)
	}
	r.dev.count(MPC, 0x1_0000_0000)
	if got := r.rd(MPC); got != 0xFFFFFFFF {
		t.Fatalf("MPC saturates at %#x, got %#x", 0xFFFFFFFF, got)
	}
}

func TestEEPROMThroughEERD(t *testing.T) {
	r := newRig(t, false)
	var sum uint16
	for a := uint32(0); a < 64; a++ {
		r.wr(EERD, a<<EerdAddrShift|EerdStart)
		v := r.rd(EERD)
		if v&EerdDone == 0 || (v>>EerdAddrShift)&0x3FFF != a {
			t.Fatalf("EERD word %d: %#x", a, v)
		}
		w := uint16(v >> EerdDataShift)
		sum += w
		if a < 3 {
			want := uint16(rigMAC[2*a]) | uint16(rigMAC[2*a+1])<<8
			if w != want {
				t.Fatalf("MAC word %d = %#x, want %#x", a, w, want)
			}
		}
	}
	if sum != EEPROMChecksumSum {
		t.Fatalf("checksum sum %#x", sum)
	}
	r.wr(EERD, 0x100<<EerdAddrShift|EerdStart)
	if v := r.rd(EERD); v>>EerdDataShift != 0xFFFF {
		t.Fatalf("read past the NVM: %#x", v)
	}
}

func TestMDICPhy(t *testing.T) {
	r := newRig(t, false)
	read := func(phy, reg uint32) uint32 {
		r.wr(MDIC, phy<<MdicPhyShift|reg<<MdicRegShift|MdicOpRead)
		return r.rd(MDIC)
	}
	if v := read(1, PhyID1); v&MdicReady == 0 || v&0xFFFF != phyID1Value {
		t.Fatalf("PHY ID1 %#x", v)
	}
	if v := read(1, PhyBMSR); v&BmsrLink == 0 {
		t.Fatalf("BMSR %#x: link down with a port connected", v)
	}
	if v := read(2, PhyBMSR); v&MdicError == 0 || v&MdicReady == 0 {
		t.Fatalf("PHY 2: %#x, want ERROR|READY", v)
	}
	// PHY loopback: the link is up without a cable.
	r.dev.Connect(nil)
	r.wr(CTRL, CtrlSLU)
	if r.rd(STATUS)&StatusLU != 0 {
		t.Fatal("link up with no cable")
	}
	r.wr(MDIC, 1<<MdicPhyShift|PhyBMCR<<MdicRegShift|MdicOpWrite|BmcrLoopback|BmcrFD|BmcrSpeed1G)
	if r.rd(STATUS)&StatusLU == 0 {
		t.Fatal("PHY loopback must bring the link up")
	}
}

func TestMTAHashVectors(t *testing.T) {
	// hw-model.md §1.5: (register, bit) for MO = 0..3.
	tests := []struct {
		mac  string
		want [4][2]uint32
	}{
		{"01:00:5e:00:00:01", [4][2]uint32{{0, 16}, {1, 0}, {2, 0}, {8, 0}}},
		{"01:00:5e:00:00:fb", [4][2]uint32{{125, 16}, {123, 0}, {118, 0}, {88, 0}}},
		{"33:33:ff:12:34:56", [4][2]uint32{{43, 3}, {86, 6}, {44, 13}, {49, 20}}},
	}
	for _, tc := range tests {
		mac := mustMAC(tc.mac)
		for mo := uint32(0); mo < 4; mo++ {
			h := MTAHash(mac, mo)
			if got := [2]uint32{h >> 5, h & 31}; got != tc.want[mo] {
				t.Errorf("%s MO=%d: %v, want %v", tc.mac, mo, got, tc.want[mo])
			}
		}
	}
}
