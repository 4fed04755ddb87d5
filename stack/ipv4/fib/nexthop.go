package fib

import (
	"fmt"
	"maps"
	"slices"
	"syscall"
	"time"

	"vnic/stack"
)

// Nexthop objects (net/ipv4/nexthop.c): nexthops with an id of their own
// that routes name (ip route … nhid N), and groups of them with weights,
// hash-threshold (mpath) or resilient. A nexthop through a device goes
// when the device goes down or away, a member leaves its groups with it,
// a group left empty goes too, and so do the routes that named any of
// them.

// Nexthop is one nexthop object.
type Nexthop struct {
	ID        uint32
	Protocol  uint8
	Blackhole bool
	Dev       *stack.NetDevice
	Gateway   [4]byte
	OnLink    bool
	// Group, when not empty, makes this a group of the members' ids.
	Group []GroupMember
	// Resilient makes a group resilient (nil: hash-threshold, mpath):
	// the parameters a request gives, and those a copy reports.
	Resilient *Resilient

	res *resTable // a stored resilient group's buckets (resilient.go)
}

// GroupMember is one member of a group (struct nexthop_grp); Weight is
// 1..256.
type GroupMember struct {
	ID     uint32
	Weight uint16
}

// Resilient are a resilient group's parameters (NHA_RES_GROUP). In a
// request the Has fields say which were given: a new group needs its
// number of buckets; a replace keeps the timers not given and may not
// change the number of buckets. The idle timer defaults to 120 s, the
// unbalanced timer to 0 (never force a migration).
type Resilient struct {
	Buckets                    uint16
	IdleTimer, UnbalancedTimer time.Duration
	HasBuckets, HasIdleTimer   bool
	HasUnbalancedTimer         bool
	// UnbalancedTime is, in a copy, how long the group has been out of
	// balance (0: balanced).
	UnbalancedTime time.Duration
}

// IsGroup reports whether nh is a group.
func (nh *Nexthop) IsGroup() bool { return len(nh.Group) > 0 }

// Scope is the nexthop's scope as the kernel reports it: link through a
// gateway, host on the device itself.
func (nh *Nexthop) Scope() Scope {
	if nh.Gateway != ([4]byte{}) {
		return ScopeLink
	}
	return ScopeHost
}

func nhErr(errno syscall.Errno, msg string) error { return &Error{errno, msg} }

// nexthops is a namespace's nexthop objects.
type nexthops struct {
	byID map[uint32]*Nexthop
	last uint32 // last_id_allocated
	// clock is the host's (SetClock), for resilient groups' buckets;
	// bucketNotify hears of their scheduled migrations.
	clock        stack.Clock
	bucketNotify func(Bucket)
}

// GatewayCheck tells whether gw is reachable on dev's link (fib_check_nh
// for a nexthop object's gateway); the caller's route lookup decides.
type GatewayCheck func(dev *stack.NetDevice, gw [4]byte) bool

