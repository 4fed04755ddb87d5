// Package nlclient is the user side of vnic's control socket: a
// connection that resolves generic netlink families, sends requests and
// reads their answers (dumps, acknowledgements, errors as
// *mnl.Error), joins multicast groups, and binds to one host's
// rtnetlink. The ethtool client (ethtool/nl) and vnic's commands use it.
package nlclient

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	mnl "github.com/mdlayher/netlink"

	"vnic/ethtool"
	"vnic/ethtool/nl"
	"vnic/stack/netlink"
)

// Conn is a client of the control socket. Execute is safe for concurrent
// use; a Conn that joined a multicast group should only Receive.
type Conn struct {
	c   *net.UnixConn
	mu  sync.Mutex
	seq uint32
	fam map[string]familyInfo
	// pending holds notifications that arrived while a request waited
	// for its answer: ReceiveRoute returns them first.
	pending []mnl.Message
	// Timeout bounds the wait for each packet of an answer (default 10 s).
	Timeout time.Duration
	pipe    *pipeline // Pipeline's state (nil: off)
}

type familyInfo struct {
	id     uint16
	groups map[string]uint32
}

// DefaultPath is the socket path without --socket or VNIC_SOCKET:
// $XDG_RUNTIME_DIR/vnic.sock, else /run/vnic.sock for root, else
// $TMPDIR/vnic-$UID.sock.
func DefaultPath() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "vnic.sock")
	}
	if os.Geteuid() == 0 {
		return "/run/vnic.sock"
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("vnic-%d.sock", os.Geteuid()))
}

// Dial connects to the control socket at path, which must belong to the
// caller's user or to root.
func Dial(path string) (*Conn, error) {
	if fi, err := os.Lstat(path); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != uint32(os.Geteuid()) && st.Uid != 0 {
			return nil, fmt.Errorf("ctl: %s belongs to uid %d, not to you or root: not talking to it", path, st.Uid)
		}
	}
	c, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		return nil, fmt.Errorf("ctl: no vnic control socket at %s (is `vnic up` running? --socket/VNIC_SOCKET choose another): %w", path, err)
	}
	return &Conn{c: c, fam: map[string]familyInfo{}, Timeout: 10 * time.Second}, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.c.Close() }

func (c *Conn) roundTrip(h mnl.Header, data []byte) ([]mnl.Message, error) {
	if err := c.flushPipe(); err != nil { // what is packed goes first
		return nil, err
	}
	c.seq++
	h.Sequence = c.seq
	b, err := netlink.Marshal([]mnl.Message{{Header: h, Data: data}})
	if err != nil {
		return nil, err
	}
	if err := c.c.SetDeadline(time.Now().Add(c.Timeout)); err != nil {
		return nil, err
	}
	if _, err := c.c.Write(b); err != nil {
		return nil, err
	}
	var out []mnl.Message
	for {
		// The timeout bounds each packet's wait, not the whole answer: a
		// dump of a full table takes longer than any one wait.
		if err := c.c.SetReadDeadline(time.Now().Add(c.Timeout)); err != nil {
			return nil, err
		}
		buf := make([]byte, netlink.MaxPacket) // replies keep slices of it
		n, err := c.c.Read(buf)
		if err != nil {
			return nil, readErr("reply", err)
		}
		msgs, err := netlink.Unmarshal(buf[:n])
		if err != nil {
			return nil, err
		}
		// A packet may carry the answer's end and, after it, notifications
		// (the server joins small packets): every message is looked at.
		done := false
		var derr error
		for _, m := range msgs {
			if m.Header.Type == mnl.Overrun {
				// Dropped messages, notifications or this answer: the
				// request fails as recvmsg would (iproute2's "netlink
				// receive error"); a listener is told as well.
				c.pending = append(c.pending, m)
				return nil, ErrOverrun
			}
			if done || m.Header.Sequence != h.Sequence {
				if m.Header.Sequence == 0 && len(c.pending) < 4096 {
					m.Data = append([]byte(nil), m.Data...) // buf is reused
					c.pending = append(c.pending, m)        // a notification
				}
				continue
			}
			if end, err := ending(m); end {
				done, derr = true, err
				continue
			}
			out = append(out, m)
			if m.Header.Flags&mnl.Multi == 0 && h.Flags&mnl.Acknowledge == 0 {
				done = true
			}
		}
		if done {
			return out, derr
		}
	}
}

