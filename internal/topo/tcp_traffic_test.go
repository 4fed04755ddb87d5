package topo

import (
	"testing"
	"time"

	"vnic/stack/ipv4"
)

// routerConfig is configs/examples/router.yaml: h1 — r — h2, r
// forwarding, the r—h2 link at MTU 1280, in virtual time.
func routerConfig() Config {
	c := Config{Time: VirtualTime, Seed: 1, Duration: 20 * time.Millisecond, Costs: Costs{IRQ: time.Microsecond, RxPacket: 100 * time.Nanosecond,
		TxPacket: 200 * time.Nanosecond, Proto: 500 * time.Nanosecond, Poll: 300 * time.Nanosecond, CopyPerKB: 50 * time.Nanosecond, GRO: 50 * time.Nanosecond},
		Hosts: []HostConfig{
			{Name: "h1", Devices: []DeviceConfig{{Name: "vnic0", Addresses: []string{"198.18.5.2/24"}}}, Routes: []string{"default via 198.18.5.1"}},
			{Name: "r", Forwarding: true, Devices: []DeviceConfig{{Addresses: []string{"198.18.5.1/24"}}, {Addresses: []string{"198.18.6.1/24"}, MTU: 1280}}},
			{Name: "h2", Devices: []DeviceConfig{{Addresses: []string{"198.18.6.2/24"}}}, Routes: []string{"default via 198.18.6.1"}},
		},
		Cables: []CableConfig{{A: "h1/vnic0", B: "r/vnic0"}, {A: "r/vnic1", B: "h2/vnic0"}},
		Log:    LogConfig{Level: "info", Format: "console"},
	}
	return c
}

// runTCP builds cfg, starts its tcp entries after the links came up and
// runs until they finish (at most limit); it returns the results.
func runTCP(t *testing.T, cfg Config, limit time.Duration) []TCPFlowResult {
	t.Helper()
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	w := Started(t, cfg, time.Millisecond)
	tt, err := StartTCP(w, cfg.TCP, cfg.Duration)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tt.Close)
	if !tt.Wait(limit) {
		t.Fatalf("the flows did not finish in %v: %+v", limit, tt.Results())
	}
	return tt.Results()
}

// TestTCPFlowsAcrossRouter: a bulk flow of two connections and an rr flow
// of three, h1 to h2 through r, in virtual time: every byte and every
// transaction asked for, exactly; the figures the same on a second run.
func TestTCPFlowsAcrossRouter(t *testing.T) {
	cfg := routerConfig()
	cfg.TCP = []TCPFlow{
		{Type: TCPBulk, Client: "h1", Server: "h2", Connections: 2, Bytes: 1<<20 + 17, MessageSize: 100000},
		{Type: TCPRR, Client: "h1", Server: "h2", Port: 5202, Connections: 3, Count: 100, RequestSize: 100, ResponseSize: 3000, NoDelay: true},
	}
	res := runTCP(t, cfg, time.Second)
	bulk, rr := res[0], res[1]
	if !bulk.Complete || bulk.Err != nil || bulk.Bytes != 2*(1<<20+17) || bulk.Addr != "198.18.6.2:5201" || bulk.Duration <= 0 || bulk.GoodputMbps <= 0 {
		t.Errorf("bulk: %+v", bulk)
	}
	if !rr.Complete || rr.Err != nil || rr.Transactions != 300 || rr.Bytes != 300*3100 || rr.Addr != "198.18.6.2:5202" ||
		rr.P50 <= 0 || rr.P50 > rr.P90 || rr.P90 > rr.P99 || rr.P99 > rr.Max || rr.TPS <= 0 {
		t.Errorf("rr: %+v", rr)
	}
	if again := runTCP(t, cfg, time.Second); again[0] != bulk || again[1] != rr {
		t.Errorf("a second run differs:\n%+v\n%+v", again, res)
	}
}

// TestPktgenBesideTCP: pktgen streams into IPv4 hosts are the sink's (at
// PRE_ROUTING: every frame sent is counted, none reaches routing) while
// an rr flow between the same two hosts does all its transactions.
func TestPktgenBesideTCP(t *testing.T) {
	cfg := Pair(DeviceConfig{Queues: 2}, 2, 10000)
	cfg.Duration, cfg.Log = 20*time.Millisecond, LogConfig{Level: "info", Format: "console"}
	cfg.Hosts[0].Devices[0].Addresses = []string{"198.18.0.1/24"}
	cfg.Hosts[1].Devices[0].Addresses = []string{"198.18.0.2/24"}
	cfg.Traffic = []Traffic{{From: "h1/vnic0", To: "h2/vnic0", Flows: 8, RatePPS: 200000, Burst: 4}, {From: "h2/vnic0", To: "h1/vnic0", RatePPS: 50000}}
	cfg.TCP = []TCPFlow{{Type: TCPRR, Client: "h1", Server: "h2", Count: 300, RequestSize: 200, ResponseSize: 2000}}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	w := Started(t, cfg, time.Millisecond)
	streams, err := StartTraffic(w, cfg.Traffic, cfg.Seed)
	if err != nil {
		t.Fatal(err)
	}
	tt, err := StartTCP(w, cfg.TCP, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tt.Close)
	w.Run(5 * time.Millisecond)
	for _, s := range streams {
		s.Pktgen.Stop()
	}
	if !tt.Wait(time.Second) {
		t.Fatalf("rr flow: %+v", tt.Results())
	}
	w.Run(time.Millisecond)
	for i, s := range streams {
		if sent := s.Pktgen.Sent(); sent == 0 || s.Pktgen.Failed() != 0 || s.Sink.Packets() != sent {
			t.Errorf("stream %d: sent %d, refused %d, the sink on %s counted %d", i, sent, s.Pktgen.Failed(), s.SinkHost, s.Sink.Packets())
		}
	}
	if r := tt.Results()[0]; !r.Complete || r.Transactions != 300 || r.Bytes != 300*2200 {
		t.Errorf("rr flow: %+v", r)
	}
	for _, h := range w.Hosts {
		if st := ipv4.Of(h.Stack).Stats.Snapshot(); st.InAddrErrors+st.InNoRoutes+st.InDiscards+st.ForwDatagrams != 0 {
			t.Errorf("%s: pktgen frames reached routing: %+v", h.Name, st)
		}
	}
}

// TestTCPFlowsRealTime: the same flows on the wall clock, the ends the
// real-time CPUs' threads: every byte and transaction (no timing is
// asserted).
func TestTCPFlowsRealTime(t *testing.T) {
	cfg := routerConfig()
	cfg.Time = RealTime
	cfg.TCP = []TCPFlow{
		{Type: TCPBulk, Client: "h1", Server: "h2", Connections: 2, Bytes: 300000},
		{Type: TCPRR, Client: "h2", Server: "h1", Port: 5202, Count: 50, RequestSize: 10, ResponseSize: 5000},
	}
	res := runTCP(t, cfg, 20*time.Second)
	if b := res[0]; !b.Complete || b.Bytes != 600000 {
		t.Errorf("bulk: %+v", b)
	}
	if r := res[1]; !r.Complete || r.Transactions != 50 || r.Bytes != 50*5010 {
		t.Errorf("rr: %+v", r)
	}
}
