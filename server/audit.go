package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/heistgraph/heistgraph/store"
)

// maxAuditBatch is the number of waiting records that closes a batch
// before its linger ends.
const maxAuditBatch = 1024

// auditLinger is how long a batch of screening records waits for more
// before it is written (auditWriter.linger).
const auditLinger = 2 * time.Millisecond

// auditSyncEvery is, on a store with store.AuditBuffer, how long batches
// of screening records may stay written but not synced: they are written
// at once (a crash of the process loses none), and synced together at
// most this long after the first of them (a crash of the machine may lose
// this much), or with the next batch a writer waits for.
const auditSyncEvery = 100 * time.Millisecond

// auditWriter appends audit records with group commit: one goroutine takes
// every record waiting, appends them in one batch (one sync) and wakes the
// writers that wait for durability. Screening records do not wait: their
// answer goes out before the sync, so it never waits for its own fsync.
// Writes (labels, keys) wait, which makes the write itself durable too
// (store.Audit's contract) before they answer.
//
// Records wait in a slice, not a channel: the goroutine is woken once per
// batch (by its first record, a record whose writer waits, a full batch
// or close), not once per record, which on a busy server's processor
// would put a switch to the writer between answers.
type auditWriter struct {
	mu      sync.Mutex
	closed  bool
	pending []auditReq // the records of the open batch (mu)
	spare   []auditReq // run's: the slice pending takes after a batch
	opened  chan struct{}
	now     chan struct{} // close the open batch now (a waiter, full, close)
	done    chan struct{}
	st      store.Audit
	log     *slog.Logger
	m       *metrics
	// linger is how long a batch of records nobody waits for (screens)
	// stays open for more before it is written: with many screens a
	// second, one write covers many answers instead of one or two. A
	// record whose writer waits closes the batch at once. timer is run's.
	linger time.Duration
	timer  *time.Timer
	// buf, when the store has the role, takes batches nobody waits for
	// without a sync; syncTimer (run's) ends the wait for their sync.
	buf       store.AuditBuffer
	syncTimer *time.Timer
}

type auditReq struct {
	rec  store.AuditRecord
	done chan error // nil: nobody waits
}

func newAuditWriter(st store.Audit, log *slog.Logger, m *metrics, linger time.Duration) *auditWriter {
	w := &auditWriter{st: st, opened: make(chan struct{}, 1), now: make(chan struct{}, 1), done: make(chan struct{}),
		log: log, m: m, linger: linger}
	w.buf, _ = st.(store.AuditBuffer)
	go w.run()
	return w
}

// signal wakes run through c unless it has a wake-up waiting there.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (w *auditWriter) run() {
	defer close(w.done)
	var syncDue <-chan time.Time // set while batches wait for their sync
	for {
		select {
		case <-w.opened:
			if w.linger > 0 {
				// Only answered records so far: let more join the batch
				// for up to w.linger (their answers are out already),
				// unless a writer that waits comes (or close).
				if w.timer == nil {
					w.timer = time.NewTimer(w.linger)
				} else {
					w.timer.Reset(w.linger)
				}
				select {
				case <-w.now:
					w.timer.Stop() // (Go 1.23 timers: no stale tick is left behind)
				case <-w.timer.C:
				}
			}
		case <-w.now:
		case <-syncDue:
			syncDue = nil
			w.syncBuffered()
			continue
		}
		w.mu.Lock()
		batch, closed := w.pending, w.closed
		w.pending = w.spare[:0]
		w.mu.Unlock()
		wait := false
		for _, r := range batch {
			wait = wait || r.done != nil
		}
		if len(batch) > 0 {
			buffered := !wait && w.buf != nil
			w.flush(batch, buffered)
			switch {
			case buffered && syncDue == nil:
				if w.syncTimer == nil {
					w.syncTimer = time.NewTimer(auditSyncEvery)
				} else {
					w.syncTimer.Reset(auditSyncEvery)
				}
				syncDue = w.syncTimer.C
			case !buffered && syncDue != nil:
				w.syncTimer.Stop() // the batch's sync covered the earlier ones
				syncDue = nil
			}
		}
		clear(batch) // (the records' strings)
		w.spare = batch[:0]
		if closed {
			if syncDue != nil {
				w.syncBuffered()
			}
			return
		}
	}
}

// flush appends batch, without a sync when buffered (w.buf).
func (w *auditWriter) flush(batch []auditReq, buffered bool) {
	recs := make([]store.AuditRecord, len(batch))
	for i, r := range batch {
		recs[i] = r.rec
	}
	start := time.Now()
	// The batch is written whatever happens to the requests that made it:
	// their answers may already be out.
	var err error
	if buffered {
		_, err = w.buf.AppendAuditBuffered(context.Background(), recs)
	} else {
		_, err = w.st.AppendAudit(context.Background(), recs)
	}
	w.m.auditBatch.Observe(float64(len(recs)))
	w.m.auditSync.Observe(time.Since(start).Seconds())
	if err != nil {
		w.m.auditErrors.Add(float64(len(recs)))
		w.log.Error("audit append failed", "records", len(recs), "err", err)
	}
	for _, r := range batch {
		if r.done != nil {
			r.done <- err
		}
	}
}

// syncBuffered syncs the batches written without a sync.
func (w *auditWriter) syncBuffered() {
	start := time.Now()
	err := w.buf.SyncAudit(context.Background())
	w.m.auditSync.Observe(time.Since(start).Seconds())
	if err != nil {
		w.log.Error("audit sync failed", "err", err)
	}
}

// send queues r unless the writer is closed.
func (w *auditWriter) send(r auditReq) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return errShutdown
	}
	w.pending = append(w.pending, r)
	n := len(w.pending)
	w.mu.Unlock()
	switch {
	case r.done != nil || n >= maxAuditBatch:
		signal(w.now)
	case n == 1:
		signal(w.opened)
	}
	return nil
}

// add queues rec without waiting for it to be durable. After close it
// drops rec (the server no longer answers).
func (w *auditWriter) add(rec store.AuditRecord) {
	if err := w.send(auditReq{rec: rec}); err != nil {
		w.m.auditErrors.Inc()
		w.log.Warn("audit record after shutdown dropped", "path", rec.Path, "key", rec.KeyID)
	}
}

// addSync queues rec and waits until it (and every write before it) is
// durable.
func (w *auditWriter) addSync(ctx context.Context, rec store.AuditRecord) error {
	done := make(chan error, 1)
	if err := w.send(auditReq{rec: rec, done: done}); err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close writes what is queued and stops the writer. No add may follow.
func (w *auditWriter) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	signal(w.now)
	<-w.done
}
