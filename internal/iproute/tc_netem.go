package iproute

import (
	"fmt"
	"math"
	"strings"

	"vnic/stack"
	"vnic/stack/rtnetlink"
)

// netem's grammar and printer, as tc 6.1's q_netem.c has them.

const netemUsage = `Usage: ... netem [ limit PACKETS ]
                 [ delay TIME [ JITTER [CORRELATION]]]
                 [ distribution {uniform|normal|pareto|paretonormal} ]
                 [ corrupt PERCENT [CORRELATION]]
                 [ duplicate PERCENT [CORRELATION]]
                 [ loss random PERCENT [CORRELATION]]
                 [ loss state P13 [P31 [P32 [P23 P14]]]
                 [ loss gemodel PERCENT [R [1-H [1-K]]]
                 [ ecn ]
                 [ reorder PERCENT [CORRELATION] [ gap DISTANCE ]]
                 [ rate RATE [PACKETOVERHEAD] [CELLSIZE] [CELLOVERHEAD]]
                 [ slot MIN_DELAY [MAX_DELAY] [packets MAX_PACKETS] [bytes MAX_BYTES]]
                 [ slot distribution {uniform|normal|pareto|paretonormal|custom}
                   DELAY JITTER [packets MAX_PACKETS] [bytes MAX_BYTES]]`

// netemErr is a refusal of the netem grammar: tc prints it and exits 1.
func netemErr(format string, a ...any) error {
	return &Error{Msg: fmt.Sprintf(format, a...), Code: exitFail, Bare: true}
}

// illegal is explain1: `Illegal "what"`.
func illegal(what string) error { return netemErr("Illegal \"%s\"", what) }

// netemExplain is a refusal followed by netem's usage.
func netemExplain(format string, a ...any) error {
	return netemErr("%s\n%s", fmt.Sprintf(format, a...), netemUsage)
}

// getTicks is get_ticks: a time in psched ticks, at most 2^32-1 of them.
func getTicks(arg string) (uint32, error) {
	t, ok := getTime(arg)
	if !ok {
		return 0, errFail
	}
	if timeTooBig(t) {
		return 0, netemErr("Illegal %d time (too large)", t)
	}
	return timeToTick(t), nil
}

var errFail = &Error{Code: exitFail, Bare: true}

