package irqbench

import (
	"cmp"
	"fmt"
	"html"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Figure is one rendered plot: its file stem and what it shows.
type Figure struct {
	Stem, Title, Caption string
}

var palette = []color.Color{
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, // M0
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, // M1
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
	color.RGBA{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff},
	color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff},
}

// glyphs are the series' markers, in order.
var glyphs = []draw.GlyphDrawer{draw.RingGlyph{}, draw.TriangleGlyph{}, draw.BoxGlyph{}, draw.CrossGlyph{}, draw.SquareGlyph{}, draw.PlusGlyph{}}

// curve is one series to draw as a line with points; labels, when set,
// name each point (E6's frame sizes).
type curve struct {
	name   string
	xy     plotter.XYs
	labels []string
}

// addCurves draws the series so that none hides another: every line first,
// earlier ones wider, so a later line lying on an earlier one leaves it
// showing at both sides; then every series' markers, a shape each and later
// ones smaller, above all the lines; then the point labels. Each series
// gets a legend entry.
func addCurves(p *plot.Plot, cs []curve) error {
	var marks, labels []plot.Plotter
	for i, c := range cs {
		l, err := plotter.NewLine(c.xy)
		if err != nil {
			return err
		}
		pts, err := plotter.NewScatter(c.xy)
		if err != nil {
			return err
		}
		l.Color, pts.Color = palette[i%len(palette)], palette[i%len(palette)]
		if i >= len(palette) { // a second round of colours is dashed
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		l.Width = curveWidth(i, len(cs))
		pts.Shape = glyphs[i%len(glyphs)]
		pts.Radius = vg.Points(math.Max(1.8, 4-0.7*float64(i%len(palette))))
		p.Add(l)
		marks = append(marks, pts)
		p.Legend.Add(c.name, l, pts)
		if len(c.labels) == len(c.xy) && len(c.xy) > 0 {
			// Neighbours alternate above and below their points, so
			// two close ones do not print over each other.
			for parity, off := range []vg.Point{{X: vg.Points(4), Y: vg.Points(4)}, {X: vg.Points(4), Y: vg.Points(-11)}} {
				var xyl plotter.XYLabels
				for j := parity; j < len(c.xy); j += 2 {
					xyl.XYs = append(xyl.XYs, c.xy[j])
					xyl.Labels = append(xyl.Labels, c.labels[j])
				}
				if len(xyl.XYs) == 0 {
					continue
				}
				lb, err := plotter.NewLabels(xyl)
				if err != nil {
					return err
				}
				for j := range lb.TextStyle {
					lb.TextStyle[j].Color = palette[i%len(palette)]
					lb.TextStyle[j].Font.Size = vg.Points(8)
				}
				lb.Offset = off
				labels = append(labels, lb)
			}
		}
	}
	p.Add(marks...)
	p.Add(labels...)
	return nil
}

// curveWidth is series i's line width among n: from 3.5 points for the
// first down to 1 for the last, at least 1.25 points apart while that fits.
func curveWidth(i, n int) vg.Length {
	if n <= 1 {
		return vg.Points(1.5)
	}
	step := math.Min(1.25, 2.5/float64(n-1))
	return vg.Points(1 + step*float64(n-1-i))
}

// sizeLabels labels each point with its frame size when a series' points
// do not all have the same one, else nil.
func sizeLabels(pts []Point) []string {
	mixed := false
	for _, pt := range pts {
		mixed = mixed || pt.SizeBytes != pts[0].SizeBytes
	}
	if !mixed {
		return nil
	}
	out := make([]string, len(pts))
	for i, pt := range pts {
		out[i] = fmt.Sprintf("%d B", pt.SizeBytes)
	}
	return out
}

// Plot renders an experiment's figures as PNG and SVG into dir.
func Plot(e Experiment, dir string) ([]Figure, error) {
	var figs []Figure
	save := func(p *plot.Plot, stem, title, caption string) error {
		if err := savePlot(p, 16*vg.Centimeter, 10*vg.Centimeter, filepath.Join(dir, stem)); err != nil {
			return err
		}
		figs = append(figs, Figure{stem, title, caption})
		return nil
	}
	k := func(v float64) float64 { return v / 1000 }
	maxX := 0.0 // the largest offered load, kpps
	for _, s := range e.Series {
		for _, pt := range s.Points {
			maxX = math.Max(maxX, k(pt.OfferedPPS))
		}
	}

	// Delivered against offered, with the ideal line.
	p := plot.New()
	p.Title.Text = e.ID + ": delivered vs offered (" + e.Preset + " preset)"
	p.X.Label.Text = "offered (kpps)"
	p.Y.Label.Text = "delivered (kpps)"
	if err := deliveredCurves(p, e, 1000); err != nil {
		return nil, err
	}
	// Points over several seeds: their min–max.
	spread := false
	for i, s := range e.Series {
		var ep errPoints
		for _, pt := range s.Points {
			if sp := pt.Spread; sp != nil {
				ep.XYs = append(ep.XYs, plotter.XY{X: k(pt.OfferedPPS), Y: k(pt.DeliveredPPS)})
				ep.YErrors = append(ep.YErrors, struct{ Low, High float64 }{k(pt.DeliveredPPS - sp.DeliveredMin), k(sp.DeliveredMax - pt.DeliveredPPS)})
			}
		}
		if len(ep.XYs) == 0 {
			continue
		}
		bars, err := plotter.NewYErrorBars(ep)
		if err != nil {
			return nil, err
		}
		bars.Color = palette[i%len(palette)]
		p.Add(bars)
		spread = true
	}
	top := 0.0
	for _, s := range e.Series {
		for _, pt := range s.Points {
			top = math.Max(top, k(pt.DeliveredPPS))
		}
	}
	p.Y.Max = top * 1.1
	caption := "Each mode's delivered rate as the offered load grows. The dashed line is delivering everything."
	if spread {
		caption += fmt.Sprintf(" Points are the mean over %d seeds, bars their min–max.", Seeds)
	}
	if len(e.Searches) > 0 {
		caption += " Dotted verticals: each mode's searched MLFRR."
		for _, sr := range e.Searches {
			i := seriesIndex(e, sr.Mode)
			if i < 0 || sr.Rate == 0 {
				continue
			}
			v, err := plotter.NewLine(plotter.XYs{{X: k(sr.Rate), Y: 0}, {X: k(sr.Rate), Y: p.Y.Max}})
			if err != nil {
				return nil, err
			}
			v.Color = palette[i%len(palette)]
			v.Dashes = []vg.Length{vg.Points(1), vg.Points(3)}
			p.Add(v)
		}
	}
	if err := save(p, e.ID+"-delivered", "Delivered against offered load", caption); err != nil {
		return nil, err
	}

	// The same, normalised by M1's searched MLFRR, as the papers draw it.
	if ref := searched(e, "M1"); ref > 0 {
		p = plot.New()
		p.Title.Text = e.ID + ": delivered vs offered, normalised by M1's MLFRR"
		p.X.Label.Text = "offered / MLFRR(M1)"
		p.Y.Label.Text = "delivered / MLFRR(M1)"
		if err := deliveredCurves(p, e, ref); err != nil {
			return nil, err
		}
		p.Y.Min, p.Y.Max = 0, 1.4
		if err := save(p, e.ID+"-normalised", "Delivered against offered, normalised",
			"Both axes divided by M1's searched MLFRR, the form of Mogul's and the NAPI papers' figures: 1 on the y axis is NAPI's loss-free rate."); err != nil {
			return nil, err
		}
	}

	// Interrupts per packet, log scale.
	p = plot.New()
	p.Title.Text = e.ID + ": interrupts per received packet"
	p.X.Label.Text = "offered (kpps)"
	p.Y.Label.Text = "interrupts per packet (log)"
	p.Y.Scale = plot.LogScale{}
	var ticks []plot.Tick
	for e := -6; e <= 0; e++ {
		ticks = append(ticks, plot.Tick{Value: math.Pow10(e), Label: fmt.Sprintf("1e%d", e)})
	}
	ticks[len(ticks)-1].Label = "1"
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	var cs []curve
	for _, s := range e.Series {
		xy := make(plotter.XYs, 0, len(s.Points))
		for _, pt := range s.Points {
			xy = append(xy, plotter.XY{X: k(pt.OfferedPPS), Y: math.Max(pt.InterruptsPerPacket, 1e-6)})
		}
		cs = append(cs, curve{s.Mode, xy, sizeLabels(s.Points)})
	}
	if err := addCurves(p, cs); err != nil {
		return nil, err
	}
	if err := save(p, e.ID+"-interrupts", "Interrupts per packet",
		"Interrupts per received packet (values under 1e-6 are drawn at 1e-6)."); err != nil {
		return nil, err
	}

	// CPU share per context: a stacked area per mode (series with a
	// sweep), the livelock picture.
	all := func(Point) bool { return true }
	if err := stackPanels(e, cpuLayers, "share of the CPU", all, func(rows [][]*plot.Plot, h vg.Length) error {
		return saveTiles(rows, h, filepath.Join(dir, e.ID+"-cpu"), plot.NewLegend())
	}); err != nil {
		return nil, err
	} else if hasSweep(e) {
		figs = append(figs, Figure{e.ID + "-cpu", "CPU share per context",
			"Where the CPU's time goes, stacked, one panel per mode: hard interrupts, softirq (NAPI, backlog, protocol work), ksoftirqd once softirq work is handed to it, other task work, a user thread, and what is left idle."})
	}

	// Where the latency goes: its mean split, as shares.
	if hasSplit(e) && hasSweep(e) {
		delivered := func(p Point) bool { return p.MeanLatencyUS > 0 }
		if err := stackPanels(e, latencyLayers, "share of the mean latency", delivered, func(rows [][]*plot.Plot, h vg.Length) error {
			return saveTiles(rows, h, filepath.Join(dir, e.ID+"-latency-split"), plot.NewLegend())
		}); err != nil {
			return nil, err
		}
		figs = append(figs, Figure{e.ID + "-latency-split", "Where the latency goes",
			"The mean latency split, as shares of it, one panel per mode: waiting for the interrupt (coalescing, a masked vector), from the interrupt to the pass of the receive loop that took the packet, waiting in the ring when no interrupt came after it (a poll going on, a tick, a busy poll), processing up to the consumer, and the socket queue (means in the CSV's lat_* columns)."})
	}

	// Latency and interrupts against a swept parameter (spec plot 6).
	if fams := families(e); len(fams) > 0 {
		if err := paramPanels(e, fams, filepath.Join(dir, e.ID+"-param")); err != nil {
			return nil, err
		}
		figs = append(figs, Figure{e.ID + "-param", "Latency and interrupts against the parameter",
			"p50 latency (top) and interrupts/s (bottom) against each family's parameter (µs), a colour per load, a dash style per family; interrupts/s under 1 are drawn at 1."})
	}

	// Latency CDF at three loads.
	if cdf := CDFPoints(e); len(cdf) > 0 {
		if err := cdfPanels(e, cdf, filepath.Join(dir, e.ID+"-cdf")); err != nil {
			return nil, err
		}
		figs = append(figs, Figure{e.ID + "-cdf", "Latency distribution at three loads",
			"The share of packets delivered within a latency, per mode, at half, 0.9× and 1.5× the reference MLFRR (data in " + e.ID + "-cdf.csv)."})
	}

	// Packets per poll and polls per interrupt, log scale, with the
	// weight (a sweep's modes that poll).
	if polls := pollSeries(e); len(polls) > 0 {
		p = logPlot(e.ID+": packets per poll and polls per interrupt", "offered (kpps)", "ratio (log)")
		var cs []curve
		for _, s := range polls {
			for _, which := range []string{"packets/poll", "polls/interrupt"} {
				xy := make(plotter.XYs, 0, len(s.Points))
				var kept []Point
				for _, pt := range s.Points {
					v := pt.PacketsPerPoll
					if which == "polls/interrupt" {
						v = pt.PollsPerInterrupt
					}
					if v > 0 {
						xy = append(xy, plotter.XY{X: k(pt.OfferedPPS), Y: v})
						kept = append(kept, pt)
					}
				}
				if len(xy) == 0 {
					continue
				}
				var labels []string
				if which == "packets/poll" { // once per point
					labels = sizeLabels(kept)
				}
				cs = append(cs, curve{s.Mode + " " + which, xy, labels})
			}
		}
		if err := addCurves(p, cs); err != nil {
			return nil, err
		}
		weight, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 64}, {X: maxX, Y: 64}})
		if err != nil {
			return nil, err
		}
		weight.Color = color.Gray{Y: 0xa0}
		weight.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
		p.Add(weight)
		p.Legend.Add("weight 64", weight)
		if err := save(p, e.ID+"-polls", "Packets per poll and polls per interrupt",
			"How much each poll carries (at most the weight) and how many polls each interrupt leads to: under overload a poll carries the weight and an interrupt leads to polls without end."); err != nil {
			return nil, err
		}
	}

	// Latency against CPU per packet: one point per mode and load, for
	// request/response experiments (the spec's trade-off scatter).
	if e.ID == "E8" || e.ID == "E9" {
		p = logPlot(e.ID+": p99 latency against CPU per request", "CPU per request (µs)", "p99 round trip (µs, log)")
		for i, s := range e.Series {
			xy := make(plotter.XYs, 0, len(s.Points))
			for _, pt := range s.Points {
				if pt.CPUPerPacketUS > 0 && pt.P99LatencyUS > 0 {
					xy = append(xy, plotter.XY{X: pt.CPUPerPacketUS, Y: pt.P99LatencyUS})
				}
			}
			sc, err := plotter.NewScatter(xy)
			if err != nil {
				return nil, err
			}
			sc.Color = palette[i%len(palette)]
			sc.Radius = vg.Points(3)
			p.Add(sc)
			p.Legend.Add(s.Mode, sc)
		}
		if err := save(p, e.ID+"-tradeoff", "Latency against CPU",
			"Each mode at each load: the p99 round trip against the CPU time spent per request (lower left is better)."); err != nil {
			return nil, err
		}
	}

	// Latency percentiles, log scale.
	p = logPlot(e.ID+": latency from the wire to the consumer", "offered (kpps)", "latency (µs, log)")
	cs = nil
	for _, s := range e.Series {
		for _, pc := range []string{"p50", "p99"} {
			xy := make(plotter.XYs, 0, len(s.Points))
			var kept []Point
			for _, pt := range s.Points {
				v := pt.P50LatencyUS
				if pc == "p99" {
					v = pt.P99LatencyUS
				}
				if v > 0 { // nothing delivered: no latency
					xy = append(xy, plotter.XY{X: k(pt.OfferedPPS), Y: v})
					kept = append(kept, pt)
				}
			}
			if len(xy) == 0 {
				continue
			}
			var labels []string
			if pc == "p99" { // once per point, on the upper curve
				labels = sizeLabels(kept)
			}
			cs = append(cs, curve{s.Mode + " " + pc, xy, labels})
		}
	}
	if err := addCurves(p, cs); err != nil {
		return nil, err
	}
	if err := save(p, e.ID+"-latency", "Latency percentiles",
		"p50 and p99 of the time from the frame's arrival at the NIC to its delivery to the consumer."); err != nil {
		return nil, err
	}

	// Moderation state over time, for load-step runs.
	if len(e.Traces) > 0 {
		p = logPlot(e.ID+": interrupt interval over time", "time (ms)", "EITR interval (µs, log)")
		top := 0.0
		for i, t := range e.Traces {
			xy := make(plotter.XYs, 0, len(t.Samples))
			for _, s := range t.Samples {
				// No throttling (0 µs) is drawn at 0.5 µs.
				xy = append(xy, plotter.XY{X: s.TimeMS, Y: math.Max(s.IntervalUS, 0.5)})
				top = math.Max(top, s.IntervalUS)
			}
			l, err := plotter.NewLine(xy)
			if err != nil {
				return nil, err
			}
			l.Color = palette[i%len(palette)]
			if i%2 == 1 {
				l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			}
			p.Add(l)
			p.Legend.Add(t.Mode, l)
		}
		p.Y.Min, p.Y.Max = 0.5, math.Max(top*1.5, 1)
		if err := save(p, e.ID+"-interval", "Interrupt interval over time",
			"Each mode's EITR interval, sampled every millisecond, through the load steps (no throttling drawn at 0.5 µs)."); err != nil {
			return nil, err
		}
	}

	// Per queue, when the load was spread over several.
	for _, s := range e.Series {
		busy := map[int]bool{} // queues that carried traffic
		for _, pt := range s.Points {
			for q, v := range pt.QueueDeliveredPPS {
				busy[q] = busy[q] || v > 0
			}
		}
		if len(busy) < 2 || !busy[1] {
			continue
		}
		p = plot.New()
		p.Title.Text = e.ID + ": delivered per queue (" + s.Mode + ")"
		p.X.Label.Text = "offered in total (kpps)"
		p.Y.Label.Text = "delivered (kpps)"
		var cs []curve
		for q := range s.Points[0].QueueDeliveredPPS {
			xy := make(plotter.XYs, len(s.Points))
			for j, pt := range s.Points {
				xy[j].X, xy[j].Y = k(pt.OfferedPPS), k(pt.QueueDeliveredPPS[q])
			}
			cs = append(cs, curve{fmt.Sprintf("queue %d", q), xy, nil})
		}
		if err := addCurves(p, cs); err != nil {
			return nil, err
		}
		if err := save(p, e.ID+"-queues", "Delivered per queue",
			"Each queue's delivered rate as the total load grows: the CPU's NAPI round robin splits it max-min fairly."); err != nil {
			return nil, err
		}
		break
	}
	return figs, nil
}

