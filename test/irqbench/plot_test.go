package irqbench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// TestLogTicks: every log axis shows at least two numbers, written short.
func TestLogTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   string // the labelled ticks
	}{
		{3, 900, "[5 10 20 50 100 200 500]"},
		{1e-6, 1, "[1e-06 1e-05 0.0001 0.001 0.01 0.1 1]"},
		{15, 40000, "[100 1k 10k]"},
		{4, 9, "[5]"}, // less than a decade holds one 1-2-5 value ...
		{0.3, 0.9, "[0.5]"},
		{2, 2000, "[10 100 1k]"},
		{800, 60000, "[1k 2k 5k 10k 20k 50k]"},
		{1, 1e9, "[1 10 100 1k 10k 100k 1M 10M 100M 1G]"},
	} {
		var got []string
		for _, tk := range (logTicks{}).Ticks(tc.lo, tc.hi) {
			if tk.Value < tc.lo || tk.Value > tc.hi*(1+1e-9) {
				t.Errorf("[%g, %g]: tick %g outside the range", tc.lo, tc.hi, tk.Value)
			}
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if fmt.Sprint(got) != tc.want {
			t.Errorf("[%g, %g]: labels %v, want %s", tc.lo, tc.hi, got, tc.want)
		}
	}
	if tk := (logTicks{}).Ticks(0, 10); tk != nil {
		t.Errorf("a range from 0 has no log ticks, got %v", tk)
	}
}

// TestNoCurveHidden: three series on the very same points (E1's M1 and M8
// below their MLFRRs) each still show in the picture: every series' colour
// covers a part of the plot.
func TestNoCurveHidden(t *testing.T) {
	xy := plotter.XYs{{X: 0, Y: 0}, {X: 10, Y: 10}, {X: 20, Y: 20}, {X: 30, Y: 20}, {X: 40, Y: 20}}
	p := plot.New()
	if err := addCurves(p, []curve{{"a", xy, nil}, {"b", xy, nil}, {"c", xy, nil}}); err != nil {
		t.Fatal(err)
	}
	p.Legend = plot.NewLegend() // the picture only, no key
	c := vgimg.New(16*vg.Centimeter, 10*vg.Centimeter)
	p.Draw(draw.New(c))
	img := c.Image()
	for i := range 3 {
		var others []color.Color
		for j := range 3 {
			if j != i {
				others = append(others, palette[j])
			}
		}
		n := pixelsNear(img, palette[i], others)
		if n < 300 {
			t.Errorf("series %d: %d pixels of its colour, want at least 300 (hidden under another)", i, n)
		}
	}
}

// pixelsNear counts the pixels whose colour is nearer want than any of
// others, white, black and grey (a blend at a line's edge counts for the
// colour it shows most).
func pixelsNear(img image.Image, want color.Color, others []color.Color) int {
	rivals := append([]color.Color{color.White, color.Black, color.Gray{Y: 0xa0}}, others...)
	dist := func(a, b color.Color) uint32 {
		ar, ag, ab, _ := a.RGBA()
		br, bg, bb, _ := b.RGBA()
		return absDiff(ar, br) + absDiff(ag, bg) + absDiff(ab, bb)
	}
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			px := img.At(x, y)
			d := dist(px, want)
			near := true
			for _, r := range rivals {
				if dist(px, r) <= d {
					near = false
					break
				}
			}
			if near {
				n++
			}
		}
	}
	return n
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// TestFigureLayout: the key has a column of its own, wide enough for it,
// beside the data and inside the figure's margin.
func TestFigureLayout(t *testing.T) {
	c := vgimg.New(16*vg.Centimeter, 10*vg.Centimeter)
	full := draw.New(c)
	key := plot.NewLegend()
	l, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	key.Add("M8 tick p99", l)
	key.Add("ideal", l)
	r := key.Rectangle(draw.Canvas{})
	kw := r.Max.X - r.Min.X
	body, kc := figureLayout(full, kw*1.15+vg.Points(8))
	if body.Max.X > kc.Min.X {
		t.Errorf("data [%v, %v] overlaps the key from %v", body.Min.X, body.Max.X, kc.Min.X)
	}
	if kc.Max.X-kc.Min.X < kw {
		t.Errorf("key column %v narrower than the key %v", kc.Max.X-kc.Min.X, kw)
	}
	m := vg.Points(figureMargin)
	for _, cv := range []draw.Canvas{body, kc} {
		if cv.Min.X < full.Min.X+m || cv.Max.X > full.Max.X-m || cv.Min.Y < full.Min.Y+m || cv.Max.Y > full.Max.Y-m {
			t.Errorf("%v reaches into the margin of %v", cv.Rectangle, full.Rectangle)
		}
	}
}

