package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/tracejson"
	"github.com/heistgraph/heistgraph/trace"
)

// Trace jobs: POST /v1/traces starts a trace in the background and answers
// at once with the job; GET /v1/traces/{id} answers its state, progress and,
// when done, the same JSON as `heistgraph trace --json` (or --compare
// --json); GET /v1/events streams its progress to the key that started it.

// TraceRequest is the body of POST /v1/traces: trace's flags as JSON. Seeds
// are as trace --seed takes them (TXID, TXID:VOUT or ADDRESS; on EVM chains
// 0xTXHASH or ADDRESS). Zero fields take trace's defaults.
type TraceRequest struct {
	Chain           string   `json:"chain"`
	Seeds           []string `json:"seeds"`
	Policy          string   `json:"policy,omitempty"`
	Compare         bool     `json:"compare,omitempty"`
	MaxHops         int      `json:"max_hops,omitempty"`
	MinAmount       *int64   `json:"min_amount,omitempty"`
	Until           string   `json:"until,omitempty"`
	ThroughCoinJoin string   `json:"through_coinjoin,omitempty"`
	// FollowLinks and FollowHypotheses are trace's --follow-links and
	// --follow-hypotheses: continue across stored links (bridges,
	// THORChain, mixers' strong links), and also across probable ones.
	FollowLinks      bool `json:"follow_links,omitempty"`
	FollowHypotheses bool `json:"follow_hypotheses,omitempty"`
}

// MaxTraceSeeds is the most seeds one trace job may have.
const MaxTraceSeeds = 1000

// TraceAnswer is a finished trace: Result is what trace --json prints for
// the request; GraphML, when not nil, writes the trace's graph as trace
// --graphml does.
type TraceAnswer struct {
	Result  any
	GraphML func(io.Writer) error
}

// Tracer runs the traces of POST /v1/traces. progress is called from time
// to time with the transactions read so far (from the tracing goroutine).
// Errors are classified as for the views: heistgraph.ErrInvalid for bad
// options or seeds (400 when the job is created: Tracer.Check), ErrNotFound
// for a seed the store lacks. A backend without it answers the trace routes
// 404.
type Tracer interface {
	// CheckTrace validates req without running it; errors wrap
	// heistgraph.ErrInvalid (or are a *FieldError).
	CheckTrace(ctx context.Context, req TraceRequest) error
	Trace(ctx context.Context, req TraceRequest, progress func(txs int64)) (TraceAnswer, error)
}

// Job states.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// TraceJobJSON is a trace job as the trace routes and the job events give
// it: Result (trace --json's object) once done, Error once failed.
type TraceJobJSON struct {
	ID         string       `json:"id"`
	Status     string       `json:"status"`
	Request    TraceRequest `json:"request"`
	Created    int64        `json:"created"`
	ElapsedMS  int64        `json:"elapsed_ms"`
	TxsVisited int64        `json:"txs_visited"`
	Result     any          `json:"result,omitempty"`
	Error      string       `json:"error,omitempty"`
	ErrorCode  int          `json:"error_status,omitempty"`
}

// traceJob is one job; fields after mu are guarded by it.
type traceJob struct {
	id, key string
	req     TraceRequest
	created time.Time
	txs     atomic.Int64

	mu       sync.Mutex
	status   string
	finished time.Time
	answer   TraceAnswer
	doc      *tracejson.Doc // answer.Result's JSON, when it holds trace results
	err      error
}

func (j *traceJob) view(withResult bool) TraceJobJSON {
	j.mu.Lock()
	defer j.mu.Unlock()
	end := j.finished
	if end.IsZero() {
		end = time.Now()
	}
	v := TraceJobJSON{ID: j.id, Status: j.status, Request: j.req, Created: j.created.Unix(),
		ElapsedMS: end.Sub(j.created).Milliseconds(), TxsVisited: j.txs.Load()}
	if j.err != nil {
		v.Error, v.ErrorCode = j.err.Error(), statusOf(j.err)
		if v.ErrorCode >= 500 {
			v.Error = "internal error"
		}
	}
	if withResult && j.status == JobDone {
		v.Result = j.answer.Result
	}
	return v
}

// Limits of the job table.
const (
	maxJobsKept    = 64 // finished jobs beyond this are forgotten, oldest first
	maxJobsRunning = 2  // more wait (queued)
)

// traceJobs is the server's job table. Jobs run under ctx, which Close
// cancels.
type traceJobs struct {
	ctx    context.Context
	cancel context.CancelFunc
	slots  chan struct{}
	wg     sync.WaitGroup

	mu    sync.Mutex
	jobs  map[string]*traceJob
	order []string // ids, oldest first
}

func newTraceJobs() *traceJobs {
	ctx, cancel := context.WithCancel(context.Background())
	return &traceJobs{ctx: ctx, cancel: cancel, slots: make(chan struct{}, maxJobsRunning), jobs: map[string]*traceJob{}}
}

