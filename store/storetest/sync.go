package storetest

import (
	"context"
	"testing"

	"github.com/heistgraph/heistgraph/store"
)

// testSync checks the contract of Sync that a conformance suite can see
// from inside one process: it succeeds on a fresh store, after writes of
// every role, and again with nothing new to sync, and it changes nothing a
// reader sees. (That synced writes survive a SIGKILL is checked with real
// processes in cmd/heistgraph's durability tests.)
func testSync(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := open(t)
	if err := st.Sync(); err != nil {
		t.Fatalf("sync of a fresh store: %v", err)
	}
	g := NewGenerator(chain, 7, 4)
	for range 3 {
		apply(t, st, g.Next())
	}
	if err := st.PutPrices(ctx, pricesFixture); err != nil {
		t.Fatalf("put prices: %v", err)
	}
	before := digest(t, st, chain)
	for i := range 2 {
		if err := st.Sync(); err != nil {
			t.Fatalf("sync %d: %v", i, err)
		}
	}
	equal(t, "digest after sync", digest(t, st, chain), before)
	tip, err := st.Tip(ctx, chain)
	if err != nil {
		t.Fatalf("tip after sync: %v", err)
	}
	equal(t, "tip after sync", tip.Height, g.Height()-1)
}
