package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"vnic/ethtool"
)

// show is a get mode: fetch, then print.
func show[T any](r *run, get func() (T, error), text func(T) string) int {
	v, err := get()
	if err != nil {
		return r.fail(err, 0)
	}
	fmt.Fprint(r.Stdout, text(v))
	return 0
}

// jsonFail is a JSON mode's failure: the error, then ethtool's empty
// JSON array on stdout.
func (r *run) jsonFail(err error) int {
	rc := r.fail(err, 0)
	if r.json {
		fmt.Fprint(r.Stdout, "[ ]\n")
	}
	return rc
}

func doDrvInfo(r *run, dev ethtool.Device) int {
	return show(r, dev.DrvInfo, FormatDrvInfo)
}

// doSettings is ethtool DEVNAME: ethtool 6.1 sends five requests (link
// info, link modes, Wake-on-LAN, message level, link state) and prints
// what came back; each failure other than EOPNOTSUPP is reported, and
// when nothing came back it says "No data available" and exits 75.
func doSettings(r *run, dev ethtool.Device) int {
	got := 0
	report := func(err error) bool {
		if err == nil {
			got++
			return true
		}
		if !errors.Is(err, syscall.EOPNOTSUPP) {
			r.nlError(err, 0)
		}
		return false
	}
	ls, err := dev.LinkSettings()
	haveLS := report(err)
	if !haveLS {
		_, err = dev.LinkSettings() // the link modes request
		report(err)
	} else {
		got++
	}
	report(dev.Ext(ethtool.ExtWoL))
	var msg *uint32
	if v, err := dev.Msglevel(); report(err) {
		msg = &v
	}
	link, err := dev.Link()
	report(err)
	if got == 0 {
		fmt.Fprintln(r.Stderr, "No data available")
		return 75
	}
	fmt.Fprint(r.Stdout, FormatSettings(dev.Name(), ls, msg, link))
	return 0
}

func doShowFeatures(r *run, dev ethtool.Device) int {
	l, err := dev.Features()
	if err != nil {
		return r.jsonFail(err)
	}
	if r.json {
		fmt.Fprint(r.Stdout, FormatFeaturesJSON(dev.Name(), l))
		return 0
	}
	fmt.Fprint(r.Stdout, FormatFeatures(dev.Name(), l))
	return 0
}

func doSetFeatures(r *run, dev ethtool.Device) int {
	l, err := dev.Features()
	if err != nil {
		return r.fail(err, 0)
	}
	names := make([]string, len(l))
	for i, f := range l {
		names[i] = f.Name
	}
	req, err := ethtool.ParseFeatureArgs(r.args, names)
	if err != nil {
		if ae, ok := err.(*ethtool.ArgError); ok {
			fmt.Fprintln(r.Stderr, ae.Msg)
			return 1
		}
		return r.fail(err, featureArgOffset(r.devname, r.args, names, err))
	}
	reply, err := dev.SetFeatures(req)
	if err != nil {
		return r.fail(err, 0)
	}
	nothing := reply.NothingChanged(req)
	if nothing {
		fmt.Fprintln(r.Stderr, "Could not change any device features")
	}
	fmt.Fprint(r.Stdout, FormatFeatureChanges(req, reply))
	if nothing {
		return 1
	}
	return 0
}

// featureArgOffset is where ethtool's FEATURES_SET request holds the name
// the kernel did not find: header (with flags), WANTED and BITS nests, then
// one BIT nest per feature named before it (NAME, and a VALUE flag when
// on).
func featureArgOffset(devname string, args, names []string, err error) int {
	e, ok := err.(*ethtool.Error)
	if !ok {
		return 0
	}
	off := 20 + headerLen(devname, true) + 4 + 4
	bit := func(name string, on bool) int {
		n := 4 + align4(4+len(name)+1)
		if on {
			n += 4
		}
		return n
	}
	for i := 0; i+1 < len(args); i += 2 {
		on := args[i+1] == "on"
		if args[i] == e.Attr {
			return off + 4 // the NAME attribute inside its BIT nest
		}
		legacy := false
		for _, f := range ethtool.LegacyFlags {
			if args[i] == f.Short || args[i] == f.Long {
				legacy = true
				for _, n := range names {
					if f.Match(n) {
						off += bit(n, on)
					}
				}
			}
		}
		if !legacy {
			off += bit(args[i], on)
		}
	}
	return 0
}

