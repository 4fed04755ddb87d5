package iptables

import (
	"fmt"
	"strings"

	ipt "vnic/stack/netfilter/iptables"
)

// setCounterOp is the word of a counter test.
func setCounterOp(op uint8) string {
	switch op {
	case ipt.SetCounterLt:
		return "lt"
	case ipt.SetCounterGt:
		return "gt"
	}
	return "eq"
}

func setDump(w *strings.Builder, env *extEnv, i *ipt.SetMatchInfo, prefix string) {
	name := fmt.Sprintf("%d", i.Index)
	if env != nil && env.setName != nil {
		if n, ok := env.setName(i.Index); ok {
			name = n
		}
	}
	fmt.Fprintf(w, "%s %smatch-set %s", sbang(i.Flags&ipt.SetInvMatch != 0), prefix, name)
	for d := 1; d <= int(i.Dim); d++ {
		sep := ","
		if d == 1 {
			sep = " "
		}
		dir := "dst"
		if i.Flags&ipt.SetDimSrc(d) != 0 {
			dir = "src"
		}
		w.WriteString(sep + dir)
	}
	if i.CmdFlags&ipt.SetReturnNomatch != 0 {
		fmt.Fprintf(w, " %sreturn-nomatch", prefix)
	}
	if i.CmdFlags&ipt.SetSkipCounterUpdate != 0 {
		fmt.Fprintf(w, " ! %supdate-counters", prefix)
	}
	if i.CmdFlags&ipt.SetSkipSubcounterUpdate != 0 {
		fmt.Fprintf(w, " ! %supdate-subcounters", prefix)
	}
	for _, c := range []struct {
		name string
		m    ipt.SetCounterMatch
	}{{"packets", i.Packets}, {"bytes", i.Bytes}} {
		if c.m.Op == ipt.SetCounterNone {
			continue
		}
		neg := ""
		if c.m.Op == ipt.SetCounterNe {
			neg = "! "
		}
		fmt.Fprintf(w, " %s%s%s-%s %d", neg, prefix, c.name, setCounterOp(c.m.Op), c.m.Value)
	}
}

func init() {
	registerMatch(&ext{
		name: "set", revision: 4,
		longs: []longOpt{{"match-set", 1, '1'}, {"set", 1, '2'}, {"return-nomatch", 0, '3'}, {"update-counters", 0, '4'},
			{"packets-eq", 1, '5'}, {"packets-lt", 1, '6'}, {"packets-gt", 1, '7'}, {"bytes-eq", 1, '8'},
			{"bytes-lt", 1, '9'}, {"bytes-gt", 1, '0'}, {"update-subcounters", 0, 'a'}},
		oldParse: func(c *call, id int) error {
			i := c.inst.info.(*ipt.SetMatchInfo)
			counter := func(m *ipt.SetCounterMatch, op uint8, opt string) error {
				if c.invert && op != ipt.SetCounterEq {
					return c.errf("--%s option cannot be inverted", opt)
				}
				if c.invert {
					op = ipt.SetCounterNe
				}
				v, ok := atoiU64(c.arg)
				if !ok {
					return c.errf("Cannot parse %s as a counter value", c.arg)
				}
				m.Op, m.Value = op, v
				i.CmdFlags |= ipt.SetMatchCounters
				return nil
			}
			switch id {
			case '3':
				if c.invert {
					return c.errf("--return-nomatch flag cannot be inverted")
				}
				i.CmdFlags |= ipt.SetReturnNomatch
			case '4':
				if c.invert { // counters are updated unless "!"
					i.CmdFlags |= ipt.SetSkipCounterUpdate
				}
			case 'a':
				if c.invert {
					i.CmdFlags |= ipt.SetSkipSubcounterUpdate
				}
			case '5':
				return counter(&i.Packets, ipt.SetCounterEq, "packets-eq")
			case '6':
				return counter(&i.Packets, ipt.SetCounterLt, "packets-lt")
			case '7':
				return counter(&i.Packets, ipt.SetCounterGt, "packets-gt")
			case '8':
				return counter(&i.Bytes, ipt.SetCounterEq, "bytes-eq")
			case '9':
				return counter(&i.Bytes, ipt.SetCounterLt, "bytes-lt")
			case '0':
				return counter(&i.Bytes, ipt.SetCounterGt, "bytes-gt")
			case '1', '2':
				if id == '2' {
					c.p.warn("--set option deprecated, please use --match-set\n")
				}
				if c.inst.flags != 0 {
					return c.errf("--match-set can be specified only once")
				}
				if c.invert {
					i.Flags |= ipt.SetInvMatch
				}
				g := c.g
				if g.optind >= len(g.args) || strings.HasPrefix(g.args[g.optind], "-") || strings.HasPrefix(g.args[g.optind], "!") {
					return c.errf("--match-set requires two args.")
				}
				if len(c.arg) > 31 {
					return c.errf("setname `%s' too long, max %d characters.", c.arg, 31)
				}
				idx, ok := uint16(0), false
				if c.p.setIndex != nil {
					idx, ok = c.p.setIndex(c.arg)
				}
				if !ok {
					return c.errf("Set %s doesn't exist.\n", c.arg)
				}
				i.Index = idx
				dirs := strings.Split(g.args[g.optind], ",")
				g.optind++
				if len(dirs) > ipt.SetDimMax {
					return c.errf("Can't be more src/dst options than %d.", ipt.SetDimMax)
				}
				for k, d := range dirs {
					switch d {
					case "src":
						i.Flags |= ipt.SetDimSrc(k + 1)
					case "dst":
					default:
						return c.errf("You must spefify (the comma separated list of) 'src' or 'dst'.")
					}
				}
				i.Dim = uint8(len(dirs))
				c.inst.flags = 1
			}
			return nil
		},
		final: func(in *inst) error {
			if in.flags == 0 {
				return in.p.xtError(parameterProblem, "You must specify `--match-set' with proper arguments")
			}
			return nil
		},
		print: func(w *strings.Builder, env *extEnv, info any, _ bool) {
			setDump(w, env, info.(*ipt.SetMatchInfo), "")
		},
		save: func(w *strings.Builder, env *extEnv, info any) {
			setDump(w, env, info.(*ipt.SetMatchInfo), "--")
		},
	})
}
