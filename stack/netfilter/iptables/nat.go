package iptables

import (
	"sync/atomic"
	"syscall"

	"vnic/stack"
	"vnic/stack/ipv4"
)

// NATRange is a NAT target's mapping (struct nf_nat_range2, IPv4):
// addresses MinAddr..MaxAddr when NATMapIPs, ports (ICMP ids)
// MinProto..MaxProto when NATProtoSpecified, a port offset from
// BaseProto when NATProtoOffset (DNAT's "/base").
type NATRange struct {
	Flags              uint32
	MinAddr, MaxAddr   [4]byte
	MinProto, MaxProto uint16
	BaseProto          uint16
}

// NATRange flags (NF_NAT_RANGE_*).
const (
	NATMapIPs           = 1 << 0
	NATProtoSpecified   = 1 << 1
	NATProtoRandom      = 1 << 2
	NATPersistent       = 1 << 3
	NATProtoRandomFully = 1 << 4
	NATProtoOffset      = 1 << 5
	NATNetmap           = 1 << 6
	natFlagsMask        = 0x7f
)

// Manip is which end NAT rewrites (enum nf_nat_manip_type).
type Manip uint8

// The ends.
const (
	ManipSrc Manip = iota // SNAT, MASQUERADE
	ManipDst              // DNAT, REDIRECT
)

// NAT is what the nat table needs from a NAT implementation (the
// nf_nat core), which registers itself with RegisterNAT. Until one does,
// the nat table takes no rules.
type NAT interface {
	// RegisterTable gives the nat table's traversal of host h to the NAT
	// core, which registers its hook functions (NAT_DST at PREROUTING and
	// OUTPUT, NAT_SRC at INPUT and POSTROUTING), calls do for the first
	// packet of a connection not bound yet at that end (nf_nat_inet_fn
	// calling ipt_do_table) and rewrites every packet of a bound one. The
	// function returned undoes the registration.
	RegisterTable(h *stack.Host, do func(*stack.SKB, *stack.NFState) stack.Verdict) (unregister func(), err error)
	// Setup binds the packet's connection to r at end m
	// (nf_nat_setup_info); SNAT, DNAT, REDIRECT and NETMAP end with it.
	Setup(p Param, r *NATRange, m Manip) Verdict
	// Masquerade is nf_nat_masquerade_ipv4: a source NAT to the egress
	// device's address, forgotten when the address goes.
	Masquerade(p Param, r *NATRange) Verdict
}

var natImpl atomic.Pointer[NAT]

// RegisterNAT installs the NAT implementation (nil removes it). Tables
// made before it registers keep no NAT hooks: register it at
// initialisation.
func RegisterNAT(n NAT) {
	if n == nil {
		natImpl.Store(nil)
		return
	}
	natImpl.Store(&n)
}

func currentNAT() NAT {
	if p := natImpl.Load(); p != nil {
		return *p
	}
	return nil
}

// natTarget is SNAT, DNAT, MASQUERADE, REDIRECT or NETMAP checked: what
// it maps to, and the NAT core that does it.
type natTarget struct {
	kind string
	r    NATRange
	nat  NAT
	host *stack.Host
}

func (t *natTarget) Target(p Param) Verdict {
	switch t.kind {
	case "SNAT":
		return t.nat.Setup(p, &t.r, ManipSrc)
	case "DNAT":
		return t.nat.Setup(p, &t.r, ManipDst)
	case "MASQUERADE":
		return t.nat.Masquerade(p, &t.r)
	case "REDIRECT":
		return t.redirect(p)
	default:
		return t.netmap(p)
	}
}

// redirect is nf_nat_redirect_ipv4: to the ingress device's first
// address (127.0.0.1 for a local packet), the ports as given.
func (t *natTarget) redirect(p Param) Verdict {
	var addr [4]byte
	if p.State.Hook == stack.NFLocalOut {
		addr = [4]byte{127, 0, 0, 1}
	} else {
		in := ipv4.Of(t.host)
		if in == nil || p.State.In == nil {
			return Drop
		}
		addrs := in.Addrs(p.State.In)
		if len(addrs) == 0 {
			return Drop
		}
		addr = addrs[0].Local
	}
	r := NATRange{Flags: t.r.Flags | NATMapIPs, MinAddr: addr, MaxAddr: addr,
		MinProto: t.r.MinProto, MaxProto: t.r.MaxProto}
	return t.nat.Setup(p, &r, ManipDst)
}

// netmap is netmap_tg4: the network part of the address from the range,
// the host part kept; the destination before routing and for local
// packets, the source after.
func (t *natTarget) netmap(p Param) Verdict {
	netmask := ^(be32(t.r.MinAddr) ^ be32(t.r.MaxAddr))
	m := ManipSrc
	a := p.IP.Src()
	if p.State.Hook == stack.NFPreRouting || p.State.Hook == stack.NFLocalOut {
		m, a = ManipDst, p.IP.Dst()
	}
	v := be32(a)&^netmask | be32(t.r.MinAddr)&netmask
	na := [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	r := NATRange{Flags: t.r.Flags | NATMapIPs, MinAddr: na, MaxAddr: na,
		MinProto: t.r.MinProto, MaxProto: t.r.MaxProto}
	return t.nat.Setup(p, &r, m)
}

func init() {
	natHooks := map[string]HookMask{
		"SNAT":       Hooks(stack.NFPostRouting, stack.NFLocalIn),
		"DNAT":       Hooks(stack.NFPreRouting, stack.NFLocalOut),
		"MASQUERADE": Hooks(stack.NFPostRouting),
		"REDIRECT":   Hooks(stack.NFPreRouting, stack.NFLocalOut),
		"NETMAP":     Hooks(stack.NFPreRouting, stack.NFLocalIn, stack.NFLocalOut, stack.NFPostRouting),
	}
	for _, name := range []string{"SNAT", "DNAT", "MASQUERADE", "REDIRECT", "NETMAP"} {
		rev := uint8(0)
		if name == "SNAT" || name == "DNAT" {
			rev = 2
		}
		RegisterTarget(&TargetType{Name: name, Revision: rev, Table: "nat", Hooks: natHooks[name],
			NewInfo: func() any { return new(NATRange) },
			Check: func(c *CheckParam, info any) (Targeter, error) {
				r := info.(*NATRange)
				if r.Flags&^natFlagsMask != 0 {
					return nil, checkErr("x_tables: %s: unknown range flags %#x", name, r.Flags)
				}
				if name == "NETMAP" && r.Flags&NATMapIPs == 0 {
					return nil, checkErr("x_tables: NETMAP: bad MAP_IPS flag")
				}
				nat := currentNAT()
				if nat == nil {
					return nil, errorf(syscall.EOPNOTSUPP, "nat: no NAT implementation is registered")
				}
				return &natTarget{kind: name, r: *r, nat: nat, host: c.Host}, nil
			}})
	}
}
