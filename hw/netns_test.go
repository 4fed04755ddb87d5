package hw

import "testing"

// A namespace name is a name under /var/run/netns, never a path.
func TestValidNetns(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"vnic-test", true}, {"a", true}, {"ns.1", true},
		{"", false}, {".", false}, {"..", false}, {"../../etc/passwd", false}, {"a/b", false},
		{"x\x00y", false}, {string(make([]byte, 256)), false},
	} {
		if err := ValidNetns(c.name); (err == nil) != c.ok {
			t.Errorf("%q: %v, want ok %v", c.name, err, c.ok)
		}
	}
}
