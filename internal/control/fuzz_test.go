package control

import (
	"encoding/binary"
	"net"
	"path/filepath"
	"testing"
	"time"

	mnl "github.com/mdlayher/netlink"

	"vnic/ethtool/nl"
	"vnic/internal/topo"
	"vnic/stack/inet"
	"vnic/stack/netlink"
	"vnic/stack/rtnetlink"
)

// familyID resolves a generic netlink family over a raw connection.
func familyID(tb testing.TB, c *net.UnixConn, name string) uint16 {
	tb.Helper()
	ae := mnl.NewAttributeEncoder()
	ae.String(netlink.CtrlAttrFamilyName, name)
	body, _ := ae.Encode()
	b, _ := netlink.Marshal([]mnl.Message{{Header: mnl.Header{Type: netlink.GenlIDCtrl, Flags: mnl.Request, Sequence: 1}, Data: netlink.GenlData(netlink.CtrlCmdGetFamily, 2, body)}})
	if _, err := c.Write(b); err != nil {
		tb.Fatal(err)
	}
	buf := make([]byte, netlink.MaxPacket)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		tb.Fatal(err)
	}
	msgs, err := netlink.Unmarshal(buf[:n])
	if err != nil || len(msgs) != 1 {
		tb.Fatalf("GETFAMILY %s: %v %v", name, msgs, err)
	}
	_, _, attrs, _ := netlink.SplitGenl(msgs[0].Data)
	ad, err := mnl.NewAttributeDecoder(attrs)
	if err != nil {
		tb.Fatal(err)
	}
	for ad.Next() {
		if ad.Type() == netlink.CtrlAttrFamilyID {
			return ad.Uint16()
		}
	}
	tb.Fatalf("no id for %s", name)
	return 0
}

