package iptables

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"vnic/header"
	"vnic/stack/ipv4"

	"vnic/stack"
	"vnic/stack/netfilter/nat"
)

// Hook priorities (enum nf_ip_hook_priorities): lower runs first.
const (
	PriRaw      = -300
	PriMangle   = -150
	PriNATDst   = -100
	PriFilter   = 0
	PriSecurity = 50
	PriNATSrc   = 100
)

// tableDef is one built-in table (struct xt_table with its ops): its
// hooks and the priority of its hook functions.
type tableDef struct {
	name  string
	hooks HookMask
	prio  int
}

// The tables, as iptable_*.c define them; nat's hook functions sit at
// NAT_DST before routing and at NAT_SRC after it.
var tableDefs = []tableDef{
	{"filter", Hooks(stack.NFLocalIn, stack.NFForward, stack.NFLocalOut), PriFilter},
	{"mangle", Hooks(stack.NFPreRouting, stack.NFLocalIn, stack.NFForward, stack.NFLocalOut, stack.NFPostRouting), PriMangle},
	{"nat", Hooks(stack.NFPreRouting, stack.NFLocalIn, stack.NFLocalOut, stack.NFPostRouting), PriNATDst},
	{"raw", Hooks(stack.NFPreRouting, stack.NFLocalOut), PriRaw},
	{"security", Hooks(stack.NFLocalIn, stack.NFForward, stack.NFLocalOut), PriSecurity},
}

// TableNames are the tables a host can have.
func TableNames() []string {
	out := make([]string, len(tableDefs))
	for i, d := range tableDefs {
		out[i] = d.name
	}
	return out
}

// TableHooks are the hooks of table name (false: no such table).
func TableHooks(name string) (HookMask, bool) {
	for _, d := range tableDefs {
		if d.name == name {
			return d.hooks, true
		}
	}
	return 0, false
}

// NATPriority is where the nat table's function runs at hook h.
func NATPriority(h stack.NFHook) int {
	if h == stack.NFPreRouting || h == stack.NFLocalOut {
		return PriNATDst
	}
	return PriNATSrc
}

// Table is one table of a host, its hook functions registered.
type Table struct {
	def  *tableDef
	host *stack.Host
	mu   sync.Mutex // replacers
	rs   atomic.Pointer[ruleset]
	ops  []*stack.NFHookOps
}

// netState is a host's x_tables state (struct netns_xt and the
// extensions' per-net data).
type netState struct {
	host   *stack.Host
	mu     sync.Mutex
	tables map[string]*Table
	order  []string // the tables' names, the newest first
	log    LogRing
	recent recentNet
	hash   hashlimitNet
	queue  queueNet
	nflog  nflogNet
	sets   setNet
}

var netKey = stack.NewHostKey[netState]()

func netOf(h *stack.Host) *netState {
	if n := netKey.Get(h); n != nil {
		return n
	}
	n := &netState{host: h, tables: map[string]*Table{}}
	n.log.init(h.Clock())
	n.recent.init()
	n.hash.init()
	n.queue.init(h)
	netKey.Set(h, n)
	return netKey.Get(h)
}

// Open returns h's table name, making it (and registering its hook
// functions) on first use, as xt_find_table_lock loads and initialises a
// table's module: ENOENT for a table Linux does not have.
func Open(h *stack.Host, name string) (*Table, error) {
	n := netOf(h)
	n.mu.Lock()
	defer n.mu.Unlock()
	if t := n.tables[name]; t != nil {
		return t, nil
	}
	var def *tableDef
	for i := range tableDefs {
		if tableDefs[i].name == name {
			def = &tableDefs[i]
		}
	}
	if def == nil {
		return nil, errorf(syscall.ENOENT, "ip_tables: no table %q", name)
	}
	t := &Table{def: def, host: h}
	initial := &TableSpec{Name: name}
	for hk := stack.NFHook(0); hk < stack.NumNFHooks; hk++ {
		if def.hooks.Has(hk) {
			initial.Chains = append(initial.Chains, Chain{Name: ChainNames[hk], Policy: Accept})
		}
	}
	rs, err := t.translate(initial, nil)
	if err != nil {
		return nil, err
	}
	t.rs.Store(rs)
	if err := t.register(); err != nil {
		return nil, err
	}
	n.tables[name] = t
	n.order = append([]string{name}, n.order...)
	return t, nil
}

// register puts the table's hook function at each of its hooks; the nat
// table's go to the NAT core (iptable_nat_table_init's
// nf_nat_ipv4_register_fn), which calls them for the connections it has
// not bound yet at the hook's end.
func (t *Table) register() error {
	reg, unreg := t.host.Netfilter().Register, t.host.Netfilter().Unregister
	if t.def.name == "nat" {
		reg = func(o *stack.NFHookOps) error { return nat.Register(t.host, o) }
		unreg = func(o *stack.NFHookOps) error { return nat.Unregister(t.host, o) }
	}
	for hk := stack.NFHook(0); hk < stack.NumNFHooks; hk++ {
		if !t.def.hooks.Has(hk) {
			continue
		}
		prio := t.def.prio
		if t.def.name == "nat" {
			prio = NATPriority(hk)
		}
		var f stack.NFHooker = t
		if t.def.name == "mangle" && hk == stack.NFLocalOut {
			f = (*mangleOut)(t)
		}
		ops := &stack.NFHookOps{Name: "iptable_" + t.def.name, Hook: hk, Priority: prio, Hooker: f}
		if err := reg(ops); err != nil {
			for _, o := range t.ops {
				unreg(o)
			}
			t.ops = nil
			return err
		}
		t.ops = append(t.ops, ops)
	}
	return nil
}

