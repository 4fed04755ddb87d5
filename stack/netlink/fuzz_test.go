package netlink

import (
	"testing"

	mnl "github.com/mdlayher/netlink"
)

// FuzzUnmarshal: arbitrary packets split into messages or fail cleanly;
// an error message parses whatever it carries.
func FuzzUnmarshal(f *testing.F) {
	b, _ := Marshal([]mnl.Message{ErrorMsg(mnl.Header{Type: 20, Sequence: 3}, 22, "bad", 40)})
	f.Add(b)
	f.Fuzz(func(t *testing.T, p []byte) {
		msgs, err := Unmarshal(p)
		if err != nil {
			return
		}
		for _, m := range msgs {
			if m.Header.Type == mnl.Error {
				ParseError(m)
			}
			SplitGenl(m.Data)
		}
	})
}

func TestErrorMessageRoundTrip(t *testing.T) {
	m := ErrorMsg(mnl.Header{Type: 20, Flags: mnl.Request, Sequence: 7}, 22, "requested channel count exceeds maximum", 32)
	b, err := Marshal([]mnl.Message{m})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := Unmarshal(b)
	if err != nil || len(msgs) != 1 {
		t.Fatal(err)
	}
	errno, msg, off := ParseError(msgs[0])
	if errno != 22 || msg != "requested channel count exceeds maximum" || off != 32 || msgs[0].Header.Sequence != 7 {
		t.Fatalf("%v %q %d", errno, msg, off)
	}
}
