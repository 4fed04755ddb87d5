package header

import (
	"reflect"
	"testing"
)

func TestIGMP(t *testing.T) {
	for _, tc := range []struct {
		name  string
		b     []byte
		valid bool
		v3    bool
		typ   uint8
		group [4]byte
		srcs  int // -1: the sources run past the message
	}{
		{"short", []byte{0x11, 100, 0, 0, 0, 0, 0}, false, false, 0, [4]byte{}, 0},
		{"v2 general query", []byte{0x11, 100, 0xee, 0x9b, 0, 0, 0, 0}, true, false, 0x11, [4]byte{}, 0},
		{"v2 report", []byte{0x16, 0, 0, 0, 239, 1, 2, 3}, true, false, 0x16, [4]byte{239, 1, 2, 3}, 0},
		{"v3 group query, two sources", []byte{0x11, 100, 0, 0, 239, 1, 2, 3, 0x02, 125, 0, 2, 10, 0, 0, 1, 10, 0, 0, 2}, true, true, 0x11, [4]byte{239, 1, 2, 3}, 2},
		{"v3 query, sources cut", []byte{0x11, 100, 0, 0, 0, 0, 0, 0, 0x02, 125, 0, 3, 10, 0, 0, 1}, true, true, 0x11, [4]byte{}, -1},
	} {
		b := IGMP(tc.b)
		if b.IsValid() != tc.valid {
			t.Fatalf("%s: valid %v", tc.name, b.IsValid())
		}
		if !tc.valid {
			continue
		}
		if b.Type() != tc.typ || b.Group() != tc.group || b.IsV3Query() != tc.v3 {
			t.Fatalf("%s: type %#x group %v v3 %v", tc.name, b.Type(), b.Group(), b.IsV3Query())
		}
		if tc.v3 {
			if tc.srcs < 0 {
				if b.SourcesValid() {
					t.Fatalf("%s: sources past the end taken", tc.name)
				}
				continue
			}
			if !b.SourcesValid() || b.NumSources() != tc.srcs || b.QRV() != 2 || b.QQIC() != 125 || b.SuppressRouter() {
				t.Fatalf("%s: %d sources qrv %d qqic %d", tc.name, b.NumSources(), b.QRV(), b.QQIC())
			}
			if b.Source(1) != [4]byte{10, 0, 0, 2} {
				t.Fatalf("%s: source %v", tc.name, b.Source(1))
			}
		}
	}
}

func TestIGMPv3Code(t *testing.T) {
	for _, tc := range []struct {
		c    uint8
		want int
	}{{0, 0}, {100, 100}, {127, 127}, {128, 128}, {0x8f, 248}, {0xff, 31744}, {0x90, 256}} {
		if got := IGMPv3Code(tc.c); got != tc.want {
			t.Errorf("IGMPv3Code(%#x) = %d, want %d", tc.c, got, tc.want)
		}
	}
}

func TestIGMPEncodeAndReport(t *testing.T) {
	b := make(IGMP, 8)
	IGMPFields{Type: IGMPv2MembershipReport, Group: [4]byte{239, 1, 2, 3}}.Encode(b)
	if Checksum(b) != 0 || b.Type() != 0x16 || b.Group() != [4]byte{239, 1, 2, 3} {
		t.Fatalf("% x", []byte(b))
	}
	recs := []IGMPv3Grec{{Type: IGMPv3ModeIsExclude, Group: [4]byte{239, 1, 2, 3}}, {Type: IGMPv3ModeIsInclude, Group: [4]byte{239, 9, 9, 9}, Sources: [][4]byte{{10, 0, 0, 1}}}}
	r := IGMPv3Report(AppendIGMPv3Report(nil, recs))
	if len(r) != 8+8+12 || Checksum(r) != 0 || !r.IsValid() {
		t.Fatalf("report % x", []byte(r))
	}
	got, ok := r.Records()
	if !ok || !reflect.DeepEqual(got, recs) {
		t.Fatalf("records %+v %v", got, ok)
	}
	if _, ok := IGMPv3Report(r[:len(r)-1]).Records(); ok {
		t.Fatal("a cut record was read")
	}
}

func FuzzIGMP(f *testing.F) {
	f.Add([]byte{0x11, 100, 0xee, 0x9b, 0, 0, 0, 0})
	f.Add([]byte{0x11, 100, 0, 0, 239, 1, 2, 3, 0x02, 125, 0, 2, 10, 0, 0, 1, 10, 0, 0, 2})
	f.Add(AppendIGMPv3Report(nil, []IGMPv3Grec{{Type: 2, Group: [4]byte{239, 1, 2, 3}, Sources: [][4]byte{{1, 2, 3, 4}}}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		b := IGMP(data)
		if !b.IsValid() {
			return
		}
		_, _, _ = b.Type(), b.MaxRespCode(), b.Group()
		if b.IsV3Query() {
			_, _, _ = b.QRV(), b.QQIC(), IGMPv3Code(b.MaxRespCode())
			if b.SourcesValid() {
				for i := range b.NumSources() {
					_ = b.Source(i)
				}
			}
		}
		r := IGMPv3Report(data)
		if recs, ok := r.Records(); ok {
			// Records read back re-encode to the same bytes when the
			// message had no auxiliary data and nothing after it.
			again := IGMPv3Report(AppendIGMPv3Report(nil, recs))
			if back, ok := again.Records(); !ok || !reflect.DeepEqual(back, recs) {
				t.Fatalf("round trip %+v / %+v", recs, back)
			}
		}
	})
}
