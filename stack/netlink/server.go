package netlink

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	mnl "github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"vnic/ethtool"
)

// Budgets of a connection, after Linux's.
const (
	// DefaultRcvbuf is a connection's receive budget: the bytes the server
	// holds for it that the client has not read yet (net.core.rmem_default,
	// a netlink socket's SO_RCVBUF unless set). A notification, reply or
	// stream message that finds the budget exceeded is dropped and the
	// client told ENOBUFS; a dump waits for room instead.
	DefaultRcvbuf = 212992
	// DumpBatch is how much of a dump one step fills before it is sent,
	// what netlink_dump puts in one skb: Linux sizes it by the reader's
	// last recvmsg buffer, at least NLMSG_GOODSIZE and at most 32 KiB.
	DumpBatch = 16 << 10
	// ShutdownWait bounds Close: how long it waits for request handlers to
	// end after it cancelled them, and for queued replies to be written.
	ShutdownWait = time.Second
)

// ErrShutdown is what a request cut short by Close is answered with.
var ErrShutdown = Errorf(syscall.ESHUTDOWN, "the control socket is shutting down")

// Handler serves one generic netlink family: it returns reply messages'
// generic-netlink payloads (command, version and body already joined) or an
// error with the offset of the attribute at fault from the start of the
// request body (-1: none).
type Handler func(cmd uint8, dump bool, body []byte) (replies [][]byte, off int, err error)

// Family is a registered generic netlink family.
type Family struct {
	Name    string
	Version uint8
	Groups  []string
	Handle  Handler
	// StreamContext, when set, answers dump requests as they go (ping's
	// replies): each emitted body is sent at once as an NLM_F_MULTI
	// message, NLMSG_DONE follows the last. ctx ends when the client goes
	// or the server closes; the stream must then return (emit fails from
	// then on). A message that finds the client's receive budget full is
	// dropped (the client is told ENOBUFS) and emit returns nil.
	StreamContext func(ctx context.Context, cmd uint8, body []byte, emit func([]byte) error) error
	// Stream is StreamContext without the context: a stream that ends
	// only when an emit fails. Close cannot stop one that emits nothing;
	// it gives up on it after ShutdownWait.
	Stream func(cmd uint8, body []byte, emit func([]byte) error) error
	// Dump, when set, answers dump requests (that are not streams) in
	// batches, as netlink_dump does: it starts the dump (an error, with
	// the offset of the attribute at fault in body or -1, is the request's
	// NLMSG_ERROR) and returns what fills each batch with reply payloads
	// (command, version and body joined). Without it Handle answers a
	// dump whole and only the sending is batched.
	Dump func(cmd uint8, body []byte) (fill GenlDumpFunc, off int, err error)

	id     uint16
	groups map[string]uint32
}

// DumpFunc fills one batch of a dump, as a netlink dumpit does with its
// callback: it calls add for each message in order until add returns false
// (the batch is full: that message was not taken and must come first in
// the next call) and reports done when the dump is complete. The server
// calls it again while it is not done, whenever the client's receive
// budget has room.
type DumpFunc func(add func(mnl.Message) bool) (done bool, err error)

// GenlDumpFunc is a DumpFunc of a generic netlink family: add takes reply
// payloads.
type GenlDumpFunc func(add func(payload []byte) bool) (done bool, err error)

// Server is a control socket.
type Server struct {
	ln       *net.UnixListener
	path     string
	families []*Family
	byID     map[uint16]*Family

	mu     sync.Mutex
	conns  map[*conn]bool
	closed bool
	wg     sync.WaitGroup

	rcvbuf int // each new connection's receive budget (under mu)

	route RouteService
}

// RouteService serves rtnetlink for connections bound with
// CtrlCmdRouteBind.
type RouteService interface {
	// Namespace checks that a host exists.
	Namespace(name string) error
	// Handle answers one request of namespace ns from a client of user
	// uid: reply messages (their types set; the server fills in sequence
	// numbers and the dump's framing), or an error (an *Error or a
	// syscall.Errno).
	Handle(ns string, uid uint32, h mnl.Header, body []byte) ([]mnl.Message, error)
}

// RouteDumper is a RouteService that answers dumps in batches: Dump
// starts one (an error here is the request's NLMSG_ERROR) and the server
// fills the connection from the DumpFunc as the client reads.
type RouteDumper interface {
	Dump(ns string, uid uint32, h mnl.Header, body []byte) (DumpFunc, error)
}

