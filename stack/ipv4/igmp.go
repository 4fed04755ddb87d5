package ipv4

import (
	"fmt"
	"math/rand"
	"slices"
	"sync"
	"syscall"
	"time"
	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4/fib"
)

// IPProtoIGMP is IPPROTO_IGMP.
const IPProtoIGMP = 2

// IGMP's constants, Linux's (igmp.c, with a jiffy taken as 1 ms).
const (
	igmpQRV                = 2 // igmp_qrv: robustness
	igmpQueryInterval      = 125 * time.Second
	igmpQueryResponse      = 10 * time.Second // also a version 1 query's delay
	igmpV2Unsolicited      = 10 * time.Second // between a version 2 host's unsolicited reports
	igmpV3Unsolicited      = time.Second      // between version 3 state-change reports
	igmpJiffy              = time.Millisecond
	igmpInitialReportDelay = igmpJiffy
	igmpMaxDelayFloor      = igmpJiffy
	igmpTimerScale         = 100 * time.Millisecond // a response code's unit
)

var (
	allRouters = [4]byte{224, 0, 0, 2}  // version 2 leaves go there
	allV3MCR   = [4]byte{224, 0, 0, 22} // version 3 reports go there
)

// mcGroup is one group a device is in (struct ip_mc_list): the users
// holding it, its address in the device's multicast list, and the report
// timer that a query or a join starts.
type mcGroup struct {
	addr      [4]byte
	users     int
	loaded    bool // its MAC is in the device's multicast list
	timer     stack.Timer
	running   bool
	expires   time.Duration
	reporter  bool // this host sent the last report (a version 2 leave is due)
	unsolicit int  // unsolicited reports still to send
	crcount   int  // version 3 state-change records still to send
	// No source filters: a group-and-source-specific query is answered
	// as a group-specific one (igmp_marksources of an EXCLUDE group
	// without sources), so no gsquery state is kept.
}

// igmpDev is a device's IGMP state (the mr_* fields of in_device): its
// groups, what queriers it heard, the version 3 general-query and
// state-change timers.
type igmpDev struct {
	idev           *InDevice
	mu             sync.Mutex
	up             bool
	groups         []*mcGroup // newest first, as in_dev->mc_list
	tombs          []*mcGroup // left groups a state-change report still names
	v1Seen, v2Seen time.Duration
	qrv            int
	qi, qri        time.Duration
	maxDelay       time.Duration
	gq, ifc        stack.Timer
	gqRunning      bool
	gqExpires      time.Duration
	ifcCount       int
	rnd            *rand.Rand
}

func (g *igmpDev) init(idev *InDevice) {
	in := idev.inet
	g.idev = idev
	g.rnd = rand.New(rand.NewSource(in.cfg.Seed + 11 + int64(idev.dev.Ifindex())))
	g.gq = in.host.Clock().NewTimer(func() { in.igmpGQExpire(g) })
	g.ifc = in.host.Clock().NewTimer(func() { in.igmpIfcExpire(g) })
	g.reset()
}

// reset is ip_mc_reset.
func (g *igmpDev) reset() {
	g.qi, g.qri, g.qrv, g.maxDelay = igmpQueryInterval, igmpQueryResponse, igmpQRV, igmpQueryResponse
}

func (g *igmpDev) now() time.Duration { return g.idev.inet.host.Clock().Now() }

func (g *igmpDev) v1() bool { return g.v1Seen != 0 && g.now() < g.v1Seen }
func (g *igmpDev) v2() bool { return g.v2Seen != 0 && g.now() < g.v2Seen }

func (g *igmpDev) unsolicitedInterval() time.Duration {
	if g.v1() || g.v2() {
		return igmpV2Unsolicited
	}
	return igmpV3Unsolicited
}

// reportable: all-hosts is never reported; link-local groups are
// (igmp_link_local_mcast_reports is on by default).
func reportable(group [4]byte) bool { return group != allHosts }

func (g *igmpDev) find(group [4]byte) *mcGroup {
	for _, m := range g.groups {
		if m.addr == group {
			return m
		}
	}
	return nil
}

