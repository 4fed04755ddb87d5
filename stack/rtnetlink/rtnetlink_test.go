package rtnetlink_test

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"vnic/internal/stacktest"
	"vnic/stack"
	"vnic/stack/netlink"
	"vnic/stack/rtnetlink"
)

// answer is a handler that names itself in its one reply.
func answer(name string) rtnetlink.DoIt {
	return func(h *stack.Host, req rtnetlink.Request) ([]rtnetlink.Message, error) {
		return []rtnetlink.Message{rtnetlink.Reply(req.Type, []byte(name))}, nil
	}
}

func handled(t *testing.T, h *stack.Host, typ, flags uint16) string {
	t.Helper()
	ms, err := rtnetlink.Handle(h, rtnetlink.Request{Type: typ, Flags: flags})
	if err != nil {
		return "error"
	}
	if len(ms) != 1 || ms[0].Type != typ {
		t.Fatalf("type %d flags %#x: replies %+v", typ, flags, ms)
	}
	return string(ms[0].Body)
}

// A request goes to its type's doit, a dump (a GET type, type & 3 == 2,
// with both NLM_F_ROOT and NLM_F_MATCH: NLM_F_DUMP, 0x300) to its dumpit;
// either bit alone is not a dump, and on a NEW type the bits are
// NLM_F_REPLACE|NLM_F_EXCL, no dump. A type without a dumpit answers a
// dump with its doit; one without a doit refuses a plain request.
func TestHandleDispatch(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	rtnetlink.Register(h, 102, answer("do"), answer("dump"))
	rtnetlink.Register(h, 106, answer("do only"), nil)
	rtnetlink.Register(h, 110, nil, answer("dump only"))
	rtnetlink.Register(h, 100, answer("new"), answer("not a dump"))
	for _, c := range []struct {
		typ, flags uint16
		want       string
	}{
		{102, 0, "do"},
		{102, rtnetlink.FlagRequest, "do"},
		{102, rtnetlink.FlagRequest | rtnetlink.FlagAck, "do"},
		{102, 0x100, "do"},
		{102, 0x200, "do"},
		{102, 0x300, "dump"},
		{102, 0x301, "dump"},
		{102, 0xf00, "dump"},
		{106, 0x301, "do only"},
		{110, 0x301, "dump only"},
		{110, 0x1, "error"},
		{100, 0x300, "new"},
	} {
		if got := handled(t, h, c.typ, c.flags); got != c.want {
			t.Errorf("type %d flags %#x: %s, want %s", c.typ, c.flags, got, c.want)
		}
	}
	for _, c := range []struct {
		flags uint16
		dump  bool
	}{{0, false}, {0x100, false}, {0x200, false}, {0x300, true}, {0x305, true}} {
		if got := (rtnetlink.Request{Type: rtnetlink.RTMGetRoute, Flags: c.flags}).Dump(); got != c.dump {
			t.Errorf("flags %#x: Dump %v, want %v", c.flags, got, c.dump)
		}
	}
}

// A later Register of a type replaces both its handlers; the handler
// tables of two hosts are their own.
func TestRegisterReplacesPerHost(t *testing.T) {
	_, h1 := stacktest.NewHost(t, 1)
	_, h2 := stacktest.NewHost(t, 1)
	rtnetlink.Register(h1, 100, answer("old"), answer("old dump"))
	rtnetlink.Register(h1, 100, answer("new"), nil)
	if got := handled(t, h1, 100, 0); got != "new" {
		t.Fatalf("doit after replace: %s", got)
	}
	if got := handled(t, h1, 100, 0x300); got != "new" {
		t.Fatalf("dump after replace with no dumpit: %s, want the new doit", got)
	}
	if got := handled(t, h2, 100, 0); got != "error" {
		t.Fatalf("another host answered with %s", got)
	}
}

