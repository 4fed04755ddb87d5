package iproute

import (
	"math"
	"strconv"
	"strings"

	"vnic/internal/cnum"
)

// tc's number grammar (tc_util.c, lib/utils.c, lib/utils_math.c,
// tc_core.c): C's strtod and strtoul as glibc reads them, then tc's
// suffixes (the printers are in tc_print.go).

// tc's psched clock as Linux 6.x reports it in /proc/net/psched
// (000003e8 00000040 000f4240 3b9aca00): a tick is 64 ns, 15.625 a
// microsecond (tc_core_init's tick_in_usec).
const tickInUsec = 1000.0 / 64.0

// timeUnitsPerSec is TIME_UNITS_PER_SEC: tc's times are microseconds.
const timeUnitsPerSec = 1000000

// isCSpace is C's isspace.
func isCSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

// strtod is glibc's strtod: the longest prefix of s that is a number
// (decimal or hexadecimal, with exponent, or inf/infinity/nan), after
// white space; n is the bytes it took (0: none).
func strtod(s string) (v float64, n int) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	start := i
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	lower := strings.ToLower(s[i:])
	neg := start < len(s) && s[start] == '-'
	sign := 1.0
	if neg {
		sign = -1
	}
	switch {
	case strings.HasPrefix(lower, "infinity"):
		return sign * math.Inf(1), i + 8
	case strings.HasPrefix(lower, "inf"):
		return sign * math.Inf(1), i + 3
	case strings.HasPrefix(lower, "nan"):
		j := i + 3
		if j < len(s) && s[j] == '(' {
			k := j + 1
			for k < len(s) && (isAlnum(s[k]) || s[k] == '_') {
				k++
			}
			if k < len(s) && s[k] == ')' {
				j = k + 1
			}
		}
		return math.NaN(), j
	}
	if strings.HasPrefix(lower, "0x") {
		j, digits := i+2, 0
		for j < len(s) && isHex(s[j]) {
			j, digits = j+1, digits+1
		}
		if j < len(s) && s[j] == '.' {
			j++
			for j < len(s) && isHex(s[j]) {
				j, digits = j+1, digits+1
			}
		}
		if digits > 0 {
			mant := s[start:j]
			if j < len(s) && (s[j] == 'p' || s[j] == 'P') {
				if k := expEnd(s, j+1); k > j+1 {
					mant, j = s[start:k], k
				}
			}
			if !strings.ContainsAny(mant, "pP") {
				mant += "p0"
			}
			f, _ := strconv.ParseFloat(mant, 64)
			return f, j
		}
		// "0x" without hexadecimal digits is the number 0.
		return 0, i + 1
	}
	j, digits := i, 0
	for j < len(s) && isDigit(s[j]) {
		j, digits = j+1, digits+1
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && isDigit(s[j]) {
			j, digits = j+1, digits+1
		}
	}
	if digits == 0 {
		return 0, 0
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		if k := expEnd(s, j+1); k > j+1 {
			j = k
		}
	}
	f, err := strconv.ParseFloat(s[start:j], 64)
	if err != nil && !math.IsInf(f, 0) {
		f = 0 // an underflow is 0, as glibc gives it
	}
	return f, j
}