// rand below d, as get_random_u32_below on jiffies.
func (g *igmpDev) below(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(g.rnd.Int63n(int64(d)))
}

// startTimer is igmp_start_timer: a report within max (plus two
// jiffies).
func (g *igmpDev) startTimer(m *mcGroup, max time.Duration) {
	d := g.below(max) + 2*igmpJiffy
	m.running, m.expires = true, g.now()+d
	m.timer.Reset(d)
}

func (g *igmpDev) stopTimer(m *mcGroup) {
	m.timer.Stop()
	m.running, m.reporter, m.unsolicit = false, false, 0
}

// modTimer is igmp_mod_timer: a query's report replaces what is left of
// a join's unsolicited ones; a running timer due sooner than max stays.
func (g *igmpDev) modTimer(m *mcGroup, max time.Duration) {
	m.unsolicit = 0
	if m.running && m.expires-g.now() < max {
		return
	}
	g.startTimer(m, max)
}

// ifcEvent is igmp_ifc_event: version 3 state-change reports, robustness
// times, the first at once.
func (g *igmpDev) ifcEvent() {
	if g.v1() || g.v2() {
		return
	}
	g.ifcCount = g.qrv
	g.ifc.Reset(g.below(igmpJiffy) + 2*igmpJiffy)
}

// added is igmp_group_added: the MAC into the device's list and, for a
// reportable group, the unsolicited reports of a join.
func (in *Inet) igmpGroupAdded(g *igmpDev, m *mcGroup) {
	if !m.loaded {
		m.loaded = true
		in.mcFilter(g.idev.dev, m.addr, true)
	}
	if !reportable(m.addr) {
		return
	}
	m.unsolicit = igmpQRV
	if g.v1() || g.v2() {
		g.startTimer(m, igmpInitialReportDelay)
		return
	}
	g.tombs = slices.DeleteFunc(g.tombs, func(t *mcGroup) bool { return t.addr == m.addr })
	m.crcount = g.qrv
	g.ifcEvent()
}

// dropped is igmp_group_dropped: the MAC out of the list; a version 2
// leave if this host reported last, or version 3 state-change records.
func (in *Inet) igmpGroupDropped(g *igmpDev, m *mcGroup, send *[]igmpOut) {
	if m.loaded {
		m.loaded = false
		in.mcFilter(g.idev.dev, m.addr, false)
	}
	if !reportable(m.addr) {
		return
	}
	reporter := m.reporter
	g.stopTimer(m)
	switch {
	case g.v1():
	case g.v2():
		if reporter {
			*send = append(*send, igmpOut{typ: header.IGMPLeaveGroup, group: m.addr})
		}
	default:
		g.tombs = append(g.tombs, &mcGroup{addr: m.addr, crcount: g.qrv})
		g.ifcEvent()
	}
}

// mcFilter is ip_mc_filter_add/del: the group's MAC (01:00:5e and its
// low 23 bits) in the device's multicast list. The loopback has none
// (arp_mc_map fails for it).
func (in *Inet) mcFilter(d *stack.NetDevice, group [4]byte, add bool) {
	if d.IsLoopback() {
		return
	}
	mac := stack.MAC{0x01, 0x00, 0x5e, group[1] & 0x7f, group[2], group[3]}
	if add {
		_ = d.McAdd(mac)
	} else {
		_ = d.McDel(mac)
	}
}

// JoinGroup is ip_mc_inc_group: dev joins group (one more user); a new
// membership puts the group's MAC in the device's list and, when the
// device is up, reports the join.
func (in *Inet) JoinGroup(dev *stack.NetDevice, group [4]byte) error {
	if !header.IPv4IsMulticast(group) {
		return fmt.Errorf("stack: join %v: not a multicast group: %w", group, syscall.EINVAL)
	}
	in.Attach(dev).igmp.inc(group)
	return nil
}