// RouteBatcher is a RouteService that answers several requests (none a
// dump) in one go, calling answer for each in order; when answer returns
// false it runs no more of them.
type RouteBatcher interface {
	HandleBatch(ns string, uid uint32, reqs []mnl.Message, answer func(i int, replies []mnl.Message, err error) bool)
}

// SetRouteService installs the rtnetlink service.
func (s *Server) SetRouteService(r RouteService) { s.route = r }

// RouteListening reports whether a connection bound to host ns is in
// group.
func (s *Server) RouteListening(ns string, group uint32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.inRouteGroup(ns, group) {
			return true
		}
	}
	return false
}

// inRouteGroup reports whether c is bound to host ns and joined group.
func (c *conn) inRouteGroup(ns string, group uint32) bool {
	c.gmu.Lock()
	defer c.gmu.Unlock()
	return c.route && c.ns == ns && c.rtGroups&group != 0
}

// NotifyRoute multicasts an rtnetlink message to the connections of
// namespace ns bound with group bit group; it never blocks.
func (s *Server) NotifyRoute(ns string, group uint32, typ uint16, body []byte) {
	m := mnl.Message{Header: mnl.Header{Type: mnl.HeaderType(typ)}, Data: body}
	var b []byte
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if !c.inRouteGroup(ns, group) {
			continue
		}
		if b == nil {
			var err error
			if b, err = Marshal([]mnl.Message{m}); err != nil {
				return
			}
		}
		c.unicast(b)
	}
}

// CheckFree reports an error when another vnic serves path.
func CheckFree(path string) error {
	if c, err := net.Dial("unixpacket", path); err == nil {
		c.Close()
		return fmt.Errorf("ctl: %s: another vnic instance is serving this socket (use --socket or VNIC_SOCKET for a second one)", path)
	}
	return nil
}

// Listen opens the control socket at path (mode 0600). A live socket
// there means another vnic holds it: an error; a stale one is replaced.
func Listen(path string, families ...*Family) (*Server, error) {
	if err := CheckFree(path); err != nil {
		return nil, err
	}
	if err := checkDir(path); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("ctl: %s exists and is not a socket", path)
		}
		if uid, ok := ownerOf(fi); ok && uid != uint32(os.Geteuid()) {
			return nil, fmt.Errorf("ctl: %s is a socket of uid %d, not ours: refusing to replace it", path, uid)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("ctl: removing stale socket: %w", err)
		}
	}
	old := syscall.Umask(0o177)
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: path, Net: "unixpacket"})
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("ctl: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("ctl: %w", err)
	}
	s := &Server{ln: ln, path: path, byID: map[uint16]*Family{}, conns: map[*conn]bool{}, rcvbuf: DefaultRcvbuf}
	grp := uint32(1)
	for i, f := range families {
		f.id = uint16(GenlIDCtrl + 1 + i)
		f.groups = map[string]uint32{}
		for _, g := range f.Groups {
			f.groups[g] = grp
			grp++
		}
		s.families = append(s.families, f)
		s.byID[f.id] = f
	}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// SetRcvbuf sets the receive budget, in bytes, of connections accepted
// from now on (SO_RCVBUF; DefaultRcvbuf until set).
func (s *Server) SetRcvbuf(n int) {
	if n <= 0 {
		n = DefaultRcvbuf
	}
	s.mu.Lock()
	s.rcvbuf = n
	s.mu.Unlock()
}

// Path returns the socket's path.
func (s *Server) Path() string { return s.path }

// Close shuts the socket down: it stops accepting, cancels every request
// in progress (a stream ends with ESHUTDOWN), writes what is queued, then
// closes every connection and removes the socket. It returns within about
// twice ShutdownWait whatever the clients and handlers do; an error says
// that handlers were still running (a Stream without a context).
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	err := s.ln.Close()
	deadline := time.Now().Add(ShutdownWait)
	for _, c := range conns {
		c.shutdown(deadline)
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(ShutdownWait):
		for _, c := range conns {
			c.close()
		}
		select {
		case <-done:
		case <-time.After(ShutdownWait):
			return fmt.Errorf("ctl: request handlers still running %v after the socket closed", 2*ShutdownWait)
		}
	}
	return err
}

