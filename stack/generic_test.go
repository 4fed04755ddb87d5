package stack_test

import (
	"fmt"
	"testing"

	"vnic/internal/stacktest"
	"vnic/stack"
)

// The tests' keys are made at initialisation, as a protocol makes its own,
// so the exhaustion test below cannot starve them.
var (
	hostKeyA = stack.NewHostKey[string]()
	hostKeyB = stack.NewHostKey[int]()
	devKeyA  = stack.NewDevKey[string]()
	devKeyB  = stack.NewDevKey[int]()
)

// A host key's state is nil until set; Set installs once per host (a
// second Set reports false and keeps the first); keys and hosts are
// independent of each other.
func TestHostKeySetOnce(t *testing.T) {
	_, h1 := stacktest.NewHost(t, 1)
	_, h2 := stacktest.NewHost(t, 1)
	if v := hostKeyA.Get(h1); v != nil {
		t.Fatalf("Get before Set: %v", *v)
	}
	first, second := "first", "second"
	if !hostKeyA.Set(h1, &first) {
		t.Fatal("first Set refused")
	}
	if hostKeyA.Set(h1, &second) {
		t.Fatal("second Set installed")
	}
	if v := hostKeyA.Get(h1); v != &first {
		t.Fatalf("Get after two Sets: %v, want the first", v)
	}
	if v := hostKeyA.Get(h2); v != nil {
		t.Fatalf("another host sees %q", *v)
	}
	if v := hostKeyB.Get(h1); v != nil {
		t.Fatalf("another key sees %d", *v)
	}
	n := 7
	if !hostKeyB.Set(h1, &n) || *hostKeyB.Get(h1) != 7 || hostKeyA.Get(h1) != &first {
		t.Fatal("a second key disturbed the first")
	}
}

// A device key behaves as a host key, and Clear removes the state so that
// a later Set installs again.
func TestDevKeySetOnceClear(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	d1, _ := stacktest.NewDev(t, h, 1)
	d2, _ := stacktest.NewDev(t, h, 1)
	if v := devKeyA.Get(d1); v != nil {
		t.Fatalf("Get before Set: %v", *v)
	}
	first, second := "first", "second"
	if !devKeyA.Set(d1, &first) || devKeyA.Set(d1, &second) || devKeyA.Get(d1) != &first {
		t.Fatal("Set does not install exactly once")
	}
	if devKeyA.Get(d2) != nil || devKeyB.Get(d1) != nil {
		t.Fatal("state leaked to another device or key")
	}
	n := 3
	devKeyB.Set(d1, &n)
	devKeyA.Clear(d1)
	if v := devKeyA.Get(d1); v != nil {
		t.Fatalf("Get after Clear: %q", *v)
	}
	if devKeyB.Get(d1) != &n {
		t.Fatal("Clear of one key cleared another")
	}
	if !devKeyA.Set(d1, &second) || devKeyA.Get(d1) != &second {
		t.Fatal("Set after Clear did not install")
	}
	devKeyA.Clear(d2) // nothing there: a no-op
	if devKeyA.Get(d2) != nil {
		t.Fatal("Clear of an empty slot installed something")
	}
}

// panicsWithin makes keys with mk until one panics, at most MaxKeys+1
// times, and returns the panic's message ("" if none panicked) and how
// many keys were made before it.
func panicsWithin(mk func()) (msg string, made int) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	for made = 0; made <= stack.MaxKeys; made++ {
		mk()
	}
	return "", made
}

// exhausted is set once a run of TestKeysExhaustPanics used up the keys
// (with -count, later runs find none left).
var exhausted bool

// More than MaxKeys keys of a kind is a bug and panics. Keys are counted
// per process, and this package's test binary holds keys made at
// initialisation (these tests', IPv4's, UDP's, rtnetlink's), so exactly how
// many remain is not observable: the test makes keys until one panics and
// checks that this happens within MaxKeys+1 and says why, that every key
// handed out before works (its slot exists: no key beyond the host's and
// the device's arrays), and that host and device keys are counted apart
// (each kind had some left). The binary's own keys are all made by then,
// so using up the rest is safe here.
func TestKeysExhaustPanics(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	d, _ := stacktest.NewDev(t, h, 1)
	v := struct{}{}
	for _, c := range []struct {
		kind string
		mk   func()
	}{
		{"host", func() {
			k := stack.NewHostKey[struct{}]()
			if k.Get(h) != nil || !k.Set(h, &v) || k.Get(h) != &v {
				panic("a new host key does not work")
			}
		}},
		{"device", func() {
			k := stack.NewDevKey[struct{}]()
			if k.Get(d) != nil || !k.Set(d, &v) || k.Get(d) != &v {
				panic("a new device key does not work")
			}
			k.Clear(d)
		}},
	} {
		msg, made := panicsWithin(c.mk)
		want := fmt.Sprintf("stack: more than %d %s keys", stack.MaxKeys, c.kind)
		if msg != want {
			t.Errorf("%s keys: %d made, panic %q, want %q", c.kind, made, msg, want)
		}
		if made >= stack.MaxKeys-1 {
			t.Errorf("%s keys: %d made before the panic, but at least two were made at initialisation", c.kind, made)
		}
		if !exhausted && made == 0 {
			t.Errorf("%s keys: none left on the first exhaustion (counted with the other kind?)", c.kind)
		}
		if exhausted && made != 0 {
			t.Errorf("%s keys: %d made after exhaustion", c.kind, made)
		}
		// The counter stays exhausted.
		if msg, made := panicsWithin(c.mk); msg != want || made != 0 {
			t.Errorf("%s keys: after exhaustion, %d made, panic %q", c.kind, made, msg)
		}
	}
	exhausted = true
	// The keys made before still work.
	s := "still"
	if !hostKeyA.Set(h, &s) || hostKeyA.Get(h) != &s {
		t.Fatal("a key made before exhaustion stopped working")
	}
}
