package synth

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/bitcoin"
	"github.com/heistgraph/heistgraph/ingest"
	"github.com/heistgraph/heistgraph/label"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/trace"
)

// loadWorld ingests the world in dir into an in-memory store and imports
// its labels.csv.
func loadWorld(tb testing.TB, dir string) store.Store {
	tb.Helper()
	ctx := context.Background()
	opts := pebble.DefaultOptions()
	opts.FS = vfs.NewMem()
	st, err := pebble.Open("db", opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	net := heistgraph.Regtest
	src, err := bitcoin.NewFileSource([]string{dir}, bitcoin.FileOptions{Network: &net})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := ingest.Stream(ctx, st, src, ingest.Options{}); err != nil {
		tb.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, LabelsFile))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var labels []heistgraph.Label
	for l, err := range label.ReadCSV(f, label.Options{Name: LabelsFile}) {
		if err != nil {
			tb.Fatal(err)
		}
		labels = append(labels, l)
	}
	if _, err := st.PutLabels(ctx, labels); err != nil {
		tb.Fatal(err)
	}
	return st
}

// addressLabels resolves an address by its own labels only.
type addressLabels struct{ st store.Store }

func (a addressLabels) Resolve(ctx context.Context, chain heistgraph.Chain, addr string) (heistgraph.EntityRef, bool, error) {
	ls, err := a.st.AddressLabels(ctx, chain, addr)
	if err != nil || len(ls) == 0 {
		return heistgraph.EntityRef{}, false, err
	}
	return heistgraph.EntityRef{Name: ls[0].Entity, Category: ls[0].Category, Source: ls[0].Source}, true, nil
}

// TestEvalTrace traces every heist of the small world under each policy
// and checks the scoring's accounting: delivered is the truth's amount
// minus the thief's fees, found is what the trace's sinks hold (for a
// conserving policy, the seeds minus the trace's fees), and the ratios
// follow from the per-entity sums.
func TestEvalTrace(t *testing.T) {
	dir, _, truth, _ := testWorld(t)
	st := loadWorld(t, dir)
	for _, p := range trace.Policies() {
		opts := trace.DefaultOptions()
		opts.Policy = p
		opts.Resolver = addressLabels{st}
		ev, err := EvalTrace(context.Background(), st, truth, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%-8s recall %.4f exposure %.4f | without CoinJoins %.4f %.4f | with %.4f %.4f", p, ev.ValueRecall, ev.FalseExposure,
			ev.WithoutCoinJoin.ValueRecall, ev.WithoutCoinJoin.FalseExposure, ev.WithCoinJoin.ValueRecall, ev.WithCoinJoin.FalseExposure)
		if ev.Policy != p || len(ev.Heists) != len(truth.Heists) || ev.WithCoinJoin.Heists+ev.WithoutCoinJoin.Heists != len(truth.Heists) {
			t.Fatalf("%s: %d heists scored", p, len(ev.Heists))
		}
		for i, h := range ev.Heists {
			th := truth.Heists[i]
			if h.ID != th.ID || h.UsesCoinJoin != th.UsesCoinJoin || h.DeliveredSat != th.AmountSat-th.FeesSat {
				t.Fatalf("%s %s: delivered %d, truth %d − fees %d", p, h.ID, h.DeliveredSat, th.AmountSat, th.FeesSat)
			}
			if p.Conserving() && h.FoundSat+h.FeesSat != th.AmountSat {
				t.Fatalf("%s %s: found %d + fees %d != stolen %d", p, h.ID, h.FoundSat, h.FeesSat, th.AmountSat)
			}
			var d, f, m int64
			for _, e := range h.Entities {
				d += e.DeliveredSat
				f += e.FoundSat
				m += min(e.DeliveredSat, e.FoundSat)
			}
			if d != h.DeliveredSat || f != h.FoundSat || m != h.MatchedSat || h.ValueRecall < 0 || h.ValueRecall > 1 ||
				h.FalseExposure < 0 || h.FalseExposure > 1 {
				t.Fatalf("%s %s: entity sums %d/%d/%d vs %d/%d/%d, recall %f, exposure %f", p, h.ID, d, f, m,
					h.DeliveredSat, h.FoundSat, h.MatchedSat, h.ValueRecall, h.FalseExposure)
			}
			t.Logf("   %s coinjoin=%t recall %.4f exposure %.4f (%d txs)", h.ID, h.UsesCoinJoin, h.ValueRecall, h.FalseExposure, h.TxsVisited)
		}
	}
}