func doShowRing(r *run, dev ethtool.Device) int {
	return show(r, dev.Ring, func(g ethtool.Ring) string { return FormatRing(dev.Name(), g) })
}

func doSetRing(r *run, dev ethtool.Device) int {
	ps := r.ps
	for _, p := range ps {
		switch p.name {
		case "rx-buf-len", "cqe-size", "tx-push":
			return r.fail(ethtool.AttrErrorf("set ringparam", p.name, syscall.EOPNOTSUPP, "setting %s is not supported", p.name), p.off)
		}
	}
	err := dev.SetRing(opt(ps, "rx"), opt(ps, "rx-mini"), opt(ps, "rx-jumbo"), opt(ps, "tx"))
	if err != nil {
		return r.fail(err, offsetOf(ps, err))
	}
	return 0
}

func doShowChannels(r *run, dev ethtool.Device) int {
	return show(r, dev.Channels, func(c ethtool.Channels) string { return FormatChannels(dev.Name(), c) })
}

func doSetChannels(r *run, dev ethtool.Device) int {
	ps := r.ps
	err := dev.SetChannels(opt(ps, "rx"), opt(ps, "tx"), opt(ps, "other"), opt(ps, "combined"))
	if err != nil {
		return r.fail(err, offsetOf(ps, err))
	}
	return 0
}

func doShowCoalesce(r *run, dev ethtool.Device) int {
	return show(r, dev.Coalesce, func(c ethtool.Coalesce) string { return FormatCoalesce(dev.Name(), c) })
}

func doSetCoalesce(r *run, dev ethtool.Device) int {
	var c ethtool.Coalesce
	var mask uint32
	for _, pv := range r.ps {
		p, _ := ethtool.CoalesceParamByName(pv.name)
		c.V[p] = pv.u32
		if p.Bool() && pv.on {
			c.V[p] = 1
		}
		mask |= p.Bit()
	}
	if err := dev.SetCoalesce(c, mask); err != nil {
		return r.fail(err, offsetOf(r.ps, err))
	}
	return 0
}

func doShowPause(r *run, dev ethtool.Device) int {
	p, err := dev.Pause()
	if err != nil {
		return r.jsonFail(err)
	}
	if r.json {
		fmt.Fprint(r.Stdout, FormatPauseJSON(dev.Name(), p, r.stats))
		return 0
	}
	fmt.Fprint(r.Stdout, FormatPause(dev.Name(), p, r.stats))
	return 0
}

// FormatPauseJSON is ethtool --json -a (netlink/pause.c's keys).
func FormatPauseJSON(dev string, p ethtool.Pause, stats bool) string {
	q, _ := json.Marshal(dev)
	s := fmt.Sprintf("[ {\n        \"ifname\": %s,\n        \"autonegotiate\": %t,\n        \"rx\": %t,\n        \"tx\": %t", q, p.Autoneg, p.Rx, p.Tx)
	if stats {
		s += fmt.Sprintf(",\n        \"statistics\": {\n            \"tx_pause_frames\": %d,\n            \"rx_pause_frames\": %d\n        }", p.TxPauseFrames, p.RxPauseFrames)
	}
	return s + "\n    } ]\n"
}

func doSetPause(r *run, dev ethtool.Device) int {
	ps := r.ps
	if err := dev.SetPause(optBool(ps, "autoneg"), optBool(ps, "rx"), optBool(ps, "tx")); err != nil {
		return r.fail(err, offsetOf(ps, err))
	}
	return 0
}

// statsGroups are -S --groups' names (ETHTOOL_STATS_*).
var statsGroups = []string{"eth-phy", "eth-mac", "eth-ctrl", "rmon"}

// parseStats is -S [--all-groups | --groups NAME...].
func parseStats(r *run) int {
	a := r.args
	switch {
	case len(a) == 0:
	case a[0] == "--all-groups" && len(a) == 1:
		r.parsed = []string{}
	case a[0] == "--groups":
		if len(a) == 1 {
			fmt.Fprintf(r.Stderr, "ethtool (-S): no value for parameter '--groups'\n")
			return 1
		}
		// The names are the kernel's to check (doStats).
		r.parsed = a[1:]
	default:
		fmt.Fprintf(r.Stderr, "ethtool (-S): unknown parameter '%s'\n", a[0])
		return 1
	}
	return -1
}

