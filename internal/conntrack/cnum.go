package conntrack

import (
	"net/netip"
	"strings"
)

// C library conversions as conntrack calls them: what they accept
// (leading space, a sign, a base prefix, trailing junk) decides which
// command lines conntrack takes.

func isSpace(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }

func digitVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return 99
}

// strtoul is strtoul(3) on a 64-bit machine: the value (ULONG_MAX on
// overflow, negated for a leading '-'), how many bytes it read (0: no
// number, as endptr == str), and whether it overflowed (ERANGE).
func strtoul(s string, base int) (v uint64, n int, overflow bool) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if (base == 0 || base == 16) && i+1 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && i+2 < len(s) && digitVal(s[i+2]) < 16 {
		i += 2
		base = 16
	} else if base == 0 {
		base = 10
		if i < len(s) && s[i] == '0' {
			base = 8
		}
	}
	start := i
	for ; i < len(s); i++ {
		d := digitVal(s[i])
		if d >= base {
			break
		}
		if !overflow {
			if v > (^uint64(0)-uint64(d))/uint64(base) {
				overflow = true
			} else {
				v = v*uint64(base) + uint64(d)
			}
		}
	}
	if i == start {
		return 0, 0, false
	}
	if overflow {
		return ^uint64(0), i, true
	}
	if neg {
		v = -v
	}
	return v, i, false
}

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
		if n == 4 || s == "" || digitVal(s[0]) >= 10 {
			return netip.Addr{}, false
		}
		v, k, over := strtoul(s, 0)
		if k == 0 || over || s[0] == '-' || s[0] == '+' || isSpace(s[0]) {
			return netip.Addr{}, false
		}
		parts[n] = v
		n++
		s = s[k:]
		if s == "" || isSpace(s[0]) {
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
