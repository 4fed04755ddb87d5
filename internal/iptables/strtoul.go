package iptables

import (
	"strings"

	"vnic/internal/cnum"
)

// strtoumax is C's strtoumax: leading space, a sign, then digits in base
// (0: 0x hex, leading 0 octal, else decimal). It returns the value
// (saturated on overflow, with ok false), the unparsed rest, and whether
// any digit was read.
func strtoumax(s string, base int) (v uint64, rest string, digits bool, overflow bool) {
	v, n, overflow := cnum.Strtoul(s, base)
	if n == 0 {
		return 0, s, false, false
	}
	return v, s[n:], true, overflow
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
