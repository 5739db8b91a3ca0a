package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/pgtest"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/postgres"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// openAll opens n stores on one database, each with its own connection
// pool, as n processes would.
func openAll(t *testing.T, url string, n int) []*postgres.DB {
	t.Helper()
	dbs := make([]*postgres.DB, n)
	for i := range dbs {
		db, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	return dbs
}

// testConcurrentOverrides has writers on separate connections add cluster
// overrides at once, each reading the next sequence number and retrying on
// a conflict as an analyst's command does: every override must be stored
// once, with sequence numbers 1..n and none lost.
func testConcurrentOverrides(t *testing.T, c *pgtest.Cluster) {
	const writers, each = 4, 15
	ctx := context.Background()
	url := c.NewDatabase(t)
	dbs := openAll(t, url, writers)
	g := storetest.NewGenerator(heistgraph.ChainBTCRegtest, 1, 3)
	if err := dbs[0].ApplyBlock(ctx, g.Next()); err != nil {
		t.Fatal(err)
	}
	chain := heistgraph.ChainBTCRegtest
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w, db := range dbs {
		wg.Go(func() {
			for i := range each {
				for {
					seq := uint64(1)
					if tip, err := db.ClusterTip(ctx, chain); err == nil {
						seq = tip.NextOverride
					} else if !errors.Is(err, heistgraph.ErrNotFound) {
						errs <- err
						return
					}
					ov := heistgraph.ClusterOverride{Seq: seq, Kind: heistgraph.OverrideSplit, Addresses: []string{fmt.Sprintf("w%d-%d", w, i)}, By: fmt.Sprint(w)}
					err := db.WriteClusters(ctx, chain, &store.ClusterBatch{Overrides: []heistgraph.ClusterOverride{ov}})
					if errors.Is(err, heistgraph.ErrConflict) {
						continue // another writer took seq: read again
					}
					if err != nil {
						errs <- err
						return
					}
					break
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var n uint64
	for o, err := range dbs[0].Overrides(ctx, chain) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if o.Seq != n {
			t.Errorf("override %d has seq %d", n, o.Seq)
		}
		if seen[o.Addresses[0]] {
			t.Errorf("override of %s stored twice", o.Addresses[0])
		}
		seen[o.Addresses[0]] = true
	}
	if n != writers*each {
		t.Errorf("%d overrides stored, want %d: updates were lost", n, writers*each)
	}
}

// testConcurrentOutbox has deliverers on separate connections drain one
// outbox at once, as several serve processes would: every delivery must be
// attempted exactly once (none twice, none left).
func testConcurrentOutbox(t *testing.T, c *pgtest.Cluster) {
	const deliverers, endpoints, alerts = 4, 6, 40
	ctx := context.Background()
	url := c.NewDatabase(t)
	dbs := openAll(t, url, deliverers)
	for i := range endpoints {
		w := store.Webhook{ID: fmt.Sprintf("ep%d", i), URL: "http://127.0.0.1:9/", Secret: "whsec_x", Created: 1}
		if err := dbs[0].PutWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	// Alerts are raised from every process while the deliverers run.
	var mu sync.Mutex
	attempts := map[string]int{}
	var wg sync.WaitGroup
	raised := make(chan struct{})
	wg.Go(func() {
		defer close(raised)
		for i := range alerts {
			a := heistgraph.Alert{Kind: heistgraph.AlertFundsMoved, Chain: heistgraph.ChainBTCRegtest, Watch: "w", Address: "a", Time: 1, Share: 1}
			a.TxID[0], a.TxID[1] = byte(i), byte(i>>8)
			a.IdempotencyKey = a.Key()
			if _, err := dbs[i%deliverers].RaiseAlerts(ctx, []heistgraph.Alert{a}, int64(i)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for _, db := range dbs {
		wg.Go(func() {
			done := false
			for {
				heads, err := db.OutboxHeads(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if len(heads) == 0 {
					if done {
						return
					}
					select {
					case <-raised:
						done = true // one more poll after the last raise
					default:
						time.Sleep(5 * time.Millisecond)
					}
					continue
				}
				for _, h := range heads {
					mu.Lock()
					attempts[h.Endpoint+"/"+h.AlertID]++
					mu.Unlock()
					h.State, h.Attempts, h.LastStatus = store.DeliveryDelivered, 1, 200
					if err := db.RecordAttempt(ctx, h, false); err != nil {
						t.Errorf("record %s/%s: %v", h.Endpoint, h.AlertID, err)
					}
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for key, n := range attempts {
		if n != 1 {
			t.Errorf("delivery %s attempted %d times", key, n)
		}
	}
	if len(attempts) != endpoints*alerts {
		t.Errorf("%d deliveries attempted, want %d", len(attempts), endpoints*alerts)
	}
	for w, err := range dbs[0].WebhookList(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if w.Delivered != alerts || w.Pending != 0 {
			t.Errorf("endpoint %s: %d delivered, %d pending; want %d and 0", w.ID, w.Delivered, w.Pending, alerts)
		}
	}
}

// testConcurrentLabels has importers on separate connections store
// overlapping labels at once: each label is counted as added once.
func testConcurrentLabels(t *testing.T, c *pgtest.Cluster) {
	const importers, labels = 4, 200
	ctx := context.Background()
	dbs := openAll(t, c.NewDatabase(t), importers)
	var mu sync.Mutex
	added := 0
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Go(func() {
			var ls []heistgraph.Label
			for j := range labels {
				k := (j*7 + i*31) % labels // every importer stores every label, in its own order
				ls = append(ls, heistgraph.Label{Chain: "eth", Address: fmt.Sprintf("0x%040d", k), Entity: "E", Category: "exchange", Source: "s", Confidence: 1})
			}
			for chunk := range 10 {
				n, err := db.PutLabels(ctx, ls[chunk*labels/10:(chunk+1)*labels/10])
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				added += n
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if added != labels {
		t.Errorf("%d labels counted as added, want %d", added, labels)
	}
}
