package ethtool

import (
	"errors"
	"syscall"
	"testing"
)

// bareOps is a driver with none of the optional interfaces.
type bareOps struct{ Ops }

// clsOps has an ntuple table and its own timestamping.
type clsOps struct {
	bareOps
	got []RxClsRule
}

func (o *clsOps) GetRxRings() (uint32, error) { return 4, nil }
func (o *clsOps) GetRxClsRules() (RxClsRules, error) {
	return RxClsRules{TableSize: 8, Rules: o.got}, nil
}
func (o *clsOps) DeleteRxClsRule(loc uint32) error { return nil }
func (o *clsOps) GetTSInfo() TSInfo                { return TSInfo{Capabilities: TSRxHardware, PHCIndex: 2} }
func (o *clsOps) InsertRxClsRule(r RxClsRule) (uint32, error) {
	o.got = append(o.got, r)
	return r.Location, nil
}

// Without RxClsOps every ntuple operation is EOPNOTSUPP, every ExtOp is
// EOPNOTSUPP, and timestamping is the kernel's software default.
func TestLocalWithoutOptionalOps(t *testing.T) {
	d := NewLocal("d", bareOps{}, nil, nil)
	_, e1 := d.RxRings()
	_, e2 := d.RxClsRules()
	_, e3 := d.InsertRxClsRule(RxClsRule{})
	e4 := d.DeleteRxClsRule(0)
	for i, err := range []error{e1, e2, e3, e4} {
		if !errors.Is(err, syscall.EOPNOTSUPP) || !errors.Is(err, ErrNotSupported) {
			t.Errorf("ntuple op %d: %v, want EOPNOTSUPP", i, err)
		}
	}
	for op := ExtOp(1); op < NumExtOps; op++ {
		if err := d.Ext(op); !errors.Is(err, syscall.EOPNOTSUPP) {
			t.Errorf("%v: %v, want EOPNOTSUPP", op, err)
		}
	}
	if ts, err := d.TSInfo(); err != nil || ts != SoftwareTSInfo {
		t.Errorf("tsinfo %+v %v, want the software capabilities", ts, err)
	}
}

// The core refuses, before the driver sees them, rules for an RX ring
// the device does not have and rules that select an RSS context.
func TestLocalRxClsChecks(t *testing.T) {
	ops := &clsOps{}
	d := NewLocal("d", ops, nil, nil)
	for _, r := range []RxClsRule{
		{FlowType: TCPv4Flow, RingCookie: 4},
		{FlowType: TCPv4Flow, RingCookie: 1 << 32},
		{FlowType: TCPv4Flow | FlowRSS, RingCookie: 0},
	} {
		if _, err := d.InsertRxClsRule(r); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("%+v: %v, want EINVAL", r, err)
		}
	}
	if len(ops.got) != 0 {
		t.Fatalf("the driver saw %d refused rules", len(ops.got))
	}
	for _, r := range []RxClsRule{
		{FlowType: UDPv4Flow, RingCookie: 3, Location: 1},
		{FlowType: EtherFlow, RingCookie: RxClsFlowDisc, Location: 2},
		{FlowType: EtherFlow, RingCookie: RxClsFlowWake, Location: 3},
	} {
		if loc, err := d.InsertRxClsRule(r); err != nil || loc != r.Location {
			t.Errorf("%+v: %d %v", r, loc, err)
		}
	}
	if len(ops.got) != 3 {
		t.Errorf("the driver got %d rules, want 3", len(ops.got))
	}
	if ts, _ := d.TSInfo(); ts.PHCIndex != 2 || ts.Capabilities != TSRxHardware {
		t.Errorf("tsinfo %+v, want the driver's", ts)
	}
}
