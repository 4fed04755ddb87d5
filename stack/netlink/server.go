package netlink

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"

	mnl "github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"vnic/ethtool"
)

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
	// Stream, when set, answers dump requests as they go (ping's
	// replies): each emitted body is sent at once as an NLM_F_MULTI
	// message, NLMSG_DONE follows the last. emit fails when the client
	// has gone; Stream should then stop.
	Stream func(cmd uint8, body []byte, emit func([]byte) error) error

	id     uint16
	groups map[string]uint32
}

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

	// QueueLen bounds each subscriber's queue of notifications.
	QueueLen int

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

// SetRouteService installs the rtnetlink service.
func (s *Server) SetRouteService(r RouteService) { s.route = r }

// NotifyRoute multicasts an rtnetlink message to the connections of
// namespace ns bound with group bit group; it never blocks.
func (s *Server) NotifyRoute(ns string, group uint32, typ uint16, body []byte) {
	m := mnl.Message{Header: mnl.Header{Type: mnl.HeaderType(typ)}, Data: body}
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.gmu.Lock()
		ok := c.route && c.ns == ns && c.rtGroups&group != 0
		c.gmu.Unlock()
		if !ok {
			continue
		}
		select {
		case c.events <- m:
		default:
			c.overrun.Store(true)
		}
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
	s := &Server{ln: ln, path: path, byID: map[uint16]*Family{}, conns: map[*conn]bool{}, QueueLen: 256}
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

// Path returns the socket's path.
func (s *Server) Path() string { return s.path }

// Close stops accepting, closes every connection and removes the socket.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	conns := s.conns
	s.conns = map[*conn]bool{}
	s.mu.Unlock()
	err := s.ln.Close()
	for c := range conns {
		c.close()
	}
	s.wg.Wait()
	return err
}

// Notify multicasts a message of family's group to every subscriber. It
// never blocks: a subscriber whose queue is full loses the event and is
// sent NLMSG_OVERRUN once it catches up.
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
	m := mnl.Message{Header: mnl.Header{Type: mnl.HeaderType(f.id)}, Data: GenlData(cmd, f.Version, body)}
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if !c.member(gid) {
			continue
		}
		select {
		case c.events <- m:
		default:
			c.overrun.Store(true)
		}
	}
}

type conn struct {
	s        *Server
	c        *net.UnixConn
	wmu      sync.Mutex
	gmu      sync.Mutex
	groups   map[uint32]bool
	route    bool   // bound to rtnetlink (under gmu)
	ns       string // its namespace
	rtGroups uint32
	uid      uint32 // the peer's user (SO_PEERCRED)
	events   chan mnl.Message
	overrun  atomic.Bool
	done     chan struct{}
	once     sync.Once
}

func (c *conn) member(g uint32) bool {
	c.gmu.Lock()
	defer c.gmu.Unlock()
	return c.groups[g]
}

func (c *conn) close() {
	c.once.Do(func() {
		close(c.done)
		c.c.Close()
	})
}

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
		c := &conn{s: s, c: uc, groups: map[uint32]bool{}, events: make(chan mnl.Message, s.QueueLen), done: make(chan struct{}), uid: uid}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			uc.Close()
			return
		}
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(2)
		go c.read()
		go c.write()
	}
}

// write sends queued notifications, with NLMSG_OVERRUN after losses.
func (c *conn) write() {
	defer c.s.wg.Done()
	for {
		select {
		case <-c.done:
			return
		case m := <-c.events:
			msgs := []mnl.Message{m}
			if c.overrun.Swap(false) {
				msgs = append(msgs, mnl.Message{Header: mnl.Header{Type: mnl.Overrun}})
			}
			if c.send(msgs) != nil {
				c.close()
				return
			}
		}
	}
}

// send writes msgs, as many packets as it takes to keep each under
// the client's read buffer (a long dump spans several, as a netlink
// dump does).
func (c *conn) send(msgs []mnl.Message) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for len(msgs) > 0 {
		n, size := 0, 0
		for n < len(msgs) && (n == 0 || size+nlmsgHdrLen+len(msgs[n].Data)+4 <= MaxPacket/2) {
			size += nlmsgHdrLen + len(msgs[n].Data) + 4
			n++
		}
		b, err := Marshal(msgs[:n])
		if err != nil {
			return err
		}
		if _, err := c.c.Write(b); err != nil {
			return err
		}
		msgs = msgs[n:]
	}
	return nil
}

