package stack_test

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"vnic/hw"
	"vnic/internal/stacktest"
	"vnic/stack"
)

// lockedWire records arrivals from the CPU's goroutine (real time).
type lockedWire struct {
	stacktest.NopOps
	clk *hw.RealClock
	mu  sync.Mutex
	got map[uint32]time.Duration
}

func (*lockedWire) Open() error { return nil }

func (w *lockedWire) StartXmit(s *stack.SKB, q *stack.TxQueue) stack.TxResult {
	id := binary.BigEndian.Uint32(s.Data()[stack.EthHdrLen+28:])
	w.mu.Lock()
	w.got[id] = w.clk.Now()
	w.mu.Unlock()
	s.Consume()
	return stack.TxOK
}

// On a real-time host the same netem runs from the wall clock's timers
// and a CPU goroutine: every packet arrives, none before its delay (the
// test bounds its wait and asserts no duration beyond the lower bound).
func TestNetemRealTime(t *testing.T) {
	clk := hw.NewRealClock()
	cpu := hw.NewCPU(0, clk, hw.CostModel{})
	h := stack.NewHost("h", clk, []stack.CPU{cpu}, stack.HostConfig{Seed: 1})
	cpu.Start()
	defer cpu.Stop()
	w := &lockedWire{clk: clk, got: map[uint32]time.Duration{}}
	d := stack.NewEtherDevice("vnic%d", w, 2, 2, 9216)
	if err := h.Register(d); err != nil {
		t.Fatal(err)
	}
	d.Open()
	d.CarrierOn()
	const delay, n = 5 * time.Millisecond, 50
	q, err := stack.NewNetem(d, 0x80010000, stack.NetemConfig{Limit: 1000, Latency: delay, Jitter: time.Millisecond, Duplicate: 0})
	if err != nil {
		t.Fatal(err)
	}
	d.GraftQdisc(q)
	sent := map[uint32]time.Duration{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for g := range 2 { // two senders at once, as two CPUs' tasks
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n / 2 {
				id := uint32(g*1000 + i)
				s := h.Pool().Alloc(100 + stack.NetIPAlign)
				s.Reserve(stack.NetIPAlign)
				f := s.Put(100)
				clear(f)
				binary.BigEndian.PutUint32(f[stack.EthHdrLen+28:], id)
				s.Dev = d
				mu.Lock()
				sent[id] = clk.Now()
				mu.Unlock()
				if err := stack.DevQueueXmit(s); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		w.mu.Lock()
		k := len(w.got)
		w.mu.Unlock()
		if k == n || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.got) != n {
		t.Fatalf("%d of %d arrived", len(w.got), n)
	}
	for id, at := range w.got {
		if at-sent[id] < delay-time.Millisecond {
			t.Errorf("packet %d took %v, less than the delay less the jitter", id, at-sent[id])
		}
	}
	if st := q.Stats(); st.Packets != n || st.Qlen != 0 {
		t.Errorf("stats %+v", st)
	}
}
