package inet_test

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"vnic/hw"
	"vnic/internal/stacktest"
	"vnic/stack"
	"vnic/stack/inet"
	"vnic/stack/ipv4"
)

// A PacketConn over loopback on the virtual clock: a read with nothing
// queued is EAGAIN at once, a datagram written to the other socket comes
// back with the sender's *net.UDPAddr, and bad networks and addresses are
// refused with their errnos.
func TestPacketConnLoopback(t *testing.T) {
	clk, h, a, b := loopbackPair(t, "udp", "")
	var _ net.PacketConn = a
	buf := make([]byte, 64)
	if _, _, err := a.ReadFrom(buf); !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("empty read: %v, want EAGAIN", err)
	}
	if _, err := b.WriteTo([]byte("hello"), a.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	clk.RunFor(time.Millisecond)
	n, from, err := a.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	ua, ok := from.(*net.UDPAddr)
	if !ok || ua.Port != b.LocalAddr().(*net.UDPAddr).Port || !ua.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("from %v, want 127.0.0.1 and %v's port", from, b.LocalAddr())
	}
	if _, err := inet.ListenPacket(h, "tcp", ""); !errors.Is(err, syscall.EPROTONOSUPPORT) {
		t.Errorf("tcp: %v", err)
	}
	if _, err := inet.ListenPacket(h, "udp", "198.18.0.1:9"); !errors.Is(err, syscall.EADDRNOTAVAIL) {
		t.Errorf("a foreign address: %v", err)
	}
	if _, err := b.WriteTo([]byte("x"), &net.IPAddr{IP: net.IPv4(127, 0, 0, 1)}); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("a non-UDP address: %v", err)
	}
}

// loopbackPair is a virtual-time host with IPv4 and two UDP sockets, a on
// udp4 127.0.0.1:7 and b on bNet bAddr; they close when the test ends.
func loopbackPair(t *testing.T, bNet, bAddr string) (*hw.VirtualClock, *stack.Host, *inet.PacketConn, *inet.PacketConn) {
	t.Helper()
	clk, h := stacktest.NewHost(t, 1)
	if _, err := inet.Init(h, ipv4.InetConfig{Seed: 1}); err != nil {
		t.Fatal(err)
	}
	var pcs [2]*inet.PacketConn
	for i, na := range [][2]string{{"udp4", "127.0.0.1:7"}, {bNet, bAddr}} {
		pc, err := inet.ListenPacket(h, na[0], na[1])
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pc.Close() })
		pcs[i] = pc
	}
	return clk, h, pcs[0], pcs[1]
}

// Reading a stream of datagrams from one peer allocates nothing: the
// source's *net.UDPAddr is made once.
func TestPacketConnReadFromNoAllocs(t *testing.T) {
	clk, _, a, b := loopbackPair(t, "udp4", "127.0.0.1:0")
	const runs = 40
	for i := 0; i < runs+1; i++ {
		if _, err := b.WriteTo([]byte("datagram"), a.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	clk.RunFor(time.Millisecond)
	buf := make([]byte, 64)
	var first net.Addr
	if n := testing.AllocsPerRun(runs, func() {
		n, from, err := a.ReadFrom(buf)
		if err != nil || string(buf[:n]) != "datagram" {
			t.Fatalf("read %q, %v", buf[:n], err)
		}
		if first == nil {
			first = from
		} else if from != first {
			t.Fatal("a second *net.UDPAddr for the same source")
		}
	}); n != 0 {
		t.Errorf("%v allocations per ReadFrom", n)
	}
	if _, _, err := a.ReadFrom(buf); !errors.Is(err, syscall.EAGAIN) {
		t.Errorf("after %d datagrams: %v, want EAGAIN", runs+1, err)
	}
	// Finding the queue empty (what a reader does each time it has
	// drained it) allocates nothing either.
	if n := testing.AllocsPerRun(runs, func() {
		if _, _, err := a.ReadFrom(buf); !errors.Is(err, syscall.EAGAIN) {
			t.Fatalf("empty read: %v, want EAGAIN", err)
		}
		if _, _, err := a.ReadFromUDPAddrPort(buf); !errors.Is(err, syscall.EAGAIN) {
			t.Fatalf("empty read: %v, want EAGAIN", err)
		}
	}); n != 0 {
		t.Errorf("%v allocations per empty read", n)
	}
}