// ConnStats is one connection's output queue.
type ConnStats struct {
	Queued int    // bytes queued for the client now
	Peak   int    // the most ever queued
	Drops  uint64 // packets dropped on an exceeded budget (ENOBUFS)
}

// Stats reports the open connections' queues.
func (s *Server) Stats() []ConnStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ConnStats
	for c := range s.conns {
		c.qmu.Lock()
		out = append(out, ConnStats{Queued: c.queued, Peak: c.peak, Drops: c.drops})
		c.qmu.Unlock()
	}
	return out
}

// Notify multicasts a message of family's group to every subscriber. It
// never blocks: a subscriber whose receive budget is exceeded loses the
// event and is told ENOBUFS (an NLMSG_OVERRUN message) before what
// follows.
func (s *Server) Notify(family, group string, cmd uint8, body []byte) {
	var f *Family
	for _, x := range s.families {
		if x.Name == family {
			f = x
		}
	}
	if f == nil {
		return
	}
	gid, ok := f.groups[group]
	if !ok {
		return
	}
	b, err := Marshal([]mnl.Message{{Header: mnl.Header{Type: mnl.HeaderType(f.id)}, Data: GenlData(cmd, f.Version, body)}})
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.member(gid) {
			c.unicast(b)
		}
	}
}

// conn is one client. Everything sent to it goes through its output queue,
// written by its own goroutine, so no producer blocks on a client that
// does not read: queue bytes are bounded by the receive budget (plus the
// one packet that went over it), as a netlink socket's sk_rmem_alloc is by
// its sk_rcvbuf.
type conn struct {
	s        *Server
	c        *net.UnixConn
	gmu      sync.Mutex
	groups   map[uint32]bool
	route    bool   // bound to rtnetlink (under gmu)
	ns       string // its namespace
	rtGroups uint32
	stop     bool   // OptStopAtRefusal (under gmu)
	uid      uint32 // the peer's user (SO_PEERCRED)

	ctx    context.Context // ends when the connection closes or shuts down
	cancel context.CancelFunc

	qmu      sync.Mutex
	qcond    *sync.Cond
	queue    [][]byte // packets to write
	queued   int      // their bytes, with the packet being written
	peak     int
	drops    uint64
	overrun  bool // a packet was dropped: ENOBUFS goes out next
	rcvbuf   int
	draining bool // shutting down: write what is queued, then close
	readDone bool // the reader has stopped (no more replies)
	closed   bool
	once     sync.Once
}

func (c *conn) member(g uint32) bool {
	c.gmu.Lock()
	defer c.gmu.Unlock()
	return c.groups[g]
}

// close ends the connection at once.
func (c *conn) close() {
	c.once.Do(func() {
		c.cancel()
		c.qmu.Lock()
		c.closed = true
		c.queue = nil
		c.qcond.Broadcast()
		c.qmu.Unlock()
		c.c.Close()
	})
}

// shutdown cancels the connection's requests and takes no more; the
// writer sends what is queued (until deadline) and closes it.
func (c *conn) shutdown(deadline time.Time) {
	// Draining first: a reader that stops from here on leaves the queue to
	// the writer rather than closing the connection under it.
	c.qmu.Lock()
	c.draining = true
	c.qcond.Broadcast()
	c.qmu.Unlock()
	c.c.SetWriteDeadline(deadline)
	c.cancel()
	c.c.SetReadDeadline(time.Now())
}

var errClosed = errors.New("ctl: connection closed")

// unicast queues packet b unless the budget is exceeded (netlink_unicast
// from the kernel, which does not wait: the packet is dropped and the
// socket's next read fails with ENOBUFS). It fails only on a closed
// connection.
func (c *conn) unicast(b []byte) error {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.closed {
		return errClosed
	}
	if c.queued > c.rcvbuf {
		c.drops++
		c.overrun = true
		c.qcond.Broadcast()
		return nil
	}
	c.push(b)
	return nil
}

// push queues b (under qmu).
func (c *conn) push(b []byte) {
	c.queue = append(c.queue, b)
	c.queued += len(b)
	c.peak = max(c.peak, c.queued)
	c.qcond.Broadcast()
}

