package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"image/png"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/heistgraph/heistgraph/web"
)

// The web UI in real headless Chromium (driven with chromedp over the
// DevTools protocol), on a real serve process with the demo world: what the
// pages show is compared with what the API and the CLI answer for the same
// questions. go test ./cmd/heistgraph -run TestUIInChromium -docs also
// writes the pages' screenshots to docs/screenshots/.

// xssLabel is an entity name that would run script if a page parsed it as
// HTML.
const xssLabel = `<img src=x onerror=alert(1)>`

// uiWorld is the demo world served for the browser: demo --no-serve on a
// --data folder, an incident staged on its first heist (imported as STIX),
// an admin key, and the expected report, read before serve holds the store.
type uiWorld struct {
	data, key, chain string
	heist            []string // the first watch's seeds
	report           reportJSONTest
	// exports are the CLI's answers for the staged incident by the API
	// path that should answer the same bytes.
	exports map[string]string
	srv     *served
}

// stagedID is the incident newUIWorld stages on the first heist.
const stagedID = "synth-heist-2026"

// cliExports runs the CLI commands whose output the incident page's export
// routes serve, keyed by route.
func cliExports(t *testing.T, data string) map[string]string {
	t.Helper()
	r := cli(t, "--data", data, "--json", "incidents", "show", stagedID)
	mustOK(t, r, "incidents show")
	inc := decode[struct {
		Trace struct {
			Runs []struct {
				Chain  string   `json:"chain"`
				Policy string   `json:"policy"`
				Seeds  []string `json:"seeds"`
			} `json:"runs"`
		} `json:"trace"`
	}](t, r.stdout)
	if len(inc.Trace.Runs) == 0 {
		t.Fatal("the staged incident has no trace run")
	}
	run := inc.Trace.Runs[0]
	trace := []string{"--data", data, "trace", "--chain", run.Chain, "--policy", run.Policy, "--graphml", "-"}
	for _, s := range run.Seeds {
		trace = append(trace, "--seed", s)
	}
	out := map[string]string{}
	for path, args := range map[string][]string{
		"/v1/incidents/" + stagedID + "/stix":          {"--data", data, "export", "stix", "--incident", stagedID},
		"/v1/incidents/" + stagedID + "/report.html":   {"--data", data, "incidents", "report", "--incident", stagedID, "--include-suspected", "--html", "-"},
		"/v1/incidents/" + stagedID + "/graph.graphml": trace,
	} {
		r := cli(t, args...)
		mustOK(t, r, strings.Join(args[2:], " "))
		if len(r.stdout) < 200 {
			t.Fatalf("%s: %d bytes: %q", strings.Join(args[2:], " "), len(r.stdout), r.stdout)
		}
		out[path] = r.stdout
	}
	return out
}

func newUIWorld(t *testing.T) *uiWorld {
	t.Helper()
	w := &uiWorld{data: filepath.Join(t.TempDir(), "demo")}
	mustOK(t, cli(t, "--data", w.data, "--quiet", "demo", "--no-serve", "--seed", "1"), "demo --no-serve")
	r := cli(t, "--data", w.data, "--json", "watch", "list")
	mustOK(t, r, "watch list")
	watches := decode[struct {
		Watches []struct {
			Name  string   `json:"name"`
			Chain string   `json:"chain"`
			Seeds []string `json:"seeds"`
		} `json:"watches"`
	}](t, r.stdout).Watches
	if len(watches) == 0 {
		t.Fatal("the demo world has no watches")
	}
	w.heist, w.chain = watches[0].Seeds, watches[0].Chain
	var txids []string
	for _, s := range w.heist {
		if id, _, _ := strings.Cut(s, ":"); !slices.Contains(txids, id) {
			txids = append(txids, id)
		}
	}
	mustOK(t, cli(t, "--data", w.data, "--quiet", "import", "stix", stagedIncident(t, txids, 1)), "import the staged incident")
	_, w.key = createKey(t, w.data, "admin")
	r = cli(t, "--data", w.data, "--json", "incidents", "report")
	mustOK(t, r, "incidents report")
	w.report = decodeNumbers[reportJSONTest](t, r.stdout)
	w.exports = cliExports(t, w.data)
	w.srv = startServe(t, w.data)
	return w
}

