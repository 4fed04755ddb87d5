package conformance

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	"vnic/ethtool"
)

// All is the suite, in order.
var All = []Check{
	{"drvinfo", checkDrvInfo},
	{"link-settings", checkLinkSettings},
	{"ring-round-trip", checkRingRoundTrip},
	{"ring-range-error", checkRingRange},
	{"coalesce-round-trip", checkCoalesceRoundTrip},
	{"coalesce-unsupported", checkCoalesceUnsupported},
	{"pause-round-trip", checkPauseRoundTrip},
	{"channels-round-trip", checkChannelsRoundTrip},
	{"channels-range-error", checkChannelsRange},
	{"features-fix-rules", checkFeatureFixRules},
	{"features-fixed-refused", checkFixedFeatures},
	{"stats-consistent", checkStatsConsistent},
	{"stats-monotonic", checkStatsMonotonic},
	{"rss-table", checkRSSTable},
	{"rss-vs-channels", checkRSSChannels},
	{"eeprom-magic", checkEEPROMMagic},
	{"self-test", checkSelfTest},
}

func checkDrvInfo(t *T) {
	d, err := t.Dev().DrvInfo()
	t.Need("drvinfo", err)
	if d.Driver == "" {
		t.Fatalf("empty driver name")
	}
	if d.Version == "" {
		t.Fatalf("empty version")
	}
}

func checkLinkSettings(t *T) {
	ls, err := t.Dev().LinkSettings()
	t.Need("link settings", err)
	up, err := t.Dev().Link()
	t.Need("link", err)
	if !up {
		t.Skipf("no link")
	}
	if ls.Speed == 0 || ls.Speed == ethtool.SpeedUnknown {
		t.Fatalf("link up with unknown speed")
	}
	if ls.Duplex != ethtool.DuplexFull && ls.Duplex != ethtool.DuplexHalf {
		t.Fatalf("link up with unknown duplex %d", ls.Duplex)
	}
}

// other returns a ring size different from cur within [8, max], a
// multiple of 8 (what every driver accepts).
func other(cur, max uint32) (uint32, bool) {
	for _, v := range []uint32{cur / 2, cur * 2, 64, 128, 256} {
		v &^= 7
		if v >= 8 && v <= max && v != cur {
			return v, true
		}
	}
	return 0, false
}

func checkRingRoundTrip(t *T) {
	dev := t.Dev()
	g, err := dev.Ring()
	t.Need("get ring", err)
	rx, ok := other(g.Rx, g.RxMax)
	if !ok {
		t.Skipf("no other RX size within the maximum %d", g.RxMax)
	}
	err = dev.SetRing(ethtool.Some32(rx), ethtool.Opt32{}, ethtool.Opt32{}, ethtool.Opt32{})
	t.Need("set ring", err)
	defer dev.SetRing(ethtool.Some32(g.Rx), ethtool.Opt32{}, ethtool.Opt32{}, ethtool.Opt32{})
	n, err := dev.Ring()
	t.Need("get ring", err)
	if n.Rx != rx {
		t.Fatalf("set rx %d, read back %d", rx, n.Rx)
	}
	if n.Tx != g.Tx {
		t.Fatalf("setting rx changed tx from %d to %d", g.Tx, n.Tx)
	}
}

func checkRingRange(t *T) {
	dev := t.Dev()
	g, err := dev.Ring()
	t.Need("get ring", err)
	err = dev.SetRing(ethtool.Some32(g.RxMax+1), ethtool.Opt32{}, ethtool.Opt32{}, ethtool.Opt32{})
	if !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("rx above the maximum: %v, want EINVAL", err)
	}
	n, err := dev.Ring()
	t.Need("get ring", err)
	if n != g {
		t.Fatalf("a refused set changed the rings: %+v -> %+v", g, n)
	}
}

func checkCoalesceRoundTrip(t *T) {
	dev := t.Dev()
	c, err := dev.Coalesce()
	t.Need("get coalesce", err)
	tried := 0
	for p := ethtool.CoalesceParam(0); p < ethtool.NumCoalesceParams; p++ {
		if !c.Has(p) || p.Bool() {
			continue
		}
		var req ethtool.Coalesce
		req.V[p] = c.V[p] + 10
		err := dev.SetCoalesce(req, p.Bit())
		if errors.Is(err, syscall.EINVAL) {
			continue // a value this driver refuses (e.g. tx-usecs with paired queues)
		}
		t.Need("set "+p.String(), err)
		n, err := dev.Coalesce()
		t.Need("get coalesce", err)
		var back ethtool.Coalesce
		back.V[p] = c.V[p]
		_ = dev.SetCoalesce(back, p.Bit())
		if n.V[p] != c.V[p]+10 {
			t.Fatalf("%s: set %d, read back %d", p, c.V[p]+10, n.V[p])
		}
		for q := ethtool.CoalesceParam(0); q < ethtool.NumCoalesceParams; q++ {
			if q != p && n.V[q] != c.V[q] {
				t.Fatalf("setting %s changed %s from %d to %d", p, q, c.V[q], n.V[q])
			}
		}
		tried++
	}
	if tried == 0 {
		t.Skipf("no settable numeric parameter")
	}
}

