package driver_test

import (
	"testing"
	"time"
)

// TestMTUChangeUnderTrafficRealTime changes h1's MTU back and forth while
// pktgen sends through it on real-time CPUs: start_xmit reads the MTU on
// every packet while SetMTU stores it, which -race must find clean. Bounded
// in changes, packets and time; it asserts delivery, never durations.
func TestMTUChangeUnderTrafficRealTime(t *testing.T) {
	const n, changes = 20000, 20
	e, pg, sink, deadline := realTimeLoad(t, n)
	a, b := e.a, e.b
	mtus := [2]int{1500, 3000}
	done := 0
	for i := 0; i < changes && !pg.Done() && time.Now().Before(deadline); i++ {
		if err := a.Netdev.SetMTU(mtus[(i+1)%2]); err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
		done++
		time.Sleep(100 * time.Microsecond)
	}
	for !pg.Done() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if !pg.Done() {
		t.Fatalf("pktgen sent %d of %d", pg.Sent()+pg.Failed(), n)
	}
	for sink.Packets()+drops(b) < pg.Sent() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if done == 0 {
		t.Fatal("no MTU change ran under traffic")
	}
	if got := sink.Packets() + drops(b); got != pg.Sent() {
		t.Fatalf("sent %d, received %d + missed %d", pg.Sent(), sink.Packets(), drops(b))
	}
	t.Logf("%d MTU changes; sent %d failed %d received %d missed %d", done, pg.Sent(), pg.Failed(), sink.Packets(), drops(b))
}
