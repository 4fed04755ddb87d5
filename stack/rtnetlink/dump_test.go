package rtnetlink_test

import (
	"fmt"
	"testing"

	"vnic/internal/stacktest"
	"vnic/stack"
	"vnic/stack/rtnetlink"
)

// counting is a Dumper of n messages "0".."n-1", its place in cb.Args[0].
func counting(n int) rtnetlink.Dumper {
	return func(h *stack.Host, req rtnetlink.Request, cb *rtnetlink.Callback, add func(rtnetlink.Message) bool) (bool, error) {
		for i := int(cb.Args[0]); i < n; i++ {
			if !add(rtnetlink.Reply(req.Type, []byte(fmt.Sprint(i)))) {
				return false, nil
			}
			cb.Args[0] = int64(i + 1)
		}
		return true, nil
	}
}

// Dump hands out a dump in batches of what add takes, resuming where the
// last batch stopped, from a Dumper or from a DumpIt's whole answer alike;
// Handle runs a Dumper to the end.
func TestDumpBatches(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	rtnetlink.RegisterDumper(h, 102, counting(10))
	rtnetlink.Register(h, 106, nil, func(h *stack.Host, req rtnetlink.Request) ([]rtnetlink.Message, error) {
		var out []rtnetlink.Message
		for i := 0; i < 10; i++ {
			out = append(out, rtnetlink.Reply(req.Type, []byte(fmt.Sprint(i))))
		}
		return out, nil
	})
	for _, typ := range []uint16{102, 106} {
		req := rtnetlink.Request{Type: typ, Flags: 0x301}
		cb := &rtnetlink.Callback{}
		var got []string
		var batches []int
		for done := false; !done; {
			n := 0
			var err error
			done, err = rtnetlink.Dump(h, req, cb, func(m rtnetlink.Message) bool {
				if n == 3 {
					return false // a batch holds 3
				}
				n++
				got = append(got, string(m.Body))
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			batches = append(batches, n)
			if len(batches) > 10 {
				t.Fatalf("type %d: no end", typ)
			}
		}
		if fmt.Sprint(got) != "[0 1 2 3 4 5 6 7 8 9]" || fmt.Sprint(batches) != "[3 3 3 1]" {
			t.Errorf("type %d: %v in batches %v", typ, got, batches)
		}
	}
	ms, err := rtnetlink.Handle(h, rtnetlink.Request{Type: 102, Flags: 0x301})
	if err != nil || len(ms) != 10 || string(ms[9].Body) != "9" {
		t.Errorf("Handle of a Dumper's type: %d messages, %v", len(ms), err)
	}
	// A later Register replaces the Dumper.
	rtnetlink.Register(h, 102, nil, nil)
	if _, err := rtnetlink.Handle(h, rtnetlink.Request{Type: 102, Flags: 0x301}); err == nil {
		t.Error("a replaced Dumper still answers")
	}
}