func (c *conn) read() {
	defer c.s.wg.Done()
	defer func() {
		c.close()
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
	}()
	buf := make([]byte, MaxPacket)
	for {
		n, err := c.c.Read(buf)
		if err != nil {
			return
		}
		msgs, err := Unmarshal(buf[:n])
		if err != nil {
			continue // a malformed packet: nothing to answer to
		}
		for _, m := range msgs {
			if c.send(c.s.handle(c, m)) != nil {
				return
			}
		}
	}
}

// handle answers one request message.
func (s *Server) handle(c *conn, m mnl.Message) []mnl.Message {
	h := m.Header
	if h.Flags&mnl.Request == 0 {
		return nil
	}
	c.gmu.Lock()
	route, ns := c.route, c.ns
	c.gmu.Unlock()
	if route {
		return s.handleRoute(ns, c.uid, m)
	}
	cmd, _, body, ok := SplitGenl(m.Data)
	if !ok {
		return []mnl.Message{ErrorMsg(h, syscall.EINVAL, "short generic netlink header", -1)}
	}
	if h.Type == GenlIDCtrl {
		return s.ctrl(c, h, cmd, body)
	}
	f := s.byID[uint16(h.Type)]
	if f == nil {
		return []mnl.Message{ErrorMsg(h, syscall.EOPNOTSUPP, "unknown family", -1)}
	}
	dump := h.Flags&mnl.Dump == mnl.Dump
	if dump && f.Stream != nil {
		err := f.Stream(cmd, body, func(b []byte) error {
			return c.send([]mnl.Message{{Header: mnl.Header{Type: h.Type, Flags: mnl.Multi, Sequence: h.Sequence}, Data: GenlData(cmd, f.Version, b)}})
		})
		if err != nil {
			return []mnl.Message{errReply(h, err, -1)}
		}
		return []mnl.Message{{Header: mnl.Header{Type: mnl.Done, Flags: mnl.Multi, Sequence: h.Sequence}, Data: make([]byte, 4)}}
	}
	replies, off, err := f.Handle(cmd, dump, body)
	if err != nil {
		if off >= 0 {
			off += nlmsgHdrLen + genlHdrLen
		}
		return []mnl.Message{errReply(h, err, off)}
	}
	var out []mnl.Message
	flags := mnl.HeaderFlags(0)
	if dump {
		flags = mnl.Multi
	}
	for _, r := range replies {
		out = append(out, mnl.Message{Header: mnl.Header{Type: h.Type, Flags: flags, Sequence: h.Sequence}, Data: r})
	}
	if dump {
		out = append(out, mnl.Message{Header: mnl.Header{Type: mnl.Done, Flags: mnl.Multi, Sequence: h.Sequence}, Data: make([]byte, 4)})
	} else if h.Flags&mnl.Acknowledge != 0 {
		out = append(out, ErrorMsg(h, 0, "", -1))
	}
	return out
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

// handleRoute answers an rtnetlink request.
func (s *Server) handleRoute(ns string, uid uint32, m mnl.Message) []mnl.Message {
	h := m.Header
	replies, err := s.route.Handle(ns, uid, h, m.Data)
	if err != nil {
		return []mnl.Message{errReply(h, err, -1)}
	}
	dump := h.Flags&mnl.Dump == mnl.Dump
	var out []mnl.Message
	for _, r := range replies {
		r.Header.Sequence = h.Sequence
		if dump {
			r.Header.Flags |= mnl.Multi
		}
		out = append(out, r)
	}
	if dump {
		out = append(out, mnl.Message{Header: mnl.Header{Type: mnl.Done, Flags: mnl.Multi, Sequence: h.Sequence}, Data: make([]byte, 4)})
	} else if h.Flags&mnl.Acknowledge != 0 {
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
