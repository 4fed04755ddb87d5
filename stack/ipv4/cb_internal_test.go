package ipv4

import (
	"reflect"
	"testing"
	"vnic/stack"
)

// hasPointers reports whether values of t hold a pointer the collector
// would have to see.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.UnsafePointer, reflect.Map, reflect.Slice, reflect.String,
		reflect.Chan, reflect.Func, reflect.Interface:
		return true
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}

// The control block is not scanned by the collector: a view that held a
// pointer would let its target be freed under it.
func TestControlBlocksHoldNoPointers(t *testing.T) {
	for _, v := range []any{ipCB{}, fragCB{}} {
		typ := reflect.TypeOf(v)
		if hasPointers(typ) {
			t.Errorf("%v holds a pointer", typ)
		}
		if typ.Size() > stack.CBSize || typ.Align() > 8 {
			t.Errorf("%v: size %d align %d, the control block has %d bytes aligned to 8", typ, typ.Size(), typ.Align(), stack.CBSize)
		}
	}
}
