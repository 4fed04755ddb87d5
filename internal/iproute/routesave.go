package iproute

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	mnl "github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"vnic/stack/netlink"
	"vnic/stack/rtnetlink"
)

// ip route save, restore and showdump: save writes the routes a SELECTOR
// picks as a binary stream, iproute2's (a 32-bit magic in host order, then
// the RTM_NEWROUTE messages as dumped), so that a file saved from a vnic
// host restores into another, or into Linux, and back.

// routeDumpMagic begins a saved route stream (iproute2's route_dump_magic).
const routeDumpMagic = 0x45311224

// isTerminal reports whether w is a terminal (a binary stream is not
// written to one, nor read from one).
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(file.Fd()), unix.TCGETS)
	return err == nil
}

// routeSave is ip route save SELECTOR.
func (c *cmd) routeSave(args []string) error {
	if isTerminal(c.o.Stdout) {
		return &Error{Msg: "Not sending a binary stream to stdout", Bare: true}
	}
	f, err := c.parseRouteFilter(args)
	if err != nil {
		return err
	}
	if _, err := c.links(); err != nil {
		return err
	}
	rs, err := c.routes(f)
	if err != nil {
		return err
	}
	var magic [4]byte
	binary.NativeEndian.PutUint32(magic[:], routeDumpMagic)
	out := magic[:]
	for _, r := range rs {
		b, err := netlink.Marshal([]mnl.Message{{Header: mnl.Header{Type: rtnetlink.RTMNewRoute, Flags: mnl.Multi}, Data: r.Marshal()}})
		if err != nil {
			return err
		}
		out = append(out, b...)
	}
	_, err = c.o.Stdout.Write(out)
	return err
}

// readRouteDump reads a saved stream from standard input: its messages,
// after the magic.
func (c *cmd) readRouteDump() ([]mnl.Message, error) {
	if c.o.Stdin == nil || isTerminal(c.o.Stdin) {
		return nil, &Error{Msg: "Can't restore route dump from a terminal", Bare: true}
	}
	b, err := io.ReadAll(c.o.Stdin)
	if err != nil {
		return nil, err
	}
	if len(b) < 4 || binary.NativeEndian.Uint32(b) != routeDumpMagic {
		n, magic := 0, uint32(0)
		if len(b) >= 4 {
			n, magic = 1, binary.NativeEndian.Uint32(b)
		}
		return nil, &Error{Msg: fmt.Sprintf("Magic mismatch (%d elems, %x magic)", n, magic), Bare: true}
	}
	msgs, err := netlink.Unmarshal(b[4:])
	if err != nil {
		return nil, &Error{Msg: fmt.Sprintf("Failed to restore: %v", err), Bare: true}
	}
	return msgs, nil
}

// routeRestore is ip route restore: the saved routes are added (NLM_F_CREATE,
// one already there is no error) in three passes, as iproute_restore: the
// routes of local addresses first (no gateway, no preferred source or the
// destination itself), then those of local networks (no gateway, another
// source), then those through gateways, so that each finds what it needs.
func (c *cmd) routeRestore() error {
	msgs, err := c.readRouteDump()
	if err != nil {
		return err
	}
	rs := make([]rtnetlink.RouteMsg, 0, len(msgs))
	for _, m := range msgs {
		var r rtnetlink.RouteMsg
		if m.Header.Type != rtnetlink.RTMNewRoute || r.Unmarshal(m.Data) != nil {
			continue
		}
		rs = append(rs, r)
	}
	for pass := 0; pass < 3; pass++ {
		for _, r := range rs {
			gw := r.Gateway.IsValid()
			srcIsDst := !r.PrefSrc.IsValid() || r.PrefSrc == r.Dst
			switch {
			case pass == 0 && !gw && srcIsDst, pass == 1 && !gw && !srcIsDst, pass == 2 && gw:
			default:
				continue
			}
			_, err := c.o.T.Route(rtnetlink.RTMNewRoute, mnl.Acknowledge|rtnetlink.FlagCreate, r.Marshal())
			if err != nil && !errors.Is(err, syscall.EEXIST) {
				return err
			}
		}
	}
	return nil
}

// routeShowdump is ip route showdump: a saved stream printed as ip route
// show prints routes.
func (c *cmd) routeShowdump() error {
	msgs, err := c.readRouteDump()
	if err != nil {
		return err
	}
	if _, err := c.links(); err != nil {
		return err
	}
	f := routeFilter{table: 0}
	p := newOut(c.g)
	p.list()
	for _, m := range msgs {
		var r rtnetlink.RouteMsg
		if r.Unmarshal(m.Data) != nil {
			continue
		}
		p.openObj("")
		c.printRoute(p, r, &f)
		p.closeObj()
	}
	p.done()
	c.write(p)
	return nil
}