// close cancels the running jobs and waits for them.
func (t *traceJobs) close() {
	t.cancel()
	t.wg.Wait()
}

func (t *traceJobs) add(j *traceJob) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.jobs[j.id] = j
	t.order = append(t.order, j.id)
	for i := 0; len(t.jobs) > maxJobsKept && i < len(t.order); {
		old := t.jobs[t.order[i]]
		old.mu.Lock()
		done := old.status == JobDone || old.status == JobFailed
		old.mu.Unlock()
		if !done {
			i++
			continue
		}
		delete(t.jobs, t.order[i])
		t.order = append(t.order[:i], t.order[i+1:]...)
	}
}

func (t *traceJobs) get(id string) (*traceJob, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	j, ok := t.jobs[id]
	return j, ok
}

func traceRoutes() []route {
	job := object([]string{"id", "status", "request", "created", "elapsed_ms", "txs_visited"}, schema{
		"id": str("job id"), "status": schema{"type": "string", "enum": []any{JobQueued, JobRunning, JobDone, JobFailed}},
		"request": traceBodySchema, "created": intg("Unix seconds"), "elapsed_ms": intg("milliseconds since created (until finished)"),
		"txs_visited": intg("transactions read so far"), "result": schema{"type": "object", "description": "trace --json's answer (trace --compare --json's with compare), once done"},
		"error": str("why it failed"), "error_status": intg("the HTTP status the error would answer"),
	})
	return []route{
		{method: "POST", path: "/v1/traces", role: RoleAnalyst, audit: auditAsync, summary: "Start a trace job (trace's flags as JSON); answers the job at once, follow it with GET /v1/traces/{id} or GET /v1/events",
			body: traceBodySchema, resp: job, h: postTrace},
		{method: "GET", path: "/v1/traces/{id}", role: RoleViewer, summary: "A trace job: its state, progress and, once done, trace --json's answer", resp: job, h: getTrace},
		{method: "GET", path: "/v1/traces/{id}/graphml", role: RoleViewer, summary: "A finished trace job's graph as GraphML (trace --graphml)",
			resp: schema{"type": "string"}, h: getTraceGraphML},
	}
}

var traceBodySchema = object([]string{"chain", "seeds"}, schema{
	"chain": str("chain id"), "seeds": schema{"type": "array", "items": str("TXID, TXID:VOUT or ADDRESS (EVM: 0xTXHASH or ADDRESS)"), "minItems": 1, "maxItems": MaxTraceSeeds},
	"policy": str("haircut (default), poison, fifo, lifo, tiho"), "compare": schema{"type": "boolean", "description": "trace under every policy (Bitcoin chains)"},
	"max_hops": intg("stop after this many hops (default 50)"), "min_amount": intg("threshold in base units (default 546 sat)"),
	"until": str("time bound: date, RFC 3339 or Unix seconds"), "through_coinjoin": str("policy to apply through CoinJoins (Bitcoin chains)"),
	"follow_links":      schema{"type": "boolean", "description": "continue across stored links: bridges and THORChain onto other chains, mixers' strong links (trace --follow-links)"},
	"follow_hypotheses": schema{"type": "boolean", "description": "also across probable links (trace --follow-hypotheses)"},
})

func (s *Server) tracer() (Tracer, error) {
	t, ok := s.backend.(Tracer)
	if !ok {
		return nil, fmt.Errorf("this server runs no traces: %w", heistgraph.ErrNotFound)
	}
	return t, nil
}

func postTrace(s *Server, _ http.ResponseWriter, r *http.Request, info *reqInfo) (any, error) {
	tr, err := s.tracer()
	if err != nil {
		return nil, err
	}
	var req TraceRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	info.items = len(req.Seeds)
	req.Chain = strings.TrimSpace(req.Chain)
	switch {
	case len(req.Seeds) == 0:
		return nil, fieldErrf("seeds", "no seeds")
	case len(req.Seeds) > MaxTraceSeeds:
		return nil, tooLarge("%d seeds in one trace; at most %d", len(req.Seeds), MaxTraceSeeds)
	case req.MaxHops < 0:
		return nil, fieldErrf("max_hops", "%d: want 1 or more", req.MaxHops)
	case req.MinAmount != nil && *req.MinAmount < 0:
		return nil, fieldErrf("min_amount", "%d: want 0 or more", *req.MinAmount)
	}
	if err := tr.CheckTrace(r.Context(), req); err != nil {
		return nil, err
	}
	if s.closing.Load() {
		return nil, errShutdown
	}
	var raw [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, fmt.Errorf("trace job id: %w", err)
	}
	caller, _ := CallerFrom(r.Context())
	j := &traceJob{id: hex.EncodeToString(raw[:]), key: caller.KeyID, req: req, created: s.cfg.Now(), status: JobQueued}
	s.jobs.add(j)
	s.jobs.wg.Add(1)
	go s.runJob(tr, j)
	return j.view(false), nil
}

