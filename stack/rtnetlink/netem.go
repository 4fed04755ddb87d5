package rtnetlink

import (
	"encoding/binary"
	"syscall"

	"vnic/stack"
)

// netem's TCA_OPTIONS (linux/pkt_sched.h): struct tc_netem_qopt, then
// TCA_NETEM_* attributes. Times in tc_netem_qopt are psched ticks of 64 ns
// (PSCHED_SHIFT 6); the 64-bit attributes are nanoseconds.

// TCA_NETEM_* attributes.
const (
	tcaNetemCorr      = 1
	tcaNetemDelayDist = 2
	tcaNetemReorder   = 3
	tcaNetemCorrupt   = 4
	tcaNetemLoss      = 5
	tcaNetemRate      = 6
	tcaNetemECN       = 7
	tcaNetemRate64    = 8
	tcaNetemLatency64 = 10
	tcaNetemJitter64  = 11
	tcaNetemSlot      = 12
	tcaNetemSlotDist  = 13
	tcaNetemPRNGSeed  = 14

	netemLossGI = 1
	netemLossGE = 2
)

// PschedShift is PSCHED_SHIFT: a psched tick is 1<<6 ns.
const PschedShift = 6

// netemQoptLen is sizeof(struct tc_netem_qopt); netemSlotLen of
// struct tc_netem_slot.
const (
	netemQoptLen = 24
	netemSlotLen = 40
)

// NetemQopt is struct tc_netem_qopt: latency and jitter in psched ticks,
// probabilities scaled to 2^32-1.
type NetemQopt struct {
	Latency, Limit, Loss, Gap, Duplicate, Jitter uint32
}

// NetemCorr is struct tc_netem_corr.
type NetemCorr struct{ Delay, Loss, Dup uint32 }

// NetemProb is struct tc_netem_reorder and struct tc_netem_corrupt.
type NetemProb struct{ Probability, Correlation uint32 }

// NetemRate is struct tc_netem_rate (Rate in bytes per second; ~0 when
// TCA_NETEM_RATE64 carries it).
type NetemRate struct {
	Rate           uint32
	PacketOverhead int32
	CellSize       uint32
	CellOverhead   int32
}

// NetemLoss is TCA_NETEM_LOSS: one of the models (nil: neither).
type NetemLoss struct {
	GI *stack.NetemGI
	GE *stack.NetemGE
}

// NetemOptions is a netem's TCA_OPTIONS: the qopt and the attributes the
// message carries (nil: absent).
type NetemOptions struct {
	Qopt      NetemQopt
	Corr      *NetemCorr
	Reorder   *NetemProb
	Corrupt   *NetemProb
	Loss      *NetemLoss
	Rate      *NetemRate
	Rate64    *uint64
	ECN       *uint32
	Latency64 *int64
	Jitter64  *int64
	Slot      *stack.NetemSlot
	DelayDist []int16
	SlotDist  []int16
	Seed      *uint64
}

// MarshalRequest encodes the options in the order tc 6.1 sends them.
func (o *NetemOptions) MarshalRequest() []byte {
	b := o.Qopt.append(nil)
	if o.Corr != nil {
		b = tcU32s(b, tcaNetemCorr, o.Corr.Delay, o.Corr.Loss, o.Corr.Dup)
	}
	if o.Reorder != nil {
		b = tcU32s(b, tcaNetemReorder, o.Reorder.Probability, o.Reorder.Correlation)
	}
	if o.ECN != nil {
		b = tcU32(b, tcaNetemECN, *o.ECN)
	}
	if o.Corrupt != nil {
		b = tcU32s(b, tcaNetemCorrupt, o.Corrupt.Probability, o.Corrupt.Correlation)
	}
	if o.Slot != nil {
		b = appendAttr(b, tcaNetemSlot, slotBytes(o.Slot))
	}
	if o.Loss != nil {
		b = o.Loss.append(b, nlaFNested)
	}
	if o.Rate64 != nil {
		b = tcU64(b, tcaNetemRate64, *o.Rate64)
	}
	if o.Rate != nil {
		b = o.Rate.append(b)
	}
	if o.Seed != nil {
		b = tcU64(b, tcaNetemPRNGSeed, *o.Seed)
	}
	if o.DelayDist != nil {
		b = appendAttr(b, tcaNetemDelayDist, s16Bytes(o.DelayDist))
	}
	if o.SlotDist != nil {
		b = appendAttr(b, tcaNetemSlotDist, s16Bytes(o.SlotDist))
	}
	return b
}

