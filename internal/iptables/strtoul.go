package iptables

import (
	"math"
	"strings"
)

// strtoumax is C's strtoumax: leading space, a sign, then digits in base
// (0: 0x hex, leading 0 octal, else decimal). It returns the value
// (saturated on overflow, with ok false), the unparsed rest, and whether
// any digit was read.
func strtoumax(s string, base int) (v uint64, rest string, digits bool, overflow bool) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if base == 0 {
		switch {
		case i+1 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && i+2 < len(s) && isHex(s[i+2]):
			base, i = 16, i+2
		case i < len(s) && s[i] == '0':
			base = 8
		default:
			base = 10
		}
	} else if base == 16 && i+1 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && i+2 < len(s) && isHex(s[i+2]) {
		i += 2
	}
	start := i
	for i < len(s) {
		d := digitVal(s[i])
		if d < 0 || d >= base {
			break
		}
		if v > (math.MaxUint64-uint64(d))/uint64(base) {
			overflow = true
			v = math.MaxUint64
		} else if !overflow {
			v = v*uint64(base) + uint64(d)
		}
		i++
	}
	if i == start {
		return 0, s, false, false
	}
	if neg && !overflow {
		v = -v
	}
	return v, s[i:], true, overflow
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isHex(c byte) bool { return digitVal(c) >= 0 && digitVal(c) < 16 }

func digitVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return -1
}

// strtoulBase is xtables_strtoul_base: a number in [min, max] (max 0: no
// bound), no minus sign. With wantEnd false the whole string must be the
// number; with it, the rest is returned.
func strtoulBase(s string, min, max uint64, base int) (uint64, bool) {
	v, rest, ok := strtoulRest(s, min, max, base)
	return v, ok && rest == ""
}

// strtoulRest is xtables_strtoul_base with an end pointer.
func strtoulRest(s string, min, max uint64, base int) (uint64, string, bool) {
	if strings.HasPrefix(strings.TrimLeft(s, " \t\n\v\f\r"), "-") {
		return 0, s, false
	}
	v, rest, digits, overflow := strtoumax(s, base)
	if !digits {
		return 0, s, false
	}
	if !overflow && min <= v && (max == 0 || v <= max) {
		return v, rest, true
	}
	return 0, rest, false
}

// strtoui is xtables_strtoui (base 0, whole string).
func strtoui(s string, min, max uint64) (uint64, bool) { return strtoulBase(s, min, max, 0) }