// AddNexthop is rtm_new_nexthop: it validates nh as rtm_to_nh_config and
// nh_create do, gives it an id when it has none (the first unused after
// the last one given), and inserts it; an existing id is EEXIST unless
// replace. It returns the nexthop as stored.
func (f *Tables) AddNexthop(nh Nexthop, replace bool, gwOK GatewayCheck) (Nexthop, error) {
	// The gateway check looks routes up: before the lock.
	gwBad := !nh.IsGroup() && !nh.Blackhole && nh.Dev != nil && nh.Dev.IsUp() && nh.Gateway != ([4]byte{}) && !nh.OnLink &&
		gwOK != nil && !gwOK(nh.Dev, nh.Gateway)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.nh.byID == nil {
		f.nh.byID = map[uint32]*Nexthop{}
	}
	switch {
	case nh.IsGroup():
		if nh.Blackhole || nh.Dev != nil || nh.Gateway != ([4]byte{}) {
			return Nexthop{}, nhErr(syscall.EINVAL, "Group can not be used with other nexthop attributes")
		}
		seen := map[uint32]bool{}
		for _, m := range nh.Group {
			if m.Weight == 0 || m.Weight > 256 {
				return Nexthop{}, nhErr(syscall.EINVAL, "Invalid value for weight")
			}
			if seen[m.ID] {
				return Nexthop{}, nhErr(syscall.EINVAL, "Nexthop id can not be used twice in a group")
			}
			seen[m.ID] = true
			o := f.nh.byID[m.ID]
			switch {
			case o == nil || m.ID == nh.ID && !replace:
				return Nexthop{}, nhErr(syscall.EINVAL, "Invalid nexthop id")
			case o.IsGroup() && o.res == nil:
				return Nexthop{}, nhErr(syscall.EINVAL, "Hash-threshold group can not be a nexthop within a group")
			case o.IsGroup():
				return Nexthop{}, nhErr(syscall.EINVAL, "Resilient group can not be a nexthop within a group")
			}
		}
		if r := nh.Resilient; r != nil && r.HasBuckets && r.Buckets == 0 {
			return Nexthop{}, nhErr(syscall.EINVAL, "Number of buckets needs to be non-0")
		}
	case nh.Blackhole:
		if nh.Dev != nil || nh.Gateway != ([4]byte{}) {
			return Nexthop{}, nhErr(syscall.EINVAL, "Blackhole attribute can not be used with gateway, oif, encap or fdb")
		}
		nh.Dev = f.Loopback // nh_create: a blackhole goes through the loopback
	default:
		if nh.Dev == nil {
			return Nexthop{}, nhErr(syscall.EINVAL, "Device attribute required for non-blackhole and non-fdb nexthops")
		}
		if !nh.Dev.IsUp() {
			return Nexthop{}, nhErr(syscall.ENETDOWN, "Device for nexthop is not up")
		}
		if gwBad {
			return Nexthop{}, nhErr(syscall.EINVAL, "Nexthop has invalid gateway")
		}
	}
	if nh.ID == 0 && replace {
		return Nexthop{}, nhErr(syscall.EINVAL, "Replace requires nexthop id")
	}
	if nh.ID == 0 {
		id, ok := f.unusedNexthopID()
		if !ok {
			return Nexthop{}, nhErr(syscall.ENOSPC, "No ids available")
		}
		nh.ID = id
	}
	old := f.nh.byID[nh.ID]
	if old != nil {
		if !replace {
			return Nexthop{}, nhErr(syscall.EEXIST, "")
		}
		if err := checkReplace(old, &nh); err != nil {
			return Nexthop{}, err
		}
	} else if r := nh.Resilient; r != nil && !r.HasBuckets {
		return Nexthop{}, nhErr(syscall.EINVAL, "Number of buckets not specified for nexthop group insertion")
	}
	nh.Group = slices.Clone(nh.Group)
	n := nh
	n.Resilient, n.res = nil, nil
	switch r := nh.Resilient; {
	case r != nil && old != nil:
		// replace_nexthop_grp: the group keeps its table.
		n.res = old.res
		if r.HasIdleTimer {
			n.res.idleTimer = r.IdleTimer
		}
		if r.HasUnbalancedTimer {
			n.res.unbalancedTimer = r.UnbalancedTimer
		}
		n.res.replace(n.Group)
	case r != nil:
		n.res = f.newResTable(&n, r)
	}
	f.nh.byID[nh.ID] = &n
	if old != nil {
		// A replaced nexthop or group: the routes that name it, or a
		// group it is in, take it on (a new id has no routes yet).
		f.refreshRoutes(map[uint32]bool{n.ID: true})
	}
	f.genid.Add(1)
	return f.copyNexthop(&n), nil
}

