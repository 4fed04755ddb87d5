package header

import (
	"bytes"
	"math/rand"
	"reflect"
	"testing"
)

// field is one accessor pair of a view: set stores a value, get reads it
// back as val, and the bytes at off change to wire and no others.
type field struct {
	name string
	off  int
	wire []byte
	set  func(b []byte)
	get  func(b []byte) any
	val  any
}

// checkFields runs each field's setter on a size-byte buffer of random
// bytes and checks the getter, the bytes written and the bytes left alone.
func checkFields(t *testing.T, size int, fields []field) {
	t.Helper()
	r := rand.New(rand.NewSource(int64(size)))
	for _, f := range fields {
		t.Run(f.name, func(t *testing.T) {
			before := make([]byte, size)
			r.Read(before)
			b := bytes.Clone(before)
			f.set(b)
			if got := f.get(b); !reflect.DeepEqual(got, f.val) {
				t.Errorf("get after set = %#v, want %#v", got, f.val)
			}
			if got := b[f.off : f.off+len(f.wire)]; !bytes.Equal(got, f.wire) {
				t.Errorf("bytes %d..%d = % x, want % x", f.off, f.off+len(f.wire), got, f.wire)
			}
			for i := range b {
				if (i < f.off || i >= f.off+len(f.wire)) && b[i] != before[i] {
					t.Errorf("byte %d changed: %#x → %#x", i, before[i], b[i])
				}
			}
		})
	}
}

// validCase is one IsValid edge.
type validCase struct {
	name string
	b    []byte
	want bool
}

func checkValid(t *testing.T, isValid func([]byte) bool, cases []validCase) {
	t.Helper()
	for _, c := range cases {
		if got := isValid(c.b); got != c.want {
			t.Errorf("%s: IsValid(% x) = %v, want %v", c.name, c.b, got, c.want)
		}
	}
}

// pad returns b followed by zeros up to n bytes.
func pad(b []byte, n int) []byte {
	return append(bytes.Clone(b), make([]byte, max(0, n-len(b)))...)
}

// TestShortViewPanics: an accessor checks the slice's length, not its
// capacity: a view cut short panics instead of reading or writing the
// bytes past its end.
func TestShortViewPanics(t *testing.T) {
	buf := make([]byte, 64)
	for _, c := range []struct {
		name string
		fn   func()
	}{
		{"TCP.DstPort", func() { _ = TCP(buf[:3]).DstPort() }},
		{"TCP.SetAck", func() { TCP(buf[:11]).SetAck(1) }},
		{"IPv4.TotalLen", func() { _ = IPv4(buf[:3]).TotalLen() }},
		{"IPv4.SetChecksum", func() { IPv4(buf[:11]).SetChecksum(1) }},
		{"UDP.Checksum", func() { _ = UDP(buf[:7]).Checksum() }},
		{"Ethernet.Type", func() { _ = Ethernet(buf[:13]).Type() }},
		{"ICMPv4.Rest", func() { _ = ICMPv4(buf[:7]).Rest() }},
		{"IPv4.Dst", func() { _ = IPv4(buf[:19]).Dst() }},
		{"IPv4.SetSrc", func() { IPv4(buf[:15]).SetSrc([4]byte{1, 2, 3, 4}) }},
		{"Ethernet.SetSrc", func() { Ethernet(buf[:11]).SetSrc([6]byte{1}) }},
		{"ARP.TPA", func() { _ = ARP(buf[:27]).TPA() }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s on a short slice did not panic", c.name)
				}
			}()
			c.fn()
		}()
	}
	for i, v := range buf {
		if v != 0 {
			t.Fatalf("byte %d past a short view written", i)
		}
	}
}
