package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"vnic/ethtool"
)

// out writes a get's result: the text, or with --json the value.
func (r *run) out(text string, v any) int {
	if r.json {
		b, err := json.MarshalIndent(v, "", "    ")
		if err != nil {
			fmt.Fprintln(r.Stderr, "ethtool:", err)
			return 1
		}
		fmt.Fprintf(r.Stdout, "%s\n", b)
		return 0
	}
	fmt.Fprint(r.Stdout, text)
	return 0
}

// show is a get mode: fetch, then print as text (or JSON).
func show[T any](r *run, get func() (T, error), text func(T) string) int {
	v, err := get()
	if err != nil {
		return r.fail(err, 0)
	}
	return r.out(text(v), v)
}

func doDrvInfo(r *run, dev ethtool.Device) int {
	return show(r, dev.DrvInfo, FormatDrvInfo)
}

func doSettings(r *run, dev ethtool.Device) int {
	ls, err := dev.LinkSettings()
	if err != nil {
		return r.fail(err, 0)
	}
	link, err := dev.Link()
	if err != nil {
		return r.fail(err, 0)
	}
	var msg *uint32
	if v, err := dev.Msglevel(); err == nil {
		msg = &v
	}
	return r.out(FormatSettings(dev.Name(), ls, msg, link), struct {
		ethtool.LinkSettings
		Msglevel *uint32 `json:",omitempty"`
		Link     bool
	}{ls, msg, link})
}

func doShowFeatures(r *run, dev ethtool.Device) int {
	l, err := dev.Features()
	if err != nil {
		return r.fail(err, 0)
	}
	if r.json {
		fmt.Fprint(r.Stdout, FormatFeaturesJSON(dev.Name(), l))
		return 0
	}
	return r.out(FormatFeatures(dev.Name(), l), nil)
}

// orderedMap marshals as a JSON object with its keys in order.
type orderedMap []kv

type kv struct {
	k string
	v any
}