// checkReplace is replace_nexthop's refusals: a group for a nexthop or the
// other way round, a group of another type, a resilient group's number of
// buckets changed.
func checkReplace(old *Nexthop, nh *Nexthop) error {
	switch {
	case old.IsGroup() && !nh.IsGroup():
		return nhErr(syscall.EINVAL, "Can not replace a nexthop group with a nexthop.")
	case !old.IsGroup() && nh.IsGroup():
		return nhErr(syscall.EINVAL, "Can not replace a nexthop with a nexthop group.")
	case !old.IsGroup():
		return nil
	case (old.res != nil) != (nh.Resilient != nil):
		return nhErr(syscall.EINVAL, "Can not replace a nexthop group with one of a different type.")
	case nh.Resilient != nil && nh.Resilient.HasBuckets && int(nh.Resilient.Buckets) != len(old.res.buckets):
		return nhErr(syscall.EINVAL, "Can not change number of buckets of a resilient nexthop group.")
	}
	return nil
}

// copyNexthop is nh as callers see it: its own member list, and a
// resilient group's parameters read from its table now.
func (f *Tables) copyNexthop(nh *Nexthop) Nexthop {
	c := *nh
	c.Group = slices.Clone(nh.Group)
	c.res = nil
	if nh.res != nil {
		c.Resilient = nh.res.params(nh.res.now())
	}
	return c
}

// nexthopIDs are the nexthops' ids in order.
func (f *Tables) nexthopIDs() []uint32 { return slices.Sorted(maps.Keys(f.nh.byID)) }

// unusedNexthopID is nh_find_unused_id.
func (f *Tables) unusedNexthopID() (uint32, bool) {
	start := f.nh.last
	for {
		f.nh.last++
		if f.nh.last == start {
			return 0, false
		}
		if f.nh.last != 0 && f.nh.byID[f.nh.last] == nil {
			return f.nh.last, true
		}
	}
}

// Nexthop returns the nexthop of id.
func (f *Tables) Nexthop(id uint32) (Nexthop, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	nh := f.nh.byID[id]
	if nh == nil {
		return Nexthop{}, false
	}
	return f.copyNexthop(nh), true
}

// Nexthops returns every nexthop object by id.
func (f *Tables) Nexthops() []Nexthop {
	f.mu.RLock()
	defer f.mu.RUnlock()
	ids := f.nexthopIDs()
	out := make([]Nexthop, 0, len(ids))
	for _, id := range ids {
		out = append(out, f.copyNexthop(f.nh.byID[id]))
	}
	return out
}

// NexthopChange is what removing nexthops did: the nexthops deleted, the
// groups that lost members (as they are now), and the routes that went.
type NexthopChange struct {
	Deleted []Nexthop
	Changed []Nexthop
	Routes  []Route
}

// DeleteNexthop is rtm_del_nexthop: ENOENT for an id that does not
// exist.
func (f *Tables) DeleteNexthop(id uint32) (NexthopChange, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.nh.byID[id] == nil {
		return NexthopChange{}, nhErr(syscall.ENOENT, "")
	}
	return f.removeNexthops(func(nh *Nexthop) bool { return nh.ID == id }), nil
}

// FlushNexthopsDev removes the nexthops through dev (nexthop_flush_dev
// on NETDEV_DOWN and NETDEV_UNREGISTER).
func (f *Tables) FlushNexthopsDev(dev *stack.NetDevice) NexthopChange {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.removeNexthops(func(nh *Nexthop) bool { return nh.Dev == dev })
}