// expEnd is where an exponent's digits (with an optional sign) starting
// at s[i] end (i when there are none).
func expEnd(s string, i int) int {
	j := i
	if j < len(s) && (s[j] == '+' || s[j] == '-') {
		j++
	}
	k := j
	for k < len(s) && isDigit(s[k]) {
		k++
	}
	if k == j {
		return i
	}
	return k
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }
func isAlnum(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z') }

// strtoul is glibc's strtoul (cnum.Strtoul).
func strtoul(s string, base int) (uint64, int, bool) { return cnum.Strtoul(s, base) }

// getU32 is get_u32: the whole of arg a number in [0, 2^32).
func getU32(arg string, base int) (uint32, bool) {
	if arg == "" {
		return 0, false
	}
	v, n, ovf := strtoul(arg, base)
	if n == 0 || n != len(arg) || ovf || v > math.MaxUint32 {
		return 0, false
	}
	return uint32(v), true
}

// getS32 is get_s32: strtol's number in [-2^31, 2^31).
func getS32(arg string, base int) (int32, bool) {
	if arg == "" {
		return 0, false
	}
	i := 0
	for i < len(arg) && isCSpace(arg[i]) {
		i++
	}
	neg := i < len(arg) && arg[i] == '-'
	v, n, ovf := strtoul(arg, base)
	if n == 0 || n != len(arg) || ovf {
		return 0, false
	}
	s := int64(v)
	if neg {
		// strtoul negated it; strtol's range is the signed one.
		if v != 0 && v < 1<<63 {
			return 0, false
		}
	} else if v >= 1<<63 {
		return 0, false
	}
	if s < math.MinInt32 || s > math.MaxInt32 {
		return 0, false
	}
	return int32(s), true
}

// cUint32 is C's conversion of a double to unsigned int as gcc compiles
// it on x86-64 (through a 64-bit signed integer): out-of-range values
// wrap, and what cvttsd2si cannot represent becomes 0.
func cUint32(f float64) uint32 {
	if math.IsNaN(f) || f >= 1<<63 || f < -(1<<63) {
		return 0
	}
	return uint32(int64(f))
}

// cUint64 is the conversion to a 64-bit unsigned (cvttsd2si beyond 2^63
// as gcc emits it: the value less 2^63, its top bit set).
func cUint64(f float64) uint64 {
	switch {
	case math.IsNaN(f) || f < -(1<<63):
		return 1 << 63
	case f >= 1<<64:
		return 1 << 63
	case f >= 1<<63:
		return uint64(int64(f-(1<<63))) | 1<<63
	}
	return uint64(int64(f))
}

// getTime is get_time: a time in microseconds, with s, sec, secs, ms,
// msec, msecs, us, usec, usecs (any case) or none (microseconds).
func getTime(arg string) (uint32, bool) {
	t, n := strtod(arg)
	if n == 0 {
		return 0, false
	}
	if rest := strings.ToLower(arg[n:]); rest != "" {
		switch rest {
		case "s", "sec", "secs":
			t *= timeUnitsPerSec
		case "ms", "msec", "msecs":
			t *= timeUnitsPerSec / 1000
		case "us", "usec", "usecs":
		default:
			return 0, false
		}
	}
	return cUint32(t), true
}

// getTime64 is get_time64: nanoseconds, with s/sec/secs, ms/msec/msecs,
// us/usec/usecs, ns/nsec/nsecs, or none (nanoseconds).
func getTime64(arg string) (int64, bool) {
	t, n := strtod(arg)
	if n == 0 {
		return 0, false
	}
	if rest := strings.ToLower(arg[n:]); rest != "" {
		switch rest {
		case "s", "sec", "secs":
			t *= 1e9
		case "ms", "msec", "msecs":
			t *= 1e6
		case "us", "usec", "usecs":
			t *= 1e3
		case "ns", "nsec", "nsecs":
		default:
			return 0, false
		}
	}
	return int64(cUint64(t)), true
}

// timeToTick is tc_core_time2tick; timeTooBig is tc_core_time2big.
func timeToTick(t uint32) uint32 { return cUint32(float64(t) * tickInUsec) }
func timeTooBig(t uint32) bool   { return float64(t)*tickInUsec > math.MaxUint32 }
func tickToTime(t uint32) uint32 { return cUint32(float64(t) / tickInUsec) }

// getSize is get_size: bytes, with k/kb, m/mb, g/gb (binary), kbit,
// mbit, gbit (binary bits) or b, at most 2^32-1.
func getSize(arg string) (uint32, bool) {
	sz, n := strtod(arg)
	if n == 0 {
		return 0, false
	}
	if rest := strings.ToLower(arg[n:]); rest != "" {
		switch rest {
		case "kb", "k":
			sz *= 1024
		case "gb", "g":
			sz *= 1024 * 1024 * 1024
		case "gbit":
			sz *= 1024 * 1024 * 1024 / 8
		case "mb", "m":
			sz *= 1024 * 1024
		case "mbit":
			sz *= 1024 * 1024 / 8
		case "kbit":
			sz *= 1024 / 8
		case "b":
		default:
			return 0, false
		}
	}
	v := cUint64(sz)
	if v > math.MaxUint32 {
		return 0, false
	}
	return uint32(v), true
}

// rateSuffixes are get_rate64's units in bits per second, in the order
// it tries them (case-insensitively).
var rateSuffixes = []struct {
	name  string
	scale float64
}{
	{"bit", 1}, {"Kibit", 1024}, {"kbit", 1000}, {"mibit", 1024 * 1024}, {"mbit", 1000000},
	{"gibit", 1024 * 1024 * 1024}, {"gbit", 1000000000}, {"tibit", 1024 * 1024 * 1024 * 1024}, {"tbit", 1000000000000},
	{"Bps", 8}, {"KiBps", 8 * 1024}, {"KBps", 8000}, {"MiBps", 8 * 1024 * 1024}, {"MBps", 8000000},
	{"GiBps", 8 * 1024 * 1024 * 1024}, {"GBps", 8000000000}, {"TiBps", 8 * 1024 * 1024 * 1024 * 1024}, {"TBps", 8000000000000},
}

// getRate64 is get_rate64: a rate with a unit (none: bits per second),
// in bytes per second.
func getRate64(arg string) (uint64, bool) {
	bps, n := strtod(arg)
	if n == 0 {
		return 0, false
	}
	p := arg[n:]
	for _, s := range rateSuffixes {
		if strings.EqualFold(s.name, p) {
			bps *= s.scale
			p = ""
			break
		}
	}
	if p != "" {
		return 0, false
	}
	return cUint64(bps / 8), true
}

// parsePercent is parse_percent: a number of percent, with or without a
// "%": 1 when outside [0, 100], -1 when it is not one.
func parsePercent(arg string) (float64, int) {
	v, n := strtod(arg)
	v /= 100
	if v > 1 || v < 0 {
		return v, 1
	}
	if rest := arg[n:]; rest != "" && rest != "%" {
		return v, -1
	}
	return v, 0
}

// percentScaled is netem's set_percent: a fraction of 2^32-1, rounded as
// rint rounds.
func percentScaled(v float64) uint32 { return cUint32(math.RoundToEven(v * math.MaxUint32)) }

// getPercent is netem's get_percent.
func getPercent(arg string) (uint32, bool) {
	v, r := parsePercent(arg)
	if r != 0 {
		return 0, false
	}
	return percentScaled(v), true
}

// getQdiscHandle is get_qdisc_handle: "none" or a hexadecimal major
// number, optionally followed by ':' (anything after it is ignored).
func getQdiscHandle(arg string) (uint32, bool) {
	if arg == "none" {
		return 0, true
	}
	maj, n, _ := strtoul(arg, 16)
	if n == 0 || maj >= 1<<16 {
		return 0, false
	}
	if n < len(arg) && arg[n] != ':' {
		return 0, false
	}
	return uint32(maj) << 16, true
}

// getClassid is get_tc_classid: root, none, MAJ:MIN, :MIN or MAJ, in
// hexadecimal.
func getClassid(arg string) (uint32, bool) {
	switch arg {
	case "root":
		return 0xffffffff, true
	case "none":
		return 0, true
	}
	maj, n, _ := strtoul(arg, 16)
	if n == 0 {
		maj = 0
		if len(arg) == 0 || arg[0] != ':' {
			return 0, false
		}
	}
	rest := arg[n:]
	if rest == "" {
		return uint32(maj), true
	}
	if rest[0] != ':' || maj >= 1<<16 {
		return 0, false
	}
	min, m, _ := strtoul(rest[1:], 16)
	if m != len(rest)-1 || min >= 1<<16 {
		return 0, false
	}
	return uint32(maj)<<16 | uint32(min), true
}

// classid is print_tc_classid.
// cG is C's %g with precision prec.
// sprintTime is sprint_time: microseconds as s, ms (three significant
// digits) or us.
// sprintTicks is sprint_ticks.
// sprintTime64 is sprint_time64: nanoseconds as s, ms, us (three
// significant digits) or ns.
// sprintRate is print_rate: bytes per second as bits with the largest
// unit that divides them (or that leaves at least a thousand), K M G T of
// 1000 (1024 under -iec, with "i").
// sprintSize is print_size: bytes as Mb or Kb when close to a whole
// number of them, else b.
// sprintPercent is netem's percent: a fraction of 2^32-1 as "%g%%".