// WriteReport writes dir/report.html: every experiment's checks, figures
// (the SVGs beside it, so it opens offline) and CSV links.
func WriteReport(dir string, exps []Experiment, figs map[string][]Figure) error {
	var b strings.Builder
	b.WriteString("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>vnic: interrupts versus polling</title>\n")
	b.WriteString("<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}img{max-width:100%}.fail{color:#c00}.pass{color:#070}</style></head><body>\n")
	b.WriteString("<h1>Interrupts versus polling</h1>\n")
	for _, e := range exps {
		cls, verdict := "pass", "PASS"
		if !e.Pass {
			cls, verdict = "fail", "FAIL"
		}
		fmt.Fprintf(&b, "<h2>%s %s <span class=%q>%s</span></h2>\n<p>Preset: %s. Data: <a href=\"%s.csv\">%s.csv</a>.</p>\n<ul>\n",
			html.EscapeString(e.ID), html.EscapeString(e.Title), cls, verdict, html.EscapeString(e.Preset), e.ID, e.ID)
		for _, c := range e.Checks {
			cls := "pass"
			if !c.Pass {
				cls = "fail"
			}
			fmt.Fprintf(&b, "<li class=%q>%s: %s</li>\n", cls, html.EscapeString(c.Name), html.EscapeString(c.Detail))
		}
		b.WriteString("</ul>\n")
		for _, f := range figs[e.ID] {
			fmt.Fprintf(&b, "<figure><img src=\"%s.svg\" alt=\"%s\"><figcaption>%s</figcaption></figure>\n",
				f.Stem, html.EscapeString(f.Title), html.EscapeString(f.Caption))
		}
	}
	b.WriteString("</body></html>\n")
	return os.WriteFile(filepath.Join(dir, "report.html"), []byte(b.String()), 0o644)
}

