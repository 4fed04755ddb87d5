package conntrack

import (
	"syscall"
	"time"

	"vnic/stack"
	ct "vnic/stack/netfilter/conntrack"
	"vnic/stack/netlink"
)

// Service serves ctnetlink for the hosts of a running topology: the
// table's dump, get, delete, flush, mark update and counters
// (FamilyName), and its events (EventFamilyName).
type Service struct {
	// Host finds a host by name (nil: none).
	Host func(name string) *stack.Host
	// Exec runs fn where the simulation may be touched (nil: in place).
	Exec func(fn func())

	// subscribed, when a test sets it, is called once an event stream
	// has subscribed.
	subscribed func()
}

// Families returns the families to register with netlink.Listen.
func (s *Service) Families() []*netlink.Family {
	return []*netlink.Family{
		{Name: FamilyName, Version: 1, Handle: s.handle, Dump: s.dump},
		{Name: EventFamilyName, Version: 1, Handle: s.handleEvents, StreamContext: s.events},
	}
}

func (s *Service) exec(fn func()) {
	if s.Exec != nil {
		s.Exec(fn)
		return
	}
	fn()
}

// net is the host's connection tracking. A host that has none yet gets
// its table, as asking ctnetlink loads nf_conntrack (its hooks stay
// unregistered: nothing is tracked until something uses it).
func (s *Service) net(r *request) (*ct.Net, error) {
	var h *stack.Host
	if s.Host != nil {
		h = s.Host(r.host)
	}
	if h == nil {
		return nil, netlink.Errorf(syscall.ENOENT, "no host %q in the running topology", r.host)
	}
	var n *ct.Net
	s.exec(func() { n = ct.Init(h) })
	return n, nil
}

// handle answers the requests that are not dumps.
func (s *Service) handle(cmd uint8, _ bool, body []byte) ([][]byte, int, error) {
	r, err := parseRequest(body)
	if err != nil {
		return nil, errOff(err), err
	}
	var replies [][]byte
	switch cmd {
	case MsgGet, MsgGetCtrZero:
		replies, err = s.get(r)
	case MsgDelete:
		err = s.del(r)
	case MsgNew:
		err = s.change(r)
	case MsgGetStats:
		replies, err = s.count(r)
	case MsgGetStatsCPU:
		// ctnetlink_stat_ct_cpu answers only a dump.
	case MsgGetDying, MsgGetUnconfirmed:
		err = plain(syscall.EOPNOTSUPP)
	default:
		err = netlink.Errorf(syscall.EOPNOTSUPP, "unknown ctnetlink message type %d", cmd)
	}
	if err != nil {
		return nil, errOff(err), err
	}
	return replies, -1, nil
}

// errOff is the offset an error names, -1 for none.
func errOff(err error) int {
	if e, ok := err.(*netlink.Error); ok {
		return e.Off
	}
	return -1
}

// dump answers the dump requests: the table, the statistics, the dying
// and unconfirmed lists (always empty: vnic deletes an entry and
// delivers its events at once, and unconfirmed entries live only on
// their packet, as Linux ≥ 6.1 no longer lists them either).
func (s *Service) dump(cmd uint8, body []byte) (netlink.GenlDumpFunc, int, error) {
	r, err := parseRequest(body)
	if err != nil {
		return nil, errOff(err), err
	}
	switch cmd {
	case MsgGet:
		fill, err := s.table(r)
		return fill, errOff(err), err
	case MsgGetCtrZero:
		return nil, -1, notBuilt("zeroing counters while listing (-z) is not built: the tracker's counters cannot be reset")
	case MsgGetDying, MsgGetUnconfirmed:
		if _, err := s.net(r); err != nil {
			return nil, -1, err
		}
		return sliceFill(nil), -1, nil
	case MsgGetStatsCPU:
		replies, err := s.cpuStats(r)
		return sliceFill(replies), -1, err
	}
	replies, off, err := s.handle(cmd, true, body)
	return sliceFill(replies), off, err
}

// sliceFill is a dump of replies already made.
func sliceFill(replies [][]byte) netlink.GenlDumpFunc {
	return func(add func([]byte) bool) (bool, error) {
		for len(replies) > 0 {
			if !add(replies[0]) {
				return false, nil
			}
			replies = replies[1:]
		}
		return true, nil
	}
}

