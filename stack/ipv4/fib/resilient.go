package fib

import (
	"sync/atomic"
	"syscall"
	"time"

	"vnic/stack"
)

// Resilient nexthop groups (nexthop.c's nh_res_table): a group of type
// resilient spreads flows over a table of buckets, the flow's hash
// choosing the bucket, each bucket holding one member. The buckets a
// member wants follow the weights; when they change (a replace, a member
// leaving) a member holding more than it wants gives buckets up only
// when they have been idle for the idle timer, or when the group has been
// out of balance for longer than the unbalanced timer, so that flows
// keep their nexthop as far as can be. A member that leaves gives its
// buckets up at once.

const (
	// resDefaultIdleTimer is NH_RES_DEFAULT_IDLE_TIMER; the unbalanced
	// timer's default is 0 (never forced).
	resDefaultIdleTimer = 120 * time.Second
	// resMinUpkeepInterval is NH_RES_UPKEEP_DW_MINIMUM_INTERVAL (HZ/2).
	resMinUpkeepInterval = 500 * time.Millisecond
	// resUpkeepLag is how late the upkeep runs after the moment it was
	// scheduled for: a jiffy (HZ 1000), as a delayed work runs once its
	// timer has expired, so that a group whose unbalanced timer ran out
	// at that moment is past it (time_after) when the work looks.
	resUpkeepLag = time.Millisecond
)

// resMember is one member of a resilient group (nh_grp_entry's res).
type resMember struct {
	id     uint32
	weight uint16
	wants  int // buckets it should hold, from the weights
	count  int // buckets it holds
}

// resBucket is nh_res_bucket. member indexes the table's members; -1 is a
// bucket not occupied (its member left). used is written on lookups under
// the read lock, the rest under the write lock.
type resBucket struct {
	member   int
	used     atomic.Int64 // time.Duration on the host clock: last chosen by a lookup
	migrated time.Duration
}

// resTable is nh_res_table: a group's buckets, its members as the table
// sees them and its timers. It lives as long as the group, across
// replaces.
type resTable struct {
	groupID         uint32
	clock           stack.Clock // nil: time stands at 0 and no upkeep is scheduled
	idleTimer       time.Duration
	unbalancedTimer time.Duration
	buckets         []resBucket
	members         []resMember
	// uw are the underweight members in member order; the last is the
	// one that takes the next bucket (uw_nh_entries, where each one found
	// goes to the head).
	uw              []int
	unbalancedSince time.Duration
	timer           stack.Timer
	dead            bool
}

func (t *resTable) now() time.Duration {
	if t.clock == nil {
		return 0
	}
	return t.clock.Now()
}

// newResTable makes the table of a new group (nexthop_res_table_alloc,
// then the insertion's rebalance and upkeep: every bucket is filled, in
// order, from the underweight members, the last member first).
func (f *Tables) newResTable(g *Nexthop, cfg *Resilient) *resTable {
	t := &resTable{groupID: g.ID, clock: f.nh.clock, idleTimer: resDefaultIdleTimer, buckets: make([]resBucket, cfg.Buckets)}
	if cfg.HasIdleTimer {
		t.idleTimer = cfg.IdleTimer
	}
	if cfg.HasUnbalancedTimer {
		t.unbalancedTimer = cfg.UnbalancedTimer
	}
	for i := range t.buckets {
		t.buckets[i].member = -1
	}
	if t.clock != nil {
		t.timer = t.clock.NewTimer(func() { f.resUpkeepFired(t) })
	}
	t.setMembers(g.Group)
	now := t.now()
	t.rebalance(now)
	t.upkeep(now)
	return t
}

// setMembers gives the table the group's members (nh_res_table_migrate_buckets):
// a bucket keeps its nexthop when it is still a member, else it is no
// longer occupied; the counts follow.
func (t *resTable) setMembers(group []GroupMember) {
	old := t.members
	t.members = make([]resMember, len(group))
	at := make(map[uint32]int, len(group))
	for i, m := range group {
		t.members[i] = resMember{id: m.ID, weight: m.Weight}
		at[m.ID] = i
	}
	for i := range t.buckets {
		b := &t.buckets[i]
		if b.member < 0 {
			continue
		}
		j, ok := at[old[b.member].id]
		if !ok {
			b.member = -1
			continue
		}
		b.member = j
		t.members[j].count++
	}
}