func (g *igmpDev) inc(group [4]byte) {
	in := g.idev.inet
	g.mu.Lock()
	defer g.mu.Unlock()
	if m := g.find(group); m != nil {
		m.users++
		return
	}
	m := &mcGroup{addr: group, users: 1}
	m.timer = in.host.Clock().NewTimer(func() { in.igmpTimerExpire(g, m) })
	g.groups = append([]*mcGroup{m}, g.groups...)
	if g.up {
		in.igmpGroupAdded(g, m)
	}
}

// LeaveGroup is ip_mc_dec_group: one user less; the last one's leave is
// reported.
func (in *Inet) LeaveGroup(dev *stack.NetDevice, group [4]byte) error {
	idev := inDevKey.Get(dev)
	if idev == nil || !idev.igmp.dec(group) {
		return fmt.Errorf("stack: leave %v: not a member: %w", group, syscall.EADDRNOTAVAIL)
	}
	return nil
}

func (g *igmpDev) dec(group [4]byte) bool {
	in := g.idev.inet
	var send []igmpOut
	g.mu.Lock()
	m := g.find(group)
	if m == nil {
		g.mu.Unlock()
		return false
	}
	if m.users--; m.users == 0 {
		g.groups = slices.DeleteFunc(g.groups, func(x *mcGroup) bool { return x == m })
		if g.up {
			in.igmpGroupDropped(g, m, &send)
		}
		m.timer.Stop()
	}
	g.mu.Unlock()
	in.igmpSend(g, send)
	return true
}

// Groups returns the groups dev is in, newest first (ip maddr).
func (in *Inet) Groups(dev *stack.NetDevice) [][4]byte {
	idev := inDevKey.Get(dev)
	if idev == nil {
		return nil
	}
	g := &idev.igmp
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([][4]byte, len(g.groups))
	for i, m := range g.groups {
		out[i] = m.addr
	}
	return out
}

// mcUp is ip_mc_up: all-hosts is joined and every group's membership
// comes back.
func (g *igmpDev) mcUp() {
	in := g.idev.inet
	g.mu.Lock()
	if g.up {
		g.mu.Unlock()
		return
	}
	g.up = true
	g.reset()
	g.mu.Unlock()
	g.inc(allHosts)
	g.mu.Lock()
	for _, m := range g.groups {
		in.igmpGroupAdded(g, m)
	}
	g.mu.Unlock()
}

// mcDown is ip_mc_down: every group's membership is dropped (the MACs
// leave the list), the timers stop, all-hosts is left.
func (g *igmpDev) mcDown() {
	in := g.idev.inet
	var send []igmpOut
	g.mu.Lock()
	if !g.up {
		g.mu.Unlock()
		return
	}
	for _, m := range g.groups {
		in.igmpGroupDropped(g, m, &send)
	}
	g.up = false
	g.ifcCount = 0
	g.ifc.Stop()
	g.gqRunning = false
	g.gq.Stop()
	g.mu.Unlock()
	g.dec(allHosts)
}

// isMember is ip_check_mc_rcu: whether dev is in group (no source
// filters: a membership takes every source).
func (in *Inet) isMember(dev *stack.NetDevice, group [4]byte) bool {
	idev := inDevKey.Get(dev)
	if idev == nil {
		return false
	}
	idev.igmp.mu.Lock()
	defer idev.igmp.mu.Unlock()
	return idev.igmp.find(group) != nil
}

// igmpOut is a report to send once the lock is released.
type igmpOut struct {
	typ   uint8
	group [4]byte
	recs  []header.IGMPv3Grec // a version 3 report's
}

// igmpRcv is igmp_rcv: a message of at least 8 bytes with a valid
// checksum; a query starts report timers (igmp_heard_query), another
// host's version 1 or 2 report for a group cancels this host's
// (igmp_heard_report); everything else is consumed.
func (in *Inet) igmpRcv(skb *stack.SKB) {
	b := header.IGMP(skb.Data())
	idev := inDevKey.Get(skb.Dev)
	if idev == nil || !b.IsValid() || (skb.IPSummed != stack.ChecksumUnnecessary && header.Checksum(b) != 0) {
		skb.Free()
		return
	}
	g := &idev.igmp
	switch b.Type() {
	case header.IGMPMembershipQuery:
		in.igmpHeardQuery(g, b)
	case header.IGMPv1MembershipReport, header.IGMPv2MembershipReport:
		if skb.PktType == stack.PacketMulticast || skb.PktType == stack.PacketBroadcast {
			g.heardReport(b.Group())
		}
	}
	skb.Consume()
}

