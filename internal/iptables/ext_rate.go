package iptables

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	ipt "vnic/stack/netfilter/iptables"
)

// atoi is C's atoll: leading blanks, a sign, digits; 0 when none.
func atoi(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	var v int64
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		v = v*10 + int64(s[i]-'0')
	}
	if neg {
		v = -v
	}
	return v
}

// rateMult is the seconds of a rate's unit ("/sec", "/minute", …: any
// start of the word); 0 for none.
func rateMult(rate string) (uint64, bool) {
	_, unit, ok := strings.Cut(rate, "/")
	if !ok {
		return 1, true
	}
	if unit == "" {
		return 0, false
	}
	for _, u := range []struct {
		name string
		mult uint64
	}{{"second", 1}, {"minute", 60}, {"hour", 3600}, {"day", 86400}} {
		if prefixFold(unit, u.name) {
			return u.mult, true
		}
	}
	return 0, false
}

// printRate is limit's and hashlimit's print_rate over a scale.
func printRate(w *strings.Builder, period, scale uint64) uint64 {
	if period == 0 {
		fmt.Fprintf(w, " %f", math.Inf(1))
		return 0
	}
	rates := []struct {
		name string
		mult uint64
	}{{"day", scale * 86400}, {"hour", scale * 3600}, {"min", scale * 60}, {"sec", scale}}
	i := 1
	for ; i < len(rates); i++ {
		if period > rates[i].mult || rates[i].mult/period < rates[i].mult%period {
			break
		}
	}
	fmt.Fprintf(w, " %d/%s", rates[i-1].mult/period, rates[i-1].name)
	return rates[i-1].mult / scale * 1000
}

// hashlimit's byte mode (xt_hashlimit.h's XT_HASHLIMIT_BYTE_SHIFT).
const hashByteShift = 4

func costToBytes(cost uint64) uint64 {
	r := uint64(math.MaxUint32)
	if cost != 0 {
		r = math.MaxUint32 / cost
	}
	return (r - 1) << hashByteShift
}

func bytesToCost(b uint64) uint64 {
	r := uint32(b >> hashByteShift)
	return math.MaxUint32 / (uint64(r) + 1)
}

func byteFactor(c byte) uint64 {
	switch c {
	case 'm':
		return 1024 * 1024
	case 'k':
		return 1024
	}
	return 1
}

// hashlimit option ids.
const (
	hlUpto = iota
	hlAbove
	hlLimit
	hlMode
	hlSrcMask
	hlDstMask
	hlName
	hlBurst
	hlSize
	hlMax
	hlGCInt
	hlExpire
	hlRateMatch
	hlInterval
)

const (
	hlBurstDefault = 5
	hlBurstMax     = 1000000
	hlGCDefault    = 1000
	hlByteExpire   = 15
	hlByteBurstExp = 60
)

// hashlimitUdata is what hashlimit's parse leaves for its final check:
// the rate's unit.
type hashlimitUdata struct{ mult uint64 }

func (p *prog) hashlimitRate(c *call, i *ipt.HashlimitInfo, opt string) error {
	ud := c.inst.udata.(*hashlimitUdata)
	// parse_bytes
	if k := strings.Index(c.arg, "b/s"); k > 0 {
		r := uint64(atoi(c.arg))
		if r != 0 {
			tmp := r * byteFactor(c.arg[k-1])
			cost := bytesToCost(tmp)
			if cost == 0 {
				return c.errf("Rate too high \"%s\"", c.arg)
			}
			ud.mult = hlByteExpire
			i.Avg = cost
			i.Mode |= ipt.HashBytes
			return nil
		}
	}
	mult, ok := rateMult(c.arg)
	r := atoi(c.arg)
	if !ok || r == 0 {
		return p.badValue("hashlimit", opt, c.arg)
	}
	ud.mult = mult
	v := uint64(ipt.HashlimitScale) * mult / uint64(r)
	if v == 0 {
		return c.errf("Rate too fast \"%s\"", c.arg)
	}
	i.Avg = v
	return nil
}

func printHashMode(w *strings.Builder, mode uint32, sep byte) {
	w.WriteByte(' ')
	prev := false
	for _, m := range []struct {
		bit  uint32
		name string
	}{{ipt.HashSrcIP, "srcip"}, {ipt.HashSrcPort, "srcport"}, {ipt.HashDstIP, "dstip"}, {ipt.HashDstPort, "dstport"}} {
		if mode&m.bit != 0 {
			if prev {
				w.WriteByte(sep)
			}
			w.WriteString(m.name)
			prev = true
		}
	}
}

