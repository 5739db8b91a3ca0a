package tracejson_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/internal/jsonindent"
	"github.com/heistgraph/heistgraph/internal/tracejson"
	"github.com/heistgraph/heistgraph/trace"
)

// bigResult is a result the size of the medium world's haircut trace of
// every heist (about 300,000 sinks and 140,000 edges).
func bigResult() *trace.Result {
	sinks := make([]trace.Sink, 300_000)
	for i := range sinks {
		s := &sinks[i]
		s.Kind, s.Address, s.Vout, s.AmountSat, s.Hops, s.Source, s.Time = trace.SinkUnspent,
			fmt.Sprintf("bcrt1q%038x", i), uint32(i%7), int64(i)*1013, i%40, "heist-1", 1_700_000_000+int64(i)
		s.TxID[0], s.TxID[1] = byte(i), byte(i>>8)
		if i%5 == 0 {
			s.Kind, s.Entity, s.Category = trace.SinkEntity, "exchange-7", "exchange"
		}
	}
	edges := make([]trace.Edge, 140_000)
	for i := range edges {
		edges[i] = trace.Edge{From: heistgraph.Hash{byte(i)}, To: heistgraph.Hash{1: byte(i)}, AmountSat: int64(i) * 77, Outputs: 1 + i%3}
	}
	return &trace.Result{Chain: heistgraph.ChainBTCRegtest, Policy: trace.Haircut, Seeds: []string{"aa"},
		Sinks: trace.NewSinkList(sinks), Edges: trace.NewEdgeList(edges), Events: []trace.Event{}}
}

// BenchmarkWrite writes a large trace answer (bigResult) compact (as GET
// /v1/traces/{id} does) and indented (as trace --json does), paired in
// one run: through encoding/json's reflection over the plain slices of
// sinks and edges (reflect: what the sinks cost before, each encoded by
// reflection), through json.Encoder on the answer (marshaler: the lists'
// MarshalJSON, whose text encoding/json checks and copies again) and
// through Write; the indented forms of the first two are indented by
// jsonindent. It reports MB/s of answer.
//
//	go test ./internal/tracejson -run '^$' -bench Write -benchtime 5x
func BenchmarkWrite(b *testing.B) {
	res := bigResult()
	v := hgapp.TraceView{Result: res}
	plain := struct {
		Sinks []trace.Sink `json:"sinks"`
		Edges []trace.Edge `json:"edges"`
	}{res.Sinks.Slice(), res.Edges.Slice()}
	res = bigResult() // compact lists again (Slice made them values)
	v = hgapp.TraceView{Result: res}
	for _, indent := range []bool{false, true} {
		form := "compact"
		if indent {
			form = "indented"
		}
		for _, c := range []struct {
			name string
			v    any
		}{{"reflect", plain}, {"marshaler", v}} {
			b.Run(form+"/"+c.name, func(b *testing.B) {
				var n int64
				for b.Loop() {
					var buf bytes.Buffer
					enc := json.NewEncoder(&buf)
					enc.SetEscapeHTML(false)
					if err := enc.Encode(c.v); err != nil {
						b.Fatal(err)
					}
					cw := &countWriter{}
					if indent {
						if err := jsonindent.Write(cw, buf.Bytes(), "", "  "); err != nil {
							b.Fatal(err)
						}
					} else if _, err := io.Copy(cw, &buf); err != nil {
						b.Fatal(err)
					}
					n = cw.n
				}
				b.ReportMetric(float64(n)*float64(b.N)/1e6/b.Elapsed().Seconds(), "MB/s")
			})
		}
		b.Run(form+"/tracejson", func(b *testing.B) {
			var n int64
			for b.Loop() {
				cw := &countWriter{}
				if err := tracejson.Write(cw, v, []*trace.Result{res}, 1, indent); err != nil {
					b.Fatal(err)
				}
				n = cw.n
			}
			b.ReportMetric(float64(n)*float64(b.N)/1e6/b.Elapsed().Seconds(), "MB/s")
		})
	}
}

// countWriter counts what it is written.
type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }
