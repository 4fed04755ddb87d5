// Package cnum is the C library's number parsing as the command-line
// tools vnic reimplements (iproute2, iptables, conntrack-tools) call it:
// what strtoul(3) accepts — leading space, a sign, a base prefix, trailing
// junk — decides which command lines those tools take.
package cnum

import (
	"math"
	"math/bits"
)

// IsSpace is isspace(3) in the C locale.
func IsSpace(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }

// DigitVal is c's value as a digit of any base up to 36, or -1.
func DigitVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c|0x20 >= 'a' && c|0x20 <= 'z':
		return int(c|0x20-'a') + 10
	}
	return -1
}

func isHex(c byte) bool { d := DigitVal(c); return d >= 0 && d < 16 }

// Strtoul is glibc's strtoul for a 64-bit unsigned long: white space, a
// sign (a minus negates), the base's prefix (base 0: 0x hex, 0 octal;
// base 16: an optional 0x). n is the bytes it took (0: no digits, as
// endptr == nptr); on overflow the value saturates and overflow is set
// (ERANGE).
func Strtoul(s string, base int) (v uint64, n int, overflow bool) {
	i := 0
	for i < len(s) && IsSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if (base == 0 || base == 16) && i+2 < len(s) && s[i] == '0' && s[i+1]|0x20 == 'x' && isHex(s[i+2]) {
		i += 2
		base = 16
	} else if base == 0 {
		base = 10
		if i < len(s) && s[i] == '0' {
			base = 8
		}
	}
	j := i
	for ; j < len(s); j++ {
		d := DigitVal(s[j])
		if d < 0 || d >= base {
			break
		}
		if !overflow {
			hi, lo := bits.Mul64(v, uint64(base))
			sum, carry := bits.Add64(lo, uint64(d), 0)
			if hi != 0 || carry != 0 {
				overflow = true
			} else {
				v = sum
			}
		}
	}
	if j == i {
		return 0, 0, false
	}
	if overflow {
		return math.MaxUint64, j, true
	}
	if neg {
		v = -v
	}
	return v, j, false
}