func printHashBytes(w *strings.Builder, avg, burst uint64, prefix string) uint64 {
	units := []struct {
		name   string
		thresh uint64
	}{{"m", 1024 * 1024}, {"k", 1024}, {"", 1}}
	r := costToBytes(avg)
	i := 0
	for ; i < len(units)-1; i++ {
		if r >= units[i].thresh && bytesToCost(r&^(units[i].thresh-1)) == avg {
			break
		}
	}
	fmt.Fprintf(w, " %d%sb/s", r/units[i].thresh, units[i].name)
	if burst == 0 {
		return hlByteExpire * 1000
	}
	r *= burst
	fmt.Fprintf(w, " %s", prefix)
	for i = 0; i < len(units)-1; i++ {
		if r >= units[i].thresh {
			break
		}
	}
	fmt.Fprintf(w, "burst %d%sb", r/units[i].thresh, units[i].name)
	return hlByteBurstExp * 1000
}

// hashlimitDump is hashlimit_mt_print (save false) and _save.
func hashlimitDump(w *strings.Builder, i *ipt.HashlimitInfo, save bool) {
	pre := ""
	if save {
		pre = "--hashlimit-"
	}
	switch {
	case save && i.Mode&ipt.HashInvert != 0:
		w.WriteString(" --hashlimit-above")
	case save:
		w.WriteString(" --hashlimit-upto")
	case i.Mode&ipt.HashInvert != 0:
		w.WriteString(" limit: above")
	default:
		w.WriteString(" limit: up to")
	}
	var quantum uint64
	if i.Mode&ipt.HashBytes != 0 {
		quantum = printHashBytes(w, i.Avg, i.Burst, pre)
	} else {
		period := i.Avg
		if !save && i.Interval != 0 {
			period *= uint64(i.Interval)
		}
		quantum = printRate(w, period, ipt.HashlimitScale)
		if save {
			fmt.Fprintf(w, " --hashlimit-burst %d", i.Burst)
		} else {
			fmt.Fprintf(w, " burst %d", i.Burst)
		}
	}
	if i.Mode&(ipt.HashSrcIP|ipt.HashSrcPort|ipt.HashDstIP|ipt.HashDstPort) != 0 {
		if save {
			w.WriteString(" --hashlimit-mode")
			printHashMode(w, i.Mode, ',')
		} else {
			w.WriteString(" mode")
			printHashMode(w, i.Mode, '-')
		}
	}
	if save {
		fmt.Fprintf(w, " --hashlimit-name %s", ipt.CString(i.Name[:]))
	} else {
		pre = ""
	}
	if i.Size != 0 {
		fmt.Fprintf(w, " %shtable-size %d", pre, i.Size)
	}
	if i.Max != 0 {
		fmt.Fprintf(w, " %shtable-max %d", pre, i.Max)
	}
	if i.GCInterval != hlGCDefault {
		fmt.Fprintf(w, " %shtable-gcinterval %d", pre, i.GCInterval)
	}
	if uint64(i.Expire) != quantum {
		fmt.Fprintf(w, " %shtable-expire %d", pre, i.Expire)
	}
	if i.SrcMask != 32 {
		fmt.Fprintf(w, " %ssrcmask %d", pre, i.SrcMask)
	}
	if i.DstMask != 32 {
		fmt.Fprintf(w, " %sdstmask %d", pre, i.DstMask)
	}
	if i.Mode&ipt.HashRateMatch != 0 {
		fmt.Fprintf(w, " %srate-match", pre)
		if i.Interval != 1 {
			fmt.Fprintf(w, " %srate-interval %d", pre, i.Interval)
		}
	}
}

// recent option ids.
const (
	rcSet = iota
	rcCheck
	rcUpdate
	rcRemove
	rcSeconds
	rcReap
	rcHitcount
	rcTTL
	rcName
	rcSource
	rcDest
	rcMask
)

