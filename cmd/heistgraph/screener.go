package main

import (
	"context"
	"fmt"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/monitor"
	"github.com/heistgraph/heistgraph/risk"
	"github.com/heistgraph/heistgraph/store"
)

// newScreener returns the screening engine over st as both `heistgraph
// screen` and `serve` use it: the store's labels (read once, when a chain is
// first screened), addresses normalised and validated as labels are, and
// the outputs at which the incident register's traces come to rest marked
// stolen:<incident id> and those of the watches' traces stolen:<watch name>
// (stolenMarks). Labels written after it is made are
// not seen: make a new one then.
func newScreener(ctx context.Context, st store.Store) (*risk.Screener, error) {
	stolen, err := stolenMarks(ctx, st)
	if err != nil {
		return nil, err
	}
	sc, err := risk.NewScreener(st, risk.Options{Stolen: stolen, Normalize: heistgraph.NormalizeAddress})
	if err != nil {
		return nil, fmt.Errorf("screener: %w", err)
	}
	return sc, nil
}

// stolenMarks traces every incident of the register (shipped and imported)
// whose theft transactions the store holds, on each UTXO chain, as
// `incidents show` does (app.IncidentTrace: trace.DefaultOptions, entities
// resolved through clusters by app.EntityResolver), and marks the outputs at which
// the taint came to rest as stolen:<incident id> (risk.StolenSet.AddTrace).
// Incidents with none of their theft transactions in the store add
// nothing.
func stolenMarks(ctx context.Context, st store.Store) (*risk.StolenSet, error) {
	set := risk.NewStolenSet()
	reg, _, err := hgapp.Register(ctx, st)
	if err != nil {
		return nil, err
	}
	for _, inc := range reg.Incidents() {
		stored, err := hgapp.StoredTheftTxs(ctx, st, inc)
		if err != nil {
			return nil, err
		}
		for _, ch := range stored.Chains {
			res, err := hgapp.TheftTrace(ctx, st, ch, stored.TxIDs[ch], inc.ID)
			if err != nil {
				return nil, fmt.Errorf("incident %s: trace on %s: %w", inc.ID, ch, err)
			}
			if err := set.AddTrace(inc.ID, res); err != nil {
				return nil, fmt.Errorf("incident %s: %w", inc.ID, err)
			}
		}
	}
	if err := watchMarks(ctx, st, set); err != nil {
		return nil, err
	}
	return set, nil
}

// watchMarks adds to set the outputs at which the trace of each stored
// watch comes to rest (monitor.TraceWatch: the watch's seeds, chain and
// policy, entities resolved as trace does), marked stolen:<watch name>.
// The incidents' watches are left out: their incidents' traces marked
// those outputs under the incident id already.
func watchMarks(ctx context.Context, st store.Store, set *risk.StolenSet) error {
	var ws []heistgraph.Watch
	for w, err := range st.WatchList(ctx) {
		if err != nil {
			return fmt.Errorf("watches: %w", err)
		}
		if w.Incident == "" {
			ws = append(ws, w)
		}
	}
	for _, w := range ws {
		res, err := monitor.TraceWatch(ctx, st, w)
		if err != nil {
			return err
		}
		if res == nil {
			continue // none of its seeds is stored yet
		}
		if err := set.AddTrace(w.Name, res); err != nil {
			return fmt.Errorf("watch %s: %w", w.Name, err)
		}
	}
	return nil
}
