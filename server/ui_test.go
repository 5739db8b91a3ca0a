package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/incident"
	"github.com/heistgraph/heistgraph/web"
)

// TestUIServed: the UI's files under / without a key, with the content
// security policy; everything else that no route matches (API paths,
// unknown files, other methods) answers the JSON 404 as before.
func TestUIServed(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{})
	tests := []struct {
		method, path string
		status       int
		ctype        string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8"},
		{"GET", "/js/main.js", 200, "text/javascript; charset=utf-8"},
		{"GET", "/vendor/cytoscape.esm.min.mjs", 200, "text/javascript; charset=utf-8"},
		{"HEAD", "/app.css", 200, "text/css; charset=utf-8"},
		{"GET", "/nope.html", 404, "application/json"},
		{"GET", "/v1/nope", 404, "application/json"},
		{"GET", "/v1", 404, "application/json"},
		{"GET", "/taxii2/", 401, "application/taxii+json;version=2.1"},                  // TAXII's own route, not the UI
		{"GET", "/taxii2/nope/deeper/still", 401, "application/taxii+json;version=2.1"}, // keys first, as every TAXII path
		{"POST", "/", 404, "application/json"},
		{"GET", "/vendor/", 404, "application/json"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			w := ts.do(t, tc.method, tc.path, "", "")
			if w.Code != tc.status || w.Header().Get("Content-Type") != tc.ctype {
				t.Fatalf("%d %q, want %d %q: %.200s", w.Code, w.Header().Get("Content-Type"), tc.status, tc.ctype, w.Body)
			}
			if tc.status == 200 && w.Header().Get("Content-Security-Policy") != web.ContentSecurityPolicy {
				t.Errorf("no content security policy: %v", w.Header())
			}
			if tc.status == 404 && !strings.Contains(w.Body.String(), `"error":"no route`) {
				t.Errorf("404 body %s", w.Body)
			}
		})
	}
	// A file the browser has is revalidated: 304 with its ETag.
	w := ts.do(t, "GET", "/js/main.js", "", "")
	req := httptest.NewRequest("GET", "/js/main.js", nil)
	req.Header.Set("If-None-Match", w.Header().Get("ETag"))
	rec := httptest.NewRecorder()
	ts.s.Handler().ServeHTTP(rec, req)
	if w.Header().Get("ETag") == "" || rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("revalidation: %d with ETag %q", rec.Code, w.Header().Get("ETag"))
	}
}

// tracingBackend is fakeBackend with a Tracer and a Reporter: a trace
// reports progress, then waits for release (or its context) and answers its
// request back.
type tracingBackend struct {
	*fakeBackend
	release chan struct{}
	reports []incident.Query
}

func (b *tracingBackend) CheckTrace(_ context.Context, req TraceRequest) error {
	if req.Chain == "bad" {
		return &FieldError{Field: "chain", Err: fmt.Errorf("unknown chain: %w", heistgraph.ErrInvalid)}
	}
	return nil
}

func (b *tracingBackend) Trace(ctx context.Context, req TraceRequest, progress func(int64)) (TraceAnswer, error) {
	progress(7)
	select {
	case <-b.release:
	case <-ctx.Done():
		return TraceAnswer{}, ctx.Err()
	}
	if req.Seeds[0] == "missing" {
		return TraceAnswer{}, fmt.Errorf("seed missing: %w", heistgraph.ErrNotFound)
	}
	progress(9)
	return TraceAnswer{Result: map[string]any{"seeds": req.Seeds, "policy": req.Policy},
		GraphML: func(w io.Writer) error { _, err := io.WriteString(w, "<graphml/>"); return err }}, nil
}

func (b *tracingBackend) Report(_ context.Context, q incident.Query) (any, error) {
	b.reports = append(b.reports, q)
	return map[string]any{"tier": q.Tier, "year": q.Year}, nil
}

// sse reads server-sent events from a stream.
type sse struct {
	r *bufio.Reader
}

// next returns the next event's name and data, skipping comments.
func (s *sse) next(t *testing.T) (string, string) {
	t.Helper()
	name, data := "", ""
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("event stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && name != "":
			return name, data
		case strings.HasPrefix(line, "event: "):
			name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data = line[len("data: "):]
		}
	}
}