// sendMsgs queues msgs as unicast packets of at most DumpBatch bytes each
// (a message larger than that goes alone).
func (c *conn) sendMsgs(msgs []mnl.Message) error {
	for len(msgs) > 0 {
		n, size := 0, 0
		for n < len(msgs) && (n == 0 || size+msgLen(msgs[n]) <= DumpBatch) {
			size += msgLen(msgs[n])
			n++
		}
		b, err := Marshal(msgs[:n])
		if err != nil {
			return err
		}
		if err := c.unicast(b); err != nil {
			return err
		}
		msgs = msgs[n:]
	}
	return nil
}

func msgLen(m mnl.Message) int { return nlmsgHdrLen + (len(m.Data)+3)&^3 }

// waitRoom blocks while the queue holds the whole budget, until it has
// drained to half of it (netlink_dump runs again from recvmsg once
// sk_rmem_alloc is at most sk_rcvbuf/2). It fails when the connection
// closes or shuts down.
func (c *conn) waitRoom() error {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.queued >= c.rcvbuf {
		for c.queued > c.rcvbuf/2 && !c.closed && c.ctx.Err() == nil {
			c.qcond.Wait()
		}
	}
	if c.closed {
		return errClosed
	}
	return c.ctx.Err()
}

// dump runs fill batch by batch into the queue, each batch waiting for
// room (a dump is never dropped), and ends it with NLMSG_DONE (in the last
// batch when it fits), or NLMSG_ERROR when fill fails.
func (c *conn) dump(h mnl.Header, fill DumpFunc) error {
	var carry []mnl.Message // what did not fit the last batch
	finished := false       // fill reported done (DONE is in carry)
	for {
		if err := c.waitRoom(); err != nil {
			if errors.Is(err, context.Canceled) {
				c.sendMsgs([]mnl.Message{errReply(h, ErrShutdown, -1)})
			}
			return err
		}
		var batch []mnl.Message
		size := 0
		add := func(m mnl.Message) bool {
			l := msgLen(m)
			if len(carry) > 0 || (len(batch) > 0 && size+l > DumpBatch) {
				carry = append(carry, m)
				return false
			}
			batch = append(batch, m)
			size += l
			return true
		}
		prev := carry
		carry = nil
		for _, m := range prev {
			add(m)
		}
		if !finished && len(carry) == 0 {
			took := 0
			done, err := fill(func(m mnl.Message) bool {
				if len(carry) > 0 {
					return false
				}
				m.Header.Sequence = h.Sequence
				m.Header.Flags |= mnl.Multi
				add(m) // one that does not fit is carried: taken all the same
				took++
				return true
			})
			// A batch with nothing in it ends the dump, as a dumpit that
			// returns 0 does.
			done = done || took == 0
			switch {
			case err != nil:
				finished = true
				add(errReply(h, err, -1))
			case done:
				finished = true
				add(doneMsg(h))
			}
		}
		b, err := Marshal(batch)
		if err != nil {
			return err
		}
		c.qmu.Lock()
		if c.closed {
			c.qmu.Unlock()
			return errClosed
		}
		c.push(b)
		c.qmu.Unlock()
		if finished && len(carry) == 0 {
			return nil
		}
	}
}

// sliceDump is a DumpFunc over messages already made (a handler that
// answers a dump whole).
func sliceDump(msgs []mnl.Message) DumpFunc {
	return func(add func(mnl.Message) bool) (bool, error) {
		for len(msgs) > 0 && add(msgs[0]) {
			msgs[0] = mnl.Message{}
			msgs = msgs[1:]
		}
		return len(msgs) == 0, nil
	}
}

func doneMsg(h mnl.Header) mnl.Message {
	return mnl.Message{Header: mnl.Header{Type: mnl.Done, Flags: mnl.Multi, Sequence: h.Sequence}, Data: make([]byte, 4)}
}

// overrunPacket is what stands for ENOBUFS on the next read: a Unix socket
// cannot carry a netlink socket's sk_err, so an NLMSG_OVERRUN message
// tells the client that what should have come was dropped.
var overrunPacket, _ = Marshal([]mnl.Message{{Header: mnl.Header{Type: mnl.Overrun}}})

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		uc, err := s.ln.AcceptUnix()
		if err != nil {
			return
		}
		uid := peerUID(uc)
		if !peerAllowed(uid, uint32(os.Geteuid())) {
			uc.Close() // another user's process: the socket is ours alone
			continue
		}
		c := &conn{s: s, c: uc, groups: map[uint32]bool{}, uid: uid}
		c.qcond = sync.NewCond(&c.qmu)
		c.ctx, c.cancel = context.WithCancel(context.Background())
		s.mu.Lock()
		c.rcvbuf = s.rcvbuf
		if s.closed {
			s.mu.Unlock()
			uc.Close()
			c.cancel()
			return
		}
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(2)
		go c.read()
		go c.write()
	}
}