// api calls the served API with the admin key and decodes the answer.
func (w *uiWorld) api(t *testing.T, method, path, body string, out any) {
	t.Helper()
	code, _, b := w.srv.call(t, method, path, w.key, body)
	if code != 200 {
		t.Fatalf("%s %s: %d %s", method, path, code, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// browser is one headless Chromium tab with what it reported: console
// errors, uncaught exceptions, log errors (failed loads) and dialogs.
type browser struct {
	ctx      context.Context
	mu       sync.Mutex
	problems []string
	dialogs  []string
}

func newBrowser(t *testing.T, bin string) (*browser, error) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 800), chromedp.UserDataDir(t.TempDir()), chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-device-scale-factor", "1"), chromedp.Flag("disable-quic", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	b := &browser{ctx: ctx}
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		return nil, fmt.Errorf("start chromium: %w", err)
	}
	dialogs := make(chan struct{}, 16)
	err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				b.problems = append(b.problems, "console."+string(e.Type)+": "+strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			msg := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
			b.problems = append(b.problems, "exception: "+msg)
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError {
				b.problems = append(b.problems, "log: "+e.Entry.Text+" "+e.Entry.URL)
			}
		case *page.EventJavascriptDialogOpening:
			b.dialogs = append(b.dialogs, string(e.Type)+": "+e.Message)
			select {
			case dialogs <- struct{}{}:
			default:
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("listen to chromium: %w", err)
	}
	// A dialog (there should be none) is dismissed, so the page goes on.
	go func() {
		for range dialogs {
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	t.Cleanup(func() { close(dialogs) })
	return b, nil
}

// run runs actions with a deadline, failing the test with what the page
// said when they fail.
func (b *browser) run(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(t, what, err)
	}
}

// fail ends the test with what the page shows and reported.
func (b *browser) fail(t *testing.T, what string, err error) {
	t.Helper()
	text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(document.getElementById('main')||document.body).innerText.slice(0, 600)`))
	t.Fatalf("%s: %v\npage: %s\nproblems: %v", what, err, text, b.report())
}

// evalInto is eval into *v.
func evalInto[T any](t *testing.T, b *browser, what, expr string, v *T) {
	t.Helper()
	*v = eval[T](t, b, what, expr)
}

// eval evaluates a JavaScript expression in the page and decodes its value.
func eval[T any](t *testing.T, b *browser, what, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fail(t, what, err)
	}
	return v
}

func (b *browser) report() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append(append([]string(nil), b.problems...), b.dialogs...)
}

// open goes to the UI page at hash and waits until it has drawn itself.
func (b *browser) open(t *testing.T, hash string) {
	t.Helper()
	b.run(t, "open "+hash, chromedp.Evaluate[chromedp.Void](`location.hash = `+jsString(hash)),
		chromedp.WaitVisible(chromedp.CSS(`#view[data-ready]`)))
}

// shot saves a screenshot of the viewport as docs/screenshots/NAME.png
// with -docs (else into a temporary folder) and checks it is not blank.
func (b *browser) shot(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.fail(t, "screenshot "+name, err)
	}
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if ink, _ := pixels(img); ink < img.Bounds().Dx()*img.Bounds().Dy()/50 {
		t.Errorf("screenshot %s: %d pixels not white: a blank page", name, ink)
	}
	dir := t.TempDir()
	if *updateDocs {
		dir = filepath.Join("..", "..", "docs", "screenshots")
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// login opens the UI and logs in with key through the form.
func (b *browser) login(t *testing.T, url, key string) {
	t.Helper()
	b.run(t, "login", chromedp.Navigate(url+"/#/"), chromedp.WaitVisible(chromedp.CSS(`#key`)),
		chromedp.SendKeys(chromedp.CSS(`#key`), key), chromedp.Click(chromedp.CSS(`#login button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#view[data-ready]`)), chromedp.WaitVisible(chromedp.CSS(`body[data-live]`)))
}

// TestUIInChromium drives every page of the UI in Chromium on the demo
// world and checks each against the API and the CLI.
func TestUIInChromium(t *testing.T) {
	bin := chromium(t)
	start := time.Now()
	// Chromium starts while the world is built.
	type started struct {
		b   *browser
		err error
	}
	up := make(chan started, 1)
	go func() {
		b, err := newBrowser(t, bin)
		up <- started{b, err}
	}()
	w := newUIWorld(t)
	t.Logf("world served in %v", time.Since(start))
	s := <-up
	if s.err != nil {
		t.Fatal(s.err)
	}
	b := s.b
	t.Logf("browser up in %v", time.Since(start))

	// The incident's exports answer what the CLI writes for it (before the
	// XSS label below changes any entity).
	t.Run("exports", func(t *testing.T) {
		for path, want := range w.exports {
			code, h, got := w.srv.call(t, "GET", path, w.key, "")
			if code != 200 || string(got) != want {
				t.Errorf("GET %s: %d, %d bytes; the CLI wrote %d bytes (equal: %v)", path, code, len(got), len(want), string(got) == want)
			}
			if !strings.Contains(h.Get("Content-Disposition"), "attachment") {
				t.Errorf("GET %s: Content-Disposition %q", path, h.Get("Content-Disposition"))
			}
		}
		for _, c := range []struct {
			path string
			code int
		}{{"/v1/incidents/no-such-incident/stix", 404}, {"/v1/incidents/no-such-incident/report.html", 404},
			{"/v1/incidents/no-such-incident/graph.graphml", 404}, {"/v1/incidents/" + stagedID + "/graph.graphml?chain=btc-nope", 400},
			{"/v1/incidents/" + stagedID + "/graph.graphml?chain=btc", 404}} {
			if code, _, b := w.srv.call(t, "GET", c.path, w.key, ""); code != c.code {
				t.Errorf("GET %s: %d %s, want %d", c.path, code, b, c.code)
			}
		}
		if code, _, _ := w.srv.call(t, "GET", "/v1/incidents/"+stagedID+"/stix", "", ""); code != 401 {
			t.Errorf("GET the STIX export without a key: %d, want 401", code)
		}
	})

	// The XSS label: stored through the API on an address of the world's
	// first block (category unknown: it stops no trace).
	var blk struct {
		TxIDs []string `json:"txids"`
	}
	w.api(t, "GET", "/v1/blocks/"+w.chain+"/1", "", &blk)
	var tx struct {
		Outputs []struct {
			Address string `json:"address"`
		} `json:"outputs"`
	}
	w.api(t, "GET", "/v1/txs/"+w.chain+"/"+blk.TxIDs[0], "", &tx)
	xssAddr := tx.Outputs[0].Address
	body, _ := json.Marshal(map[string]any{"labels": []map[string]any{{"chain": w.chain, "address": xssAddr, "entity": xssLabel,
		"category": "unknown", "source": "ui-test", "confidence": 1}}})
	w.api(t, "POST", "/v1/labels", string(body), nil)

	b.login(t, w.srv.url, w.key)
	t.Logf("logged in at %v", time.Since(start))
	t.Run("dashboard", func(t *testing.T) { uiDashboard(t, b, w) })
	t.Run("incident", func(t *testing.T) { uiIncident(t, b, w) })
	t.Run("screening", func(t *testing.T) { uiScreening(t, b, w) })
	t.Run("live alert", func(t *testing.T) { uiLiveAlert(t, b, w) })
	t.Run("xss", func(t *testing.T) { uiXSS(t, b, w, xssAddr) })
	t.Run("workbench", func(t *testing.T) { uiWorkbench(t, b, w) })
	t.Run("alerts", func(t *testing.T) { uiAlerts(t, b, w) })
	t.Run("keyboard", func(t *testing.T) {
		// Enter on a focused link of the menu opens its page, and the focus
		// moves to the page's heading.
		b.run(t, "enter on Screening", chromedp.SendKeys(chromedp.CSS(`#nav a[href="#/screen"]`), kb.Enter),
			chromedp.WaitVisible(chromedp.CSS(`#view[data-page=screen][data-ready]`)))
		if got := eval[string](t, b, "focus", `document.activeElement.tagName + ' ' + document.activeElement.textContent`); got != "H1 Screening" {
			t.Errorf("focus after Enter on the menu: %q, want the heading", got)
		}
	})
	t.Run("narrow", func(t *testing.T) {
		// On a phone-sized screen the pages reflow: nothing wider than the
		// screen but the graphs' and tables' own scrolling boxes.
		b.run(t, "narrow", chromedp.EmulateViewport(390, 844))
		defer b.run(t, "wide again", chromedp.EmulateReset())
		for _, hash := range []string{"#/", "#/screen", "#/incident/synth-heist-2026"} {
			b.open(t, hash)
			if w := eval[int](t, b, "width", `document.documentElement.scrollWidth`); w > 390 {
				t.Errorf("%s is %d px wide on a 390 px screen", hash, w)
			}
		}
		b.open(t, "#/")
		b.shot(t, "dashboard-narrow")
	})
	t.Run("admin", func(t *testing.T) {
		b.open(t, "#/admin")
		var keys int
		evalInto(t, b, "keys", `document.querySelectorAll('#keys tbody tr').length`, &keys)
		if keys < 1 {
			t.Errorf("admin page lists %d keys", keys)
		}
		b.shot(t, "admin")
	})
	if p := b.report(); len(p) > 0 {
		t.Errorf("the browser reported problems or dialogs:\n%s", strings.Join(p, "\n"))
	}
}

func uiDashboard(t *testing.T, b *browser, w *uiWorld) {
	b.open(t, "#/")
	var got struct {
		Total string     `json:"total"`
		Count string     `json:"count"`
		Years [][]string `json:"years"`
	}
	evalInto(t, b, "read totals", `({total: document.getElementById('total-usd').textContent,
		count: document.getElementById('incident-count').textContent,
		years: [...document.querySelectorAll('#by-year tbody tr')].map((tr) => [...tr.cells].map((c) => c.textContent))})`, &got)
	rep := w.report
	if want := usdString(string(rep.TotalUSD)); got.Total != want || got.Count != fmt.Sprint(rep.Count) {
		t.Errorf("dashboard total %q over %s incidents; incidents report --json: %s over %d", got.Total, got.Count, want, rep.Count)
	}
	years := map[string][2]int64{}
	for _, i := range rep.Incidents {
		y := years[i.StolenOn[:4]]
		years[i.StolenOn[:4]] = [2]int64{y[0] + centsOf(t, string(i.USD)), y[1] + 1}
	}
	if len(got.Years) != len(years) {
		t.Errorf("dashboard has %d years, the report %d", len(got.Years), len(years))
	}
	for _, row := range got.Years {
		y := years[row[0]]
		if want := usdString(fmt.Sprintf("%d.%02d", y[0]/100, y[0]%100)); row[1] != want || row[2] != fmt.Sprint(y[1]) {
			t.Errorf("dashboard year %s: %s over %s; report: %s over %d", row[0], row[1], row[2], want, y[1])
		}
	}
	// The watches' traces fill in where their money is.
	b.run(t, "watch traces", chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('#watches tr')].every((tr) => !tr.textContent.includes('…'))`,
		chromedp.WithPollingTimeout(15*time.Second)))
	b.shot(t, "dashboard")
}

// usdString writes a report's USD figure ("659130000.5" or "1.00") as the
// dashboard does: "$659,130,000.50".
func usdString(s string) string {
	whole, frac, _ := strings.Cut(s, ".")
	frac = (frac + "00")[:2]
	return "$" + groupThousands(whole) + "." + frac
}

func centsOf(t *testing.T, s string) int64 {
	t.Helper()
	whole, frac, _ := strings.Cut(s, ".")
	var w, f int64
	if _, err := fmt.Sscan(whole, &w); err != nil {
		t.Fatalf("usd %q: %v", s, err)
	}
	if frac != "" {
		if _, err := fmt.Sscan((frac + "00")[:2], &f); err != nil {
			t.Fatalf("usd %q: %v", s, err)
		}
	}
	return w*100 + f
}

// graphNodes is what the drawn graph holds: the ids of its nodes, its
// sinks (txid:vout kind amount) and the nodes that have hidden next hops.
type graphNodes struct {
	Nodes      []string `json:"nodes"`
	Sinks      []string `json:"sinks"`
	ModelSinks []string `json:"modelSinks"`
	More       []string `json:"more"`
}

const readGraph = `(() => { const g = window.__hg.graph; const key = (s) => s.txid + ':' + s.vout + ' ' + s.kind + ' ' + s.amount_sat;
  return {nodes: g.cy.nodes().map((n) => n.id()),
    sinks: g.cy.nodes('.sink').map((n) => key(g.base.nodes.get(n.id()).sink)),
    modelSinks: [...g.base.nodes.values()].filter((n) => n.type === 'sink').map((n) => key(n.sink)),
    more: g.expandable()}; })()`

func uiIncident(t *testing.T, b *browser, w *uiWorld) {
	var inc struct {
		Trace struct {
			Runs []struct {
				Sinks []sinkKey `json:"sinks"`
			} `json:"runs"`
		} `json:"trace"`
	}
	w.api(t, "GET", "/v1/incidents/synth-heist-2026", "", &inc)
	if len(inc.Trace.Runs) != 1 || len(inc.Trace.Runs[0].Sinks) == 0 {
		t.Fatalf("the staged incident's trace: %+v", inc.Trace)
	}
	var want []string
	for _, s := range inc.Trace.Runs[0].Sinks {
		want = append(want, fmt.Sprintf("%s:%d %s %d", s.TxID, s.Vout, s.Kind, s.AmountSat))
	}
	slices.Sort(want)
	start := time.Now()
	b.open(t, "#/incident/synth-heist-2026")
	b.run(t, "graph drawn", chromedp.WaitVisible(chromedp.CSS(`#incident-graph[data-nodes]`)))
	var g graphNodes
	evalInto(t, b, "read graph", readGraph, &g)
	t.Logf("incident graph: %d nodes drawn of %d, in %v (render %s ms)", len(g.Nodes), eval[int](t, b, "size", `window.__hg.graph.model.nodes.size`), time.Since(start),
		eval[string](t, b, "ms", `document.getElementById('incident-graph').getAttribute('data-render-ms')`))
	slices.Sort(g.ModelSinks)
	if !slices.Equal(g.ModelSinks, want) {
		t.Errorf("the incident graph's sinks differ from GET /v1/incidents/{id}'s:\n got %v\nwant %v", g.ModelSinks, want)
	}
	for _, s := range g.Sinks {
		if !slices.Contains(want, s) {
			t.Errorf("the graph draws sink %s, which the API does not have", s)
		}
	}
	if len(g.More) == 0 {
		t.Fatalf("no node with hidden next hops to click (%d nodes drawn, %d sinks)", len(g.Nodes), len(g.ModelSinks))
	}
	b.shot(t, "incident")
	b.run(t, "scroll to the graph", chromedp.ScrollIntoView(chromedp.CSS(`#incident-graph`)))
	b.shot(t, "incident-graph")
	uiExportLinks(t, b, w)
	uiPeelChain(t, b)
	evalInto(t, b, "read graph again", readGraph, &g)

	// A real click on the canvas, at a node with hidden next hops, opens
	// exactly its next hops.
	var target struct {
		ID       string   `json:"id"`
		X        float64  `json:"x"`
		Y        float64  `json:"y"`
		Children []string `json:"children"`
	}
	b.run(t, "scroll", chromedp.ScrollIntoView(chromedp.CSS(`#incident-graph`)))
	time.Sleep(600 * time.Millisecond) // cytoscape ignores taps while the page scrolls (250 ms)
	evalInto(t, b, "pick node", `(() => { const g = window.__hg.graph; const box = document.getElementById('incident-graph').getBoundingClientRect();
	  const n = g.cy.nodes('.tx.more').filter((n) => { const p = n.renderedPosition(); return p.x > 10 && p.y > 10 && p.x < box.width - 10 && p.y < box.height - 10; })[0];
	  const p = n.renderedPosition();
	  return {id: n.id(), x: box.left + p.x, y: box.top + p.y, children: g.model.children.get(n.id()).filter((c) => !g.shown.has(c))}; })()`, &target)
	if len(target.Children) == 0 {
		t.Fatalf("node %s has no hidden next hops", target.ID)
	}
	b.run(t, "click node", chromedp.MouseClickXY(target.X, target.Y))
	var after graphNodes
	b.run(t, "expanded", chromedp.Poll[chromedp.Void](`document.getElementById('incident-graph').getAttribute('data-nodes') > `+fmt.Sprint(len(g.Nodes)),
		chromedp.WithPollingTimeout(5*time.Second)))
	evalInto(t, b, "read expanded", readGraph, &after)
	for _, c := range target.Children {
		if !slices.Contains(after.Nodes, c) {
			t.Errorf("after clicking %s, its next hop %s is not drawn", target.ID, c)
		}
	}
	if len(after.Nodes) != len(g.Nodes)+len(target.Children) {
		t.Errorf("clicking %s went from %d to %d nodes, want %d more", target.ID, len(g.Nodes), len(after.Nodes), len(target.Children))
	}
	// The clicked node's panel takes a note, shown as text (never markup).
	b.run(t, "annotate", chromedp.SetValue(chromedp.CSS(`#node-detail textarea[name=note]`), xssLabel),
		chromedp.Click(chromedp.CSS(`#node-detail .note-form button`)),
		chromedp.Poll[chromedp.Void](`document.querySelector('#node-detail .note').textContent === `+jsString(xssLabel)))
	if n := eval[int](t, b, "imgs", `document.querySelectorAll('#main img').length`); n != 0 {
		t.Errorf("%d img elements after the note", n)
	}
	if l := eval[string](t, b, "label", `window.__hg.graph.cy.getElementById(`+jsString(target.ID)+`).data('label')`); !strings.HasSuffix(l, " ✎ "+xssLabel) {
		t.Errorf("the annotated node's label is %q", l)
	}
	uiSVG(t, b)
	// Every node opened, the graph draws exactly the API's sinks.
	var all []string
	evalInto(t, b, "open all", `(() => { const g = window.__hg.graph; g.expandAll();
	  return g.cy.nodes('.sink').map((n) => { const s = g.base.nodes.get(n.id()).sink; return s.txid + ':' + s.vout + ' ' + s.kind + ' ' + s.amount_sat; }); })()`, &all)
	slices.Sort(all)
	if !slices.Equal(all, want) {
		t.Errorf("fully opened, the graph draws %d sinks, the API has %d", len(all), len(want))
	}
}

// uiExportLinks: the incident page links its STIX, HTML report and
// GraphML exports; a click on one saves the API's answer, which is what the
// CLI writes.
func uiExportLinks(t *testing.T, b *browser, w *uiWorld) {
	var links map[string]string
	evalInto(t, b, "export links", `Object.fromEntries([...document.querySelectorAll('#incident-exports a.export')].map((a) => [a.getAttribute('href'), a.getAttribute('download')]))`, &links)
	if len(links) != len(w.exports) {
		t.Errorf("the incident page links %d exports (%v), want %d", len(links), links, len(w.exports))
	}
	for path := range w.exports {
		if links[path] == "" {
			t.Errorf("the incident page has no export link to %s", path)
		}
	}
	stix := "/v1/incidents/" + stagedID + "/stix"
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
		t.Fatalf("allow downloads: %v", err)
	}
	b.run(t, "click the STIX link", chromedp.Click(chromedp.CSS(`#incident-exports a[href="`+stix+`"]`), chromedp.NodeVisible))
	file := filepath.Join(dir, links[stix])
	var got []byte
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if b, err := os.ReadFile(file); err == nil && len(b) == len(w.exports[stix]) {
			got = b
			break
		}
	}
	if string(got) != w.exports[stix] {
		ls, _ := os.ReadDir(dir)
		t.Errorf("the STIX link saved %d bytes as %s (folder: %v); export stix --incident wrote %d", len(got), file, ls, len(w.exports[stix]))
	}
}

// uiPeelChain: the incident's peel chains are drawn collapsed, one node
// labelled with the chain's length and what it peeled; a real click opens
// it back into its steps.
func uiPeelChain(t *testing.T, b *browser) {
	var peel struct {
		ID      string   `json:"id"`
		Label   string   `json:"label"`
		Length  int      `json:"length"`
		Peeled  int64    `json:"peeled"`
		Members []string `json:"members"`
		Drawn   []string `json:"drawn"` // members drawn while collapsed
		Nodes   int      `json:"nodes"`
		Hops    int      `json:"hops"` // transactions the drawn nodes stand for
		Txs     int      `json:"txs"`  // transaction and group nodes drawn
		X       float64  `json:"x"`
		Y       float64  `json:"y"`
	}
	b.run(t, "scroll to the graph", chromedp.ScrollIntoView(chromedp.CSS(`#incident-graph`)))
	time.Sleep(600 * time.Millisecond) // cytoscape ignores taps while the page scrolls (250 ms)
	evalInto(t, b, "pick a peel chain", `(() => { const g = window.__hg.graph; const box = document.getElementById('incident-graph').getBoundingClientRect();
	  const inside = (n) => { const p = n.renderedPosition(); return p.x > 10 && p.y > 10 && p.x < box.width - 10 && p.y < box.height - 10 &&
	    box.top + p.y > 5 && box.top + p.y < innerHeight - 5 && box.left + p.x < innerWidth - 5; };
	  const n = g.cy.nodes('.peel_chain').filter(inside)[0];
	  if (!n) return {nodes: g.cy.nodes().length};
	  const grp = g.groups.byID.get(n.id()); const p = n.renderedPosition();
	  let hops = 0, txs = 0;
	  g.cy.nodes().forEach((m) => { const x = g.model.nodes.get(m.id()); if (x.type !== 'sink') { txs++; hops += x.members ? x.members.filter((id) => g.base.nodes.get(id).type === 'tx').length : 1; } });
	  return {id: n.id(), label: n.data('label'), length: grp.event.length, peeled: grp.event.total_peeled, members: grp.members,
	    drawn: grp.members.filter((id) => g.cy.getElementById(id).nonempty()), nodes: g.cy.nodes().length, hops, txs,
	    x: box.left + p.x, y: box.top + p.y}; })()`, &peel)
	if peel.ID == "" {
		t.Fatalf("no peel chain drawn in the incident graph (%d nodes): the demo's first heist has peel chains", peel.Nodes)
	}
	if want := fmt.Sprintf("peel chain ×%d · peeled %s", peel.Length, btcText(peel.Peeled)); !strings.HasPrefix(peel.Label, want) {
		t.Errorf("peel chain node %s is labelled %q, want %q", peel.ID, peel.Label, want)
	}
	if len(peel.Members) != peel.Length || len(peel.Drawn) != 0 {
		t.Errorf("peel chain %s of length %d stands for %d transactions, %d of them drawn too", peel.ID, peel.Length, len(peel.Members), len(peel.Drawn))
	}
	if peel.Txs >= peel.Hops {
		t.Errorf("the graph draws %d transaction nodes for %d transactions: nothing collapsed", peel.Txs, peel.Hops)
	}
	b.run(t, "click the peel chain", chromedp.MouseClickXY(peel.X, peel.Y))
	b.run(t, "opened", chromedp.Poll[chromedp.Void](`document.getElementById('incident-graph').getAttribute('data-nodes') == `+fmt.Sprint(peel.Nodes+peel.Length-1),
		chromedp.WithPollingTimeout(5*time.Second)))
	var after struct {
		Gone   bool     `json:"gone"`
		Drawn  []string `json:"drawn"`
		Panel  string   `json:"panel"`
		Linked bool     `json:"linked"` // each step but the last feeds the next
	}
	evalInto(t, b, "read opened", `(() => { const g = window.__hg.graph; const ids = `+jsonOf(peel.Members)+`;
	  return {gone: g.cy.getElementById(`+jsString(peel.ID)+`).empty(), drawn: ids.filter((id) => g.cy.getElementById(id).nonempty()),
	    panel: document.querySelector('#node-detail h2').textContent,
	    linked: ids.slice(1).every((id, i) => g.cy.getElementById(ids[i]).edgesTo(g.cy.getElementById(id)).nonempty())}; })()`, &after)
	if !after.Gone || len(after.Drawn) != len(peel.Members) || !after.Linked {
		t.Errorf("after the click, peel chain node %s gone: %v; its %d steps drawn: %d, linked in order: %v", peel.ID, after.Gone, len(peel.Members), len(after.Drawn), after.Linked)
	}
	if want := fmt.Sprintf("Peel chain of %d steps", peel.Length); after.Panel != want {
		t.Errorf("the panel says %q, want %q", after.Panel, want)
	}
	// The screenshot zooms on the opened chain and what it touches.
	b.run(t, "zoom on the chain", chromedp.Evaluate[chromedp.Void](`(() => { const g = window.__hg.graph;
	  g.cy.fit(g.cy.collection(`+jsonOf(peel.Members)+`.map((id) => g.cy.getElementById(id))).closedNeighborhood(), 30); })()`),
		chromedp.ScrollIntoView(chromedp.CSS(`#incident-graph`)))
	b.shot(t, "incident-peel-chain")
	// CoinJoins collapse too: the transaction and the mixer sinks at it.
	var cj struct {
		Groups int      `json:"groups"`
		Bad    []string `json:"bad"`
		Opened struct {
			ID      string `json:"id"`
			Added   int    `json:"added"`
			Members int    `json:"members"`
			Drawn   int    `json:"drawn"`
			Gone    bool   `json:"gone"`
		} `json:"opened"`
	}
	evalInto(t, b, "coinjoins", `(() => { const g = window.__hg.graph; const bad = []; let n = 0;
	  for (const grp of g.groups.byID.values()) { if (grp.type !== 'coinjoin') continue; n++;
	    const [tx, ...sinks] = grp.members;
	    if (tx !== grp.event.txid || !sinks.length) bad.push(grp.id);
	    for (const id of sinks) { const s = g.base.nodes.get(id).sink; if (s.txid !== tx || s.entity !== 'coinjoin/' + grp.event.subtype) bad.push(id); } }
	  // One CoinJoin opened: its transaction and mixer sinks take its place.
	  // (The hops up to the nearest one are opened first, a click each.)
	  const cjs = [...g.model.nodes.values()].filter((x) => x.type === 'coinjoin').sort((a, b) => a.depth - b.depth);
	  if (cjs.length) { const parent = new Map(g.model.edges.map((e) => [e.target, e.source])); const path = [];
	    for (let id = parent.get(cjs[0].id); id !== undefined && !g.shown.has(cjs[0].id); id = parent.get(id)) path.unshift(id);
	    for (const id of path) if (g.shown.has(id)) g.expand(id); }
	  const node = g.cy.nodes('.coinjoin')[0]; let opened = {};
	  if (node) { const grp = g.groups.byID.get(node.id()); const added = g.expand(node.id());
	    opened = {id: node.id(), added, members: grp.members.length, drawn: grp.members.filter((id) => g.cy.getElementById(id).nonempty()).length,
	      gone: g.cy.getElementById(node.id()).empty()}; }
	  return {groups: n, bad, opened}; })()`, &cj)
	if cj.Groups == 0 || len(cj.Bad) > 0 {
		t.Errorf("%d CoinJoins collapsed; wrong members: %v", cj.Groups, cj.Bad)
	}
	if o := cj.Opened; o.ID == "" {
		t.Error("no CoinJoin drawn in the incident graph after opening the hops to one (the demo's first heist reaches some)")
	} else if !o.Gone || o.Drawn != o.Members || o.Added != o.Members-1 {
		t.Errorf("opening CoinJoin %s: gone %v, %d of its %d members drawn, %d nodes added", o.ID, o.Gone, o.Drawn, o.Members, o.Added)
	}
}

// btcText writes satoshis as the UI does: "21.56372316 BTC".
func btcText(sat int64) string {
	return groupThousands(fmt.Sprint(sat/100_000_000)) + fmt.Sprintf(".%08d BTC", sat%100_000_000)
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// uiSVG: the graph's SVG export is well-formed XML holding every drawn
// node, with the annotated label (the XSS string) as text and no markup.
func uiSVG(t *testing.T, b *browser) {
	var out struct {
		SVG   string `json:"svg"`
		Nodes int    `json:"nodes"`
	}
	evalInto(t, b, "svg", `(() => { const g = window.__hg.graph; return {svg: g.svg(), nodes: g.cy.nodes().length}; })()`, &out)
	dec := xml.NewDecoder(strings.NewReader(out.SVG))
	var stack []string
	nodes, texts := 0, []string{}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the SVG export is not well-formed XML: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			stack = append(stack, e.Name.Local)
			if e.Name.Space != "http://www.w3.org/2000/svg" || e.Name.Local == "img" || e.Name.Local == "script" || e.Name.Local == "foreignObject" {
				t.Errorf("the SVG export has element {%s}%s", e.Name.Space, e.Name.Local)
			}
			for _, a := range e.Attr {
				if a.Name.Local == "class" && strings.HasPrefix(a.Value, "node ") {
					nodes++
				}
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 && stack[len(stack)-1] == "text" {
				texts = append(texts, string(e))
			}
		}
	}
	if nodes != out.Nodes {
		t.Errorf("the SVG export draws %d nodes, the graph %d", nodes, out.Nodes)
	}
	found := false
	for _, x := range texts {
		found = found || strings.HasSuffix(x, " ✎ "+xssLabel)
	}
	if !found {
		t.Errorf("the SVG export has no text ending with the note %q", xssLabel)
	}
}

// alertsTest is what the UI tests read of GET /v1/alerts.
type alertsTest struct {
	Alerts []struct {
		ID      string `json:"id"`
		Address string `json:"address"`
		Acked   int64  `json:"acked"`
	} `json:"alerts"`
}

func uiScreening(t *testing.T, b *browser, w *uiWorld) {
	var alerts alertsTest
	w.api(t, "GET", "/v1/alerts?kind=funds_reached_entity&limit=2", "", &alerts)
	if len(alerts.Alerts) == 0 {
		t.Fatal("no alert to screen the address of")
	}
	addrs := []string{alerts.Alerts[0].Address}
	for _, a := range alerts.Alerts[1:] {
		if !slices.Contains(addrs, a.Address) {
			addrs = append(addrs, a.Address)
		}
	}
	items := []map[string]string{}
	for _, a := range addrs {
		items = append(items, map[string]string{"chain": w.chain, "address": a})
	}
	body, _ := json.Marshal(map[string]any{"items": items})
	var want struct {
		Results []struct {
			Address string   `json:"address"`
			Risk    string   `json:"risk"`
			Reasons []string `json:"reasons"`
		} `json:"results"`
	}
	w.api(t, "POST", "/v1/screen", string(body), &want)
	b.open(t, "#/screen")
	b.run(t, "screen", chromedp.SetValue(chromedp.CSS(`#screen-form input[name=chain]`), w.chain),
		chromedp.SendKeys(chromedp.CSS(`#screen-addresses`), strings.Join(addrs, "\n")),
		chromedp.Click(chromedp.CSS(`#screen-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#screen-results`)))
	var rows [][]string
	evalInto(t, b, "read results", `[...document.querySelectorAll('#screen-results tbody tr')].map((tr) =>
	  [tr.cells[0].textContent, tr.cells[1].textContent, ...[...tr.cells[5].querySelectorAll('li')].map((li) => li.textContent)])`, &rows)
	if len(rows) != len(want.Results) {
		t.Fatalf("the page shows %d results, the API %d", len(rows), len(want.Results))
	}
	for i, r := range want.Results {
		if got := rows[i]; got[0] != r.Address || got[1] != r.Risk || !slices.Equal(got[2:], r.Reasons) {
			t.Errorf("result %d: page %q, API %s %s %q", i, got, r.Address, r.Risk, r.Reasons)
		}
	}
	if want.Results[0].Risk == "none" {
		t.Errorf("the address stolen coins reached screens as risk none")
	}
	b.shot(t, "screening")
}

func uiLiveAlert(t *testing.T, b *browser, w *uiWorld) {
	b.open(t, "#/")
	b.run(t, "mark the page", chromedp.Evaluate[chromedp.Void](`window.__noReload = 1`), chromedp.WaitVisible(chromedp.CSS(`body[data-live]`)))
	// A new watch on the first heist: the monitor raises its alerts at once.
	body, _ := json.Marshal(map[string]any{"name": "ui-live", "chain": w.chain, "seeds": w.heist})
	w.api(t, "POST", "/v1/watchlists", string(body), nil)
	var raised alertsTest
	w.api(t, "GET", "/v1/alerts?watch=ui-live", "", &raised)
	if len(raised.Alerts) == 0 {
		t.Fatal("the new watch raised no alerts")
	}
	for _, a := range []string{raised.Alerts[0].ID, raised.Alerts[len(raised.Alerts)-1].ID} {
		b.run(t, "alert "+a+" appears", chromedp.WaitVisible(chromedp.CSS(`#alert-queue tr[data-alert="`+a+`"]`)))
	}
	var same bool
	evalInto(t, b, "no reload", `window.__noReload === 1`, &same)
	if !same {
		t.Error("the page reloaded to show the alert")
	}
	b.shot(t, "dashboard-live-alert")
}

func uiXSS(t *testing.T, b *browser, w *uiWorld, addr string) {
	b.open(t, "#/address/"+w.chain+"/"+addr)
	var got struct {
		Labels []string `json:"labels"`
		Imgs   int      `json:"imgs"`
	}
	evalInto(t, b, "read labels", `({labels: [...document.querySelectorAll('.label-entity')].map((e) => e.textContent),
	  imgs: document.querySelectorAll('#main img').length})`, &got)
	if !slices.Contains(got.Labels, xssLabel) || got.Imgs != 0 {
		t.Errorf("address page labels %q with %d img elements; want the label %q shown as text and no img", got.Labels, got.Imgs, xssLabel)
	}
	b.shot(t, "address")
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.dialogs) > 0 {
		t.Errorf("a dialog opened: %v", b.dialogs)
	}
}

func uiWorkbench(t *testing.T, b *browser, w *uiWorld) {
	// Four hops keep the five graphs small.
	hash := "#/trace?chain=" + w.chain + "&seed=" + strings.Join(w.heist, ",") + "&policy=haircut&compare=1&max_hops=4"
	b.open(t, hash)
	var policies []string
	evalInto(t, b, "compare", `[...document.querySelectorAll('.graph[data-nodes]')].map((g) => g.getAttribute('data-policy'))`, &policies)
	if len(policies) != 5 {
		t.Errorf("compare draws graphs for %v, want the five policies", policies)
	}
	b.shot(t, "trace-compare")
	// A deep link with an opened node reproduces the view.
	b.open(t, "#/trace?chain="+w.chain+"&seed="+strings.Join(w.heist, ",")+"&policy=fifo&max_hops=6")
	var first graphNodes
	evalInto(t, b, "read", readGraph, &first)
	if len(first.More) == 0 {
		t.Skip("the fifo graph opens whole: no deep link to check")
	}
	open := first.More[0]
	b.open(t, "#/trace?chain="+w.chain+"&seed="+strings.Join(w.heist, ",")+"&policy=fifo&max_hops=6&open="+open)
	var linked graphNodes
	evalInto(t, b, "read linked", readGraph, &linked)
	if len(linked.Nodes) <= len(first.Nodes) || slices.Contains(linked.More, open) {
		t.Errorf("the deep link opening %s draws %d nodes (closed: %d)", open, len(linked.Nodes), len(first.Nodes))
	}
	b.run(t, "scroll to the graph", chromedp.ScrollIntoView(chromedp.CSS(`.graph`)))
	b.shot(t, "trace")
}

