package ethtool

import "testing"

func TestKernelNamesCount(t *testing.T) {
	if len(KernelFeatureNames) != 64 {
		t.Fatal(len(KernelFeatureNames))
	}
	for i, w := range map[int]string{0: "tx-scatter-gather", 5: "highdma", 16: "tx-tcp-segmentation", 33: "tx-udp-segmentation", 35: "tx-tcp-accecn-segmentation", 40: "rx-checksum", 55: "rx-gro-hw", 63: "hsr-dup-offload"} {
		if KernelFeatureNames[i] != w {
			t.Errorf("%d: %s want %s", i, KernelFeatureNames[i], w)
		}
	}
}
