package header

import (
	"bytes"
	"reflect"
	"slices"
	"testing"
)

// The parse cases hold tcp_parse_options' tolerance rules: each input is
// option bytes, each want the fields Linux would learn.
func TestParseTCPOptions(t *testing.T) {
	var cookie8 [16]byte
	copy(cookie8[:], []byte{1, 2, 3, 4, 5, 6, 7, 8})
	for _, c := range []struct {
		name string
		b    []byte
		syn  bool
		want TCPOptions
	}{
		{"empty", nil, true, TCPOptions{}},
		{"<mss 1460,sackOK,TS val 16909060 ecr 0,nop,wscale 7>",
			[]byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7}, true,
			TCPOptions{MSS: 1460, HasMSS: true, SACKPermitted: true, TS: true, TSVal: 0x01020304,
				WScale: 7, WScaleRaw: 7, HasWScale: true}},
		{"SYN options on a non-SYN are ignored, TS is not",
			[]byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 9, 1, 3, 3, 7}, false,
			TCPOptions{TS: true, TSVal: 0x01020304, TSEcr: 9}},
		{"EOL ends the list", []byte{1, 0, 2, 4, 0x05, 0xb4}, true, TCPOptions{}},
		{"NOPs are skipped", []byte{1, 1, 1, 2, 4, 0x05, 0xb4}, true, TCPOptions{MSS: 1460, HasMSS: true}},
		{"a kind without its length byte stops", []byte{1, 1, 1, 4}, true, TCPOptions{}},
		{"length 1 stops, what came before stays",
			[]byte{4, 2, 2, 1, 2, 4, 0x05, 0xb4}, true,
			TCPOptions{SACKPermitted: true, AuthBad: true}},
		{"length 0 stops", []byte{2, 0, 4, 2}, true, TCPOptions{}},
		{"length past the end stops", []byte{4, 2, 3, 4, 7}, true, TCPOptions{SACKPermitted: true}},
		{"MSS of the wrong length is skipped", []byte{2, 5, 0x05, 0xb4, 0, 4, 2}, true, TCPOptions{SACKPermitted: true}},
		{"MSS 0 is ignored", []byte{2, 4, 0, 0}, true, TCPOptions{}},
		{"the last MSS wins", []byte{2, 4, 0x05, 0xb4, 2, 4, 0x02, 0x18}, true, TCPOptions{MSS: 536, HasMSS: true}},
		{"wscale 14 is kept", []byte{1, 3, 3, 14}, true, TCPOptions{WScale: 14, WScaleRaw: 14, HasWScale: true}},
		{"wscale 15 is clamped to 14", []byte{1, 3, 3, 15}, true, TCPOptions{WScale: 14, WScaleRaw: 15, HasWScale: true}},
		{"wscale 255 is clamped to 14", []byte{1, 3, 3, 255}, true, TCPOptions{WScale: 14, WScaleRaw: 255, HasWScale: true}},
		{"wscale of length 4 is skipped", []byte{3, 4, 7, 0}, true, TCPOptions{}},
		{"TS of length 12 is skipped", []byte{8, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, true, TCPOptions{}},
		{"sackOK of length 3 is skipped", []byte{4, 3, 0, 1}, true, TCPOptions{}},
		{"<nop,nop,sack 1:2 3:4>",
			[]byte{1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4}, false,
			TCPOptions{NumSACK: 2, SACK: [4]SACKBlock{{1, 2}, {3, 4}}}},
		{"SACK of length 9 is skipped",
			[]byte{5, 9, 0, 0, 0, 1, 0, 0, 0}, false, TCPOptions{}},
		{"SACK of length 2 is skipped", []byte{5, 2}, false, TCPOptions{}},
		{"a SACK option longer than the list stops", append([]byte{5, 42},
			0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6,
			0, 0, 0, 7, 0, 0, 0, 8, 0, 0, 0, 9, 0, 0, 0, 10), false,
			TCPOptions{AuthBad: true}}, // 42 bytes, and a list holds 40 at most
		{"the last SACK option wins",
			[]byte{5, 10, 0, 0, 0, 1, 0, 0, 0, 2, 5, 10, 0, 0, 0, 7, 0, 0, 0, 8}, false,
			TCPOptions{NumSACK: 1, SACK: [4]SACKBlock{{7, 8}}}},
		{"<nop,nop,md5>", append([]byte{1, 1, 19, 18}, make([]byte, 16)...), false,
			TCPOptions{MD5: true, MD5Offset: 4}},
		{"MD5 of length 17 is an auth error", append([]byte{19, 17}, make([]byte, 15)...), false,
			TCPOptions{AuthBad: true}},
		{"two MD5 options are an auth error",
			append(append([]byte{19, 18}, make([]byte, 16)...), append([]byte{19, 18}, make([]byte, 16)...)...), false,
			TCPOptions{MD5: true, MD5Offset: 2, AuthBad: true}},
		{"AO with a 4-byte MAC", []byte{29, 8, 1, 1, 0xaa, 0xbb, 0xcc, 0xdd}, false,
			TCPOptions{AO: true}},
		{"AO of 4 bytes is an auth error", []byte{29, 4, 1, 1, 1, 1, 1, 1}, false,
			TCPOptions{AuthBad: true}},
		{"a malformed option with 5 bytes left is an auth error", []byte{1, 1, 1, 8, 1, 0, 0, 0}, false,
			TCPOptions{AuthBad: true}},
		{"a malformed option with 4 bytes left is not", []byte{1, 1, 1, 1, 8, 1, 0, 0}, false,
			TCPOptions{}},
		{"an option after the auth scan stopped is not judged by it",
			[]byte{8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 1, 19, 2, 0}, false,
			TCPOptions{TS: true, TSVal: 1, TSEcr: 2}},
		{"FO request", []byte{34, 2, 1, 1}, true, TCPOptions{FastOpen: true}},
		{"FO cookie of 8", []byte{34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1}, true,
			TCPOptions{FastOpen: true, FastOpenLen: 8, FastOpenCookie: cookie8}},
		{"FO cookie of 2 is refused", []byte{34, 4, 1, 2}, true, TCPOptions{FastOpen: true, FastOpenLen: -1}},
		{"FO cookie of 18 is refused", append([]byte{34, 20}, make([]byte, 18)...), true,
			TCPOptions{FastOpen: true, FastOpenLen: -1}},
		{"FO cookie of odd length is ignored", []byte{34, 7, 1, 2, 3, 4, 5, 1}, true, TCPOptions{}},
		{"FO on a non-SYN is ignored", []byte{34, 2, 1, 1}, false, TCPOptions{}},
		{"experimental FO cookie of 8", []byte{254, 12, 0xf9, 0x89, 1, 2, 3, 4, 5, 6, 7, 8}, true,
			TCPOptions{FastOpen: true, FastOpenExp: true, FastOpenLen: 8, FastOpenCookie: cookie8}},
		{"experimental option without the magic is unknown", []byte{254, 4, 0xe2, 0xd4}, true,
			TCPOptions{Unknown: true}},
		{"an unknown kind is skipped and noted", []byte{99, 3, 0, 2, 4, 0x05, 0xb4}, true,
			TCPOptions{MSS: 1460, HasMSS: true, Unknown: true}},
		{"MPTCP is no unknown option", []byte{30, 4, 0, 0}, true, TCPOptions{}},
		{"AccECN's offset is kept", []byte{1, 1, 172, 2}, false, TCPOptions{AccECN: true, AccECNOffset: 2}},
	} {
		if got := ParseTCPOptions(c.b, c.syn); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: ParseTCPOptions(% x, %v)\n got %+v\nwant %+v", c.name, c.b, c.syn, got, c.want)
		}
	}
}