func (m orderedMap) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range m {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(e.k)
		v, err := json.Marshal(e.v)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
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

func opt(ps []pval, name string) ethtool.Opt32 {
	for _, p := range ps {
		if p.name == name {
			return ethtool.Some32(p.u32)
		}
	}
	return ethtool.Opt32{}
}

func optBool(ps []pval, name string) ethtool.OptBool {
	for _, p := range ps {
		if p.name == name {
			return ethtool.SomeBool(p.on)
		}
	}
	return ethtool.OptBool{}
}

func doSetRing(r *run, dev ethtool.Device) int {
	ps, ok := r.parseParams([]pspec{{"rx", kU32}, {"rx-mini", kU32}, {"rx-jumbo", kU32}, {"tx", kU32},
		{"rx-buf-len", kU32}, {"cqe-size", kU32}, {"tx-push", kBool}})
	if !ok {
		return 1
	}
	for _, p := range ps {
		switch p.name {
		case "rx-buf-len", "cqe-size", "tx-push":
			return r.fail(ethtool.AttrErrorf("set ringparam", p.name, 95, "setting %s is not supported", p.name), p.off)
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
	ps, ok := r.parseParams([]pspec{{"rx", kU32}, {"tx", kU32}, {"other", kU32}, {"combined", kU32}})
	if !ok {
		return 1
	}
	err := dev.SetChannels(opt(ps, "rx"), opt(ps, "tx"), opt(ps, "other"), opt(ps, "combined"))
	if err != nil {
		return r.fail(err, offsetOf(ps, err))
	}
	return 0
}

func doShowCoalesce(r *run, dev ethtool.Device) int {
	c, err := dev.Coalesce()
	if err != nil {
		return r.fail(err, 0)
	}
	js := map[string]any{}
	for p := ethtool.CoalesceParam(0); p < ethtool.NumCoalesceParams; p++ {
		if c.Has(p) {
			js[p.String()] = c.V[p]
		}
	}
	return r.out(FormatCoalesce(dev.Name(), c), js)
}

func doSetCoalesce(r *run, dev ethtool.Device) int {
	var table []pspec
	for p := ethtool.CoalesceParam(0); p < ethtool.NumCoalesceParams; p++ {
		k := kU32
		if p.Bool() {
			k = kBool
		}
		table = append(table, pspec{p.String(), k})
	}
	ps, ok := r.parseParams(table)
	if !ok {
		return 1
	}
	var c ethtool.Coalesce
	var mask uint32
	for _, pv := range ps {
		p, _ := ethtool.CoalesceParamByName(pv.name)
		c.V[p] = pv.u32
		if p.Bool() && pv.on {
			c.V[p] = 1
		}
		mask |= p.Bit()
	}
	if err := dev.SetCoalesce(c, mask); err != nil {
		return r.fail(err, offsetOf(ps, err))
	}
	return 0
}

func doShowPause(r *run, dev ethtool.Device) int {
	return show(r, dev.Pause, func(p ethtool.Pause) string { return FormatPause(dev.Name(), p, r.stats) })
}

func doSetPause(r *run, dev ethtool.Device) int {
	ps, ok := r.parseParams([]pspec{{"autoneg", kBool}, {"rx", kBool}, {"tx", kBool}})
	if !ok {
		return 1
	}
	if err := dev.SetPause(optBool(ps, "autoneg"), optBool(ps, "rx"), optBool(ps, "tx")); err != nil {
		return r.fail(err, offsetOf(ps, err))
	}
	return 0
}

func doStats(r *run, dev ethtool.Device) int {
	st, err := dev.Stats()
	if err != nil {
		return r.fail(err, 0)
	}
	if len(st) == 0 {
		fmt.Fprintln(r.Stderr, "no stats available")
		return 94
	}
	js := orderedMap{}
	for _, s := range st {
		js = append(js, kv{s.Name, s.Value})
	}
	return r.out(FormatStats(st), js)
}

func doShowRSS(r *run, dev ethtool.Device) int {
	rss, err := dev.RSS()
	if err != nil {
		fmt.Fprintf(r.Stderr, "Cannot get RX ring count: %s\n", strerrorOf(err))
		return 1
	}
	hf := ""
	for i, n := range ethtool.HashFuncNames {
		if rss.HFunc&(1<<i) != 0 {
			hf = n
		}
	}
	return r.out(FormatRSS(dev.Name(), rss), struct {
		Key   []int    `json:"rss-hash-key"`
		HFunc string   `json:"rss-hash-function"`
		Indir []uint32 `json:"rss-indirection-table"`
	}{bytesToInts(rss.Key), hf, rss.Indir})
}

func bytesToInts(b []byte) []int {
	out := make([]int, len(b))
	for i, x := range b {
		out[i] = int(x)
	}
	return out
}

// doSetRSS is ethtool -X: [hkey xx:..] [start N] [equal N | weight W... |
// default] [hfunc NAME].
func doSetRSS(r *run, dev ethtool.Device) int {
	cur, err := dev.RSS()
	if err != nil {
		fmt.Fprintf(r.Stderr, "Cannot get RX ring count: %s\n", strerrorOf(err))
		return 1
	}
	var req ethtool.RSSRequest
	var start uint32
	equal, haveEqual := uint32(0), false
	var weights []uint32
	a := r.args
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
			req.Key = key
		case "start":
			v, ok := need()
			n, ok2 := parseNum(v)
			if !ok || !ok2 {
				return r.badArgs()
			}
			start = n
		case "equal":
			v, ok := need()
			n, ok2 := parseNum(v)
			if !ok || !ok2 {
				return r.badArgs()
			}
			equal, haveEqual = n, true
		case "weight":
			for i+1 < len(a) {
				n, ok := parseNum(a[i+1])
				if !ok {
					break
				}
				weights = append(weights, n)
				i++
			}
			if len(weights) == 0 {
				return r.badArgs()
			}
		case "default":
			req.DefaultIndir = true
		case "hfunc":
			v, ok := need()
			if !ok {
				return r.badArgs()
			}
			found := false
			for k, n := range ethtool.HashFuncNames {
				if n == v {
					req.HFunc, found = 1<<k, true
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
	if (haveEqual && weights != nil) || (req.DefaultIndir && (haveEqual || weights != nil)) {
		return r.badArgs()
	}
	size := uint32(len(cur.Indir))
	switch {
	case haveEqual:
		if equal == 0 || start+equal > cur.RxRings {
			fmt.Fprintf(r.Stderr, "Invalid RX ring count %d (start %d) for %d RX rings\n", equal, start, cur.RxRings)
			return 1
		}
		req.Indir = make([]uint32, size)
		for i := range req.Indir {
			req.Indir[i] = start + uint32(i)%equal
		}
	case weights != nil:
		ind, ok := weightTable(weights, size, start)
		if !ok || start+uint32(len(weights)) > cur.RxRings {
			fmt.Fprintln(r.Stderr, "Invalid RX weights")
			return 1
		}
		req.Indir = ind
	}
	if err := dev.SetRSS(req); err != nil {
		fmt.Fprintf(r.Stderr, "Cannot set RX flow hash configuration: %s\n", strerrorOf(err))
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

func strerrorOf(err error) string {
	var e *ethtool.Error
	if ok := asError(err, &e); ok {
		return strerror(e.Errno)
	}
	return err.Error()
}

// flowTypes are rx-flow-hash's flow names vnic's device hashes.
var flowTypes = map[string]ethtool.FlowType{"tcp4": ethtool.TCPv4Flow, "udp4": ethtool.UDPv4Flow, "ip4": ethtool.IPv4Flow}

var flowNames = map[ethtool.FlowType]string{ethtool.TCPv4Flow: "TCP over IPV4", ethtool.UDPv4Flow: "UDP over IPV4", ethtool.IPv4Flow: "IPV4"}

// hashFields are rx-flow-hash's field letters in ethtool's order.
var hashFields = []struct {
	c    byte
	bit  uint64
	text string
}{
	{'m', ethtool.RxhL2DA, "L2DA"}, {'v', ethtool.RxhVLAN, "VLAN tag"}, {'t', ethtool.RxhL3Proto, "L3 proto"},
	{'s', ethtool.RxhIPSrc, "IP SA"}, {'d', ethtool.RxhIPDst, "IP DA"},
	{'f', ethtool.RxhL4B01, "L4 bytes 0 & 1 [TCP/UDP src port]"}, {'n', ethtool.RxhL4B23, "L4 bytes 2 & 3 [TCP/UDP dst port]"},
}

func doShowNFC(r *run, dev ethtool.Device) int {
	if len(r.args) != 2 || r.args[0] != "rx-flow-hash" {
		return r.badArgs()
	}
	ft, ok := flowTypes[r.args[1]]
	if !ok {
		return r.badArgs()
	}
	f, err := dev.RxFlowHash(ft)
	if err != nil {
		fmt.Fprintf(r.Stderr, "Cannot get RX network flow hashing options: %s\n", strerrorOf(err))
		return 1
	}
	var b strings.Builder
	if f == 0 {
		fmt.Fprintf(&b, "No hash options set for %s\n", flowNames[ft])
	} else {
		fmt.Fprintf(&b, "%s flows use these fields for computing Hash flow key:\n", flowNames[ft])
		for _, h := range hashFields {
			if f&h.bit != 0 {
				fmt.Fprintf(&b, "%s\n", h.text)
			}
		}
	}
	var fields []string
	for _, h := range hashFields {
		if f&h.bit != 0 {
			fields = append(fields, h.text)
		}
	}
	return r.out(b.String()+"\n", fields)
}

func doSetNFC(r *run, dev ethtool.Device) int {
	if len(r.args) != 3 || r.args[0] != "rx-flow-hash" {
		return r.badArgs()
	}
	ft, ok := flowTypes[r.args[1]]
	if !ok {
		return r.badArgs()
	}
	var f uint64
	for i := 0; i < len(r.args[2]); i++ {
		c := r.args[2][i]
		found := false
		for _, h := range hashFields {
			if h.c == c {
				f |= h.bit
				found = true
			}
		}
		if c == 'r' {
			f |= ethtool.RxhDiscard
			found = true
		}
		if !found {
			return r.badArgs()
		}
	}
	if err := dev.SetRxFlowHash(ft, f); err != nil {
		// ethtool 6.1 reports the failure and still exits 0.
		fmt.Fprintf(r.Stderr, "Cannot change RX network flow hashing options: %s\n", strerrorOf(err))
	}
	return 0
}

func doEEPROM(r *run, dev ethtool.Device) int {
	ps, ok := r.parseParams([]pspec{{"raw", kBool}, {"offset", kU32}, {"length", kU32}})
	if !ok {
		return 1
	}
	di, err := dev.DrvInfo()
	if err != nil {
		return r.fail(err, 0)
	}
	off := opt(ps, "offset").V
	n := di.EEDumpLen - min(off, di.EEDumpLen)
	if l := opt(ps, "length"); l.Set {
		n = l.V
	}
	if off+n > di.EEDumpLen && di.EEDumpLen > 0 {
		fmt.Fprintln(r.Stderr, "offset & length out of bounds")
		return 1
	}
	data, err := dev.EEPROM(off, n)
	if err != nil {
		return r.fail(err, 0)
	}
	if optBool(ps, "raw").V {
		r.Stdout.Write(data)
		return 0
	}
	return r.out(FormatHex(data, off), bytesToInts(data))
}

func doSetEEPROM(r *run, dev ethtool.Device) int {
	ps, ok := r.parseParams([]pspec{{"magic", kU32}, {"offset", kU32}, {"length", kU32}, {"value", kU32}})
	if !ok {
		return 1
	}
	di, err := dev.DrvInfo()
	if err != nil {
		return r.fail(err, 0)
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
		buf := make([]byte, n)
		if _, err := ioReadFull(os.Stdin, buf); err != nil {
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
	ps, ok := r.parseParams([]pspec{{"raw", kBool}, {"hex", kBool}, {"file", kStr}})
	if !ok {
		return 1
	}
	if opt := optStr(ps, "file"); opt != "" {
		fmt.Fprintln(r.Stderr, "ethtool: register dump from a file is not supported")
		return 1
	}
	regs, err := dev.Regs()
	if err != nil {
		return r.fail(err, 0)
	}
	if optBool(ps, "raw").V {
		r.Stdout.Write(regs.Data)
		return 0
	}
	di, _ := dev.DrvInfo()
	if !optBool(ps, "hex").V && r.Pretty != nil {
		if text, ok := r.Pretty(di.Driver, regs); ok {
			return r.out(text, bytesToInts(regs.Data))
		}
	}
	return r.out(FormatHex(regs.Data, 0), bytesToInts(regs.Data))
}

func optStr(ps []pval, name string) string {
	for _, p := range ps {
		if p.name == name {
			return p.str
		}
	}
	return ""
}

func doTest(r *run, dev ethtool.Device) int {
	offline := true
	switch {
	case len(r.args) == 0:
	case len(r.args) == 1 && r.args[0] == "offline":
	case len(r.args) == 1 && r.args[0] == "online":
		offline = false
	default:
		return r.badArgs()
	}
	res, err := dev.SelfTest(offline)
	if err != nil {
		return r.fail(err, 0)
	}
	code := r.out(FormatTest(res), res)
	for _, t := range res {
		if t.Value != 0 {
			return 1
		}
	}
	return code
}

func doNway(r *run, dev ethtool.Device) int {
	if err := dev.NwayReset(); err != nil {
		return r.fail(err, 0)
	}
	return 0
}

func doPermAddr(r *run, dev ethtool.Device) int {
	a, err := dev.PermAddr()
	if err != nil {
		return r.fail(err, 0)
	}
	return r.out(FormatPermAddr(a), FormatPermAddr(a)[len("Permanent address: "):len(FormatPermAddr(a))-1])
}

func doChange(r *run, dev ethtool.Device) int {
	// msglvl takes a number or name on|off pairs; pull it out first.
	var msgSet, msgClear uint32
	msg := false
	var rest []string
	for i := 0; i < len(r.args); i++ {
		if r.args[i] != "msglvl" {
			rest = append(rest, r.args[i])
			continue
		}
		msg = true
		if i+1 < len(r.args) {
			if v, ok := parseNum(r.args[i+1]); ok {
				msgSet, msgClear = v, ^v
				i++
				continue
			}
		}
		for i+2 < len(r.args)+1 && i+1 < len(r.args) {
			bit := -1
			for k, n := range ethtool.MsglevelNames {
				if n == r.args[i+1] {
					bit = k
				}
			}
			if bit < 0 || i+2 >= len(r.args) || (r.args[i+2] != "on" && r.args[i+2] != "off") {
				break
			}
			if r.args[i+2] == "on" {
				msgSet |= 1 << bit
			} else {
				msgClear |= 1 << bit
			}
			i += 2
		}
		if msgSet|msgClear == 0 {
			fmt.Fprintf(r.Stderr, "ethtool (-s): invalid value for parameter 'msglvl'\n")
			return 1
		}
	}
	r.args = rest
	if msg {
		cur, err := dev.Msglevel()
		if err != nil {
			return r.fail(err, 0)
		}
		if err := dev.SetMsglevel(cur&^msgClear | msgSet); err != nil {
			return r.fail(err, 0)
		}
		if len(rest) == 0 {
			return 0
		}
	}
	ps, ok := r.parseParams([]pspec{{"speed", kU32}, {"duplex", kStr}, {"autoneg", kBool}})
	if !ok {
		return 1
	}
	var req ethtool.LinkRequest
	req.Speed = opt(ps, "speed")
	req.Autoneg = optBool(ps, "autoneg")
	switch d := optStr(ps, "duplex"); d {
	case "":
	case "half":
		req.Duplex = ethtool.Some32(ethtool.DuplexHalf)
	case "full":
		req.Duplex = ethtool.Some32(ethtool.DuplexFull)
	default:
		fmt.Fprintf(r.Stderr, "ethtool (-s): invalid value '%s' for parameter 'duplex'\n", d)
		return 1
	}
	if err := dev.SetLinkSettings(req); err != nil {
		return r.fail(err, offsetOf(ps, err))
	}
	return 0
}
