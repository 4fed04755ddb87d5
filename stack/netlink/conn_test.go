package netlink

import (
	"context"
	"net"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	mnl "github.com/mdlayher/netlink"
)

// hang bounds a wait that must end (a hang guard, not a timing check).
const hang = 20 * time.Second

// testFamily is the first family registered: its id.
const testFamily = GenlIDCtrl + 1

func listen(t *testing.T, fams ...*Family) *Server {
	t.Helper()
	s, err := Listen(filepath.Join(t.TempDir(), "vnic.sock"), fams...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func dial(t *testing.T, s *Server) *net.UnixConn {
	t.Helper()
	c, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: s.Path(), Net: "unixpacket"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func request(t *testing.T, c *net.UnixConn, typ uint16, flags mnl.HeaderFlags, seq uint32, data []byte) {
	t.Helper()
	b, err := Marshal([]mnl.Message{{Header: mnl.Header{Type: mnl.HeaderType(typ), Flags: mnl.Request | flags, Sequence: seq}, Data: data}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
}

// recv reads one packet's messages; nil at end of file.
func recv(t *testing.T, c *net.UnixConn) []mnl.Message {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(hang))
	buf := make([]byte, MaxPacket)
	n, err := c.Read(buf)
	if n == 0 {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := Unmarshal(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// joinGroup subscribes c to multicast group gid.
func joinGroup(t *testing.T, c *net.UnixConn, gid uint32) {
	t.Helper()
	ae := mnl.NewAttributeEncoder()
	ae.Uint32(CtrlAttrJoinGroupID, gid)
	body, _ := ae.Encode()
	request(t, c, GenlIDCtrl, mnl.Acknowledge, 1, GenlData(CtrlCmdJoinGroup, 2, body))
	if m := recv(t, c); len(m) != 1 || m[0].Header.Type != mnl.Error {
		t.Fatalf("join: %+v", m)
	} else if errno, _, _ := ParseError(m[0]); errno != 0 {
		t.Fatalf("join: %v", errno)
	}
}

// A stream waiting on a clock that does not advance (a virtual clock whose
// simulation has stopped) does not hold Close: Close cancels it, the client
// is told ESHUTDOWN and then sees the end of the connection, and Close
// returns without waiting for ShutdownWait.
func TestCloseEndsStreams(t *testing.T) {
	tick := make(chan struct{}) // the stream's clock: it never fires
	started := make(chan struct{})
	ended := make(chan error, 1)
	f := &Family{Name: "t", Version: 1, StreamContext: func(ctx context.Context, cmd uint8, body []byte, emit func([]byte) error) error {
		if err := emit([]byte{1, 2, 3, 4}); err != nil {
			return err
		}
		close(started)
		select {
		case <-tick:
			return nil
		case <-ctx.Done():
			ended <- ctx.Err()
			return ctx.Err()
		}
	}}
	s := listen(t, f)
	c := dial(t, s)
	request(t, c, testFamily, mnl.Dump, 7, GenlData(1, 1, nil))
	if m := recv(t, c); len(m) != 1 || m[0].Header.Flags&mnl.Multi == 0 || m[0].Header.Sequence != 7 {
		t.Fatalf("first stream message: %+v", m)
	}
	<-started
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(hang):
		t.Fatal("Close did not return")
	}
	if err := <-ended; err != context.Canceled {
		t.Errorf("the stream's context: %v", err)
	}
	m := recv(t, c)
	if len(m) != 1 || m[0].Header.Type != mnl.Error || m[0].Header.Sequence != 7 {
		t.Fatalf("after Close: %+v, want NLMSG_ERROR of the stream", m)
	}
	if errno, _, _ := ParseError(m[0]); errno != syscall.ESHUTDOWN {
		t.Errorf("stream ended with %v, want ESHUTDOWN", errno)
	}
	if m := recv(t, c); m != nil {
		t.Errorf("after the error: %+v, want the end of the connection", m)
	}
}

// A stream that ignores its context and emits nothing cannot be stopped;
// Close still returns (after 2×ShutdownWait) and says so.
func TestCloseGivesUpOnStuckStream(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for ShutdownWait")
	}
	release := make(chan struct{})
	started := make(chan struct{})
	f := &Family{Name: "t", Version: 1, Stream: func(cmd uint8, body []byte, emit func([]byte) error) error {
		close(started)
		<-release
		return emit(nil)
	}}
	s, err := Listen(filepath.Join(t.TempDir(), "vnic.sock"), f)
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, s)
	request(t, c, testFamily, mnl.Dump, 1, GenlData(1, 1, nil))
	<-started
	if err := s.Close(); err == nil {
		t.Error("Close with a handler still running: no error")
	}
	close(release) // the handler's emit fails: it ends
	s.wg.Wait()
}

// A client that does not read: the server holds at most its receive
// budget (plus the one packet that crossed it) for it, drops the rest and
// tells it ENOBUFS (NLMSG_OVERRUN) once it reads again; another client of
// the same group, reading, gets every notification; a stream to a client
// that does not read is bounded the same way.
func TestSlowReaderBudget(t *testing.T) {
	const rcvbuf = 64 << 10
	streamed := make(chan int, 1)
	f := &Family{Name: "t", Version: 1, Groups: []string{"g"},
		StreamContext: func(ctx context.Context, cmd uint8, body []byte, emit func([]byte) error) error {
			n := 0
			for ; n < 2000; n++ {
				if err := emit(make([]byte, 1000)); err != nil {
					return err
				}
			}
			streamed <- n
			return nil
		}}
	s := listen(t, f)
	s.SetRcvbuf(rcvbuf)
	slow, fast := dial(t, s), dial(t, s)
	joinGroup(t, slow, 1)
	joinGroup(t, fast, 1)
	const n = 3000
	body := make([]byte, 1000)
	for i := 0; i < n; i++ {
		s.Notify("t", "g", 9, body)
		if m := recv(t, fast); len(m) != 1 || m[0].Header.Type != testFamily {
			t.Fatalf("fast reader, notification %d: %+v", i, m)
		}
	}
	// Every notification is queued, dropped or written before Notify
	// returns; the budget's bound holds throughout.
	var slowStats ConnStats
	for _, st := range s.Stats() {
		if st.Drops > 0 {
			slowStats = st
		} else if st.Peak > 2*1100 {
			t.Errorf("the fast reader's queue grew to %d bytes", st.Peak)
		}
	}
	if slowStats.Drops == 0 {
		t.Fatalf("nothing dropped for the slow reader: %+v", s.Stats())
	}
	if slowStats.Peak > rcvbuf+1100 {
		t.Errorf("slow reader's queue peaked at %d bytes, budget %d", slowStats.Peak, rcvbuf)
	}
	got, overrun := 0, false
	for !overrun {
		m := recv(t, slow)
		if m == nil {
			t.Fatal("connection ended")
		}
		for _, x := range m {
			if x.Header.Type == mnl.Overrun {
				overrun = true
			} else {
				got++
			}
		}
	}
	if got+int(slowStats.Drops) > n {
		t.Errorf("slow reader: %d received before ENOBUFS + %d dropped > %d sent", got, slowStats.Drops, n)
	}
	// A stream into a client that reads nothing.
	c := dial(t, s)
	request(t, c, testFamily, mnl.Dump, 5, GenlData(1, 1, nil))
	select {
	case <-streamed:
	case <-time.After(hang):
		t.Fatal("the stream blocked on a client that does not read")
	}
	for _, st := range s.Stats() {
		if st.Peak > rcvbuf+1100 {
			t.Errorf("a queue peaked at %d bytes, budget %d", st.Peak, rcvbuf)
		}
	}
	seen := false
	for !seen {
		m := recv(t, c)
		if m == nil {
			t.Fatal("connection ended")
		}
		for _, x := range m {
			if x.Header.Type == mnl.Overrun {
				seen = true
			}
		}
	}
}

// Dumps through a family's Handle go out in batches of at most DumpBatch
// bytes (one message alone may exceed it), every message once and in
// order, NLMSG_DONE in the last batch; a dump that makes nothing is just
// NLMSG_DONE.
func TestDumpBatchesFramed(t *testing.T) {
	for _, tc := range []struct {
		n, size int
	}{{0, 0}, {1, 100}, {1000, 100}, {3, DumpBatch + 100}, {200, DumpBatch/2 - 20}} {
		f := &Family{Name: "t", Version: 1, Handle: func(cmd uint8, dump bool, body []byte) ([][]byte, int, error) {
			var out [][]byte
			for i := 0; i < tc.n; i++ {
				b := make([]byte, tc.size)
				if tc.size >= 4 {
					b[0], b[1] = byte(i), byte(i>>8)
				}
				out = append(out, GenlData(1, 1, b))
			}
			return out, -1, nil
		}}
		s := listen(t, f)
		c := dial(t, s)
		request(t, c, testFamily, mnl.Dump, 3, GenlData(1, 1, nil))
		got, done := 0, false
		for !done {
			m := recv(t, c)
			if m == nil {
				t.Fatalf("%+v: connection ended", tc)
			}
			size := 0
			for _, x := range m {
				size += 16 + (len(x.Data)+3)&^3
				if x.Header.Sequence != 3 {
					t.Fatalf("%+v: sequence %d", tc, x.Header.Sequence)
				}
				switch x.Header.Type {
				case mnl.Done:
					done = true
				case testFamily:
					if tc.size >= 4 && (int(x.Data[4])|int(x.Data[5])<<8) != got&0xffff {
						t.Fatalf("%+v: message %d out of order", tc, got)
					}
					got++
				default:
					t.Fatalf("%+v: message type %d", tc, x.Header.Type)
				}
			}
			if len(m) > 1 && size > DumpBatch {
				t.Errorf("%+v: a packet of %d messages and %d bytes", tc, len(m), size)
			}
		}
		if got != tc.n {
			t.Errorf("%+v: %d messages", tc, got)
		}
	}
}

// stuckRoutes is a RouteService whose dumps make nothing and never say
// they are done.
type stuckRoutes struct{ calls int }

func (*stuckRoutes) Namespace(string) error { return nil }
func (*stuckRoutes) Handle(string, uint32, mnl.Header, []byte) ([]mnl.Message, error) {
	return nil, nil
}
func (r *stuckRoutes) Dump(string, uint32, mnl.Header, []byte) (DumpFunc, error) {
	return func(func(mnl.Message) bool) (bool, error) { r.calls++; return false, nil }, nil
}

// A batch with nothing in it ends the dump (as a dumpit returning 0
// does), whatever the DumpFunc says: no endless empty batches.
func TestEmptyBatchEndsDump(t *testing.T) {
	s := listen(t)
	r := &stuckRoutes{}
	s.SetRouteService(r)
	c := dial(t, s)
	request(t, c, GenlIDCtrl, mnl.Acknowledge, 1, GenlData(CtrlCmdRouteBind, 2, nil))
	recv(t, c)
	request(t, c, 26, mnl.Dump, 2, make([]byte, 12))
	m := recv(t, c)
	if len(m) != 1 || m[0].Header.Type != mnl.Done || r.calls != 1 {
		t.Errorf("%+v after %d calls, want NLMSG_DONE after one", m, r.calls)
	}
}

// A family's Dump fills batch by batch: it is asked for each batch only
// when the client's budget has room, never for the whole at once; an
// error starting it is the request's NLMSG_ERROR with the attribute
// offset from the start of the message.
func TestGenlDumpBatches(t *testing.T) {
	const n = 20000
	next, calls, most := 0, 0, 0
	f := &Family{Name: "t", Version: 1, Dump: func(cmd uint8, body []byte) (GenlDumpFunc, int, error) {
		if len(body) > 0 {
			return nil, 4, Errorf(syscall.EINVAL, "no filters")
		}
		next = 0
		return func(add func([]byte) bool) (bool, error) {
			calls++
			took := 0
			defer func() { most = max(most, took) }()
			for ; next < n; next++ {
				if !add(GenlData(1, 1, make([]byte, 60))) {
					return false, nil
				}
				took++
			}
			return true, nil
		}, -1, nil
	}}
	s := listen(t, f)
	c := dial(t, s)
	request(t, c, testFamily, mnl.Dump, 4, GenlData(1, 1, nil))
	got := 0
	for done := false; !done; {
		m := recv(t, c)
		if m == nil {
			t.Fatal("connection ended")
		}
		for _, x := range m {
			switch x.Header.Type {
			case mnl.Done:
				done = true
			case testFamily:
				got++
			default:
				t.Fatalf("message type %d", x.Header.Type)
			}
		}
	}
	if perBatch := DumpBatch / 80; got != n || most > perBatch+1 || calls < n/(perBatch+1) {
		t.Errorf("%d messages in %d batches of up to %d, want %d in batches of about %d", got, calls, most, n, perBatch)
	}
	request(t, c, testFamily, mnl.Dump, 5, GenlData(1, 1, []byte{4, 0, 1, 0}))
	m := recv(t, c)
	if len(m) != 1 || m[0].Header.Type != mnl.Error {
		t.Fatalf("a dump that fails to start: %+v", m)
	}
	if errno, msg, off := ParseError(m[0]); errno != syscall.EINVAL || msg != "no filters" || off != 4+nlmsgHdrLen+genlHdrLen {
		t.Errorf("error %v %q at %d", errno, msg, off)
	}
}