// pollSeries are the series whose points polled (not the legacy driver's
// one-interrupt-per-packet series, whose "polls" are backlog runs).
func pollSeries(e Experiment) []Series {
	var out []Series
	for _, s := range e.Series {
		for _, pt := range s.Points {
			if pt.PacketsPerPoll > 0 {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// logPlot is a plot with a log y axis and the legend at the top.
func logPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, xlabel, ylabel
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
	return p
}

// deliveredCurves draws each series' delivered rate against the offered
// one, both divided by unit, and the dashed line of delivering everything.
func deliveredCurves(p *plot.Plot, e Experiment, unit float64) error {
	maxX := 0.0
	var cs []curve
	for _, s := range e.Series {
		xy := make(plotter.XYs, len(s.Points))
		for j, pt := range s.Points {
			xy[j].X, xy[j].Y = pt.OfferedPPS/unit, pt.DeliveredPPS/unit
			maxX = math.Max(maxX, xy[j].X)
		}
		cs = append(cs, curve{s.Mode, xy, sizeLabels(s.Points)})
	}
	if err := addCurves(p, cs); err != nil {
		return err
	}
	ideal, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: maxX, Y: maxX}})
	if err != nil {
		return err
	}
	ideal.Color = color.Gray{Y: 0xa0}
	ideal.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
	p.Add(ideal)
	p.Legend.Add("ideal", ideal)
	return nil
}

