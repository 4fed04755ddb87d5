package hw

import (
	"testing"
	"time"
)

func TestNegotiate(t *testing.T) {
	an := PHYConfig{Autoneg: true, Mbps: 1000, Full: true}
	f := func(mbps int, full bool) PHYConfig { return PHYConfig{Mbps: mbps, Full: full} }
	tests := []struct {
		name     string
		native   int
		a, b     PHYConfig
		ok       bool
		mbps     int
		fullWant bool
	}{
		{"both autoneg: the medium's rate", 10000, an, an, true, 10000, true},
		{"one forced: parallel detection", 10000, an, f(100, true), true, 100, true},
		{"forced on both, equal", 10000, f(1000, true), f(1000, true), true, 1000, true},
		{"forced on both, one half duplex", 10000, f(100, true), f(100, false), true, 100, false},
		{"forced unequal: no link", 10000, f(1000, true), f(100, true), false, 0, false},
		{"forced above the medium: no link", 100, f(1000, true), an, false, 0, false},
		{"one advertises up to 1000", 10000, an, PHYConfig{Autoneg: true, AdvMbps: 1000}, true, 1000, true},
		{"advertising 100 and 1000", 10000, PHYConfig{Autoneg: true, AdvMbps: 100}, PHYConfig{Autoneg: true, AdvMbps: 1000}, true, 100, true},
		{"nothing advertised", 10000, PHYConfig{Autoneg: true, AdvMbps: -1}, an, false, 0, false},
		{"one end powered down", 10000, an, PHYConfig{Autoneg: true, PowerDown: true}, false, 0, false},
	}
	for _, tc := range tests {
		ok, mbps, full := Negotiate(tc.native, tc.a, tc.b)
		if ok != tc.ok || mbps != tc.mbps || full != tc.fullWant {
			t.Errorf("%s: %v %d %v", tc.name, ok, mbps, full)
		}
	}
}

// mdioWrite writes a PHY register through MDIC.
func (r *rig) mdioWrite(reg int, v uint16) {
	r.wr(MDIC, uint32(v)|uint32(reg)<<MdicRegShift|phyAddr<<MdicPhyShift|MdicOpWrite)
}

// TestCableFollowsForcedSpeed: forcing 100 Mb/s on one end drops the link
// for LinkSetupTime, then both ends come up at 100 Mb/s and the cable
// serialises at that rate; forcing 1000 on the other end leaves no link.
func TestCableFollowsForcedSpeed(t *testing.T) {
	clk, c, a, b := cablePair(t)
	if a.rd(VLSPD) != 10000 || a.rd(STATUS)&StatusLU == 0 || c.Rate() != 10000 {
		t.Fatalf("autoneg: VLSPD %d STATUS %#x rate %d", a.rd(VLSPD), a.rd(STATUS), c.Rate())
	}
	a.mdioWrite(PhyBMCR, BmcrSpeed100|BmcrFD)
	clk.RunFor(time.Nanosecond) // the other end notices
	if a.rd(STATUS)&StatusLU != 0 || b.rd(STATUS)&StatusLU != 0 {
		t.Fatal("link stayed up while renegotiating")
	}
	clk.RunFor(LinkSetupTime - time.Nanosecond)
	for _, r := range []*rig{a, b} {
		st := r.rd(STATUS)
		if st&StatusLU == 0 || st&(3<<6) != StatusSpeed100 || st&StatusFD == 0 || r.rd(VLSPD) != 100 {
			t.Fatalf("%s: STATUS %#x VLSPD %d", r.dev.Name(), st, r.rd(VLSPD))
		}
	}
	if got := c.SerializationTime(60); got != 6720*time.Nanosecond {
		t.Fatalf("60-byte frame at 100 Mb/s takes %v", got)
	}
	b.mdioWrite(PhyBMCR, BmcrSpeed1G|BmcrFD)
	clk.RunFor(LinkSetupTime)
	if a.rd(STATUS)&StatusLU != 0 || b.rd(STATUS)&StatusLU != 0 || a.rd(VLSPD) != 0 {
		t.Fatal("forced 100 against forced 1000 must leave no link")
	}
	// Autonegotiation back on at both ends: the medium's rate again.
	for _, r := range []*rig{a, b} {
		r.mdioWrite(PhyBMCR, BmcrANEnable|BmcrRestart|BmcrFD|BmcrSpeed1G)
	}
	clk.RunFor(LinkSetupTime)
	if a.rd(VLSPD) != 10000 || c.Rate() != 10000 {
		t.Fatalf("back to autoneg: %d", a.rd(VLSPD))
	}
}

// TestPHYPowerDown: powering one end's PHY down (BMCR.PDOWN) takes the
// link of both ends down at once, with LSC at each; powering it up brings
// both back at once, as plugging the cable does; loopback needs power.
func TestPHYPowerDown(t *testing.T) {
	clk, c, a, b := cablePair(t)
	for _, r := range []*rig{a, b} {
		r.rd(ICR) // clear what plugging raised
	}
	up := func(want bool) {
		t.Helper()
		for _, r := range []*rig{a, b} {
			if got := r.rd(STATUS)&StatusLU != 0; got != want {
				t.Fatalf("%s: link %v, want %v", r.dev.Name(), got, want)
			}
			if r.rd(ICR)&IcrLSC == 0 {
				t.Fatalf("%s: no LSC", r.dev.Name())
			}
		}
	}
	a.mdioWrite(PhyBMCR, BmcrANEnable|BmcrFD|BmcrSpeed1G|BmcrPowerDown)
	clk.RunFor(0)
	up(false)
	a.mdioWrite(PhyBMCR, BmcrANEnable|BmcrFD|BmcrSpeed1G|BmcrPowerDown|BmcrLoopback)
	if a.rd(STATUS)&StatusLU != 0 {
		t.Fatal("loopback on a PHY powered down has link")
	}
	a.mdioWrite(PhyBMCR, BmcrANEnable|BmcrFD|BmcrSpeed1G)
	clk.RunFor(0)
	up(true)
	if c.Rate() != 10000 {
		t.Fatalf("rate %d after power-up", c.Rate())
	}
}

// cablePair is two devices on a 10000 Mb/s cable, their links set up.
func cablePair(t *testing.T) (*VirtualClock, *Cable, *rig, *rig) {
	clk := NewVirtualClock()
	c := NewCable(clk, 10000)
	da, _ := NewDevice(DeviceConfig{Name: "a", MAC: rigMAC}, clk, NewDMA(1<<20))
	db, _ := NewDevice(DeviceConfig{Name: "b", MAC: rigMAC}, clk, NewDMA(1<<20))
	a := &rig{t: t, clk: clk, dev: da}
	b := &rig{t: t, clk: clk, dev: db}
	c.Plug(da, db)
	for _, r := range []*rig{a, b} {
		r.wr(CTRL, CtrlSLU|CtrlFD)
	}
	return clk, c, a, b
}
