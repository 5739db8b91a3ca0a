package synth

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/bitcoin"
	"github.com/heistgraph/heistgraph/cluster"
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
	st := memStore(tb)
	net := heistgraph.Regtest
	src, err := bitcoin.NewFileSource([]string{dir}, bitcoin.FileOptions{Network: &net})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := ingest.Stream(ctx, st, src, ingest.Options{}); err != nil {
		tb.Fatal(err)
	}
	importLabels(tb, st, dir)
	return st
}

// memStore opens an empty Pebble store in memory, closed when tb ends.
func memStore(tb testing.TB) store.Store {
	tb.Helper()
	opts := pebble.DefaultOptions()
	opts.FS = vfs.NewMem()
	st, err := pebble.Open("db", opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// importLabels imports the world's labels.csv into st.
func importLabels(tb testing.TB, st store.Store, dir string) {
	tb.Helper()
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
	if _, err := st.PutLabels(context.Background(), labels); err != nil {
		tb.Fatal(err)
	}
}

// clustered clusters the world's addresses in st and returns the resolver
// traces use in production: labels reaching whole clusters.
func clustered(tb testing.TB, st store.Store) trace.Resolver {
	tb.Helper()
	if _, err := cluster.Update(context.Background(), st, heistgraph.ChainBTCRegtest, cluster.DefaultOptions()); err != nil {
		tb.Fatal(err)
	}
	return cluster.NewResolver(st)
}

// TestEvalTrace runs the flow of `eval trace` on the small world (ingest,
// labels.csv, clustering, the cluster resolver) under each policy and
// checks the scoring's accounting: delivered is the truth's amount minus
// the thief's fees, found is what the trace's sinks hold (for a conserving
// policy, the seeds minus the trace's fees), and the ratios follow from the
// per-entity sums. The default policy must reach the bar on heists
// without CoinJoins: value recall ≥ 0.95 and false exposure ≤ 0.05.
func TestEvalTrace(t *testing.T) {
	dir, _, truth, _ := testWorld(t)
	st := loadWorld(t, dir)
	res := clustered(t, st)
	for _, p := range trace.Policies() {
		opts := trace.DefaultOptions()
		opts.Policy = p
		opts.Resolver = res
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
			if p == trace.DefaultPolicy && !h.UsesCoinJoin && (h.ValueRecall < 0.95 || h.FalseExposure > 0.05) {
				t.Errorf("%s %s: recall %.4f, exposure %.4f; the bar is 0.95 / 0.05", p, h.ID, h.ValueRecall, h.FalseExposure)
			}
		}
	}
}

// perfectStops is a Resolver that knows every address of every entity the
// world's labels.csv names at all: what perfect clustering would make of
// those labels. Entities without a label stay unknown.
type perfectStops struct {
	owners   map[string]int
	truth    *Truth
	labelled map[string]bool // entity names
}

func (p perfectStops) Resolve(_ context.Context, _ heistgraph.Chain, addr string) (heistgraph.EntityRef, bool, error) {
	i, ok := p.owners[addr]
	if !ok || !p.labelled[p.truth.Entities[i].Name] {
		return heistgraph.EntityRef{}, false, nil
	}
	e := p.truth.Entities[i]
	return heistgraph.EntityRef{Name: e.Name, Category: e.Category}, true, nil
}

// TestEvalTraceEngineTarget checks the tracing engine against the issue's
// target, value recall ≥ 0.95 and false exposure ≤ 0.05 with the default
// policy on every heist without CoinJoins, when the stops are known: the
// resolver is perfectStops, so what is left to the engine is following
// the value and stopping at the right outputs. (The merchants labels.csv
// never names stay a loss, as in the real flow.)
func TestEvalTraceEngineTarget(t *testing.T) {
	dir, _, truth, _ := testWorld(t)
	st := loadWorld(t, dir)
	labelled := map[string]bool{}
	for l, err := range st.Labels(context.Background(), store.LabelQuery{Chain: heistgraph.ChainBTCRegtest}) {
		if err != nil {
			t.Fatal(err)
		}
		labelled[l.Entity] = true
	}
	opts := trace.DefaultOptions()
	opts.Resolver = perfectStops{owners: truth.Owners(), truth: truth, labelled: labelled}
	ev, err := EvalTrace(context.Background(), st, truth, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range ev.Heists {
		t.Logf("%s coinjoin=%t recall %.4f exposure %.4f", h.ID, h.UsesCoinJoin, h.ValueRecall, h.FalseExposure)
		if !h.UsesCoinJoin && (h.ValueRecall < 0.95 || h.FalseExposure > 0.05) {
			t.Errorf("%s: recall %.4f, exposure %.4f; want ≥ 0.95 and ≤ 0.05", h.ID, h.ValueRecall, h.FalseExposure)
		}
	}
}