// write sends the queue in order, ENOBUFS (NLMSG_OVERRUN) first after a
// drop. Shutting down, it exits once the reader is done and the queue is
// empty; then (or on a write error) the connection closes.
func (c *conn) write() {
	defer c.s.wg.Done()
	defer c.close()
	for {
		c.qmu.Lock()
		for len(c.queue) == 0 && !c.overrun && !c.closed && !(c.draining && c.readDone) {
			c.qcond.Wait()
		}
		if c.closed || (len(c.queue) == 0 && !c.overrun) {
			c.qmu.Unlock()
			return
		}
		var p []byte
		counted := 0
		if c.overrun {
			c.overrun = false
			p = overrunPacket
		} else {
			// Small packets waiting together go out as one (acknowledgements
			// of pipelined requests, notifications): a packet may hold many
			// messages, and a write each would cost a system call each.
			p, counted = c.queue[0], len(c.queue[0])
			n := 1
			if len(p) < DumpBatch && len(c.queue) > 1 {
				joined := append(make([]byte, 0, DumpBatch), p...)
				for n < len(c.queue) && len(joined)+len(c.queue[n]) <= DumpBatch {
					joined = append(joined, c.queue[n]...)
					counted += len(c.queue[n])
					n++
				}
				p = joined
			}
			clear(c.queue[:n])
			c.queue = c.queue[n:]
		}
		c.qmu.Unlock()
		_, err := c.c.Write(p)
		c.qmu.Lock()
		c.queued -= counted
		c.qcond.Broadcast()
		c.qmu.Unlock()
		if err != nil {
			return
		}
	}
}

func (c *conn) read() {
	defer c.s.wg.Done()
	defer func() {
		c.qmu.Lock()
		c.readDone = true
		draining := c.draining
		c.qcond.Broadcast()
		c.qmu.Unlock()
		if !draining {
			c.close() // the client went (or broke the socket)
		}
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
	}()
	buf := make([]byte, MaxPacket)
	for {
		n, err := c.c.Read(buf)
		if err != nil || n == 0 {
			return
		}
		msgs, err := Unmarshal(buf[:n])
		if err != nil {
			continue // a malformed packet: nothing to answer to
		}
		for i := 0; i < len(msgs); {
			if c.ctx.Err() != nil {
				return
			}
			if n := c.routeRun(msgs[i:]); n > 0 {
				ran, err := c.s.serveRouteRun(c, msgs[i:i+n])
				if err != nil {
					return
				}
				if ran < n {
					// Refused, under OptStopAtRefusal: the rest of the
					// packet is not run.
					if c.cancelRest(msgs[i+ran:]) != nil {
						return
					}
					break
				}
				i += n
				continue
			}
			if c.s.serve(c, msgs[i]) != nil {
				return
			}
			i++
		}
	}
}

// errCanceled answers the requests OptStopAtRefusal leaves unrun.
var errCanceled = Errorf(syscall.ECANCELED, "not run: a request before it in the packet was refused")

// cancelRest answers msgs' requests ECANCELED without running them.
func (c *conn) cancelRest(msgs []mnl.Message) error {
	var out []mnl.Message
	for _, m := range msgs {
		if m.Header.Flags&mnl.Request != 0 {
			out = append(out, errReply(m.Header, errCanceled, -1))
		}
	}
	return c.sendMsgs(out)
}

// setOption is MsgSetOption: an option and its value (u32 each).
func (c *conn) setOption(h mnl.Header, body []byte) []mnl.Message {
	if len(body) < 8 {
		return []mnl.Message{ErrorMsg(h, syscall.EINVAL, "an option and its value (u32 each) expected", -1)}
	}
	opt, val := binary.LittleEndian.Uint32(body), binary.LittleEndian.Uint32(body[4:])
	switch {
	case opt == OptStopAtRefusal && val <= 1:
		c.gmu.Lock()
		c.stop = val == 1
		c.gmu.Unlock()
		return []mnl.Message{ErrorMsg(h, 0, "", -1)}
	case opt == OptStopAtRefusal:
		return []mnl.Message{ErrorMsg(h, syscall.EINVAL, "the value is 0 or 1", -1)}
	}
	return []mnl.Message{ErrorMsg(h, syscall.ENOPROTOOPT, "no such option", -1)}
}