// TestSizeLabels: E6's rows differ in frame size, so each point says its
// size; a series of one size needs no labels.
func TestSizeLabels(t *testing.T) {
	mixed := []Point{{SizeBytes: 60}, {SizeBytes: 128}, {SizeBytes: 1440}}
	if got := fmt.Sprint(sizeLabels(mixed)); got != "[60 B 128 B 1440 B]" {
		t.Errorf("labels %s", got)
	}
	if got := sizeLabels([]Point{{SizeBytes: 512}, {SizeBytes: 512}}); got != nil {
		t.Errorf("one size: labels %v, want none", got)
	}
	e := Experiment{ID: "E6", Preset: "e6", Series: []Series{{Mode: "M1"}}}
	for i, sz := range []int{60, 128, 256} {
		e.Series[0].Points = append(e.Series[0].Points, Point{SizeBytes: sz, OfferedPPS: float64(i+1) * 1e5, DeliveredPPS: float64(i+1) * 9e4, P50LatencyUS: 5, P99LatencyUS: 9})
	}
	dir := t.TempDir()
	if _, err := Plot(e, dir); err != nil {
		t.Fatal(err)
	}
	for _, stem := range []string{"E6-delivered", "E6-latency"} {
		svg, err := os.ReadFile(filepath.Join(dir, stem+".svg"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{">60 B<", ">128 B<", ">256 B<"} {
			if !bytes.Contains(svg, []byte(want)) {
				t.Errorf("%s.svg: no label %s", stem, want)
			}
		}
	}
}

// TestSVGInBrowser opens every figure in headless Chromium and checks that
// no text or line of it falls outside the SVG's box (what a browser cuts
// off): figures rendered here from a short E1 and E6-like run, and the
// figures committed in docs/plots. Without chromium it skips, unless
// VNIC_REQUIRE_BROWSER=1 (CI) makes that a failure.
func TestSVGInBrowser(t *testing.T) {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		if os.Getenv("VNIC_REQUIRE_BROWSER") == "1" {
			t.Fatal("no chromium on PATH and VNIC_REQUIRE_BROWSER=1")
		}
		t.Skip("no chromium on PATH")
	}
	dir := t.TempDir()
	e := Experiment{ID: "E1", Title: "t", Preset: "teaching", Pass: true, MLFRR: map[string]float64{"M1": 80e3},
		Searches: []SearchResult{{Mode: "M1", Rate: 80e3}}}
	for _, m := range []Mode{M0, M1, M8} {
		s := Series{Mode: m.ID}
		for _, l := range []float64{20e3, 40e3, 72e3, 120e3} {
			p, err := Measure(Run{Mode: m, Costs: Presets["teaching"], Offered: l, Warmup: Warmup, Window: 10 * time.Millisecond, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			s.Points = append(s.Points, p)
		}
		e.Series = append(e.Series, s)
	}
	if _, err := Plot(e, dir); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.svg"))
	committed, _ := filepath.Glob(filepath.Join("..", "..", "docs", "plots", "*.svg"))
	files = append(files, committed...)
	if len(committed) == 0 {
		t.Error("no figures in docs/plots")
	}
	out := svgOverflow(t, bin, files)
	for _, o := range out {
		t.Error(o)
	}
}

// svgOverflow renders the SVGs inline in one page and returns a line for
// every element whose box leaves its SVG's box by more than half a pixel.
func svgOverflow(t *testing.T, bin string, files []string) []string {
	t.Helper()
	var page strings.Builder
	page.WriteString("<!doctype html><html><body style=\"margin:0\">\n")
	decl := regexp.MustCompile(`<\?xml[^>]*\?>`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&page, "<div data-file=%q>%s</div>\n", html.EscapeString(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f)), decl.ReplaceAll(b, nil))
	}
	page.WriteString(`<pre id="result"></pre><script>
const out = [];
for (const d of document.querySelectorAll('div[data-file]')) {
  const svg = d.querySelector('svg');
  const r = svg.getBoundingClientRect();
  for (const el of svg.querySelectorAll('text, path, circle, line, polyline, polygon')) {
    const b = el.getBoundingClientRect();
    if (b.width === 0 && b.height === 0) continue;
    const over = [r.left - b.left, b.right - r.right, r.top - b.top, b.bottom - r.bottom];
    if (over.some(v => v > 0.5)) {
      out.push(d.dataset.file + ': <' + el.tagName + '> ' + (el.textContent || '').slice(0, 40) +
        ' out by ' + over.map(v => Math.max(0, v).toFixed(1)).join('/') + ' px (left/right/top/bottom)');
    }
  }
}
document.getElementById('result').textContent = JSON.stringify({checked: document.querySelectorAll('div[data-file]').length, out: out});
</script></body></html>`)
	path := filepath.Join(t.TempDir(), "figures.html")
	if err := os.WriteFile(path, []byte(page.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--dump-dom", "file://"+path)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v", bin, err)
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("%s: no answer in 2 minutes", bin)
	}
	m := regexp.MustCompile(`(?s)<pre id="result">(.*?)</pre>`).FindSubmatch(stdout.Bytes())
	if m == nil {
		t.Fatalf("no result in the page chromium dumped (%d bytes)", stdout.Len())
	}
	var res struct {
		Checked int
		Out     []string
	}
	if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &res); err != nil {
		t.Fatal(err)
	}
	if res.Checked != len(files) {
		t.Fatalf("chromium checked %d figures of %d", res.Checked, len(files))
	}
	return slices.Clip(res.Out)
}