// family resolves a family name through the controller.
func (c *Conn) family(name string) (familyInfo, error) {
	if f, ok := c.fam[name]; ok {
		return f, nil
	}
	ae := mnl.NewAttributeEncoder()
	ae.String(netlink.CtrlAttrFamilyName, name)
	body, err := ae.Encode()
	if err != nil {
		return familyInfo{}, err
	}
	msgs, err := c.roundTrip(mnl.Header{Type: netlink.GenlIDCtrl, Flags: mnl.Request}, netlink.GenlData(netlink.CtrlCmdGetFamily, 2, body))
	if err != nil {
		return familyInfo{}, err
	}
	if len(msgs) != 1 {
		return familyInfo{}, fmt.Errorf("ctl: family %s: %d replies", name, len(msgs))
	}
	_, _, b, _ := netlink.SplitGenl(msgs[0].Data)
	f := familyInfo{groups: map[string]uint32{}}
	ad, err := mnl.NewAttributeDecoder(b)
	if err != nil {
		return familyInfo{}, err
	}
	for ad.Next() {
		switch ad.Type() {
		case netlink.CtrlAttrFamilyID:
			f.id = ad.Uint16()
		case netlink.CtrlAttrMcastGroups:
			ad.Nested(func(gs *mnl.AttributeDecoder) error {
				for gs.Next() {
					gs.Nested(func(g *mnl.AttributeDecoder) error {
						var n string
						var id uint32
						for g.Next() {
							switch g.Type() {
							case netlink.CtrlAttrMcastGrpName:
								n = g.String()
							case netlink.CtrlAttrMcastGrpID:
								id = g.Uint32()
							}
						}
						f.groups[n] = id
						return nil
					})
				}
				return nil
			})
		}
	}
	c.fam[name] = f
	return f, ad.Err()
}

// Execute implements nl.Transport.
func (c *Conn) Execute(family string, cmd uint8, flags mnl.HeaderFlags, body []byte) ([]nl.Reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, err := c.family(family)
	if err != nil {
		return nil, ethtoolErr(err)
	}
	msgs, err := c.roundTrip(mnl.Header{Type: mnl.HeaderType(f.id), Flags: flags}, netlink.GenlData(cmd, 1, body))
	if err != nil {
		return nil, ethtoolErr(err)
	}
	out := make([]nl.Reply, 0, len(msgs))
	for _, m := range msgs {
		rc, _, b, ok := netlink.SplitGenl(m.Data)
		if !ok {
			return nil, errors.New("ctl: short reply")
		}
		out = append(out, nl.Reply{Cmd: rc, Attrs: b})
	}
	return out, nil
}

// Request sends one request of a generic netlink family and returns
// each reply's attributes; a refusal is the server's *netlink.Error.
func (c *Conn) Request(family string, cmd uint8, flags mnl.HeaderFlags, body []byte) ([][]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, err := c.family(family)
	if err != nil {
		return nil, err
	}
	msgs, err := c.roundTrip(mnl.Header{Type: mnl.HeaderType(f.id), Flags: flags}, netlink.GenlData(cmd, 1, body))
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, len(msgs))
	for _, m := range msgs {
		_, _, b, ok := netlink.SplitGenl(m.Data)
		if !ok {
			return nil, errors.New("ctl: short reply")
		}
		out = append(out, b)
	}
	return out, nil
}

// ethtoolErr gives the ethtool client an error reply as the ethtool
// command core's error (its errno, message and attribute offset).
func ethtoolErr(err error) error {
	var ne *netlink.Error
	if errors.As(err, &ne) {
		return &ethtool.Error{Op: "netlink", Errno: ne.Errno, Msg: ne.Msg, Offset: max(ne.Off, 0)}
	}
	return err
}

// Join subscribes the connection to a family's multicast group.
func (c *Conn) Join(family, group string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, err := c.family(family)
	if err != nil {
		return err
	}
	id, ok := f.groups[group]
	if !ok {
		return fmt.Errorf("ctl: family %s has no group %q", family, group)
	}
	ae := mnl.NewAttributeEncoder()
	ae.Uint32(netlink.CtrlAttrJoinGroupID, id)
	body, err := ae.Encode()
	if err != nil {
		return err
	}
	_, err = c.roundTrip(mnl.Header{Type: netlink.GenlIDCtrl, Flags: mnl.Request | mnl.Acknowledge}, netlink.GenlData(netlink.CtrlCmdJoinGroup, 2, body))
	return err
}

// Event is one received notification: its family and command and body,
// or Overrun when events were lost before it.
type Event struct {
	Family  string
	Cmd     uint8
	Body    []byte
	Overrun bool
}

// Receive waits (up to timeout; 0 waits for ever) for the next
// notification.
func (c *Conn) Receive(timeout time.Duration) ([]Event, error) {
	msgs, err := c.readPacket(timeout)
	if err != nil {
		return nil, err
	}
	var out []Event
	for _, m := range msgs {
		if m.Header.Type == mnl.Overrun {
			out = append(out, Event{Overrun: true})
			continue
		}
		name := ""
		for n, f := range c.fam {
			if uint16(m.Header.Type) == f.id {
				name = n
			}
		}
		cmd, _, b, ok := netlink.SplitGenl(m.Data)
		if !ok {
			continue
		}
		out = append(out, Event{Family: name, Cmd: cmd, Body: append([]byte(nil), b...)})
	}
	return out, nil
}

var _ nl.Transport = (*Conn)(nil)

