package netlink

import (
	"encoding/binary"
	"net"
	"syscall"
	"testing"

	mnl "github.com/mdlayher/netlink"
)

// refusingRoutes answers every rtnetlink request, refusing those whose
// body's first byte is 'x' (EEXIST), and records what it ran.
type refusingRoutes struct{ ran []uint32 }

func (r *refusingRoutes) Namespace(string) error { return nil }

func (r *refusingRoutes) Handle(_ string, _ uint32, h mnl.Header, body []byte) ([]mnl.Message, error) {
	r.ran = append(r.ran, h.Sequence)
	if len(body) > 0 && body[0] == 'x' {
		return nil, Errorf(syscall.EEXIST, "exists")
	}
	return nil, nil
}

func (r *refusingRoutes) HandleBatch(ns string, uid uint32, reqs []mnl.Message, answer func(int, []mnl.Message, error) bool) {
	for i, m := range reqs {
		replies, err := r.Handle(ns, uid, m.Header, m.Data)
		if !answer(i, replies, err) {
			return
		}
	}
}

func routeBound(t *testing.T, s *Server) *net.UnixConn {
	t.Helper()
	c := dial(t, s)
	ae := mnl.NewAttributeEncoder()
	ae.String(CtrlAttrNetns, "h")
	body, _ := ae.Encode()
	request(t, c, GenlIDCtrl, mnl.Acknowledge, 1, GenlData(CtrlCmdRouteBind, 2, body))
	if m := recv(t, c); len(m) != 1 || m[0].Header.Type != mnl.Error {
		t.Fatalf("bind: %+v", m)
	}
	return c
}

func setOpt(t *testing.T, c *net.UnixConn, body []byte) syscall.Errno {
	t.Helper()
	request(t, c, MsgSetOption, mnl.Acknowledge, 2, body)
	m := recv(t, c)
	if len(m) != 1 || m[0].Header.Type != mnl.Error || m[0].Header.Sequence != 2 {
		t.Fatalf("set option: %+v", m)
	}
	errno, _, _ := ParseError(m[0])
	return errno
}

func opt(o, v uint32) []byte {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint32(b, o)
	binary.LittleEndian.PutUint32(b[4:], v)
	return b
}

// OptStopAtRefusal: a refused request ends its packet (the rest answered
// ECANCELED, not run), a packet of one request included; without it every
// request of a packet runs. The option's own errors.
func TestStopAtRefusal(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stop   bool
		bodies string // one request each: 'x' is refused
		ran    []uint32
		errnos []syscall.Errno // the answers, in order
	}{
		{"off", false, "axbc", []uint32{10, 11, 12, 13}, []syscall.Errno{0, syscall.EEXIST, 0, 0}},
		{"on", true, "axbc", []uint32{10, 11}, []syscall.Errno{0, syscall.EEXIST, syscall.ECANCELED, syscall.ECANCELED}},
		{"on, first refused", true, "xab", []uint32{10}, []syscall.Errno{syscall.EEXIST, syscall.ECANCELED, syscall.ECANCELED}},
		{"on, none refused", true, "abc", []uint32{10, 11, 12}, []syscall.Errno{0, 0, 0}},
		{"on, one alone", true, "x", []uint32{10}, []syscall.Errno{syscall.EEXIST}},
		{"on, last refused", true, "abx", []uint32{10, 11, 12}, []syscall.Errno{0, 0, syscall.EEXIST}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := listen(t)
			r := &refusingRoutes{}
			s.SetRouteService(r)
			c := routeBound(t, s)
			if tc.stop {
				if errno := setOpt(t, c, opt(OptStopAtRefusal, 1)); errno != 0 {
					t.Fatalf("set: %v", errno)
				}
			}
			var msgs []mnl.Message
			for i, b := range []byte(tc.bodies) {
				msgs = append(msgs, mnl.Message{Header: mnl.Header{Type: 24, Flags: mnl.Request | mnl.Acknowledge, Sequence: uint32(10 + i)}, Data: []byte{b, 0, 0, 0}})
			}
			p, _ := Marshal(msgs)
			if _, err := c.Write(p); err != nil {
				t.Fatal(err)
			}
			var got []mnl.Message
			for len(got) < len(tc.errnos) {
				m := recv(t, c)
				if m == nil {
					t.Fatal("connection closed")
				}
				got = append(got, m...)
			}
			if len(got) != len(tc.errnos) {
				t.Fatalf("%d answers, want %d", len(got), len(tc.errnos))
			}
			for i, m := range got {
				errno, _, _ := ParseError(m)
				if m.Header.Type != mnl.Error || m.Header.Sequence != uint32(10+i) || errno != tc.errnos[i] {
					t.Errorf("answer %d: type %d seq %d errno %v, want seq %d errno %v", i, m.Header.Type, m.Header.Sequence, errno, 10+i, tc.errnos[i])
				}
			}
			if len(r.ran) != len(tc.ran) {
				t.Fatalf("ran %v, want %v", r.ran, tc.ran)
			}
			for i := range r.ran {
				if r.ran[i] != tc.ran[i] {
					t.Fatalf("ran %v, want %v", r.ran, tc.ran)
				}
			}
		})
	}
	s := listen(t)
	s.SetRouteService(&refusingRoutes{})
	c := routeBound(t, s)
	for _, tc := range []struct {
		name string
		body []byte
		want syscall.Errno
	}{
		{"off", opt(OptStopAtRefusal, 0), 0},
		{"value 2", opt(OptStopAtRefusal, 2), syscall.EINVAL},
		{"unknown option", opt(11, 1), syscall.ENOPROTOOPT},
		{"short", []byte{1, 0, 0, 0}, syscall.EINVAL},
	} {
		if got := setOpt(t, c, tc.body); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	// An unbound connection takes it too.
	if got := setOpt(t, dial(t, s), opt(OptStopAtRefusal, 1)); got != 0 {
		t.Errorf("unbound connection: %v", got)
	}
}

// Marshal packs what mdlayher's MarshalBinary of each padded message
// would, one after another.
func TestMarshalPads(t *testing.T) {
	msgs := []mnl.Message{
		{Header: mnl.Header{Type: 24, Flags: 5, Sequence: 7, PID: 9}, Data: []byte{1, 2, 3}},
		{Header: mnl.Header{Type: 2}, Data: nil},
		{Header: mnl.Header{Type: 3, Sequence: 1}, Data: []byte{1, 2, 3, 4, 5}},
	}
	got, err := Marshal(msgs)
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for _, m := range msgs {
		m.Data = append(append([]byte(nil), m.Data...), make([]byte, (4-len(m.Data)%4)%4)...)
		m.Header.Length = uint32(16 + len(m.Data))
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, b...)
	}
	if string(got) != string(want) {
		t.Fatalf("Marshal\n% x\nwant\n% x", got, want)
	}
	back, err := Unmarshal(got)
	if err != nil || len(back) != 3 || back[0].Header.Sequence != 7 || back[2].Header.Type != 3 {
		t.Fatalf("Unmarshal: %v %+v", err, back)
	}
	if n := testing.AllocsPerRun(100, func() { AppendMarshal(got[:0], msgs...) }); n != 0 {
		t.Errorf("AppendMarshal into room: %v allocations, want 0", n)
	}
}
