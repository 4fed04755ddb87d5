package iperf3_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"vnic/internal/iperf3"
	"vnic/internal/topo"
	"vnic/stack"
	"vnic/stack/inet"
)

// raw is a hand-driven iperf3 client: the protocol's messages one at a
// time, to see what the server answers to each.
type raw struct {
	t *testing.T
	c *inet.TCPConn
}

func rawDial(t *testing.T, h *stack.Host, port int) *raw {
	t.Helper()
	var c *inet.TCPConn
	var err error
	for try := 0; try < 50; try++ {
		c, err = inet.DialTCP(h, "tcp", netip.AddrPortFrom(addrB, uint16(port)).String(), time.Now().Add(5*time.Second))
		if err == nil || !errors.Is(err, syscall.ECONNREFUSED) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &raw{t, c}
}

func (r *raw) write(b []byte) {
	r.t.Helper()
	if _, err := r.c.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

func (r *raw) cookie(s string) { r.write(append([]byte(s), 0)) }

func (r *raw) json(s string) {
	r.write(append(binary.BigEndian.AppendUint32(nil, uint32(len(s))), s...))
}

// state reads one byte (bounded), or -100 when the connection ended.
func (r *raw) state() int {
	r.t.Helper()
	r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [1]byte
	if _, err := io.ReadFull(r.c, b[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
			return -100
		}
		r.t.Fatal(err)
	}
	return int(int8(b[0]))
}

const cookieA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" // 36

// A data stream opened with another test's cookie is told ACCESS_DENIED
// and closed; the right cookie makes the stream and the test starts. A
// client that then goes away is reported, and the server serves the
// next test.
func TestServerCookie(t *testing.T) {
	a, b := realPair(t)
	s := serve(t, b, iperf3.Config{})
	ctl := rawDial(t, a, 5201)
	ctl.cookie(cookieA)
	if st := ctl.state(); st != 9 {
		t.Fatalf("after the cookie: state %d, want PARAM_EXCHANGE (9)", st)
	}
	ctl.json(`{"tcp":true,"omit":0,"time":1,"parallel":1,"len":1024,"client_version":"3.12"}`)
	if st := ctl.state(); st != 10 {
		t.Fatalf("after the parameters: state %d, want CREATE_STREAMS (10)", st)
	}
	bad := rawDial(t, a, 5201)
	bad.cookie(strings.Repeat("b", 36))
	if st := bad.state(); st != -1 {
		t.Fatalf("a wrong cookie: %d, want ACCESS_DENIED (-1)", st)
	}
	if st := bad.state(); st != -100 {
		t.Fatalf("after ACCESS_DENIED: %d, want the end", st)
	}
	good := rawDial(t, a, 5201)
	good.cookie(cookieA)
	if st := ctl.state(); st != 1 {
		t.Fatalf("the stream made: %d, want TEST_START (1)", st)
	}
	if st := ctl.state(); st != 2 {
		t.Fatalf("then %d, want TEST_RUNNING (2)", st)
	}
	// A second client while the test runs: ACCESS_DENIED at once.
	busy := rawDial(t, a, 5201)
	if st := busy.state(); st != -1 {
		t.Fatalf("a client during the test: %d, want ACCESS_DENIED", st)
	}
	ctl.c.Close()
	good.c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.err.String(), "iperf3: the client has unexpectedly closed the connection\n") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if out, err := client(t, a, iperf3.Config{Duration: time.Second}); err != nil {
		t.Fatalf("the next test: %v\n%s\nserver: %s%s", err, out, s.out.String(), s.err.String())
	}
	if got := s.err.String(); got != "iperf3: the client has unexpectedly closed the connection\n" {
		t.Errorf("server's stderr %q", got)
	}
	if got := s.out.String(); !strings.Contains(got, "Server listening on 5201 (test #2)") {
		t.Errorf("server's output:\n%s", got)
	}
}

// A peer that is not an iperf3 3.x client (its parameters are not JSON),
// or one that asks for what vnic's server does not run: the first is
// dropped with iperf3's error (and the server goes on), the second told
// with SERVER_ERROR and iperf3's code, which a vnic client words as
// iperf3 does. A vnic client busy-refused words that too.
func TestServerRefusals(t *testing.T) {
	a, b := realPair(t)
	s := serve(t, b, iperf3.Config{})

	old := rawDial(t, a, 5201)
	old.cookie(cookieA)
	if st := old.state(); st != 9 {
		t.Fatalf("state %d", st)
	}
	old.write([]byte{0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'}) // not JSON
	if st := old.state(); st != -100 {
		t.Fatalf("after non-JSON parameters: %d, want the end", st)
	}

	udp := rawDial(t, a, 5201)
	udp.cookie(cookieA)
	if st := udp.state(); st != 9 {
		t.Fatalf("state %d", st)
	}
	udp.json(`{"udp":true,"omit":0,"time":1,"parallel":1,"len":1460,"client_version":"3.12"}`)
	if st := udp.state(); st != -2 {
		t.Fatalf("UDP: %d, want SERVER_ERROR (-2)", st)
	}
	var code [8]byte
	udp.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(udp.c, code[:]); err != nil || binary.BigEndian.Uint32(code[:4]) != 13 || binary.BigEndian.Uint32(code[4:]) != 0 {
		t.Fatalf("SERVER_ERROR's code %v (%v), want 13 (IEUNIMP) and errno 0", code, err)
	}

	// A vnic client asking the same of the server (a paced -R is one of
	// vnic's refusals): iperf3's words, once the server is ready for a
	// test again (on a loaded machine it may still be ending the last).
	waitReady := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.out.String(), "(test #3)") && time.Now().Before(waitReady) {
		time.Sleep(10 * time.Millisecond)
	}
	if out, err := client(t, a, iperf3.Config{Duration: time.Second, Congestion: "no-such-algorithm"}); err == nil ||
		err.Error() != "unable to set TCP_CONGESTION: Supplied congestion control algorithm not supported on this host" {
		t.Errorf("-C no-such-algorithm: %v\n%s", err, out)
	}
	// The server is ready for the next once it says so (the -C test
	// ends as the client goes: "unexpectedly closed", or a read error
	// when it reset the connection).
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.out.String(), "(test #4)") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	want := "iperf3: error - unable to receive parameters from client: \n" +
		"iperf3: error - an option you are trying to set is not implemented yet\n"
	if got := s.err.String(); !strings.HasPrefix(got, want) {
		t.Errorf("server's stderr %q, want it to start with %q", got, want)
	}
	if out, err := client(t, a, iperf3.Config{Duration: time.Second, Parallel: 2, Window: 256 << 10, JSON: true}); err != nil {
		t.Fatalf("a test after the refusals: %v\n%s", err, out)
	} else if d := parse(t, "client", out); d.Start.SockBufsize != 256<<10 || d.Start.SndbufActual != 2*212992 {
		// SO_SNDBUF doubled, net.core.wmem_max (212992) bounding it.
		t.Errorf("-w 256K: sock_bufsize %d, sndbuf_actual %d", d.Start.SockBufsize, d.Start.SndbufActual)
	}
}

// fake is a server on port that answers a client's cookie with the
// given bytes.
func fake(t *testing.T, h *stack.Host, port int, reply []byte) {
	t.Helper()
	l, err := inet.ListenTCP(h, "tcp", netip.AddrPortFrom(addrB, uint16(port)).String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		l.SetDeadline(time.Now().Add(20 * time.Second))
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		io.ReadFull(c, make([]byte, 37))
		if reply == nil {
			return
		}
		c.Write(reply)
		io.Copy(io.Discard, c)
	}()
}

// The client facing what it does not expect: a state no iperf3 sends (a
// peer of another protocol version), SERVER_ERROR with a code, the
// server going away, ACCESS_DENIED; each with iperf3's words, and with
// -J the same words in the document's "error".
func TestClientErrors(t *testing.T) {
	a, b := realPair(t)
	errMsg := func(code, errno uint32) []byte {
		m := binary.BigEndian.AppendUint32([]byte{0xfe}, code)
		return binary.BigEndian.AppendUint32(m, errno)
	}
	for i, tc := range []struct {
		reply []byte
		json  bool
		want  string
		out   string
	}{
		{[]byte{99}, false, "received an unknown control message", ""},
		{errMsg(13, 0), false, "an option you are trying to set is not implemented yet", ""},
		{errMsg(124, 105), false, "unable to set socket buffer size: No buffer space available", ""},
		{[]byte{0xff}, false, "the server is busy running a test. try again later", ""},
		// What iperf3 3.12 prints then too: the summary's header.
		{[]byte{11}, false, "the server has terminated", "- - - - - - - - - - - - - - - - - - - - - - - - -\n[ ID] Interval           Transfer     Bitrate         Retr\n"},
		{nil, false, "control socket has closed unexpectedly", ""},
		{[]byte{0xff}, true, "the server is busy running a test. try again later", ""},
	} {
		fake(t, b, 5301+i, tc.reply) // nil: closed without a word
		out, err := client(t, a, iperf3.Config{Port: 5301 + i, Duration: time.Second, JSON: tc.json})
		if err == nil || err.Error() != tc.want {
			t.Errorf("reply %v: %v, want %q", tc.reply, err, tc.want)
		}
		if tc.json {
			if d := parse(t, "client", out); d.Error != tc.want {
				t.Errorf("-J error %q, want %q", d.Error, tc.want)
			}
		} else if out != tc.out {
			t.Errorf("reply %v printed %q, want %q", tc.reply, out, tc.out)
		}
	}
	// Nobody listening.
	if _, err := client(t, a, iperf3.Config{Port: 5999, Duration: time.Second}); err == nil ||
		err.Error() != "unable to connect to server: Connection refused" || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("refused: %v", err)
	}
}

