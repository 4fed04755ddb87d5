package ethtool

import "strings"

// Features is a netdev feature bitset (the kernel's netdev_features_t).
// Bit numbers follow include/linux/netdev_features.h order for the features
// vnic models; a bit the device cannot change is reported [fixed] by ethtool.
type Features uint64

// Feature bits.
const (
	SG           Features = 1 << iota // scatter-gather: tx-scatter-gather
	IPCsum                            // tx-checksum-ipv4
	HWCsum                            // tx-checksum-ip-generic
	RxCsum                            // rx-checksum
	TSO                               // tx-tcp-segmentation
	TSOECN                            // tx-tcp-ecn-segmentation
	TSO6                              // tx-tcp6-segmentation
	GSO                               // tx-generic-segmentation
	GRO                               // rx-gro
	LRO                               // large-receive-offload
	RxHash                            // receive-hashing
	HighDMA                           // highdma
	HWVlanCTagRx                      // rx-vlan-hw-parse
	HWVlanCTagTx                      // tx-vlan-hw-insert
	NTuple                            // ntuple-filters
	RxAll                             // rx-all
	RxFCS                             // rx-fcs
	Loopback                          // loopback
)

var featureNames = [...]string{
	"tx-scatter-gather",
	"tx-checksum-ipv4",
	"tx-checksum-ip-generic",
	"rx-checksum",
	"tx-tcp-segmentation",
	"tx-tcp-ecn-segmentation",
	"tx-tcp6-segmentation",
	"tx-generic-segmentation",
	"rx-gro",
	"large-receive-offload",
	"receive-hashing",
	"highdma",
	"rx-vlan-hw-parse",
	"tx-vlan-hw-insert",
	"ntuple-filters",
	"rx-all",
	"rx-fcs",
	"loopback",
}

// Name returns the ethtool name of a single feature bit.
func (f Features) Name() string {
	for i := range featureNames {
		if f == 1<<i {
			return featureNames[i]
		}
	}
	return ""
}

// String lists the names of the set bits, comma-separated.
func (f Features) String() string {
	var names []string
	for i := range featureNames {
		if f&(1<<i) != 0 {
			names = append(names, featureNames[i])
		}
	}
	return strings.Join(names, ",")
}

// Has reports whether every bit of g is set in f.
func (f Features) Has(g Features) bool { return f&g == g }
