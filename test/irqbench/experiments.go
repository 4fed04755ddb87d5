package irqbench

import (
	"fmt"
	"math"
	"strings"
	"time"

	"vnic/driver"
	"vnic/hw"
)

// Check is one pass criterion of an experiment.
type Check struct {
	Name   string `json:"name"`
	Pass   bool   `json:"pass"`
	Detail string `json:"detail"`
}

// Series is one mode's sweep.
type Series struct {
	Mode   string  `json:"mode"`
	Points []Point `json:"points"`
	// Family and Param place a series of a parameter sweep (E7's timer
	// semantics and intervals, E8's gro_flush_timeout): the latency
	// against the parameter plot draws each family's points at Param µs.
	Family string  `json:"family,omitempty"`
	Param  float64 `json:"param_us,omitempty"`
}

// Experiment is one experiment's result.
type Experiment struct {
	ID     string   `json:"id"`
	Title  string   `json:"title"`
	Preset string   `json:"preset"`
	Pass   bool     `json:"pass"`
	Checks []Check  `json:"checks"`
	Series []Series `json:"series"`
	// MLFRR is the measured maximum loss-free receive rate per mode: by
	// search (FindMLFRR) where Searches has the mode, otherwise the
	// highest sweep point without loss.
	MLFRR    map[string]float64 `json:"mlfrr_pps"`
	Searches []SearchResult     `json:"mlfrr_searches,omitempty"`
	// LoadLabels name the loads of a parameter sweep's points, in order.
	LoadLabels []string `json:"load_labels,omitempty"`
	// Traces are the load-step runs' moderation state over time (E10).
	Traces []Trace `json:"traces,omitempty"`
}

// newExperiment starts an experiment on a cost preset (LookupPreset,
// WithKnobs).
func newExperiment(id, title string, preset Preset) (Experiment, hw.CostModel, error) {
	if preset.Name == "" {
		return Experiment{}, preset.Costs, fmt.Errorf("irqbench: no preset (teaching, modern)")
	}
	return Experiment{ID: id, Title: title, Preset: preset.Name, MLFRR: map[string]float64{}}, preset.Costs, nil
}

// add appends a series and its MLFRR.
func (e *Experiment) add(s Series) {
	e.Series = append(e.Series, s)
	e.MLFRR[s.Mode] = mlfrr(s)
}

// finish sets Pass: every check passed.
func (e *Experiment) finish() {
	e.Pass = true
	for _, ch := range e.Checks {
		e.Pass = e.Pass && ch.Pass
	}
}

// tally counts an experiment's runs for its Progress.
type tally struct {
	done, total int
	progress    Progress
}

func (t *tally) step() {
	t.done++
	if t.progress != nil {
		t.progress(t.done, t.total)
	}
}

// measureSeries measures run at each load, as mode id's series.
func measureSeries(id string, loads []float64, t *tally, run func(x float64) (Point, error)) (Series, error) {
	s := Series{Mode: id}
	for _, x := range loads {
		p, err := run(x)
		if err != nil {
			return s, err
		}
		s.Points = append(s.Points, p)
		t.step()
	}
	return s, nil
}

// Grid is the normalised offered load of spec §2.5: multiples of the NAPI
// capacity.
var Grid = []float64{0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25, 1.5, 2, 3, 5}

// Sweep settings: a 10 ms warm-up, then a 200 ms window (long enough that
// packets delivered in 64-packet polls count to better than 1 %).
const (
	Warmup = 10 * time.Millisecond
	Window = 200 * time.Millisecond
)

// Progress is told how many of the runs are done.
type Progress func(done, total int)

// napiCapacity is M1's overload rate: 1 / (c_rx + c_gro + c_proto +
// c_poll/weight) (GRO is on, as by default; the teaching preset's c_gro is
// 0).
func napiCapacity(c hw.CostModel) float64 {
	return 1 / (c.RxPacket.Seconds() + c.GRO.Seconds() + c.Proto.Seconds() + c.Poll.Seconds()/64)
}

