package tcp

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// SYN cookies as Linux's IPv4 side makes them (net/ipv4/syncookies.c). A
// listener whose SYN queue overflows answers a SYN without keeping state:
// the SYN-ACK's sequence number is the cookie, and the ACK that comes back
// (ack = cookie+1) must prove it within two minutes. The cookie is
//
//	cookie = H0 + ISNc + count·2^24 + ((H1 + i) mod 2^24)   (mod 2^32)
//
// where ISNc is the client's initial sequence number, count the minute
// counter (tcp_cookie_time), i the index of the MSS in cookieMSSTab, and
// H0, H1 the low 32 bits of SipHash-2-4 over the 16 bytes
//
//	saddr ‖ daddr ‖ dport ‖ sport ‖ c   (c: 0 for H0, count for H1, little-endian)
//
// under the two halves of CookieKeys (syncookie_secret[0] and [1]); the
// addresses and ports are the client's segment's, so saddr:sport is the
// client. The top 8 bits carry the counter's low byte; checking strips H0
// and ISNc, reads the counter's age from them, and strips H1 to recover i.
//
// With timestamps on, the SYN's other options ride in the SYN-ACK's TSval
// (CookieTimestamp).

// cookieMSSTab is msstab: the MSS values a cookie can carry, sorted. The
// choice follows Alcock and Nelson's 2011 survey of announced MSS values
// (1460 the most common, 1440 for PPPoE paths, 1300 for tunnels).
var cookieMSSTab = [4]uint16{536, 1300, 1440, 1460}

const (
	cookieBits = 24 // COOKIEBITS: the counter sits above them
	cookieMask = 1<<cookieBits - 1

	// cookieMaxAge is MAX_SYNCOOKIE_AGE: a cookie is good in the minute
	// it was made and the next.
	cookieMaxAge = 2
	// cookiePeriod is TCP_SYNCOOKIE_PERIOD, one tick of the counter.
	cookiePeriod = 60 * time.Second

	// The options in the low 6 bits of a cookie SYN-ACK's TSval.
	cookieTSWScale = 0xf // TS_OPT_WSCALE_MASK; 0xf: no window scaling
	cookieTSSACK   = 1 << 4
	cookieTSECN    = 1 << 5
	cookieTSBits   = 6
)

// CookieKeys are the two SipHash keys of Linux's syncookie_secret, one per
// host (Linux has one for the whole kernel).
type CookieKeys struct{ secret [2][16]byte }

// NewCookieKeys reads the two keys, 32 bytes, from r: crypto/rand.Reader
// for secrets like Linux's (net_get_random_once), a seeded source or a
// fixed seed (bytes.NewReader) for reproducible runs. It fails only when r
// does.
func NewCookieKeys(r io.Reader) (*CookieKeys, error) {
	var k CookieKeys
	for i := range k.secret {
		if _, err := io.ReadFull(r, k.secret[i][:]); err != nil {
			return nil, fmt.Errorf("tcp: cookie keys: %w", err)
		}
	}
	return &k, nil
}

// cookieHash is cookie_hash: siphash_4u32 of the addresses, the ports word
// and count under secret c, the low 32 bits.
func (k *CookieKeys) cookieHash(saddr, daddr [4]byte, sport, dport uint16, count uint32, c int) uint32 {
	var m [16]byte
	t := secureTuple(saddr, daddr, sport, dport)
	copy(m[:12], t[:])
	binary.LittleEndian.PutUint32(m[12:], count)
	return uint32(sipHash(&k.secret[c], m[:]))
}

// cookieTime is tcp_cookie_time: minutes of the caller's clock. Linux counts
// jiffies from boot (starting five minutes short of a 32-bit wrap); any
// clock that only moves forward will do, since only differences matter.
func cookieTime(now time.Duration) uint32 { return uint32(uint64(now) / uint64(cookiePeriod)) }

// cookieMSSIndex is the largest table entry not above mss, or the first
// (536) when mss is below them all: Linux rounds an MSS under 536 up.
func cookieMSSIndex(mss uint16) int {
	i := len(cookieMSSTab) - 1
	for i > 0 && mss < cookieMSSTab[i] {
		i--
	}
	return i
}

// CookieInitSequence is __cookie_v4_init_sequence: the cookie to send as
// the SYN-ACK's sequence number for a SYN from saddr:sport to daddr:dport
// with sequence number clientISN and MSS option mss, at now on the caller's
// clock (see the formula above). It also returns the MSS the connection
// will use, mss rounded down to the table (536 for anything below).
func CookieInitSequence(keys *CookieKeys, saddr, daddr [4]byte, sport, dport uint16, clientISN uint32, mss uint16, now time.Duration) (isn uint32, mssIndexMSS uint16) {
	i := cookieMSSIndex(mss)
	count := cookieTime(now)
	isn = keys.cookieHash(saddr, daddr, sport, dport, 0, 0) + clientISN + count<<cookieBits +
		(keys.cookieHash(saddr, daddr, sport, dport, count, 1)+uint32(i))&cookieMask
	return isn, cookieMSSTab[i]
}

