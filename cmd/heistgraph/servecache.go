package main

import (
	"context"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/risk"
	"github.com/heistgraph/heistgraph/server"
	"github.com/heistgraph/heistgraph/store"
)

// serve's answer cache (server.ScreenCacher): the server keeps the answer
// to a single screen, by its request bytes, and gives it again while
// nothing it was computed from has changed. An answer is computed from
// the store (read live: the tip, histories above the table, outputs,
// clusters, prices) and from the screener (the labels, the stolen marks of
// incidents and watches, the tables, the config, all read when it was
// built), and from the time only through the labels' validity windows. So
// its epoch is the store's write count (store.WriteCounter: every write of
// chain data, labels, clusters, incidents, links, prices and watches
// moves it) with the screener's generation (moved whenever serve replaces
// the screener: label writes, watch changes, feed pulls, caught-up
// follows), and it holds until a label of its chain next starts or stops
// being valid (risk.Screener.LabelsChangeAfter). A store other processes
// write (PostgreSQL) is not a store.WriteCounter: nothing is kept there.
var _ server.ScreenCacher = (*apiBackend)(nil)

// ScreenEpoch implements server.ScreenCacher. The store's count is read
// before the screener's generation: a write is followed by the screener's
// replacement when it calls for one, so an answer computed by the old
// screener after the write is kept under the old generation, which the
// replacement ends.
func (b *apiBackend) ScreenEpoch() (server.ScreenEpoch, int64, bool) {
	wc, ok := b.st.(store.WriteCounter)
	if !ok {
		return server.ScreenEpoch{}, 0, false
	}
	e := server.ScreenEpoch{Store: wc.Writes()}
	e.Screener = b.screening.epoch.Load()
	return e, time.Now().Unix(), true
}

// answerUntil is how long ans, an answer on chain given at or after at,
// holds (server.ScreenResult.Until): until a label of the chain next
// changes validity; 0 (not kept) when that cannot be told, and for a
// partial answer (its budget ran out on demand, before the chain's table
// was ready: the table's answer, soon, is whole).
func (b *apiBackend) answerUntil(ctx context.Context, sc *risk.Screener, ans *risk.Answer, chain heistgraph.Chain, at int64) int64 {
	if _, ok := b.st.(store.WriteCounter); !ok || ans.Partial {
		return 0
	}
	until, err := sc.LabelsChangeAfter(ctx, chain, at)
	if err != nil {
		return 0
	}
	return until
}
