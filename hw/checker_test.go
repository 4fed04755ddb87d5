package hw

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"vnic/ring"
)

func kinds(c *Checker) []string {
	var k []string
	for _, v := range c.Violations() {
		k = append(k, v.Kind)
	}
	return k
}

func TestCheckerFlags(t *testing.T) {
	tests := []struct {
		name string
		do   func(r *rig)
		want string
	}{
		{"tail beyond ring", func(r *rig) {
			r.txRing(0, 16)
			r.wr(TDT(0), 16)
		}, VTailBeyondRing},
		{"tail takes back owned descriptors", func(r *rig) {
			r.rxRing(0, 16, 2048) // tail 15, head 0
			r.wr(RDT(0), 3)
		}, VTailBackwards},
		{"descriptor modified while owned", func(r *rig) {
			r.rxRing(0, 16, 2048)
			rr := r.rx[0]
			rr.descAt(0).SetRead(rr.bufs[1].Addr) // rewrite a descriptor the device owns
			r.dev.Receive(frame(bcastMAC, 60, [4]byte{}, 0))
		}, VDescModified},
		{"buffer freed while owned", func(r *rig) {
			r.rxRing(0, 16, 2048)
			r.dma.Free(r.rx[0].bufs[4])
		}, VBufferFreed},
		{"ring freed while enabled", func(r *rig) {
			r.txRing(0, 16)
			r.dma.Free(r.tx[0].desc)
		}, VRingFreed},
		{"unmask while NAPI scheduled", func(r *rig) {
			r.dev.Checker().NAPIScheduled(1)
			r.wr(EIMS, 1<<1)
		}, VUnmaskInPoll},
		{"poll over budget", func(r *rig) {
			r.dev.Checker().NAPIPolled(1, 64, 65)
		}, VPollOverBudget},
		{"complete while not scheduled", func(r *rig) {
			r.dev.Checker().NAPICompleted(2)
		}, VCompleteNoSched},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, true)
			tc.do(r)
			k := kinds(r.dev.Checker())
			if len(k) != 1 || k[0] != tc.want {
				t.Fatalf("violations %v, want [%s]", k, tc.want)
			}
			if r.rd(VCCV) != 1 {
				t.Fatalf("VCCV %d", r.rd(VCCV))
			}
		})
	}
}

func TestCheckerQuietOnCorrectUse(t *testing.T) {
	r := newRig(t, true)
	r.msix()
	r.rxRing(0, 16, 2048)
	r.txRing(0, 16)
	for i := 0; i < 100; i++ {
		r.send(0, frame(bcastMAC, 60, [4]byte{}, 0))
		r.doorbell(0)
		r.dev.Receive(frame(bcastMAC, 60, [4]byte{}, 0))
		r.reap(0)
		// Reclaim TX descriptors as a driver does once DD is set.
		tr := r.tx[0]
		for i := uint32(0); i < tr.n; i++ {
			if ring.TxDesc(tr.desc.Buf[i*16:]).Done() {
				ring.TxDesc(tr.desc.Buf[i*16:]).SetData(ring.TxData{})
			}
		}
	}
	r.dev.Checker().NAPIScheduled(1)
	r.dev.Checker().NAPIPolled(1, 64, 64)
	r.dev.Checker().NAPICompleted(1)
	r.wr(EIMS, 1<<1)
	r.wr(RXDCTL(0), 0)
	r.dma.Free(r.rx[0].bufs[3])
	if v := r.dev.Checker().Violations(); len(v) != 0 {
		t.Fatalf("violations on correct use: %v", v)
	}
}

// scanFreed is the checker's rule for a freed region read the long way:
// every enabled ring, every descriptor the device owns, in ring order.
func scanFreed(d *Device, addr uint64, size int) []string {
	var out []string
	end := addr + uint64(size)
	for _, tx := range []bool{false, true} {
		for q := 0; q < NumQueues; q++ {
			base, n, head, tail, ok := d.ringState(tx, q)
			if !ok {
				continue
			}
			if base < end && addr < base+uint64(n)*ring.DescSize {
				out = append(out, VRingFreed)
				continue
			}
			if head >= n || tail >= n {
				continue
			}
			for i := head; i != tail; i = ring.Next(i, n) {
				b, ok := d.dma.Slice(base+uint64(i)*ring.DescSize, ring.DescSize)
				if !ok || tx && ring.TxDesc(b).DTyp() != ring.TxDTypData {
					continue
				}
				if buf := bufOf(tx, b); buf >= addr && buf < end {
					out = append(out, fmt.Sprintf("%s %s%d: buffer %#x of descriptor %d freed while the device owns it", VBufferFreed, dirName(tx), q, buf, i))
				}
			}
		}
	}
	return out
}