// heardReport is igmp_heard_report: another member answered for group;
// this host's pending report is not needed.
func (g *igmpDev) heardReport(group [4]byte) {
	if !reportable(group) {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if m := g.find(group); m != nil {
		g.stopTimer(m)
	}
}

// igmpHeardQuery is igmp_heard_query. An 8-byte query is version 1
// (code 0: ten seconds, all groups) or 2 (code: the delay in tenths of a
// second) and marks that querier version present for robustness ×
// interval + response interval; a version 3 query (12 bytes or more)
// under an older querier is answered as the older version; otherwise it
// sets the robustness and intervals, and a general one starts the
// whole-device report timer while a group-specific one starts that
// group's. A query never starts all-hosts' timer; a running timer due
// sooner stays.
func (in *Inet) igmpHeardQuery(g *igmpDev, b header.IGMP) {
	g.mu.Lock()
	defer g.mu.Unlock()
	group := b.Group()
	var maxDelay time.Duration
	now := g.now()
	switch {
	case len(b) == header.IGMPMinLen:
		if b.MaxRespCode() == 0 {
			maxDelay = igmpQueryResponse
			g.v1Seen = now + time.Duration(g.qrv)*g.qi + g.qri
			group = [4]byte{}
		} else {
			maxDelay = time.Duration(b.MaxRespCode()) * igmpTimerScale
			g.v2Seen = now + time.Duration(g.qrv)*g.qi + g.qri
		}
		g.ifcCount = 0
		g.ifc.Stop()
		g.tombs = nil
		for _, m := range g.groups {
			m.crcount = 0
		}
	case len(b) < header.IGMPv3QueryMinLen:
		return
	case g.v1():
		maxDelay, group = igmpQueryResponse, [4]byte{}
	case g.v2():
		maxDelay = max(time.Duration(header.IGMPv3Code(b.MaxRespCode()))*igmpTimerScale, igmpMaxDelayFloor)
	default:
		if !b.SourcesValid() {
			return
		}
		maxDelay = max(time.Duration(header.IGMPv3Code(b.MaxRespCode()))*igmpTimerScale, igmpMaxDelayFloor)
		g.maxDelay = maxDelay
		g.qrv = int(b.QRV())
		if g.qrv == 0 {
			g.qrv = igmpQRV
		}
		g.qi = time.Duration(header.IGMPv3Code(b.QQIC())) * time.Second
		if g.qi == 0 {
			g.qi = igmpQueryInterval
		}
		if g.qri >= g.qi {
			g.qri = g.qi - time.Second
		}
		if group == ([4]byte{}) {
			if b.NumSources() != 0 {
				return
			}
			// igmp_gq_start_timer: one report of every group.
			d := g.below(g.maxDelay) + 2*igmpJiffy
			if g.gqRunning && now+d >= g.gqExpires {
				return
			}
			g.gqRunning, g.gqExpires = true, now+d
			g.gq.Reset(d)
			return
		}
	}
	for _, m := range g.groups {
		if (group != [4]byte{} && group != m.addr) || !reportable(m.addr) {
			continue
		}
		g.modTimer(m, maxDelay)
	}
}

// igmpTimerExpire is igmp_timer_expire: the group's report, in the
// version of the oldest querier heard; a join's unsolicited reports go
// on at the unsolicited interval.
func (in *Inet) igmpTimerExpire(g *igmpDev, m *mcGroup) {
	g.mu.Lock()
	if g.find(m.addr) != m || !g.up {
		g.mu.Unlock()
		return
	}
	m.running = false
	if m.unsolicit > 0 {
		if m.unsolicit--; m.unsolicit > 0 {
			g.startTimer(m, g.unsolicitedInterval())
		}
	}
	m.reporter = true
	out := igmpOut{typ: header.IGMPv3MembershipReport, group: m.addr, recs: []header.IGMPv3Grec{{Type: header.IGMPv3ModeIsExclude, Group: m.addr}}}
	switch {
	case g.v1():
		out = igmpOut{typ: header.IGMPv1MembershipReport, group: m.addr}
	case g.v2():
		out = igmpOut{typ: header.IGMPv2MembershipReport, group: m.addr}
	}
	g.mu.Unlock()
	in.igmpSend(g, []igmpOut{out})
}

// igmpGQExpire is igmp_gq_timer_expire: one version 3 report with the
// current state of every reportable group (none: nothing is sent).
func (in *Inet) igmpGQExpire(g *igmpDev) {
	g.mu.Lock()
	g.gqRunning = false
	var recs []header.IGMPv3Grec
	if g.up {
		for _, m := range g.groups {
			if reportable(m.addr) {
				recs = append(recs, header.IGMPv3Grec{Type: header.IGMPv3ModeIsExclude, Group: m.addr})
			}
		}
	}
	g.mu.Unlock()
	if len(recs) > 0 {
		in.igmpSend(g, []igmpOut{{typ: header.IGMPv3MembershipReport, group: allV3MCR, recs: recs}})
	}
}

// igmpIfcExpire is igmp_ifc_timer_expire and igmpv3_send_cr: the
// state-change records still due (left groups: change to include;
// joined ones: change to exclude), then the next round after the
// unsolicited interval while rounds remain.
func (in *Inet) igmpIfcExpire(g *igmpDev) {
	g.mu.Lock()
	var recs []header.IGMPv3Grec
	for _, t := range g.tombs {
		recs = append(recs, header.IGMPv3Grec{Type: header.IGMPv3ChangeToInclude, Group: t.addr})
		t.crcount--
	}
	g.tombs = slices.DeleteFunc(g.tombs, func(t *mcGroup) bool { return t.crcount <= 0 })
	for _, m := range g.groups {
		if reportable(m.addr) && m.crcount > 0 {
			recs = append(recs, header.IGMPv3Grec{Type: header.IGMPv3ChangeToExclude, Group: m.addr})
			m.crcount--
		}
	}
	if g.ifcCount > 0 {
		g.ifcCount--
		g.ifc.Reset(g.below(igmpV3Unsolicited) + 2*igmpJiffy)
	}
	up := g.up
	g.mu.Unlock()
	if up && len(recs) > 0 {
		in.igmpSend(g, []igmpOut{{typ: header.IGMPv3MembershipReport, group: allV3MCR, recs: recs}})
	}
}

// igmpSend is igmp_send_report and igmpv3_sendpack: each report from the
// device, TTL 1, precedence internetwork control (TOS 0xc0), DF, with
// Router Alert; a version 1 or 2 report to its group, a leave to
// all-routers, a version 3 report to 224.0.0.22.
func (in *Inet) igmpSend(g *igmpDev, outs []igmpOut) {
	dev := g.idev.dev
	for _, o := range outs {
		dst := o.group
		var msg []byte
		switch o.typ {
		case header.IGMPv3MembershipReport:
			dst = allV3MCR
			msg = header.AppendIGMPv3Report(nil, o.recs)
		default:
			if o.typ == header.IGMPLeaveGroup {
				dst = allRouters
			}
			msg = make([]byte, header.IGMPMinLen)
			header.IGMPFields{Type: o.typ, Group: o.group}.Encode(msg)
		}
		fl := fib.FlowKey{Dst: dst, Oif: dev.Ifindex(), Proto: IPProtoIGMP}
		rt, err := in.routeOutput(&fl)
		if err != nil {
			continue
		}
		ro := ipOptData{opt: IPOptions{Len: 4, RouterAlert: IPv4HdrLen}, data: [IPOptMaxLen]byte{IPOptRA, 4, 0, 0}}
		_ = in.sendDatagram(rt, IPHeader{Src: fl.Src, Dst: dst, Proto: IPProtoIGMP, TOS: 0xc0, TTL: 1, DF: true}, &ro, msg, nil, 0)
	}
}
