package stack

import "syscall"

// Dst is a route decision attached to a packet (struct dst_entry): what
// happens to it next is only its Input (a received packet: local delivery,
// forwarding or an error) or Output (a packet sent). The core knows no
// routing: a protocol embeds Dst as the first field of its own decision
// (IPv4's Rtable) and recovers it from the skb.
type Dst struct {
	Input  func(*SKB)
	Output func(*SKB)
	Dev    *NetDevice // the output device (loopback for local delivery)
	// Error is an input decision's refusal (ip_error's dst.error).
	Error syscall.Errno
	mtu   uint32
}

// NewDst returns a decision for dev whose MTU metric is mtu (0: the
// device's).
func NewDst(input, output func(*SKB), dev *NetDevice, mtu uint32) Dst {
	return Dst{Input: input, Output: output, Dev: dev, mtu: mtu}
}

// MTU is dst_mtu: the route's MTU metric, or its device's MTU.
func (d *Dst) MTU() int {
	if d.mtu != 0 {
		return int(d.mtu)
	}
	return d.Dev.MTU()
}