// openEvents opens GET /v1/events on a real HTTP server with key and
// reads the ready event.
func openEvents(t *testing.T, url, key string) *sse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /v1/events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &sse{r: bufio.NewReader(resp.Body)}
	if name, _ := s.next(t); name != "ready" {
		t.Fatalf("first event %q, want ready", name)
	}
	return s
}

// TestTraceJobs runs a trace job through the routes: roles, the job's
// states and progress as GET /v1/traces/{id} and the event stream give
// them, its answer and GraphML once done, who may see it, bad requests,
// a failing trace, and a job cut short by Close.
func TestTraceJobs(t *testing.T) {
	be := &tracingBackend{fakeBackend: &fakeBackend{}, release: make(chan struct{})}
	ts := newTestServerWith(t, Config{}, be)
	hs := httptest.NewServer(ts.s.Handler())
	t.Cleanup(hs.Close)
	events := openEvents(t, hs.URL, ts.keys["analyst"])

	body := `{"chain":"btc-regtest","seeds":["aa"],"policy":"fifo"}`
	if w := ts.do(t, "POST", "/v1/traces", "viewer", body); w.Code != 403 {
		t.Errorf("viewer starts a trace: %d", w.Code)
	}
	for _, bad := range []struct{ body, field string }{
		{`{"chain":"btc","seeds":[]}`, "seeds"}, {`{"chain":"bad","seeds":["a"]}`, "chain"},
		{`{"chain":"btc","seeds":["a"],"max_hops":-1}`, "max_hops"}, {`{"chain":"btc","seeds":["a"],"min_amount":-5}`, "min_amount"},
		{`{"chain":"btc","seeds":"a"}`, "seeds"}, {`[1]`, "body"},
	} {
		w := ts.do(t, "POST", "/v1/traces", "analyst", bad.body)
		var e errorBody
		_ = json.Unmarshal(w.Body.Bytes(), &e)
		if w.Code != 400 || e.Field != bad.field {
			t.Errorf("POST %s: %d %s, want 400 naming %s", bad.body, w.Code, w.Body, bad.field)
		}
	}
	w := ts.do(t, "POST", "/v1/traces", "analyst", body)
	var job TraceJobJSON
	if err := json.Unmarshal(w.Body.Bytes(), &job); w.Code != 200 || err != nil || len(job.ID) != 16 || job.Request.Policy != "fifo" {
		t.Fatalf("POST /v1/traces: %d %s", w.Code, w.Body)
	}
	// The stream says running (with the progress the tracer reported).
	for {
		name, data := events.next(t)
		var ev TraceJobJSON
		_ = json.Unmarshal([]byte(data), &ev)
		if name == "trace" && ev.ID == job.ID && ev.Status == JobRunning && ev.TxsVisited == 7 {
			break
		}
	}
	if w := ts.do(t, "GET", "/v1/traces/"+job.ID+"/graphml", "analyst", ""); w.Code != 409 {
		t.Errorf("GraphML of a running job: %d", w.Code)
	}
	close(be.release)
	for {
		name, data := events.next(t)
		var ev TraceJobJSON
		_ = json.Unmarshal([]byte(data), &ev)
		if name == "trace" && ev.ID == job.ID && ev.Status == JobDone {
			if ev.Result != nil || ev.TxsVisited != 9 {
				t.Errorf("done event %s: want no result and 9 transactions", data)
			}
			break
		}
	}
	w = ts.do(t, "GET", "/v1/traces/"+job.ID, "analyst", "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"status":"done"`) || !strings.Contains(w.Body.String(), `"result":{"policy":"fifo","seeds":["aa"]}`) {
		t.Errorf("GET the done job: %d %s", w.Code, w.Body)
	}
	w = ts.do(t, "GET", "/v1/traces/"+job.ID+"/graphml", "admin", "")
	if w.Code != 200 || w.Body.String() != "<graphml/>" || w.Header().Get("Content-Type") != "application/graphml+xml" {
		t.Errorf("GraphML: %d %q %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	// Another key (not admin) does not see the job.
	for _, c := range []struct {
		path, role string
		status     int
	}{{"/v1/traces/" + job.ID, "viewer", 404}, {"/v1/traces/0123456789abcdef", "admin", 404}, {"/v1/traces/xyz", "admin", 400}, {"/v1/traces/" + job.ID, "", 401}} {
		if w := ts.do(t, "GET", c.path, c.role, ""); w.Code != c.status {
			t.Errorf("GET %s as %q: %d, want %d", c.path, c.role, w.Code, c.status)
		}
	}
	// A trace that fails says why, with the status its error answers.
	w = ts.do(t, "POST", "/v1/traces", "analyst", `{"chain":"btc","seeds":["missing"]}`)
	_ = json.Unmarshal(w.Body.Bytes(), &job)
	deadline := time.Now().Add(5 * time.Second)
	for job.Status != JobFailed && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		_ = json.Unmarshal(ts.do(t, "GET", "/v1/traces/"+job.ID, "analyst", "").Body.Bytes(), &job)
	}
	if job.Status != JobFailed || job.ErrorCode != 404 || !strings.Contains(job.Error, "seed missing") {
		t.Errorf("failed job %+v", job)
	}
}

// TestTraceJobCancelledByClose: Close ends a running job (failed, 503)
// and returns.
func TestTraceJobCancelledByClose(t *testing.T) {
	be := &tracingBackend{fakeBackend: &fakeBackend{}, release: make(chan struct{})}
	ts := newTestServerWith(t, Config{}, be)
	var job TraceJobJSON
	_ = json.Unmarshal(ts.do(t, "POST", "/v1/traces", "analyst", `{"chain":"btc","seeds":["a"]}`).Body.Bytes(), &job)
	done := make(chan struct{})
	go func() {
		ts.s.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waits for a running trace")
	}
	j, ok := ts.s.jobs.get(job.ID)
	if !ok {
		t.Fatal("job gone")
	}
	if v := j.view(false); v.Status != JobFailed || v.ErrorCode != 503 {
		t.Errorf("job after Close: %+v", v)
	}
	if w := ts.do(t, "POST", "/v1/traces", "analyst", `{"chain":"btc","seeds":["a"]}`); w.Code != 503 {
		t.Errorf("POST /v1/traces after Close: %d", w.Code)
	}
}

// TestEventsAlerts: alerts raised after a stream opens reach it (an
// entity-scoped key gets its entity's only); alerts raised before do not.
func TestEventsAlerts(t *testing.T) {
	ts := newTestServer(t, Config{AlertPoll: 10 * time.Millisecond})
	k, err := CreateKey(context.Background(), ts.st, KeyRequest{Role: "viewer", Entity: "Exchange B"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	raise := func(tx byte, entity string) string {
		a := heistgraph.Alert{Kind: heistgraph.AlertFundsReachedEntity, Chain: heistgraph.ChainBTCRegtest, Watch: "w", Entity: entity, AmountSat: 100}
		a.TxID[1] = tx
		a.IdempotencyKey = a.Key()
		got, err := ts.st.RaiseAlerts(context.Background(), []heistgraph.Alert{a}, time.Now().Unix())
		if err != nil || len(got) != 1 {
			t.Fatalf("raise: %v", err)
		}
		return got[0].ID
	}
	raise(1, "Exchange A") // before: not new
	hs := httptest.NewServer(ts.s.Handler())
	t.Cleanup(hs.Close)
	all := openEvents(t, hs.URL, ts.keys["viewer"])
	scoped := openEvents(t, hs.URL, k.Key)
	time.Sleep(50 * time.Millisecond) // the poller has seen the first alert
	a := raise(2, "Exchange A")
	b := raise(3, "Exchange B")
	for _, want := range []string{a, b} {
		name, data := all.next(t)
		var got AlertJSON
		if err := json.Unmarshal([]byte(data), &got); err != nil || name != "alert" || got.ID != want {
			t.Fatalf("unscoped stream: %s %s, want alert %s", name, data, want)
		}
	}
	name, data := scoped.next(t)
	var got AlertJSON
	if err := json.Unmarshal([]byte(data), &got); err != nil || name != "alert" || got.ID != b || got.Entity != "Exchange B" {
		t.Fatalf("scoped stream: %s %s, want alert %s about Exchange B only", name, data, b)
	}
	// The server's shutdown ends open streams at once.
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, all.r)
		close(closed)
	}()
	ts.s.Close()
	hs.Close()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Error("the stream stays open after Close")
	}
}