func uiAlerts(t *testing.T, b *browser, w *uiWorld) {
	b.open(t, "#/alerts?watch=ui-live")
	var id string
	evalInto(t, b, "alert to ack", `document.querySelector('button[data-ack]').getAttribute('data-ack')`, &id)
	b.run(t, "ack", chromedp.Click(chromedp.CSS(`button[data-ack]`), chromedp.NodeVisible),
		chromedp.WaitNotPresent(chromedp.CSS(`button[data-ack="`+id+`"]`)))
	var list alertsTest
	w.api(t, "GET", "/v1/alerts?watch=ui-live", "", &list)
	acked := false
	for _, a := range list.Alerts {
		acked = acked || (a.ID == id && a.Acked != 0)
	}
	if !acked {
		t.Errorf("alert %s acknowledged on the page is not acked in the API", id)
	}
	b.shot(t, "alerts")
}

// syntheticTrace is a trace result of n nodes for the render benchmark: a
// binary tree of n/2 transactions, each with one sink (kinds and entity
// categories in turn), in trace --json's shape.
func syntheticTrace(n int) string {
	txs := n / 2
	id := func(i int) string { return fmt.Sprintf("%064x", i+1) }
	kinds := []string{"entity", "unspent", "threshold", "hop_limit"}
	cats := []string{"exchange", "mixer", "bridge"}
	var edges, sinks []map[string]any
	for i := range txs {
		for _, c := range []int{2*i + 1, 2*i + 2} {
			if c < txs {
				edges = append(edges, map[string]any{"from": id(i), "to": id(c), "amount_sat": 100000 >> min(20, c%20), "outputs": 1})
			}
		}
		s := map[string]any{"kind": kinds[i%4], "txid": id(i), "vout": 0, "address": fmt.Sprintf("bcrt1qsynthetic%d", i), "amount_sat": 1000 + i, "hops": 1}
		if i%4 == 0 {
			s["entity"], s["category"] = fmt.Sprintf("Service %d", i%7), cats[i%3]
		}
		sinks = append(sinks, s)
	}
	b, _ := json.Marshal(map[string]any{"policy": "haircut", "seeds": []string{id(0)}, "seed_amount_sat": 10000000, "sinks": sinks, "edges": edges})
	return string(b)
}