// The append cases are hand-written bytes of what Linux writes, named in
// packetdrill's notation.
func TestAppendTCPOptions(t *testing.T) {
	all := TCPOptions{MSS: 1460, HasMSS: true, SACKPermitted: true, TS: true, TSVal: 0x01020304,
		WScale: 7, HasWScale: true}
	without := func(o TCPOptions, f func(*TCPOptions)) TCPOptions { f(&o); return o }
	ts := []byte{0x01, 0x02, 0x03, 0x04, 0, 0, 0, 0}
	md5 := append([]byte{1, 1, 19, 18}, make([]byte, 16)...)
	sack := func(n int) TCPOptions {
		o := TCPOptions{NumSACK: n}
		for i := range n {
			o.SACK[i] = SACKBlock{uint32(2*i + 1), uint32(2*i + 2)}
		}
		return o
	}
	blocks := []byte{0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0, 8}
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	estTS := func(o TCPOptions) TCPOptions { o.TS, o.TSVal, o.TSEcr = true, 0x01020304, 0; return o }
	fo := func(exp bool, n int8) TCPOptions {
		o := all
		o.FastOpen, o.FastOpenExp, o.FastOpenLen = true, exp, n
		for i := range o.FastOpenCookie {
			o.FastOpenCookie[i] = byte(0xc0 + i)
		}
		return o
	}
	for _, c := range []struct {
		name string
		o    TCPOptions
		kind TCPOptionsKind
		want []byte
	}{
		{"SYN <mss 1460,sackOK,TS val 16909060 ecr 0,nop,wscale 7>", all, TCPOptionsSYN,
			cat([]byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10}, ts, []byte{1, 3, 3, 7})},
		{"SYN <mss 1460,nop,nop,sackOK,nop,wscale 7>", without(all, func(o *TCPOptions) { o.TS = false }), TCPOptionsSYN,
			[]byte{2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7}},
		{"SYN <mss 1460,nop,nop,TS val 16909060 ecr 0,nop,wscale 7>", without(all, func(o *TCPOptions) { o.SACKPermitted = false }), TCPOptionsSYN,
			cat([]byte{2, 4, 0x05, 0xb4, 1, 1, 8, 10}, ts, []byte{1, 3, 3, 7})},
		{"SYN <mss 1460,sackOK,TS val 16909060 ecr 0>", without(all, func(o *TCPOptions) { o.HasWScale = false }), TCPOptionsSYN,
			cat([]byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10}, ts)},
		{"SYN <mss 536>", TCPOptions{MSS: 536, HasMSS: true}, TCPOptionsSYN, []byte{2, 4, 0x02, 0x18}},
		{"SYN with MD5 <nop,nop,md5,mss 1460,nop,nop,sackOK,nop,wscale 7>", without(all, func(o *TCPOptions) { o.MD5 = true }), TCPOptionsSYN,
			cat(md5, []byte{2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7})},
		{"SYN-ACK <mss 1460,sackOK,TS val 16909060 ecr 0,nop,wscale 7>", all, TCPOptionsSYNACK,
			cat([]byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10}, ts, []byte{1, 3, 3, 7})},
		{"SYN-ACK <mss 1460,nop,wscale 7>", without(all, func(o *TCPOptions) { o.TS, o.SACKPermitted = false, false }), TCPOptionsSYNACK,
			[]byte{2, 4, 0x05, 0xb4, 1, 3, 3, 7}},
		{"SYN-ACK with MD5 and SACK drops TS <nop,nop,md5,mss 1460,nop,nop,sackOK,nop,wscale 7>", without(all, func(o *TCPOptions) { o.MD5 = true }), TCPOptionsSYNACK,
			cat(md5, []byte{2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7})},
		{"SYN-ACK with MD5, no SACK keeps TS <nop,nop,md5,mss 1460,nop,nop,TS val 16909060 ecr 0,nop,wscale 7>",
			without(all, func(o *TCPOptions) { o.MD5, o.SACKPermitted = true, false }), TCPOptionsSYNACK,
			cat(md5, []byte{2, 4, 0x05, 0xb4, 1, 1, 8, 10}, ts, []byte{1, 3, 3, 7})},
		{"cookie SYN-ACK with MD5 keeps TS <nop,nop,md5,mss 1460,sackOK,TS val 16909060 ecr 0,nop,wscale 7>",
			without(all, func(o *TCPOptions) { o.MD5 = true }), TCPOptionsSYNACKCookie,
			cat(md5, []byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10}, ts, []byte{1, 3, 3, 7})},
		{"SYN <...,FO> request", fo(false, 0), TCPOptionsSYN,
			cat([]byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10}, ts, []byte{1, 3, 3, 7, 34, 2, 1, 1})},
		{"SYN <...,FO c0c1c2c3c4c5c6c7,nop,nop>", fo(false, 8), TCPOptionsSYN,
			cat([]byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10}, ts, []byte{1, 3, 3, 7, 34, 10, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 1, 1})},
		{"SYN-ACK <...,FO 16 bytes,nop,nop>: 40 bytes exactly", fo(false, 16), TCPOptionsSYNACK,
			cat([]byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10}, ts, []byte{1, 3, 3, 7, 34, 18},
				[]byte{0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf}, []byte{1, 1})},
		{"SYN experimental FO 4 bytes", fo(true, 4), TCPOptionsSYN,
			cat([]byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10}, ts, []byte{1, 3, 3, 7, 254, 8, 0xf9, 0x89, 0xc0, 0xc1, 0xc2, 0xc3})},
		{"SYN experimental FO 16 bytes: 40 bytes exactly", fo(true, 16), TCPOptionsSYN,
			cat([]byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10}, ts, []byte{1, 3, 3, 7, 254, 20, 0xf9, 0x89},
				[]byte{0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf})},
		{"SYN with MD5: an 8-byte cookie does not fit in the 8 bytes left", without(fo(false, 8), func(o *TCPOptions) { o.MD5 = true }), TCPOptionsSYN,
			cat(md5, []byte{2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7})},
		{"SYN with MD5: an experimental 4-byte cookie does", without(fo(true, 4), func(o *TCPOptions) { o.MD5 = true }), TCPOptionsSYN,
			cat(md5, []byte{2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7, 254, 8, 0xf9, 0x89, 0xc0, 0xc1, 0xc2, 0xc3})},
		{"SYN FO of length -1 is not written", fo(false, -1), TCPOptionsSYN,
			cat([]byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10}, ts, []byte{1, 3, 3, 7})},
		{"established <nop,nop,TS val 16909060 ecr 0>", all, TCPOptionsEstablished,
			cat([]byte{1, 1, 8, 10}, ts)},
		{"established without TS: nothing", TCPOptions{MSS: 1460, HasMSS: true}, TCPOptionsEstablished, nil},
		{"established <nop,nop,TS val 16909060 ecr 0,nop,nop,sack 1:2>", estTS(sack(1)), TCPOptionsEstablished,
			cat([]byte{1, 1, 8, 10}, ts, []byte{1, 1, 5, 10}, blocks[:8])},
		{"established <nop,nop,TS val 16909060 ecr 0,nop,nop,sack 1:2 3:4 5:6>", estTS(sack(3)), TCPOptionsEstablished,
			cat([]byte{1, 1, 8, 10}, ts, []byte{1, 1, 5, 26}, blocks[:24])},
		{"established, four blocks beside TS: three fit", estTS(sack(4)), TCPOptionsEstablished,
			cat([]byte{1, 1, 8, 10}, ts, []byte{1, 1, 5, 26}, blocks[:24])},
		{"established <nop,nop,sack 1:2 3:4 5:6 7:8>", sack(4), TCPOptionsEstablished,
			cat([]byte{1, 1, 5, 34}, blocks)},
		{"established MD5 + TS: no room for SACK", without(estTS(sack(2)), func(o *TCPOptions) { o.MD5 = true }), TCPOptionsEstablished,
			cat(md5, []byte{1, 1, 8, 10}, ts)},
		{"established MD5, no TS: two blocks", without(sack(4), func(o *TCPOptions) { o.MD5 = true }), TCPOptionsEstablished,
			cat(md5, []byte{1, 1, 5, 18}, blocks[:16])},
		{"no kind: nothing", all, 0, nil},
	} {
		got := AppendTCPOptions([]byte{0xee}, &c.o, c.kind)
		if !bytes.Equal(got[1:], c.want) || got[0] != 0xee {
			t.Errorf("%s:\n got % x\nwant % x", c.name, got[1:], c.want)
		}
		if n := c.o.OptionsLen(c.kind); n != len(c.want) {
			t.Errorf("%s: OptionsLen = %d, want %d", c.name, n, len(c.want))
		}
	}
}

