package server

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/trace"
)

// answeringBackend is fakeBackend with a Tracer that answers v at once.
type answeringBackend struct {
	*fakeBackend
	v any
}

func (b *answeringBackend) CheckTrace(context.Context, TraceRequest) error { return nil }

func (b *answeringBackend) Trace(_ context.Context, _ TraceRequest, progress func(int64)) (TraceAnswer, error) {
	progress(3)
	return TraceAnswer{Result: b.v}, nil
}

// TestTraceJobAnswerStreamed: a done job whose answer holds trace results
// (a trace's, a comparison's, with strings JSON escapes and HTML's <>&)
// answers GET /v1/traces/{id} with what encoding/json writes for the
// view with the answer in it, byte for byte, every time it is asked.
func TestTraceJobAnswerStreamed(t *testing.T) {
	sinks := []trace.Sink{
		{Kind: trace.SinkEntity, Address: "bcrt1q<&>", Entity: "ex\"change", Category: "exchange", AmountSat: 5, Hops: 2, Source: "h1",
			Spans: [][2]int64{{0, 5}}, Time: 1700000000},
		{Kind: trace.SinkUnspent, Address: "2N\u2028x", Vout: 3, AmountSat: 7, Source: "h1", Reason: "budget", Compacted: true},
	}
	edges := []trace.Edge{{From: heistgraph.Hash{1}, To: heistgraph.Hash{31: 2}, AmountSat: 12, Outputs: 2}}
	events := []trace.Event{{Kind: "entry", TxID: heistgraph.Hash{4}, Detail: &trace.Entry{Address: "a", AmountSat: 1}}}
	res := func() *trace.Result {
		return &trace.Result{Chain: heistgraph.ChainBTCRegtest, Policy: trace.Haircut, Seeds: []string{"aa"},
			Sinks: trace.NewSinkList(sinks), Edges: trace.NewEdgeList(edges), Events: events}
	}
	answers := []any{
		app.TraceView{Result: res()},
		app.CompareView{Comparison: &trace.Comparison{Policies: trace.Policies(), Results: []*trace.Result{res(), res()}}},
		app.TraceView{Result: &trace.Result{Chain: heistgraph.ChainBTCRegtest, Policy: trace.Poison}}, // nil lists
	}
	for i, v := range answers {
		ts := newTestServerWith(t, Config{}, &answeringBackend{fakeBackend: &fakeBackend{}, v: v})
		w := ts.do(t, "POST", "/v1/traces", "analyst", `{"chain":"btc-regtest","seeds":["aa"]}`)
		var job TraceJobJSON
		if err := json.Unmarshal(w.Body.Bytes(), &job); err != nil {
			t.Fatalf("answer %d: POST: %d %s", i, w.Code, w.Body)
		}
		for deadline := time.Now().Add(10 * time.Second); job.Status != JobDone; {
			if time.Now().After(deadline) {
				t.Fatalf("answer %d: job not done: %+v", i, job)
			}
			time.Sleep(5 * time.Millisecond)
			w = ts.do(t, "GET", "/v1/traces/"+job.ID, "analyst", "")
			job = TraceJobJSON{}
			_ = json.Unmarshal(w.Body.Bytes(), &job)
		}
		job.Result = v
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(job); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			w = ts.do(t, "GET", "/v1/traces/"+job.ID, "analyst", "")
			if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" || !bytes.Equal(w.Body.Bytes(), want.Bytes()) {
				t.Fatalf("answer %d: GET: %d %q\n%s\nwant\n%s", i, w.Code, w.Header().Get("Content-Type"), w.Body, want.Bytes())
			}
		}
	}
}
