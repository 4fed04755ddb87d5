//go:build linux

package test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	mnl "github.com/mdlayher/netlink"

	"vnic/internal/iproute"
	"vnic/internal/topo"
	"vnic/stack"
	"vnic/stack/netlink"
	"vnic/stack/rtnetlink"
)

// hostTransport is a host's rtnetlink without the control socket: each
// request goes straight to rtnetlink.Handle, and a refusal comes back as
// the client would read it from NLMSG_ERROR (the server's errReply: the
// errno and extended-ack message of a *netlink.Error, a bare errno with no
// message, anything else EINVAL with its text). It is for a world in
// virtual time that is not running: nothing else touches the host.
type hostTransport struct {
	h *stack.Host
}

var _ iproute.Transport = hostTransport{}

func (t hostTransport) Route(typ uint16, flags mnl.HeaderFlags, body []byte) ([]mnl.Message, error) {
	ms, err := rtnetlink.Handle(t.h, rtnetlink.Request{Type: typ, Flags: uint16(flags | mnl.Request), Body: body})
	if err != nil {
		return nil, asNlError(err)
	}
	out := make([]mnl.Message, 0, len(ms))
	for _, m := range ms {
		out = append(out, mnl.Message{Header: mnl.Header{Type: mnl.HeaderType(m.Type)}, Data: m.Body})
	}
	return out, nil
}

// asNlError is a handler's error as the client reads it from NLMSG_ERROR.
func asNlError(err error) *netlink.Error {
	var ne *netlink.Error
	var errno syscall.Errno
	switch {
	case errors.As(err, &ne):
		return &netlink.Error{Errno: ne.Errno, Msg: ne.Msg, Off: -1}
	case errors.As(err, &errno):
		return &netlink.Error{Errno: errno, Off: -1}
	}
	return &netlink.Error{Errno: syscall.EINVAL, Msg: err.Error(), Off: -1}
}

func (hostTransport) ReceiveRoute(time.Duration) ([]mnl.Message, error) {
	return nil, syscall.EOPNOTSUPP
}

// vnicHost builds, in virtual time, the host the kernel namespace of
// diffNetns mirrors: host r with d0 and d1 cabled to p0 and p1 of a second
// host, the same addresses, loopback up, forwarding as given. The world is
// run until the links are up and then left still, so the test goroutine
// may call the host's handlers; it is closed when the test ends.
func vnicHost(t *testing.T, l diffLayout) *stack.Host {
	t.Helper()
	var devs, peers []topo.DeviceConfig
	var cables []topo.CableConfig
	for _, d := range l.devs {
		devs = append(devs, topo.DeviceConfig{Name: d.name, Queues: 1, Addresses: d.addrs})
		peers = append(peers, topo.DeviceConfig{Name: d.peer, Queues: 1})
		cables = append(cables, topo.CableConfig{A: "r/" + d.name, B: "p/" + d.peer})
	}
	cfg := topo.Config{Time: topo.VirtualTime, Seed: 1, Hosts: []topo.HostConfig{
		{Name: "r", CPUs: 1, IPv4: true, Forwarding: l.forwarding, Devices: devs},
		{Name: "p", CPUs: 1, Devices: peers},
	}, Cables: cables}
	return topo.Started(t, cfg, 20*time.Millisecond).Host("r").Stack
}

// vnicIP runs ip ARGS against h in process, as `vnic ip` would over the
// control socket, and returns its stdout, stderr and exit code.
func vnicIP(h *stack.Host, args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := iproute.Run(args, iproute.Options{T: hostTransport{h}, Stdout: &out, Stderr: &errb})
	return out.String(), errb.String(), code
}

// vnicBatch is ip [globals] -force -batch FILE against h.
func vnicBatch(t *testing.T, h *stack.Host, file string, globals ...string) (string, string) {
	t.Helper()
	out, errs, _ := vnicIP(h, append(globals, "-force", "-batch", file)...)
	return out, errs
}

// vnicShow is ip ARGS for a report: its output, or its error.
func vnicShow(h *stack.Host, line string) string {
	out, errs, code := vnicIP(h, strings.Fields(line)...)
	if code != 0 {
		return fmt.Sprintf("(exit %d) %s", code, errs)
	}
	return out
}
