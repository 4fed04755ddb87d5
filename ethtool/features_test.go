package ethtool

import (
	"strings"
	"testing"
)

func TestFeatureNames(t *testing.T) {
	tests := []struct {
		f    Features
		name string
	}{
		{SG, "tx-scatter-gather"}, {TSO, "tx-tcp-segmentation"}, {GRO, "rx-gro"},
		{LRO, "rx-lro"}, {RxHash, "rx-hashing"}, {Loopback, "loopback"},
		{GROHW, "rx-gro-hw"}, {SG | TSO, ""}, {0, ""},
	}
	for _, tc := range tests {
		if got := tc.f.Name(); got != tc.name {
			t.Errorf("%#x.Name() = %q, want %q", uint64(tc.f), got, tc.name)
		}
		if tc.name != "" {
			if f, ok := FeatureByName(tc.name); !ok || f != tc.f {
				t.Errorf("FeatureByName(%q) = %v", tc.name, f)
			}
		}
	}
	if got := (SG | RxCsum).String(); got != "tx-scatter-gather,rx-checksum" {
		t.Errorf("String = %q", got)
	}
}

func TestFixRules(t *testing.T) {
	all := SG | IPCsum | RxCsum | TSO | GSO | GRO | LRO | RxHash
	tests := []struct {
		name     string
		in, want Features
	}{
		{"nothing to fix", all, all},
		{"1 hw csum drops ip csum", HWCsum | IPCsum | IPv6Csum, HWCsum},
		{"2 no sg: no tso", IPCsum | TSO | TSO6 | TSOECN, IPCsum},
		{"3 no ipv4 csum: no tso", SG | TSO | TSOECN | TSO6 | IPv6Csum, SG | TSO6 | IPv6Csum},
		{"4 no ipv6 csum: no tso6", SG | IPCsum | TSO6 | TSO, SG | IPCsum | TSO},
		{"5 mangleid without tso", SG | IPv6Csum | TSO6 | TSOMangleID, SG | IPv6Csum | TSO6},
		{"6 ecn alone", SG | HWCsum | TSOECN, SG | HWCsum},
		{"7 gso without sg", GSO | GRO, GRO},
		{"9 gro-hw without rx csum", GROHW | GRO, GRO},
		{"10 rx-fcs drops lro and gro-hw", RxFCS | LRO | GROHW | RxCsum, RxFCS | RxCsum},
		{"11 gro-hw wins over lro", GROHW | RxCsum | LRO, GROHW | RxCsum},
		{"14 uso needs both csums", SG | IPCsum | GSOUDPL4, SG | IPCsum},
		{"14 uso with hw csum", SG | HWCsum | GSOUDPL4, SG | HWCsum | GSOUDPL4},
		{"tx off drops tso, keeps sg", SG | TSO | GSO, SG | GSO},
	}
	for _, tc := range tests {
		if got := Fix(tc.in); got != tc.want {
			t.Errorf("%s: Fix(%s) = %s, want %s", tc.name, tc.in, got, tc.want)
		}
		if Fix(Fix(tc.in)) != Fix(tc.in) {
			t.Errorf("%s: Fix is not idempotent", tc.name)
		}
	}
}

// TestFeatureArgNames: -K's short names, long names and kernel names
// resolve to the modelled bits they stand for; ufo names none; an unknown
// name is an error.
func TestFeatureArgNames(t *testing.T) {
	tests := []struct {
		name string
		want Features
		ok   bool
	}{
		{"tso", TSO | TSOECN | TSOMangleID | TSO6, true}, {"tx", IPCsum | HWCsum | IPv6Csum, true},
		{"gro", GRO, true}, {"rx-gro", GRO, true}, {"tx-tcp-segmentation", TSO, true},
		{"generic-receive-offload", GRO, true}, {"ufo", 0, true}, {"bogus", 0, false},
	}
	for _, tc := range tests {
		req, err := ParseFeatureArgs([]string{tc.name, "on"}, KernelFeatureNames[:])
		got, _ := FromKernelBitmap(req.Mask)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("%s on: %s, %v", tc.name, got, err)
		}
	}
}

// FuzzParseFeatureArgs: any argument list resolves or fails cleanly, and a
// resolved request names only string-set features.
func FuzzParseFeatureArgs(f *testing.F) {
	f.Add("tx off sg on")
	f.Add("tso on -- gro off")
	f.Add("rx-checksumming off tx-checksum-ip-generic on")
	f.Add("bogus on")
	names := KernelFeatureNames[:]
	f.Fuzz(func(t *testing.T, line string) {
		req, err := ParseFeatureArgs(strings.Fields(line), names)
		if err != nil {
			return
		}
		for i := len(names); i < 128; i++ {
			if req.Mask.Has(i) || req.Value.Has(i) {
				t.Fatalf("bit %d outside the string set", i)
			}
		}
		if req.Value[0]&^req.Mask[0] != 0 || req.Value[1]&^req.Mask[1] != 0 {
			t.Fatal("a value without its mask bit")
		}
	})
}