// serve answers one request message into the connection's queue; an
// error means the connection is gone.
func (s *Server) serve(c *conn, m mnl.Message) error {
	h := m.Header
	if h.Flags&mnl.Request == 0 {
		return nil
	}
	if h.Type == MsgSetOption {
		return c.sendMsgs(c.setOption(h, m.Data))
	}
	dump := h.Flags&mnl.Dump == mnl.Dump
	c.gmu.Lock()
	route, ns := c.route, c.ns
	c.gmu.Unlock()
	if route {
		if rd, ok := s.route.(RouteDumper); ok && dump {
			fill, err := rd.Dump(ns, c.uid, h, m.Data)
			if err != nil {
				return c.sendMsgs([]mnl.Message{errReply(h, err, -1)})
			}
			return c.dump(h, fill)
		}
		if dump {
			replies, err := s.route.Handle(ns, c.uid, h, m.Data)
			if err != nil {
				return c.sendMsgs([]mnl.Message{errReply(h, err, -1)})
			}
			return c.dump(h, sliceDump(replies))
		}
		return c.sendMsgs(s.handleRoute(ns, c.uid, m))
	}
	cmd, _, body, ok := SplitGenl(m.Data)
	if !ok {
		return c.sendMsgs([]mnl.Message{ErrorMsg(h, syscall.EINVAL, "short generic netlink header", -1)})
	}
	if h.Type == GenlIDCtrl {
		return c.sendMsgs(s.ctrl(c, h, cmd, body))
	}
	f := s.byID[uint16(h.Type)]
	if f == nil {
		return c.sendMsgs([]mnl.Message{ErrorMsg(h, syscall.EOPNOTSUPP, "unknown family", -1)})
	}
	if dump && (f.StreamContext != nil || f.Stream != nil) {
		return c.stream(h, f, cmd, body)
	}
	if dump && f.Dump != nil {
		fill, off, err := f.Dump(cmd, body)
		if err != nil {
			if off >= 0 {
				off += nlmsgHdrLen + genlHdrLen
			}
			return c.sendMsgs([]mnl.Message{errReply(h, err, off)})
		}
		return c.dump(h, func(add func(mnl.Message) bool) (bool, error) {
			return fill(func(p []byte) bool { return add(mnl.Message{Header: mnl.Header{Type: h.Type}, Data: p}) })
		})
	}
	if f.Handle == nil {
		return c.sendMsgs([]mnl.Message{ErrorMsg(h, syscall.EOPNOTSUPP, "command not supported", -1)})
	}
	replies, off, err := f.Handle(cmd, dump, body)
	if err != nil {
		if off >= 0 {
			off += nlmsgHdrLen + genlHdrLen
		}
		return c.sendMsgs([]mnl.Message{errReply(h, err, off)})
	}
	if dump {
		msgs := make([]mnl.Message, len(replies))
		for i, r := range replies {
			msgs[i] = mnl.Message{Header: mnl.Header{Type: h.Type}, Data: r}
		}
		return c.dump(h, sliceDump(msgs))
	}
	var out []mnl.Message
	for _, r := range replies {
		out = append(out, mnl.Message{Header: mnl.Header{Type: h.Type, Sequence: h.Sequence}, Data: r})
	}
	if h.Flags&mnl.Acknowledge != 0 {
		out = append(out, ErrorMsg(h, 0, "", -1))
	}
	return c.sendMsgs(out)
}

// stream runs a family's stream: every emitted body goes out as it comes;
// NLMSG_DONE ends it, NLMSG_ERROR if it fails (ESHUTDOWN when Close cut
// it short).
func (c *conn) stream(h mnl.Header, f *Family, cmd uint8, body []byte) error {
	emit := func(b []byte) error {
		if err := c.ctx.Err(); err != nil {
			return err
		}
		p, err := Marshal([]mnl.Message{{Header: mnl.Header{Type: h.Type, Flags: mnl.Multi, Sequence: h.Sequence}, Data: GenlData(cmd, f.Version, b)}})
		if err != nil {
			return err
		}
		return c.unicast(p)
	}
	var err error
	if f.StreamContext != nil {
		err = f.StreamContext(c.ctx, cmd, body, emit)
	} else {
		err = f.Stream(cmd, body, emit)
	}
	if c.ctx.Err() != nil {
		err = ErrShutdown
	}
	if err != nil {
		return c.sendMsgs([]mnl.Message{errReply(h, err, -1)})
	}
	return c.sendMsgs([]mnl.Message{doneMsg(h)})
}

