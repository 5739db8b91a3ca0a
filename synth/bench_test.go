package synth

import (
	"context"
	"testing"
)

// benchmarkGenerate generates a world of scale sc per iteration and
// reports transactions per second. Medium takes seconds and Large about a
// minute of CPU; run them one at a time, e.g.
//
//	go test -c -o /tmp/synth.test ./synth/
//	/usr/bin/time -v /tmp/synth.test -test.run '^$' -test.bench 'Generate/large' -test.benchtime 1x
//
// or through the command line:
//
//	/usr/bin/time -v heistgraph synth --out DIR --scale large --json --quiet
func benchmarkGenerate(b *testing.B, sc Scale) {
	b.ReportAllocs()
	var txs, bytes int64
	for i := 0; b.Loop(); i++ {
		s, err := Generate(context.Background(), Options{Dir: b.TempDir(), Seed: int64(i + 1), Scale: sc})
		if err != nil {
			b.Fatal(err)
		}
		txs += s.Txs
		bytes += s.Bytes
	}
	b.SetBytes(bytes / int64(b.N))
	b.ReportMetric(float64(txs)/b.Elapsed().Seconds(), "txs/s")
	b.ReportMetric(float64(txs)/float64(b.N), "txs/world")
}

func BenchmarkGenerate(b *testing.B) {
	for _, sc := range []Scale{Small, Medium, Large} {
		b.Run(string(sc), func(b *testing.B) { benchmarkGenerate(b, sc) })
	}
}