func init() {
	registerMatch(&ext{
		name: "limit",
		opts: []xtOpt{{name: "limit", typ: xtString}, {name: "limit-burst", id: 1, typ: xtUint32, max: 10000}},
		init: func(i *inst) {
			r := i.info.(*ipt.LimitInfo)
			r.Avg, r.Burst = ipt.LimitScale*3600/3, 5
		},
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			r := c.inst.info.(*ipt.LimitInfo)
			if c.entry.id == 0 {
				mult, ok := rateMult(c.arg)
				n := atoi(c.arg)
				if !ok || n == 0 {
					return c.errf("bad rate \"%s\"'", c.arg)
				}
				v := uint64(ipt.LimitScale) * mult / uint64(uint32(n))
				if v == 0 {
					return c.errf("Rate too fast \"%s\"\n", c.arg)
				}
				r.Avg = uint32(v)
			} else {
				r.Burst = c.u32
			}
			if c.invert {
				return c.errf("limit does not support invert")
			}
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, _ bool) {
			r := info.(*ipt.LimitInfo)
			w.WriteString(" limit: avg")
			printRate(w, uint64(r.Avg), ipt.LimitScale)
			fmt.Fprintf(w, " burst %d", r.Burst)
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			r := info.(*ipt.LimitInfo)
			w.WriteString(" --limit")
			printRate(w, uint64(r.Avg), ipt.LimitScale)
			if r.Burst != 5 {
				fmt.Fprintf(w, " --limit-burst %d", r.Burst)
			}
		},
	})

	registerMatch(&ext{
		name: "hashlimit", revision: 3,
		opts: []xtOpt{
			{name: "hashlimit-upto", id: hlUpto, excl: 1 << hlAbove, typ: xtString, flags: optInvert},
			{name: "hashlimit-above", id: hlAbove, excl: 1 << hlUpto, typ: xtString, flags: optInvert},
			{name: "hashlimit", id: hlUpto, excl: 1 << hlAbove, typ: xtString, flags: optInvert},
			{name: "hashlimit-srcmask", id: hlSrcMask, typ: xtPlen},
			{name: "hashlimit-dstmask", id: hlDstMask, typ: xtPlen},
			{name: "hashlimit-burst", id: hlBurst, typ: xtString},
			{name: "hashlimit-htable-size", id: hlSize, typ: xtUint32},
			{name: "hashlimit-htable-max", id: hlMax, typ: xtUint32},
			{name: "hashlimit-htable-gcinterval", id: hlGCInt, typ: xtUint32},
			{name: "hashlimit-htable-expire", id: hlExpire, typ: xtUint32},
			{name: "hashlimit-mode", id: hlMode, typ: xtString},
			{name: "hashlimit-name", id: hlName, typ: xtString, flags: optMand, min: 1},
			{name: "hashlimit-rate-match", id: hlRateMatch, typ: xtNone},
			{name: "hashlimit-rate-interval", id: hlInterval, typ: xtString},
		},
		init: func(in *inst) {
			i := in.info.(*ipt.HashlimitInfo)
			i.Burst, i.GCInterval, i.SrcMask, i.DstMask = hlBurstDefault, hlGCDefault, 32, 32
			in.udata = &hashlimitUdata{}
		},
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			i := c.inst.info.(*ipt.HashlimitInfo)
			switch c.entry.id {
			case hlBurst:
				v, rest, ok := strtoulRest(c.arg, 1, math.MaxUint64, 0)
				if !ok || (rest == "" && v > hlBurstMax) {
					return c.errf("bad value for option \"--hashlimit-burst\", or out of range (1-%d).", hlBurstMax)
				}
				if rest != "" {
					v *= byteFactor(rest[0])
				}
				i.Burst = v
			case hlUpto, hlAbove:
				if c.entry.id == hlUpto && c.invert || c.entry.id == hlAbove && !c.invert {
					i.Mode |= ipt.HashInvert
				}
				opt := "--hashlimit-upto"
				if c.entry.id == hlAbove {
					opt = "--hashlimit-above"
				}
				return c.p.hashlimitRate(c, i, opt)
			case hlMode:
				for _, tok := range strings.FieldsFunc(c.arg, func(r rune) bool { return r == ',' || r == '|' }) {
					switch tok {
					case "dstip":
						i.Mode |= ipt.HashDstIP
					case "srcip":
						i.Mode |= ipt.HashSrcIP
					case "srcport":
						i.Mode |= ipt.HashSrcPort
					case "dstport":
						i.Mode |= ipt.HashDstPort
					default:
						return c.p.badValue("hashlimit", "--hashlimit-mode", c.arg)
					}
				}
			case hlSrcMask:
				i.SrcMask = uint8(c.hlen)
			case hlDstMask:
				i.DstMask = uint8(c.hlen)
			case hlRateMatch:
				i.Mode |= ipt.HashRateMatch
			case hlInterval:
				v := atoi(c.arg)
				if v <= 0 {
					return c.p.badValue("hashlimit", "--hashlimit-rate-interval", c.arg)
				}
				i.Interval = uint32(v)
			case hlName:
				ipt.PutCString(i.Name[:], c.arg)
			case hlSize:
				i.Size = c.u32
			case hlMax:
				i.Max = c.u32
			case hlGCInt:
				i.GCInterval = c.u32
			case hlExpire:
				i.Expire = c.u32
			}
			return nil
		},
		final: func(in *inst) error {
			i := in.info.(*ipt.HashlimitInfo)
			ud := in.udata.(*hashlimitUdata)
			if in.flags&(1<<hlUpto|1<<hlAbove) == 0 {
				return in.p.xtError(parameterProblem, "You have to specify --hashlimit")
			}
			if in.flags&(1<<hlExpire) == 0 {
				i.Expire = uint32(ud.mult * 1000)
			}
			if i.Mode&ipt.HashBytes != 0 {
				burst := uint64(0)
				if in.flags&(1<<hlBurst) != 0 {
					per := costToBytes(i.Avg)
					if i.Burst < per {
						return in.p.xtError(parameterProblem, "burst cannot be smaller than %db", per)
					}
					burst = i.Burst / per
					if i.Burst%per != 0 {
						burst++
					}
					if in.flags&(1<<hlExpire) == 0 {
						i.Expire = hlByteBurstExp * 1000
					}
				}
				i.Burst = burst
			} else if i.Burst > hlBurstMax {
				return in.p.xtError(parameterProblem, "bad value for option \"--hashlimit-burst\", or out of range (1-%d).", hlBurstMax)
			}
			if in.flags&(1<<hlRateMatch) != 0 {
				if i.Mode&ipt.HashBytes == 0 {
					i.Avg /= ud.mult
				}
				if i.Interval == 0 {
					i.Interval = uint32(ud.mult)
					if i.Mode&ipt.HashBytes != 0 {
						i.Interval = 1
					}
				}
			}
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, _ bool) {
			hashlimitDump(w, info.(*ipt.HashlimitInfo), false)
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			hashlimitDump(w, info.(*ipt.HashlimitInfo), true)
		},
	})

	anyOp := uint32(1<<rcSet | 1<<rcCheck | 1<<rcUpdate | 1<<rcRemove)
	registerMatch(&ext{
		name: "recent", revision: 1,
		opts: []xtOpt{
			{name: "set", id: rcSet, typ: xtNone, excl: anyOp, flags: optInvert},
			{name: "rcheck", id: rcCheck, typ: xtNone, excl: anyOp, flags: optInvert},
			{name: "update", id: rcUpdate, typ: xtNone, excl: anyOp, flags: optInvert},
			{name: "remove", id: rcRemove, typ: xtNone, excl: anyOp, flags: optInvert},
			{name: "seconds", id: rcSeconds, typ: xtUint32, min: 1},
			{name: "reap", id: rcReap, typ: xtNone, also: 1 << rcSeconds},
			{name: "hitcount", id: rcHitcount, typ: xtUint32, min: 1},
			{name: "rttl", id: rcTTL, typ: xtNone, excl: 1<<rcSet | 1<<rcRemove},
			{name: "name", id: rcName, typ: xtString},
			{name: "rsource", id: rcSource, typ: xtNone},
			{name: "rdest", id: rcDest, typ: xtNone},
			{name: "mask", id: rcMask, typ: xtHost},
		},
		init: func(in *inst) {
			i := in.info.(*ipt.RecentInfo)
			ipt.PutCString(i.Name[:], "DEFAULT")
			i.Side, i.Mask = ipt.RecentSource, [4]byte{255, 255, 255, 255}
		},
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			i := c.inst.info.(*ipt.RecentInfo)
			switch c.entry.id {
			case rcSet, rcCheck, rcUpdate, rcRemove:
				i.CheckSet |= map[uint]uint8{rcSet: ipt.RecentSet, rcCheck: ipt.RecentCheck, rcUpdate: ipt.RecentUpdate, rcRemove: ipt.RecentRemove}[c.entry.id]
				if c.invert {
					i.Invert = 1
				}
			case rcSeconds:
				i.Seconds = c.u32
			case rcReap:
				i.CheckSet |= ipt.RecentReap
			case rcHitcount:
				i.HitCount = c.u32
			case rcTTL:
				i.CheckSet |= ipt.RecentTTL
			case rcName:
				ipt.PutCString(i.Name[:], c.arg)
			case rcSource:
				i.Side = ipt.RecentSource
			case rcDest:
				i.Side = ipt.RecentDest
			case rcMask:
				i.Mask = c.haddr
			}
			return nil
		},
		final: func(in *inst) error {
			if in.flags&anyOp == 0 {
				return in.p.xtError(parameterProblem, "recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'")
			}
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, _ bool) { recentDump(w, info.(*ipt.RecentInfo), false) },
		save:  func(w *strings.Builder, _ *extEnv, info any) { recentDump(w, info.(*ipt.RecentInfo), true) },
	})

	const stMode, stProb, stEvery, stPacket = 0, 1, 2, 3
	registerMatch(&ext{
		name: "statistic",
		opts: []xtOpt{{name: "mode", id: stMode, typ: xtString, flags: optMand},
			{name: "probability", id: stProb, typ: xtDouble, flags: optInvert, min: 0, max: 1},
			{name: "every", id: stEvery, typ: xtUint32, min: 1, flags: optInvert, also: 1 << stPacket},
			{name: "packet", id: stPacket, typ: xtUint32}},
		parse: func(c *call) error {
			i := c.inst.info.(*ipt.StatisticInfo)
			if c.invert {
				i.Flags |= ipt.StatisticInvert
			}
			if err := c.parse(); err != nil {
				return err
			}
			switch c.entry.id {
			case stMode:
				switch c.arg {
				case "random":
					i.Mode = ipt.StatisticRandom
				case "nth":
					i.Mode = ipt.StatisticNth
				default:
					return c.errf("Bad mode \"%s\"", c.arg)
				}
			case stProb:
				i.Probability = uint32(math.Round(0x80000000 * c.dbl))
			case stEvery:
				i.Every = c.u32 - 1
			case stPacket:
				i.Packet = c.u32
			}
			return nil
		},
		final: func(in *inst) error {
			i := in.info.(*ipt.StatisticInfo)
			if i.Mode == ipt.StatisticRandom && in.flags&(1<<stProb) == 0 {
				return in.p.xtError(parameterProblem, "--probability must be specified when using random mode")
			}
			if i.Mode == ipt.StatisticNth && in.flags&(1<<stEvery|1<<stPacket) == 0 {
				return in.p.xtError(parameterProblem, "--every and --packet must be specified when using nth mode")
			}
			if i.Packet > i.Every {
				return in.p.xtError(parameterProblem, "the --packet p must be 0 <= p <= n-1")
			}
			i.Count = i.Every - i.Packet
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, _ bool) {
			w.WriteString(" statistic")
			statisticDump(w, info.(*ipt.StatisticInfo), "")
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			statisticDump(w, info.(*ipt.StatisticInfo), "--")
		},
	})
}

