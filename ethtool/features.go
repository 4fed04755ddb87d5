package ethtool

import "strings"

// Features is a netdev feature bitset (the kernel's netdev_features_t):
// the bits vnic models, named as ethtool names them.
type Features uint64

// Feature bits.
const (
	SG           Features = 1 << iota // tx-scatter-gather
	IPCsum                            // tx-checksum-ipv4
	HWCsum                            // tx-checksum-ip-generic
	IPv6Csum                          // tx-checksum-ipv6
	RxCsum                            // rx-checksum
	TSO                               // tx-tcp-segmentation
	TSOECN                            // tx-tcp-ecn-segmentation
	TSOMangleID                       // tx-tcp-mangleid-segmentation
	TSO6                              // tx-tcp6-segmentation
	GSOUDPL4                          // tx-udp-segmentation
	GSO                               // tx-generic-segmentation
	GRO                               // rx-gro
	GROHW                             // rx-gro-hw
	LRO                               // rx-lro
	RxHash                            // rx-hashing
	HighDMA                           // highdma
	HWVlanCTagRx                      // rx-vlan-hw-parse
	HWVlanCTagTx                      // tx-vlan-hw-insert
	NTuple                            // rx-ntuple-filter
	RxAll                             // rx-all
	RxFCS                             // rx-fcs
	Loopback                          // loopback
)

var featureNames = [...]string{
	"tx-scatter-gather",
	"tx-checksum-ipv4",
	"tx-checksum-ip-generic",
	"tx-checksum-ipv6",
	"rx-checksum",
	"tx-tcp-segmentation",
	"tx-tcp-ecn-segmentation",
	"tx-tcp-mangleid-segmentation",
	"tx-tcp6-segmentation",
	"tx-udp-segmentation",
	"tx-generic-segmentation",
	"rx-gro",
	"rx-gro-hw",
	"rx-lro",
	"rx-hashing",
	"highdma",
	"rx-vlan-hw-parse",
	"tx-vlan-hw-insert",
	"rx-ntuple-filter",
	"rx-all",
	"rx-fcs",
	"loopback",
}

// Groups of bits.
const (
	// TSOMask is every TCP segmentation bit (NETIF_F_ALL_TSO).
	TSOMask = TSO | TSOECN | TSOMangleID | TSO6
	// CsumMask is every transmit checksum bit (NETIF_F_CSUM_MASK).
	CsumMask = IPCsum | HWCsum | IPv6Csum
	// SoftFeatures are the software features the core gives every device
	// (NETIF_F_SOFT_FEATURES): GSO and GRO.
	SoftFeatures = GSO | GRO
)

// Name returns the ethtool name of a single feature bit.
func (f Features) Name() string {
	for i := range featureNames {
		if f == 1<<i {
			return featureNames[i]
		}
	}
	return ""
}

// FeatureByName returns the bit with ethtool name n.
func FeatureByName(n string) (Features, bool) {
	for i, s := range featureNames {
		if s == n {
			return 1 << i, true
		}
	}
	return 0, false
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

// Fix applies the kernel's feature dependency rules (netdev_fix_features,
// spec/ethtool-cli.md §4.2, rules 1-7, 9-11 and 14 in that order; rule 8,
// GSO partial, and the TLS rules have no bits here) and returns what is
// left of f.
func Fix(f Features) Features {
	// 1. HW_CSUM makes the protocol-specific checksum bits redundant.
	if f&HWCsum != 0 && f&(IPCsum|IPv6Csum) != 0 {
		f &^= IPCsum | IPv6Csum
	}
	// 2. TSO needs scatter-gather.
	if f&TSOMask != 0 && f&SG == 0 {
		f &^= TSOMask
	}
	// 3. TSO (IPv4) needs an IPv4-capable checksum.
	if f&TSO != 0 && f&(HWCsum|IPCsum) == 0 {
		f &^= TSO | TSOECN
	}
	// 4. TSO6 needs an IPv6-capable checksum.
	if f&TSO6 != 0 && f&(HWCsum|IPv6Csum) == 0 {
		f &^= TSO6
	}
	// 5. MANGLEID only with TSO.
	if f&TSOMangleID != 0 && f&TSO == 0 {
		f &^= TSOMangleID
	}
	// 6. ECN segmentation alone means nothing.
	if f&TSOMask == TSOECN {
		f &^= TSOECN
	}
	// 7. Software GSO needs scatter-gather.
	if f&GSO != 0 && f&SG == 0 {
		f &^= GSO
	}
	// 9. Hardware GRO needs the receive checksum.
	if f&GROHW != 0 && f&RxCsum == 0 {
		f &^= GROHW
	}
	// 10. Receiving the FCS rules out coalescing.
	if f&RxFCS != 0 {
		f &^= LRO | GROHW
	}
	// 11. Hardware GRO wins over LRO.
	if f&GROHW != 0 && f&LRO != 0 {
		f &^= LRO
	}
	// 14. UDP segmentation needs checksums for both IP versions.
	if f&GSOUDPL4 != 0 && f&HWCsum == 0 && f&(IPCsum|IPv6Csum) != IPCsum|IPv6Csum {
		f &^= GSOUDPL4
	}
	return f
}
