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