func statisticDump(w *strings.Builder, i *ipt.StatisticInfo, prefix string) {
	inv := sbang(i.Flags&ipt.StatisticInvert != 0)
	switch i.Mode {
	case ipt.StatisticRandom:
		fmt.Fprintf(w, " %smode random%s %sprobability %s", prefix, inv, prefix,
			strconv.FormatFloat(float64(i.Probability)/0x80000000, 'f', 11, 64))
	case ipt.StatisticNth:
		fmt.Fprintf(w, " %smode nth%s %severy %d", prefix, inv, prefix, i.Every+1)
		if i.Packet != 0 || prefix != "" {
			fmt.Fprintf(w, " %spacket %d", prefix, i.Packet)
		}
	}
}

// recentDump is recent_print (save false) and recent_save.
func recentDump(w *strings.Builder, i *ipt.RecentInfo, save bool) {
	if i.Invert != 0 {
		w.WriteString(" !")
	}
	words := []string{" SET", " CHECK", " UPDATE", " REMOVE", " seconds: %d", " reap", " hit_count: %d", " TTL-Match"}
	if save {
		words = []string{" --set", " --rcheck", " --update", " --remove", " --seconds %d", " --reap", " --hitcount %d", " --rttl"}
	} else {
		w.WriteString(" recent:")
	}
	for k, bit := range []uint8{ipt.RecentSet, ipt.RecentCheck, ipt.RecentUpdate, ipt.RecentRemove} {
		if i.CheckSet&bit != 0 {
			w.WriteString(words[k])
		}
	}
	if i.Seconds != 0 {
		fmt.Fprintf(w, words[4], i.Seconds)
	}
	if i.CheckSet&ipt.RecentReap != 0 {
		w.WriteString(words[5])
	}
	if i.HitCount != 0 {
		fmt.Fprintf(w, words[6], i.HitCount)
	}
	if i.CheckSet&ipt.RecentTTL != 0 {
		w.WriteString(words[7])
	}
	side := map[uint8]string{ipt.RecentSource: "source", ipt.RecentDest: "dest"}[i.Side]
	if save {
		fmt.Fprintf(w, " --name %s --mask %s", ipt.CString(i.Name[:]), ipString(i.Mask))
		if side != "" {
			w.WriteString(" --r" + side)
		}
		return
	}
	fmt.Fprintf(w, " name: %s", ipt.CString(i.Name[:]))
	if side != "" {
		w.WriteString(" side: " + side)
	}
	fmt.Fprintf(w, " mask: %s", ipString(i.Mask))
}