// errPoints are points with vertical error bars.
type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

// seriesIndex is the index of mode's series, or -1.
func seriesIndex(e Experiment, mode string) int {
	for i, s := range e.Series {
		if s.Mode == mode {
			return i
		}
	}
	return -1
}

// searched is mode's MLFRR by search, or 0 when it was not searched.
func searched(e Experiment, mode string) float64 {
	for _, sr := range e.Searches {
		if sr.Mode == mode {
			return sr.Rate
		}
	}
	return 0
}

// hasSweep: some series has at least three points.
func hasSweep(e Experiment) bool {
	for _, s := range e.Series {
		if len(s.Points) >= 3 {
			return true
		}
	}
	return false
}

// layer is one band of a stacked plot.
type layer struct {
	name  string
	color color.Color
	share func(Point) float64
}

// cpuLayers are the stacked CPU plot's layers, bottom up.
var cpuLayers = []layer{
	{"hardirq", color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, func(p Point) float64 { return p.CPUHardirq }},
	{"softirq", color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, func(p Point) float64 { return p.CPUSoftirq }},
	{"ksoftirqd", color.RGBA{R: 0x9e, G: 0xc5, B: 0xe8, A: 0xff}, func(p Point) float64 { return p.CPUKsoftirqd }},
	{"task", color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, func(p Point) float64 { return p.CPUTask }},
	{"user", color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, func(p Point) float64 { return p.CPUUser }},
	{"idle", color.Gray{Y: 0xe8}, func(p Point) float64 { return p.CPUIdle }},
}