// MarshalDump encodes the options in the order netem_dump puts them.
func (o *NetemOptions) MarshalDump() []byte {
	b := o.Qopt.append(nil)
	if o.Latency64 != nil {
		b = tcU64(b, tcaNetemLatency64, uint64(*o.Latency64))
	}
	if o.Jitter64 != nil {
		b = tcU64(b, tcaNetemJitter64, uint64(*o.Jitter64))
	}
	if o.Corr != nil {
		b = tcU32s(b, tcaNetemCorr, o.Corr.Delay, o.Corr.Loss, o.Corr.Dup)
	}
	if o.Reorder != nil {
		b = tcU32s(b, tcaNetemReorder, o.Reorder.Probability, o.Reorder.Correlation)
	}
	if o.Corrupt != nil {
		b = tcU32s(b, tcaNetemCorrupt, o.Corrupt.Probability, o.Corrupt.Correlation)
	}
	if o.Rate64 != nil {
		b = tcU64(b, tcaNetemRate64, *o.Rate64)
	}
	if o.Rate != nil {
		b = o.Rate.append(b)
	}
	if o.ECN != nil {
		b = tcU32(b, tcaNetemECN, *o.ECN)
	}
	if o.Loss != nil {
		b = o.Loss.append(b, 0)
	}
	if o.Slot != nil {
		b = appendAttr(b, tcaNetemSlot, slotBytes(o.Slot))
	}
	if o.Seed != nil {
		b = tcU64(b, tcaNetemPRNGSeed, *o.Seed)
	}
	return b
}

func (q NetemQopt) append(b []byte) []byte {
	for _, v := range []uint32{q.Latency, q.Limit, q.Loss, q.Gap, q.Duplicate, q.Jitter} {
		b = binary.NativeEndian.AppendUint32(b, v)
	}
	return b
}

func (r *NetemRate) append(b []byte) []byte {
	return tcU32s(b, tcaNetemRate, r.Rate, uint32(r.PacketOverhead), r.CellSize, uint32(r.CellOverhead))
}

func (l *NetemLoss) append(b []byte, flag uint16) []byte {
	start := len(b)
	b = appendAttr(b, tcaNetemLoss|flag, nil)
	if g := l.GI; g != nil {
		b = tcU32s(b, netemLossGI, g.P13, g.P31, g.P32, g.P14, g.P23)
	}
	if g := l.GE; g != nil {
		b = tcU32s(b, netemLossGE, g.P, g.R, g.H, g.K1)
	}
	binary.NativeEndian.PutUint16(b[start:], uint16(len(b)-start))
	return b
}

func tcU32s(b []byte, typ uint16, vs ...uint32) []byte {
	v := make([]byte, 0, 4*len(vs))
	for _, x := range vs {
		v = binary.NativeEndian.AppendUint32(v, x)
	}
	return appendAttr(b, typ, v)
}

func slotBytes(s *stack.NetemSlot) []byte {
	v := make([]byte, netemSlotLen)
	binary.NativeEndian.PutUint64(v, uint64(s.MinDelay))
	binary.NativeEndian.PutUint64(v[8:], uint64(s.MaxDelay))
	binary.NativeEndian.PutUint32(v[16:], uint32(s.MaxPackets))
	binary.NativeEndian.PutUint32(v[20:], uint32(s.MaxBytes))
	binary.NativeEndian.PutUint64(v[24:], uint64(s.DistDelay))
	binary.NativeEndian.PutUint64(v[32:], uint64(s.DistJitter))
	return v
}

func s16Bytes(d []int16) []byte {
	v := make([]byte, 0, 2*len(d))
	for _, x := range d {
		v = binary.NativeEndian.AppendUint16(v, uint16(x))
	}
	return v
}

