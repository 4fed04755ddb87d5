//go:build linux

package test

import (
	"encoding/binary"
	"fmt"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"vnic/internal/iproute"
	"vnic/stack"
	"vnic/stack/rtnetlink"
)

// A large route set is loaded in bulk: each line is parsed once by vnic's
// ip grammar into the RTM_NEWROUTE body ip would send (iproute.ParseRoute,
// then Message, as ip route add does), and the bodies go to the kernel
// many a sendmsg without acks (ip -batch waits for an ack a line: the
// tier-1 table takes it half a minute) and to the vnic host straight into
// its RTM_NEWROUTE handler (the path of the control socket without the
// socket). A refusal is reported with its line, as ip prints it.

// routeBodies parses route add lines into RTM_NEWROUTE bodies. The lines
// name no device (a body holds the device's index, which differs between
// the sides).
func routeBodies(lines []string) ([][]byte, error) {
	out := make([][]byte, len(lines))
	noDev := func(name string) (uint32, error) {
		return 0, fmt.Errorf("a bulk line names device %q", name)
	}
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) < 3 || f[0] != "route" || f[1] != "add" {
			return nil, fmt.Errorf("bulk line %d %q is not a route add", i+1, l)
		}
		spec, err := iproute.ParseRoute(f[2:])
		if err != nil {
			return nil, fmt.Errorf("bulk line %d %q: %v", i+1, l, err)
		}
		m, err := spec.Message(rtnetlink.RTMNewRoute, noDev)
		if err != nil {
			return nil, fmt.Errorf("bulk line %d %q: %v", i+1, l, err)
		}
		out[i] = m.Marshal()
	}
	return out, nil
}

// nlAnswer is how ip prints a refusal: the extended ack's message, else
// the errno.
func nlAnswer(errno syscall.Errno, msg string) string {
	if msg != "" {
		if strings.HasSuffix(msg, ".") {
			return "Error: " + msg
		}
		return "Error: " + msg + "."
	}
	s := errno.Error()
	return "RTNETLINK answers: " + strings.ToUpper(s[:1]) + s[1:]
}

const (
	nlmsgHdrLen   = 16
	nlmFRequest   = 0x1
	nlmFAckTLVs   = 0x200
	nlmsgerrAttrM = 1 // NLMSGERR_ATTR_MSG
	bulkChunk     = 64 << 10
)

// kernelBulkRoutes adds the routes to the kernel namespace ns and returns
// the refusals by line (1-based).
func kernelBulkRoutes(ns string, bodies [][]byte) (map[int]string, error) {
	errs := map[int]string{}
	err := inNetnsDo(ns, func() error {
		fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			return err
		}
		for _, o := range []struct{ level, opt, v int }{
			{unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, 1}, {unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1},
			{unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 16 << 20},
		} {
			if err := unix.SetsockoptInt(fd, o.level, o.opt, o.v); err != nil {
				return fmt.Errorf("setsockopt %d/%d: %w", o.level, o.opt, err)
			}
		}
		rbuf := make([]byte, 1<<16)
		drain := func() error {
			for {
				n, _, err := unix.Recvfrom(fd, rbuf, unix.MSG_DONTWAIT)
				if err == unix.EAGAIN {
					return nil
				}
				if err != nil {
					return fmt.Errorf("reading the kernel's answers: %w", err)
				}
				if err := nlErrors(rbuf[:n], errs); err != nil {
					return err
				}
			}
		}
		flags := uint16(nlmFRequest | rtnetlink.FlagCreate | rtnetlink.FlagExcl)
		buf := make([]byte, 0, bulkChunk+4096)
		for i, b := range bodies {
			n := nlmsgHdrLen + len(b)
			var h [nlmsgHdrLen]byte
			binary.NativeEndian.PutUint32(h[0:], uint32(n))
			binary.NativeEndian.PutUint16(h[4:], rtnetlink.RTMNewRoute)
			binary.NativeEndian.PutUint16(h[6:], flags)
			binary.NativeEndian.PutUint32(h[8:], uint32(i+1))
			buf = append(append(buf, h[:]...), b...)
			for len(buf)%4 != 0 {
				buf = append(buf, 0)
			}
			if len(buf) >= bulkChunk || i == len(bodies)-1 {
				if err := unix.Sendto(fd, buf, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
					return fmt.Errorf("sending routes: %w", err)
				}
				buf = buf[:0]
				// rtnetlink handles a packet's requests in the sender's
				// call: their refusals are queued when sendto returns.
				if err := drain(); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return errs, err
}

// nlErrors reads NLMSG_ERROR messages (acks capped, extended acks on)
// into errs by sequence number.
func nlErrors(b []byte, errs map[int]string) error {
	for len(b) >= nlmsgHdrLen {
		n := int(binary.NativeEndian.Uint32(b[0:]))
		if n < nlmsgHdrLen || n > len(b) {
			return fmt.Errorf("a truncated netlink message")
		}
		typ, flags := binary.NativeEndian.Uint16(b[4:]), binary.NativeEndian.Uint16(b[6:])
		m := b[nlmsgHdrLen:n]
		if typ == unix.NLMSG_ERROR && len(m) >= 4+nlmsgHdrLen {
			code := int32(binary.NativeEndian.Uint32(m[0:]))
			seq := int(binary.NativeEndian.Uint32(m[4+8:]))
			if code != 0 {
				var msg string
				if flags&nlmFAckTLVs != 0 {
					msg = extackMsg(m[4+nlmsgHdrLen:])
				}
				errs[seq] = nlAnswer(syscall.Errno(-code), msg)
			}
		}
		b = b[(n+3)&^3:]
	}
	return nil
}

// extackMsg finds NLMSGERR_ATTR_MSG among an error's attributes.
func extackMsg(b []byte) string {
	for len(b) >= 4 {
		l, t := int(binary.NativeEndian.Uint16(b[0:])), binary.NativeEndian.Uint16(b[2:])
		if l < 4 || l > len(b) {
			return ""
		}
		if t == nlmsgerrAttrM {
			return strings.TrimRight(string(b[4:l]), "\x00")
		}
		b = b[(l+3)&^3:]
	}
	return ""
}

// vnicBulkRoutes adds the routes to h through its RTM_NEWROUTE handler and
// returns the refusals by line (1-based).
func vnicBulkRoutes(h *stack.Host, bodies [][]byte) map[int]string {
	errs := map[int]string{}
	flags := uint16(nlmFRequest | rtnetlink.FlagCreate | rtnetlink.FlagExcl)
	for i, b := range bodies {
		if _, err := rtnetlink.Handle(h, rtnetlink.Request{Type: rtnetlink.RTMNewRoute, Flags: flags, Body: b}); err != nil {
			ne := asNlError(err)
			errs[i+1] = nlAnswer(ne.Errno, ne.Msg)
		}
	}
	return errs
}