// RouteBind makes the connection an rtnetlink socket of host ns,
// receiving the RTMGRP_* groups in groups; from then on use Route and
// ReceiveRoute only.
func (c *Conn) RouteBind(ns string, groups uint32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ae := mnl.NewAttributeEncoder()
	ae.String(netlink.CtrlAttrNetns, ns)
	ae.Uint32(netlink.CtrlAttrGroups, groups)
	body, err := ae.Encode()
	if err != nil {
		return err
	}
	_, err = c.roundTrip(mnl.Header{Type: netlink.GenlIDCtrl, Flags: mnl.Request | mnl.Acknowledge}, netlink.GenlData(netlink.CtrlCmdRouteBind, 2, body))
	return err
}

// Route sends one rtnetlink request (Request is added to flags) and
// returns the replies: a dump's messages, a get's answer, nothing for an
// acknowledged change.
func (c *Conn) Route(typ uint16, flags mnl.HeaderFlags, body []byte) ([]mnl.Message, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pipe != nil {
		if pipelined(typ, flags) {
			return nil, c.pack(mnl.Header{Type: mnl.HeaderType(typ), Flags: flags | mnl.Request}, body)
		}
	}
	return c.roundTrip(mnl.Header{Type: mnl.HeaderType(typ), Flags: flags | mnl.Request}, body)
}

// ReceiveRoute waits (up to timeout; 0 for ever) for rtnetlink
// notifications; an NLMSG_OVERRUN message says some were lost.
func (c *Conn) ReceiveRoute(timeout time.Duration) ([]mnl.Message, error) {
	c.mu.Lock()
	if p := c.pending; len(p) > 0 {
		c.pending = nil
		c.mu.Unlock()
		return p, nil
	}
	c.mu.Unlock()
	return c.readPacket(timeout)
}

// readPacket waits (up to timeout; 0 for ever) for one packet and splits
// it into messages (which keep their own buffer).
func (c *Conn) readPacket(timeout time.Duration) ([]mnl.Message, error) {
	var dl time.Time
	if timeout > 0 {
		dl = time.Now().Add(timeout)
	}
	if err := c.c.SetReadDeadline(dl); err != nil {
		return nil, err
	}
	buf := make([]byte, netlink.MaxPacket)
	n, err := c.c.Read(buf)
	if err != nil {
		return nil, err
	}
	return netlink.Unmarshal(buf[:n])
}

// Stream sends a dump request to family and calls fn with each reply's
// command and attributes as it arrives, until the stream ends. The
// connection's Timeout bounds the wait for each message, not the whole.
func (c *Conn) Stream(family string, cmd uint8, body []byte, fn func(cmd uint8, attrs []byte)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, err := c.family(family)
	if err != nil {
		return err
	}
	c.seq++
	h := mnl.Header{Type: mnl.HeaderType(f.id), Flags: mnl.Request | mnl.Dump, Sequence: c.seq}
	b, err := netlink.Marshal([]mnl.Message{{Header: h, Data: netlink.GenlData(cmd, 1, body)}})
	if err != nil {
		return err
	}
	if _, err := c.c.Write(b); err != nil {
		return err
	}
	for {
		if err := c.c.SetReadDeadline(time.Now().Add(c.Timeout)); err != nil {
			return err
		}
		buf := make([]byte, netlink.MaxPacket)
		n, err := c.c.Read(buf)
		if err != nil {
			return readErr("stream", err)
		}
		msgs, err := netlink.Unmarshal(buf[:n])
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Header.Type == mnl.Overrun {
				return ErrOverrun // some of the stream was dropped
			}
			if m.Header.Sequence != h.Sequence {
				continue
			}
			if end, err := ending(m); end {
				return err
			}
			rc, _, body, ok := netlink.SplitGenl(m.Data)
			if ok {
				fn(rc, body)
			}
		}
	}
}

// ErrClosed is what a request or stream fails with when the server closed
// the connection before answering it all (vnic up stopped).
var ErrClosed = errors.New("ctl: the control socket was closed (vnic up stopped?)")

// readErr words a failed read of what (the reply, the stream).
func readErr(what string, err error) error {
	if errors.Is(err, io.EOF) {
		return ErrClosed
	}
	return fmt.Errorf("ctl: reading the %s: %w", what, err)
}

// ErrOverrun is the error for messages the server dropped because this
// connection's receive budget was full: ENOBUFS, what recvmsg on a netlink
// socket returns after its receive buffer overran.
var ErrOverrun = &netlink.Error{Errno: syscall.ENOBUFS, Msg: "messages were lost: the connection's receive buffer overran", Off: -1}

// ending reports whether m ends a request's answer (an acknowledgement,
// an error, NLMSG_DONE, or ENOBUFS: messages were dropped, this answer's
// perhaps) and the error it carries.
func ending(m mnl.Message) (bool, error) {
	switch m.Header.Type {
	case mnl.Overrun:
		return true, ErrOverrun
	case mnl.Error:
		if errno, msg, off := netlink.ParseError(m); errno != 0 {
			return true, &netlink.Error{Errno: errno, Msg: msg, Off: off}
		}
		return true, nil
	case mnl.Done:
		return true, nil
	}
	return false, nil
}
