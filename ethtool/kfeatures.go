package ethtool

import (
	"fmt"
	"strings"
	"syscall"
)

// KernelFeatureNames is the feature string set (ETH_SS_FEATURES) indexed by
// kernel bit, as Linux 6.18 names it: bits 2, 12, 13 and 32 have no name
// (unused, and LLTX, NETNS_LOCAL and UFO, which left the feature word). A
// feature's index here is its netdev_features_t bit and its bit in a
// Bitmap; vnic's netlink string set is this table.
var KernelFeatureNames = [...]string{
	"tx-scatter-gather",
	"tx-checksum-ipv4",
	"",
	"tx-checksum-ip-generic",
	"tx-checksum-ipv6",
	"highdma",
	"tx-scatter-gather-fraglist",
	"tx-vlan-hw-insert",
	"rx-vlan-hw-parse",
	"rx-vlan-filter",
	"vlan-challenged",
	"tx-generic-segmentation",
	"",
	"",
	"rx-gro",
	"rx-lro",
	"tx-tcp-segmentation",
	"tx-gso-robust",
	"tx-tcp-ecn-segmentation",
	"tx-tcp-mangleid-segmentation",
	"tx-tcp6-segmentation",
	"tx-fcoe-segmentation",
	"tx-gre-segmentation",
	"tx-gre-csum-segmentation",
	"tx-ipxip4-segmentation",
	"tx-ipxip6-segmentation",
	"tx-udp_tnl-segmentation",
	"tx-udp_tnl-csum-segmentation",
	"tx-gso-partial",
	"tx-tunnel-remcsum-segmentation",
	"tx-sctp-segmentation",
	"tx-esp-segmentation",
	"",
	"tx-udp-segmentation",
	"tx-gso-list",
	"tx-tcp-accecn-segmentation",
	"tx-checksum-fcoe-crc",
	"tx-checksum-sctp",
	"rx-ntuple-filter",
	"rx-hashing",
	"rx-checksum",
	"tx-nocache-copy",
	"loopback",
	"rx-fcs",
	"rx-all",
	"tx-vlan-stag-hw-insert",
	"rx-vlan-stag-hw-parse",
	"rx-vlan-stag-filter",
	"l2-fwd-offload",
	"hw-tc-offload",
	"esp-hw-offload",
	"esp-tx-csum-hw-offload",
	"rx-udp_tunnel-port-offload",
	"tls-hw-tx-offload",
	"tls-hw-rx-offload",
	"rx-gro-hw",
	"tls-hw-record",
	"rx-gro-list",
	"macsec-hw-offload",
	"rx-udp-gro-forwarding",
	"hsr-tag-ins-offload",
	"hsr-tag-rm-offload",
	"hsr-fwd-offload",
	"hsr-dup-offload",
}

// NumKernelFeatures is the size of the feature string set.
const NumKernelFeatures = len(KernelFeatureNames)

// Bitmap is a set of feature indices into a feature string set.
type Bitmap [2]uint64

// Has reports whether bit i is set.
func (b Bitmap) Has(i int) bool { return i >= 0 && i < 128 && b[i/64]&(1<<(i%64)) != 0 }

// Set sets bit i to v.
func (b *Bitmap) Set(i int, v bool) {
	if v {
		b[i/64] |= 1 << (i % 64)
	} else {
		b[i/64] &^= 1 << (i % 64)
	}
}

// IsZero reports whether no bit is set.
func (b Bitmap) IsZero() bool { return b == Bitmap{} }

// kernelIndex maps each modelled bit to its index in KernelFeatureNames.
var kernelIndex = func() [len(featureNames)]int {
	var idx [len(featureNames)]int
	for i, n := range featureNames {
		idx[i] = -1
		for k, kn := range KernelFeatureNames {
			if kn == n {
				idx[i] = k
			}
		}
		if idx[i] < 0 {
			panic("ethtool: feature " + n + " has no kernel name")
		}
	}
	return idx
}()

// KernelBitmap converts modelled features to a kernel-index bitmap.
func KernelBitmap(f Features) Bitmap {
	var b Bitmap
	for i := range featureNames {
		if f&(1<<i) != 0 {
			b.Set(kernelIndex[i], true)
		}
	}
	return b
}

// FromKernelBitmap converts a kernel-index bitmap to modelled features;
// unknown reports the set bits vnic does not model.
func FromKernelBitmap(b Bitmap) (f Features, unknown Bitmap) {
	unknown = b
	for i := range featureNames {
		if b.Has(kernelIndex[i]) {
			f |= 1 << i
			unknown.Set(kernelIndex[i], false)
		}
	}
	return f, unknown
}

// FeatureState is one feature as ethtool -k shows it (the FEATURES_GET
// reply's HW, WANTED, ACTIVE and NOCHANGE bitsets at one index).
type FeatureState struct {
	Name         string
	Available    bool // in hw_features: the user may change it
	Requested    bool // in wanted_features
	Active       bool
	NeverChanged bool // in NETIF_F_NEVER_CHANGE
}

// Fixed reports whether -k marks the feature "[fixed]".
func (s FeatureState) Fixed() bool { return !s.Available || s.NeverChanged }

// FeatureList is a device's features in string-set order.
type FeatureList []FeatureState

// NeverChange is NETIF_F_NEVER_CHANGE as far as the string set names it.
var NeverChange = func() Bitmap {
	var b Bitmap
	b.Set(indexOf("vlan-challenged"), true)
	return b
}()

func indexOf(name string) int {
	for i, n := range KernelFeatureNames {
		if n == name {
			return i
		}
	}
	return -1
}

