package server

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// batchCounter is a store.Audit that counts the batches appended to it.
type batchCounter struct {
	*pebble.DB
	mu      sync.Mutex
	batches []int
}

func (b *batchCounter) AppendAudit(ctx context.Context, recs []store.AuditRecord) (uint64, error) {
	b.mu.Lock()
	b.batches = append(b.batches, len(recs))
	b.mu.Unlock()
	return b.DB.AppendAudit(ctx, recs)
}

// TestAuditLinger checks the audit writer's group commit with a linger
// far longer than the test: screening records nobody waits for stay in
// the open batch, a write that waits closes it at once (it does not wait
// for the linger), and closing the writer flushes what is left; every
// record is stored once, in the order it came.
func TestAuditLinger(t *testing.T) {
	db, err := pebble.Open("", pebble.Options{FS: vfs.NewMem(), CacheSize: 1 << 20, MemTableSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := &batchCounter{DB: db}
	log := slog.New(slog.DiscardHandler)
	w := newAuditWriter(st, log, newMetrics(prometheus.NewRegistry(), nil, log), time.Hour)
	rec := func(i int) store.AuditRecord {
		return store.AuditRecord{Time: 1, KeyID: "k", Method: "POST", Path: "/v1/screen", Items: i, Status: 200}
	}
	for i := range 10 {
		w.add(rec(i))
	}
	// A minute is a guard against a hang, not a timing: with the bug this
	// test is for, addSync would wait the hour.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.addSync(ctx, rec(10)); err != nil {
		t.Fatalf("a write waiting behind screening records: %v", err)
	}
	if got := stored(t, db); !slices.Equal(got, seq(11)) {
		t.Fatalf("after the write: stored %v, want %v", got, seq(11))
	}
	for i := 11; i < 16; i++ {
		w.add(rec(i))
	}
	w.close()
	if got := stored(t, db); !slices.Equal(got, seq(16)) {
		t.Fatalf("after close: stored %v, want %v", got, seq(16))
	}
	if want := []int{11, 5}; !slices.Equal(st.batches, want) {
		t.Errorf("batches of %v records, want %v (one sync for the write and the records before it, one at close)", st.batches, want)
	}
}

// stored returns the Items field of every stored audit record, in order.
func stored(t *testing.T, db *pebble.DB) []int {
	t.Helper()
	var out []int
	for r, err := range db.AuditLog(context.Background(), store.AuditQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r.Items)
	}
	return out
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