// latencyLayers split the mean latency (see splitter), as shares of it.
var latencyLayers = []layer{
	{"wait for the interrupt", color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, func(p Point) float64 { return p.LatIRQWaitUS / p.MeanLatencyUS }},
	{"interrupt → poll", color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, func(p Point) float64 { return p.LatIRQToPollUS / p.MeanLatencyUS }},
	{"ring, no interrupt", color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, func(p Point) float64 { return p.LatRingUS / p.MeanLatencyUS }},
	{"processing", color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, func(p Point) float64 { return p.LatProcessingUS / p.MeanLatencyUS }},
	{"socket queue", color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, func(p Point) float64 { return p.LatSocketUS / p.MeanLatencyUS }},
}

// hasSplit: some point has a latency split.
func hasSplit(e Experiment) bool {
	for _, s := range e.Series {
		for _, p := range s.Points {
			if p.MeanLatencyUS > 0 && p.LatIRQWaitUS+p.LatIRQToPollUS+p.LatRingUS+p.LatProcessingUS+p.LatSocketUS > 0 {
				return true
			}
		}
	}
	return false
}

// stackPanels draws a stacked area of the layers (shares summing to at
// most 1) per series with a sweep, two panels a row with a key, and hands
// the rows to save with the figure's height. Points where keep is false
// are left out. It does nothing for an experiment without a sweep.
func stackPanels(e Experiment, layers []layer, ylabel string, keep func(Point) bool, save func([][]*plot.Plot, vg.Length) error) error {
	var panels []*plot.Plot
	// The key is a panel of its own: every layer any panel used.
	key := plot.New()
	key.HideAxes()
	key.Legend.Top, key.Legend.Left = true, true
	key.Legend.TextStyle.Font.Size = vg.Points(12)
	named := map[string]*plotter.Polygon{} // a band per layer used, for the key
	for _, s := range e.Series {
		if len(s.Points) < 3 {
			continue
		}
		// By offered load (E6's rows go from high to low).
		s.Points = slices.DeleteFunc(slices.Clone(s.Points), func(p Point) bool { return !keep(p) })
		if len(s.Points) < 2 {
			continue
		}
		slices.SortStableFunc(s.Points, func(a, b Point) int { return cmp.Compare(a.OfferedPPS, b.OfferedPPS) })
		p := plot.New()
		p.Title.Text = s.Mode
		p.X.Label.Text = "offered (kpps)"
		p.Y.Label.Text = ylabel
		p.Y.Min, p.Y.Max = 0, 1
		lower := make([]float64, len(s.Points))
		for _, layer := range layers {
			upper := make([]float64, len(s.Points))
			used := false
			for j, pt := range s.Points {
				v := layer.share(pt)
				used = used || v > 0
				upper[j] = math.Min(1, lower[j]+v)
			}
			if used {
				// The band between the two cumulative curves.
				poly := make(plotter.XYs, 0, 2*len(s.Points))
				for j, pt := range s.Points {
					poly = append(poly, plotter.XY{X: pt.OfferedPPS / 1000, Y: upper[j]})
				}
				for j := len(s.Points) - 1; j >= 0; j-- {
					poly = append(poly, plotter.XY{X: s.Points[j].OfferedPPS / 1000, Y: lower[j]})
				}
				pg, err := plotter.NewPolygon(poly)
				if err != nil {
					return err
				}
				pg.Color = layer.color
				pg.LineStyle.Width = 0
				p.Add(pg)
				if named[layer.name] == nil {
					named[layer.name] = pg
				}
			}
			lower = upper
		}
		panels = append(panels, p)
	}
	if len(panels) == 0 {
		return nil
	}
	panels[0].Title.Text = e.ID + ": " + panels[0].Title.Text
	for _, l := range layers { // in stacking order
		if pg := named[l.name]; pg != nil {
			key.Legend.Add(l.name, pg)
		}
	}
	panels = append(panels, key)
	var rows [][]*plot.Plot
	for i := 0; i < len(panels); i += 2 {
		row := []*plot.Plot{panels[i], nil}
		if i+1 < len(panels) {
			row[1] = panels[i+1]
		}
		rows = append(rows, row)
	}
	return save(rows, vg.Length(len(rows))*6*vg.Centimeter)
}