func doStats(r *run, dev ethtool.Device) int {
	if groups, ok := r.parsed.([]string); ok {
		// The standard statistics groups: vnic's driver reports none, so
		// the kernel's reply is the header alone. A name the kernel does
		// not know is refused with the offset of its NAME attribute in
		// ethtool's request (header, GROUPS bitset: NOMASK, BITS, then a
		// BIT nest per name).
		if _, err := dev.Link(); err != nil {
			r.nlError(err, 0)
			return 1
		}
		off := 20 + headerLen(r.devname, false) + 4 + 4 + 4 + 4
		for _, g := range groups {
			known := false
			for _, n := range statsGroups {
				known = known || n == g
			}
			if !known {
				r.nlError(ethtool.Errorf("get stats", syscall.EOPNOTSUPP, "bit name not found"), off)
				return 1
			}
			off += 4 + 4 + align4(len(g)+1)
		}
		fmt.Fprintf(r.Stdout, "Standard stats for %s:\n", dev.Name())
		return 0
	}
	st, err := dev.Stats()
	if err != nil {
		if errnoOf(err) == syscall.ENODEV {
			r.perror("Cannot get stats strings information", err)
			return 96
		}
		return r.fail(err, 0)
	}
	if len(st) == 0 {
		fmt.Fprintln(r.Stderr, "no stats available")
		return 94
	}
	fmt.Fprint(r.Stdout, FormatStats(st))
	return 0
}

// doPhyStats is --phy-statistics: vnic's PHY keeps no statistics, so the
// string set is empty, as for any device without PHY statistics.
func doPhyStats(r *run, dev ethtool.Device) int {
	if _, err := dev.DrvInfo(); err != nil {
		r.perror("Cannot get stats strings information", err)
		return 96
	}
	fmt.Fprintln(r.Stderr, "no stats available")
	return 94
}

// parseShowRSS is -x [context N].
func parseShowRSS(r *run) int {
	switch len(r.args) {
	case 0:
		return -1
	case 2:
		if n, ok := parseNum(r.args[1]); ok && r.args[0] == "context" {
			r.parsed = n
			return -1
		}
	}
	return r.badArgs()
}

func doShowRSS(r *run, dev ethtool.Device) int {
	rss, err := dev.RSS()
	if err != nil {
		r.perror("Cannot get RX ring count", err)
		return 1
	}
	if ctx, _ := r.parsed.(uint32); ctx != 0 {
		r.perror("Cannot get RX flow hash indir size and key size", dev.Ext(ethtool.ExtRSSContext))
		return 1
	}
	fmt.Fprint(r.Stdout, FormatRSS(dev.Name(), rss))
	return 0
}

// setRSS is a parsed -X command line.
type setRSS struct {
	req              ethtool.RSSRequest
	start            uint32
	haveStart        bool
	equal            uint32
	haveEqual        bool
	weights          []uint32
	context          uint32
	haveContext, del bool
}

// parseSetRSS is -X: [context N|new] [hkey xx:..] [start N] [equal N |
// weight W... | default] [hfunc NAME] [delete].
func parseSetRSS(r *run) int {
	var s setRSS
	a := r.args
	if len(a) == 0 {
		return r.badArgs()
	}
	for i := 0; i < len(a); i++ {
		need := func() (string, bool) {
			if i+1 >= len(a) {
				return "", false
			}
			i++
			return a[i], true
		}
		switch a[i] {
		case "hkey":
			v, ok := need()
			if !ok {
				return r.badArgs()
			}
			key, ok := parseHexBytes(v)
			if !ok {
				fmt.Fprintln(r.Stderr, "Invalid RSS hash key format")
				return 1
			}
			s.req.Key = key
		case "start":
			v, ok := need()
			n, ok2 := parseNum(v)
			if !ok || !ok2 {
				return r.badArgs()
			}
			s.start, s.haveStart = n, true
		case "equal":
			v, ok := need()
			n, ok2 := parseNum(v)
			if !ok || !ok2 || n == 0 {
				return r.badArgs()
			}
			s.equal, s.haveEqual = n, true
		case "weight":
			for i+1 < len(a) {
				n, ok := parseNum(a[i+1])
				if !ok {
					break
				}
				s.weights = append(s.weights, n)
				i++
			}
			if len(s.weights) == 0 {
				return r.badArgs()
			}
		case "default":
			s.req.DefaultIndir = true
		case "context":
			v, ok := need()
			if !ok {
				return r.badArgs()
			}
			if v == "new" {
				s.context = 0xFFFFFFFF // ETH_RXFH_CONTEXT_ALLOC
			} else if n, ok := parseNum(v); ok {
				s.context = n
			} else {
				return r.badArgs()
			}
			s.haveContext = true
		case "delete":
			s.del = true
		case "hfunc":
			v, ok := need()
			if !ok {
				return r.badArgs()
			}
			found := false
			for k, n := range ethtool.HashFuncNames {
				if n == v {
					s.req.HFunc, found = 1<<k, true
				}
			}
			if !found {
				fmt.Fprintf(r.Stderr, "Unknown hash function: %s\n", v)
				return 1
			}
		default:
			return r.badArgs()
		}
	}
	switch {
	case s.haveEqual && s.weights != nil:
		fmt.Fprintln(r.Stderr, "Equal and weight options are mutually exclusive")
		return 1
	case s.haveEqual && s.req.DefaultIndir:
		fmt.Fprintln(r.Stderr, "Equal and default options are mutually exclusive")
		return 1
	case s.weights != nil && s.req.DefaultIndir:
		fmt.Fprintln(r.Stderr, "Weight and default options are mutually exclusive")
		return 1
	case s.haveStart && !s.haveEqual && s.weights == nil:
		fmt.Fprintln(r.Stderr, "Start must be used with equal or weight options")
		return 1
	case s.del && !s.haveContext:
		fmt.Fprintln(r.Stderr, "Delete option requires context option")
		return 1
	}
	r.parsed = &s
	return -1
}

