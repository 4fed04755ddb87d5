package header

import (
	"bytes"
	"testing"
)

// ipv4Sample is a 20-byte header: TTL 64, UDP, 198.18.0.1 → 198.19.0.1,
// total length 28, DF, with a valid checksum.
func ipv4Sample() IPv4 {
	b := IPv4{0x45, 0, 0, 28, 0x12, 0x34, 0x40, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 19, 0, 1}
	b.UpdateChecksum()
	return b
}

func TestIPv4Fields(t *testing.T) {
	src, dst := [4]byte{198, 18, 0, 9}, [4]byte{203, 0, 113, 7}
	checkFields(t, 60, []field{
		{"header len", 0, []byte{0x46}, func(b []byte) { IPv4(b).SetHeaderLen(24) }, func(b []byte) any { return [2]int{int(IPv4(b).Version()), IPv4(b).HeaderLen()} }, [2]int{4, 24}},
		{"tos", 1, []byte{0xb8}, func(b []byte) { IPv4(b).SetTOS(0xb8) }, func(b []byte) any { return IPv4(b).TOS() }, uint8(0xb8)},
		{"total len", 2, []byte{0x05, 0xdc}, func(b []byte) { IPv4(b).SetTotalLen(1500) }, func(b []byte) any { return IPv4(b).TotalLen() }, uint16(1500)},
		{"id", 4, []byte{0xbe, 0xef}, func(b []byte) { IPv4(b).SetID(0xbeef) }, func(b []byte) any { return IPv4(b).ID() }, uint16(0xbeef)},
		{"flags frag", 6, []byte{0x20, 0xb9}, func(b []byte) { IPv4(b).SetFlagsFrag(IPv4MF | 185) },
			func(b []byte) any {
				ip := IPv4(b)
				return [4]any{ip.FlagsFrag(), ip.MoreFragments(), ip.DontFragment(), ip.FragOffset()}
			}, [4]any{uint16(0x20b9), true, false, 1480}},
		{"ttl", 8, []byte{1}, func(b []byte) { IPv4(b).SetTTL(1) }, func(b []byte) any { return IPv4(b).TTL() }, uint8(1)},
		{"protocol", 9, []byte{1}, func(b []byte) { IPv4(b).SetProtocol(ProtoICMP) }, func(b []byte) any { return IPv4(b).Protocol() }, uint8(ProtoICMP)},
		{"checksum", 10, []byte{0xb8, 0x61}, func(b []byte) { IPv4(b).SetChecksum(0xb861) }, func(b []byte) any { return IPv4(b).Checksum() }, uint16(0xb861)},
		{"src", 12, src[:], func(b []byte) { IPv4(b).SetSrc(src) }, func(b []byte) any { return IPv4(b).Src() }, src},
		{"dst", 16, dst[:], func(b []byte) { IPv4(b).SetDst(dst) }, func(b []byte) any { return IPv4(b).Dst() }, dst},
	})
}

func TestIPv4Flags(t *testing.T) {
	for _, c := range []struct {
		ff           uint16
		df, mf, frag bool
		off          int
	}{
		{0, false, false, false, 0},
		{IPv4DF, true, false, false, 0},
		{IPv4MF, false, true, true, 0},
		{1, false, false, true, 8},
		{IPv4MF | IPv4FragOffMask, false, true, true, 65528},
		{0x8000, false, false, false, 0}, // the reserved bit is not a fragment
	} {
		ip := ipv4Sample()
		ip.SetFlagsFrag(c.ff)
		if ip.DontFragment() != c.df || ip.MoreFragments() != c.mf || ip.IsFragment() != c.frag || ip.FragOffset() != c.off {
			t.Errorf("%#04x: DF %v MF %v fragment %v offset %d", c.ff, ip.DontFragment(), ip.MoreFragments(), ip.IsFragment(), ip.FragOffset())
		}
	}
}

func TestIPv4Valid(t *testing.T) {
	s := ipv4Sample()
	with := func(i int, v byte, n int) []byte {
		b := pad(s, n)
		b[i] = v
		return b
	}
	checkValid(t, func(b []byte) bool { return IPv4(b).IsValid() }, []validCase{
		{"sample", s, true},
		{"19 bytes", s[:19], false},
		{"empty", nil, false},
		{"version 6", with(0, 0x65, 20), false},
		{"IHL 4", with(0, 0x44, 20), false},
		{"IHL 0", with(0, 0x40, 20), false},
		{"IHL 6 in 23 bytes", with(0, 0x46, 23), false},
		{"IHL 6 in 24 bytes", with(0, 0x46, 24), true},
		{"IHL 15 in 60 bytes", with(0, 0x4f, 60), true},
		{"IHL 15 in 59 bytes", with(0, 0x4f, 59), false},
	})
	checkValid(t, func(b []byte) bool { return IPv4(b).IsValidNoOptions() }, []validCase{
		{"sample", s, true},
		{"19 bytes", s[:19], false},
		{"version 6", with(0, 0x65, 20), false},
		{"IHL 4", with(0, 0x44, 20), false},
		{"IHL 6", with(0, 0x46, 24), false},
	})
}