// ListOf builds the FEATURES_GET view of a device from its modelled sets.
func ListOf(hw, wanted, active Features) FeatureList {
	h, w, a := KernelBitmap(hw), KernelBitmap(wanted), KernelBitmap(active)
	out := make(FeatureList, NumKernelFeatures)
	for i, n := range KernelFeatureNames {
		if n == "" {
			out[i] = FeatureState{}
			continue
		}
		out[i] = FeatureState{Name: n, Available: h.Has(i) && !NeverChange.Has(i), Requested: w.Has(i),
			Active: a.Has(i), NeverChanged: NeverChange.Has(i)}
	}
	return out
}

// Index returns the position of a feature name, or -1.
func (l FeatureList) Index(name string) int {
	for i, s := range l {
		if s.Name == name {
			return i
		}
	}
	return -1
}

// Active returns the active bitmap.
func (l FeatureList) Active() Bitmap {
	var b Bitmap
	for i, s := range l {
		b.Set(i, s.Active)
	}
	return b
}

// LegacyFlag is a row of ethtool's off_flag_def table: the -K short name,
// the -k long name and the kernel-name pattern (at most one '*').
type LegacyFlag struct {
	Short, Long, Pattern string
	// Hidden flags are never shown or set (UFO: no kernel with the
	// netlink interface supports it).
	Hidden bool
}

// LegacyFlags is ethtool's legacy flag table in its order.
var LegacyFlags = []LegacyFlag{
	{"rx", "rx-checksumming", "rx-checksum", false},
	{"tx", "tx-checksumming", "tx-checksum-*", false},
	{"sg", "scatter-gather", "tx-scatter-gather*", false},
	{"tso", "tcp-segmentation-offload", "tx-tcp*-segmentation", false},
	{"ufo", "udp-fragmentation-offload", "tx-udp-fragmentation", true},
	{"gso", "generic-segmentation-offload", "tx-generic-segmentation", false},
	{"gro", "generic-receive-offload", "rx-gro", false},
	{"lro", "large-receive-offload", "rx-lro", false},
	{"rxvlan", "rx-vlan-offload", "rx-vlan-hw-parse", false},
	{"txvlan", "tx-vlan-offload", "tx-vlan-hw-insert", false},
	{"ntuple", "ntuple-filters", "rx-ntuple-filter", false},
	{"rxhash", "receive-hashing", "rx-hashing", false},
}

// Match reports whether a kernel feature name matches the flag's pattern.
func (f LegacyFlag) Match(name string) bool {
	pre, suf, star := strings.Cut(f.Pattern, "*")
	if !star {
		return name == f.Pattern
	}
	return len(name) >= len(pre)+len(suf) && strings.HasPrefix(name, pre) && strings.HasSuffix(name, suf)
}

// FeatureRequest is an ethtool -K request resolved against a string set:
// Mask holds the features named, Value their wanted state.
type FeatureRequest struct {
	Mask, Value Bitmap
}

// ParseFeatureArgs resolves ethtool -K's "NAME on|off ..." against the
// device's string set: a legacy short or long name expands to every
// feature matching its pattern, anything else must be a kernel name. "--"
// ends the list. Unknown names are ENOENT-style errors ("bit name not
// found"), as the kernel answers them.
func ParseFeatureArgs(args []string, names []string) (FeatureRequest, error) {
	var r FeatureRequest
	for len(args) > 0 {
		if args[0] == "--" {
			break
		}
		if len(args) < 2 || (args[1] != "on" && args[1] != "off") {
			// ethtool 6.1 prints the word after the name as the flag and
			// NULL pointers for what it lacks.
			next := "(null)"
			if len(args) > 1 {
				next = args[1]
			}
			return r, &ArgError{Msg: fmt.Sprintf("ethtool (-K): flag '%s' for parameter '(null)' is not followed by 'on' or 'off'", next)}
		}
		on := args[1] == "on"
		found := false
		for _, f := range LegacyFlags {
			if args[0] != f.Short && args[0] != f.Long {
				continue
			}
			found = true
			for i, n := range names {
				if f.Match(n) {
					r.Mask.Set(i, true)
					r.Value.Set(i, on)
				}
			}
			break
		}
		if !found {
			i := -1
			for k, n := range names {
				if n == args[0] {
					i = k
				}
			}
			if i < 0 {
				return r, &Error{Op: "set features", Errno: syscall.EOPNOTSUPP, Msg: "bit name not found", Attr: args[0]}
			}
			r.Mask.Set(i, true)
			r.Value.Set(i, on)
		}
		args = args[2:]
	}
	return r, nil
}

// FeatureReply is FEATURES_SET_REPLY: Wanted marks the requested features
// whose result differs from the request (WantedValue is what was asked),
// Active the features whose active state changed (ActiveValue the new
// state).
type FeatureReply struct {
	Names                   []string
	WantedMask, WantedValue Bitmap
	ActiveMask, ActiveValue Bitmap
}

// NewFeatureReply computes the reply from the request and the active sets
// before and after.
func NewFeatureReply(names []string, req FeatureRequest, before, after Bitmap) FeatureReply {
	r := FeatureReply{Names: names}
	for i := range names {
		if req.Mask.Has(i) && after.Has(i) != req.Value.Has(i) {
			r.WantedMask.Set(i, true)
			r.WantedValue.Set(i, req.Value.Has(i))
		}
		if before.Has(i) != after.Has(i) {
			r.ActiveMask.Set(i, true)
			r.ActiveValue.Set(i, after.Has(i))
		}
	}
	return r
}

// NothingChanged is ethtool's test for "Could not change any device
// features": every requested feature ended up other than asked.
func (r FeatureReply) NothingChanged(req FeatureRequest) bool { return r.WantedMask == req.Mask }

// ArgError is a command-line error: ethtool prints it and exits 1.
type ArgError struct{ Msg string }

func (e *ArgError) Error() string { return e.Msg }
