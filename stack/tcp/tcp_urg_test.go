package tcp_test

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"vnic/header"
	"vnic/stack/tcp"
)

// send(MSG_OOB) as Linux: the last byte is urgent; each segment before
// snd_up carries URG and the pointer one past the urgent byte; the
// receiver reads up to the mark, has the byte for recv(MSG_OOB) once,
// POLLPRI while it waits, and skips it in the stream; SIOCATMARK is true
// at the mark.
func TestUrgent(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inline bool
		// reads: what successive recv(2)s return ("" for EAGAIN)
		reads []string
	}{
		{"out of band", false, []string{"ab", "", "def"}},
		{"SO_OOBINLINE", true, []string{"ab", "cdef"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pa := newPath(t, time.Millisecond)
			c, s := pa.connect(ecnAddr)
			if tc.inline {
				if err := s.SetsockoptInt(tcp.SolSocket, tcp.SoOOBInline, 1); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := c.Send([]byte("abc"), tcp.MsgOOB); n != 3 || err != nil {
				t.Fatalf("send(MSG_OOB): %d %v", n, err)
			}
			pa.clk.RunFor(10 * time.Millisecond)
			var data *wireSeg
			for i := range pa.log {
				if w := &pa.log[i]; w.len > 0 {
					data = w
				}
			}
			if data == nil || !data.has(header.TCPUrg) || data.urg != 3 || data.len != 3 {
				t.Fatalf("the segment: %v urg %d", data, data.urg)
			}
			for _, w := range pa.log[data.n+1:] {
				if w.has(header.TCPUrg) {
					t.Errorf("URG after the urgent byte was acked: %v", &w)
				}
			}
			if ev := s.Poll(); ev&tcp.PollPri == 0 || ev&tcp.PollIn == 0 {
				t.Errorf("poll %#x, want POLLIN and POLLPRI (inline too, as tcp_poll)", ev)
			}
			buf := make([]byte, 10)
			n, err := s.Read(buf)
			if string(buf[:n]) != "ab" || err != nil {
				t.Fatalf("the first read: %q %v", buf[:n], err)
			}
			if !s.AtMark() {
				t.Error("not at the mark after the bytes before it")
			}
			n, err = s.Recv(buf, tcp.MsgOOB)
			if tc.inline {
				if !errors.Is(err, syscall.EINVAL) {
					t.Errorf("recv(MSG_OOB) with SO_OOBINLINE: %d %v, want EINVAL", n, err)
				}
			} else {
				if n != 1 || buf[0] != 'c' || err != nil {
					t.Fatalf("recv(MSG_OOB): %q %v", buf[:n], err)
				}
				if ev := s.Poll(); ev&tcp.PollPri != 0 || ev&tcp.PollIn != 0 {
					t.Errorf("poll %#x after the urgent byte: neither POLLPRI nor POLLIN (the byte is not in the stream)", ev)
				}
				if _, err := s.Recv(buf, tcp.MsgOOB); !errors.Is(err, syscall.EINVAL) {
					t.Errorf("a second recv(MSG_OOB): %v, want EINVAL", err)
				}
			}
			if _, err := c.Write([]byte("def")); err != nil {
				t.Fatal(err)
			}
			for i, want := range tc.reads[1:] {
				if want != "" {
					pa.clk.RunFor(10 * time.Millisecond)
				}
				n, err := s.Read(buf)
				if want == "" {
					if !errors.Is(err, syscall.EAGAIN) || n != 0 {
						t.Errorf("read %d: %q %v, want EAGAIN (the urgent byte skipped)", i+1, buf[:n], err)
					}
					continue
				}
				if string(buf[:n]) != want || err != nil {
					t.Errorf("read %d: %q %v, want %q", i+1, buf[:n], err, want)
				}
			}
			if s.AtMark() {
				t.Error("at the mark after reading past it")
			}
		})
	}
}

// recv(MSG_OOB) with nothing urgent is EINVAL; on a socket never
// connected too (tcp_recv_urg looks at urg_data first). Full-sized
// segments sent while a write is still being copied (no GSO here) carry
// no pointer: only those sent after tcp_mark_urg do, as in Linux.
// (urgent-recv.pkt has a pointer arriving before its byte.)
func TestUrgentNone(t *testing.T) {
	pa := newPath(t, time.Millisecond)
	c, s := pa.connect(ecnAddr)
	buf := make([]byte, 1)
	for _, sk := range []*tcp.Sock{s, pa.p.NewSocket()} {
		if _, err := sk.Recv(buf, tcp.MsgOOB); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("recv(MSG_OOB) with nothing urgent: %v, want EINVAL", err)
		}
	}
	if _, err := c.Send(make([]byte, 3000), tcp.MsgOOB); err != nil {
		t.Fatal(err)
	}
	pa.clk.RunFor(5 * time.Millisecond)
	var urgs []uint16
	for _, w := range pa.log {
		if w.len > 0 && w.has(header.TCPUrg) {
			urgs = append(urgs, w.urg)
		}
	}
	if len(urgs) != 1 || urgs[0] != 104 {
		t.Errorf("urgent pointers %v, want [104] (only the last segment's)", urgs)
	}
	if n, err := s.Recv(buf, tcp.MsgOOB); n != 1 || err != nil {
		t.Errorf("recv(MSG_OOB): %d %v", n, err)
	}
}
