package udp

import (
	"fmt"
	"net/netip"
	"syscall"

	"vnic/stack"
	"vnic/stack/ipv4"
)

// Proto is a host's UDP: its bound sockets and its Udp counters.
type Proto struct {
	in    *ipv4.Inet
	table table
	// Stats are the Udp counters.
	Stats Stats
}

var key = stack.NewHostKey[Proto]()

// Init is udp_init for in's host: UDP registers with IPv4's protocol table
// (datagrams and the ICMP errors about them).
func Init(in *ipv4.Inet) (*Proto, error) {
	p := &Proto{in: in}
	p.table.init(in.Config())
	if !key.Set(in.Host(), p) {
		return nil, fmt.Errorf("stack: %s: UDP already initialised: %w", in.Host().Name(), syscall.EEXIST)
	}
	in.AddProtocol(ipv4.IPProtoUDP, ipv4.NetProtocol{Handler: p.rcv, ErrHandler: p.err})
	return p, nil
}

// Of returns the UDP of in's host (nil before Init).
func Of(in *ipv4.Inet) *Proto { return key.Get(in.Host()) }

// Listen binds a socket on in's host to laddr (see Proto.Listen).
func Listen(in *ipv4.Inet, laddr netip.AddrPort) (*Conn, error) {
	p := Of(in)
	if p == nil {
		return nil, fmt.Errorf("stack: %s: udp: %w", in.Host().Name(), syscall.EPROTONOSUPPORT)
	}
	return p.Listen(laddr)
}