// ctrl is the controller family: GETFAMILY by name, and joining groups.
func (s *Server) ctrl(c *conn, h mnl.Header, cmd uint8, body []byte) []mnl.Message {
	ad, err := mnl.NewAttributeDecoder(body)
	if err != nil {
		return []mnl.Message{ErrorMsg(h, syscall.EINVAL, "malformed attributes", -1)}
	}
	var name string
	var gid uint32
	for ad.Next() {
		switch ad.Type() {
		case CtrlAttrFamilyName:
			name = ad.String()
		case CtrlAttrJoinGroupID:
			gid = ad.Uint32()
		}
	}
	switch cmd {
	case CtrlCmdGetFamily:
		for _, f := range s.families {
			if f.Name != name {
				continue
			}
			ae := mnl.NewAttributeEncoder()
			ae.Uint16(CtrlAttrFamilyID, f.id)
			ae.String(CtrlAttrFamilyName, f.Name)
			ae.Uint32(CtrlAttrVersion, uint32(f.Version))
			if len(f.Groups) > 0 {
				ae.Nested(CtrlAttrMcastGroups, func(gs *mnl.AttributeEncoder) error {
					for i, g := range f.Groups {
						gs.Nested(uint16(i+1), func(ge *mnl.AttributeEncoder) error {
							ge.String(CtrlAttrMcastGrpName, g)
							ge.Uint32(CtrlAttrMcastGrpID, f.groups[g])
							return nil
						})
					}
					return nil
				})
			}
			b, err := ae.Encode()
			if err != nil {
				return []mnl.Message{ErrorMsg(h, syscall.EINVAL, err.Error(), -1)}
			}
			out := []mnl.Message{{Header: mnl.Header{Type: GenlIDCtrl, Sequence: h.Sequence}, Data: GenlData(CtrlCmdNewFamily, 2, b)}}
			if h.Flags&mnl.Acknowledge != 0 {
				out = append(out, ErrorMsg(h, 0, "", -1))
			}
			return out
		}
		return []mnl.Message{ErrorMsg(h, syscall.ENOENT, "no such family", -1)}
	case CtrlCmdRouteBind:
		if s.route == nil {
			return []mnl.Message{ErrorMsg(h, syscall.EPROTONOSUPPORT, "no rtnetlink here", -1)}
		}
		ad, _ := mnl.NewAttributeDecoder(body)
		var ns string
		var groups uint32
		for ad.Next() {
			switch ad.Type() {
			case CtrlAttrNetns:
				ns = ad.String()
			case CtrlAttrGroups:
				groups = ad.Uint32()
			}
		}
		if err := s.route.Namespace(ns); err != nil {
			return []mnl.Message{ErrorMsg(h, syscall.ENOENT, err.Error(), -1)}
		}
		c.gmu.Lock()
		c.route, c.ns, c.rtGroups = true, ns, groups
		c.gmu.Unlock()
		return []mnl.Message{ErrorMsg(h, 0, "", -1)}
	case CtrlCmdJoinGroup:
		for _, f := range s.families {
			for _, id := range f.groups {
				if id == gid {
					c.gmu.Lock()
					c.groups[gid] = true
					c.gmu.Unlock()
					return []mnl.Message{ErrorMsg(h, 0, "", -1)}
				}
			}
		}
		return []mnl.Message{ErrorMsg(h, syscall.ENOENT, "no such multicast group", -1)}
	}
	return []mnl.Message{ErrorMsg(h, syscall.EOPNOTSUPP, "unknown controller command", -1)}
}

