package iproute

import (
	"testing"
	"time"

	mnl "github.com/mdlayher/netlink"
)

// sink takes every request and answers nothing: the client's own work.
type sink struct{ n, bytes int }

func (s *sink) Route(_ uint16, _ mnl.HeaderFlags, body []byte) ([]mnl.Message, error) {
	s.n++
	s.bytes += len(body)
	return nil, nil
}

func (s *sink) ReceiveRoute(time.Duration) ([]mnl.Message, error) { return nil, nil }

// batchLine runs one batch line as batch does (split, the grammar, the
// RTM_NEWROUTE message), into t.
func batchLine(t Transport, line string) error {
	args, err := makeArgs(line)
	if err != nil {
		return err
	}
	return (&cmd{o: Options{T: t}}).object(args[0], args[1:])
}

// The client's share of ip -batch for one route add: the line split, the
// grammar, the message encoded (the pipelined send is nlclient's).
func BenchmarkBatchRouteAdd(b *testing.B) {
	s := &sink{}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := batchLine(s, "route add 1.0.4.0/22 via 198.18.0.2"); err != nil {
			b.Fatal(err)
		}
	}
	if s.n != b.N {
		b.Fatalf("%d requests for %d lines", s.n, b.N)
	}
}

// A route add line's allocations, counted: the split's slice, the
// grammar's keyword set (a map and its group), the message (an increase
// is a regression on ip -batch's path).
func TestBatchRouteAddAllocs(t *testing.T) {
	s := &sink{}
	n := testing.AllocsPerRun(200, func() { batchLine(s, "route add 1.0.4.0/22 via 198.18.0.2") })
	if n > 4 {
		t.Errorf("%v allocations a route add line, want at most 4", n)
	}
}
