package stack_test

import (
	"encoding/binary"
	"testing"
	"time"

	"vnic/hw"
	"vnic/internal/stacktest"
	"vnic/stack"
)

// wire is a driver that records when each packet reached it, by the
// number the test wrote into it.
type wire struct {
	*stacktest.FakeOps
	clk  *hw.VirtualClock
	got  []arrival
	busy int // refuse this many more packets (stopping the queue)
}

type arrival struct {
	at   time.Duration
	id   uint32
	len  int
	data []byte
}

func (w *wire) StartXmit(s *stack.SKB, q *stack.TxQueue) stack.TxResult {
	if w.busy > 0 {
		w.busy--
		q.Stop()
		return stack.TxBusy
	}
	d := s.Data()
	w.got = append(w.got, arrival{w.clk.Now(), binary.BigEndian.Uint32(d[stack.EthHdrLen+28:]), len(d), append([]byte(nil), d...)})
	s.Consume()
	return stack.TxOK
}

// netemHost is a one-CPU host on a virtual clock with a one-queue device
// (up, carrier on) behind netem cfg, its host seeded with seed.
func netemHost(t testing.TB, seed int64, ntx int, cfg stack.NetemConfig) (*hw.VirtualClock, *stack.Host, *stack.NetDevice, *wire, *stack.Qdisc) {
	t.Helper()
	clk := hw.NewVirtualClock()
	h := stack.NewHost("h", clk, []stack.CPU{hw.NewCPU(0, clk, hw.CostModel{})}, stack.HostConfig{Seed: seed})
	w := &wire{FakeOps: &stacktest.FakeOps{}, clk: clk}
	d := stack.NewEtherDevice("vnic%d", w, ntx, ntx, 9216)
	d.SetAddrInit(stack.MAC{2, 0, 0, 0, 0, 1})
	if err := h.Register(d); err != nil {
		t.Fatal(err)
	}
	if err := d.Open(); err != nil {
		t.Fatal(err)
	}
	d.CarrierOn()
	if cfg.Limit == 0 {
		cfg.Limit = 1000
	}
	q, err := stack.NewNetem(d, 0x80010000, cfg)
	if err != nil {
		t.Fatal(err)
	}
	d.GraftQdisc(q)
	return clk, h, d, w, q
}

// udpFrame sends a UDP/IPv4 frame of n bytes (at least 46) numbered id.
func udpFrame(t testing.TB, h *stack.Host, d *stack.NetDevice, id uint32, n int) error {
	t.Helper()
	s := h.Pool().Alloc(n + stack.NetIPAlign)
	s.Reserve(stack.NetIPAlign)
	f := s.Put(n)
	clear(f)
	binary.BigEndian.PutUint16(f[12:], stack.EthPIPv4)
	ip := f[stack.EthHdrLen:]
	ip[0], ip[8], ip[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(ip[2:], uint16(n-stack.EthHdrLen))
	copy(ip[12:], []byte{198, 18, 0, 1, 198, 18, 0, 2})
	binary.BigEndian.PutUint32(f[stack.EthHdrLen+28:], id)
	s.Dev = d
	return stack.DevQueueXmit(s)
}

const pct = 42949673 // 1% of 2^32-1, as tc sends it

func TestNetemDelayExact(t *testing.T) {
	clk, h, d, w, q := netemHost(t, 1, 1, stack.NetemConfig{Latency: 10 * time.Millisecond})
	for i := range 5 {
		clk.RunUntil(time.Duration(i) * time.Millisecond)
		if err := udpFrame(t, h, d, uint32(i), 100); err != nil {
			t.Fatal(err)
		}
	}
	clk.RunFor(20 * time.Millisecond)
	if len(w.got) != 5 {
		t.Fatalf("%d packets arrived", len(w.got))
	}
	for i, a := range w.got {
		if want := time.Duration(i)*time.Millisecond + 10*time.Millisecond; a.at != want || a.id != uint32(i) {
			t.Errorf("packet %d: id %d at %v, want %v", i, a.id, a.at, want)
		}
	}
	st := q.Stats()
	if st.Packets != 5 || st.Bytes != 500 || st.Drops != 0 || st.Qlen != 0 || st.Backlog != 0 {
		t.Errorf("stats %+v", st)
	}
}
