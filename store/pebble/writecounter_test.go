package pebble

import (
	"context"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// TestWrites checks store.WriteCounter: every write that can change what a
// screen reads moves the count (serve's answer cache keeps an answer only
// while it has not moved), and the writes of the audit log and the keys,
// which come with every request, leave it.
func TestWrites(t *testing.T) {
	db := openMem(t, DefaultMemTableSize)
	ctx := context.Background()
	chain := heistgraph.ChainBTCRegtest
	g := storetest.NewGenerator(chain, 3, 10)
	b1, b2 := g.Next(), g.Next()
	addr := b1.Txs[0].Outputs[0].Address
	day := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		write func() error
		moves bool
	}{
		{"apply a block", func() error { return db.ApplyBlock(ctx, b1) }, true},
		{"apply another", func() error { return db.ApplyBlock(ctx, b2) }, true},
		{"put labels", func() error {
			_, err := db.PutLabels(ctx, []heistgraph.Label{{Chain: chain, Address: addr, Entity: "x", Category: "exchange", Source: "t", Confidence: 1}})
			return err
		}, true},
		{"write clusters", func() error {
			return db.WriteClusters(ctx, chain, &store.ClusterBatch{NewAddresses: []string{addr}})
		}, true},
		{"put incidents", func() error {
			return db.PutIncidents(ctx, []heistgraph.Incident{{ID: "inc-1", Name: "one"}}, nil)
		}, true},
		{"put prices", func() error {
			return db.PutPrices(ctx, []heistgraph.DayPrice{{Asset: "BTC", Day: day, USD: 42}})
		}, true},
		{"put a watch", func() error {
			return db.PutWatch(ctx, heistgraph.Watch{Name: "w", Chain: chain, Seeds: []string{addr}, Policy: "haircut"})
		}, true},
		{"delete the watch", func() error { return db.DeleteWatch(ctx, "w") }, true},
		{"rewind", func() error { return db.RewindTo(ctx, chain, b1.Height) }, true},
		{"append audit records", func() error {
			_, err := db.AppendAudit(ctx, []store.AuditRecord{{Time: 1, KeyID: "k", Method: "POST", Path: "/v1/screen", Items: 1, Status: 200, Risk: "none"}})
			return err
		}, false},
		{"put a key", func() error {
			return db.PutKey(ctx, store.APIKey{ID: "k1", Hash: [32]byte{1}, Role: "screener", Created: 1})
		}, false},
		{"revoke it", func() error { return db.RevokeKey(ctx, "k1", 2) }, false},
	}
	for _, tc := range tests {
		before := db.Writes()
		if err := tc.write(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if moved := db.Writes() != before; moved != tc.moves {
			t.Errorf("%s: the write count moved %v, want %v", tc.name, moved, tc.moves)
		}
	}
}
