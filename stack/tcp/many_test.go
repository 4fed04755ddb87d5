package tcp_test

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"syscall"
	"testing"
	"time"

	"vnic/internal/topo"
	"vnic/stack/ipv4"
	"vnic/stack/tcp"
)

// 1,000 connections at once between two vnic hosts (NICs, drivers, a
// cable) in virtual time: every one completes a request and its
// response, and the process's goroutines do not grow with them — a
// connection is state and timers on the host's clock, not a goroutine.
func TestThousandConnections(t *testing.T) {
	const conns = 1000
	// Rings deep enough for a thousand SYNs at once (igb's largest).
	w := topo.Started(t, topo.Config{Time: topo.VirtualTime, Seed: 1,
		Hosts: []topo.HostConfig{
			{Name: "a", CPUs: 1, Devices: []topo.DeviceConfig{{Addresses: []string{"198.18.0.1/24"}, RxRing: 4096, TxRing: 4096}}},
			{Name: "b", CPUs: 1, Devices: []topo.DeviceConfig{{Addresses: []string{"198.18.0.2/24"}, RxRing: 4096, TxRing: 4096}}},
		},
		Cables: []topo.CableConfig{{A: "a/vnic0", B: "b/vnic0", SpeedMbps: 1000}},
	}, 10*time.Millisecond)
	pa, pb := tcp.Of(ipv4.Of(w.Host("a").Stack)), tcp.Of(ipv4.Of(w.Host("b").Stack))
	addr := netip.MustParseAddrPort("198.18.0.2:80")
	l := pb.NewSocket()
	if err := l.Bind(addr); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(conns); err != nil {
		t.Fatal(err)
	}
	// One connection first, so that ARP has resolved b: a neighbour
	// being resolved holds only unres_qlen (101) packets.
	warm := pa.NewSocket()
	_ = warm.Connect(addr)
	w.Run(10 * time.Millisecond)
	ws, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	_, _ = warm.Close(), ws.Close()
	opens, retrans := pa.Stats.ActiveOpens.Load(), pa.Stats.RetransSegs.Load()+pb.Stats.RetransSegs.Load()

	runtime.GC()
	before := runtime.NumGoroutine()

	clients := make([]*tcp.Sock, conns)
	for i := range clients {
		clients[i] = pa.NewSocket()
		if err := clients[i].Connect(addr); !errors.Is(err, syscall.EINPROGRESS) {
			t.Fatalf("connect %d: %v", i, err)
		}
	}
	var servers []*tcp.Sock
	for step := 0; step < 1000 && len(servers) < conns; step++ {
		w.Run(time.Millisecond)
		for {
			s, err := l.Accept()
			if err != nil {
				break
			}
			servers = append(servers, s)
		}
	}
	if len(servers) != conns {
		t.Fatalf("%d connections accepted of %d", len(servers), conns)
	}
	during := runtime.NumGoroutine()
	for i, c := range clients {
		if done, err := c.ConnectDone(); !done || err != nil {
			t.Fatalf("connect %d: %v %v", i, done, err)
		}
		if _, err := c.Write([]byte(fmt.Sprintf("GET %d\n", i))); err != nil {
			t.Fatal(err)
		}
	}
	// Each server reads its request and answers it; each client reads
	// its answer.
	buf := make([]byte, 64)
	answered, got := make([]bool, conns), 0
	replies := make(map[*tcp.Sock]string, conns)
	for step := 0; step < 1000 && got < conns; step++ {
		w.Run(time.Millisecond)
		for i, s := range servers {
			if answered[i] {
				continue
			}
			n, err := s.Read(buf)
			if err != nil {
				continue
			}
			var k int
			if _, err := fmt.Sscanf(string(buf[:n]), "GET %d\n", &k); err != nil {
				t.Fatalf("request %q: %v", buf[:n], err)
			}
			if _, err := s.Write([]byte(fmt.Sprintf("OK %d\n", k))); err != nil {
				t.Fatal(err)
			}
			answered[i] = true
		}
		for i, c := range clients {
			if _, ok := replies[c]; ok {
				continue
			}
			n, err := c.Read(buf)
			if err != nil {
				continue
			}
			if want := fmt.Sprintf("OK %d\n", i); string(buf[:n]) != want {
				t.Fatalf("client %d read %q, want %q", i, buf[:n], want)
			}
			replies[c] = string(buf[:n])
			got++
		}
	}
	if got != conns {
		t.Fatalf("%d of %d exchanges completed", got, conns)
	}
	// One goroutine a connection would add 1,000; the bound leaves room
	// for the runtime's own.
	if during > before+20 || runtime.NumGoroutine() > before+20 {
		t.Errorf("goroutines: %d before, %d with %d connections open, %d after the exchanges", before, during, conns, runtime.NumGoroutine())
	}
	if got, est := pa.Stats.ActiveOpens.Load()-opens, pa.Stats.CurrEstab.Load(); got != conns || est != conns {
		t.Errorf("ActiveOpens %d, CurrEstab %d; want %d each", got, est, conns)
	}
	if r := pa.Stats.RetransSegs.Load() + pb.Stats.RetransSegs.Load() - retrans; r != 0 {
		t.Errorf("%d segments retransmitted", r)
	}
}
