package iperf3

import (
	"fmt"
	"strconv"
	"strings"
)

// units.c: numbers with K/M/G/T, in and out.

var (
	byteLabels = [...]string{"Byte", "KByte", "MByte", "GByte", "TByte"}
	bitLabels  = [...]string{"bit", "Kbit", "Mbit", "Gbit", "Tbit"}
)

// FormatUnits is unit_snprintf: n bytes in format f — B K M G T (bytes,
// powers of 1024) or b k m g t (bits, powers of 1000), A and a picking
// the largest unit that keeps the number under 1024 (1000) — printed in
// at most four places, then the unit's singular label ("MByte",
// "Gbit"): iperf3's output adds the "s" and "/sec".
func FormatUnits(n float64, f byte) string {
	bits := f >= 'a' && f <= 'z'
	if bits {
		n *= 8
	}
	conv := 0
	switch f {
	case 'B', 'b':
	case 'K', 'k':
		conv = 1
	case 'M', 'm':
		conv = 2
	case 'G', 'g':
		conv = 3
	case 'T', 't':
		conv = 4
	default: // 'A', 'a'
		base := 1024.0
		if bits {
			base = 1000
		}
		for tmp := n; tmp >= base && conv < 4; conv++ {
			tmp /= base
		}
	}
	// conversion_bytes[] and conversion_bits[]: 1.0/1024/…, 1.0/1000/…
	label, base, factor := byteLabels[conv], 1024.0, 1.0
	if bits {
		label, base = bitLabels[conv], 1000
	}
	for range conv {
		factor /= base
	}
	n *= factor
	switch {
	case n < 9.995:
		return fmt.Sprintf("%4.2f %s", n, label)
	case n < 99.95:
		return fmt.Sprintf("%4.1f %s", n, label)
	}
	return fmt.Sprintf("%4.0f %s", n, label)
}

// ParseUnits is unit_atof: a number, optionally followed by k, m, g or t
// (either case: powers of 1024); what follows the suffix is ignored, as
// sscanf("%lf%c") ignores it. A string that does not start with a
// number is an error (iperf3 would take it as 0).
func ParseUnits(s string) (float64, error) {
	end := 0
	for i := len(s); i > 0; i-- {
		if _, err := strconv.ParseFloat(s[:i], 64); err == nil {
			end = i
			break
		}
	}
	if end == 0 || strings.TrimSpace(s[:end]) != s[:end] {
		return 0, fmt.Errorf("iperf3: %q: not a number", s)
	}
	n, _ := strconv.ParseFloat(s[:end], 64)
	if end < len(s) {
		switch s[end] {
		case 't', 'T':
			n *= 1 << 40
		case 'g', 'G':
			n *= 1 << 30
		case 'm', 'M':
			n *= 1 << 20
		case 'k', 'K':
			n *= 1 << 10
		}
	}
	return n, nil
}