// TestCheckFreeMatchesScan: the indexed check flags exactly what a scan
// of every owned descriptor flags, over random traffic, buffers handed
// again elsewhere, TX rings run dry and full, and regions from a byte to
// the whole arena.
func TestCheckFreeMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	r := newRig(t, true)
	r.msix()
	rx := r.rxRing(0, 32, 2048)
	tx0, tx1 := r.txRing(0, 16), r.txRing(1, 16)
	spare := make([]Region, 8)
	for i := range spare {
		spare[i], _ = r.dma.Alloc(2048, 0)
	}
	c := r.dev.Checker()
	regions := func() (uint64, int) {
		all := append(append(append(append([]Region{}, rx.bufs...), tx0.bufs...), tx1.bufs...), spare...)
		switch rng.IntN(4) {
		case 0: // one buffer
			b := all[rng.IntN(len(all))]
			return b.Addr, len(b.Buf)
		case 1: // a byte of one
			b := all[rng.IntN(len(all))]
			return b.Addr + uint64(rng.IntN(len(b.Buf))), 1
		case 2: // a span of several
			a, b := all[rng.IntN(len(all))], all[rng.IntN(len(all))]
			lo, hi := min(a.Addr, b.Addr), max(a.Addr, b.Addr)
			return lo, int(hi-lo) + 1
		}
		return 0, 8 << 20 // the arena; the rings too
	}
	checked, txChecked := 0, 0
	for step := 0; step < 3000; step++ {
		switch rng.IntN(8) {
		case 7: // transmit stopped or started: rung descriptors stay the device's while it is off
			if rng.IntN(2) == 0 {
				r.wr(TCTL, TctlPSP)
			} else {
				r.wr(TCTL, TctlEN|TctlPSP)
			}
		case 0: // a received frame
			r.dev.Receive(frame(bcastMAC, 60+rng.IntN(3000), [4]byte{}, 0))
		case 1:
			r.reap(0)
		case 2: // a descriptor's buffer swapped for a spare before it is handed again
			i := rng.IntN(len(rx.bufs))
			j := rng.IntN(len(spare))
			if ring.Used(rx.ntc, uint32(i), rx.n) >= ring.Used(rx.ntc, rx.tail, rx.n) { // the driver's own
				rx.bufs[i], spare[j] = spare[j], rx.bufs[i]
			}
		case 3, 4: // frames queued on one TX ring, sometimes rung
			tr, q := tx0, 0
			if rng.IntN(2) == 1 {
				tr, q = tx1, 1
			}
			for k := rng.IntN(4); k > 0 && ring.Used(r.rd(TDH(q)), ring.Next(tr.tail, tr.n), tr.n) != 0; k-- {
				r.send(q, frame(bcastMAC, 60, [4]byte{}, 0))
			}
			if rng.IntN(3) != 0 {
				r.doorbell(q)
			}
		default:
			addr, size := regions()
			before := len(c.Violations())
			want := scanFreed(r.dev, addr, size)
			r.dev.checkFree(addr, size)
			var got []string
			for _, v := range c.Violations()[before:] {
				if v.Kind == VRingFreed {
					got = append(got, v.Kind)
				} else {
					got = append(got, v.Kind+" "+v.Detail)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("step %d: free %#x+%d flagged\n%q\nwant\n%q", step, addr, size, got, want)
			}
			checked += len(want)
			for _, w := range want {
				if strings.Contains(w, " tx") {
					txChecked++
				}
			}
		}
	}
	if checked == 0 || txChecked == 0 {
		t.Fatalf("%d regions flagged, %d of them TX buffers: the comparison proved too little", checked, txChecked)
	}
}
