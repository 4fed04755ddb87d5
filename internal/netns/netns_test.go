package netns

import (
	"testing"
)

// A host's record round-trips, an nsid of -1 (none) included.
func TestInfoCodec(t *testing.T) {
	for _, h := range []Info{{Name: "ns1", Handle: 3, NSID: 0}, {Name: "a b", Handle: 1, NSID: -1}, {Name: "x", Handle: 9, NSID: 42}} {
		got, err := decode(encode(h))
		if err != nil || got != h {
			t.Errorf("%+v → %+v (%v)", h, got, err)
		}
	}
}

// The decoder takes any bytes without panicking.
func FuzzDecodeInfo(f *testing.F) {
	f.Add(encode(Info{Name: "ns1", Handle: 3, NSID: 1}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if h, err := decode(b); err == nil {
			if _, err := decode(encode(h)); err != nil {
				t.Fatalf("%+v does not round-trip: %v", h, err)
			}
		}
	})
}