// NFHook is the table's hook function (iptable_*_hook: ipt_do_table on
// the ruleset in force).
func (t *Table) NFHook(skb *stack.SKB, st *stack.NFState) stack.Verdict {
	return t.rs.Load().do(skb, st)
}

// mangleOut is the mangle table at LOCAL_OUT (ipt_mangle_out): a locally
// sent packet whose source, destination, mark or TOS the table changed
// is routed again for what it is now (ip_route_me_harder, so that a MARK
// at OUTPUT steers policy routing); no route drops it.
type mangleOut Table

func (m *mangleOut) NFHook(skb *stack.SKB, st *stack.NFState) stack.Verdict {
	t := (*Table)(m)
	nh := skb.NetworkHeader()
	if len(nh) < 20 {
		return t.rs.Load().do(skb, st)
	}
	iph := header.IPv4(nh)
	mark, src, dst, tos := skb.Mark, iph.Src(), iph.Dst(), iph.TOS()
	v := t.rs.Load().do(skb, st)
	if v == stack.NFDrop || v == stack.NFStolen {
		return v
	}
	iph = header.IPv4(skb.NetworkHeader())
	if skb.Mark != mark || iph.Src() != src || iph.Dst() != dst || iph.TOS() != tos {
		if in := ipv4.Of(t.host); in == nil || in.RouteMeHarder(skb) != nil {
			return stack.NFDrop
		}
	}
	return v
}

// Tables lists the tables h has made, the newest first (the order of
// /proc/net/ip_tables_names, which iptables-save follows).
func Tables(h *stack.Host) []string {
	n := netOf(h)
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.order)
}

// Name is the table's name.
func (t *Table) Name() string { return t.def.name }

// Get returns the table's rules with their counters now, the generation
// and each rule's ID (IPT_SO_GET_ENTRIES).
func (t *Table) Get() *TableSpec {
	return t.rs.Load().snapshot()
}

// snapshot is the ruleset's spec with its counters read now.
func (rs *ruleset) snapshot() *TableSpec {
	out := cloneSpec(rs.spec)
	k := 0
	for i := range out.Chains {
		c := &out.Chains[i]
		for hk, name := range ChainNames {
			if name == c.Name && rs.policy[hk] != nil {
				c.Counters = rs.policy[hk].load()
			}
		}
		for j := range c.Rules {
			c.Rules[j].Counters = rs.cells[k].load()
			c.Rules[j].ID = uint32(k + 1)
			k++
		}
	}
	return out
}

// Replace checks and compiles spec and swaps it in at once
// (IPT_SO_SET_REPLACE): packets already in the old ruleset finish there,
// the next ones see the new one. It returns the old rules with their
// counters as the swap left them. A refused spec leaves the table as it
// was.
func (t *Table) Replace(spec *TableSpec) (*TableSpec, error) {
	if spec.Name != "" && spec.Name != t.def.name {
		return nil, errorf(syscall.EINVAL, "ip_tables: a %s spec given to the %s table", spec.Name, t.def.name)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.rs.Load()
	rs, err := t.translate(spec, cur)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			netOf(t.host).log.Printf(LogInfo, "%s", e.Msg)
		}
		return nil, err
	}
	rs.spec.Name = t.def.name
	t.rs.Store(rs)
	old := cur.snapshot()
	cur.release()
	return old, nil
}

// Get is Open(h, table).Get().
func Get(h *stack.Host, table string) (*TableSpec, error) {
	t, err := Open(h, table)
	if err != nil {
		return nil, err
	}
	return t.Get(), nil
}

// Replace is Open(h, spec.Name).Replace(spec).
func Replace(h *stack.Host, spec *TableSpec) (*TableSpec, error) {
	t, err := Open(h, spec.Name)
	if err != nil {
		return nil, err
	}
	return t.Replace(spec)
}

// AddCounters adds to the counters of the rules of generation gen, each
// by its ID (IPT_SO_SET_ADD_COUNTERS): EAGAIN when the table has been
// replaced since, EINVAL for an ID the generation does not have.
func (t *Table) AddCounters(gen uint64, adds map[uint32]Counters) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	rs := t.rs.Load()
	if gen != rs.gen {
		return errorf(syscall.EAGAIN, "ip_tables: table %s changed (generation %d, not %d): read it again", t.def.name, rs.gen, gen)
	}
	for id := range adds {
		if id == 0 || int(id) > len(rs.cells) {
			return errorf(syscall.EINVAL, "ip_tables: no rule %d in table %s", id, t.def.name)
		}
	}
	for id, c := range adds {
		rs.cells[id-1].pkts.Add(c.Packets)
		rs.cells[id-1].bytes.Add(c.Bytes)
	}
	return nil
}
