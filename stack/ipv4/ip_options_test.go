package ipv4_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"vnic/stack/ipv4"
)

// ipHeader is a 20-byte header followed by opts (padded with END to a
// multiple of 4 if need be).
func ipHeader(opts ...byte) []byte {
	h := make([]byte, 20, 60)
	h = append(h, opts...)
	for len(h)%4 != 0 {
		h = append(h, ipv4.IPOptEnd)
	}
	h[0] = 0x40 | byte(len(h)/4)
	return h
}

func TestCompileIPOptions(t *testing.T) {
	here := [4]byte{198, 18, 0, 1}
	rx := ipv4.IPOptionContext{Received: true, Addr: here, Now: func() uint32 { return 0x01020304 },
		Local: func(a [4]byte) bool { return a == here }}
	tx := ipv4.IPOptionContext{}
	priv := ipv4.IPOptionContext{Privileged: true}
	for _, tc := range []struct {
		name string
		ctx  ipv4.IPOptionContext
		opts []byte
		want string // the IPOptions, or "error at N"
		out  []byte // the options after compiling (nil: unchanged)
	}{
		{"none", rx, nil, "{Len:0 SRR:0 RR:0 TS:0 RouterAlert:0 CIPSO:0 StrictRoute:false RRNeedAddr:false TSNeedTime:false TSNeedAddr:false Changed:false FirstHop:[0 0 0 0]}", nil},
		{"padding", rx, []byte{1, 1, 1, 0}, "{Len:4 SRR:0 RR:0 TS:0 RouterAlert:0 CIPSO:0 StrictRoute:false RRNeedAddr:false TSNeedTime:false TSNeedAddr:false Changed:false FirstHop:[0 0 0 0]}", nil},
		{"after END cleared", rx, []byte{0, 7, 1, 9}, "{Len:4 SRR:0 RR:0 TS:0 RouterAlert:0 CIPSO:0 StrictRoute:false RRNeedAddr:false TSNeedTime:false TSNeedAddr:false Changed:true FirstHop:[0 0 0 0]}", []byte{0, 0, 0, 0}},
		{"record route with room", rx, []byte{7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0},
			"{Len:12 SRR:0 RR:20 TS:0 RouterAlert:0 CIPSO:0 StrictRoute:false RRNeedAddr:true TSNeedTime:false TSNeedAddr:false Changed:true FirstHop:[0 0 0 0]}",
			[]byte{7, 11, 8, 198, 18, 0, 1, 0, 0, 0, 0, 0}},
		{"record route full", rx, []byte{7, 7, 8, 9, 9, 9, 9, 0},
			"{Len:8 SRR:0 RR:20 TS:0 RouterAlert:0 CIPSO:0 StrictRoute:false RRNeedAddr:false TSNeedTime:false TSNeedAddr:false Changed:false FirstHop:[0 0 0 0]}", nil},
		{"record route pointer under 4", rx, []byte{7, 7, 3, 0, 0, 0, 0, 0}, "error at 22", nil},
		{"record route pointer mid-slot", rx, []byte{7, 7, 6, 0, 0, 0, 0, 0}, "error at 22", nil},
		{"record route too short", rx, []byte{7, 2, 1, 0}, "error at 21", nil},
		{"length under 2", rx, []byte{7, 1, 0, 0}, "error at 20", nil},
		{"length past the header", rx, []byte{7, 9, 4, 0}, "error at 20", nil},
		{"type alone at the end", rx, []byte{1, 1, 1, 7}, "error at 23", nil},
		{"two record routes", rx, []byte{7, 3, 4, 7, 3, 4, 0, 0}, "error at 23", nil},
		{"two source routes", rx, []byte{131, 3, 4, 137, 3, 4, 0, 0}, "error at 23", nil},
		{"loose source route", rx, []byte{131, 7, 4, 10, 0, 0, 1, 0},
			"{Len:8 SRR:20 RR:0 TS:0 RouterAlert:0 CIPSO:0 StrictRoute:false RRNeedAddr:false TSNeedTime:false TSNeedAddr:false Changed:false FirstHop:[0 0 0 0]}", nil},
		{"strict source route pointer under 4", rx, []byte{137, 7, 2, 10, 0, 0, 1, 0}, "error at 22", nil},
		{"timestamps", rx, []byte{68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0},
			"{Len:12 SRR:0 RR:0 TS:20 RouterAlert:0 CIPSO:0 StrictRoute:false RRNeedAddr:false TSNeedTime:true TSNeedAddr:false Changed:true FirstHop:[0 0 0 0]}",
			[]byte{68, 12, 9, 0, 1, 2, 3, 4, 0, 0, 0, 0}},
		{"address and timestamp", rx, []byte{68, 12, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0},
			"{Len:12 SRR:0 RR:0 TS:20 RouterAlert:0 CIPSO:0 StrictRoute:false RRNeedAddr:false TSNeedTime:true TSNeedAddr:true Changed:true FirstHop:[0 0 0 0]}",
			[]byte{68, 12, 13, 1, 198, 18, 0, 1, 1, 2, 3, 4}},
		{"address and timestamp without room for the pair", rx, []byte{68, 8, 5, 1, 0, 0, 0, 0}, "error at 22", nil},
		{"prespecified, ours", rx, []byte{68, 12, 5, 3, 198, 18, 0, 1, 0, 0, 0, 0},
			"{Len:12 SRR:0 RR:0 TS:20 RouterAlert:0 CIPSO:0 StrictRoute:false RRNeedAddr:false TSNeedTime:true TSNeedAddr:false Changed:true FirstHop:[0 0 0 0]}",
			[]byte{68, 12, 13, 3, 198, 18, 0, 1, 1, 2, 3, 4}},
		{"prespecified, another host's", rx, []byte{68, 12, 5, 3, 10, 0, 0, 1, 0, 0, 0, 0},
			"{Len:12 SRR:0 RR:0 TS:20 RouterAlert:0 CIPSO:0 StrictRoute:false RRNeedAddr:false TSNeedTime:false TSNeedAddr:false Changed:false FirstHop:[0 0 0 0]}", nil},
		{"timestamp full counts the overflow", rx, []byte{68, 8, 9, 0x20, 0, 0, 0, 0},
			"{Len:8 SRR:0 RR:0 TS:20 RouterAlert:0 CIPSO:0 StrictRoute:false RRNeedAddr:false TSNeedTime:false TSNeedAddr:false Changed:true FirstHop:[0 0 0 0]}",
			[]byte{68, 8, 9, 0x30, 0, 0, 0, 0}},
		{"timestamp overflow at 15", rx, []byte{68, 8, 9, 0xf0, 0, 0, 0, 0}, "error at 23", nil},
		{"timestamp pointer under 5", rx, []byte{68, 8, 4, 0, 0, 0, 0, 0}, "error at 22", nil},
		{"timestamp too short", rx, []byte{68, 3, 5, 0}, "error at 21", nil},
		{"router alert", rx, []byte{148, 4, 0, 0},
			"{Len:4 SRR:0 RR:0 TS:0 RouterAlert:20 CIPSO:0 StrictRoute:false RRNeedAddr:false TSNeedTime:false TSNeedAddr:false Changed:false FirstHop:[0 0 0 0]}", nil},
		{"router alert too short", rx, []byte{148, 2, 0, 0}, "error at 21", nil},
		{"CIPSO, no DOI", rx, []byte{134, 8, 0, 0, 0, 1, 0, 0}, "error at 22", nil},
		{"CIPSO short", rx, []byte{134, 6, 0, 0, 0, 1, 0, 0}, "error at 21", nil},
		{"security passes a router", rx, []byte{130, 4, 1, 2},
			"{Len:4 SRR:0 RR:0 TS:0 RouterAlert:0 CIPSO:0 StrictRoute:false RRNeedAddr:false TSNeedTime:false TSNeedAddr:false Changed:false FirstHop:[0 0 0 0]}", nil},
		{"security from an unprivileged sender", tx, []byte{130, 4, 1, 2}, "error at 20", nil},
		{"security from a privileged sender", priv, []byte{130, 4, 1, 2},
			"{Len:4 SRR:0 RR:0 TS:0 RouterAlert:0 CIPSO:0 StrictRoute:false RRNeedAddr:false TSNeedTime:false TSNeedAddr:false Changed:false FirstHop:[0 0 0 0]}", nil},
		{"sender's source route", tx, []byte{131, 11, 4, 10, 0, 0, 1, 10, 0, 0, 2, 0},
			"{Len:12 SRR:20 RR:0 TS:0 RouterAlert:0 CIPSO:0 StrictRoute:false RRNeedAddr:false TSNeedTime:false TSNeedAddr:false Changed:false FirstHop:[10 0 0 1]}",
			[]byte{131, 11, 4, 10, 0, 0, 2, 10, 0, 0, 2, 0}},
		{"sender's source route not starting at 4", tx, []byte{131, 7, 8, 10, 0, 0, 1, 0}, "error at 21", nil},
		{"sender's record route is not filled", tx, []byte{7, 7, 4, 0, 0, 0, 0, 0},
			"{Len:8 SRR:0 RR:20 TS:0 RouterAlert:0 CIPSO:0 StrictRoute:false RRNeedAddr:true TSNeedTime:false TSNeedAddr:false Changed:false FirstHop:[0 0 0 0]}",
			[]byte{7, 7, 8, 0, 0, 0, 0, 0}},
	} {
		h := ipHeader(tc.opts...)
		before := append([]byte(nil), h...)
		o, at, err := ipv4.CompileIPOptions(h, tc.ctx)
		got := fmt.Sprintf("%+v", o)
		if err != nil {
			if !errors.Is(err, ipv4.ErrBadIPOption) {
				t.Fatalf("%s: %v", tc.name, err)
			}
			got = fmt.Sprintf("error at %d", at)
		}
		if got != tc.want {
			t.Errorf("%s: %s\n  want %s", tc.name, got, tc.want)
		}
		want := before[20:]
		if tc.out != nil {
			want = tc.out
		}
		if err == nil && !bytes.Equal(h[20:], want) {
			t.Errorf("%s: options % d after compiling, want % d", tc.name, h[20:], want)
		}
	}
}

