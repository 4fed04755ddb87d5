package conntrack

import "testing"

// TestReport: a change made outside the packet path is reported at once,
// with what the connection had cached, and the cache is empty after.
func TestReport(t *testing.T) {
	r := newRig(t)
	ct := r.in(udpBytes(addrA, addrB, 1, 2, 0)).ct
	var got []EventMask
	cancel := r.n.Subscribe(func(e Event) { got = append(got, e.Events) })
	defer cancel()
	ct.SetMark(7)
	r.n.Report(ct, 1<<EventReply)
	if len(got) != 1 || got[0] != 1<<EventReply|1<<EventMark {
		t.Fatalf("events %b, want one of %b", got, 1<<EventReply|1<<EventMark)
	}
	r.in(udpBytes(addrA, addrB, 1, 2, 0))
	if len(got) != 1 {
		t.Fatalf("events %b after the next packet, want none more", got)
	}
	r.n.Delete(ct)
	n := len(got)
	r.n.Report(ct, 1<<EventMark)
	if len(got) != n {
		t.Fatalf("a deleted connection reported %b", got[n:])
	}
}
