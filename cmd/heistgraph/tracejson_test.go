package main

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
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
				Address: randomString(r)}, TaintedInputs: r.IntN(9), TaintedSat: r.Int64()}
		}
		res.Events = append(res.Events, ev)
	}
	return res
}

// TestEmitResultsMatchesEmit prints random trace answers and comparisons
// (sinks, edges and events of several details with strings JSON must
// escape, optional fields set and not, empty and nil slices) with emitResults and with emit: the bytes are
// the same, and the results are left as they were.
func TestEmitResultsMatchesEmit(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		var v any
		var results []*trace.Result
		depth := 1
		if i%3 == 0 {
			c := &trace.Comparison{Policies: trace.Policies()}
			for range r.IntN(4) {
				c.Results = append(c.Results, randomResult(r))
			}
			v, results, depth = hgapp.CompareView{Comparison: c}, c.Results, 3
		} else {
			res := randomResult(r)
			v, results = hgapp.TraceView{Result: res}, []*trace.Result{res}
		}
		var want, got bytes.Buffer
		text := func(io.Writer) error { t.Fatal("text output with --json"); return nil }
		if err := (&app{json: true, stdout: &want}).emit(v, text); err != nil {
			t.Fatal(err)
		}
		if err := (&app{json: true, stdout: &got}).emitResults(v, results, depth, text); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("case %d: emitResults wrote\n%s\nemit\n%s", i, got.Bytes(), want.Bytes())
		}
		var again bytes.Buffer
		if err := (&app{json: true, stdout: &again}).emit(v, text); err != nil || !bytes.Equal(again.Bytes(), want.Bytes()) {
			t.Fatalf("case %d: the results changed under emitResults (%v)", i, err)
		}
	}
}

// FuzzAppendSink checks appendSinkJSON's strings against encoding/json
// (through emit) on any strings.
func FuzzAppendSink(f *testing.F) {
	f.Add("bcrt1qxyz", "exchange", "a\"b\\c", "\u2028\xff<&>", int64(5))
	f.Fuzz(func(t *testing.T, addr, entity, source, input string, amount int64) {
		res := &trace.Result{Sinks: trace.NewSinkList([]trace.Sink{{Kind: trace.SinkEntity, Address: addr, Entity: entity, Category: input,
			Source: source, Input: input, Reason: entity, AmountSat: amount}}), Edges: trace.NewEdgeList([]trace.Edge{{AmountSat: amount}})}
		v := hgapp.TraceView{Result: res}
		var want, got bytes.Buffer
		text := func(io.Writer) error { return nil }
		if err := (&app{json: true, stdout: &want}).emit(v, text); err != nil {
			t.Fatal(err)
		}
		if err := (&app{json: true, stdout: &got}).emitResults(v, []*trace.Result{res}, 1, text); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("emitResults wrote\n%s\nemit\n%s", got.Bytes(), want.Bytes())
		}
	})
}