// parseNetem is netem_parse_opt: args after "netem", to its TCA_OPTIONS.
func parseNetem(args []string) (*rtnetlink.NetemOptions, error) {
	o := &rtnetlink.NetemOptions{Qopt: rtnetlink.NetemQopt{Limit: 1000}}
	var cor rtnetlink.NetemCorr
	var reorder, corrupt rtnetlink.NetemProb
	var gi stack.NetemGI
	var ge stack.NetemGE
	var rate rtnetlink.NetemRate
	var slot stack.NetemSlot
	var rate64 uint64
	lossModel := 0 // NETEM_LOSS_UNSPEC, _GI (1), _GE (2)
	corrs, hasReorder, hasCorrupt, hasRate, hasSlot, ecn, distGiven := 0, false, false, false, false, false, false
	var dist, slotDist []int16
	q := &o.Qopt
	i := 0
	next := func() (string, error) { return nextArg(args, &i) }
	nextIsNumber := func() bool { return i+1 < len(args) && args[i+1] != "" && isDigit(args[i+1][0]) }
	nextIsSigned := func() bool {
		return i+1 < len(args) && args[i+1] != "" && (isDigit(args[i+1][0]) || args[i+1][0] == '-')
	}
	// percent reads an optional PERCENT after the current word.
	percent := func(dst *uint32, what string, count bool) error {
		if !nextIsNumber() {
			return nil
		}
		i++
		if count {
			corrs++
		}
		v, ok := getPercent(args[i])
		if !ok {
			return illegal(what)
		}
		*dst = v
		return nil
	}
	for ; i < len(args); i++ {
		a := args[i]
		switch {
		case matches(a, "limit"):
			v, err := next()
			if err != nil {
				return nil, err
			}
			n, ok := getSize(v)
			if !ok {
				return nil, illegal("limit")
			}
			q.Limit = n
		case matches(a, "latency"), matches(a, "delay"):
			v, err := next()
			if err != nil {
				return nil, err
			}
			t, err := getTicks(v)
			if err != nil {
				return nil, joinErr(err, illegal("latency"))
			}
			q.Latency = t
			if nextIsNumber() {
				i++
				if q.Jitter, err = getTicks(args[i]); err != nil {
					return nil, joinErr(err, illegal("latency"))
				}
				if err := percent(&cor.Delay, "latency", true); err != nil {
					return nil, err
				}
			}
		case matches(a, "loss"), matches(a, "drop"):
			if q.Loss > 0 || lossModel != 0 {
				return nil, illegal("duplicate loss argument\n")
			}
			v, err := next()
			if err != nil {
				return nil, err
			}
			if v != "" && isDigit(v[0]) || v == "random" {
				if v == "random" {
					if v, err = next(); err != nil {
						return nil, err
					}
				}
				n, ok := getPercent(v)
				if !ok {
					return nil, illegal("loss percent")
				}
				q.Loss = n
				if err := percent(&cor.Loss, "loss correlation", true); err != nil {
					return nil, err
				}
				continue
			}
			switch v {
			case "state":
				if v, err = next(); err != nil {
					return nil, err
				}
				p13, r := parsePercent(v)
				if r != 0 {
					return nil, illegal("loss p13")
				}
				gi = stack.NetemGI{P13: percentScaled(p13), P31: percentScaled(1 - p13), P23: math.MaxUint32}
				lossModel = 1
				for _, f := range []struct {
					dst  *uint32
					what string
				}{{&gi.P31, "loss p31"}, {&gi.P32, "loss p32"}, {&gi.P23, "loss p23"}, {&gi.P14, "loss p14"}} {
					if !nextIsNumber() {
						break
					}
					if err := percent(f.dst, f.what, false); err != nil {
						return nil, err
					}
				}
			case "gemodel":
				if v, err = next(); err != nil {
					return nil, err
				}
				p, r := parsePercent(v)
				if r != 0 {
					return nil, illegal("loss gemodel p")
				}
				ge = stack.NetemGE{P: percentScaled(p), R: percentScaled(1 - p)}
				lossModel = 2
				if !nextIsNumber() {
					continue
				}
				if err := percent(&ge.R, "loss gemodel r", false); err != nil {
					return nil, err
				}
				if !nextIsNumber() {
					continue
				}
				if err := percent(&ge.H, "loss gemodel h", false); err != nil {
					return nil, err
				}
				ge.H = math.MaxUint32 - ge.H // the option is 1-h, the kernel wants h
				if err := percent(&ge.K1, "loss gemodel k", false); err != nil {
					return nil, err
				}
			default:
				return nil, netemErr("Unknown loss parameter: %s", v)
			}
		case matches(a, "ecn"):
			ecn = true
		case matches(a, "reorder"):
			v, err := next()
			if err != nil {
				return nil, err
			}
			hasReorder = true
			n, ok := getPercent(v)
			if !ok {
				return nil, illegal("reorder")
			}
			reorder.Probability = n
			if err := percent(&reorder.Correlation, "reorder", true); err != nil {
				return nil, err
			}
		case matches(a, "corrupt"):
			v, err := next()
			if err != nil {
				return nil, err
			}
			hasCorrupt = true
			n, ok := getPercent(v)
			if !ok {
				return nil, illegal("corrupt")
			}
			corrupt.Probability = n
			if err := percent(&corrupt.Correlation, "corrupt", true); err != nil {
				return nil, err
			}
		case matches(a, "gap"):
			v, err := next()
			if err != nil {
				return nil, err
			}
			n, ok := getU32(v, 0)
			if !ok {
				return nil, illegal("gap")
			}
			q.Gap = n
		case matches(a, "duplicate"):
			v, err := next()
			if err != nil {
				return nil, err
			}
			n, ok := getPercent(v)
			if !ok {
				return nil, illegal("duplicate")
			}
			q.Duplicate = n
			// tc 6.1 reads the correlation but does not count it: it is
			// sent only with another correlation.
			if err := percent(&cor.Dup, "duplicate", false); err != nil {
				return nil, err
			}
		case matches(a, "distribution"):
			v, err := next()
			if err != nil {
				return nil, err
			}
			if dist, err = distribution(v); err != nil {
				return nil, err
			}
			distGiven = true
		case matches(a, "rate"):
			hasRate = true
			v, err := next()
			if err != nil {
				return nil, err
			}
			if strings.Contains(v, "%") {
				return nil, netemErr("vnic: a rate in percent of the device's speed is not supported\nIllegal \"rate\"")
			}
			r, ok := getRate64(v)
			if !ok {
				return nil, illegal("rate")
			}
			rate64 = r
			if nextIsSigned() {
				i++
				if rate.PacketOverhead, ok = getS32(args[i], 0); !ok {
					return nil, illegal("rate")
				}
			}
			if nextIsNumber() {
				i++
				if rate.CellSize, ok = getU32(args[i], 0); !ok {
					return nil, illegal("rate")
				}
			}
			if nextIsSigned() {
				i++
				if rate.CellOverhead, ok = getS32(args[i], 0); !ok {
					return nil, illegal("rate")
				}
			}
		case matches(a, "slot"):
			if err := parseSlot(args, &i, &slot, &slotDist, &hasSlot); err != nil {
				return nil, err
			}
		default:
			if a != "help" {
				return nil, netemExplain("What is \"%s\"?", a)
			}
			return nil, netemErr("%s", netemUsage)
		}
	}
	if reorder.Probability != 0 {
		if q.Latency == 0 {
			return nil, netemExplain("reordering not possible without specifying some delay")
		}
		if q.Gap == 0 {
			q.Gap = 1
		}
	} else if q.Gap > 0 {
		return nil, netemExplain("gap specified without reorder probability")
	}
	if ecn && q.Loss == 0 && lossModel == 0 {
		return nil, netemExplain("ecn requested without loss model")
	}
	if distGiven && (q.Latency == 0 || q.Jitter == 0) {
		return nil, netemExplain("distribution specified but no latency and jitter values")
	}
	if corrs > 0 {
		o.Corr = &cor
	}
	if hasReorder {
		o.Reorder = &reorder
	}
	if ecn {
		one := uint32(1)
		o.ECN = &one
	}
	if hasCorrupt {
		o.Corrupt = &corrupt
	}
	if hasSlot {
		o.Slot = &slot
	}
	switch lossModel {
	case 1:
		o.Loss = &rtnetlink.NetemLoss{GI: &gi}
	case 2:
		o.Loss = &rtnetlink.NetemLoss{GE: &ge}
	}
	if hasRate {
		if rate64 >= 1<<32 {
			o.Rate64 = &rate64
			rate.Rate = math.MaxUint32
		} else {
			rate.Rate = uint32(rate64)
		}
		o.Rate = &rate
	}
	o.DelayDist = dist
	o.SlotDist = slotDist
	return o, nil
}