// rebalance is nh_res_group_rebalance: each member wants its share of the
// buckets, rounded as DIV_ROUND_CLOSEST rounds the running sum of the
// weights; a member holding fewer is underweight, and the group is
// unbalanced from now when it was not.
func (t *resTable) rebalance(now time.Duration) {
	total := 0
	for _, m := range t.members {
		total += int(m.weight)
	}
	n := len(t.buckets)
	t.uw = t.uw[:0]
	w, prev := 0, 0
	for i := range t.members {
		m := &t.members[i]
		w += int(m.weight)
		upper := (n*w + total/2) / total
		m.wants, prev = upper-prev, upper
		if m.count < m.wants {
			if len(t.uw) == 0 {
				t.unbalancedSince = now
			}
			t.uw = append(t.uw, i)
		}
	}
}

func (t *resTable) balanced() bool { return len(t.uw) == 0 }

// idlePoint is nh_res_bucket_idle_point: when bucket b becomes idle; a
// bucket not used since it was migrated is idle now.
func (t *resTable) idlePoint(b *resBucket, now time.Duration) time.Duration {
	used := time.Duration(b.used.Load())
	if used == b.migrated {
		return now
	}
	return used + t.idleTimer
}

// shouldMigrate is nh_res_bucket_should_migrate: a bucket not occupied
// goes at once; one of an overweight member when idle, or when the group
// has been unbalanced longer than the unbalanced timer (0: never). A
// bucket that stays moves *deadline to the first moment it could go.
func (t *resTable) shouldMigrate(b *resBucket, now time.Duration, deadline *time.Duration) bool {
	if b.member < 0 {
		return true
	}
	if m := t.members[b.member]; m.count <= m.wants {
		return false
	}
	idle := t.idlePoint(b, now)
	if now >= idle {
		return true
	}
	if t.unbalancedTimer > 0 {
		unb := t.unbalancedSince + t.unbalancedTimer
		if now > unb {
			return true
		}
		*deadline = min(*deadline, unb)
	}
	*deadline = min(*deadline, idle)
	return false
}

// migrate is nh_res_bucket_migrate: bucket i goes to the underweight
// member found last, which leaves the list once it holds what it wants.
func (t *resTable) migrate(i int, now time.Duration) {
	b := &t.buckets[i]
	to := t.uw[len(t.uw)-1]
	if b.member >= 0 {
		t.members[b.member].count--
	}
	b.member = to
	t.members[to].count++
	b.used.Store(int64(now))
	b.migrated = now
	if m := t.members[to]; m.count == m.wants {
		t.uw = t.uw[:len(t.uw)-1]
	}
}

// upkeep is nh_res_table_upkeep: it migrates the buckets that should go,
// in index order, returns their indices, and while the group is still
// unbalanced schedules itself for the first moment another could go (at
// least half a second on).
func (t *resTable) upkeep(now time.Duration) []int {
	deadline := now + t.idleTimer
	if t.unbalancedTimer > 0 {
		deadline = now + t.unbalancedTimer
	}
	var moved []int
	for i := range t.buckets {
		if t.shouldMigrate(&t.buckets[i], now, &deadline) {
			t.migrate(i, now)
			moved = append(moved, i)
		}
	}
	if t.timer == nil {
		return moved
	}
	if t.balanced() {
		t.timer.Stop()
		return moved
	}
	deadline = max(deadline, now+resMinUpkeepInterval)
	t.timer.Reset(deadline - now + resUpkeepLag)
	return moved
}

// replace is replace_nexthop_grp_res: the buckets keep their nexthop
// where it is still a member, the wants follow the new weights, the
// group stays unbalanced since when it was if it still is, and the
// upkeep runs (buckets of members gone move at once).
func (t *resTable) replace(group []GroupMember) {
	now := t.now()
	since, wasUnbalanced := t.unbalancedSince, !t.balanced()
	t.setMembers(group)
	t.rebalance(now)
	if wasUnbalanced && !t.balanced() {
		t.unbalancedSince = since
	}
	t.upkeep(now)
}

// stop ends the table with its group (nh_res_table_cancel_upkeep).
func (t *resTable) stop() {
	t.dead = true
	if t.timer != nil {
		t.timer.Stop()
	}
}

// pick is nexthop_select_path_res: the flow's bucket, marked used; it
// answers the member's index (the route's path of the same index).
func (t *resTable) pick(hash uint32) int {
	b := &t.buckets[(hash&0x7fffffff)%uint32(len(t.buckets))]
	b.used.Store(int64(t.now()))
	return b.member
}

// path is the path of route r (its paths are the group's members in
// order) a flow of hash h takes. Liveness is not looked at, as the
// kernel hands out whatever the bucket holds: a member whose device goes
// leaves the group.
func (t *resTable) path(paths []*Route, h uint32) *Route {
	if i := t.pick(h); i >= 0 && i < len(paths) {
		return paths[i]
	}
	return nil
}