// M0ClosedForm is the legacy mode's delivered rate with one interrupt per
// packet: min(λ, (1 − λa)/b), a = c_irq + c_rx (hard IRQ), b = c_proto plus
// the backlog poll's share (softirq).
func M0ClosedForm(c hw.CostModel, lambda float64) float64 {
	a := c.IRQ.Seconds() + c.RxPacket.Seconds()
	b := c.Proto.Seconds() + c.Poll.Seconds()/64
	return math.Max(0, math.Min(lambda, (1-lambda*a)/b))
}

// sweep measures modes over the grid (multiples of base pps).
func sweep(modes []Mode, c hw.CostModel, base float64, seed int64, progress Progress, done *int, total int) ([]Series, error) {
	var out []Series
	for _, m := range modes {
		s := Series{Mode: m.ID}
		for _, x := range Grid {
			p, err := Measure(Run{Mode: m, Costs: c, Offered: x * base, Warmup: Warmup, Window: Window, Seed: seed})
			if err != nil {
				return nil, err
			}
			s.Points = append(s.Points, p)
			*done++
			if progress != nil {
				progress(*done, total)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// mlfrr is the highest offered rate of a series delivered without loss.
func mlfrr(s Series) float64 {
	best := 0.0
	for _, p := range s.Points {
		if p.RingDropPPS == 0 && p.BacklogDropPPS == 0 && p.TxDropPPS == 0 && p.SocketDropPPS == 0 && p.OfferedPPS > best {
			best = p.OfferedPPS
		}
	}
	return best
}

// E1 is Mogul and Ramakrishnan's receive livelock against NAPI's flat
// curve: M0 (an interrupt per packet, protocol work in a backlog at
// softirq priority) and M1 (NAPI) under constant-rate load from 5 % to 5×
// NAPI's capacity. (The consumer is local delivery after the protocol
// work; forwarding replaces it once the IPv4 forwarding path exists.)
func E1(preset Preset, seed int64, progress Progress) (Experiment, error) {
	e, c, err := newExperiment("E1", "Receive livelock (M0) versus NAPI (M1) and tick polling (M8)", preset)
	if err != nil {
		return e, err
	}
	// The MLFRRs by search (spec §2.5); the grid is multiples of M1's.
	modes := []Mode{M0, M1, M8}
	done, total := 0, len(modes)*(1+len(Grid))
	for _, m := range modes {
		res, err := FindMLFRR(Run{Mode: m, Costs: c, Seed: seed}, 0, napiCapacity(c))
		if err != nil {
			return e, err
		}
		res.Mode = m.ID
		e.Searches = append(e.Searches, res)
		e.MLFRR[m.ID] = res.Rate
		done++
		if progress != nil {
			progress(done, total)
		}
	}
	series, err := sweep(modes, c, e.MLFRR[M1.ID], seed, progress, &done, total)
	if err != nil {
		return e, err
	}
	e.Series = series
	m0, m1 := series[0], series[1]
	// The search against the closed forms: M0 keeps up while
	// (1 − λa)/b ≥ λ, up to 1/(a + b); NAPI to its capacity.
	a := c.IRQ.Seconds() + c.RxPacket.Seconds()
	b := c.Proto.Seconds() + c.Poll.Seconds()/64
	near := func(got, want float64) bool {
		return got >= want*(1-2*SearchPrecision) && got <= want*(1+SearchPrecision)
	}
	e.Checks = append(e.Checks, Check{"searched MLFRRs match the closed forms: M0 1/(a + b), M1 1/(c_rx + c_gro + c_proto + c_poll/64)",
		near(e.MLFRR["M0"], 1/(a+b)) && near(e.MLFRR["M1"], napiCapacity(c)),
		fmt.Sprintf("M0 %.0f pps (%.0f), M1 %.0f pps (%.0f), M8 %.0f pps; %d, %d and %d trials of %d packets",
			e.MLFRR["M0"], 1/(a+b), e.MLFRR["M1"], napiCapacity(c), e.MLFRR[M8.ID], e.Searches[0].Trials, e.Searches[1].Trials, e.Searches[2].Trials, TrialPackets)})

	// M0 rises to its peak, then falls, below 20 % of the peak from 3× its
	// MLFRR.
	peak, peakAt := 0.0, 0
	for i, p := range m0.Points {
		if p.DeliveredPPS > peak {
			peak, peakAt = p.DeliveredPPS, i
		}
	}
	falls := true
	for i := peakAt + 1; i < len(m0.Points); i++ {
		if m0.Points[i].DeliveredPPS > m0.Points[i-1].DeliveredPPS*1.01 {
			falls = false
		}
	}
	e.Checks = append(e.Checks, Check{"M0 falls after its peak", falls && peakAt < len(m0.Points)-1,
		fmt.Sprintf("peak %.0f pps at %.0f offered", peak, m0.Points[peakAt].OfferedPPS)})
	low, worst := true, 0.0
	for _, p := range m0.Points {
		if p.OfferedPPS >= 3*e.MLFRR["M0"] {
			worst = math.Max(worst, p.DeliveredPPS/peak)
			if p.DeliveredPPS >= 0.2*peak {
				low = false
			}
		}
	}
	e.Checks = append(e.Checks, Check{"M0 below 20 % of its peak from 3× its MLFRR", low, fmt.Sprintf("at most %.1f %% of the peak", 100*worst)})
	// M1 flat within 5 % of its plateau from its MLFRR to 5×.
	plateau := m1.Points[len(m1.Points)-1].DeliveredPPS
	flat, dev := true, 0.0
	for _, p := range m1.Points {
		if p.OfferedPPS >= e.MLFRR["M1"] && p.OfferedPPS <= 5*e.MLFRR["M1"]*1.0001 {
			d := math.Abs(p.DeliveredPPS-plateau) / plateau
			dev = math.Max(dev, d)
			if d > 0.05 {
				flat = false
			}
		}
	}
	e.Checks = append(e.Checks, Check{"M1 flat within 5 % from its MLFRR to 5×", flat, fmt.Sprintf("plateau %.0f pps, largest deviation %.2f %%", plateau, 100*dev)})
	e.Checks = append(e.Checks, Check{"M1's MLFRR exceeds M0's", e.MLFRR["M1"] > e.MLFRR["M0"],
		fmt.Sprintf("M1 %.0f pps, M0 %.0f pps", e.MLFRR["M1"], e.MLFRR["M0"])})
	// M0 against the closed form, within 2 % (or 0.2 % of its MLFRR where
	// the closed form is near zero).
	cfOK, cfWorst := true, 0.0
	for _, p := range m0.Points {
		cf := M0ClosedForm(c, p.OfferedPPS)
		diff := math.Abs(p.DeliveredPPS - cf)
		if diff > math.Max(0.02*cf, 0.002*e.MLFRR["M0"]) {
			cfOK = false
		}
		if cf > 0 {
			cfWorst = math.Max(cfWorst, diff/cf)
		}
	}
	e.Checks = append(e.Checks, Check{"M0 matches min(λ, (1 − λa)/b) within 2 %", cfOK, fmt.Sprintf("largest relative difference %.2f %%", 100*cfWorst)})
	// M8, the pure polling baseline: no interrupts, flat under overload,
	// half a tick of latency at light load.
	m8 := series[2]
	none, flat8 := true, true
	plateau8 := m8.Points[len(m8.Points)-1].DeliveredPPS
	for i, p := range m8.Points {
		none = none && p.Interrupts == 0
		if Grid[i] >= 1.25 && math.Abs(p.DeliveredPPS-plateau8) > 0.05*plateau8 {
			flat8 = false
		}
	}
	light := m8.Points[0].P50LatencyUS / float64(driver.TickPeriod/time.Microsecond)
	e.Checks = append(e.Checks, Check{"M8 (tick polling) takes no interrupt, stays flat under overload and waits half a tick at light load",
		none && flat8 && light > 0.3 && light < 0.7,
		fmt.Sprintf("plateau %.0f pps; p50 %.0f µs at %.0f pps (tick %v)", plateau8, m8.Points[0].P50LatencyUS, m8.Points[0].OfferedPPS, driver.TickPeriod)})
	e.finish()
	return e, nil
}

// Experiments are the implemented experiments by id.
var Experiments = map[string]func(preset Preset, seed int64, progress Progress) (Experiment, error){
	"E1":  E1,
	"E2":  E2,
	"E3":  E3,
	"E4":  E4,
	"E5":  E5,
	"E6":  E6,
	"E7":  E7,
	"E8":  E8,
	"E9":  E9,
	"E10": E10,
	"E11": E11,
}

// E7 is hardware interrupt coalescing (M2) in its three timer semantics:
// the EITR interval (leading edge) ∈ {0, 10, 20, 50, 100, 250 µs}, the
// absolute receive delay RADV (a timer from the first packet) and the
// packet delay RDTR alone (restarted by every packet) ∈ {20, 100, 250 µs},
// at 0.1, 0.5, 0.9 and 1.5× NAPI's capacity; plus the legacy driver
// (draining the ring per interrupt) with and without a 100 µs interval
// under overload.
func E7(preset Preset, seed int64, progress Progress) (Experiment, error) {
	e, c, err := newExperiment("E7", "Interrupt coalescing in three timer semantics (EITR, RADV, RDTR) against latency", preset)
	if err != nil {
		return e, err
	}
	itrs := []time.Duration{0, 10 * time.Microsecond, 20 * time.Microsecond, 50 * time.Microsecond, 100 * time.Microsecond, 250 * time.Microsecond}
	loads := []float64{0.1, 0.5, 0.9, 1.5}
	capacity := napiCapacity(c)
	// The other two timer semantics (spec §1.5), with the receive delay
	// timers: RADV, from the first packet (RDTR as long, so it never ends
	// first for a lone packet), and RDTR alone, restarted by every packet.
	delays := []time.Duration{20 * time.Microsecond, 100 * time.Microsecond, 250 * time.Microsecond}
	t := &tally{total: (len(itrs)+2*len(delays))*len(loads) + 2 + 2*len(delays) + 1, progress: progress}
	step := t.step
	// sweepMode measures m at each load and adds its series.
	for _, x := range loads {
		e.LoadLabels = append(e.LoadLabels, fmt.Sprintf("%.1f×", x))
	}
	sweepMode := func(family string, param time.Duration, m Mode) ([]Point, error) {
		s, err := measureSeries(m.ID, loads, t, func(x float64) (Point, error) {
			return Measure(Run{Mode: m, Costs: c, Offered: x * capacity, Warmup: Warmup, Window: Window, Seed: seed})
		})
		s.Family, s.Param = family, float64(param/time.Microsecond)
		e.Series = append(e.Series, s)
		return s.Points, err
	}
	byITR := map[time.Duration][]Point{}
	for _, itr := range itrs {
		pts, err := sweepMode("EITR", itr, Mode{ID: fmt.Sprintf("M2 ITR %dus", itr/time.Microsecond), RxMode: M1.RxMode, ITR: itr})
		if err != nil {
			return e, err
		}
		byITR[itr] = pts
	}
	byRADV, byRDTR := map[time.Duration][]Point{}, map[time.Duration][]Point{}
	for _, d := range delays {
		var err error
		if byRADV[d], err = sweepMode("RADV", d, Mode{ID: fmt.Sprintf("M2 RADV %dus", d/time.Microsecond), RxMode: M1.RxMode, RxIntDelay: d, RxAbsIntDelay: d}); err != nil {
			return e, err
		}
		if byRDTR[d], err = sweepMode("RDTR", d, Mode{ID: fmt.Sprintf("M2 RDTR %dus", d/time.Microsecond), RxMode: M1.RxMode, RxIntDelay: d}); err != nil {
			return e, err
		}
	}
	legacy := map[time.Duration]Point{}
	for _, itr := range []time.Duration{0, 100 * time.Microsecond} {
		m := Mode{ID: fmt.Sprintf("M0-batch ITR %dus", itr/time.Microsecond), RxMode: M0B.RxMode, ITR: itr}
		p, err := Measure(Run{Mode: m, Costs: c, Offered: 1.5 * capacity, Warmup: Warmup, Window: Window, Seed: seed})
		if err != nil {
			return e, err
		}
		legacy[itr] = p
		e.Series = append(e.Series, Series{Mode: m.ID, Points: []Point{p}})
		step()
	}

	for _, s := range e.Series {
		e.MLFRR[s.Mode] = mlfrr(s)
	}
	// The interval caps the interrupt rate (one more at the window edge).
	capOK, detail := true, ""
	for _, itr := range itrs[1:] {
		limit := 1/itr.Seconds() + 1/Window.Seconds()
		for _, p := range byITR[itr] {
			if p.InterruptsPerSec > limit {
				capOK = false
				detail += fmt.Sprintf(" ITR %v: %.0f/s > %.0f/s;", itr, p.InterruptsPerSec, limit)
			}
		}
	}
	if capOK {
		detail = "every point at or under 1/ITR"
	}
	e.Checks = append(e.Checks, Check{"interrupts/s capped at 1/ITR", capOK, detail})
	// Leading edge: while packets are further apart than the interval, it
	// adds no latency.
	edgeOK, worst := true, 0.0
	for _, itr := range itrs[1:] {
		for i, x := range loads {
			if gap := 1 / (x * capacity); gap > itr.Seconds() {
				d := byITR[itr][i].P50LatencyUS - byITR[0][i].P50LatencyUS
				worst = math.Max(worst, d)
				if d > 1 {
					edgeOK = false
				}
			}
		}
	}
	e.Checks = append(e.Checks, Check{"no added latency while packets are further apart than the interval", edgeOK,
		fmt.Sprintf("largest p50 increase %.2f µs", worst)})
	// Timer from the first packet: a lone packet (1 kpps, a gap longer
	// than every timer) waits the whole timer, in RADV's 1.024 µs steps;
	// the leading-edge interval lets it through at once.
	const lone = 1000.0
	base, err := Measure(Run{Mode: M1, Costs: c, Offered: lone, Warmup: Warmup, Window: Window, Seed: seed})
	if err != nil {
		return e, err
	}
	step()
	firstOK, firstDetail := true, ""
	for _, d := range delays {
		steps := time.Duration(math.Round(float64(d)/1024)) * 1024 * time.Nanosecond
		radv, err := Measure(Run{Mode: Mode{ID: "RADV", RxMode: M1.RxMode, RxIntDelay: d, RxAbsIntDelay: d}, Costs: c, Offered: lone, Warmup: Warmup, Window: Window, Seed: seed})
		if err != nil {
			return e, err
		}
		edge, err := Measure(Run{Mode: Mode{ID: "ITR", RxMode: M1.RxMode, ITR: d}, Costs: c, Offered: lone, Warmup: Warmup, Window: Window, Seed: seed})
		if err != nil {
			return e, err
		}
		step()
		step()
		addRADV, addEdge := radv.P50LatencyUS-base.P50LatencyUS, edge.P50LatencyUS-base.P50LatencyUS
		if math.Abs(addRADV-float64(steps)/float64(time.Microsecond)) > 0.01 || math.Abs(addEdge) > 0.01 || radv.P99LatencyUS != radv.P50LatencyUS {
			firstOK = false
		}
		firstDetail += fmt.Sprintf("%v: RADV +%.2f µs, leading edge +%.2f µs; ", d, addRADV, addEdge)
	}
	e.Checks = append(e.Checks, Check{"at 1 kpps a timer from the first packet (RADV) adds its whole interval, the leading edge nothing", firstOK,
		strings.TrimSuffix(firstDetail, "; ")})
	// Restarted by every packet: under steady load with gaps below the
	// timer it never runs out; only the ring's overflow (RXO flushes the
	// timers) interrupts.
	starveOK, starveDetail := true, ""
	for _, d := range delays {
		for i, x := range loads[:3] {
			if 1/(x*capacity) >= d.Seconds() {
				continue
			}
			p := byRDTR[d][i]
			if p.InterruptsPerSec >= 0.01*p.OfferedPPS || p.RingDropPPS == 0 {
				starveOK = false
			}
			if i == 1 {
				starveDetail += fmt.Sprintf("RDTR %v at %.1f×: %.0f interrupts/s for %.0f pps, %.0f dropped/s, p50 %.0f µs; ", d, x, p.InterruptsPerSec, p.OfferedPPS, p.RingDropPPS, p.P50LatencyUS)
			}
		}
	}
	e.Checks = append(e.Checks, Check{"a packet timer alone (RDTR) starves under steady load: it interrupts only when the ring overflows", starveOK,
		strings.TrimSuffix(starveDetail, "; ")})

	// An interval longer than the packet gap delays packets.
	slow := byITR[250*time.Microsecond][1].P50LatencyUS > byITR[0][1].P50LatencyUS+50
	e.Checks = append(e.Checks, Check{"a 250 µs interval delays packets at half load", slow,
		fmt.Sprintf("p50 %.0f µs against %.0f µs without", byITR[250*time.Microsecond][1].P50LatencyUS, byITR[0][1].P50LatencyUS)})
	// Under overload NAPI's throughput does not depend on the interval; the
	// legacy driver's rises with it.
	flat := true
	for _, itr := range itrs {
		if d := math.Abs(byITR[itr][3].DeliveredPPS-byITR[0][3].DeliveredPPS) / byITR[0][3].DeliveredPPS; d > 0.02 {
			flat = false
		}
	}
	e.Checks = append(e.Checks, Check{"NAPI's overload throughput is the same for every interval", flat,
		fmt.Sprintf("%.0f pps at 1.5× capacity", byITR[0][3].DeliveredPPS)})
	raises := legacy[100*time.Microsecond].DeliveredPPS > 1.2*legacy[0].DeliveredPPS
	e.Checks = append(e.Checks, Check{"a 100 µs interval raises the legacy driver's overload throughput", raises,
		fmt.Sprintf("%.0f pps against %.0f pps", legacy[100*time.Microsecond].DeliveredPPS, legacy[0].DeliveredPPS)})
	e.finish()
	return e, nil
}

// NAPIHowto is the NAPI_HOWTO table's input: frame size (without FCS) and
// offered packets per second.
var NAPIHowto = []struct {
	Size    int
	Offered float64
}{{60, 890000}, {128, 758150}, {256, 445632}, {512, 232666}, {1024, 119061}, {1440, 85193}}

// E6Costs is a cost model tuned as the spec asks, to a capacity near
// 350 kpps for small frames (about 364 kpps at 60 B, 345 kpps at 256 B, as
// the table's plateau), with a size-dependent part — the driver copying the
// header and the stack touching every byte, 0.4 µs per KiB — that makes
// larger frames cost more.
var E6Costs = hw.CostModel{IRQ: 1200 * time.Nanosecond, RxPacket: 600 * time.Nanosecond, Proto: 2100 * time.Nanosecond,
	Poll: 300 * time.Nanosecond, CopyPerKB: 400 * time.Nanosecond}

// E6 replicates the NAPI_HOWTO table (Olsson's e1000 data): NAPI at each
// frame size and input rate of the table. The shapes to reproduce: a flat
// forwarded rate under overload, interrupts per packet near 1e-5 there,
// 0.2–0.3 near capacity, about 0.9 at light load; packets per poll near the
// weight under overload; at light load every poll empties the ring, one per
// interrupt.
func E6(preset Preset, seed int64, progress Progress) (Experiment, error) {
	e := Experiment{ID: "E6", Title: "NAPI_HOWTO replica: interrupts and polls against load", Preset: "e6", MLFRR: map[string]float64{}}
	s := Series{Mode: "M1"}
	for i, row := range NAPIHowto {
		p, err := Measure(Run{Mode: M1, Costs: E6Costs, Offered: row.Offered, Warmup: Warmup, Window: Window, Seed: seed, Size: row.Size, TouchBytes: true})
		if err != nil {
			return e, err
		}
		s.Points = append(s.Points, p)
		if progress != nil {
			progress(i+1, len(NAPIHowto))
		}
	}
	// Near capacity: the table's 512 B row ran close to that box's
	// capacity; here 512 B frames are offered at 90 % of the capacity
	// measured under overload.
	capRun, err := Measure(Run{Mode: M1, Costs: E6Costs, Offered: 2 * NAPIHowto[3].Offered, Warmup: Warmup, Window: Window, Seed: seed, Size: 512, TouchBytes: true})
	if err != nil {
		return e, err
	}
	nearRun, err := Measure(Run{Mode: M1, Costs: E6Costs, Offered: 0.9 * capRun.DeliveredPPS, Warmup: Warmup, Window: Window, Seed: seed, Size: 512, TouchBytes: true})
	if err != nil {
		return e, err
	}
	e.Series = []Series{s, {Mode: "M1 512 B", Points: []Point{nearRun, capRun}}}
	e.MLFRR["M1 512 B"] = capRun.DeliveredPPS
	pt := s.Points
	over := pt[:3]
	plateauOK, lo, hi := true, math.Inf(1), 0.0
	for _, p := range over {
		lo, hi = math.Min(lo, p.DeliveredPPS), math.Max(hi, p.DeliveredPPS)
		if p.RingDropPPS == 0 {
			plateauOK = false
		}
	}
	e.Checks = append(e.Checks, Check{"overloaded rows (60-256 B) lose packets at the NIC and stay near one plateau", plateauOK && hi/lo < 1.3,
		fmt.Sprintf("%.0f-%.0f kpps forwarded", lo/1000, hi/1000)})
	ipp := true
	for _, p := range over {
		if p.InterruptsPerPacket > 1e-4 {
			ipp = false
		}
	}
	e.Checks = append(e.Checks, Check{"about 1e-5 interrupts per packet under overload", ipp,
		fmt.Sprintf("%.1e, %.1e, %.1e", over[0].InterruptsPerPacket, over[1].InterruptsPerPacket, over[2].InterruptsPerPacket)})
	near := nearRun
	e.Checks = append(e.Checks, Check{"0.1-0.4 interrupts per packet near capacity (512 B at 90 % of capacity)", near.InterruptsPerPacket >= 0.1 && near.InterruptsPerPacket <= 0.4,
		fmt.Sprintf("%.2f at %.0f kpps (capacity %.0f kpps), %.1f packets per poll", near.InterruptsPerPacket, near.OfferedPPS/1000, capRun.DeliveredPPS/1000, near.PacketsPerPoll)})
	light := true
	for _, p := range pt[4:] {
		if p.InterruptsPerPacket < 0.8 {
			light = false
		}
	}
	e.Checks = append(e.Checks, Check{"about 0.9 interrupts per packet at light load (1024, 1440 B)", light,
		fmt.Sprintf("%.2f, %.2f", pt[4].InterruptsPerPacket, pt[5].InterruptsPerPacket)})
	ppp := true
	for _, p := range over {
		if p.PacketsPerPoll < 55 {
			ppp = false
		}
	}
	e.Checks = append(e.Checks, Check{"packets per poll near the weight (64) under overload", ppp,
		fmt.Sprintf("%.1f, %.1f, %.1f", over[0].PacketsPerPoll, over[1].PacketsPerPoll, over[2].PacketsPerPoll)})
	done := true
	for _, p := range pt[3:] {
		if p.Interrupts == 0 || math.Abs(float64(p.DonePolls)-float64(p.Interrupts))/float64(p.Interrupts) > 0.05 || p.NotDonePolls*20 > p.DonePolls {
			done = false
		}
	}
	e.Checks = append(e.Checks, Check{"below capacity, polls empty the ring: Done ≈ Rxint, Ndone ≈ 0", done,
		fmt.Sprintf("512 B: %d interrupts, %d Done, %d Ndone", pt[3].Interrupts, pt[3].DonePolls, pt[3].NotDonePolls)})
	e.finish()
	return e, nil
}
