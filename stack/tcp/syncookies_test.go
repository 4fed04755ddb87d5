package tcp

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
	"time"
)

func cookieTestKeys(t testing.TB) *CookieKeys {
	t.Helper()
	seed := make([]byte, 32)
	for i := range seed {
		seed[i] = 0x50 + byte(i)
	}
	k, err := NewCookieKeys(bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var (
	cookieClient = [4]byte{198, 18, 0, 2}
	cookieServer = [4]byte{198, 18, 0, 1}
)

const (
	cookieSport  = 51000
	cookieDport  = 80
	cookieISN    = 0x12345678
	cookieMinute = time.Minute
)

func TestNewCookieKeys(t *testing.T) {
	k := cookieTestKeys(t)
	if k.secret[0] != sipTestKey(0x50) || k.secret[1] != sipTestKey(0x60) {
		t.Errorf("keys %x, want the seed's halves", k.secret)
	}
	if _, err := NewCookieKeys(bytes.NewReader(make([]byte, 31))); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("31 bytes: err %v, want io.ErrUnexpectedEOF", err)
	}
	boom := errors.New("boom")
	if _, err := NewCookieKeys(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Errorf("failing reader: err %v", err)
	}
}

// The expected cookies were computed with an independent SipHash-2-4
// (written from the paper, outside this repository) over the bytes
// cookie_hash hashes; the cookieHash row is reference vector 16 (message
// 00 … 0f: the tuple's 12 bytes and count 0x0f0e0d0c little-endian).
func TestCookieValues(t *testing.T) {
	k := cookieTestKeys(t)
	zero := CookieKeys{secret: [2][16]byte{sipTestKey(0), sipTestKey(0)}}
	if h := zero.cookieHash([4]byte{0, 1, 2, 3}, [4]byte{4, 5, 6, 7}, 0x0a0b, 0x0809, 0x0f0e0d0c, 1); h != 0x57c29bdb {
		t.Errorf("cookieHash = %#08x, want vector 16's 0x57c29bdb", h)
	}
	if h := k.cookieHash(cookieClient, cookieServer, cookieSport, cookieDport, 0, 0); h != 0xa6a068ea {
		t.Errorf("H0 = %#08x, want 0xa6a068ea", h)
	}
	for _, c := range []struct {
		mss     uint16
		now     time.Duration
		want    uint32
		wantMSS uint16
	}{
		{1460, 10*cookieMinute + 5*time.Second, 0xc372a4b9, 1460},
		{536, 10 * cookieMinute, 0xc372a4b6, 536},
		{1300, 255*cookieMinute + 59*time.Second, 0xb83b97b9, 1300},
		{1440, 256 * cookieMinute, 0xb9a48459, 1440}, // the counter's byte wraps to 0
	} {
		isn, mss := CookieInitSequence(k, cookieClient, cookieServer, cookieSport, cookieDport, cookieISN, c.mss, c.now)
		if isn != c.want || mss != c.wantMSS {
			t.Errorf("MSS %d at %v: cookie %#08x MSS %d, want %#08x MSS %d", c.mss, c.now, isn, mss, c.want, c.wantMSS)
		}
	}
}

// Every MSS rounds down to the table (up to 536 below it), and every
// table entry survives the round trip at every minute of its life.
func TestCookieMSS(t *testing.T) {
	k := cookieTestKeys(t)
	for _, c := range []struct{ in, want uint16 }{
		{0, 536}, {88, 536}, {535, 536}, {536, 536}, {537, 536}, {1299, 536},
		{1300, 1300}, {1301, 1300}, {1439, 1300}, {1440, 1440}, {1452, 1440}, {1459, 1440},
		{1460, 1460}, {1461, 1460}, {8960, 1460}, {65535, 1460},
	} {
		now := 7*cookieMinute + 30*time.Second
		isn, got := CookieInitSequence(k, cookieClient, cookieServer, cookieSport, cookieDport, cookieISN, c.in, now)
		if got != c.want {
			t.Errorf("MSS %d encodes as %d, want %d", c.in, got, c.want)
		}
		if mss, ok := CookieCheck(k, cookieClient, cookieServer, cookieSport, cookieDport, cookieISN, isn, now); !ok || mss != c.want {
			t.Errorf("MSS %d: check gives %d, %v; want %d", c.in, mss, ok, c.want)
		}
	}
}

// A cookie is good in its minute and the next, not before and not after,
// to the nanosecond; the 8-bit counter wraps.
func TestCookieAge(t *testing.T) {
	k := cookieTestKeys(t)
	for _, c := range []struct {
		name      string
		made, now time.Duration
		ok        bool
	}{
		{"same instant", 0, 0, true},
		{"end of its minute", 0, cookieMinute - 1, true},
		{"start of the next", 0, cookieMinute, true},
		{"end of the next", 0, 2*cookieMinute - 1, true},
		{"two minutes on", 0, 2 * cookieMinute, false},
		{"made at 59.999s, checked at 119.999s", cookieMinute - time.Millisecond, 2*cookieMinute - time.Millisecond, true},
		{"made at 59.999s, checked at 120s", cookieMinute - time.Millisecond, 2 * cookieMinute, false},
		{"made at 60s, checked at 179.999s", cookieMinute, 3*cookieMinute - time.Millisecond, true},
		{"made at 60s, checked at 180s", cookieMinute, 3 * cookieMinute, false},
		{"the minute before it was made", 5 * cookieMinute, 5*cookieMinute - 1, false},
		{"an hour on", 5 * cookieMinute, 65 * cookieMinute, false},
		{"256 minutes on: the counter's byte matches, the hash does not", 5 * cookieMinute, 261 * cookieMinute, false},
		{"made in minute 255, checked in 256", 255 * cookieMinute, 256 * cookieMinute, true},
		{"made in minute 255, checked in 257", 255 * cookieMinute, 257 * cookieMinute, false},
	} {
		isn, _ := CookieInitSequence(k, cookieClient, cookieServer, cookieSport, cookieDport, cookieISN, 1460, c.made)
		mss, ok := CookieCheck(k, cookieClient, cookieServer, cookieSport, cookieDport, cookieISN, isn, c.now)
		if ok != c.ok || ok && mss != 1460 || !ok && mss != 0 {
			t.Errorf("%s: check = %d, %v; want ok %v", c.name, mss, ok, c.ok)
		}
	}
}

// Any change to the tuple, either sequence number or the keys fails the
// check.
func TestCookieTampered(t *testing.T) {
	k := cookieTestKeys(t)
	now := 42 * cookieMinute
	isn, _ := CookieInitSequence(k, cookieClient, cookieServer, cookieSport, cookieDport, cookieISN, 1440, now)
	other, err := NewCookieKeys(bytes.NewReader(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name         string
		keys         *CookieKeys
		saddr, daddr [4]byte
		sport, dport uint16
		cisn, isn    uint32
	}{
		{"saddr", k, [4]byte{198, 18, 0, 3}, cookieServer, cookieSport, cookieDport, cookieISN, isn},
		{"daddr", k, cookieClient, [4]byte{198, 18, 0, 9}, cookieSport, cookieDport, cookieISN, isn},
		{"addresses swapped", k, cookieServer, cookieClient, cookieSport, cookieDport, cookieISN, isn},
		{"sport", k, cookieClient, cookieServer, cookieSport + 1, cookieDport, cookieISN, isn},
		{"dport", k, cookieClient, cookieServer, cookieSport, cookieDport + 1, cookieISN, isn},
		{"ports swapped", k, cookieClient, cookieServer, cookieDport, cookieSport, cookieISN, isn},
		{"client ISN + 3 (index -1)", k, cookieClient, cookieServer, cookieSport, cookieDport, cookieISN + 3, isn},
		{"client ISN - 2 (index 4)", k, cookieClient, cookieServer, cookieSport, cookieDport, cookieISN - 2, isn},
		{"client ISN + 2^31", k, cookieClient, cookieServer, cookieSport, cookieDport, cookieISN + 1<<31, isn},
		{"cookie + 4 (index 6)", k, cookieClient, cookieServer, cookieSport, cookieDport, cookieISN, isn + 4},
		{"cookie + 2^24 (a minute ahead)", k, cookieClient, cookieServer, cookieSport, cookieDport, cookieISN, isn + 1<<24},
		{"other keys", other, cookieClient, cookieServer, cookieSport, cookieDport, cookieISN, isn},
	} {
		if mss, ok := CookieCheck(c.keys, c.saddr, c.daddr, c.sport, c.dport, c.cisn, c.isn, now); ok {
			t.Errorf("%s: accepted with MSS %d", c.name, mss)
		}
	}
	if mss, ok := CookieCheck(k, cookieClient, cookieServer, cookieSport, cookieDport, cookieISN, isn, now); !ok || mss != 1440 {
		t.Errorf("untouched: %d, %v", mss, ok)
	}
	// The cookie is linear in the client's ISN, in Linux as here: one
	// more moves the index down one, to another MSS of the table.
	if mss, ok := CookieCheck(k, cookieClient, cookieServer, cookieSport, cookieDport, cookieISN+1, isn, now); !ok || mss != 1300 {
		t.Errorf("client ISN + 1: %d, %v; want 1300, true", mss, ok)
	}
}

func TestCookieTimestamp(t *testing.T) {
	at := 100 * time.Second // 100000 ms, 32 past a multiple of 64
	for _, c := range []struct {
		name string
		now  time.Duration
		o    CookieTSOptions
		want uint32
	}{
		{"wscale 7, SACK", at, CookieTSOptions{WScaleOK: true, WScale: 7, SACKOK: true}, 99968 | 0x17},
		{"no wscale, nothing else", at, CookieTSOptions{}, 99968 | 0x0f},
		{"wscale 0", at, CookieTSOptions{WScaleOK: true}, 99968},
		{"wscale 7, SACK, ECN: ahead, so 64 back", at, CookieTSOptions{WScaleOK: true, WScale: 7, SACKOK: true, ECNOK: true}, 99968 - 64 + 0x37},
		{"bits equal to the clock's", at, CookieTSOptions{WScaleOK: true, WScale: 0, ECNOK: true}, 100000},
		{"sub-ms part ignored", at + 999*time.Microsecond, CookieTSOptions{WScaleOK: true, WScale: 14, SACKOK: true, ECNOK: true}, 99968 - 64 + 0x3e},
		{"past 2^32 ms the value wraps", (1<<32 + 640) * time.Millisecond, CookieTSOptions{WScaleOK: true, WScale: 2}, (640 - 64) | 2},
	} {
		got := CookieTimestamp(c.now, c.o)
		if got != c.want {
			t.Errorf("%s: CookieTimestamp = %d, want %d", c.name, got, c.want)
		}
	}
}

// Every option combination comes back from its TSval, which never runs
// ahead of the clock nor falls 64 ms behind it.
func TestCookieTimestampRoundTrip(t *testing.T) {
	for ms := range []int{0, 1} {
		now := time.Duration(123456789+ms*37) * time.Millisecond
		tsNow := uint32(now / time.Millisecond)
		for ws := 0; ws <= 15; ws++ {
			for bits := range 4 {
				o := CookieTSOptions{WScaleOK: ws < 15, SACKOK: bits&1 != 0, ECNOK: bits&2 != 0}
				if o.WScaleOK {
					o.WScale = uint8(ws)
				}
				ts := CookieTimestamp(now, o)
				if ts > tsNow || tsNow-ts >= 64 {
					t.Errorf("%+v: TSval %d for clock %d", o, ts, tsNow)
				}
				got, ok := CookieTimestampDecode(ts, true, true)
				if !ok || got != o {
					t.Errorf("%+v: TSval %#x decodes to %+v, %v", o, ts, got, ok)
				}
			}
		}
	}
}

func TestCookieTimestampDecode(t *testing.T) {
	for _, c := range []struct {
		name         string
		tsecr        uint32
		sack, wscale bool
		want         CookieTSOptions
		ok           bool
	}{
		{"wscale 7 SACK", 0x1000 | 0x17, true, true, CookieTSOptions{WScaleOK: true, WScale: 7, SACKOK: true}, true},
		{"SACK with tcp_sack off", 0x17, false, true, CookieTSOptions{SACKOK: true}, false},
		{"wscale with tcp_window_scaling off", 0x07, true, false, CookieTSOptions{WScaleOK: true, WScale: 7}, false},
		{"no wscale with tcp_window_scaling off", 0x0f, true, false, CookieTSOptions{}, true},
		{"ECN only", 0x2f, false, false, CookieTSOptions{ECNOK: true}, true},
		{"wscale 14", 0x0e, true, true, CookieTSOptions{WScaleOK: true, WScale: 14}, true},
	} {
		got, ok := CookieTimestampDecode(c.tsecr, c.sack, c.wscale)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: %+v, %v; want %+v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestCookieNoAllocs(t *testing.T) {
	k := cookieTestKeys(t)
	var sink uint32
	if n := testing.AllocsPerRun(100, func() {
		isn, _ := CookieInitSequence(k, cookieClient, cookieServer, cookieSport, cookieDport, cookieISN, 1460, time.Hour)
		mss, _ := CookieCheck(k, cookieClient, cookieServer, cookieSport, cookieDport, cookieISN, isn, time.Hour)
		sink += isn + uint32(mss) + CookieTimestamp(time.Hour, CookieTSOptions{SACKOK: true})
	}); n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
	_ = sink
}

func BenchmarkCookieCheck(b *testing.B) {
	k := cookieTestKeys(b)
	isn, _ := CookieInitSequence(k, cookieClient, cookieServer, cookieSport, cookieDport, cookieISN, 1460, time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := CookieCheck(k, cookieClient, cookieServer, cookieSport, cookieDport, cookieISN, isn, time.Hour); !ok {
			b.Fatal("rejected")
		}
	}
}