// unbalancedTime is nh_res_table_unbalanced_time.
func (t *resTable) unbalancedTime(now time.Duration) time.Duration {
	if t.balanced() {
		return 0
	}
	return now - t.unbalancedSince
}

// params are the table's parameters as a dump shows them.
func (t *resTable) params(now time.Duration) *Resilient {
	return &Resilient{Buckets: uint16(len(t.buckets)), IdleTimer: t.idleTimer, UnbalancedTimer: t.unbalancedTimer, UnbalancedTime: t.unbalancedTime(now)}
}

// Bucket is one bucket of a resilient group as nh_fill_res_bucket
// reports it.
type Bucket struct {
	Group    uint32 // the group's id
	Protocol uint8  // the group's
	Index    uint16
	NhID     uint32 // the member holding it
	// IdleTime is how long since a lookup last chose it (or it was
	// migrated).
	IdleTime time.Duration
	// Dev is the member's device (a dump's NHA_OIF filter).
	Dev *stack.NetDevice
}

func (f *Tables) bucketOf(g *Nexthop, i int, now time.Duration) Bucket {
	t := g.res
	b := &t.buckets[i]
	out := Bucket{Group: g.ID, Protocol: g.Protocol, Index: uint16(i), IdleTime: now - time.Duration(b.used.Load())}
	if b.member >= 0 {
		out.NhID = t.members[b.member].id
		if nh := f.nh.byID[out.NhID]; nh != nil {
			out.Dev = nh.Dev
		}
	}
	return out
}

// resilientGroup is nexthop_find_group_resilient.
func (f *Tables) resilientGroup(id uint32) (*Nexthop, error) {
	g := f.nh.byID[id]
	switch {
	case g == nil:
		return nil, syscall.ENOENT
	case !g.IsGroup():
		return nil, nhErr(syscall.EINVAL, "Not a nexthop group")
	case g.res == nil:
		return nil, nhErr(syscall.EINVAL, "Nexthop group not of type resilient")
	}
	return g, nil
}

// NexthopBuckets lists the buckets of resilient group id, or with id 0
// of every resilient group by id (rtm_dump_nexthop_bucket before its
// filters).
func (f *Tables) NexthopBuckets(id uint32) ([]Bucket, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var groups []*Nexthop
	if id != 0 {
		g, err := f.resilientGroup(id)
		if err != nil {
			return nil, err
		}
		groups = append(groups, g)
	} else {
		for _, nid := range f.nexthopIDs() {
			if g := f.nh.byID[nid]; g.res != nil {
				groups = append(groups, g)
			}
		}
	}
	var out []Bucket
	for _, g := range groups {
		now := g.res.now()
		for i := range g.res.buckets {
			out = append(out, f.bucketOf(g, i, now))
		}
	}
	return out, nil
}

// NexthopBucket is rtm_get_nexthop_bucket's answer: bucket index of
// resilient group id.
func (f *Tables) NexthopBucket(id uint32, index uint16) (Bucket, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	g, err := f.resilientGroup(id)
	if err != nil {
		return Bucket{}, err
	}
	if int(index) >= len(g.res.buckets) {
		return Bucket{}, nhErr(syscall.ENOENT, "Bucket index out of bounds")
	}
	return f.bucketOf(g, int(index), g.res.now()), nil
}

// SetClock gives the tables the host's clock: resilient groups read it
// for their buckets' times and schedule their upkeep on it. Call it
// before the first nexthop is added.
func (f *Tables) SetClock(c stack.Clock) {
	f.mu.Lock()
	f.nh.clock = c
	f.mu.Unlock()
}

// SetBucketNotifier makes fn hear of each bucket the upkeep migrates on
// its own schedule (nexthop_bucket_notify: RTM_NEWNEXTHOPBUCKET); fn runs
// without the tables' lock held. Migrations a replace or a member's
// removal makes are not told, as the kernel tells them by the group's
// own notification.
func (f *Tables) SetBucketNotifier(fn func(Bucket)) {
	f.mu.Lock()
	f.nh.bucketNotify = fn
	f.mu.Unlock()
}

// resUpkeepFired is nh_res_table_upkeep_dw: the scheduled upkeep, under
// the write lock, then the notifications.
func (f *Tables) resUpkeepFired(t *resTable) {
	f.mu.Lock()
	if t.dead {
		f.mu.Unlock()
		return
	}
	now := t.now()
	moved := t.upkeep(now)
	var told []Bucket
	notify := f.nh.bucketNotify
	if g := f.nh.byID[t.groupID]; notify != nil && g != nil && g.res == t {
		for _, i := range moved {
			told = append(told, f.bucketOf(g, i, now))
		}
	}
	f.mu.Unlock()
	for _, b := range told {
		notify(b)
	}
}