// table is ctnetlink_dump_table: the entries the filter keeps, one
// message each. The table is walked once (as the kernel walks its
// buckets, collecting what expired on the way); each batch renders the
// next entries, skipping those deleted since.
func (s *Service) table(r *request) (netlink.GenlDumpFunc, error) {
	n, err := s.net(r)
	if err != nil {
		return nil, err
	}
	f, err := r.dumpFilter(r.family)
	if err != nil {
		return nil, err
	}
	var conns []*ct.Conn
	s.exec(func() {
		n.Walk(func(c *ct.Conn) bool {
			if f.match(c) {
				conns = append(conns, c)
			}
			return true
		})
	})
	return func(add func([]byte) bool) (done bool, err error) {
		s.exec(func() {
			for len(conns) > 0 {
				c := conns[0]
				if c.Status()&ct.StatusDying == 0 {
					if !add(netlink.GenlData(MsgNew, 1, appendConn(nil, c, 1))) {
						return
					}
				}
				conns = conns[1:]
			}
			done = true
		})
		return done, nil
	}, nil
}

// appendConn is ctnetlink_fill_info: c as a dump or get reports it.
// use is the reference count ctnetlink reads (CTA_USE): 1, the table's,
// in a dump; 2 in a get, which holds its own while it answers.
func appendConn(b []byte, c *ct.Conn, use uint32) []byte {
	b = appendNfgenmsg(b, AFInet, 0)
	b = appendConnTuples(b, c)
	st := c.Status()
	b = appendBE32(b, CTAStatus, uint32(st))
	b = appendBE32(b, CTAMark, c.Mark())
	b = appendBE32(b, CTAID, c.ID())
	b = appendBE32(b, CTAUse, use)
	b = appendMaster(b, c)
	b = appendBE32(b, CTATimeout, seconds(c))
	if c.Tuple(ct.Original).Proto == 6 {
		b = appendTCPState(b, c.ProtoState())
	}
	return appendAcct(b, c)
}

// appendConnTuples is ctnetlink_fill_info's tuples and zone: each tuple
// with the zone when it is of that direction only (CTA_TUPLE_ZONE), then
// a zone of both directions (CTA_ZONE); the default zone is not dumped
// (ctnetlink_dump_zone_id).
func appendConnTuples(b []byte, c *ct.Conn) []byte {
	z := c.Zone()
	b = appendZonedTuple(b, CTATupleOrig, c.Tuple(ct.Original), z.ID, z.ID != 0 && z.Dir == ct.ZoneDirOrig)
	b = appendZonedTuple(b, CTATupleReply, c.Tuple(ct.Reply), z.ID, z.ID != 0 && z.Dir == ct.ZoneDirRepl)
	if z.ID != 0 && z.Dir == ct.ZoneDirBoth {
		b = appendBE16(b, CTAZone, z.ID)
	}
	return b
}

// appendMaster is ctnetlink_dump_master: an expected connection's
// master's original tuple.
func appendMaster(b []byte, c *ct.Conn) []byte {
	if c.Status()&ct.StatusExpected == 0 || c.Master() == nil {
		return b
	}
	return appendTuple(b, CTATupleMaster, c.Master().Tuple(ct.Original))
}

// appendAcct is ctnetlink_dump_acct: the counters, when the connection
// has them.
func appendAcct(b []byte, c *ct.Conn) []byte {
	if !c.HasAcct() {
		return b
	}
	for d, typ := range [2]uint16{CTACountersOrig, CTACountersRepl} {
		p, n := c.Counters(ct.Dir(d))
		b = appendCounters(b, typ, p, n)
	}
	return b
}

// seconds is the timeout as ctnetlink reports it: whole seconds left.
func seconds(c *ct.Conn) uint32 { return uint32(c.Timeout() / time.Second) }

// get is ctnetlink_get_conntrack: the entry of the request's tuple, in
// either direction.
func (s *Service) get(r *request) ([][]byte, error) {
	c, err := s.lookup(r)
	if err != nil {
		return nil, err
	}
	var msg []byte
	s.exec(func() { msg = appendConn(nil, c, 2) })
	return [][]byte{netlink.GenlData(MsgNew, 1, msg)}, nil
}

// lookup finds the entry of the request's original tuple, else of its
// reply tuple (nf_conntrack_find_get), in either direction: ENOENT when
// there is none, EINVAL when the request has neither tuple.
func (s *Service) lookup(r *request) (*ct.Conn, error) {
	if r.cda[CTATupleOrig] == nil && r.cda[CTATupleReply] == nil {
		return nil, plain(syscall.EINVAL)
	}
	c, err := s.find(r)
	if err == nil && c == nil {
		err = plain(syscall.ENOENT)
	}
	return c, err
}

