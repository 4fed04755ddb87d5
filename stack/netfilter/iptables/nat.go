package iptables

import (
	"syscall"

	"vnic/stack"
	"vnic/stack/netfilter/conntrack"
	"vnic/stack/netfilter/nat"
)

// NATRange is a NAT target's mapping (struct nf_nat_range2, IPv4):
// addresses MinAddr..MaxAddr when NATMapIPs, ports (ICMP ids)
// MinProto..MaxProto when NATProtoSpecified, a port offset from
// BaseProto when NATProtoOffset (DNAT's "/base").
type NATRange = nat.Range

// NATRange flags (NF_NAT_RANGE_*).
const (
	NATMapIPs           = nat.MapIPs
	NATProtoSpecified   = nat.ProtoSpecified
	NATProtoRandom      = nat.ProtoRandom
	NATPersistent       = nat.Persistent
	NATProtoRandomFully = nat.ProtoRandomFully
	NATProtoOffset      = nat.ProtoOffset
	NATNetmap           = nat.Netmap
)

// natTarget is SNAT, DNAT (xt_nat.c), MASQUERADE, REDIRECT or NETMAP
// checked: what it maps to, and the host's NAT that does it. A checked
// target holds a reference on the host's connection tracking
// (nf_ct_netns_get), MASQUERADE one on the masquerade notifiers; Destroy
// gives them back.
type natTarget struct {
	kind string
	r    NATRange
	nat  *nat.Net
	host *stack.Host
}

func (t *natTarget) Target(p Param) Verdict {
	ct, _ := conntrack.Get(p.SKB)
	if ct == nil {
		// The nat table sees only tracked packets; one that is not
		// (the tracking gone meanwhile) passes.
		return Accept
	}
	switch t.kind {
	case "SNAT":
		return Verdict(t.nat.Setup(ct, &t.r, nat.ManipSrc))
	case "DNAT":
		return Verdict(t.nat.Setup(ct, &t.r, nat.ManipDst))
	case "MASQUERADE":
		return Verdict(t.nat.Masquerade(p.SKB, &t.r, p.State.Out))
	case "REDIRECT":
		return Verdict(t.nat.Redirect(p.SKB, &t.r, p.State.Hook))
	}
	return t.netmap(p, ct)
}

// netmap is netmap_tg4 (xt_NETMAP.c): the network part of the address
// from the range, the host part kept; the destination before routing and
// for local packets, the source after.
func (t *natTarget) netmap(p Param, ct *conntrack.Conn) Verdict {
	netmask := ^(be32(t.r.MinAddr) ^ be32(t.r.MaxAddr))
	m := nat.HookManip(p.State.Hook)
	a := p.IP.Src()
	if m == nat.ManipDst {
		a = p.IP.Dst()
	}
	v := be32(a)&^netmask | be32(t.r.MinAddr)&netmask
	na := [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	r := NATRange{Flags: t.r.Flags | NATMapIPs, MinAddr: na, MaxAddr: na,
		MinProto: t.r.MinProto, MaxProto: t.r.MaxProto}
	return Verdict(t.nat.Setup(ct, &r, m))
}

// Destroy is xt_nat_destroy (and masquerade_tg_destroy): the references
// the check took go back.
func (t *natTarget) Destroy() {
	if t.kind == "MASQUERADE" {
		t.nat.UnregisterMasquerade()
	}
	_ = conntrack.Disable(t.host)
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
				if r.Flags&^nat.FlagsMask != 0 {
					return nil, checkErr("x_tables: %s: unknown range flags %#x", name, r.Flags)
				}
				switch name {
				case "NETMAP":
					if r.Flags&NATMapIPs == 0 {
						return nil, checkErr("x_tables: NETMAP: bad MAP_IPS flag")
					}
				case "MASQUERADE", "REDIRECT":
					if r.Flags&NATMapIPs != 0 {
						return nil, checkErr("x_tables: %s: bad MAP_IPS flag", name)
					}
				}
				n := nat.Init(c.Host)
				if _, err := conntrack.Enable(c.Host); err != nil {
					return nil, errorf(syscall.EOPNOTSUPP, "%s: %v", name, err)
				}
				if name == "MASQUERADE" {
					n.RegisterMasquerade()
				}
				return &natTarget{kind: name, r: *r, nat: n, host: c.Host}, nil
			}})
	}
}
