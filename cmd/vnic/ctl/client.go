package ctl

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/mdlayher/netlink"

	"vnic/ethtool"
	"vnic/ethtool/nl"
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
	pending []netlink.Message
	// Timeout bounds every request (default 10 s).
	Timeout time.Duration
}

type familyInfo struct {
	id     uint16
	groups map[string]uint32
}

// Dial connects to the control socket at path.
func Dial(path string) (*Conn, error) {
	c, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		return nil, fmt.Errorf("ctl: no vnic control socket at %s (is `vnic up` running? --socket/VNIC_SOCKET choose another): %w", path, err)
	}
	return &Conn{c: c, fam: map[string]familyInfo{}, Timeout: 10 * time.Second}, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.c.Close() }

func (c *Conn) roundTrip(h netlink.Header, data []byte) ([]netlink.Message, error) {
	c.seq++
	h.Sequence = c.seq
	b, err := marshal([]netlink.Message{{Header: h, Data: data}})
	if err != nil {
		return nil, err
	}
	if err := c.c.SetDeadline(time.Now().Add(c.Timeout)); err != nil {
		return nil, err
	}
	if _, err := c.c.Write(b); err != nil {
		return nil, err
	}
	var out []netlink.Message
	for {
		buf := make([]byte, maxPacket) // replies keep slices of it
		n, err := c.c.Read(buf)
		if err != nil {
			return nil, fmt.Errorf("ctl: reading the reply: %w", err)
		}
		msgs, err := unmarshal(buf[:n])
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if m.Header.Sequence != h.Sequence {
				if m.Header.Sequence == 0 && len(c.pending) < 4096 {
					m.Data = append([]byte(nil), m.Data...) // buf is reused
					c.pending = append(c.pending, m)        // a notification
				}
				continue
			}
			if end, err := ending(m); end {
				return out, err
			}
			out = append(out, m)
			if m.Header.Flags&netlink.Multi == 0 && h.Flags&netlink.Acknowledge == 0 {
				return out, nil
			}
		}
	}
}

// family resolves a family name through the controller.
func (c *Conn) family(name string) (familyInfo, error) {
	if f, ok := c.fam[name]; ok {
		return f, nil
	}
	ae := netlink.NewAttributeEncoder()
	ae.String(CtrlAttrFamilyName, name)
	body, err := ae.Encode()
	if err != nil {
		return familyInfo{}, err
	}
	msgs, err := c.roundTrip(netlink.Header{Type: GenlIDCtrl, Flags: netlink.Request}, genlData(CtrlCmdGetFamily, 2, body))
	if err != nil {
		return familyInfo{}, err
	}
	if len(msgs) != 1 {
		return familyInfo{}, fmt.Errorf("ctl: family %s: %d replies", name, len(msgs))
	}
	_, _, b, _ := genl(msgs[0].Data)
	f := familyInfo{groups: map[string]uint32{}}
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return familyInfo{}, err
	}
	for ad.Next() {
		switch ad.Type() {
		case CtrlAttrFamilyID:
			f.id = ad.Uint16()
		case CtrlAttrMcastGroups:
			ad.Nested(func(gs *netlink.AttributeDecoder) error {
				for gs.Next() {
					gs.Nested(func(g *netlink.AttributeDecoder) error {
						var n string
						var id uint32
						for g.Next() {
							switch g.Type() {
							case CtrlAttrMcastGrpName:
								n = g.String()
							case CtrlAttrMcastGrpID:
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
func (c *Conn) Execute(family string, cmd uint8, flags netlink.HeaderFlags, body []byte) ([]nl.Reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, err := c.family(family)
	if err != nil {
		return nil, err
	}
	msgs, err := c.roundTrip(netlink.Header{Type: netlink.HeaderType(f.id), Flags: flags}, genlData(cmd, 1, body))
	if err != nil {
		return nil, err
	}
	out := make([]nl.Reply, 0, len(msgs))
	for _, m := range msgs {
		rc, _, b, ok := genl(m.Data)
		if !ok {
			return nil, errors.New("ctl: short reply")
		}
		out = append(out, nl.Reply{Cmd: rc, Attrs: b})
	}
	return out, nil
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
	ae := netlink.NewAttributeEncoder()
	ae.Uint32(CtrlAttrJoinGroupID, id)
	body, err := ae.Encode()
	if err != nil {
		return err
	}
	_, err = c.roundTrip(netlink.Header{Type: GenlIDCtrl, Flags: netlink.Request | netlink.Acknowledge}, genlData(CtrlCmdJoinGroup, 2, body))
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
		if m.Header.Type == netlink.Overrun {
			out = append(out, Event{Overrun: true})
			continue
		}
		name := ""
		for n, f := range c.fam {
			if uint16(m.Header.Type) == f.id {
				name = n
			}
		}
		cmd, _, b, ok := genl(m.Data)
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
	ae := netlink.NewAttributeEncoder()
	ae.String(CtrlAttrNetns, ns)
	ae.Uint32(CtrlAttrGroups, groups)
	body, err := ae.Encode()
	if err != nil {
		return err
	}
	_, err = c.roundTrip(netlink.Header{Type: GenlIDCtrl, Flags: netlink.Request | netlink.Acknowledge}, genlData(CtrlCmdRouteBind, 2, body))
	return err
}

// Route sends one rtnetlink request (Request is added to flags) and
// returns the replies: a dump's messages, a get's answer, nothing for an
// acknowledged change.
func (c *Conn) Route(typ uint16, flags netlink.HeaderFlags, body []byte) ([]netlink.Message, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.roundTrip(netlink.Header{Type: netlink.HeaderType(typ), Flags: flags | netlink.Request}, body)
}

// ReceiveRoute waits (up to timeout; 0 for ever) for rtnetlink
// notifications; an NLMSG_OVERRUN message says some were lost.
func (c *Conn) ReceiveRoute(timeout time.Duration) ([]netlink.Message, error) {
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
func (c *Conn) readPacket(timeout time.Duration) ([]netlink.Message, error) {
	var dl time.Time
	if timeout > 0 {
		dl = time.Now().Add(timeout)
	}
	if err := c.c.SetReadDeadline(dl); err != nil {
		return nil, err
	}
	buf := make([]byte, maxPacket)
	n, err := c.c.Read(buf)
	if err != nil {
		return nil, err
	}
	return unmarshal(buf[:n])
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
	h := netlink.Header{Type: netlink.HeaderType(f.id), Flags: netlink.Request | netlink.Dump, Sequence: c.seq}
	b, err := marshal([]netlink.Message{{Header: h, Data: genlData(cmd, 1, body)}})
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
		buf := make([]byte, maxPacket)
		n, err := c.c.Read(buf)
		if err != nil {
			return fmt.Errorf("ctl: reading the stream: %w", err)
		}
		msgs, err := unmarshal(buf[:n])
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Header.Sequence != h.Sequence {
				continue
			}
			if end, err := ending(m); end {
				return err
			}
			rc, _, body, ok := genl(m.Data)
			if ok {
				fn(rc, body)
			}
		}
	}
}

// ending reports whether m ends a request's answer (an acknowledgement,
// an error or NLMSG_DONE) and the error it carries.
func ending(m netlink.Message) (bool, error) {
	switch m.Header.Type {
	case netlink.Error:
		if errno, msg, off := parseError(m); errno != 0 {
			return true, &ethtool.Error{Op: "netlink", Errno: errno, Msg: msg, Offset: max(off, 0)}
		}
		return true, nil
	case netlink.Done:
		return true, nil
	}
	return false, nil
}