// cdfPanels draws the latency CDFs, one panel per load, side by side.
func cdfPanels(e Experiment, cdf []CDFLoad, stem string) error {
	// One latency axis for all panels.
	lo, hi := math.Inf(1), 0.0
	for _, c := range cdf {
		for _, mp := range c.Points {
			for _, v := range mp.Point.Quantiles {
				lo, hi = math.Min(lo, math.Max(v, 0.01)), math.Max(hi, v)
			}
		}
	}
	row := make([]*plot.Plot, 0, len(cdf))
	key := plot.NewLegend() // one key for the panels, beside them
	var named []string
	for _, c := range cdf {
		p := plot.New()
		p.Title.Text = fmt.Sprintf("%s: %.1f× MLFRR", e.ID, c.Load)
		p.X.Label.Text = "latency (µs, log)"
		p.Y.Label.Text = "share delivered within"
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
		p.Y.Min, p.Y.Max = 0, 1.02
		p.X.Min, p.X.Max = lo/1.5, hi*1.5
		for _, mp := range c.Points {
			xy := make(plotter.XYs, 0, len(CDFLevels))
			for i, l := range CDFLevels {
				xy = append(xy, plotter.XY{X: math.Max(mp.Point.Quantiles[i], 0.01), Y: l})
			}
			l, err := plotter.NewLine(xy)
			if err != nil {
				return err
			}
			i := seriesIndex(e, mp.Mode)
			l.Color = palette[i%len(palette)]
			if i >= len(palette) {
				l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			}
			l.Width = vg.Points(math.Max(1, 3.5-float64(i%len(palette)))) // earlier wider: equal curves still show
			p.Add(l)
			if !slices.Contains(named, mp.Mode) {
				named = append(named, mp.Mode)
				key.Add(mp.Mode, l)
			}
		}
		row = append(row, p)
	}
	return saveTiles([][]*plot.Plot{row}, 8*vg.Centimeter, stem, key)
}