func checkCoalesceUnsupported(t *T) {
	dev := t.Dev()
	c, err := dev.Coalesce()
	t.Need("get coalesce", err)
	for p := ethtool.CoalesceParam(0); p < ethtool.NumCoalesceParams; p++ {
		if c.Has(p) {
			continue
		}
		var req ethtool.Coalesce
		req.V[p] = 1
		err := dev.SetCoalesce(req, p.Bit())
		if !errors.Is(err, syscall.EOPNOTSUPP) {
			t.Fatalf("setting unsupported %s: %v, want EOPNOTSUPP", p, err)
		}
		n, err := dev.Coalesce()
		t.Need("get coalesce", err)
		if n != c {
			t.Fatalf("a refused set of %s changed the coalescing", p)
		}
		return
	}
	t.Skipf("every parameter is supported")
}

func checkPauseRoundTrip(t *T) {
	dev := t.Dev()
	p, err := dev.Pause()
	t.Need("get pause", err)
	err = dev.SetPause(ethtool.OptBool{}, ethtool.SomeBool(!p.Rx), ethtool.OptBool{})
	t.Need("set pause", err)
	defer dev.SetPause(ethtool.OptBool{}, ethtool.SomeBool(p.Rx), ethtool.OptBool{})
	n, err := dev.Pause()
	t.Need("get pause", err)
	if n.Rx == p.Rx {
		t.Fatalf("rx pause stayed %v", p.Rx)
	}
	if n.Tx != p.Tx || n.Autoneg != p.Autoneg {
		t.Fatalf("setting rx changed tx or autoneg")
	}
}

// channelField picks what a device counts: combined channels, or RX.
func channelField(c ethtool.Channels) (name string, cur, max uint32) {
	if c.MaxCombined > 0 {
		return "combined", c.Combined, c.MaxCombined
	}
	return "rx", c.Rx, c.MaxRx
}

func setChannel(dev ethtool.Device, name string, v uint32) error {
	if name == "combined" {
		return dev.SetChannels(ethtool.Opt32{}, ethtool.Opt32{}, ethtool.Opt32{}, ethtool.Some32(v))
	}
	return dev.SetChannels(ethtool.Some32(v), ethtool.Opt32{}, ethtool.Opt32{}, ethtool.Opt32{})
}

func checkChannelsRoundTrip(t *T) {
	dev := t.Dev()
	c, err := dev.Channels()
	t.Need("get channels", err)
	name, cur, max := channelField(c)
	if max < 2 {
		t.Skipf("at most one %s channel", name)
	}
	v := uint32(1)
	if cur == 1 {
		v = 2
	}
	t.Need("set channels", setChannel(dev, name, v))
	defer setChannel(dev, name, cur)
	n, err := dev.Channels()
	t.Need("get channels", err)
	if _, got, _ := channelField(n); got != v {
		t.Fatalf("set %s %d, read back %d", name, v, got)
	}
}

func checkChannelsRange(t *T) {
	dev := t.Dev()
	c, err := dev.Channels()
	t.Need("get channels", err)
	name, _, max := channelField(c)
	if max == 0 {
		t.Skipf("no channel counts")
	}
	if err := setChannel(dev, name, max+1); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("%s above the maximum: %v, want EINVAL", name, err)
	}
	n, err := dev.Channels()
	t.Need("get channels", err)
	if n != c {
		t.Fatalf("a refused set changed the channels")
	}
}

// feature returns a feature's state by name.
func feature(l ethtool.FeatureList, name string) (ethtool.FeatureState, bool) {
	for _, f := range l {
		if f.Name == name {
			return f, true
		}
	}
	return ethtool.FeatureState{}, false
}

func setFeature(dev ethtool.Device, l ethtool.FeatureList, name string, on bool) (ethtool.FeatureReply, error) {
	var req ethtool.FeatureRequest
	i := l.Index(name)
	if i < 0 {
		return ethtool.FeatureReply{}, fmt.Errorf("no feature %s", name)
	}
	req.Mask.Set(i, true)
	req.Value.Set(i, on)
	return dev.SetFeatures(req)
}