// Interrupted: the client tells the server (CLIENT_TERMINATE), which
// prints what it has and says so; a server stopped during a test tells
// its client (SERVER_TERMINATE).
func TestInterrupts(t *testing.T) {
	a, b := realPair(t)
	s := serve(t, b, iperf3.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuf
	done := make(chan error, 1)
	go func() {
		done <- iperf3.Client(ctx, a, iperf3.Config{Host: addrB, Duration: 30 * time.Second}, iperf3.Output{Stdout: &out, Stderr: &out})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "0.00-1.00") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the interrupted client did not return")
	}
	var ie *iperf3.Error
	if !errors.As(err, &ie) || ie.Code != iperf3.IEClientTerm || !strings.Contains(out.String(), "sender\n") {
		t.Errorf("interrupted client: %v\n%s", err, out.String())
	}
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(s.err.String(), "iperf3: the client has terminated\n") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(s.err.String(), "iperf3: the client has terminated\n") || !strings.Contains(s.out.String(), "receiver\n") {
		t.Errorf("server after CLIENT_TERMINATE:\n%s%s", s.out.String(), s.err.String())
	}

	// The server stops mid-test.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel2()
	go func() {
		done <- iperf3.Client(ctx2, a, iperf3.Config{Host: addrB, Duration: 30 * time.Second}, iperf3.Output{})
	}()
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(s.out.String(), "(test #2)") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	if err := s.stop(t); err != nil {
		t.Errorf("stopped server: %v", err)
	}
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the client of a stopped server did not return")
	}
	if !errors.As(err, &ie) || ie.Code != iperf3.IEServerTerm {
		t.Errorf("client of a stopped server: %v", err)
	}
}

// A host on the virtual clock is refused: iperf3 measures the wall
// clock.
func TestVirtualTimeRefused(t *testing.T) {
	w, err := topo.Build(topo.Config{Time: topo.VirtualTime, Seed: 1, Hosts: []topo.HostConfig{
		{Name: "v", CPUs: 1, Devices: []topo.DeviceConfig{{Addresses: []string{"198.18.0.1/24"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	h := w.Host("v").Stack
	if err := iperf3.Client(context.Background(), h, iperf3.Config{Host: addrB}, iperf3.Output{}); !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Errorf("client: %v, want EOPNOTSUPP", err)
	}
	if err := iperf3.Server(context.Background(), h, iperf3.Config{Server: true}, iperf3.Output{}); !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Errorf("server: %v, want EOPNOTSUPP", err)
	}
}

// A port already listened on is what iperf3 -s exits on.
func TestServerPortInUse(t *testing.T) {
	_, b := realPair(t)
	l, err := inet.ListenTCP(b, "tcp", ":5201")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	err = iperf3.Server(context.Background(), b, iperf3.Config{Server: true}, iperf3.Output{})
	if err == nil || err.Error() != "unable to start listener for connections: Address already in use" {
		t.Errorf("%v", err)
	}
}