// fcpJS waits for the page's first contentful paint and returns its time.
const fcpJS = `new Promise((resolve) => { const f = () => { const e = performance.getEntriesByName('first-contentful-paint')[0];
  if (e) resolve(e.startTime); else setTimeout(f, 20); }; f(); })`

// benchRuns is how many times each UI timing is taken (the median is
// reported).
const benchRuns = 7

func median(xs []float64) float64 {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs[len(xs)/2]
}

// loadavg is the machine's 1-minute load average (/proc/loadavg), or "?".
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// TestUITimings measures, in Chromium on the demo world, the UI's first
// contentful paint and the time until the dashboard shows its data (the
// login page's first paint as the reference), each the median of
// benchRuns. It asserts nothing: run it (with TestUIGraphRender) to get the
// numbers of docs/benchmarks.md:
//
//	HEISTGRAPH_UI_BENCH=1 go test ./cmd/heistgraph -run 'TestUITimings|TestUIGraphRender' -count=1 -v
func TestUITimings(t *testing.T) {
	if os.Getenv("HEISTGRAPH_UI_BENCH") != "1" {
		t.Skip("a measurement, not a test: set HEISTGRAPH_UI_BENCH=1")
	}
	bin := chromium(t)
	w := newUIWorld(t)
	b, err := newBrowser(t, bin)
	if err != nil {
		t.Fatal(err)
	}
	b.login(t, w.srv.url, w.key)
	load := loadavg()
	var fcpLogin, fcpDash, ready []float64
	for range benchRuns {
		// The login page (no key in the tab): the reference.
		b.run(t, "logged out", chromedp.Evaluate[chromedp.Void](`sessionStorage.clear(); location.reload()`), chromedp.WaitVisible(chromedp.CSS(`#login`)))
		fcpLogin = append(fcpLogin, eval[float64](t, b, "fcp", fcpJS))
		b.run(t, "dashboard", chromedp.Evaluate[chromedp.Void](`sessionStorage.setItem('heistgraph.key', `+jsString(w.key)+`); location.hash = '#/'; location.reload()`),
			chromedp.WaitVisible(chromedp.CSS(`#view[data-ready]`)))
		fcpDash = append(fcpDash, eval[float64](t, b, "fcp", fcpJS))
		ready = append(ready, eval[float64](t, b, "ready", `Number(document.getElementById('view').getAttribute('data-ready'))`))
	}
	t.Logf("first contentful paint: login page %.0f ms, dashboard %.0f ms; dashboard data shown at %.0f ms (medians of %d loads; load average %s, then %s)",
		median(fcpLogin), median(fcpDash), median(ready), benchRuns, load, loadavg())
}