// checkFeatureFixRules: scatter-gather off takes TSO off with it (fix
// rule 2); TSO stays wanted and comes back with scatter-gather.
func checkFeatureFixRules(t *T) {
	dev := t.Dev()
	l, err := dev.Features()
	t.Need("get features", err)
	sg, _ := feature(l, "tx-scatter-gather")
	tso, _ := feature(l, "tx-tcp-segmentation")
	if sg.Fixed() || !sg.Active || !tso.Active || tso.Fixed() {
		t.Skipf("needs changeable scatter-gather and TSO, both on")
	}
	_, err = setFeature(dev, l, "tx-scatter-gather", false)
	t.Need("set features", err)
	defer setFeature(dev, l, "tx-scatter-gather", true)
	m, err := dev.Features()
	t.Need("get features", err)
	if f, _ := feature(m, "tx-tcp-segmentation"); f.Active || !f.Requested {
		t.Fatalf("sg off: TSO %+v, want off and still requested", f)
	}
	_, err = setFeature(dev, m, "tx-scatter-gather", true)
	t.Need("set features", err)
	m, err = dev.Features()
	t.Need("get features", err)
	if f, _ := feature(m, "tx-tcp-segmentation"); !f.Active {
		t.Fatalf("sg on again: TSO did not come back")
	}
}

func checkFixedFeatures(t *T) {
	dev := t.Dev()
	l, err := dev.Features()
	t.Need("get features", err)
	for _, f := range l {
		if f.Name == "" || !f.Fixed() || f.Active || f.NeverChanged {
			continue
		}
		r, err := setFeature(dev, l, f.Name, true)
		t.Need("set features", err)
		var req ethtool.FeatureRequest
		req.Mask.Set(l.Index(f.Name), true)
		req.Value.Set(l.Index(f.Name), true)
		if !r.NothingChanged(req) {
			t.Fatalf("%s is [fixed] but the request was not refused", f.Name)
		}
		m, err := dev.Features()
		t.Need("get features", err)
		if g, _ := feature(m, f.Name); g.Active {
			t.Fatalf("%s is [fixed] and turned on", f.Name)
		}
		return
	}
	t.Skipf("no fixed feature that is off")
}

func statMap(st []ethtool.Stat) map[string]uint64 {
	m := make(map[string]uint64, len(st))
	for _, s := range st {
		m[s.Name] = s.Value
	}
	return m
}

// checkStatsConsistent: each total equals the sum of its per-queue
// counters (rx_packets = Σ rx_queue_N_packets, and so on).
func checkStatsConsistent(t *T) {
	st, err := t.Dev().Stats()
	t.Need("stats", err)
	m := statMap(st)
	checked := 0
	for _, k := range []struct{ total, dir, field string }{
		{"rx_packets", "rx", "packets"}, {"tx_packets", "tx", "packets"},
		{"rx_bytes", "rx", "bytes"}, {"tx_bytes", "tx", "bytes"},
	} {
		tot, ok := m[k.total]
		if !ok {
			continue
		}
		var sum uint64
		found := false
		for q := 0; ; q++ {
			v, ok := m[fmt.Sprintf("%s_queue_%d_%s", k.dir, q, k.field)]
			if !ok {
				break
			}
			sum += v
			found = true
		}
		if !found {
			continue
		}
		if sum != tot {
			t.Fatalf("%s %d, per-queue sum %d", k.total, tot, sum)
		}
		checked++
	}
	if checked == 0 {
		t.Skipf("no totals with per-queue counters")
	}
}

// checkStatsMonotonic: counters never decrease across a ring change (a
// reconfiguration that re-allocates the rings).
func checkStatsMonotonic(t *T) {
	dev := t.Dev()
	before, err := dev.Stats()
	t.Need("stats", err)
	g, err := dev.Ring()
	t.Need("get ring", err)
	rx, ok := other(g.Rx, g.RxMax)
	if !ok {
		t.Skipf("no other RX ring size")
	}
	t.Need("set ring", dev.SetRing(ethtool.Some32(rx), ethtool.Opt32{}, ethtool.Opt32{}, ethtool.Opt32{}))
	t.Need("set ring", dev.SetRing(ethtool.Some32(g.Rx), ethtool.Opt32{}, ethtool.Opt32{}, ethtool.Opt32{}))
	after, err := dev.Stats()
	t.Need("stats", err)
	m := statMap(after)
	for _, s := range before {
		if strings.Contains(s.Name, "ifindex") {
			continue // not a counter
		}
		if v, ok := m[s.Name]; ok && v < s.Value {
			t.Fatalf("%s went from %d to %d", s.Name, s.Value, v)
		}
	}
}