// ParseNetemOptions decodes a netem's TCA_OPTIONS as netem_change's
// parse_attr and netem_policy read them: the qopt, then the attributes,
// each at least its struct's length (EINVAL otherwise), a loss model at
// least its model's, the distribution tables at most NETEM_DIST_MAX
// entries and not empty. Unknown attributes are skipped.
func ParseNetemOptions(b []byte) (NetemOptions, error) {
	var o NetemOptions
	if len(b) < netemQoptLen {
		return o, syscall.EINVAL
	}
	u := func(v []byte, i int) uint32 { return binary.NativeEndian.Uint32(v[4*i:]) }
	o.Qopt = NetemQopt{u(b, 0), u(b, 1), u(b, 2), u(b, 3), u(b, 4), u(b, 5)}
	var err error
	fail := func() { err = syscall.EINVAL }
	walkAttrs(b[netemQoptLen:], func(typ uint16, v []byte) {
		if err != nil {
			return
		}
		need := map[uint16]int{tcaNetemCorr: 12, tcaNetemReorder: 8, tcaNetemCorrupt: 8, tcaNetemRate: 16,
			tcaNetemECN: 4, tcaNetemRate64: 8, tcaNetemLatency64: 8, tcaNetemJitter64: 8, tcaNetemSlot: netemSlotLen,
			tcaNetemPRNGSeed: 8}[typ]
		if len(v) < need {
			fail()
			return
		}
		switch typ {
		case tcaNetemCorr:
			o.Corr = &NetemCorr{u(v, 0), u(v, 1), u(v, 2)}
		case tcaNetemReorder:
			o.Reorder = &NetemProb{u(v, 0), u(v, 1)}
		case tcaNetemCorrupt:
			o.Corrupt = &NetemProb{u(v, 0), u(v, 1)}
		case tcaNetemRate:
			o.Rate = &NetemRate{u(v, 0), int32(u(v, 1)), u(v, 2), int32(u(v, 3))}
		case tcaNetemECN:
			x := u(v, 0)
			o.ECN = &x
		case tcaNetemRate64:
			x := binary.NativeEndian.Uint64(v)
			o.Rate64 = &x
		case tcaNetemLatency64:
			x := int64(binary.NativeEndian.Uint64(v))
			o.Latency64 = &x
		case tcaNetemJitter64:
			x := int64(binary.NativeEndian.Uint64(v))
			o.Jitter64 = &x
		case tcaNetemPRNGSeed:
			x := binary.NativeEndian.Uint64(v)
			o.Seed = &x
		case tcaNetemSlot:
			i64 := func(i int) int64 { return int64(binary.NativeEndian.Uint64(v[i:])) }
			o.Slot = &stack.NetemSlot{MinDelay: i64(0), MaxDelay: i64(8), MaxPackets: int32(u(v, 4)), MaxBytes: int32(u(v, 5)),
				DistDelay: i64(24), DistJitter: i64(32)}
		case tcaNetemDelayDist, tcaNetemSlotDist:
			n := len(v) / 2
			if n == 0 || n > 16384 {
				fail()
				return
			}
			d := make([]int16, n)
			for i := range d {
				d[i] = int16(binary.NativeEndian.Uint16(v[2*i:]))
			}
			if typ == tcaNetemDelayDist {
				o.DelayDist = d
			} else {
				o.SlotDist = d
			}
		case tcaNetemLoss:
			if len(v) > 0 && len(v) < 4 {
				fail()
				return
			}
			o.Loss = &NetemLoss{}
			walkAttrs(v, func(lt uint16, lv []byte) {
				switch {
				case err != nil:
				case lt == netemLossGI && len(lv) >= 20:
					o.Loss.GI = &stack.NetemGI{P13: u(lv, 0), P31: u(lv, 1), P32: u(lv, 2), P14: u(lv, 3), P23: u(lv, 4)}
					o.Loss.GE = nil
				case lt == netemLossGE && len(lv) >= 16:
					o.Loss.GE = &stack.NetemGE{P: u(lv, 0), R: u(lv, 1), H: u(lv, 2), K1: u(lv, 3)}
					o.Loss.GI = nil
				default:
					fail() // "netem: incorrect ... model size", "unknown loss type"
				}
			})
		}
	})
	return o, err
}