// find parses the request's zone and tuples and looks the entry up: nil
// when there is none (or no tuple to look for). A tuple's CTA_TUPLE_ZONE
// makes the zone one of its direction (ctnetlink_parse_tuple_zone).
func (s *Service) find(r *request) (*ct.Conn, error) {
	id, err := r.zone()
	if err != nil {
		return nil, err
	}
	zone := ct.Zone{ID: id}
	var t ct.Tuple
	found := false
	for _, typ := range []uint16{CTATupleOrig, CTATupleReply} {
		if r.cda[typ] == nil {
			continue
		}
		u, err := r.tuple(typ, &zone)
		if err != nil {
			return nil, err
		}
		if !found {
			t, found = u, true
		}
	}
	n, err := s.net(r)
	if err != nil || !found || r.family != AFInet { // vnic tracks IPv4 only
		return nil, err
	}
	var c *ct.Conn
	s.exec(func() { c, _ = n.Lookup(t, zone) })
	return c, nil
}

// del is ctnetlink_del_conntrack: the entry of the tuple (and CTA_ID,
// when given) goes; without a tuple, every entry the request's filter
// keeps (ctnetlink_flush_conntrack).
func (s *Service) del(r *request) error {
	if r.cda[CTAFilter] != nil || (r.cda[CTATupleOrig] == nil && r.cda[CTATupleReply] == nil) {
		return s.flush(r)
	}
	c, err := s.lookup(r)
	if err != nil {
		return err
	}
	if r.cda[CTAID] != nil {
		id, err := r.be32(CTAID)
		if err != nil {
			return err
		}
		if id != c.ID() {
			return plain(syscall.ENOENT)
		}
	}
	n, _ := s.net(r)
	s.exec(func() { n.Delete(c) })
	return nil
}

// flush deletes what the filter keeps; the request's family counts only
// with CTA_FILTER (nfgenmsg's version 0 means every family).
func (s *Service) flush(r *request) error {
	n, err := s.net(r)
	if err != nil {
		return err
	}
	family := uint8(AFUnspec)
	if r.cda[CTAFilter] != nil {
		family = r.family
	}
	f, err := r.dumpFilter(family)
	if err != nil {
		return err
	}
	s.exec(func() {
		n.Walk(func(c *ct.Conn) bool {
			if f.match(c) {
				n.Delete(c)
			}
			return true
		})
	})
	return nil
}

// IPS_UNTRACKED's bit is NAT_CLASH's

// count is ctnetlink_stat_ct: the entries and nf_conntrack_max.
func (s *Service) count(r *request) ([][]byte, error) {
	n, err := s.net(r)
	if err != nil {
		return nil, err
	}
	var entries, limit int
	s.exec(func() { entries, limit = n.Count(), n.Config().Max })
	b := appendNfgenmsg(nil, AFUnspec, 0)
	b = appendBE32(b, CTAStatsGlobalEntries, uint32(entries))
	b = appendBE32(b, CTAStatsGlobalMaxEntries, uint32(limit))
	return [][]byte{netlink.GenlData(MsgGetStats, 1, b)}, nil
}

// cpuStats is ctnetlink_ct_stat_cpu_dump: vnic counts per host, not per
// CPU, so there is one message, CPU 0's.
func (s *Service) cpuStats(r *request) ([][]byte, error) {
	n, err := s.net(r)
	if err != nil {
		return nil, err
	}
	var st ct.Stats
	s.exec(func() { st = n.Stats() })
	b := appendNfgenmsg(nil, AFUnspec, 0)
	for _, v := range []struct {
		typ uint16
		n   uint64
	}{
		{CTAStatsFound, st.Found}, {CTAStatsInvalid, st.Invalid}, {CTAStatsInsert, st.Insert},
		{CTAStatsInsertFailed, st.InsertFailed}, {CTAStatsDrop, st.Drop}, {CTAStatsEarlyDrop, st.EarlyDrop},
		{CTAStatsError, st.Error}, {CTAStatsSearchRestart, st.SearchRestart},
		{CTAStatsClashResolve, st.ClashResolve}, {CTAStatsChainTooLong, st.ChainTooLong},
	} {
		b = appendBE32(b, v.typ, uint32(v.n))
	}
	return [][]byte{netlink.GenlData(MsgGetStatsCPU, 1, b)}, nil
}