// runJob runs j when a slot is free, publishing its progress (at most every
// 200 ms) and its end as job events.
func (s *Server) runJob(tr Tracer, j *traceJob) {
	defer s.jobs.wg.Done()
	ctx := s.jobs.ctx
	finish := func(ans TraceAnswer, err error) {
		var doc *tracejson.Doc
		if err == nil {
			doc, err = prepareAnswer(ans.Result)
		}
		j.mu.Lock()
		j.finished, j.answer, j.doc, j.err = time.Now(), ans, doc, err
		j.status = JobDone
		if err != nil {
			j.status = JobFailed
		}
		j.mu.Unlock()
		s.events.publishJob(j)
	}
	select {
	case s.jobs.slots <- struct{}{}:
	case <-ctx.Done():
		finish(TraceAnswer{}, fmt.Errorf("trace job %s: %w", j.id, errShutdown))
		return
	}
	defer func() { <-s.jobs.slots }()
	j.mu.Lock()
	j.status = JobRunning
	j.mu.Unlock()
	s.events.publishJob(j)
	stop := make(chan struct{})
	ticked := make(chan struct{})
	go func() {
		defer close(ticked)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		last := int64(-1)
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if n := j.txs.Load(); n != last {
					last = n
					s.events.publishJob(j)
				}
			}
		}
	}()
	ans, err := tr.Trace(ctx, j.req, func(n int64) { j.txs.Store(n) })
	close(stop)
	<-ticked
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("trace job %s: %w", j.id, errShutdown)
	}
	finish(ans, err)
}

// job returns the job of the {id} path parameter, if the caller may see it
// (the key that started it, or an admin).
func (s *Server) job(r *http.Request) (*traceJob, error) {
	id := r.PathValue("id")
	if len(id) != 16 {
		return nil, fieldErrf("id", "trace job id %.40q: want 16 hex digits", id)
	}
	j, ok := s.jobs.get(id)
	caller, _ := CallerFrom(r.Context())
	if !ok || (j.key != caller.KeyID && caller.Role < RoleAdmin) {
		return nil, fmt.Errorf("trace job %s: %w", id, heistgraph.ErrNotFound)
	}
	return j, nil
}

func getTrace(s *Server, _ http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
	j, err := s.job(r)
	if err != nil {
		return nil, err
	}
	j.mu.Lock()
	doc := j.doc
	j.mu.Unlock()
	if doc != nil {
		return &jobWithDoc{view: j.view(false), doc: doc}, nil
	}
	return j.view(true), nil
}

// resultsHolder is an answer that holds trace results (app.TraceView,
// app.CompareView): the results, and the nesting of their keys in it.
type resultsHolder interface {
	JSONResults() ([]*trace.Result, int)
}

// prepareAnswer prepares the JSON of a finished job's answer when it holds
// trace results, once, before the job is shared: each GET then streams
// the results' sinks, edges and events instead of encoding them again.
func prepareAnswer(v any) (*tracejson.Doc, error) {
	h, ok := v.(resultsHolder)
	if !ok {
		return nil, nil
	}
	results, depth := h.JSONResults()
	return tracejson.Prepare(v, results, depth, false)
}

// jobWithDoc is a finished job's view whose result is written from its
// prepared JSON: what encoding/json writes for the view with the result
// in it.
type jobWithDoc struct {
	view TraceJobJSON // without its result
	doc  *tracejson.Doc
}

// WriteJSON writes the view's JSON with "result" (the view's last key
// when done: a done job has no error) written from the doc, and a
// newline.
func (a *jobWithDoc) WriteJSON(w io.Writer) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(a.view); err != nil {
		return err
	}
	head := bytes.TrimSuffix(b.Bytes(), []byte("}\n"))
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(head)
	bw.WriteString(`,"result":`)
	if _, err := a.doc.WriteTo(bw); err != nil {
		return err
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

func getTraceGraphML(s *Server, w http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
	j, err := s.job(r)
	if err != nil {
		return nil, err
	}
	j.mu.Lock()
	status, graph := j.status, j.answer.GraphML
	j.mu.Unlock()
	if status != JobDone {
		return nil, fmt.Errorf("trace job %s is %s, not done: %w", j.id, status, heistgraph.ErrConflict)
	}
	if graph == nil {
		return nil, fmt.Errorf("trace job %s has no graph (compare, or an EVM chain): %w", j.id, heistgraph.ErrNotFound)
	}
	w.Header().Set("Content-Type", "application/graphml+xml")
	w.Header().Set("Content-Disposition", `attachment; filename="trace-`+j.id+`.graphml"`)
	w.WriteHeader(http.StatusOK)
	if err := graph(w); err != nil {
		s.log.Error("write graphml", "job", j.id, "err", err)
	}
	return nil, nil
}
