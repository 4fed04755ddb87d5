package conntrack

import (
	"net/netip"
	"strings"

	"vnic/internal/cnum"
)

// C library conversions as conntrack calls them: what they accept
// (leading space, a sign, a base prefix, trailing junk) decides which
// command lines conntrack takes.

// strtoul is strtoul(3) on a 64-bit machine (cnum.Strtoul).
func strtoul(s string, base int) (v uint64, n int, overflow bool) { return cnum.Strtoul(s, base) }

// strtol is strtol(3) base 10: the value clamped to int64, the bytes read.
func strtol(s string) (int64, int) {
	u, n, over := strtoul(s, 10)
	if n == 0 {
		return 0, 0
	}
	neg := strings.HasPrefix(strings.TrimLeft(s, " \t\n\v\f\r"), "-")
	switch {
	case over && neg:
		return -1 << 63, n
	case over:
		return 1<<63 - 1, n
	case neg && int64(u) > 0:
		return -1 << 63, n // below the minimum
	case !neg && int64(u) < 0:
		return 1<<63 - 1, n
	}
	return int64(u), n
}

// atoi is atoi(3): strtol's value truncated to int, 0 for no number.
func atoi(s string) int32 {
	v, _ := strtol(s)
	return int32(v)
}

// inetAton is inet_aton(3): one to four parts, each decimal, octal or
// hex, the last filling the remaining bytes.
func inetAton(s string) (netip.Addr, bool) {
	var parts [4]uint64
	n := 0
	for {
		if n == 4 || s == "" || !(s[0] >= '0' && s[0] <= '9') {
			return netip.Addr{}, false
		}
		v, k, over := strtoul(s, 0)
		if k == 0 || over || s[0] == '-' || s[0] == '+' || cnum.IsSpace(s[0]) {
			return netip.Addr{}, false
		}
		parts[n] = v
		n++
		s = s[k:]
		if s == "" || cnum.IsSpace(s[0]) {
			break
		}
		if s[0] != '.' {
			return netip.Addr{}, false
		}
		s = s[1:]
	}
	var a uint64
	switch n {
	case 1:
		if parts[0] > 0xffffffff {
			return netip.Addr{}, false
		}
		a = parts[0]
	case 2:
		if parts[0] > 0xff || parts[1] > 0xffffff {
			return netip.Addr{}, false
		}
		a = parts[0]<<24 | parts[1]
	case 3:
		if parts[0] > 0xff || parts[1] > 0xff || parts[2] > 0xffff {
			return netip.Addr{}, false
		}
		a = parts[0]<<24 | parts[1]<<16 | parts[2]
	case 4:
		for _, p := range parts {
			if p > 0xff {
				return netip.Addr{}, false
			}
		}
		a = parts[0]<<24 | parts[1]<<16 | parts[2]<<8 | parts[3]
	}
	return netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}), true
}

// inetPton6 is inet_pton(AF_INET6, …): the textual forms RFC 4291 allows,
// an IPv4 tail included, nothing else (no zone).
func inetPton6(s string) (netip.Addr, bool) {
	if strings.ContainsAny(s, "%") || !strings.Contains(s, ":") {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() {
		return netip.Addr{}, false
	}
	return a, true
}