// checkRSSTable: entries point at existing RX rings; the default table is
// entry i = i mod rings; "equal 1" puts everything on ring 0 and "default"
// brings the default back.
func checkRSSTable(t *T) {
	dev := t.Dev()
	r, err := dev.RSS()
	t.Need("get rxfh", err)
	if len(r.Indir) == 0 || r.RxRings == 0 {
		t.Skipf("no indirection table")
	}
	for i, q := range r.Indir {
		if q >= r.RxRings {
			t.Fatalf("entry %d points at ring %d of %d", i, q, r.RxRings)
		}
	}
	if !r.UserSet {
		for i, q := range r.Indir {
			if q != uint32(i)%r.RxRings {
				t.Fatalf("default entry %d is %d, want %d", i, q, uint32(i)%r.RxRings)
			}
		}
	}
	t.Need("set rxfh", dev.SetRSS(ethtool.RSSRequest{Indir: make([]uint32, len(r.Indir))}))
	defer dev.SetRSS(ethtool.RSSRequest{DefaultIndir: true})
	n, err := dev.RSS()
	t.Need("get rxfh", err)
	for i, q := range n.Indir {
		if q != 0 {
			t.Fatalf("after equal 1, entry %d is %d", i, q)
		}
	}
	t.Need("set rxfh", dev.SetRSS(ethtool.RSSRequest{DefaultIndir: true}))
	n, err = dev.RSS()
	t.Need("get rxfh", err)
	for i, q := range n.Indir {
		if q != uint32(i)%n.RxRings {
			t.Fatalf("after default, entry %d is %d", i, q)
		}
	}
}

// checkRSSChannels: a user table that uses ring 1 blocks going to one
// channel; without it the change goes through and the default follows.
func checkRSSChannels(t *T) {
	dev := t.Dev()
	r, err := dev.RSS()
	t.Need("get rxfh", err)
	c, err := dev.Channels()
	t.Need("get channels", err)
	name, cur, max := channelField(c)
	if len(r.Indir) == 0 || max < 2 {
		t.Skipf("needs an indirection table and two channels")
	}
	if cur < 2 {
		t.Need("set channels", setChannel(dev, name, 2))
	}
	defer setChannel(dev, name, cur)
	table := make([]uint32, len(r.Indir))
	for i := range table {
		table[i] = uint32(i % 2)
	}
	t.Need("set rxfh", dev.SetRSS(ethtool.RSSRequest{Indir: table}))
	defer dev.SetRSS(ethtool.RSSRequest{DefaultIndir: true})
	if err := setChannel(dev, name, 1); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("one channel under a table using ring 1: %v, want EINVAL", err)
	}
	t.Need("set rxfh", dev.SetRSS(ethtool.RSSRequest{DefaultIndir: true}))
	t.Need("set channels", setChannel(dev, name, 1))
	n, err := dev.RSS()
	t.Need("get rxfh", err)
	for i, q := range n.Indir {
		if q != 0 {
			t.Fatalf("one channel: default entry %d is %d", i, q)
		}
	}
}

// checkEEPROMMagic: a write with a wrong magic is refused and changes
// nothing.
func checkEEPROMMagic(t *T) {
	dev := t.Dev()
	d, err := dev.DrvInfo()
	t.Need("drvinfo", err)
	if d.EEDumpLen == 0 {
		t.Skipf("no EEPROM access")
	}
	before, err := dev.EEPROM(0, d.EEDumpLen)
	t.Need("get eeprom", err)
	if err := dev.SetEEPROM(0, 0, []byte{^before[0]}); !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Fatalf("write with magic 0: %v, want EINVAL", err)
	}
	after, err := dev.EEPROM(0, d.EEDumpLen)
	t.Need("get eeprom", err)
	if string(after) != string(before) {
		t.Fatalf("a refused write changed the EEPROM")
	}
}

func checkSelfTest(t *T) {
	dev := t.Dev()
	d, err := dev.DrvInfo()
	t.Need("drvinfo", err)
	if d.TestInfoLen == 0 {
		t.Skipf("no self-test")
	}
	res, err := dev.SelfTest(true)
	t.Need("self test", err)
	for _, r := range res {
		if r.Value != 0 {
			t.Fatalf("%s: %d", strings.TrimSpace(r.Name), r.Value)
		}
	}
}