// TestTCPOptionsNoAllocs: parsing and appending into a buffer with room
// do not allocate.
func TestTCPOptionsNoAllocs(t *testing.T) {
	syn := []byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7}
	md5 := append([]byte{1, 1, 19, 18}, make([]byte, 16)...)
	o := TCPOptions{MSS: 1460, HasMSS: true, SACKPermitted: true, TS: true, HasWScale: true, WScale: 7,
		MD5: true, NumSACK: 2, FastOpen: true, FastOpenLen: 4}
	buf := make([]byte, 0, 40)
	var sinkOpts TCPOptions
	for _, c := range []struct {
		name string
		fn   func()
	}{
		{"parse SYN", func() { sinkOpts = ParseTCPOptions(syn, true) }},
		{"parse MD5", func() { sinkOpts = ParseTCPOptions(md5, false) }},
		{"append SYN", func() { sinkBytes = AppendTCPOptions(buf[:0], &o, TCPOptionsSYN) }},
		{"append established", func() { sinkBytes = AppendTCPOptions(buf[:0], &o, TCPOptionsEstablished) }},
		{"len", func() { sinkU32 = uint32(o.OptionsLen(TCPOptionsSYNACK)) }},
	} {
		if n := testing.AllocsPerRun(100, c.fn); n != 0 {
			t.Errorf("%s: %v allocations, want 0", c.name, n)
		}
	}
	_ = sinkOpts
}