// saveTiles renders rows of plots (a nil entry leaves its tile empty) as
// stem.png and stem.svg, 24 cm wide, with the key (when it has entries)
// beside them.
func saveTiles(rows [][]*plot.Plot, h vg.Length, stem string, key plot.Legend) error {
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	t := draw.Tiles{Rows: len(rows), Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4}
	grid := make([][]*plot.Plot, len(rows))
	for i, r := range rows {
		grid[i] = make([]*plot.Plot, cols)
		copy(grid[i], r)
	}
	for _, r := range grid {
		for _, p := range r {
			if p != nil {
				widenLogRange(p)
			}
		}
	}
	return renderFigure(stem, 24*vg.Centimeter, h, key, func(dc draw.Canvas) {
		canvases := plot.Align(grid, t, dc)
		for i := range grid {
			for j, p := range grid[i] {
				if p != nil {
					p.Draw(canvases[i][j])
				}
			}
		}
	})
}

// savePlot renders one plot as stem.png and stem.svg, w×h, its legend
// beside the data rather than over it.
func savePlot(p *plot.Plot, w, h vg.Length, stem string) error {
	widenLogRange(p)
	key := p.Legend
	return renderFigure(stem, w, h, key, func(dc draw.Canvas) {
		p.Legend = plot.NewLegend() // drawn beside, by renderFigure
		defer func() { p.Legend = key }()
		p.Draw(dc)
	})
}

// figureMargin is the blank border of every figure: a browser sets the
// SVG's text in its own font metrics, a little taller than gonum's, and
// text flush with the edge would be cut (the headless-browser test checks).
const figureMargin = 6 // points