// CookieCheck is __cookie_v4_check for the ACK completing a cookie
// handshake: saddr:sport to daddr:dport as in that ACK (the client's
// side first, as for CookieInitSequence), clientISN its sequence number
// less one and isn its acknowledgment number less one. It accepts a cookie
// made in the current minute of now or the one before (the counter's age
// below MAX_SYNCOOKIE_AGE, counted modulo 256 as the cookie keeps 8 bits of
// it) whose MSS index is in the table, and returns that MSS.
func CookieCheck(keys *CookieKeys, saddr, daddr [4]byte, sport, dport uint16, clientISN, isn uint32, now time.Duration) (mss uint16, ok bool) {
	count := cookieTime(now)
	c := isn - (keys.cookieHash(saddr, daddr, sport, dport, 0, 0) + clientISN)
	age := (count - c>>cookieBits) & (1<<(32-cookieBits) - 1)
	if age >= cookieMaxAge {
		return 0, false
	}
	i := (c - keys.cookieHash(saddr, daddr, sport, dport, count-age, 1)) & cookieMask
	if i >= uint32(len(cookieMSSTab)) {
		return 0, false
	}
	return cookieMSSTab[i], true
}

// CookieTSOptions are the SYN options a timestamp cookie carries: what
// Linux keeps in the request sock and cannot keep without one.
type CookieTSOptions struct {
	WScaleOK bool  // the SYN offered window scaling
	WScale   uint8 // its shift (snd_wscale), 0 to 14
	SACKOK   bool  // the SYN offered SACK
	ECNOK    bool  // ECN was negotiated
}

// CookieTimestamp is cookie_init_timestamp: the TSval (before the
// connection's timestamp offset is added) of a cookie SYN-ACK whose SYN
// offered timestamps, now being the caller's TCP clock (Linux's
// tcp_clock_ns, in milliseconds on the wire). The low 6 bits hold
//
//	bit:  5     4      3..0
//	      ECN   SACK   window shift (0xf: no window scaling)
//
// and the rest is the clock in ms, moved back by 64 ms when the bits
// would put it ahead: the later timestamps of the connection run on the
// plain clock and must not go backwards.
func CookieTimestamp(now time.Duration, o CookieTSOptions) uint32 {
	opts := uint64(cookieTSWScale)
	if o.WScaleOK {
		opts = uint64(o.WScale & cookieTSWScale)
	}
	if o.SACKOK {
		opts |= cookieTSSACK
	}
	if o.ECNOK {
		opts |= cookieTSECN
	}
	tsNow := uint64(now) / uint64(time.Millisecond)
	ts := tsNow>>cookieTSBits<<cookieTSBits | opts
	if ts > tsNow {
		ts -= 1 << cookieTSBits
	}
	// Linux hands the value on as a departure time in ns and divides it
	// back to ms: the same number, except in the clock's first 64 ms,
	// where ts has wrapped below zero and the round trip keeps Linux's
	// arithmetic.
	return uint32(ts * uint64(time.Millisecond) / uint64(time.Millisecond))
}

// CookieTimestampDecode is cookie_timestamp_decode for the ACK of a cookie
// handshake that carries a timestamp: tsecr is its TSecr less the
// connection's timestamp offset (Linux subtracts it when TSecr is not 0).
// It returns the SYN's options, and false when they ask for what the host
// has turned off: SACK without sack (net.ipv4.tcp_sack), or window scaling
// without windowScaling (net.ipv4.tcp_window_scaling). An ACK without a
// timestamp carries no options, and a host with net.ipv4.tcp_timestamps off
// takes none: both are the caller's to handle first, as is ECN's sysctl
// (cookie_ecn_ok) for ECNOK.
func CookieTimestampDecode(tsecr uint32, sack, windowScaling bool) (o CookieTSOptions, ok bool) {
	o.SACKOK = tsecr&cookieTSSACK != 0
	o.ECNOK = tsecr&cookieTSECN != 0
	if o.SACKOK && !sack {
		return o, false
	}
	if tsecr&cookieTSWScale == cookieTSWScale {
		return o, true
	}
	o.WScaleOK, o.WScale = true, uint8(tsecr&cookieTSWScale)
	return o, windowScaling
}