var tcpOptKinds = []TCPOptionsKind{TCPOptionsSYN, TCPOptionsSYNACK, TCPOptionsSYNACKCookie, TCPOptionsEstablished}

// FuzzParseTCPOptions: parsing never panics and keeps its offsets and
// counts in range; what Linux would write back of a parsed set parses to
// the same fields and is written again byte for byte.
func FuzzParseTCPOptions(f *testing.F) {
	f.Add([]byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7}, true)
	f.Add([]byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4}, false)
	f.Add(append([]byte{1, 1, 19, 18}, make([]byte, 16)...), true)
	f.Add([]byte{34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1, 254, 4, 0xf9, 0x89}, true)
	f.Add([]byte{29, 8, 1, 1, 0, 0, 0, 0, 1, 3, 3, 200, 172, 2}, true)
	f.Fuzz(func(t *testing.T, b []byte, syn bool) {
		o := ParseTCPOptions(b, syn)
		if o.NumSACK < 0 || o.NumSACK > 4 || o.WScale > TCPMaxWScale ||
			(o.MD5 && int(o.MD5Offset)+16 > len(b)) || (o.AO && int(o.AOOffset)+tcpOptLenAOHdr >= len(b)) ||
			(o.AccECN && int(o.AccECNOffset) >= len(b)) ||
			(o.FastOpen && (o.FastOpenLen < -1 || o.FastOpenLen > 16)) || (!syn && (o.HasMSS || o.HasWScale || o.SACKPermitted || o.FastOpen)) {
			t.Fatalf("ParseTCPOptions(% x, %v) = %+v", b, syn, o)
		}
		for _, kind := range tcpOptKinds {
			w := AppendTCPOptions(nil, &o, kind)
			if len(w) != o.OptionsLen(kind) || len(w)%4 != 0 || len(w) > 40 {
				t.Fatalf("kind %d: wrote %d bytes (% x), OptionsLen %d", kind, len(w), w, o.OptionsLen(kind))
			}
			isSYN := kind != TCPOptionsEstablished
			o2 := ParseTCPOptions(w, isSYN)
			if w2 := AppendTCPOptions(nil, &o2, kind); !bytes.Equal(w, w2) {
				t.Fatalf("kind %d: % x parsed to %+v, written again as % x", kind, w, o2, w2)
			}
			if o2.AuthBad || o2.Unknown || o2.MD5 != o.MD5 {
				t.Fatalf("kind %d: % x parsed to %+v", kind, w, o2)
			}
			if o2.TS && (o2.TSVal != o.TSVal || o2.TSEcr != o.TSEcr) {
				t.Fatalf("kind %d: timestamps %d/%d became %d/%d", kind, o.TSVal, o.TSEcr, o2.TSVal, o2.TSEcr)
			}
			if isSYN {
				if o2.HasMSS != (o.HasMSS && o.MSS != 0) || o2.MSS != o.MSS && o2.HasMSS ||
					o2.HasWScale != o.HasWScale || o2.WScale != o.WScale && o.HasWScale ||
					o2.SACKPermitted != o.SACKPermitted || o2.NumSACK != 0 {
					t.Fatalf("kind %d: %+v written as % x parsed to %+v", kind, o, w, o2)
				}
				continue
			}
			if o2.NumSACK > o.NumSACK || !slices.Equal(o2.SACK[:o2.NumSACK], o.SACK[:o2.NumSACK]) {
				t.Fatalf("established: SACK %v became %v", o.SACK[:o.NumSACK], o2.SACK[:o2.NumSACK])
			}
		}
	})
}

func BenchmarkParseTCPOptions(b *testing.B) {
	est := []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4}
	b.ReportAllocs()
	var o TCPOptions
	for b.Loop() {
		o = ParseTCPOptions(est, false)
	}
	_ = o
}

func BenchmarkAppendTCPOptions(b *testing.B) {
	o := TCPOptions{TS: true, TSVal: 1, TSEcr: 2, NumSACK: 2}
	buf := make([]byte, 0, 40)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendTCPOptions(buf[:0], &o, TCPOptionsEstablished)
	}
}
