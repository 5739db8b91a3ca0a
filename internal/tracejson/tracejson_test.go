package tracejson_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/internal/tracejson"
	"github.com/heistgraph/heistgraph/pattern"
	"github.com/heistgraph/heistgraph/trace"
)

// randomString returns a string that is mostly an address-like ASCII
// string, sometimes empty, and sometimes holds what JSON escapes: quotes,
// backslashes, control bytes, HTML's <>&, U+2028 and invalid UTF-8.
func randomString(r *rand.Rand) string {
	const odd = "\"\\\n\t\x00\x1f<>&\u2028\u2029é\xff"
	switch r.IntN(6) {
	case 0:
		return ""
	case 1:
		b := []byte("bcrt1q")
		for range r.IntN(8) {
			b = append(b, odd[r.IntN(len(odd))])
		}
		return string(b)
	}
	b := make([]byte, 1+r.IntN(40))
	for i := range b {
		b[i] = byte(0x20 + r.IntN(0x5f))
	}
	return string(b)
}

func randomResult(r *rand.Rand) *trace.Result {
	res := &trace.Result{Chain: heistgraph.ChainBTCRegtest, Policy: trace.FIFO, Seeds: []string{randomString(r)}}
	var sinks []trace.Sink
	if r.IntN(4) > 0 {
		sinks = []trace.Sink{}
	}
	var edges []trace.Edge
	if r.IntN(4) > 0 {
		edges = []trace.Edge{}
	}
	kinds := []trace.SinkKind{trace.SinkUnspent, trace.SinkEntity, trace.SinkOverlap, trace.SinkKind(randomString(r))}
	for range r.IntN(6) {
		s := trace.Sink{Kind: kinds[r.IntN(len(kinds))], Address: randomString(r), Vout: r.Uint32(),
			Entity: randomString(r), Category: randomString(r), AmountSat: r.Int64() - r.Int64(), Hops: r.IntN(100),
			Source: randomString(r), Time: r.Int64N(2e9)}
		for i := range s.TxID {
			s.TxID[i] = byte(r.IntN(256))
		}
		if r.IntN(3) == 0 {
			s.Input = randomString(r)
		}
		if r.IntN(3) == 0 {
			s.Reason = randomString(r)
		}
		s.Compacted, s.ViaCoinJoin = r.IntN(2) == 0, r.IntN(2) == 0
		for range r.IntN(3) {
			s.Spans = append(s.Spans, [2]int64{r.Int64N(1e9), -r.Int64N(1e9)})
		}
		if r.IntN(3) == 0 {
			s.ContinuedSat = r.Int64N(1e12)
		}
		sinks = append(sinks, s)
	}
	res.Sinks = trace.NewSinkList(sinks)
	for range r.IntN(4) {
		e := trace.Edge{AmountSat: r.Int64(), Outputs: r.IntN(10)}
		e.From[0], e.To[31] = byte(r.IntN(256)), byte(r.IntN(256))
		edges = append(edges, e)
	}
	res.Edges = trace.NewEdgeList(edges)
	if r.IntN(4) > 0 {
		res.Events = []trace.Event{}
	}
	for range r.IntN(5) {
		ev := trace.Event{Kind: randomString(r)}
		ev.TxID[r.IntN(32)] = byte(r.IntN(256))
		switch r.IntN(5) {
		case 1:
			pc := &pattern.PeelChain{Length: r.IntN(9), StartAmount: r.Int64(), Confidence: randomString(r),
				Remainder: randomString(r), End: randomString(r), PeelsByEntity: []pattern.PeelDest{}}
			for range r.IntN(3) {
				pc.Steps = append(pc.Steps, heistgraph.Hash{byte(r.IntN(256))})
				pc.PeelsByEntity = append(pc.PeelsByEntity, pattern.PeelDest{Entity: randomString(r), Amount: r.Int64()})
			}
			ev.Detail = pc
		case 2:
			ev.Detail = &trace.Entry{Vout: r.Uint32(), Address: randomString(r), Entity: randomString(r),
				Category: randomString(r), AmountSat: r.Int64(), Hops: r.IntN(50)}
		case 3:
			ev.Detail = &trace.CoinJoinEvent{Subtype: randomString(r), Denominations: []int64{r.Int64N(1e8)},
				TaintedSat: r.Int64(), Through: r.IntN(2) == 0}
		case 4:
			ev.Detail = &trace.ConsolidationEvent{Consolidation: &pattern.Consolidation{Inputs: r.IntN(50),
				InputAddresses: r.IntN(50), Vout: r.Uint32(), Address: randomString(r), AmountSat: r.Int64() - r.Int64()},
				TaintedInputs: r.IntN(9), TaintedSat: r.Int64()}
			if r.IntN(4) == 0 {
				ev.Detail = &trace.ConsolidationEvent{TaintedSat: r.Int64()} // no Consolidation: its fields are left out
			}
		}
		res.Events = append(res.Events, ev)
	}
	return res
}

