package cnum

import (
	"strconv"
	"testing"
)

// Strtoul gives glibc's answers: value, bytes taken, ERANGE.
func TestStrtoul(t *testing.T) {
	for _, tc := range []struct {
		s    string
		base int
		v    uint64
		n    int
		ovf  bool
	}{
		{"42", 10, 42, 2, false},
		{"  \t+42x", 10, 42, 6, false},
		{"-1", 10, 1<<64 - 1, 2, false},
		{"0x1f", 0, 31, 4, false},
		{"0X1F", 16, 31, 4, false},
		{"1f", 16, 31, 2, false},
		{"0x", 0, 0, 1, false}, // "0" then junk: the x is not a prefix
		{"0xg", 16, 0, 1, false},
		{"017", 0, 15, 3, false},
		{"019", 0, 1, 2, false}, // octal stops at 9
		{"zz", 36, 35*36 + 35, 2, false},
		{"", 10, 0, 0, false},
		{" -", 10, 0, 0, false},
		{"abc", 10, 0, 0, false},
		{"18446744073709551615", 10, 1<<64 - 1, 20, false},
		{"18446744073709551616", 10, 1<<64 - 1, 20, true},
		{"-99999999999999999999", 10, 1<<64 - 1, 21, true},
	} {
		v, n, ovf := Strtoul(tc.s, tc.base)
		if v != tc.v || n != tc.n || ovf != tc.ovf {
			t.Errorf("Strtoul(%q, %d) = %d, %d, %v; want %d, %d, %v", tc.s, tc.base, v, n, ovf, tc.v, tc.n, tc.ovf)
		}
	}
}

// FuzzStrtoul: on plain digits Strtoul agrees with strconv, and it never
// takes more bytes than it was given.
func FuzzStrtoul(f *testing.F) {
	for _, s := range []string{"0", "12345", "0x7f", " -3", "99999999999999999999"} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, base int) {
		if base != 0 && (base < 2 || base > 36) {
			base = 10
		}
		v, n, ovf := Strtoul(s, base)
		if n < 0 || n > len(s) {
			t.Fatalf("took %d of %d bytes", n, len(s))
		}
		if base == 10 && n == len(s) && n > 0 && s[0] >= '0' && s[0] <= '9' {
			want, err := strconv.ParseUint(s, 10, 64)
			if (err != nil) != ovf || err == nil && want != v {
				t.Fatalf("%q: %d %v, strconv %d %v", s, v, ovf, want, err)
			}
		}
	})
}
