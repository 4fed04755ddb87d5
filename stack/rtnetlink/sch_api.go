package rtnetlink

import (
	"syscall"

	"vnic/stack"
)

// The qdisc messages (net/sched/sch_api.c): RTM_NEWQDISC makes, replaces
// or changes a device's root qdisc (netem is the kind vnic has), and
// RTM_DELQDISC and RTM_GETQDISC find one, answering with the kernel's
// extended-ack messages; a dump lists every device's qdiscs, the default
// ones included (pfifo_fast, mq with its pfifo_fast children, noqueue).

func initQdisc(h *stack.Host) {
	Register(h, RTMNewQdisc, newQdisc, nil)
	Register(h, RTMDelQdisc, getQdisc, nil)
	Register(h, RTMGetQdisc, getQdisc, dumpQdisc)
}

// tcState is a host's traffic-control state: the handle qdisc_alloc_handle
// gave last.
type tcState struct{ autohandle uint32 }

var tcKey = stack.NewHostKey[tcState]()

func tcOf(h *stack.Host) *tcState {
	if s := tcKey.Get(h); s != nil {
		return s
	}
	tcKey.Set(h, &tcState{autohandle: stack.TCHAutoBase})
	return tcKey.Get(h)
}

// allocHandle is qdisc_alloc_handle: the next of 8001: … ffff: not in use
// on d (per host in vnic, so that a run repeats; Linux counts for the
// whole machine).
func allocHandle(h *stack.Host, d *stack.NetDevice) uint32 {
	s := tcOf(h)
	for range 0x8000 {
		s.autohandle += 0x10000
		if s.autohandle == stack.TCHRoot&stack.TCHMajMask {
			s.autohandle = stack.TCHAutoBase
		}
		if r := d.Qdisc(); r == nil || r.Handle() != s.autohandle {
			return s.autohandle
		}
	}
	return 0
}

func major(h uint32) uint32 { return h & stack.TCHMajMask }

// newQdisc is tc_modify_qdisc.
func newQdisc(h *stack.Host, req Request) ([]Message, error) {
	var m QdiscMsg
	if err := m.Unmarshal(req.Body); err != nil {
		return nil, syscall.EINVAL
	}
	d := DevByIndex(h, int(m.Ifindex))
	if d == nil {
		return nil, syscall.ENODEV
	}
	f := req.Flags
	create, replace, excl := f&FlagCreate != 0, f&FlagReplace != 0, f&FlagExcl != 0
	root := d.Qdisc()
	var q *stack.Qdisc // the qdisc to change (nil: make one)
	switch m.Parent {
	case stack.TCHRoot:
		q = root // a default queueing has handle 0: it is not changed
		if q == nil || m.Handle == 0 || q.Handle() != m.Handle {
			if m.Handle != 0 {
				if q != nil && !replace {
					return nil, Errorf(syscall.EEXIST, "NLM_F_REPLACE needed to override")
				}
				if m.Handle&stack.TCHMinMask != 0 {
					return nil, Errorf(syscall.EINVAL, "Invalid minor handle")
				}
				return createQdisc(h, d, m, create, false)
			}
			if q == nil {
				return createQdisc(h, d, m, create, false)
			}
			if m.Kind != "" && m.Kind != q.Kind() {
				if create && (replace || excl) {
					return createQdisc(h, d, m, create, false)
				}
				if !create && !replace && !excl {
					return createQdisc(h, d, m, create, true)
				}
			}
		}
	case 0:
		if m.Handle == 0 {
			return nil, Errorf(syscall.EINVAL, "Handle cannot be zero")
		}
		if root != nil && root.Handle() == m.Handle {
			q = root
		}
	case stack.TCHIngress:
		return nil, Errorf(syscall.ENOENT, "Cannot find ingress queue for specified device")
	default:
		if root == nil || major(m.Parent) != root.Handle() {
			return nil, Errorf(syscall.ENOENT, "Failed to find specified qdisc")
		}
		return nil, Errorf(syscall.EOPNOTSUPP, "Child qdiscs are not supported by vnic")
	}
	if q == nil {
		return nil, Errorf(syscall.ENOENT, "Specified qdisc not found")
	}
	if excl {
		return nil, Errorf(syscall.EEXIST, "Exclusivity flag on, cannot modify")
	}
	if m.Kind != "" && m.Kind != q.Kind() {
		return nil, Errorf(syscall.EINVAL, "Invalid qdisc name: must match existing qdisc")
	}
	if err := changeQdisc(q, m); err != nil {
		return nil, err
	}
	notifyQdisc(h, d, nil, q)
	return nil, nil
}

// changeQdisc is qdisc_change: the kind's options, if any.
func changeQdisc(q *stack.Qdisc, m QdiscMsg) error {
	if m.HasOptions {
		if m.IngressBlock != nil || m.EgressBlock != nil {
			return Errorf(syscall.EOPNOTSUPP, "Change of blocks is not supported")
		}
		cur, _ := q.Netem()
		o, err := ParseNetemOptions(m.Options)
		if err != nil {
			return err
		}
		cfg, err := netemChange(cur, o)
		if err != nil {
			return err
		}
		if err := q.ChangeNetem(cfg); err != nil {
			return KernErr(err)
		}
	}
	if m.HasStab {
		return Errorf(syscall.EOPNOTSUPP, "Size tables are not supported by vnic")
	}
	return nil
}

