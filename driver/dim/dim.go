// Package dim is dynamic interrupt moderation as Linux's lib/dim (net_dim)
// does it: the driver hands in cumulative counters at every NAPI
// completion; every 64 interrupts the library compares the window's
// bytes, packets and interrupts per millisecond with the previous window's
// and walks an index over five moderation profiles toward what improved
// (bandwidth first, then packet rate, then fewer interrupts), parking when
// it has bracketed the best one or has moved ten times in vain.
// spec/irq-vs-polling.md §3 describes the algorithm; this is vnic's own
// implementation of it.
package dim

import "time"

// Sample is what the driver passes: cumulative counters (they wrap: events
// at 16 bits, packets and bytes at 32) and the time.
type Sample struct {
	Time   time.Duration
	Events uint16
	Pkts   uint32
	Bytes  uint32
}

// Stats are one window's rates per millisecond.
type Stats struct {
	PPMS, BPMS, EPMS uint32
}

// Measurement states.
const (
	StartMeasure = iota
	MeasureInProgress
	ApplyNewProfile
)

// Tune states.
const (
	ParkOnTop = iota
	ParkTired
	GoRight // more moderation
	GoLeft  // less
)

// Window is how many events a measurement spans (DIM_NEVENTS).
const Window = 64

// NumProfiles is the number of moderation profiles.
const NumProfiles = 5

// RxProfilesUsec are the RX profiles' timers in µs for a device whose
// timer starts at the first event (net_dim's EQE table); vnic's EITR has no
// packet count, so the profiles' packet limits do not apply.
var RxProfilesUsec = [NumProfiles]uint32{1, 8, 64, 128, 256}

// TxProfilesUsec are the TX profiles' timers in µs (net_dim's TX EQE
// table; packet limits likewise unused).
var TxProfilesUsec = [NumProfiles]uint32{1, 8, 32, 64, 128}

// DefaultProfile is where a DIM instance starts.
const DefaultProfile = 1

// DIM is one queue's moderation state (struct dim).
type DIM struct {
	State      int
	Start      Sample
	Prev       Stats
	Profile    int
	Tune       int
	StepsRight int
	StepsLeft  int
	Tired      int
}

// New returns an instance at the default profile, parked, with no
// reference window: the first full window always moves it.
func New() *DIM { return &DIM{Profile: DefaultProfile} }

// comparison results
const (
	worse = iota - 1
	same
	better
)

// significant is a change of more than 10 % of a non-zero reference.
func significant(cur, ref uint32) bool {
	if ref == 0 {
		return false
	}
	d := uint64(cur) - uint64(ref)
	if cur < ref {
		d = uint64(ref) - uint64(cur)
	}
	return 100*d/uint64(ref) > 10
}

// compare ranks the current window against the previous one: bytes/ms
// decide if they moved, then packets/ms, then (fewer is better) events/ms.
func compare(cur, prev Stats) int {
	if prev.BPMS == 0 {
		if cur.BPMS != 0 {
			return better
		}
		return same
	}
	if significant(cur.BPMS, prev.BPMS) {
		if cur.BPMS > prev.BPMS {
			return better
		}
		return worse
	}
	if prev.PPMS == 0 {
		if cur.PPMS != 0 {
			return better
		}
		return same
	}
	if significant(cur.PPMS, prev.PPMS) {
		if cur.PPMS > prev.PPMS {
			return better
		}
		return worse
	}
	if prev.EPMS == 0 {
		return same
	}
	if significant(cur.EPMS, prev.EPMS) {
		if cur.EPMS < prev.EPMS {
			return better
		}
		return worse
	}
	return same
}

// step results
const (
	stepped = iota
	tooTired
	onEdge
)

func (d *DIM) step() int {
	if d.Tired == 2*NumProfiles {
		return tooTired
	}
	switch d.Tune {
	case GoRight:
		if d.Profile == NumProfiles-1 {
			return onEdge
		}
		d.Profile++
		d.StepsRight++
	case GoLeft:
		if d.Profile == 0 {
			return onEdge
		}
		d.Profile--
		d.StepsLeft++
	}
	d.Tired++
	return stepped
}

func (d *DIM) exitParking() {
	if d.Profile > 0 {
		d.Tune = GoLeft
	} else {
		d.Tune = GoRight
	}
	d.step()
}

func (d *DIM) onTop() bool {
	switch d.Tune {
	case ParkOnTop, ParkTired:
		return true
	case GoRight:
		return d.StepsLeft > 1 && d.StepsRight == 1
	}
	return d.StepsRight > 1 && d.StepsLeft == 1
}

func (d *DIM) turn() {
	switch d.Tune {
	case GoRight:
		d.Tune, d.StepsLeft = GoLeft, 0
	case GoLeft:
		d.Tune, d.StepsRight = GoRight, 0
	}
}

func (d *DIM) parkOnTop() {
	d.StepsRight, d.StepsLeft, d.Tired = 0, 0, 0
	d.Tune = ParkOnTop
}

func (d *DIM) parkTired() {
	d.StepsRight, d.StepsLeft = 0, 0
	d.Tune = ParkTired
}

// Decide takes one window's stats and moves the profile index; it reports
// whether the index changed.
func (d *DIM) Decide(cur Stats) bool {
	prevTune, prevProfile := d.Tune, d.Profile
	switch d.Tune {
	case ParkOnTop:
		if compare(cur, d.Prev) != same {
			d.exitParking()
		}
	case ParkTired:
		d.Tired--
		if d.Tired == 0 {
			d.exitParking()
		}
	case GoRight, GoLeft:
		if compare(cur, d.Prev) != better {
			d.turn()
		}
		if d.onTop() {
			d.parkOnTop()
			break
		}
		switch d.step() {
		case onEdge:
			d.parkOnTop()
		case tooTired:
			d.parkTired()
		}
	}
	// Parked on top and staying there, the reference stays frozen: a slow
	// drift eventually wakes it.
	if prevTune != ParkOnTop || d.Tune != ParkOnTop {
		d.Prev = cur
	}
	return d.Profile != prevProfile
}

// statsOf is the window from a to b (false for a zero-length window).
func statsOf(a, b Sample) (Stats, bool) {
	us := (b.Time - a.Time) / time.Microsecond
	if us <= 0 {
		return Stats{}, false
	}
	div := func(n uint64) uint32 { return uint32((n*1000 + uint64(us) - 1) / uint64(us)) }
	return Stats{PPMS: div(uint64(b.Pkts - a.Pkts)), BPMS: div(uint64(b.Bytes - a.Bytes)), EPMS: div(Window)}, true
}

// Sample feeds one completion's counters; it reports true when the
// profile changed: the driver then applies RxProfilesUsec[d.Profile]
// outside the fast path and calls Applied.
func (d *DIM) Sample(s Sample) bool {
	switch d.State {
	case MeasureInProgress:
		if s.Events-d.Start.Events < Window {
			return false
		}
		st, ok := statsOf(d.Start, s)
		if !ok {
			return false
		}
		if d.Decide(st) {
			d.State = ApplyNewProfile
			return true
		}
		d.Start, d.State = s, MeasureInProgress
	case StartMeasure:
		d.Start, d.State = s, MeasureInProgress
	case ApplyNewProfile:
	}
	return false
}

// Applied is the driver's word that the new profile is programmed.
func (d *DIM) Applied() { d.State = StartMeasure }