func doSetRSS(r *run, dev ethtool.Device) int {
	s := r.parsed.(*setRSS)
	cur, err := dev.RSS()
	if err != nil {
		r.perror("Cannot get RX ring count", err)
		return 1
	}
	if s.haveContext && s.context != 0 {
		r.perror("Cannot set RX flow hash configuration", dev.Ext(ethtool.ExtRSSContext))
		return 1
	}
	req := s.req
	size := uint32(len(cur.Indir))
	switch {
	case s.haveEqual:
		if s.start+s.equal > cur.RxRings {
			fmt.Fprintf(r.Stderr, "Invalid RX ring count %d (start %d) for %d RX rings\n", s.equal, s.start, cur.RxRings)
			return 1
		}
		req.Indir = make([]uint32, size)
		for i := range req.Indir {
			req.Indir[i] = s.start + uint32(i)%s.equal
		}
	case s.weights != nil:
		ind, ok := weightTable(s.weights, size, s.start)
		if !ok || s.start+uint32(len(s.weights)) > cur.RxRings {
			fmt.Fprintln(r.Stderr, "Invalid RX weights")
			return 1
		}
		req.Indir = ind
	}
	if err := dev.SetRSS(req); err != nil {
		r.perror("Cannot set RX flow hash configuration", err)
		return 1
	}
	return 0
}

// weightTable spreads size entries over queues start.. in proportion to the
// weights, as ethtool's fill_indir_table does.
func weightTable(w []uint32, size, start uint32) ([]uint32, bool) {
	var sum uint64
	for _, x := range w {
		sum += uint64(x)
	}
	if sum == 0 {
		return nil, false
	}
	t := make([]uint32, size)
	var partial uint64
	j := -1
	for i := uint64(0); i < uint64(size); i++ {
		for i >= uint64(size)*partial/sum {
			j++
			partial += uint64(w[j])
		}
		t[i] = start + uint32(j)
	}
	return t, true
}

func parseHexBytes(s string) ([]byte, bool) {
	parts := strings.Split(s, ":")
	out := make([]byte, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil || len(p) == 0 || len(p) > 2 {
			return nil, false
		}
		out[i] = byte(v)
	}
	return out, true
}

func doEEPROM(r *run, dev ethtool.Device) int {
	ps := r.ps
	di, err := dev.DrvInfo()
	if err != nil {
		r.perror("Cannot get driver information", err)
		return 74
	}
	off := opt(ps, "offset").V
	n := di.EEDumpLen - min(off, di.EEDumpLen)
	if l := opt(ps, "length"); l.Set {
		n = l.V
	}
	if uint64(off)+uint64(n) > uint64(di.EEDumpLen) && di.EEDumpLen > 0 {
		fmt.Fprintln(r.Stderr, "offset & length out of bounds")
		return 1
	}
	data, err := dev.EEPROM(off, n)
	if err != nil {
		return r.fail(err, 0)
	}
	if optBool(ps, "raw").V {
		_, _ = r.Stdout.Write(data)
		return 0
	}
	fmt.Fprint(r.Stdout, FormatHex(data, off))
	return 0
}

