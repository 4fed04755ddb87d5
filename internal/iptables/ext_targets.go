package iptables

import (
	"fmt"
	"strings"

	ct "vnic/stack/netfilter/conntrack"
	ipt "vnic/stack/netfilter/iptables"
)

var logLevelNames = []struct {
	name  string
	level uint8
}{{"alert", 1}, {"crit", 2}, {"debug", 7}, {"emerg", 0}, {"error", 3}, {"info", 6}, {"notice", 5}, {"panic", 0}, {"warning", 4}}

// rejectNames are REJECT's types and their short aliases, by value.
var rejectNames = [...]struct{ name, alias string }{
	ipt.RejectNetUnreachable:   {"icmp-net-unreachable", "net-unreach"},
	ipt.RejectHostUnreachable:  {"icmp-host-unreachable", "host-unreach"},
	ipt.RejectProtoUnreachable: {"icmp-proto-unreachable", "proto-unreach"},
	ipt.RejectPortUnreachable:  {"icmp-port-unreachable", "port-unreach"},
	ipt.RejectNetProhibited:    {"icmp-net-prohibited", "net-prohib"},
	ipt.RejectHostProhibited:   {"icmp-host-prohibited", "host-prohib"},
	ipt.RejectTCPReset:         {"tcp-reset", "tcp-rst"},
	ipt.RejectAdminProhibited:  {"icmp-admin-prohibited", "admin-prohib"},
}

func rejectName(with uint32) string {
	if int(with) < len(rejectNames) {
		return rejectNames[with].name
	}
	return ""
}

// markDump is MARK's and CONNMARK's set-mode print.
func markDump(w *strings.Builder, what string, mark, mask uint32) {
	switch {
	case mark == 0:
		fmt.Fprintf(w, " %s and 0x%x", what, ^mask)
	case mark == mask:
		fmt.Fprintf(w, " %s or 0x%x", what, mark)
	case mask == 0:
		fmt.Fprintf(w, " %s xor 0x%x", what, mark)
	case mask == 0xffffffff:
		fmt.Fprintf(w, " %s set 0x%x", what, mark)
	default:
		fmt.Fprintf(w, " %s xset 0x%x/0x%x", what, mark, mask)
	}
}

// mark operations (MARK and CONNMARK share their ids).
const (
	mkXSet = iota
	mkSet
	mkAnd
	mkOr
	mkXor
	mkSave
	mkRestore
	mkLeft
	mkRight
	mkCTMask
	mkNFMask
	mkMask
)

// markOp is the (mark, mask) an operation sets.
func markOp(c *call) (mark, mask uint32) {
	switch c.entry.id {
	case mkXSet:
		return c.mark, c.mask
	case mkSet:
		return c.mark, c.mark | c.mask
	case mkAnd:
		return 0, ^c.u32
	case mkOr:
		return c.u32, c.u32
	}
	return c.u32, 0 // xor
}

