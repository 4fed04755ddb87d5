package nlclient

import (
	"errors"
	"net"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	mnl "github.com/mdlayher/netlink"

	"vnic/stack/netlink"
)

// fakeServer answers each request packet with the next of packets (raw
// bytes, whatever they hold), then closes the connection.
func fakeServer(tb testing.TB, packets ...[]byte) *Conn {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "s")
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc, err := ln.AcceptUnix()
		ln.Close()
		if err != nil {
			return
		}
		defer sc.Close()
		buf := make([]byte, netlink.MaxPacket)
		for _, p := range packets {
			sc.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := sc.Read(buf); err != nil {
				return
			}
			if _, err := sc.Write(p); err != nil {
				return
			}
		}
	}()
	c, err := Dial(path)
	if err != nil {
		tb.Fatal(err)
	}
	c.Timeout = 5 * time.Second
	tb.Cleanup(func() { c.Close(); <-done })
	return c
}

func packet(tb testing.TB, msgs ...mnl.Message) []byte {
	b, err := netlink.Marshal(msgs)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// An NLMSG_OVERRUN from the server (its budget for this connection was
// exceeded and messages were dropped) fails the request or the stream with
// ENOBUFS, as recvmsg does after a netlink socket's receive buffer overran.
func TestOverrunIsENOBUFS(t *testing.T) {
	ovr := packet(t, mnl.Message{Header: mnl.Header{Type: mnl.Overrun}})
	c := fakeServer(t, ovr)
	if _, err := c.Route(18, mnl.Dump, nil); !errors.Is(err, syscall.ENOBUFS) {
		t.Errorf("dump after an overrun: %v, want ENOBUFS", err)
	}
	if m, err := c.ReceiveRoute(time.Millisecond); err != nil || len(m) != 1 || m[0].Header.Type != mnl.Overrun {
		t.Errorf("a listener is told of the overrun too: %v %v", m, err)
	}
	// A stream: the family's resolution, a message, then the overrun.
	ae := mnl.NewAttributeEncoder()
	ae.Uint16(netlink.CtrlAttrFamilyID, 0x11)
	fam, _ := ae.Encode()
	c = fakeServer(t, packet(t, mnl.Message{Header: mnl.Header{Type: netlink.GenlIDCtrl, Sequence: 1}, Data: netlink.GenlData(netlink.CtrlCmdNewFamily, 2, fam)}),
		packet(t, mnl.Message{Header: mnl.Header{Type: 0x11, Flags: mnl.Multi, Sequence: 2}, Data: netlink.GenlData(1, 1, nil)},
			mnl.Message{Header: mnl.Header{Type: mnl.Overrun}}))
	n := 0
	if err := c.Stream("t", 1, nil, func(uint8, []byte) { n++ }); !errors.Is(err, syscall.ENOBUFS) || n != 1 {
		t.Errorf("stream: %v after %d messages, want ENOBUFS after 1", err, n)
	}
}

// FuzzReplies: whatever the server answers (any bytes, in one or two
// packets), the client's requests, streams and receives return, with an
// error or not, and do not panic.
func FuzzReplies(f *testing.F) {
	ae := mnl.NewAttributeEncoder()
	ae.Uint16(netlink.CtrlAttrFamilyID, 0x11)
	ae.Nested(netlink.CtrlAttrMcastGroups, func(n *mnl.AttributeEncoder) error {
		n.Nested(1, func(g *mnl.AttributeEncoder) error {
			g.String(netlink.CtrlAttrMcastGrpName, "monitor")
			g.Uint32(netlink.CtrlAttrMcastGrpID, 1)
			return nil
		})
		return nil
	})
	fam, _ := ae.Encode()
	famPkt := packet(f, mnl.Message{Header: mnl.Header{Type: netlink.GenlIDCtrl, Sequence: 1}, Data: netlink.GenlData(netlink.CtrlCmdNewFamily, 2, fam)})
	ack := func(seq uint32) []byte {
		return packet(f, netlink.ErrorMsg(mnl.Header{Type: 0x11, Sequence: seq}, 0, "", -1))
	}
	f.Add(famPkt, ack(2))
	f.Add(famPkt, packet(f, mnl.Message{Header: mnl.Header{Type: 0x11, Flags: mnl.Multi, Sequence: 2}, Data: netlink.GenlData(1, 1, nil)}, mnl.Message{Header: mnl.Header{Type: mnl.Done, Flags: mnl.Multi, Sequence: 2}, Data: make([]byte, 4)}))
	f.Add(famPkt, packet(f, netlink.ErrorMsg(mnl.Header{Type: 0x11, Sequence: 2}, syscall.EINVAL, "bad", 20)))
	f.Add([]byte{0xff, 0xff, 0, 0, 1, 2}, []byte{})
	f.Add(famPkt, packet(f, mnl.Message{Header: mnl.Header{Type: mnl.Overrun}}))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if len(a) == 0 || len(a) > netlink.MaxPacket || len(b) > netlink.MaxPacket {
			return
		}

		for op := 0; op < 4; op++ {
			pkts := [][]byte{a}
			if len(b) > 0 {
				pkts = append(pkts, b)
			}
			c := fakeServer(t, pkts...)
			c.Timeout = 2 * time.Millisecond // no check depends on it: short keeps the fuzzer fast
			switch op {
			case 0:
				c.Execute("t", 1, mnl.Request|mnl.Acknowledge, nil)
			case 1:
				c.Stream("t", 1, nil, func(uint8, []byte) {})
			case 2:
				if c.Join("t", "monitor") == nil {
					c.Receive(time.Millisecond)
				}
			case 3:
				c.Route(18, mnl.Dump, nil)
				c.ReceiveRoute(time.Millisecond)
			}
		}
	})
}

// A server that closes before the answer is complete: the request or
// stream fails with ErrClosed, not a bare EOF.
func TestServerClosed(t *testing.T) {
	c := fakeServer(t, packet(t, mnl.Message{Header: mnl.Header{Type: 18, Flags: mnl.Multi, Sequence: 1}, Data: make([]byte, 4)}))
	if _, err := c.Route(18, mnl.Dump, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("dump cut short: %v, want ErrClosed", err)
	}
}
