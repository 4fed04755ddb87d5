package irqbench

import (
	"fmt"
	"html"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
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

// line adds one series as a line with points.
func line(p *plot.Plot, i int, name string, xy plotter.XYs) error {
	l, pts, err := plotterLinePoints(xy)
	if err != nil {
		return err
	}
	l.Color, pts.Color = palette[i%len(palette)], palette[i%len(palette)]
	if i >= len(palette) { // a second round of colours is dashed
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	// Each series its own marker, and later ones smaller, so one that
	// lies on another (NAPI and tick polling under the same CPU limit)
	// still shows.
	pts.Shape = glyphs[i%len(glyphs)]
	pts.Radius = vg.Points(math.Max(1.5, 3.5-0.8*float64(i%len(palette))))
	p.Add(l, pts)
	p.Legend.Add(name, l, pts)
	return nil
}

func plotterLinePoints(xy plotter.XYs) (*plotter.Line, *plotter.Scatter, error) {
	l, err := plotter.NewLine(xy)
	if err != nil {
		return nil, nil, err
	}
	s, err := plotter.NewScatter(xy)
	if err != nil {
		return nil, nil, err
	}
	return l, s, nil
}

// Plot renders an experiment's figures as PNG and SVG into dir.
func Plot(e Experiment, dir string) ([]Figure, error) {
	var figs []Figure
	save := func(p *plot.Plot, stem, title, caption string) error {
		for _, ext := range []string{".png", ".svg"} {
			if err := p.Save(16*vg.Centimeter, 10*vg.Centimeter, filepath.Join(dir, stem+ext)); err != nil {
				return err
			}
		}
		figs = append(figs, Figure{stem, title, caption})
		return nil
	}
	k := func(v float64) float64 { return v / 1000 }

	// Delivered against offered, with the ideal line.
	p := plot.New()
	p.Title.Text = e.ID + ": delivered vs offered (" + e.Preset + " preset)"
	p.X.Label.Text = "offered (kpps)"
	p.Y.Label.Text = "delivered (kpps)"
	p.Legend.Top = true
	maxX := 0.0
	for i, s := range e.Series {
		xy := make(plotter.XYs, len(s.Points))
		for j, pt := range s.Points {
			xy[j].X, xy[j].Y = k(pt.OfferedPPS), k(pt.DeliveredPPS)
			maxX = math.Max(maxX, xy[j].X)
		}
		if err := line(p, i, s.Mode, xy); err != nil {
			return nil, err
		}
	}
	ideal, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: maxX, Y: maxX}})
	if err != nil {
		return nil, err
	}
	ideal.Color = color.Gray{Y: 0xa0}
	ideal.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
	p.Add(ideal)
	p.Legend.Add("ideal", ideal)
	top := 0.0
	for _, s := range e.Series {
		for _, pt := range s.Points {
			top = math.Max(top, k(pt.DeliveredPPS))
		}
	}
	p.Y.Max = top * 1.25
	if err := save(p, e.ID+"-delivered", "Delivered against offered load",
		"Each mode's delivered rate as the offered load grows. The dashed line is delivering everything."); err != nil {
		return nil, err
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
	p.Legend.Top = true
	for i, s := range e.Series {
		xy := make(plotter.XYs, 0, len(s.Points))
		for _, pt := range s.Points {
			xy = append(xy, plotter.XY{X: k(pt.OfferedPPS), Y: math.Max(pt.InterruptsPerPacket, 1e-6)})
		}
		if err := line(p, i, s.Mode, xy); err != nil {
			return nil, err
		}
	}
	if err := save(p, e.ID+"-interrupts", "Interrupts per packet",
		"Interrupts per received packet (values under 1e-6 are drawn at 1e-6)."); err != nil {
		return nil, err
	}

	// CPU share per context (those a series used).
	p = plot.New()
	p.Title.Text = e.ID + ": CPU time per context"
	p.X.Label.Text = "offered (kpps)"
	p.Y.Label.Text = "share of the CPU"
	p.Y.Min = 0
	p.Legend.Top = true
	contexts := []struct {
		name  string
		share func(Point) float64
	}{
		{"hardirq", func(p Point) float64 { return p.CPUHardirq }},
		{"softirq", func(p Point) float64 { return p.CPUSoftirq }},
		{"ksoftirqd", func(p Point) float64 { return p.CPUKsoftirqd }},
		{"user", func(p Point) float64 { return p.CPUUser }},
	}
	n := 0
	for _, s := range e.Series {
		for _, ctx := range contexts {
			used := false
			xy := make(plotter.XYs, len(s.Points))
			for j, pt := range s.Points {
				xy[j].X, xy[j].Y = k(pt.OfferedPPS), ctx.share(pt)
				used = used || xy[j].Y > 0
			}
			if !used {
				continue
			}
			if err := line(p, n, s.Mode+" "+ctx.name, xy); err != nil {
				return nil, err
			}
			n++
		}
	}
	p.Y.Max = 1.1 + 0.075*float64(n) // room for the legend
	if err := save(p, e.ID+"-cpu", "CPU share per context",
		"Where the CPU's time goes: hard interrupts, softirq (NAPI, backlog, protocol work), ksoftirqd once softirq work is handed to it, and a user task."); err != nil {
		return nil, err
	}

	// Packets per poll and polls per interrupt, log scale, with the
	// weight (a sweep's modes that poll).
	if polls := pollSeries(e); len(polls) > 0 {
		p = plot.New()
		p.Title.Text = e.ID + ": packets per poll and polls per interrupt"
		p.X.Label.Text = "offered (kpps)"
		p.Y.Label.Text = "ratio (log)"
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{}
		p.Legend.Top = true
		n = 0
		top := 64.0
		for _, s := range polls {
			for _, which := range []string{"packets/poll", "polls/interrupt"} {
				xy := make(plotter.XYs, 0, len(s.Points))
				for _, pt := range s.Points {
					v := pt.PacketsPerPoll
					if which == "polls/interrupt" {
						v = pt.PollsPerInterrupt
					}
					if v > 0 {
						xy = append(xy, plotter.XY{X: k(pt.OfferedPPS), Y: v})
						top = math.Max(top, v)
					}
				}
				if len(xy) == 0 {
					continue
				}
				if err := line(p, n, s.Mode+" "+which, xy); err != nil {
					return nil, err
				}
				n++
			}
		}
		weight, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 64}, {X: maxX, Y: 64}})
		if err != nil {
			return nil, err
		}
		weight.Color = color.Gray{Y: 0xa0}
		weight.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
		p.Add(weight)
		p.Legend.Add("weight 64", weight)
		p.Y.Max = top * 30 // room for the legend
		if err := save(p, e.ID+"-polls", "Packets per poll and polls per interrupt",
			"How much each poll carries (at most the weight) and how many polls each interrupt leads to: under overload a poll carries the weight and an interrupt leads to polls without end."); err != nil {
			return nil, err
		}
	}

	// Latency against CPU per packet: one point per mode and load, for
	// request/response experiments (the spec's trade-off scatter).
	if e.ID == "E8" || e.ID == "E9" {
		p = plot.New()
		p.Title.Text = e.ID + ": p99 latency against CPU per request"
		p.X.Label.Text = "CPU per request (µs)"
		p.Y.Label.Text = "p99 round trip (µs, log)"
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{}
		p.Legend.Top = true
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
	p = plot.New()
	p.Title.Text = e.ID + ": latency from the wire to the consumer"
	p.X.Label.Text = "offered (kpps)"
	p.Y.Label.Text = "latency (µs, log)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{}
	p.Legend.Top = true
	n = 0
	for _, s := range e.Series {
		for _, pc := range []string{"p50", "p99"} {
			xy := make(plotter.XYs, 0, len(s.Points))
			for _, pt := range s.Points {
				v := pt.P50LatencyUS
				if pc == "p99" {
					v = pt.P99LatencyUS
				}
				if v > 0 { // nothing delivered: no latency
					xy = append(xy, plotter.XY{X: k(pt.OfferedPPS), Y: v})
				}
			}
			if len(xy) == 0 {
				continue
			}
			if err := line(p, n, s.Mode+" "+pc, xy); err != nil {
				return nil, err
			}
			n++
		}
	}
	if err := save(p, e.ID+"-latency", "Latency percentiles",
		"p50 and p99 of the time from the frame's arrival at the NIC to its delivery to the consumer."); err != nil {
		return nil, err
	}

	// Moderation state over time, for load-step runs.
	if len(e.Traces) > 0 {
		p = plot.New()
		p.Title.Text = e.ID + ": interrupt interval over time"
		p.X.Label.Text = "time (ms)"
		p.Y.Label.Text = "EITR interval (µs, log)"
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{}
		p.Legend.Top = true
		p.Legend.Left = true
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
		p.Y.Min, p.Y.Max = 0.5, top*8 // room for the legend
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
		p.Legend.Top = true
		for q := range s.Points[0].QueueDeliveredPPS {
			xy := make(plotter.XYs, len(s.Points))
			for j, pt := range s.Points {
				xy[j].X, xy[j].Y = k(pt.OfferedPPS), k(pt.QueueDeliveredPPS[q])
			}
			if err := line(p, q, fmt.Sprintf("queue %d", q), xy); err != nil {
				return nil, err
			}
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
