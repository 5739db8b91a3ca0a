package monitor

import (
	"context"
	"errors"
	"fmt"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
)

// StartWatch traces w's stored seeds as TraceWatch does (the same
// options, entities resolved through clusters) into a trace.Tracer on
// the store as it is at its tip, for Live to advance block by block. It
// returns nil when none of w's seeds is stored yet.
func StartWatch(ctx context.Context, st store.Store, w heistgraph.Watch) (*trace.Tracer, error) {
	opts, ok, err := WatchOptions(ctx, st, w)
	if err != nil || !ok {
		return nil, err
	}
	if err := hgapp.CheckSeeds(w.Chain, opts.Seeds); err != nil {
		return nil, fmt.Errorf("watch %s: %w", w.Name, err)
	}
	opts.Resolver = hgapp.EntityResolver(st)
	tip, err := st.Tip(ctx, w.Chain)
	if err != nil && !errors.Is(err, heistgraph.ErrNotFound) {
		return nil, fmt.Errorf("watch %s: tip: %w", w.Name, err)
	}
	tr, err := trace.Start(ctx, st, opts, tip.Height)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", w.Name, err)
	}
	return tr, nil
}

// checkTracer raises the alerts of tr's trace (Check on a kept trace).
func checkTracer(ctx context.Context, st store.Store, w heistgraph.Watch, tr *trace.Tracer) (CheckResult, error) {
	res, err := tr.Result(ctx)
	if err != nil {
		return CheckResult{}, fmt.Errorf("watch %s: %w", w.Name, err)
	}
	return checkTrace(ctx, st, w, res)
}