func init() {
	const lgLevel, lgPrefix, lgSeq, lgOpts, lgIPOpts, lgUID, lgMAC = 0, 1, 2, 3, 4, 5, 6
	registerTarget(&ext{
		name: "LOG",
		opts: []xtOpt{{name: "log-level", id: lgLevel, typ: xtSyslogLevel},
			{name: "log-prefix", id: lgPrefix, typ: xtString, min: 1},
			{name: "log-tcp-sequence", id: lgSeq, typ: xtNone}, {name: "log-tcp-options", id: lgOpts, typ: xtNone},
			{name: "log-ip-options", id: lgIPOpts, typ: xtNone}, {name: "log-uid", id: lgUID, typ: xtNone},
			{name: "log-macdecode", id: lgMAC, typ: xtNone}},
		init: func(in *inst) { in.info.(*ipt.LogTargetInfo).Level = 4 },
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			i := c.inst.info.(*ipt.LogTargetInfo)
			switch c.entry.id {
			case lgLevel:
				i.Level = c.level
			case lgPrefix:
				if strings.Contains(c.arg, "\n") {
					return c.errf("Newlines not allowed in --log-prefix")
				}
				ipt.PutCString(i.Prefix[:], c.arg)
			case lgSeq:
				i.LogFlags |= ipt.LogTCPSeq
			case lgOpts:
				i.LogFlags |= ipt.LogTCPOpt
			case lgIPOpts:
				i.LogFlags |= ipt.LogIPOpt
			case lgUID:
				i.LogFlags |= ipt.LogUID
			case lgMAC:
				i.LogFlags |= ipt.LogMACDecode
			}
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, numeric bool) {
			i := info.(*ipt.LogTargetInfo)
			w.WriteString(" LOG")
			if numeric {
				fmt.Fprintf(w, " flags %d level %d", i.LogFlags, i.Level)
			} else {
				found := false
				for _, l := range logLevelNames {
					if l.level == i.Level {
						fmt.Fprintf(w, " level %s", l.name)
						found = true
						break
					}
				}
				if !found {
					fmt.Fprintf(w, " UNKNOWN level %d", i.Level)
				}
				for _, f := range []struct {
					bit  uint8
					name string
				}{{ipt.LogTCPSeq, " tcp-sequence"}, {ipt.LogTCPOpt, " tcp-options"}, {ipt.LogIPOpt, " ip-options"},
					{ipt.LogUID, " uid"}, {ipt.LogMACDecode, " macdecode"}} {
					if i.LogFlags&f.bit != 0 {
						w.WriteString(f.name)
					}
				}
				if i.LogFlags&^0x2f != 0 {
					w.WriteString(" unknown-flags")
				}
			}
			if p := ipt.CString(i.Prefix[:]); p != "" {
				fmt.Fprintf(w, " prefix \"%s\"", p)
			}
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			i := info.(*ipt.LogTargetInfo)
			if p := ipt.CString(i.Prefix[:]); p != "" {
				w.WriteString(" --log-prefix")
				saveString(w, p)
			}
			if i.Level != 4 {
				fmt.Fprintf(w, " --log-level %d", i.Level)
			}
			for _, f := range []struct {
				bit  uint8
				name string
			}{{ipt.LogTCPSeq, " --log-tcp-sequence"}, {ipt.LogTCPOpt, " --log-tcp-options"}, {ipt.LogIPOpt, " --log-ip-options"},
				{ipt.LogUID, " --log-uid"}, {ipt.LogMACDecode, " --log-macdecode"}} {
				if i.LogFlags&f.bit != 0 {
					w.WriteString(f.name)
				}
			}
		},
	})

	const nfGroup, nfPrefix, nfRange, nfSize, nfThreshold = 0, 1, 2, 3, 4
	nflogDump := func(w *strings.Builder, i *ipt.NFLogInfo, prefix string) {
		if p := ipt.CString(i.Prefix[:]); p != "" {
			fmt.Fprintf(w, " %snflog-prefix", prefix)
			saveString(w, p)
		}
		if i.Group != 0 {
			fmt.Fprintf(w, " %snflog-group %d", prefix, i.Group)
		}
		if i.Flags&ipt.NFLogCopyLen != 0 {
			fmt.Fprintf(w, " %snflog-size %d", prefix, i.Len)
		} else if i.Len != 0 {
			fmt.Fprintf(w, " %snflog-range %d", prefix, i.Len)
		}
		if i.Threshold != 1 {
			fmt.Fprintf(w, " %snflog-threshold %d", prefix, i.Threshold)
		}
	}
	registerTarget(&ext{
		name: "NFLOG",
		opts: []xtOpt{{name: "nflog-group", id: nfGroup, typ: xtUint16},
			{name: "nflog-prefix", id: nfPrefix, typ: xtString, min: 1},
			{name: "nflog-range", id: nfRange, typ: xtUint32, excl: 1 << nfSize},
			{name: "nflog-size", id: nfSize, typ: xtUint32, excl: 1 << nfRange},
			{name: "nflog-threshold", id: nfThreshold, typ: xtUint16}},
		init: func(in *inst) { in.info.(*ipt.NFLogInfo).Threshold = 1 },
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			i := c.inst.info.(*ipt.NFLogInfo)
			switch c.entry.id {
			case nfGroup:
				i.Group = c.u16
			case nfPrefix:
				if strings.Contains(c.arg, "\n") {
					return c.errf("Newlines not allowed in --log-prefix")
				}
				ipt.PutCString(i.Prefix[:], c.arg)
			case nfRange:
				i.Len = c.u32
			case nfSize:
				i.Len = c.u32
				i.Flags |= ipt.NFLogCopyLen
			case nfThreshold:
				i.Threshold = c.u16
			}
			return nil
		},
		final: func(in *inst) error {
			if in.flags&(1<<nfRange) != 0 {
				in.p.warn("warn: --nflog-range has never worked and is no longer supported, please use --nflog-size insted\n")
			}
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, _ bool) { nflogDump(w, info.(*ipt.NFLogInfo), "") },
		save:  func(w *strings.Builder, _ *extEnv, info any) { nflogDump(w, info.(*ipt.NFLogInfo), "--") },
	})

	const nqNum, nqBalance, nqBypass, nqFanout = 0, 1, 2, 3
	nfqueueDump := func(w *strings.Builder, i *ipt.NFQueueInfo, save bool) {
		if last := uint32(i.QueuesTotal); last > 1 {
			last += uint32(i.QueueNum) - 1
			if save {
				fmt.Fprintf(w, " --queue-balance %d:%d", i.QueueNum, last)
			} else {
				fmt.Fprintf(w, " NFQUEUE balance %d:%d", i.QueueNum, last)
			}
		} else if save {
			fmt.Fprintf(w, " --queue-num %d", i.QueueNum)
		} else {
			fmt.Fprintf(w, " NFQUEUE num %d", i.QueueNum)
		}
		pre := " "
		if save {
			pre = " --queue-"
		}
		if i.Flags&ipt.NFQueueBypass != 0 {
			w.WriteString(pre + "bypass")
		}
		if i.Flags&ipt.NFQueueCPUFanout != 0 {
			w.WriteString(pre + "cpu-fanout")
		}
	}
	registerTarget(&ext{
		name: "NFQUEUE", revision: 3,
		opts: []xtOpt{{name: "queue-num", id: nqNum, typ: xtUint16, excl: 1 << nqBalance},
			{name: "queue-balance", id: nqBalance, typ: xtUint16RC, excl: 1 << nqNum},
			{name: "queue-bypass", id: nqBypass, typ: xtNone},
			{name: "queue-cpu-fanout", id: nqFanout, typ: xtNone, also: 1 << nqBalance}},
		init: func(in *inst) { in.info.(*ipt.NFQueueInfo).QueuesTotal = 1 },
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			i := c.inst.info.(*ipt.NFQueueInfo)
			switch c.entry.id {
			case nqNum:
				i.QueueNum = c.u16
			case nqBalance:
				if c.nvals != 2 {
					return c.errf("Bad range \"%s\"", c.arg)
				}
				if c.rng[0] >= c.rng[1] {
					return c.errf("%d should be less than %d", c.rng[0], c.rng[1])
				}
				i.QueueNum, i.QueuesTotal = uint16(c.rng[0]), uint16(c.rng[1]-c.rng[0]+1)
			case nqBypass:
				i.Flags |= ipt.NFQueueBypass
			case nqFanout:
				i.Flags |= ipt.NFQueueCPUFanout
			}
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, _ bool) {
			nfqueueDump(w, info.(*ipt.NFQueueInfo), false)
		},
		save: func(w *strings.Builder, _ *extEnv, info any) { nfqueueDump(w, info.(*ipt.NFQueueInfo), true) },
	})

	registerTarget(&ext{
		name: "REJECT",
		opts: []xtOpt{{name: "reject-with", typ: xtString}},
		init: func(in *inst) { in.info.(*ipt.RejectInfo).With = ipt.RejectPortUnreachable },
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			i := c.inst.info.(*ipt.RejectInfo)
			for k, n := range rejectNames {
				if n.name != "" && (prefixFold(c.arg, n.name) || prefixFold(c.arg, n.alias)) {
					i.With = uint32(k)
					return nil
				}
			}
			if prefixFold(c.arg, "echo-reply") || prefixFold(c.arg, "echoreply") {
				c.p.warn("--reject-with echo-reply no longer supported\n")
			}
			return c.errf("unknown reject type \"%s\"", c.arg)
		},
		print: func(w *strings.Builder, _ *extEnv, info any, _ bool) {
			fmt.Fprintf(w, " reject-with %s", rejectName(info.(*ipt.RejectInfo).With))
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			fmt.Fprintf(w, " --reject-with %s", rejectName(info.(*ipt.RejectInfo).With))
		},
	})

	markAny := uint32(1<<mkXSet | 1<<mkSet | 1<<mkAnd | 1<<mkOr | 1<<mkXor)
	registerTarget(&ext{
		name: "MARK", revision: 2,
		opts: []xtOpt{{name: "set-xmark", id: mkXSet, typ: xtMarkMask32, excl: markAny},
			{name: "set-mark", id: mkSet, typ: xtMarkMask32, excl: markAny},
			{name: "and-mark", id: mkAnd, typ: xtUint32, excl: markAny},
			{name: "or-mark", id: mkOr, typ: xtUint32, excl: markAny},
			{name: "xor-mark", id: mkXor, typ: xtUint32, excl: markAny}},
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			i := c.inst.info.(*ipt.MarkTargetInfo)
			i.Mark, i.Mask = markOp(c)
			return nil
		},
		final: func(in *inst) error {
			if in.flags == 0 {
				return in.p.xtError(parameterProblem, "MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required")
			}
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, _ bool) {
			i := info.(*ipt.MarkTargetInfo)
			markDump(w, "MARK", i.Mark, i.Mask)
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			i := info.(*ipt.MarkTargetInfo)
			fmt.Fprintf(w, " --set-xmark 0x%x/0x%x", i.Mark, i.Mask)
		},
	})

	cmAny := markAny | 1<<mkSave | 1<<mkRestore
	registerTarget(&ext{
		name: "CONNMARK", revision: 2,
		opts: []xtOpt{{name: "set-xmark", id: mkXSet, typ: xtMarkMask32, excl: cmAny},
			{name: "set-mark", id: mkSet, typ: xtMarkMask32, excl: cmAny},
			{name: "and-mark", id: mkAnd, typ: xtUint32, excl: cmAny},
			{name: "or-mark", id: mkOr, typ: xtUint32, excl: cmAny},
			{name: "xor-mark", id: mkXor, typ: xtUint32, excl: cmAny},
			{name: "save-mark", id: mkSave, typ: xtNone, excl: cmAny},
			{name: "restore-mark", id: mkRestore, typ: xtNone, excl: cmAny},
			{name: "left-shift-mark", id: mkLeft, typ: xtUint8, max: 32},
			{name: "right-shift-mark", id: mkRight, typ: xtUint8, max: 32},
			{name: "ctmask", id: mkCTMask, typ: xtUint32, excl: 1 << mkMask},
			{name: "nfmask", id: mkNFMask, typ: xtUint32, excl: 1 << mkMask},
			{name: "mask", id: mkMask, typ: xtUint32, excl: 1<<mkCTMask | 1<<mkNFMask}},
		init: func(in *inst) {
			i := in.info.(*ipt.ConnmarkTargetInfo)
			i.CTMask, i.NFMask = 0xffffffff, 0xffffffff
		},
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			i := c.inst.info.(*ipt.ConnmarkTargetInfo)
			switch c.entry.id {
			case mkXSet, mkSet, mkAnd, mkOr, mkXor:
				i.Mode = ipt.ConnmarkSet
				i.CTMark, i.CTMask = markOp(c)
			case mkSave:
				i.Mode = ipt.ConnmarkSave
			case mkRestore:
				i.Mode = ipt.ConnmarkRestore
			case mkMask:
				i.NFMask, i.CTMask = c.u32, c.u32
			case mkCTMask:
				i.CTMask = c.u32
			case mkNFMask:
				i.NFMask = c.u32
			case mkLeft:
				i.ShiftDir, i.ShiftBits = ipt.ShiftLeft, c.u8
			case mkRight:
				i.ShiftDir, i.ShiftBits = ipt.ShiftRight, c.u8
			}
			return nil
		},
		final: func(in *inst) error {
			if in.flags&cmAny == 0 {
				return in.p.xtError(parameterProblem, "CONNMARK target: No operation specified")
			}
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, _ bool) {
			i := info.(*ipt.ConnmarkTargetInfo)
			switch i.Mode {
			case ipt.ConnmarkSet:
				markDump(w, "CONNMARK", i.CTMark, i.CTMask)
			case ipt.ConnmarkSave:
				switch {
				case i.NFMask == 0xffffffff && i.CTMask == 0xffffffff:
					w.WriteString(" CONNMARK save")
				case i.NFMask == i.CTMask:
					fmt.Fprintf(w, " CONNMARK save mask 0x%x", i.NFMask)
				default:
					fmt.Fprintf(w, " CONNMARK save nfmask 0x%x ctmask ~0x%x", i.NFMask, i.CTMask)
				}
			case ipt.ConnmarkRestore:
				switch {
				case i.CTMask == 0xffffffff && i.NFMask == 0xffffffff:
					w.WriteString(" CONNMARK restore")
				case i.CTMask == i.NFMask:
					fmt.Fprintf(w, " CONNMARK restore mask 0x%x", i.CTMask)
				default:
					fmt.Fprintf(w, " CONNMARK restore ctmask 0x%x nfmask ~0x%x", i.CTMask, i.NFMask)
				}
			default:
				w.WriteString(" ERROR: UNKNOWN CONNMARK MODE")
				return
			}
			if i.ShiftBits != 0 {
				op := "<<"
				if i.ShiftDir == ipt.ShiftRight {
					op = ">>"
				}
				fmt.Fprintf(w, " %s %d", op, i.ShiftBits)
			}
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			i := info.(*ipt.ConnmarkTargetInfo)
			switch i.Mode {
			case ipt.ConnmarkSet:
				fmt.Fprintf(w, " --set-xmark 0x%x/0x%x", i.CTMark, i.CTMask)
			case ipt.ConnmarkSave:
				fmt.Fprintf(w, " --save-mark --nfmask 0x%x --ctmask 0x%x", i.NFMask, i.CTMask)
			case ipt.ConnmarkRestore:
				fmt.Fprintf(w, " --restore-mark --nfmask 0x%x --ctmask 0x%x", i.NFMask, i.CTMask)
			default:
				w.WriteString(" ERROR: UNKNOWN CONNMARK MODE")
			}
			if i.ShiftBits != 0 {
				op := "left-shift-mark"
				if i.ShiftDir == ipt.ShiftRight {
					op = "right-shift-mark"
				}
				fmt.Fprintf(w, " --%s %d", op, i.ShiftBits)
			}
		},
	})

	const tlSet, tlDec, tlInc = 0, 1, 2
	tlAny := uint32(1<<tlSet | 1<<tlDec | 1<<tlInc)
	registerTarget(&ext{
		name: "TTL",
		opts: []xtOpt{{name: "ttl-set", id: tlSet, typ: xtUint8, excl: tlAny},
			{name: "ttl-dec", id: tlDec, typ: xtUint8, excl: tlAny, min: 1},
			{name: "ttl-inc", id: tlInc, typ: xtUint8, excl: tlAny, min: 1}},
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			i := c.inst.info.(*ipt.TTLTargetInfo)
			i.TTL = c.u8
			i.Mode = map[uint]uint8{tlSet: ipt.TTLSet, tlDec: ipt.TTLDec, tlInc: ipt.TTLInc}[c.entry.id]
			return nil
		},
		final: func(in *inst) error {
			if in.flags&tlAny == 0 {
				return in.p.xtError(parameterProblem, "TTL: You must specify an action")
			}
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, _ bool) {
			i := info.(*ipt.TTLTargetInfo)
			w.WriteString(" TTL ")
			w.WriteString(map[uint8]string{ipt.TTLSet: "set to ", ipt.TTLDec: "decrement by ", ipt.TTLInc: "increment by "}[i.Mode])
			fmt.Fprintf(w, "%d", i.TTL)
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			i := info.(*ipt.TTLTargetInfo)
			w.WriteString(map[uint8]string{ipt.TTLSet: " --ttl-set", ipt.TTLDec: " --ttl-dec", ipt.TTLInc: " --ttl-inc"}[i.Mode])
			fmt.Fprintf(w, " %d", i.TTL)
		},
	})

	registerTarget(&ext{
		name: "DSCP",
		opts: []xtOpt{{name: "set-dscp", id: 0, typ: xtUint8, excl: 1 << 1, max: ipt.DSCPMax},
			{name: "set-dscp-class", id: 1, typ: xtString, excl: 1 << 0}},
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			i := c.inst.info.(*ipt.DSCPTargetInfo)
			if c.entry.id == 0 {
				i.DSCP = c.u8
				return nil
			}
			v, err := c.p.classToDSCP(c.arg)
			i.DSCP = v
			return err
		},
		final: func(in *inst) error {
			if in.flags == 0 {
				return in.p.xtError(parameterProblem, "DSCP target: Parameter --set-dscp is required")
			}
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, _ bool) {
			fmt.Fprintf(w, " DSCP set 0x%02x", info.(*ipt.DSCPTargetInfo).DSCP)
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			fmt.Fprintf(w, " --set-dscp 0x%02x", info.(*ipt.DSCPTargetInfo).DSCP)
		},
	})

	registerTarget(&ext{
		name: "TCPMSS",
		opts: []xtOpt{{name: "set-mss", id: 0, typ: xtUint16, max: 0xffff - 40}, {name: "clamp-mss-to-pmtu", id: 1, typ: xtNone}},
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			i := c.inst.info.(*ipt.TCPMSSInfo)
			if c.entry.id == 1 {
				i.MSS = ipt.TCPMSSClampPMTU
			} else {
				i.MSS = c.u16
			}
			return nil
		},
		final: func(in *inst) error {
			if in.flags == 0 {
				return in.p.xtError(parameterProblem, "TCPMSS target: At least one parameter is required")
			}
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, _ bool) {
			if m := info.(*ipt.TCPMSSInfo).MSS; m == ipt.TCPMSSClampPMTU {
				w.WriteString(" TCPMSS clamp to PMTU")
			} else {
				fmt.Fprintf(w, " TCPMSS set %d", m)
			}
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			if m := info.(*ipt.TCPMSSInfo).MSS; m == ipt.TCPMSSClampPMTU {
				w.WriteString(" --clamp-mss-to-pmtu")
			} else {
				fmt.Fprintf(w, " --set-mss %d", m)
			}
		},
	})

	const ctNoTrack, ctHelper, ctTimeout, ctZone, ctZoneOrig, ctZoneReply, ctEvents, ctExpEvents = 0, 1, 2, 3, 4, 5, 6, 7
	ctPrint := func(w *strings.Builder, _ *extEnv, info any, _ bool) {
		i := info.(*ipt.CTInfo)
		if i.Flags&ipt.CTNoTrackAlias != 0 {
			w.WriteString(" NOTRACK")
			return
		}
		w.WriteString(" CT")
		ctShow(w, i, "")
	}
	ctSave := func(w *strings.Builder, _ *extEnv, info any) {
		i := info.(*ipt.CTInfo)
		if i.Flags&ipt.CTNoTrackAlias != 0 {
			return
		}
		ctShow(w, i, "--")
	}
	ctAlias := func(info any) string {
		if info.(*ipt.CTInfo).Flags&ipt.CTNoTrackAlias != 0 {
			return "NOTRACK"
		}
		return "CT"
	}
	registerTarget(&ext{
		name: "CT", revision: 2,
		opts: []xtOpt{{name: "notrack", id: ctNoTrack, typ: xtNone},
			{name: "helper", id: ctHelper, typ: xtString}, {name: "timeout", id: ctTimeout, typ: xtString},
			{name: "zone-orig", id: ctZoneOrig, typ: xtString}, {name: "zone-reply", id: ctZoneReply, typ: xtString},
			{name: "zone", id: ctZone, typ: xtString},
			{name: "ctevents", id: ctEvents, typ: xtString}, {name: "expevents", id: ctExpEvents, typ: xtString}},
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			i := c.inst.info.(*ipt.CTInfo)
			switch c.entry.id {
			case ctNoTrack:
				i.Flags |= ipt.CTNoTrack
			case ctHelper:
				ipt.PutCString(i.Helper[:], c.arg)
			case ctTimeout:
				ipt.PutCString(i.Timeout[:], c.arg)
			case ctEvents, ctExpEvents:
				tbl, mask := ctEventNames, &i.CTEvents
				if c.entry.id == ctExpEvents {
					tbl, mask = expEventNames, &i.ExpEvents
				}
				m, err := ctParseEvents(c, tbl)
				if err != nil {
					return err
				}
				*mask = m
			case ctZone, ctZoneOrig, ctZoneReply:
				i.Zone = 0
				if strings.EqualFold(c.arg, "mark") {
					i.Flags |= ipt.CTZoneMark
				} else {
					v, ok := strtoui(c.arg, 0, 0xffff)
					if !ok {
						return c.errf("Cannot parse %s as a zone ID", c.arg)
					}
					i.Zone = uint16(v)
				}
				switch c.entry.id {
				case ctZoneOrig:
					i.Flags |= ipt.CTZoneDirOrig
				case ctZoneReply:
					i.Flags |= ipt.CTZoneDirRepl
				}
			}
			return nil
		},
		alias: ctAlias,
		print: ctPrint,
		save:  ctSave,
	})
	registerTarget(&ext{
		name: "NOTRACK", real: "CT", revision: 2,
		init: func(in *inst) { in.info.(*ipt.CTInfo).Flags = ipt.CTNoTrack | ipt.CTNoTrackAlias },
	})
}