// TestUIGraphRender measures, in Chromium, the time to render a trace graph
// of 500 nodes (syntheticTrace) from the call to the second animation frame
// after it (the graph painted), with a 50-node graph as the reference, the
// two taken in turn, each the median of benchRuns; and where the time goes
// (building the elements, cytoscape's setup, the layout). It needs only
// the UI's files (served as serve serves them), not a world. It asserts
// nothing (see TestUITimings for the command).
func TestUIGraphRender(t *testing.T) {
	if os.Getenv("HEISTGRAPH_UI_BENCH") != "1" {
		t.Skip("a measurement, not a test: set HEISTGRAPH_UI_BENCH=1")
	}
	bin := chromium(t)
	srv := httptest.NewServer(web.Handler())
	t.Cleanup(srv.Close)
	b, err := newBrowser(t, bin)
	if err != nil {
		t.Fatal(err)
	}
	b.run(t, "open the UI", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#login`)))
	load := loadavg()
	sizes := []int{50, 500}
	type timing struct{ total, paint, elements, cytoscape, layout []float64 }
	got := map[int]*timing{}
	for _, n := range sizes {
		got[n] = &timing{}
	}
	for i := range benchRuns + 1 {
		for _, n := range sizes {
			r := eval[[]float64](t, b, "render", `(async () => {
			  const {render} = await import('/js/graph.js');
			  const box = document.createElement('div'); box.className = 'graph';
			  document.body.replaceChildren(box);
			  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
			  const t0 = performance.now();
			  const g = render(box, `+syntheticTrace(n)+`, {depth: 1e9});
			  const t1 = performance.now();
			  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
			  const t2 = performance.now();
			  if (g.cy.nodes().length !== `+fmt.Sprint(n)+`) throw new Error('drew ' + g.cy.nodes().length + ' nodes');
			  g.cy.destroy();
			  return [t2 - t0, t2 - t1, g.timings.elements, g.timings.cytoscape, g.timings.layout]; })()`)
			if i == 0 {
				continue // the first round loads the modules
			}
			g := got[n]
			g.total, g.paint, g.elements = append(g.total, r[0]), append(g.paint, r[1]), append(g.elements, r[2])
			g.cytoscape, g.layout = append(g.cytoscape, r[3]), append(g.layout, r[4])
		}
	}
	for _, n := range sizes {
		g := got[n]
		t.Logf("trace graph of %d nodes: rendered and painted in %.0f ms (elements %.0f, cytoscape setup %.0f, layout %.0f, painting %.0f; medians of %d)",
			n, median(g.total), median(g.elements), median(g.cytoscape), median(g.layout), median(g.paint), benchRuns)
	}
	t.Logf("load average %s at the start, %s at the end (%d cores)", load, loadavg(), goruntime.NumCPU())
}
