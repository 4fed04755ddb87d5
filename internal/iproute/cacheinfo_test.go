package iproute

import (
	"encoding/binary"
	"testing"
)

// RouteCacheInfo finds RTA_CACHEINFO among a route message's attributes
// and reads rta_expires; short, truncated or absent attributes give none.
func TestRouteCacheInfo(t *testing.T) {
	attr := func(typ uint16, payload []byte) []byte {
		b := make([]byte, 4, 4+len(payload)+3)
		binary.NativeEndian.PutUint16(b, uint16(4+len(payload)))
		binary.NativeEndian.PutUint16(b[2:], typ)
		b = append(b, payload...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	ci := make([]byte, 32)
	binary.NativeEndian.PutUint32(ci[8:], 59950)
	rtmsg := make([]byte, 12)
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	for _, c := range []struct {
		name string
		body []byte
		want int32
	}{
		{"after others", cat(rtmsg, attr(15, []byte{0, 0, 0, 254}), attr(5, []byte{1}), attr(rtaCacheInfo, ci)), 59950},
		{"absent", cat(rtmsg, attr(15, []byte{0, 0, 0, 254})), 0},
		{"too short", cat(rtmsg, attr(rtaCacheInfo, ci[:8])), 0},
		{"truncated", cat(rtmsg, attr(rtaCacheInfo, ci))[:12+20], 0},
		{"no rtmsg", []byte{1, 2, 3}, 0},
		{"zero length", cat(rtmsg, []byte{0, 0, 12, 0}), 0},
	} {
		if got := RouteCacheInfo(c.body).Expires; got != c.want {
			t.Errorf("%s: expires %d, want %d", c.name, got, c.want)
		}
	}
}
