package packetdrill

import (
	"reflect"
	"testing"
)

// mustParse parses src (as file "t.pkt") and checks that printing it and
// parsing the print gives the same script.
func mustParse(t *testing.T, src string) *Script {
	t.Helper()
	s, err := Parse("t.pkt", []byte(src))
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	checkRoundTrip(t, "t.pkt", []byte(src))
	return s
}

// checkRoundTrip checks, for a script that parses, that parse(Format(s))
// equals s but for positions, and that Format is stable.
func checkRoundTrip(t testing.TB, name string, src []byte) {
	t.Helper()
	s, err := Parse(name, src)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	out := Format(s)
	again, err := Parse(name, []byte(out))
	if err != nil {
		t.Fatalf("Parse(Format(s)): %v\n%s", err, out)
	}
	if out2 := Format(again); out2 != out {
		t.Fatalf("Format not stable:\n%s\nthen\n%s", out, out2)
	}
	stripPos(reflect.ValueOf(s))
	stripPos(reflect.ValueOf(again))
	if !reflect.DeepEqual(s, again) {
		t.Fatalf("parse(Format(s)) differs from s:\n%s\nthen\n%#v\nvs\n%#v", out, s, again)
	}
}

// stripPos zeroes every Pos reachable from v (a pointer), in place.
func stripPos(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			stripPos(v.Elem())
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			stripPos(v.Index(i))
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[Pos]() {
			if v.CanSet() {
				v.Set(reflect.Zero(v.Type()))
			}
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if f := v.Field(i); f.CanSet() {
				stripPos(f)
			}
		}
	}
}

// parseError parses src, wants an error and returns its text.
func parseError(t *testing.T, src string) string {
	t.Helper()
	s, err := Parse("t.pkt", []byte(src))
	if err == nil {
		t.Fatalf("Parse(%q) = %s, want an error", src, Format(s))
	}
	return err.Error()
}

// event1 parses src and returns its only event.
func event1(t *testing.T, src string) Event {
	t.Helper()
	s := mustParse(t, src)
	if len(s.Events) != 1 {
		t.Fatalf("%q: %d events, want 1", src, len(s.Events))
	}
	return s.Events[0]
}