// A type nobody registered is EOPNOTSUPP, as a *netlink.Error (errno and
// extended-ack message); an address, route or neighbour message
// (RTM_NEWADDR … RTM_GETNEIGH) on a host without IPv4 is EAFNOSUPPORT,
// until a handler for it is registered.
func TestHandleUnregistered(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	rtnetlink.Register(h, rtnetlink.RTMGetLink, answer("link"), nil)
	for _, c := range []struct {
		typ   uint16
		errno syscall.Errno
	}{
		{rtnetlink.RTMNewLink, syscall.EOPNOTSUPP},
		{rtnetlink.RTMDelLink, syscall.EOPNOTSUPP},
		{rtnetlink.RTMNewAddr - 1, syscall.EOPNOTSUPP},
		{rtnetlink.RTMNewAddr, syscall.EAFNOSUPPORT},
		{rtnetlink.RTMDelAddr, syscall.EAFNOSUPPORT},
		{rtnetlink.RTMGetAddr, syscall.EAFNOSUPPORT},
		{rtnetlink.RTMNewRoute, syscall.EAFNOSUPPORT},
		{rtnetlink.RTMDelRoute, syscall.EAFNOSUPPORT},
		{rtnetlink.RTMGetRoute, syscall.EAFNOSUPPORT},
		{rtnetlink.RTMNewNeigh, syscall.EAFNOSUPPORT},
		{rtnetlink.RTMDelNeigh, syscall.EAFNOSUPPORT},
		{rtnetlink.RTMGetNeigh, syscall.EAFNOSUPPORT},
		{rtnetlink.RTMGetNeigh + 1, syscall.EOPNOTSUPP},
		{rtnetlink.RTMMax, syscall.EOPNOTSUPP},
	} {
		for _, flags := range []uint16{rtnetlink.FlagRequest, rtnetlink.FlagRequest | 0x300} {
			ms, err := rtnetlink.Handle(h, rtnetlink.Request{Type: c.typ, Flags: flags})
			var ne *netlink.Error
			if !errors.As(err, &ne) || ne.Errno != c.errno || ne.Msg == "" || !errors.Is(err, c.errno) || ms != nil {
				t.Errorf("type %d flags %#x: %v %v, want a *netlink.Error with %v", c.typ, flags, ms, err, c.errno)
			}
		}
	}
	// Once IPv4 registers a type, it is handled.
	rtnetlink.Register(h, rtnetlink.RTMGetRoute, answer("route"), nil)
	if got := handled(t, h, rtnetlink.RTMGetRoute, rtnetlink.FlagRequest); got != "route" {
		t.Fatalf("registered RTM_GETROUTE: %s", got)
	}
}

