package ethtool

import "testing"

func TestFeatureNames(t *testing.T) {
	tests := []struct {
		f    Features
		name string
	}{
		{SG, "tx-scatter-gather"}, {TSO, "tx-tcp-segmentation"}, {GRO, "rx-gro"},
		{LRO, "large-receive-offload"}, {RxHash, "receive-hashing"}, {Loopback, "loopback"},
		{SG | TSO, ""}, {0, ""},
	}
	for _, tc := range tests {
		if got := tc.f.Name(); got != tc.name {
			t.Errorf("%#x.Name() = %q, want %q", uint64(tc.f), got, tc.name)
		}
	}
	if got := (SG | RxCsum).String(); got != "tx-scatter-gather,rx-checksum" {
		t.Errorf("String = %q", got)
	}
	if !(SG | TSO).Has(TSO) || SG.Has(SG|TSO) {
		t.Error("Has")
	}
}