// removeNexthops deletes the nexthops gone selects (remove_nexthop): each
// leaves its groups, a group left empty goes as well, and the routes that
// named any deleted nexthop are removed.
func (f *Tables) removeNexthops(gone func(*Nexthop) bool) NexthopChange {
	var ch NexthopChange
	dead := map[uint32]bool{}
	for _, id := range slices.Sorted(maps.Keys(f.nh.byID)) {
		if nh := f.nh.byID[id]; gone(nh) {
			dead[id] = true
		}
	}
	if len(dead) == 0 {
		return ch
	}
	for {
		more := false
		for _, id := range slices.Sorted(maps.Keys(f.nh.byID)) {
			nh := f.nh.byID[id]
			if !nh.IsGroup() || dead[id] {
				continue
			}
			left := slices.DeleteFunc(slices.Clone(nh.Group), func(m GroupMember) bool { return dead[m.ID] })
			if len(left) == 0 {
				dead[id], more = true, true
			}
		}
		if !more {
			break
		}
	}
	for _, id := range slices.Sorted(maps.Keys(f.nh.byID)) {
		nh := f.nh.byID[id]
		if dead[id] {
			ch.Deleted = append(ch.Deleted, f.copyNexthop(nh))
			if nh.res != nil {
				nh.res.stop()
			}
			delete(f.nh.byID, id)
			continue
		}
		if nh.IsGroup() && slices.ContainsFunc(nh.Group, func(m GroupMember) bool { return dead[m.ID] }) {
			nh.Group = slices.DeleteFunc(nh.Group, func(m GroupMember) bool { return dead[m.ID] })
			if nh.res != nil {
				// remove_nh_grp_entry: the member's buckets move at once.
				nh.res.replace(nh.Group)
			}
			ch.Changed = append(ch.Changed, f.copyNexthop(nh))
		}
	}
	ch.Routes = f.removeWhereLocked(func(r *Route) bool { return r.NhID != 0 && dead[r.NhID] })
	changed := map[uint32]bool{}
	for _, g := range ch.Changed {
		changed[g.ID] = true
	}
	f.refreshRoutes(changed)
	f.genid.Add(1)
	return ch
}

// refreshRoutes gives the routes that name one of the nexthops ids, or a
// group holding one, their nexthop again (fib_info's nexthop changed).
func (f *Tables) refreshRoutes(ids map[uint32]bool) {
	if len(ids) == 0 {
		return
	}
	for _, t := range f.tables {
		t.eachRoute(func(r *Route) {
			nh := f.nh.byID[r.NhID]
			if r.NhID == 0 || nh == nil {
				return
			}
			switch {
			case nh.IsGroup() && (ids[nh.ID] || slices.ContainsFunc(nh.Group, func(m GroupMember) bool { return ids[m.ID] })):
				r.setGroup(nh, f.nh.byID)
			case !nh.IsGroup() && ids[nh.ID]:
				r.setNexthop(nh)
			}
		})
	}
}

// ResolveNexthop gives a route naming nexthop id its device, gateway and
// flags from the object (a single nexthop, or a group's member chosen by
// hash: a hash-threshold group's by weight, a resilient group's by the
// hash's bucket, which it marks used); ok is false when the id does not
// exist.
// The caller holds no lock.
func (f *Tables) ResolveNexthop(id uint32, hash uint32) (nh Nexthop, ok bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.resolveNexthopLocked(id, hash)
}

func (f *Tables) resolveNexthopLocked(id uint32, hash uint32) (Nexthop, bool) {
	nh := f.nh.byID[id]
	if nh == nil {
		return Nexthop{}, false
	}
	if !nh.IsGroup() {
		return *nh, true
	}
	if nh.res != nil {
		if i := nh.res.pick(hash); i >= 0 {
			if mem := f.nh.byID[nh.res.members[i].id]; mem != nil {
				return *mem, true
			}
		}
		return Nexthop{}, false
	}
	// Hash-threshold (fib_select_multipath): each member owns a share of
	// the 31-bit hash space in proportion to its weight.
	total := 0
	for _, m := range nh.Group {
		total += int(m.Weight)
	}
	point := uint64(hash&0x7fffffff) * uint64(total) >> 31
	acc := uint64(0)
	for _, m := range nh.Group {
		acc += uint64(m.Weight)
		if point < acc {
			if mem := f.nh.byID[m.ID]; mem != nil {
				return *mem, true
			}
		}
	}
	if mem := f.nh.byID[nh.Group[len(nh.Group)-1].ID]; mem != nil {
		return *mem, true
	}
	return Nexthop{}, false
}

// String is ip nexthop's description of nh, for errors and logs.
func (nh Nexthop) String() string {
	switch {
	case nh.IsGroup():
		return fmt.Sprintf("id %d group of %d", nh.ID, len(nh.Group))
	case nh.Blackhole:
		return fmt.Sprintf("id %d blackhole", nh.ID)
	}
	return fmt.Sprintf("id %d via %v dev %s", nh.ID, nh.Gateway, nh.Dev.Name())
}