// TestEventsOutliveTimeouts: a stream stays open past the HTTP server's
// read and write timeouts.
func TestEventsOutliveTimeouts(t *testing.T) {
	ts := newTestServer(t, Config{AlertPoll: 10 * time.Millisecond})
	hs := httptest.NewUnstartedServer(ts.s.Handler())
	hs.Config.ReadTimeout, hs.Config.WriteTimeout = 100*time.Millisecond, 100*time.Millisecond
	hs.Start()
	t.Cleanup(hs.Close)
	events := openEvents(t, hs.URL, ts.keys["viewer"])
	time.Sleep(400 * time.Millisecond)
	a := heistgraph.Alert{Kind: heistgraph.AlertFundsReachedEntity, Chain: heistgraph.ChainBTCRegtest, Watch: "w", Entity: "E", AmountSat: 1}
	a.TxID[2] = 1
	a.IdempotencyKey = a.Key()
	if _, err := ts.st.RaiseAlerts(context.Background(), []heistgraph.Alert{a}, time.Now().Unix()); err != nil {
		t.Fatal(err)
	}
	if name, data := events.next(t); name != "alert" {
		t.Errorf("after the timeouts: %s %s, want the alert", name, data)
	}
}

// TestReportRoute: GET /v1/incidents/report parses its query as incidents
// report does its flags (defaults any/stolen), 400 for a bad one, 404 on a
// backend without reports.
func TestReportRoute(t *testing.T) {
	be := &tracingBackend{fakeBackend: &fakeBackend{}}
	ts := newTestServerWith(t, Config{}, be)
	if w := ts.do(t, "GET", "/v1/incidents/report?year=2024&tier=official", "viewer", ""); w.Code != 200 || w.Body.String() != `{"tier":"official","year":2024}`+"\n" {
		t.Errorf("report: %d %s", w.Code, w.Body)
	}
	if len(be.reports) != 1 || be.reports[0].By != incident.ByStolen || be.reports[0].Actor != incident.Any {
		t.Errorf("query %+v", be.reports)
	}
	for _, q := range []string{"year=x", "year=-1", "by=never", "tier=gold"} {
		if w := ts.do(t, "GET", "/v1/incidents/report?"+q, "viewer", ""); w.Code != 400 {
			t.Errorf("report?%s: %d %s", q, w.Code, w.Body)
		}
	}
	plain := newTestServer(t, Config{})
	if w := plain.do(t, "GET", "/v1/incidents/report", "viewer", ""); w.Code != 404 {
		t.Errorf("report on a backend without: %d", w.Code)
	}
	if w := plain.do(t, "POST", "/v1/traces", "analyst", `{"chain":"btc","seeds":["a"]}`); w.Code != 404 {
		t.Errorf("trace on a backend without: %d", w.Code)
	}
}

// FuzzPostTrace: whatever the body, POST /v1/traces answers 200 (a job),
// 400 or 413, never a 5xx, and a job it starts finishes.
func FuzzPostTrace(f *testing.F) {
	for _, s := range []string{`{"chain":"btc-regtest","seeds":["aa"],"policy":"fifo"}`, `{"chain":"bad","seeds":["a"]}`,
		`{"seeds":["missing"],"compare":true,"max_hops":3,"min_amount":0,"until":"2024-01-01"}`, `{"seeds":[]}`, `[`, `{"seeds":[1]}`, ``} {
		f.Add(s)
	}
	be := &tracingBackend{fakeBackend: &fakeBackend{}, release: make(chan struct{})}
	close(be.release)
	ts := newTestServerWith(f, Config{MaxBody: 1 << 10}, be)
	f.Fuzz(func(t *testing.T, body string) {
		w := ts.do(t, "POST", "/v1/traces", "analyst", body)
		switch w.Code {
		case 200, 400, 413:
		default:
			t.Fatalf("POST /v1/traces %q: %d %s", body, w.Code, w.Body)
		}
		if w.Code == 200 && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("answer %s", w.Body)
		}
	})
}