// ctEvent is one entry of libxt_CT's event tables: a name and its bit.
type ctEvent struct {
	name string
	bit  uint
}

// ctEventNames are ct_event_tbl (IPCT_*), expEventNames exp_event_tbl
// (IPEXP_*), in the order CT prints them.
var (
	ctEventNames = []ctEvent{{"new", ct.EventNew}, {"related", ct.EventRelated}, {"destroy", ct.EventDestroy},
		{"reply", ct.EventReply}, {"assured", ct.EventAssured}, {"protoinfo", ct.EventProtoinfo},
		{"helper", ct.EventHelper}, {"mark", ct.EventMark}, {"natseqinfo", ct.EventSeqAdj}, {"secmark", ct.EventSecmark}}
	expEventNames = []ctEvent{{"new", ct.ExpEventNew}}
)

// ctParseEvents is ct_parse_events: comma-separated names of tbl, each
// exactly as the table spells it.
func ctParseEvents(c *call, tbl []ctEvent) (uint32, error) {
	var mask uint32
next:
	for _, name := range strings.Split(c.arg, ",") {
		for _, e := range tbl {
			if e.name == name {
				mask |= 1 << e.bit
				continue next
			}
		}
		return 0, c.errf("Unknown event type \"%s\"", name)
	}
	return mask, nil
}