// createQdisc is create_n_graft: qdisc_create, then qdisc_graft at the
// root (the old root, default or not, is destroyed with what it held).
// force is create_n_graft2: a change that names another kind makes it
// without NLM_F_CREATE.
func createQdisc(h *stack.Host, d *stack.NetDevice, m QdiscMsg, create, force bool) ([]Message, error) {
	if !create && !force {
		return nil, Errorf(syscall.ENOENT, "Qdisc not found. To create specify NLM_F_CREATE flag")
	}
	if m.Kind != "netem" {
		return nil, Errorf(syscall.ENOENT, "Specified qdisc kind is unknown")
	}
	handle := m.Handle
	if handle == 0 {
		if handle = allocHandle(h, d); handle == 0 {
			return nil, Errorf(syscall.ENOSPC, "Maximum number of qdisc handles was exceeded")
		}
	}
	for _, b := range []*uint32{m.IngressBlock, m.EgressBlock} {
		if b == nil {
			continue
		}
		which := "Ingress"
		if b == m.EgressBlock {
			which = "Egress"
		}
		if *b == 0 {
			return nil, Errorf(syscall.EINVAL, "%s block index cannot be 0", which)
		}
		return nil, Errorf(syscall.EOPNOTSUPP, "%s block sharing is not supported", which)
	}
	if m.HasStab {
		return nil, Errorf(syscall.EOPNOTSUPP, "Size tables are not supported by vnic")
	}
	if !m.HasOptions {
		return nil, syscall.EINVAL // netem_init without options
	}
	o, err := ParseNetemOptions(m.Options)
	if err != nil {
		return nil, err
	}
	cfg, err := netemChange(stack.NetemConfig{}, o)
	if err != nil {
		return nil, err
	}
	if m.Rate != nil {
		return nil, Errorf(syscall.EOPNOTSUPP, "Rate estimators are not supported by vnic")
	}
	q, err := stack.NewNetem(d, handle, cfg)
	if err != nil {
		return nil, KernErr(err)
	}
	old := qdiscMsgs(d)
	d.GraftQdisc(q)
	notifyQdisc(h, d, old, q)
	return nil, nil
}

// getQdisc is tc_get_qdisc: RTM_GETQDISC answers with the qdisc the
// request names, RTM_DELQDISC removes it (the default queueing returns).
func getQdisc(h *stack.Host, req Request) ([]Message, error) {
	var m QdiscMsg
	if err := m.Unmarshal(req.Body); err != nil {
		return nil, syscall.EINVAL
	}
	d := DevByIndex(h, int(m.Ifindex))
	if d == nil {
		return nil, syscall.ENODEV
	}
	root := d.Qdisc()
	var msg *QdiscMsg // the qdisc found
	handle := uint32(0)
	switch m.Parent {
	case 0:
		if root == nil || root.Handle() != m.Handle {
			return nil, Errorf(syscall.ENOENT, "Failed to find qdisc with specified handle")
		}
	case stack.TCHRoot:
	case stack.TCHIngress:
		return nil, Errorf(syscall.ENOENT, "Cannot find specified qdisc on specified device")
	default:
		if root == nil || major(m.Parent) != root.Handle() {
			return nil, Errorf(syscall.ENOENT, "Failed to find qdisc with specified classid")
		}
		return nil, Errorf(syscall.ENOENT, "Cannot find specified qdisc on specified device")
	}
	if root != nil {
		r := rootMsg(d, root)
		msg, handle = &r, root.Handle()
	} else if ms := qdiscMsgs(d); len(ms) > 0 {
		msg = &ms[0]
	} else {
		// noop: the device is down, nothing is attached.
		msg = &QdiscMsg{Kind: "noop"}
	}
	if m.Parent != 0 && m.Handle != 0 && handle != m.Handle {
		return nil, Errorf(syscall.EINVAL, "Invalid handle")
	}
	if m.Kind != "" && m.Kind != msg.Kind {
		return nil, Errorf(syscall.EINVAL, "Invalid qdisc name: must match existing qdisc")
	}
	if req.Type == RTMGetQdisc {
		if msg.Kind == "noop" {
			return nil, syscall.EINVAL // a built-in qdisc is not reported
		}
		return []Message{Reply(RTMNewQdisc, msg.Marshal())}, nil
	}
	if m.Parent == 0 {
		return nil, Errorf(syscall.EINVAL, "Classid cannot be zero")
	}
	if handle == 0 {
		return nil, Errorf(syscall.ENOENT, "Cannot delete qdisc with handle of zero")
	}
	old := []QdiscMsg{*msg}
	d.GraftQdisc(nil)
	notifyQdisc(h, d, old, nil)
	return nil, nil
}

// dumpQdisc is tc_dump_qdisc: every device's root and its children.
func dumpQdisc(h *stack.Host, req Request) ([]Message, error) {
	var out []Message
	for _, d := range h.Devices() {
		for _, m := range qdiscMsgs(d) {
			out = append(out, Reply(RTMNewQdisc, m.Marshal()))
		}
	}
	return out, nil
}

// notifyQdisc is qdisc_notify: the old qdiscs deleted, the new one added,
// to the TC group.
func notifyQdisc(h *stack.Host, d *stack.NetDevice, old []QdiscMsg, q *stack.Qdisc) {
	if !Listening(h, RTMGrpTC) {
		return
	}
	for _, m := range old {
		Notify(h, RTMGrpTC, RTMDelQdisc, m.Marshal())
	}
	if q != nil {
		Notify(h, RTMGrpTC, RTMNewQdisc, rootMsg(d, q).Marshal())
	}
}
