package hw

import (
	"slices"
	"testing"

	"vnic/offload"
	"vnic/ring"
)

// burstFrames is a train of frames for four RSS queues: TCP flows, a
// broadcast, a runt, one for another MAC, and a ring overrun on queue 0.
func burstFrames() [][]byte {
	var fs [][]byte
	flows := [][2]string{{"66.9.149.187", "161.142.100.80"}, {"199.92.111.2", "65.69.140.83"}, {"24.19.198.95", "12.22.207.184"}, {"38.27.205.30", "209.142.163.6"}}
	for i := 0; i < 40; i++ {
		fl := flows[i%len(flows)]
		fs = append(fs, rssFrame(rigMAC, fl[0], fl[1], uint16(1000+i), 80))
	}
	fs = append(fs, frame(mustMAC("ff:ff:ff:ff:ff:ff"), 100, [4]byte{198, 18, 0, 1}, 9))
	fs = append(fs, make([]byte, 20))                                                   // a runt
	fs = append(fs, frame(mustMAC("02:00:00:00:00:77"), 80, [4]byte{198, 18, 0, 1}, 9)) // not ours
	return fs
}

// A burst does what the same frames one by one do (ring contents, write-
// backs, statistics), and each queue interrupts once, after its last frame.
func TestReceiveBurstMatchesFrames(t *testing.T) {
	type result struct {
		frames [4][][]byte
		wb     [4][]ring.RxWriteBack
		stats  []uint32
		irqs   []int
	}
	run := func(burst bool) result {
		r := newRig(t, false)
		r.msix()
		for q := 0; q < 4; q++ {
			r.rxRing(q, 8, 2048) // 7 posted: queue overruns happen
		}
		var reta [128]byte
		for i := range reta {
			reta[i] = byte(i % 4)
		}
		r.programRSS(offload.DefaultRSSKey[:], reta)
		var res result
		written := func(q int) int { // descriptors with DD on queue q
			n := 0
			for i := uint32(0); i < r.rx[q].n; i++ {
				if r.rx[q].descAt(i).Status()&ring.RxStatDD != 0 {
					n++
				}
			}
			return n
		}
		final := [4]int{}
		r.dev.MSIX().SetTrace(func(vec int) {
			res.irqs = append(res.irqs, vec)
			if q := vec - 1; burst && q >= 0 && q < 4 && written(q) != final[q] {
				t.Errorf("queue %d interrupted with %d of its %d frames written back", q, written(q), final[q])
			}
		})
		fs := burstFrames()
		if burst {
			final = [4]int{7, 7, 7, 7} // every queue fills its 7 descriptors
			r.dev.ReceiveBurst(fs)
		} else {
			for _, f := range fs {
				r.dev.Receive(f)
			}
		}
		for q := 0; q < 4; q++ {
			rr := r.rx[q]
			for i := uint32(0); i < rr.n; i++ {
				d := rr.descAt(i)
				if d.Status()&ring.RxStatDD != 0 {
					res.wb[q] = append(res.wb[q], ring.RxWriteBack{RSSType: d.RSSType(), PktType: d.PktType(), RSSHash: d.RSSHash(), Status: d.Status(), Length: d.Length()})
				}
			}
			res.frames[q] = r.reap(q)
		}
		for _, off := range []uint32{TPR, GPRC, BPRC, MPRC, GORCL, PRC64, PRC127, MPC, RNBC, RUC, ICRXOC} {
			res.stats = append(res.stats, r.rd(off))
		}
		res.stats = append(res.stats, r.rd(VRXFLT))
		return res
	}
	one, burst := run(false), run(true)
	for q := 0; q < 4; q++ {
		if !slices.EqualFunc(one.frames[q], burst.frames[q], slices.Equal) || !slices.Equal(one.wb[q], burst.wb[q]) {
			t.Errorf("queue %d: a burst wrote other frames or write-backs than one frame at a time", q)
		}
		if len(one.frames[q]) != 7 {
			t.Errorf("queue %d: %d frames, want 7", q, len(one.frames[q]))
		}
	}
	if !slices.Equal(one.stats, burst.stats) {
		t.Errorf("statistics: one at a time %v, burst %v", one.stats, burst.stats)
	}
	// The vectors auto-mask: one message each (the other vector, masked
	// since the link came up, holds the overrun's cause).
	slices.Sort(one.irqs)
	slices.Sort(burst.irqs)
	if !slices.Equal(one.irqs, []int{1, 2, 3, 4}) || !slices.Equal(burst.irqs, one.irqs) {
		t.Errorf("interrupts: one at a time %v, burst %v, want [1 2 3 4]", one.irqs, burst.irqs)
	}
}