// ctShow is CT_show: the options as print (prefix "") and save ("--")
// write them, in libxt_CT's order.
func ctShow(w *strings.Builder, i *ipt.CTInfo, prefix string) {
	if i.Flags&ipt.CTNoTrack != 0 {
		fmt.Fprintf(w, " %snotrack", prefix)
	}
	if h := ipt.CString(i.Helper[:]); h != "" {
		fmt.Fprintf(w, " %shelper %s", prefix, h)
	}
	if t := ipt.CString(i.Timeout[:]); t != "" {
		fmt.Fprintf(w, " %stimeout %s", prefix, t)
	}
	ctShowEvents(w, prefix+"ctevents", ctEventNames, i.CTEvents)
	ctShowEvents(w, prefix+"expevents", expEventNames, i.ExpEvents)
	ctZoneDump(w, i, prefix)
}

// ctShowEvents is ct_print_events: the names of mask's bits in the
// table's order (nothing for an empty mask).
func ctShowEvents(w *strings.Builder, opt string, tbl []ctEvent, mask uint32) {
	if mask == 0 {
		return
	}
	fmt.Fprintf(w, " %s ", opt)
	sep := ""
	for _, e := range tbl {
		if mask&(1<<e.bit) != 0 {
			w.WriteString(sep + e.name)
			sep = ","
		}
	}
}

// ctZoneDump is the zone part of CT's print and save.
func ctZoneDump(w *strings.Builder, i *ipt.CTInfo, prefix string) {
	if i.Zone == 0 && i.Flags&ipt.CTZoneMark == 0 {
		return
	}
	name := "zone"
	switch {
	case i.Flags&(ipt.CTZoneDirOrig|ipt.CTZoneDirRepl) == ipt.CTZoneDirOrig:
		name = "zone-orig"
	case i.Flags&(ipt.CTZoneDirOrig|ipt.CTZoneDirRepl) == ipt.CTZoneDirRepl:
		name = "zone-reply"
	}
	if i.Flags&ipt.CTZoneMark != 0 {
		fmt.Fprintf(w, " %s%s mark", prefix, name)
		return
	}
	fmt.Fprintf(w, " %s%s %d", prefix, name, i.Zone)
}