// Notify delivers to every listener, in the order they listened, with the
// group, type and body; a host without listeners (or never touched by
// rtnetlink) takes a notification without harm; hosts' listeners are
// their own.
func TestListenNotify(t *testing.T) {
	_, h1 := stacktest.NewHost(t, 1)
	_, h2 := stacktest.NewHost(t, 1)
	rtnetlink.Notify(h1, rtnetlink.RTMGrpLink, rtnetlink.RTMNewLink, []byte("nobody")) // no table yet
	var got []string
	for _, name := range []string{"a", "b", "c"} {
		rtnetlink.Listen(h1, func(group uint32, m rtnetlink.Message) {
			got = append(got, fmt.Sprintf("%s %#x %d %s", name, group, m.Type, m.Body))
		})
	}
	rtnetlink.Notify(h1, rtnetlink.RTMGrpIPv4Rt, rtnetlink.RTMNewRoute, []byte("r1"))
	rtnetlink.Notify(h2, rtnetlink.RTMGrpLink, rtnetlink.RTMNewLink, []byte("elsewhere"))
	rtnetlink.Notify(h1, rtnetlink.RTMGrpNeigh, rtnetlink.RTMDelNeigh, []byte("n1"))
	want := []string{
		"a 0x40 24 r1", "b 0x40 24 r1", "c 0x40 24 r1",
		"a 0x4 29 n1", "b 0x4 29 n1", "c 0x4 29 n1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("notifications\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func linkOf(t *testing.T, m rtnetlink.Message) rtnetlink.LinkMsg {
	t.Helper()
	if m.Type != rtnetlink.RTMNewLink {
		t.Fatalf("message type %d, want RTM_NEWLINK", m.Type)
	}
	var l rtnetlink.LinkMsg
	if err := l.Unmarshal(m.Body); err != nil {
		t.Fatal(err)
	}
	return l
}

// Init registers RTM_GETLINK: a dump lists the host's devices in ifindex
// order as RTM_NEWLINK messages with their names, indexes, MTUs and
// addresses; a get finds one device by index or by name, and a device
// that is not there is ENODEV.
func TestInitGetLink(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	rtnetlink.Init(h)
	var devs []*stack.NetDevice
	for i := 0; i < 3; i++ {
		d, _ := stacktest.NewDev(t, h, 1)
		devs = append(devs, d)
	}
	if err := devs[1].SetMTU(9000); err != nil {
		t.Fatal(err)
	}
	ms, err := rtnetlink.Handle(h, rtnetlink.Request{Type: rtnetlink.RTMGetLink, Flags: rtnetlink.FlagRequest | 0x300})
	if err != nil || len(ms) != 3 {
		t.Fatalf("dump: %d messages, %v; want 3", len(ms), err)
	}
	for i, m := range ms {
		l := linkOf(t, m)
		d := devs[i]
		if l.Name != d.Name() || int(l.Index) != d.Ifindex() || int(l.MTU) != d.MTU() || l.MAC.String() != d.Addr().String() || l.Flags != d.Flags() {
			t.Errorf("dump[%d] %+v, want %s ifindex %d mtu %d", i, l, d.Name(), d.Ifindex(), d.MTU())
		}
	}
	for _, q := range []rtnetlink.LinkMsg{{Index: int32(devs[1].Ifindex())}, {Name: devs[1].Name()}} {
		ms, err := rtnetlink.Handle(h, rtnetlink.Request{Type: rtnetlink.RTMGetLink, Flags: rtnetlink.FlagRequest, Body: q.Marshal()})
		if err != nil || len(ms) != 1 {
			t.Fatalf("get %+v: %d messages, %v", q, len(ms), err)
		}
		if l := linkOf(t, ms[0]); l.Name != "vnic1" || l.MTU != 9000 {
			t.Fatalf("get %+v: %+v", q, l)
		}
	}
	for _, q := range []rtnetlink.LinkMsg{{Index: 99}, {Name: "eth9"}} {
		if _, err := rtnetlink.Handle(h, rtnetlink.Request{Type: rtnetlink.RTMGetLink, Flags: rtnetlink.FlagRequest, Body: q.Marshal()}); !errors.Is(err, syscall.ENODEV) {
			t.Fatalf("get %+v: %v, want ENODEV", q, err)
		}
	}
	if _, err := rtnetlink.Handle(h, rtnetlink.Request{Type: rtnetlink.RTMGetLink, Flags: rtnetlink.FlagRequest, Body: []byte{0}}); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("get with a short body: %v, want EINVAL", err)
	}
}

// RTM_NEWLINK sets an existing device's MTU and IFF_UP (found by index or
// name) and sends exactly one RTM_NEWLINK on RTMGRP_LINK with the new
// state; a device that is not there is ENODEV (EOPNOTSUPP when asked to
// create it); a refused MTU is its errno and changes nothing. A carrier
// change sends RTM_NEWLINK on RTMGRP_LINK too; opening and closing the
// device outside rtnetlink do not.
func TestInitNewLinkAndCarrier(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	rtnetlink.Init(h)
	d, _ := stacktest.NewDev(t, h, 1)
	var got []rtnetlink.LinkMsg
	rtnetlink.Listen(h, func(group uint32, m rtnetlink.Message) {
		if group != rtnetlink.RTMGrpLink {
			t.Errorf("notification on group %#x", group)
		}
		got = append(got, linkOf(t, m))
	})
	newLink := func(m rtnetlink.LinkMsg, flags uint16) error {
		ms, err := rtnetlink.Handle(h, rtnetlink.Request{Type: rtnetlink.RTMNewLink, Flags: rtnetlink.FlagRequest | rtnetlink.FlagAck | flags, Body: m.Marshal()})
		if len(ms) != 0 {
			t.Fatalf("NEWLINK answered %d messages", len(ms))
		}
		return err
	}
	if err := newLink(rtnetlink.LinkMsg{Index: int32(d.Ifindex()), MTU: 9000, Flags: stack.IFFUp, Change: stack.IFFUp}, 0); err != nil {
		t.Fatal(err)
	}
	if d.MTU() != 9000 || !d.IsUp() {
		t.Fatalf("after NEWLINK: mtu %d up %v", d.MTU(), d.IsUp())
	}
	if len(got) != 1 || got[0].Name != "vnic0" || got[0].MTU != 9000 || got[0].Flags&stack.IFFUp == 0 {
		t.Fatalf("notifications %+v, want one with mtu 9000 and IFF_UP", got)
	}
	got = nil
	if err := newLink(rtnetlink.LinkMsg{Name: "vnic0", Change: stack.IFFUp}, 0); err != nil {
		t.Fatal(err)
	}
	if d.IsUp() || d.MTU() != 9000 || len(got) != 1 || got[0].Flags&stack.IFFUp != 0 {
		t.Fatalf("down by name: up %v mtu %d, notifications %+v", d.IsUp(), d.MTU(), got)
	}
	got = nil
	if err := newLink(rtnetlink.LinkMsg{Index: int32(d.Ifindex()), MTU: 10}, 0); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("MTU 10: %v, want EINVAL", err)
	}
	if err := newLink(rtnetlink.LinkMsg{Index: 42}, 0); !errors.Is(err, syscall.ENODEV) {
		t.Fatalf("no device: %v, want ENODEV", err)
	}
	if err := newLink(rtnetlink.LinkMsg{Name: "vnic7"}, rtnetlink.FlagCreate); !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Fatalf("create: %v, want EOPNOTSUPP", err)
	}
	if d.MTU() != 9000 || len(got) != 0 {
		t.Fatalf("refused requests: mtu %d, notifications %+v", d.MTU(), got)
	}
	if err := d.Open(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Open(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("open/close notified %+v", got)
	}
	d.CarrierOn()
	d.CarrierOn() // no transition
	d.CarrierOff()
	if len(got) != 2 {
		t.Fatalf("carrier on, on, off: %d notifications, want 2", len(got))
	}
	const running = stack.IFFRunning | stack.IFFLowerUp
	if got[0].Flags&running != running || got[1].Flags&running != 0 || got[0].Index != int32(d.Ifindex()) {
		t.Fatalf("carrier notifications %+v", got)
	}
}

// Listening is what a change asks before it builds a notification: a
// listener that names its groups is asked, one that does not wants all.
func TestListening(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	if rtnetlink.Listening(h, rtnetlink.RTMGrpIPv4Rt) {
		t.Fatal("listening with no listener")
	}
	want := uint32(rtnetlink.RTMGrpLink)
	rtnetlink.ListenGroups(h, func(uint32, rtnetlink.Message) {}, func(g uint32) bool { return g == want })
	if !rtnetlink.Listening(h, rtnetlink.RTMGrpLink) || rtnetlink.Listening(h, rtnetlink.RTMGrpIPv4Rt) {
		t.Fatal("a listener of the link group only")
	}
	rtnetlink.Listen(h, func(uint32, rtnetlink.Message) {})
	if !rtnetlink.Listening(h, rtnetlink.RTMGrpIPv4Rt) {
		t.Fatal("a listener of every group")
	}
}