func TestIPv4Lengths(t *testing.T) {
	for _, c := range []struct {
		name    string
		tot, n  int
		ok      bool
		payload int
	}{
		{"exact", 28, 28, true, 8},
		{"padded", 28, 46, true, 8},
		{"header only", 20, 20, true, 0},
		{"truncated", 40, 28, false, 8},
		{"total under header", 19, 28, false, 0},
		{"total 0", 0, 28, false, 0},
	} {
		ip := IPv4(pad(ipv4Sample(), c.n))
		ip.SetTotalLen(uint16(c.tot))
		if got := ip.TotalLenValid(); got != c.ok {
			t.Errorf("%s: TotalLenValid %v, want %v", c.name, got, c.ok)
		}
		if got := len(ip.Payload()); got != c.payload {
			t.Errorf("%s: %d payload bytes, want %d", c.name, got, c.payload)
		}
	}
}

func TestIPv4OptionsAndChecksum(t *testing.T) {
	ip := IPv4(pad(ipv4Sample(), 28))
	ip.SetHeaderLen(24)
	copy(ip[20:], []byte{IPv4OptRouterAlert, 4, 0, 0})
	ip.UpdateChecksum()
	if !ip.IsValid() || !ip.ChecksumValid() || !bytes.Equal(ip.Options(), []byte{0x94, 4, 0, 0}) {
		t.Fatalf("options % x, checksum valid %v", ip.Options(), ip.ChecksumValid())
	}
	ip[22] = 1
	if ip.ChecksumValid() {
		t.Fatal("a changed option still verifies")
	}
	if got := len(ipv4Sample().Options()); got != 0 {
		t.Fatalf("IHL 5 has %d option bytes", got)
	}
}

// optSeen is what walking options found: each option's type, offset and
// length, and where a malformed one stopped the walk (-1: none).
type optSeen struct {
	opts [][3]int
	bad  int
}

func walk(opts []byte) optSeen {
	s := optSeen{bad: -1}
	it := IPv4Options(opts).Iter()
	for o, ok := it.Next(); ok; o, ok = it.Next() {
		s.opts = append(s.opts, [3]int{int(o.Type), o.Offset, len(o.Bytes)})
	}
	if off, bad := it.Malformed(); bad {
		s.bad = off
	}
	return s
}

// walkRef is the walk as RFC 791 reads, one byte at a time.
func walkRef(opts []byte) optSeen {
	s := optSeen{bad: -1}
	for p := 0; p < len(opts); {
		switch t := opts[p]; {
		case t == IPv4OptEOL:
			s.opts = append(s.opts, [3]int{0, p, 1})
			return s
		case t == IPv4OptNOP:
			s.opts = append(s.opts, [3]int{1, p, 1})
			p++
		case p+1 >= len(opts) || opts[p+1] < 2 || p+int(opts[p+1]) > len(opts):
			s.bad = p
			return s
		default:
			s.opts = append(s.opts, [3]int{int(t), p, int(opts[p+1])})
			p += int(opts[p+1])
		}
	}
	return s
}

func TestIPv4OptionIterator(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []byte
		want optSeen
	}{
		{"none", nil, optSeen{bad: -1}},
		{"router alert", []byte{0x94, 4, 0, 0}, optSeen{[][3]int{{0x94, 0, 4}}, -1}},
		{"NOPs and EOL padding", []byte{1, 1, 0, 0x44}, optSeen{[][3]int{{1, 0, 1}, {1, 1, 1}, {0, 2, 1}}, -1}},
		{"record route", []byte{7, 7, 4, 0, 0, 0, 0, 0}, optSeen{[][3]int{{7, 0, 7}, {0, 7, 1}}, -1}},
		{"timestamp then LSRR", []byte{0x44, 8, 5, 0, 0, 0, 0, 0, 0x83, 3, 4, 0}, optSeen{[][3]int{{0x44, 0, 8}, {0x83, 8, 3}, {0, 11, 1}}, -1}},
		{"length byte missing", []byte{1, 0x94}, optSeen{[][3]int{{1, 0, 1}}, 1}},
		{"length 0", []byte{0x94, 0, 0, 0}, optSeen{nil, 0}},
		{"length 1", []byte{1, 7, 1, 0}, optSeen{[][3]int{{1, 0, 1}}, 1}},
		{"length past the end", []byte{7, 11, 4, 0, 0, 0, 0, 0}, optSeen{nil, 0}},
		{"second one past the end", []byte{0x94, 4, 0, 0, 0x44, 5, 1, 0}, optSeen{[][3]int{{0x94, 0, 4}}, 4}},
		{"unknown type, length 2", []byte{0x9e, 2, 1, 0}, optSeen{[][3]int{{0x9e, 0, 2}, {1, 2, 1}, {0, 3, 1}}, -1}},
	} {
		got := walk(c.opts)
		if len(got.opts) != len(c.want.opts) || got.bad != c.want.bad {
			t.Errorf("%s: walked %v bad at %d, want %v bad at %d", c.name, got.opts, got.bad, c.want.opts, c.want.bad)
			continue
		}
		for i := range got.opts {
			if got.opts[i] != c.want.opts[i] {
				t.Errorf("%s: option %d is %v, want %v", c.name, i, got.opts[i], c.want.opts[i])
			}
		}
		if ref := walkRef(c.opts); len(ref.opts) != len(got.opts) || ref.bad != got.bad {
			t.Errorf("%s: reference walk %v bad at %d", c.name, ref.opts, ref.bad)
		}
	}
}

