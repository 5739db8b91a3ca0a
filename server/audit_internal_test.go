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

// batchCounter is a store.Audit and store.AuditBuffer that records the
// calls made to it: the size of each batch, negative when appended
// without a sync, and 0 for a SyncAudit.
type batchCounter struct {
	*pebble.DB
	mu      sync.Mutex
	batches []int
}

func (b *batchCounter) AppendAudit(ctx context.Context, recs []store.AuditRecord) (uint64, error) {
	b.note(len(recs))
	return b.DB.AppendAudit(ctx, recs)
}

func (b *batchCounter) AppendAuditBuffered(ctx context.Context, recs []store.AuditRecord) (uint64, error) {
	b.note(-len(recs))
	return b.DB.AppendAuditBuffered(ctx, recs)
}

func (b *batchCounter) SyncAudit(ctx context.Context) error {
	b.note(0)
	return b.DB.SyncAudit(ctx)
}

func (b *batchCounter) note(n int) {
	b.mu.Lock()
	b.batches = append(b.batches, n)
	b.mu.Unlock()
}

func (b *batchCounter) calls() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.batches)
}

// countedWriter returns an audit writer with linger over a memory store
// that records the calls made to it (closed at the test's end).
func countedWriter(t *testing.T, linger time.Duration) (*batchCounter, *auditWriter) {
	t.Helper()
	db, err := pebble.Open("", pebble.Options{FS: vfs.NewMem(), CacheSize: 1 << 20, MemTableSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := &batchCounter{DB: db}
	log := slog.New(slog.DiscardHandler)
	return st, newAuditWriter(st, log, newMetrics(prometheus.NewRegistry(), nil, log), linger)
}

// TestAuditLinger checks the audit writer's group commit with a linger
// far longer than the test: screening records nobody waits for stay in
// the open batch, a write that waits closes it at once (it does not wait
// for the linger), and closing the writer flushes what is left; every
// record is stored once, in the order it came.
func TestAuditLinger(t *testing.T) {
	st, w := countedWriter(t, time.Hour)
	db := st.DB
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
	if want := []int{11, -5, 0}; !slices.Equal(st.calls(), want) {
		t.Errorf("calls %v, want %v (one synced batch for the write and the records before it; at close, the screening records without a sync, then a sync)", st.calls(), want)
	}
}

// TestAuditBufferedSync checks that screening records appended without a
// sync are synced soon after (auditSyncEvery) with no other traffic, and
// that a batch a write waits for is appended with a sync, which covers
// the earlier ones.
func TestAuditBufferedSync(t *testing.T) {
	st, w := countedWriter(t, 0)
	defer w.close()
	rec := store.AuditRecord{Time: 1, KeyID: "k", Method: "POST", Path: "/v1/screen", Status: 200}
	w.add(rec)
	// A minute guards against a hang; the sync is due after 100 ms.
	for deadline := time.Now().Add(time.Minute); !slices.Equal(st.calls(), []int{-1, 0}); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("calls %v, want a buffered append then a sync", st.calls())
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w.add(rec)
	for deadline := time.Now().Add(time.Minute); len(st.calls()) < 3; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("calls %v, want a second buffered append", st.calls())
		}
	}
	if err := w.addSync(ctx, rec); err != nil {
		t.Fatal(err)
	}
	got := st.calls()
	// On a slow machine the second screen's own sync may have come
	// before the write.
	if tail := got[2:]; !slices.Equal(tail, []int{-1, 1}) && !slices.Equal(tail, []int{-1, 0, 1}) {
		t.Fatalf("calls after the first sync %v, want [-1 1] or [-1 0 1]", tail)
	}
	time.Sleep(3 * auditSyncEvery)
	if after := st.calls(); !slices.Equal(after, got) {
		t.Errorf("calls %v, then %v: a sync after the synced batch, which covered the buffered one", got, after)
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