// routeRun is how many of msgs, from the first, are rtnetlink requests
// that are not dumps, when the service can answer them together (0: not
// a run). A run is two requests or more; under OptStopAtRefusal one is
// enough (its refusal ends the packet).
func (c *conn) routeRun(msgs []mnl.Message) int {
	if _, ok := c.s.route.(RouteBatcher); !ok || len(msgs) == 0 {
		return 0
	}
	c.gmu.Lock()
	route, stop := c.route, c.stop
	c.gmu.Unlock()
	if !route || len(msgs) < 2 && !stop {
		return 0
	}
	n := 0
	for n < len(msgs) && msgs[n].Header.Flags&mnl.Request != 0 && msgs[n].Header.Flags&mnl.Dump != mnl.Dump && msgs[n].Header.Type != MsgSetOption {
		n++
	}
	if n < 2 && !stop {
		return 0
	}
	return n
}

// serveRouteRun answers a run of rtnetlink requests in one go (one trip
// into the simulation for a packet of them, where each would take its
// own), the answers queued together as serve queues one request's. It
// returns how many ran: fewer than len(msgs) when one was refused under
// OptStopAtRefusal.
func (s *Server) serveRouteRun(c *conn, msgs []mnl.Message) (int, error) {
	c.gmu.Lock()
	ns, stop := c.ns, c.stop
	c.gmu.Unlock()
	ran := 0
	var out []mnl.Message
	s.route.(RouteBatcher).HandleBatch(ns, c.uid, msgs, func(i int, replies []mnl.Message, err error) bool {
		ran = i + 1
		out = appendRouteAnswer(out, msgs[i].Header, replies, err)
		return err == nil || !stop
	})
	return ran, c.sendMsgs(out)
}

// handleRoute answers an rtnetlink request that is not a dump.
func (s *Server) handleRoute(ns string, uid uint32, m mnl.Message) []mnl.Message {
	replies, err := s.route.Handle(ns, uid, m.Header, m.Data)
	return routeAnswer(m.Header, replies, err)
}

// routeAnswer is what a request of header h is answered with: its
// replies and acknowledgement, or its error.
func routeAnswer(h mnl.Header, replies []mnl.Message, err error) []mnl.Message {
	return appendRouteAnswer(nil, h, replies, err)
}

// appendRouteAnswer appends routeAnswer(h, replies, err) to out.
func appendRouteAnswer(out []mnl.Message, h mnl.Header, replies []mnl.Message, err error) []mnl.Message {
	if err != nil {
		return append(out, errReply(h, err, -1))
	}
	for _, r := range replies {
		r.Header.Sequence = h.Sequence
		out = append(out, r)
	}
	if h.Flags&mnl.Acknowledge != 0 {
		out = append(out, ErrorMsg(h, 0, "", -1))
	}
	return out
}

// errReply is NLMSG_ERROR for a handler's error: an *Error or an
// *ethtool.Error (the ethtool command core's) gives its errno and message
// (the extended ack), a bare errno no message, anything else EINVAL with
// its text.
func errReply(h mnl.Header, err error, off int) mnl.Message {
	errno := syscall.EINVAL
	msg := err.Error()
	var ne *Error
	var e *ethtool.Error
	if errors.As(err, &ne) {
		errno, msg = ne.Errno, ne.Msg
	} else if errors.As(err, &e) {
		errno, msg = e.Errno, e.Msg
	} else if errors.As(err, &errno) {
		msg = ""
	}
	return ErrorMsg(h, errno, msg, off)
}

// peerUID is the connecting process's user (SO_PEERCRED), what a netlink
// socket's sk_uid is; 0 when it cannot be read.
func peerUID(uc *net.UnixConn) uint32 {
	raw, err := uc.SyscallConn()
	if err != nil {
		return 0
	}
	var uid uint32
	raw.Control(func(fd uintptr) {
		if cred, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED); err == nil {
			uid = cred.Uid
		}
	})
	return uid
}

// peerAllowed says whether a peer of user uid may use a socket served by
// user euid: the same user, or root.
func peerAllowed(uid, euid uint32) bool { return uid == euid || uid == 0 }

// checkDir refuses to serve in a directory others may write without the
// sticky bit: anyone could put their own socket in the path's place.
func checkDir(path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("ctl: %w", err)
	}
	if fi.Mode().Perm()&0o002 != 0 && fi.Mode()&os.ModeSticky == 0 {
		return fmt.Errorf("ctl: %s: others can write to %s and it has no sticky bit: refusing to serve a socket there", path, dir)
	}
	return nil
}

// ownerOf is a file's owner.
func ownerOf(fi os.FileInfo) (uint32, bool) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Uid, true
	}
	return 0, false
}