// TestFragmentIPOptions: later fragments keep the source route and Router
// Alert (copied) and lose record route and timestamp (NOOPs, same length).
func TestFragmentIPOptions(t *testing.T) {
	h := ipHeader(131, 7, 4, 10, 0, 0, 1, 7, 7, 4, 0, 0, 0, 0, 68, 8, 5, 0, 0, 0, 0, 0, 148, 4, 0, 0, 1, 0)
	ipv4.FragmentIPOptions(h)
	want := []byte{131, 7, 4, 10, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 148, 4, 0, 0, 1, 0}
	if !bytes.Equal(h[20:], want) {
		t.Fatalf("% d\nwant % d", h[20:], want)
	}
	if o, _, err := ipv4.CompileIPOptions(h, ipv4.IPOptionContext{Received: true}); err != nil || o.SRR != 20 || o.RouterAlert != 42 || o.RR != 0 || o.TS != 0 {
		t.Fatalf("the fragment's options: %+v, %v", o, err)
	}
}

func FuzzCompileIPOptions(f *testing.F) {
	f.Add([]byte{7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0}, true)
	f.Add([]byte{68, 12, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0}, true)
	f.Add([]byte{131, 11, 4, 10, 0, 0, 1, 10, 0, 0, 2, 0}, false)
	f.Add([]byte{0, 7, 1, 9}, true)
	f.Add([]byte{68, 20, 5, 3, 198, 18, 0, 1, 0, 0, 0, 0, 10, 0, 0, 2, 0, 0, 0, 0}, true)
	f.Add([]byte{131, 15, 12, 10, 0, 0, 1, 10, 0, 0, 2, 10, 0, 0, 3, 0}, true)
	f.Add([]byte{7, 10, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0}, true)
	f.Fuzz(func(t *testing.T, opts []byte, received bool) {
		if len(opts) > ipv4.IPOptMaxLen {
			opts = opts[:ipv4.IPOptMaxLen]
		}
		h := ipHeader(opts...)
		n := len(h)
		ctx := ipv4.IPOptionContext{Received: received, Addr: [4]byte{198, 18, 0, 1}, Now: func() uint32 { return 7 },
			Local: func(a [4]byte) bool { return a[0] == 198 }}
		o, at, err := ipv4.CompileIPOptions(h, ctx)
		if len(h) != n {
			t.Fatal("the header changed length")
		}
		if err != nil {
			if at < 20 || at >= n {
				t.Fatalf("parameter problem at %d of a %d-byte header", at, n)
			}
			return
		}
		for _, off := range []int{o.SRR, o.RR, o.TS, o.RouterAlert} {
			if off != 0 && (off < 20 || off+2 > n || off+int(h[off+1]) > n) {
				t.Fatalf("an option at %d runs past the %d-byte header", off, n)
			}
		}
		// An answer's options (ip_options_echo): whole words, at most
		// 40 bytes, record route and timestamp always among them, each
		// option inside them; building them writes inside the header.
		var d [ipv4.IPOptMaxLen]byte
		if eo, err := ipv4.EchoIPOptions(&d, h, &o, func(a [4]byte) bool { return a[3]&1 == 0 }); err == nil {
			if eo.Len%4 != 0 || eo.Len > ipv4.IPOptMaxLen || (o.RR != 0) != (eo.RR != 0) || (o.TS != 0) != (eo.TS != 0) {
				t.Fatalf("echoed %d bytes from %+v", eo.Len, o)
			}
			ans := append(make([]byte, 20), d[:eo.Len]...)
			for _, off := range []int{eo.SRR, eo.RR, eo.TS} {
				if off != 0 && (off < 20 || off+int(ans[off+1]) > len(ans)) {
					t.Fatalf("an echoed option at %d runs past %d bytes", off, len(ans))
				}
			}
			ipv4.BuildIPOptions(ans, &eo, [4]byte{1, 2, 3, 4}, [4]byte{5, 6, 7, 8}, 9)
			if len(ans) != 20+eo.Len {
				t.Fatal("building changed the length")
			}
		}
		// Later fragments keep the length and every option with the
		// copied flag, byte for byte.
		before := append([]byte(nil), h...)
		ipv4.FragmentIPOptions(h)
		if len(h) != n {
			t.Fatal("fragmenting changed the header length")
		}
		if o.SRR != 0 && !bytes.Equal(h[o.SRR:o.SRR+int(before[o.SRR+1])], before[o.SRR:o.SRR+int(before[o.SRR+1])]) {
			t.Fatal("fragmenting changed the source route")
		}
		if o.RR != 0 && h[o.RR] != ipv4.IPOptNoop {
			t.Fatal("record route left in a later fragment")
		}
	})
}