// FuzzServer sends arbitrary netlink messages to the control socket of a
// running topology (generic netlink, or rtnetlink after a bind to h1, as
// the first byte says): no panic, every request is answered (each is sent
// with NLM_F_ACK and a sequence number of its own: an acknowledgement or
// error, a dump's NLMSG_DONE or error), and the connection's goroutines
// are gone once the client closes. vnic_inet's streams (ping) are left
// out: they run until stopped, on a clock nobody runs here.
func FuzzServer(f *testing.F) {
	cfg := topo.Pair(topo.DeviceConfig{Queues: 2}, 1, 1000)
	cfg.Checker = false
	cfg.Hosts[0].Devices[0].Addresses = []string{"198.18.5.2/24"}
	cfg.Hosts[0].Routes = []string{"default via 198.18.5.1"}
	cfg.Hosts[1].Devices[0].Addresses = []string{"198.18.5.1/24"}
	w := topo.Started(f, cfg, 10*time.Millisecond)
	s, err := Serve(w, filepath.Join(f.TempDir(), "vnic.sock"), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	probe, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: s.Path(), Net: "unixpacket"})
	if err != nil {
		f.Fatal(err)
	}
	inetID := familyID(f, probe, inet.InetFamily)
	ethID := familyID(f, probe, nl.FamilyName)
	probe.Close()

	seed := func(route bool, msgs ...mnl.Message) {
		b, _ := netlink.Marshal(msgs)
		mode := byte(0)
		if route {
			mode = 1
		}
		f.Add(append([]byte{mode}, b...))
	}
	hdr := func(typ uint16, flags mnl.HeaderFlags) mnl.Header {
		return mnl.Header{Type: mnl.HeaderType(typ), Flags: mnl.Request | flags}
	}
	ae := mnl.NewAttributeEncoder()
	ae.String(netlink.CtrlAttrFamilyName, "ethtool")
	fam, _ := ae.Encode()
	seed(false, mnl.Message{Header: hdr(netlink.GenlIDCtrl, 0), Data: netlink.GenlData(netlink.CtrlCmdGetFamily, 2, fam)})
	seed(false, mnl.Message{Header: hdr(ethID, mnl.Dump), Data: netlink.GenlData(nl.MsgFeaturesGet, 1, nil)})
	seed(false, mnl.Message{Header: hdr(ethID, 0), Data: netlink.GenlData(nl.MsgRingsGet, 1, []byte{0x0c, 0, 1, 0x80, 8, 0, 2, 0, 'h', '1', '/', 'v'})})
	seed(false, mnl.Message{Header: hdr(inetID, 0), Data: netlink.GenlData(inet.InetCmdStats, 1, nil)})
	seed(true, mnl.Message{Header: hdr(rtnetlink.RTMGetRoute, mnl.Dump), Data: make([]byte, 12)},
		mnl.Message{Header: hdr(rtnetlink.RTMGetLink, mnl.Dump), Data: make([]byte, 16)},
		mnl.Message{Header: hdr(rtnetlink.RTMGetAddr, mnl.Dump), Data: make([]byte, 8)})
	seed(true, mnl.Message{Header: hdr(rtnetlink.RTMNewRoute, mnl.Create), Data: rtnetlink.RouteMsg{DstLen: 24, Table: 254, Type: 1, Protocol: 3, Oif: 2}.Marshal()})

	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 1 || len(in) > netlink.MaxPacket/2 {
			return
		}
		route := in[0]&1 == 1
		msgs, err := netlink.Unmarshal(in[1:])
		if err != nil || len(msgs) == 0 || len(msgs) > 64 {
			return
		}
		// Each request gets NLM_F_ACK and its own sequence number; what is
		// not a request is sent as it is (and not answered).
		want := map[uint32]bool{}
		var send []mnl.Message
		for i, m := range msgs {
			if m.Header.Flags&mnl.Request == 0 {
				continue
			}
			if !route && uint16(m.Header.Type) == inetID && m.Header.Flags&mnl.Dump == mnl.Dump {
				continue // a stream: see above
			}
			m.Header.Flags |= mnl.Acknowledge
			m.Header.Sequence = uint32(i + 2)
			want[m.Header.Sequence] = true
			send = append(send, m)
		}
		c, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: s.Path(), Net: "unixpacket"})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			c.Close()
			// The connection's goroutines end with it.
			deadline := time.Now().Add(10 * time.Second)
			for len(s.Stats()) != 0 {
				if time.Now().After(deadline) {
					t.Fatalf("%d connections still served after the client closed", len(s.Stats()))
				}
				time.Sleep(time.Millisecond)
			}

		}()
		buf := make([]byte, netlink.MaxPacket)
		read := func() []mnl.Message {
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("reading: %v (unanswered: %v)", err, want)
			}
			ms, err := netlink.Unmarshal(buf[:n])
			if err != nil {
				t.Fatalf("the server sent a malformed packet: %v", err)
			}
			return ms
		}
		if route {
			ae := mnl.NewAttributeEncoder()
			ae.String(netlink.CtrlAttrNetns, "h1")
			ae.Uint32(netlink.CtrlAttrGroups, binary.LittleEndian.Uint32([]byte{0xff, 0xff, 0xff, 0xff}))
			body, _ := ae.Encode()
			b, _ := netlink.Marshal([]mnl.Message{{Header: mnl.Header{Type: netlink.GenlIDCtrl, Flags: mnl.Request | mnl.Acknowledge, Sequence: 1}, Data: netlink.GenlData(netlink.CtrlCmdRouteBind, 2, body)}})
			if _, err := c.Write(b); err != nil {
				t.Fatal(err)
			}
			if ms := read(); len(ms) != 1 || ms[0].Header.Type != mnl.Error {
				t.Fatalf("bind: %+v", ms)
			}
		}
		if len(send) == 0 {
			return
		}
		b, err := netlink.Marshal(send)
		if err != nil {
			return
		}
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
		for len(want) > 0 {
			for _, m := range read() {
				switch m.Header.Type {
				case mnl.Overrun:
					return // answers were dropped (a full budget): nothing more to check
				case mnl.Error, mnl.Done:
					if m.Header.Sequence != 0 && !want[m.Header.Sequence] {
						t.Fatalf("a second end for request %d", m.Header.Sequence)
					}
					delete(want, m.Header.Sequence)
				}
			}
		}
	})
}
