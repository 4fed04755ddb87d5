package hw

import (
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
