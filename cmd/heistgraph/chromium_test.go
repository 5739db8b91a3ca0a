package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// -docs rewrites docs/incident-report-2024.png from the screenshot that
// TestReportInChromium takes: go test ./cmd/heistgraph -run TestReportInChromium -docs
var updateDocs = flag.Bool("docs", false, "write the report screenshot to docs/incident-report-2024.png")

const docsScreenshot = "incident-report-2024.png"

// chromium returns the headless browser the HTML tests render with:
// $HEISTGRAPH_CHROMIUM, else chromium on the PATH or in /usr/bin. Outside CI
// the test skips without it; in CI (CI=1 or HEISTGRAPH_REQUIRE_NODES=1) it
// fails.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("HEISTGRAPH_CHROMIUM"), "chromium", "/usr/bin/chromium", "chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	msg := "chromium not found (install it with scripts/setup-chromium.sh, or set HEISTGRAPH_CHROMIUM)"
	if os.Getenv("CI") != "" || os.Getenv("HEISTGRAPH_REQUIRE_NODES") == "1" {
		t.Fatal(msg + "; CI requires it")
	}
	t.Skip(msg)
	return ""
}

// headless runs chromium on a local HTML file with the flags that keep it
// offline and self-contained, and returns its stdout.
func headless(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--hide-scrollbars", "--force-device-scale-factor=1"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, tail(stderr.String(), 2000))
	}
	return string(out)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// layoutProbe is appended to a copy of the report (the report itself
// carries no script) to read the laid-out geometry back through the DOM.
const layoutProbe = `<script>
(function () {
  const box = (el) => { const r = el.getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width, h: r.height}; };
  const out = {
    bars: [...document.querySelectorAll('#chart rect.bar')].map(box),
    chart: box(document.getElementById('chart')),
    total: document.getElementById('total-usd').textContent,
    totalBox: box(document.getElementById('total-usd')),
    count: document.getElementById('count').textContent,
    rows: document.querySelectorAll('#incidents tbody tr').length,
    cells: [...document.querySelectorAll('#incidents tbody td.num')].map((td) => td.textContent.trim()),
    sources: document.querySelectorAll('#sources li').length,
  };
  document.body.setAttribute('data-layout', JSON.stringify(out));
})();
</script>`

type layout struct {
	Bars     []rect   `json:"bars"`
	Chart    rect     `json:"chart"`
	Total    string   `json:"total"`
	TotalBox rect     `json:"totalBox"`
	Count    string   `json:"count"`
	Rows     int      `json:"rows"`
	Cells    []string `json:"cells"`
	Sources  int      `json:"sources"`
}

type rect struct{ X, Y, W, H float64 }