func TestIPv4OptionAccessors(t *testing.T) {
	it := IPv4Options{0x83, 7, 4, 198, 18, 0, 1, 1}.Iter()
	o, _ := it.Next()
	if !o.Copied() || o.Pointer() != 4 || !bytes.Equal(o.Data(), []byte{4, 198, 18, 0, 1}) {
		t.Fatalf("LSRR: copied %v pointer %d data % x", o.Copied(), o.Pointer(), o.Data())
	}
	o, _ = it.Next()
	if o.Copied() || o.Pointer() != 0 || o.Data() != nil {
		t.Fatalf("NOP: copied %v pointer %d data % x", o.Copied(), o.Pointer(), o.Data())
	}
	if _, ok := it.Next(); ok {
		t.Fatal("a third option in 8 bytes")
	}
}

func FuzzIPv4(f *testing.F) {
	f.Add([]byte(ipv4Sample()))
	f.Add(append(pad([]byte{0x46}, 20), 0x94, 4, 0, 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		ip := IPv4(b)
		if ip.IsValidNoOptions() != (ip.IsValid() && ip.HeaderLen() == IPv4MinHeaderLen) {
			t.Fatalf("IsValidNoOptions %v for % x", ip.IsValidNoOptions(), b)
		}
		if !ip.IsValid() {
			return
		}
		_, _, _, _, _ = ip.Version(), ip.TOS(), ip.TotalLen(), ip.ID(), ip.FlagsFrag()
		_, _, _, _ = ip.DontFragment(), ip.MoreFragments(), ip.FragOffset(), ip.IsFragment()
		_, _, _, _, _ = ip.TTL(), ip.Protocol(), ip.Checksum(), ip.Src(), ip.Dst()
		_ = ip.ChecksumValid()
		if n := len(ip.Options()); n != ip.HeaderLen()-IPv4MinHeaderLen || n > 40 {
			t.Fatalf("%d option bytes for IHL %d", n, ip.HeaderLen()/4)
		}
		p := ip.Payload()
		if len(p) > len(b)-ip.HeaderLen() || (ip.TotalLenValid() && len(p) != int(ip.TotalLen())-ip.HeaderLen()) {
			t.Fatalf("%d payload bytes, total length %d, header %d, buffer %d", len(p), ip.TotalLen(), ip.HeaderLen(), len(b))
		}
		walk(ip.Options())
	})
}

// FuzzIPv4Options checks the walker against the reference on any bytes:
// no panic, options that tile the bytes in order, at most one a byte.
func FuzzIPv4Options(f *testing.F) {
	f.Add([]byte{0x44, 8, 5, 0, 0, 0, 0, 0, 0x83, 3, 4, 0})
	f.Add([]byte{1, 0x94})
	f.Add([]byte{7, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		it := IPv4Options(b).Iter()
		next, n := 0, 0
		for o, ok := it.Next(); ok; o, ok = it.Next() {
			if n++; n > len(b) {
				t.Fatalf("more options than bytes in % x", b)
			}
			if o.Offset != next || len(o.Bytes) == 0 || o.Offset+len(o.Bytes) > len(b) || o.Type != b[o.Offset] ||
				!bytes.Equal(o.Bytes, b[o.Offset:o.Offset+len(o.Bytes)]) {
				t.Fatalf("option %+v out of place after offset %d in % x", o, next, b)
			}
			_, _, _ = o.Data(), o.Pointer(), o.Copied()
			next = o.Offset + len(o.Bytes)
		}
		got, ref := walk(b), walkRef(b)
		if len(got.opts) != len(ref.opts) || got.bad != ref.bad {
			t.Fatalf("walk %v bad %d, reference %v bad %d", got.opts, got.bad, ref.opts, ref.bad)
		}
		for i := range got.opts {
			if got.opts[i] != ref.opts[i] {
				t.Fatalf("option %d: %v, reference %v", i, got.opts[i], ref.opts[i])
			}
		}
		if off, bad := it.Malformed(); bad && (off >= len(b) || off != next) {
			t.Fatalf("malformed at %d after %d of %d bytes", off, next, len(b))
		}
	})
}

// BenchmarkIPv4OptionWalk walks a full 40-byte option area: timestamp,
// record route, router alert and padding.
func BenchmarkIPv4OptionWalk(b *testing.B) {
	opts := IPv4Options(pad([]byte{0x44, 12, 5, 0, 11: 0, 7, 15, 4, 26: 0, 0x94, 4, 0, 0, 1, 1}, 40))
	b.ReportAllocs()
	n := 0
	for i := 0; i < b.N; i++ {
		it := opts.Iter()
		for o, ok := it.Next(); ok; o, ok = it.Next() {
			n += int(o.Type)
		}
	}
	sinkInt = n
}

var sinkInt int