// parseSlot reads "slot MIN [MAX]" or "slot distribution NAME DELAY
// JITTER", then "packets N" and "bytes SIZE".
func parseSlot(args []string, i *int, slot *stack.NetemSlot, dist *[]int16, has *bool) error {
	nextIsNumber := func() bool { return *i+1 < len(args) && args[*i+1] != "" && isDigit(args[*i+1][0]) }
	if nextIsNumber() {
		*i++
		*has = true
		v, ok := getTime64(args[*i])
		if !ok {
			return illegal("slot min_delay")
		}
		slot.MinDelay, slot.MaxDelay = v, v
		if nextIsNumber() {
			*i++
			if v, ok = getTime64(args[*i]); !ok || v < slot.MinDelay {
				return illegal("slot max_delay")
			}
			slot.MaxDelay = v
		}
	} else {
		v, err := nextArg(args, i)
		if err != nil {
			return err
		}
		if v != "distribution" {
			return netemErr("Unknown slot parameter: %s", v)
		}
		*has = true
		if v, err = nextArg(args, i); err != nil {
			return err
		}
		if *dist, err = distribution(v); err != nil {
			return err
		}
		if v, err = nextArg(args, i); err != nil {
			return err
		}
		d, ok := getTime64(v)
		if !ok {
			return illegal("slot delay")
		}
		slot.DistDelay = d
		if v, err = nextArg(args, i); err != nil {
			return err
		}
		if d, ok = getTime64(v); !ok {
			return illegal("slot jitter")
		}
		slot.DistJitter = d
		if d <= 0 {
			return netemErr("Non-positive jitter")
		}
	}
	if *i+1 < len(args) && matches(args[*i+1], "packets") {
		*i++
		n, ok := int32(0), false
		if *i+1 < len(args) {
			n, ok = getS32(args[*i+1], 0)
		}
		if !ok {
			return illegal("slot packets")
		}
		slot.MaxPackets = n
		*i++
	}
	if *i+1 < len(args) && matches(args[*i+1], "bytes") {
		*i++
		n, ok := uint32(0), false
		if *i+1 < len(args) {
			n, ok = getSize(args[*i+1])
		}
		if !ok {
			return illegal("slot bytes")
		}
		slot.MaxBytes = int32(n)
		*i++
	}
	return nil
}

// joinErr puts two of tc's lines together (the first one's reason, the
// second one's refusal).
func joinErr(first, second error) error {
	f, ok := first.(*Error)
	if !ok || f.Msg == "" {
		return second
	}
	s := second.(*Error)
	return &Error{Msg: f.Msg + "\n" + s.Msg, Code: s.Code, Bare: true}
}

// printNetem is netem_print_opt.
