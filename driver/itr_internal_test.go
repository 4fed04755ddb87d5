package driver

import "testing"

// TestNextClass walks igb_update_itr's transitions.
func TestNextClass(t *testing.T) {
	for _, tc := range []struct {
		from           latencyClass
		packets, bytes uint64
		want           latencyClass
	}{
		{lowestLatency, 0, 0, lowestLatency},     // nothing moved
		{lowestLatency, 1, 9000, bulkLatency},    // jumbo / TSO
		{lowestLatency, 4, 2000, lowLatency},     // few, not tiny
		{lowestLatency, 4, 400, lowestLatency},   // few and tiny
		{lowestLatency, 40, 2400, lowestLatency}, // many small
		{lowLatency, 8, 12000, bulkLatency},      // >10 kB, under 10 packets
		{lowLatency, 20, 30000, bulkLatency},     // >10 kB, average 1500
		{lowLatency, 40, 12000, lowestLatency},   // >10 kB, many 300 B
		{lowLatency, 20, 12000, lowLatency},      // >10 kB, 600 B average, 20 packets
		{lowLatency, 2, 5000, bulkLatency},       // ≤10 kB, average 2500
		{lowLatency, 2, 200, lowestLatency},      // ≤10 kB, two tiny
		{lowLatency, 3, 200, lowLatency},         // ≤10 kB, three tiny
		{bulkLatency, 40, 30000, lowLatency},     // >25 kB, many packets
		{bulkLatency, 20, 30000, bulkLatency},    // >25 kB, few packets
		{bulkLatency, 1, 1000, lowLatency},       // under 1500 B
		{bulkLatency, 10, 15000, bulkLatency},    // in between
		{lowLatency, 10, 10000, lowLatency},      // exactly 10 kB: the ≤ branch
		{lowestLatency, 5, 513, lowestLatency},   // 5 packets: not "fewer than 5"
		{bulkLatency, 36, 25000, bulkLatency},    // exactly 25 kB: not over
		{bulkLatency, 36, 25001, lowLatency},     // just over
		{bulkLatency, 35, 25001, bulkLatency},    // 35 packets: not over 35
		{lowLatency, 36, 10001, lowestLatency},   // >10 kB, 277 B average, 36 packets
		{lowLatency, 9, 10001, bulkLatency},      // >10 kB, 9 packets
	} {
		got := nextClass(tc.from, tc.packets, tc.bytes)
		want := tc.want
		if got != want {
			t.Errorf("nextClass(%d, %d packets, %d bytes) = %d, want %d", tc.from, tc.packets, tc.bytes, got, want)
		}
	}
}

// TestSizeITR is igb_update_ring_itr's interval by average frame size.
func TestSizeITR(t *testing.T) {
	for _, tc := range []struct {
		avg  uint64
		want uint32
	}{
		{60, 42},      // (60+24)/2: 10.5 µs, about 95,000/s
		{276, 150},    // 300 exactly: still /2
		{277, 100},    // 301: /3
		{1175, 399},   // 1199: /3
		{1176, 600},   // 1200: /2
		{1514, 769},   // full frame: 192 µs, about 5,200/s
		{9000, 1500},  // capped at 3000
		{65535, 1500}, // LRO aggregate
	} {
		if got := sizeITR(tc.avg); got != tc.want {
			t.Errorf("sizeITR(%d) = %d, want %d", tc.avg, got, tc.want)
		}
	}
}

// TestValidITR: the rx-usecs values igb takes.
func TestValidITR(t *testing.T) {
	for us := uint32(0); us <= 12; us++ {
		want := us == 0 || us == 1 || us == 3 || us >= 10
		if validITR(us) != want {
			t.Errorf("validITR(%d) = %v", us, !want)
		}
	}
	if !validITR(MaxITRUsecs) || validITR(MaxITRUsecs+1) {
		t.Error("upper bound")
	}
}
