package iperf3

import "testing"

// FormatUnits against unit_snprintf's output (computed with C's printf
// rules; the first ones are figures Debian's iperf3 3.12 printed).
func TestFormatUnits(t *testing.T) {
	for _, tc := range []struct {
		n    float64
		f    byte
		want string
	}{
		{1933244927, 'A', "1.80 GByte"},
		{1048576, 'A', "1.00 MByte"},
		{1047728, 'A', "1023 KByte"}, // a 16 × 65483 cwnd
		{1011 * 1048576, 'A', "1011 MByte"},
		{0, 'A', "0.00 Byte"},
		{1000, 'A', "1000 Byte"},
		{1023, 'A', "1023 Byte"},
		{1024, 'A', "1.00 KByte"},
		{15.46e9 / 8, 'a', "15.5 Gbit"},
		{941e6 / 8, 'a', " 941 Mbit"},
		{999.6e6 / 8, 'a', "1000 Mbit"},
		{125000, 'k', "1000 Kbit"},
		{1048576 * 5.5, 'M', "5.50 MByte"},
		{3e12, 'g', "24000 Gbit"},
		{3 << 40, 'T', "3.00 TByte"},
		{9.995 * 1024, 'A', "10.0 KByte"},
		{9.994 * 1024, 'A', "9.99 KByte"},
		{99.95 * 1024 * 1024, 'A', " 100 MByte"},
		{5 << 50, 'A', "5120 TByte"},
		{12.5, 'b', " 100 bit"},
		{1e15, 'a', "8000 Tbit"},
	} {
		if got := FormatUnits(tc.n, tc.f); got != tc.want {
			t.Errorf("FormatUnits(%v, %c) = %q, want %q", tc.n, tc.f, got, tc.want)
		}
	}
}

// ParseUnits is unit_atof: K, M, G, T in either case are powers of 1024,
// what follows the suffix is ignored; no leading number is an error.
func TestParseUnits(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want float64
		err  bool
	}{
		{"128K", 128 << 10, false},
		{"128k", 128 << 10, false},
		{"1M", 1 << 20, false},
		{"1.5m", 1.5 * (1 << 20), false},
		{"2G", 2 << 30, false},
		{"1t", 1 << 40, false},
		{"4096", 4096, false},
		{"64Kbytes", 64 << 10, false},
		{"10x", 10, false},
		{"-5", -5, false},
		{"", 0, true},
		{"K", 0, true},
		{"abc", 0, true},
		{" 5", 0, true},
	} {
		got, err := ParseUnits(tc.s)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseUnits(%q) = %v, %v; want %v, error %v", tc.s, got, err, tc.want, tc.err)
		}
	}
}

func FuzzParseUnits(f *testing.F) {
	for _, s := range []string{"128K", "1.5M", "", "x", "1e3k", "0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseUnits(s)
		if err != nil && v != 0 {
			t.Fatalf("%q: %v with an error", s, v)
		}
	})
}