// TestReportInChromium writes the 2024 HTML report through the CLI, with
// prices imported, renders it in real headless Chromium, and checks what a
// reader sees: the total and the count from the JSON report, one table row
// per incident with its value, a chart whose bars are laid out with
// non-zero sizes inside the chart, and a screenshot with the bars' colour
// in it.
func TestReportInChromium(t *testing.T) {
	t.Parallel()
	bin := chromium(t)
	data := t.TempDir()
	mustOK(t, cli(t, "--data", data, "--quiet", "prices", "import", btcPrices, "--asset", "BTC"), "prices BTC")
	mustOK(t, cli(t, "--data", data, "--quiet", "prices", "import", ethPrices, "--asset", "ETH"), "prices ETH")
	page := filepath.Join(t.TempDir(), "report-2024.html")
	r := cli(t, "--data", data, "--json", "incidents", "report", "--year", "2024", "--html", page)
	mustOK(t, r, "report --html")
	rep := decodeNumbers[reportJSONTest](t, r.stdout)
	if rep.Count < 5 {
		t.Fatalf("2024 report of %d incidents", rep.Count)
	}
	src, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}

	// The DOM after layout, read back by the probe.
	probe := filepath.Join(t.TempDir(), "probe.html")
	if err := os.WriteFile(probe, []byte(strings.Replace(string(src), "</body>", layoutProbe+"</body>", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := headless(t, bin, "--dump-dom", "file://"+probe)
	m := regexp.MustCompile(`data-layout="([^"]*)"`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the probe left no layout in the DOM:\n%s", tail(dom, 500))
	}
	var lay layout
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &lay); err != nil {
		t.Fatal(err)
	}
	wantTotal := "$" + groupThousands(strings.Split(string(rep.TotalUSD), ".")[0])
	if lay.Total != wantTotal || lay.Count != fmt.Sprint(rep.Count) || lay.TotalBox.W <= 0 || lay.TotalBox.H <= 0 {
		t.Errorf("rendered total %q (box %+v), count %q; want %s and %d", lay.Total, lay.TotalBox, lay.Count, wantTotal, rep.Count)
	}
	if lay.Rows != rep.Count || len(lay.Cells) != rep.Count || lay.Sources == 0 {
		t.Errorf("rendered %d rows with %d values and %d sources, want %d", lay.Rows, len(lay.Cells), lay.Sources, rep.Count)
	}
	for i, ri := range rep.Incidents {
		if i < len(lay.Cells) && !strings.HasPrefix(lay.Cells[i], "$"+groupThousands(strings.Split(string(ri.USD), ".")[0])) {
			t.Errorf("row %d shows %q, want %s's %s", i, lay.Cells[i], ri.ID, ri.USD)
		}
	}
	if len(lay.Bars) < 3 || lay.Chart.W < 300 || lay.Chart.H < 100 {
		t.Fatalf("chart %+v with %d bars, want one per year of thefts (2019, 2022-2025)", lay.Chart, len(lay.Bars))
	}
	tallest := 0.0
	for i, b := range lay.Bars {
		if b.W <= 0 || b.H <= 0 || b.X < lay.Chart.X || b.Y < lay.Chart.Y || b.X+b.W > lay.Chart.X+lay.Chart.W+0.5 || b.Y+b.H > lay.Chart.Y+lay.Chart.H+0.5 {
			t.Errorf("bar %d laid out at %+v, outside the chart %+v or empty", i, b, lay.Chart)
		}
		tallest = max(tallest, b.H)
	}
	if tallest < 100 {
		t.Errorf("the tallest bar is %.0f px high: the chart is not drawn to scale", tallest)
	}

	// The pixels: a screenshot of the page as it opens.
	shot := filepath.Join(t.TempDir(), docsScreenshot)
	headless(t, bin, "--screenshot="+shot, "--window-size=1000,1500", "file://"+page)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1000 || b.Dy() != 1500 {
		t.Errorf("screenshot is %v, want 1000x1500", b)
	}
	ink, bars := pixels(img)
	total := img.Bounds().Dx() * img.Bounds().Dy()
	if ink < total/50 {
		t.Errorf("only %d of %d pixels are not white: a blank page", ink, total)
	}
	// Every bar is filled with the first actor's colour (#b3261e), and the
	// chart sits in the first screen; the smallest bars are a few pixels.
	if bars < int(tallest)*8 {
		t.Errorf("%d pixels of the bar colour, want at least %d (the tallest bar alone)", bars, int(tallest)*8)
	}
	if *updateDocs {
		b, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "..", "docs", docsScreenshot), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// pixels counts the pixels that are not near white, and those of the chart's
// first bar colour #b3261e (within anti-aliasing).
func pixels(img image.Image) (ink, bars int) {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			if r < 240 || g < 240 || bl < 240 {
				ink++
			}
			if near(r, 0xb3) && near(g, 0x26) && near(bl, 0x1e) {
				bars++
			}
		}
	}
	return ink, bars
}

func near(v, want uint32) bool { return v+6 >= want && v <= want+6 }

// groupThousands writes a decimal integer with commas: 659130000 -> 659,130,000.
func groupThousands(s string) string {
	var b strings.Builder
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