// encoded is what json.Encoder writes for v without HTML escaping,
// indented by two spaces when indent is set.
func encoded(t testing.TB, v any, indent bool) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// randomAnswer returns a trace's answer or (one time in three) a
// comparison's, with the results it holds and their depth.
func randomAnswer(r *rand.Rand, i int) (any, []*trace.Result, int) {
	if i%3 == 0 {
		c := &trace.Comparison{Policies: trace.Policies()}
		for range r.IntN(4) {
			c.Results = append(c.Results, randomResult(r))
		}
		v := hgapp.CompareView{Comparison: c}
		res, depth := v.JSONResults()
		return v, res, depth
	}
	res := randomResult(r)
	// Across has "sinks" of its own, one level deeper: they are not the
	// result's.
	if r.IntN(3) == 0 {
		res.Across = &trace.Across{Sinks: []trace.CrossSink{}}
	}
	v := hgapp.TraceView{Result: res}
	results, depth := v.JSONResults()
	return v, results, depth
}

// TestWriteMatchesEncoder writes random trace answers and comparisons
// (sinks, edges and events of several details with strings JSON must
// escape, optional fields set and not, empty and nil slices), indented and
// compact: the bytes are json.Encoder's, and the results are left as they
// were.
func TestWriteMatchesEncoder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 600 {
		v, results, depth := randomAnswer(r, i)
		indent := i%2 == 0
		want := encoded(t, v, indent)
		var got bytes.Buffer
		if err := tracejson.Write(&got, v, results, depth, indent); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("case %d (indent %v): Write wrote\n%s\njson.Encoder\n%s", i, indent, got.Bytes(), want)
		}
		if again := encoded(t, v, indent); !bytes.Equal(again, want) {
			t.Fatalf("case %d: the results changed under Write", i)
		}
	}
}

// TestWrongDepthFallsBack gives Prepare a depth where the results' keys
// are not: the text is still encoding/json's (written whole).
func TestWrongDepthFallsBack(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 50 {
		res := randomResult(r)
		res.Sinks = trace.NewSinkList([]trace.Sink{{Kind: trace.SinkUnspent, Address: "a"}})
		v := hgapp.TraceView{Result: res}
		var got bytes.Buffer
		if err := tracejson.Write(&got, v, []*trace.Result{res}, 2, i%2 == 0); err != nil {
			t.Fatal(err)
		}
		if want := encoded(t, v, i%2 == 0); !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("case %d: wrote\n%s\nwant\n%s", i, got.Bytes(), want)
		}
	}
}

// TestDocConcurrent writes one prepared Doc from several goroutines (run
// with -race): each gets the whole answer.
func TestDocConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	res := randomResult(r)
	sinks := make([]trace.Sink, 5000)
	for i := range sinks {
		sinks[i] = trace.Sink{Kind: trace.SinkUnspent, Address: "bcrt1q", Vout: uint32(i), AmountSat: int64(i)}
	}
	res.Sinks = trace.NewSinkList(sinks)
	v := hgapp.TraceView{Result: res}
	want := bytes.TrimSuffix(encoded(t, v, false), []byte{'\n'})
	d, err := tracejson.Prepare(v, []*trace.Result{res}, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	got := make([]bytes.Buffer, 4)
	for i := range got {
		wg.Go(func() {
			if _, err := d.WriteTo(&got[i]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i := range got {
		if !bytes.Equal(got[i].Bytes(), want) {
			t.Fatalf("writer %d: %d bytes, want %d", i, got[i].Len(), len(want))
		}
	}
}

// FuzzWrite checks the sinks' and edges' strings against encoding/json on
// any strings, indented and compact.
func FuzzWrite(f *testing.F) {
	f.Add("bcrt1qxyz", "exchange", "a\"b\\c", "\u2028\xff<&>", int64(5), true)
	f.Fuzz(func(t *testing.T, addr, entity, source, input string, amount int64, indent bool) {
		res := &trace.Result{Sinks: trace.NewSinkList([]trace.Sink{{Kind: trace.SinkEntity, Address: addr, Entity: entity, Category: input,
			Source: source, Input: input, Reason: entity, AmountSat: amount}}), Edges: trace.NewEdgeList([]trace.Edge{{AmountSat: amount}})}
		v := hgapp.TraceView{Result: res}
		var got bytes.Buffer
		if err := tracejson.Write(&got, v, []*trace.Result{res}, 1, indent); err != nil {
			t.Fatal(err)
		}
		if want := encoded(t, v, indent); !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("Write wrote\n%s\njson.Encoder\n%s", got.Bytes(), want)
		}
	})
}