func doSetEEPROM(r *run, dev ethtool.Device) int {
	ps := r.ps
	di, err := dev.DrvInfo()
	if err != nil {
		r.perror("Cannot get driver information", err)
		return 74
	}
	off := opt(ps, "offset").V
	var data []byte
	if v := opt(ps, "value"); v.Set {
		if v.V > 0xFF {
			fmt.Fprintln(r.Stderr, "value must be a byte (0..255)")
			return 1
		}
		data = []byte{byte(v.V)}
	} else {
		n := di.EEDumpLen - min(off, di.EEDumpLen)
		if l := opt(ps, "length"); l.Set {
			n = l.V
		}
		if uint64(off)+uint64(n) > uint64(di.EEDumpLen) {
			fmt.Fprintln(r.Stderr, "offset & length out of bounds")
			return 1
		}
		in := r.Stdin
		if in == nil {
			in = os.Stdin
		}
		buf := make([]byte, n)
		if _, err := ioReadFull(in, buf); err != nil || n == 0 {
			fmt.Fprintln(r.Stderr, "not enough data from stdin")
			return 75
		}
		data = buf
	}
	if uint64(off)+uint64(len(data)) > uint64(di.EEDumpLen) {
		fmt.Fprintln(r.Stderr, "offset & length out of bounds")
		return 1
	}
	if err := dev.SetEEPROM(opt(ps, "magic").V, off, data); err != nil {
		return r.fail(err, 0)
	}
	return 0
}

func doRegs(r *run, dev ethtool.Device) int {
	ps := r.ps
	di, err := dev.DrvInfo()
	if err != nil {
		r.perror("Cannot get driver information", err)
		return 72
	}
	regs, err := dev.Regs()
	if err != nil {
		r.perror("Cannot get register dump", err)
		return 74
	}
	if file := optStr(ps, "file"); file != "" {
		// As ethtool: the dump is read from the file instead, after the
		// device's own (which gives the layout version).
		data, err := os.ReadFile(file)
		if err != nil {
			r.perror(fmt.Sprintf("Can't open '%s'", file), err)
			return 75
		}
		regs.Data = data
	}
	if optBool(ps, "raw").V {
		_, _ = r.Stdout.Write(regs.Data)
		return 0
	}
	if !optBool(ps, "hex").V && r.Pretty != nil {
		if text, ok := r.Pretty(di.Driver, regs); ok {
			fmt.Fprint(r.Stdout, text)
			return 0
		}
	}
	fmt.Fprint(r.Stdout, FormatHex(regs.Data, 0))
	return 0
}

// parseTest is -t [offline|online|external_lb].
func parseTest(r *run) int {
	mode := "offline"
	switch {
	case len(r.args) == 0:
	case len(r.args) == 1 && (r.args[0] == "offline" || r.args[0] == "online" || r.args[0] == "external_lb"):
		mode = r.args[0]
	default:
		return r.badArgs()
	}
	r.parsed = mode
	return -1
}

// doTest runs the self-test; external_lb runs the offline test, as igb
// does (it ignores ETH_TEST_FL_EXTERNAL_LB and never reports it done).
func doTest(r *run, dev ethtool.Device) int {
	mode := r.parsed.(string)
	res, err := dev.SelfTest(mode != "online")
	if err != nil {
		if errnoOf(err) == syscall.ENODEV {
			r.perror("Cannot get strings", err)
			return 74
		}
		return r.fail(err, 0)
	}
	text := FormatTest(res)
	if mode == "external_lb" {
		first, rest, _ := strings.Cut(text, "\n")
		text = first + "\nExternal loopback test was not executed\n" + rest
	}
	fmt.Fprint(r.Stdout, text)
	for _, t := range res {
		if t.Value != 0 {
			return 1
		}
	}
	return 0
}

func doNway(r *run, dev ethtool.Device) int {
	if err := dev.NwayReset(); err != nil {
		return r.fail(err, 0)
	}
	return 0
}

// doPermAddr is -P: ethtool 6.1 asks rtnetlink, whose errors carry no
// extended ack.
func doPermAddr(r *run, dev ethtool.Device) int {
	a, err := dev.PermAddr()
	if err != nil {
		fmt.Fprintf(r.Stderr, "netlink error: %s\n", strerrorOf(err))
		return 1
	}
	fmt.Fprint(r.Stdout, FormatPermAddr(a))
	return 0
}