// renderFigure writes stem.png and stem.svg, w×h: body draws the data into
// the canvas it is given; key, when it has entries, is drawn in a column of
// its own on the right, never over the data.
func renderFigure(stem string, w, h vg.Length, key plot.Legend, body func(draw.Canvas)) error {
	key.TextStyle.Font.Size = vg.Points(10)
	r := key.Rectangle(draw.Canvas{})
	kw := r.Max.X - r.Min.X
	if kw > 0 {
		kw = kw*1.15 + vg.Points(8) // room for a wider browser font
	}
	for _, ext := range []string{".png", ".svg"} {
		var c vg.CanvasWriterTo
		if ext == ".png" {
			c = vgimg.PngCanvas{Canvas: vgimg.New(w, h)}
		} else {
			c = vgsvg.New(w, h)
		}
		bc, kc := figureLayout(draw.New(c), kw)
		body(bc)
		if kw > 0 {
			k := key
			k.Top, k.Left = true, true
			k.Draw(kc)
		}
		f, err := os.Create(stem + ext)
		if err != nil {
			return err
		}
		if _, err := c.WriteTo(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// figureLayout splits a figure's canvas, inside its margin, into the data's
// part and, when the key is kw wide, the key's column on the right (with a
// gap before it and its top level with the plot's title).
func figureLayout(full draw.Canvas, kw vg.Length) (body, key draw.Canvas) {
	m := vg.Points(figureMargin)
	dc := draw.Crop(full, m, -m, m, -m)
	if kw == 0 {
		return dc, draw.Crop(dc, dc.Max.X-dc.Min.X, 0, 0, 0)
	}
	return draw.Crop(dc, 0, -kw, 0, 0), draw.Crop(dc, dc.Max.X-dc.Min.X-kw+vg.Points(8), 0, 0, -vg.Points(18))
}

// logTicks marks a log axis at every power of ten, labelled as people
// write them (1, 10, 100, 1k, 10k; 0.1, 0.01, then 1e-3 ...), with
// unlabelled 2..9 between; an axis spanning less than two decades also
// labels the 2s and 5s, so it never shows fewer than two numbers.
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return nil
	}
	labelMid := math.Log10(hi/lo) < 3
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		dec := math.Pow(10, e)
		for m := 1; m <= 9; m++ {
			v := float64(m) * dec
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || (labelMid && (m == 2 || m == 5)) {
				t.Label = tickLabel(v)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// tickLabel writes v (a 1, 2 or 5 times a power of ten) short.
func tickLabel(v float64) string {
	switch {
	case v >= 1e9:
		return strconv.FormatFloat(v/1e9, 'g', 3, 64) + "G"
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 3, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'g', 3, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// families are the parameter families of e's series, in order.
func families(e Experiment) []string {
	var out []string
	for _, s := range e.Series {
		if s.Family != "" && !slices.Contains(out, s.Family) {
			out = append(out, s.Family)
		}
	}
	return out
}

// familyDashes are the families' line styles: solid, dashed, dotted.
var familyDashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(1.5), vg.Points(2.5)}}

// paramPanels draws p50 latency and interrupts/s against the parameter,
// one line per family and load, in two panels sharing the x axis.
func paramPanels(e Experiment, fams []string, stem string) error {
	top, bottom := plot.New(), plot.New()
	top.Title.Text = e.ID + ": latency and interrupts against the parameter"
	top.Y.Label.Text = "p50 latency (µs, log)"
	bottom.Y.Label.Text = "interrupts/s (log)"
	bottom.X.Label.Text = "parameter (µs)"
	for _, p := range []*plot.Plot{top, bottom} {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}
	// The key is a panel of its own, under the two.
	key := plot.New()
	key.HideAxes()
	key.Legend.Top, key.Legend.Left = true, true
	for f, fam := range fams {
		var ss []Series
		for _, s := range e.Series {
			if s.Family == fam {
				ss = append(ss, s)
			}
		}
		slices.SortStableFunc(ss, func(a, b Series) int { return cmp.Compare(a.Param, b.Param) })
		for i := range ss[0].Points {
			var lat, irq plotter.XYs
			for _, s := range ss {
				if i >= len(s.Points) {
					continue
				}
				pt := s.Points[i]
				if pt.P50LatencyUS > 0 {
					lat = append(lat, plotter.XY{X: s.Param, Y: pt.P50LatencyUS})
				}
				irq = append(irq, plotter.XY{X: s.Param, Y: math.Max(pt.InterruptsPerSec, 1)})
			}
			label := fam
			if i < len(e.LoadLabels) {
				label = e.LoadLabels[i] + " " + fam
			}
			for _, pl := range []struct {
				p  *plot.Plot
				xy plotter.XYs
			}{{top, lat}, {bottom, irq}} {
				if len(pl.xy) == 0 {
					continue
				}
				l, err := plotter.NewLine(pl.xy)
				if err != nil {
					return err
				}
				l.Color = palette[i%len(palette)]
				l.Dashes = familyDashes[f%len(familyDashes)]
				l.Width = vg.Points(1.5)
				pl.p.Add(l)
				if pl.p == top {
					key.Legend.Add(label, l)
				}
			}
		}
	}
	h := 21 * vg.Centimeter
	return saveTiles([][]*plot.Plot{{top}, {bottom}, {key}}, h, stem, plot.NewLegend())
}

// widenLogRange gives a log-scale axis whose data span a single value a
// range around it: gonum pads an empty range down through zero, which a
// log scale cannot draw (every point of a mode that never interrupts sits
// at the floor, for one).
func widenLogRange(p *plot.Plot) {
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		if _, ok := ax.Scale.(plot.LogScale); ok && ax.Min == ax.Max && ax.Min > 0 {
			ax.Min, ax.Max = ax.Min/10, ax.Max*10
		}
	}
}
