package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/heistgraph/heistgraph/store"
)

// maxAuditBatch bounds the records one sync covers.
const maxAuditBatch = 1024

// auditLinger is how long a batch of screening records waits for more
// before its sync (auditWriter.linger).
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
type auditWriter struct {
	// mu guards closed; senders hold it shared so close cannot close ch
	// under them.
	mu     sync.RWMutex
	closed bool
	st     store.Audit
	ch     chan auditReq
	done   chan struct{}
	log    *slog.Logger
	m      *metrics
	// linger is how long a batch of records nobody waits for (screens)
	// stays open for more before its sync: with many screens a second,
	// one sync covers many answers instead of one or two. A record whose
	// writer waits closes the batch at once. timer is run's.
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
	w := &auditWriter{st: st, ch: make(chan auditReq, 4*maxAuditBatch), done: make(chan struct{}), log: log, m: m, linger: linger}
	w.buf, _ = st.(store.AuditBuffer)
	go w.run()
	return w
}

func (w *auditWriter) run() {
	defer close(w.done)
	batch := make([]auditReq, 0, maxAuditBatch)
	var syncDue <-chan time.Time // set while batches wait for their sync
	defer func() {
		if syncDue != nil {
			w.syncBuffered()
		}
	}()
	for {
		var r auditReq
		var ok bool
		select {
		case r, ok = <-w.ch:
		case <-syncDue:
			syncDue = nil
			w.syncBuffered()
			continue
		}
		if !ok {
			return
		}
		batch = append(batch[:0], r)
		open, wait := true, r.done != nil
		var linger <-chan time.Time
		if !wait && w.linger > 0 {
			if w.timer == nil {
				w.timer = time.NewTimer(w.linger)
			} else {
				w.timer.Reset(w.linger)
			}
			linger = w.timer.C
		}
	drain:
		for open && len(batch) < maxAuditBatch {
			select {
			case r, ok := <-w.ch:
				if !ok {
					open = false
					break drain
				}
				batch = append(batch, r)
				wait = wait || r.done != nil
				continue
			default:
			}
			if wait || linger == nil {
				break // someone waits for this batch (or no linger): sync now
			}
			// Only answered records so far: let more join the batch for up
			// to w.linger (their answers are out already), unless a writer
			// that waits comes.
			select {
			case r, ok := <-w.ch:
				if !ok {
					open = false
					break drain
				}
				batch = append(batch, r)
				wait = wait || r.done != nil
			case <-linger:
				linger = nil
				break drain
			}
		}
		if linger != nil {
			w.timer.Stop() // (Go 1.23 timers: no stale tick is left behind)
		}
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
		if !open {
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
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return errShutdown
	}
	w.ch <- r
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

// close flushes what is queued and stops the writer. No add may follow.
func (w *auditWriter) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.ch)
	}
	w.mu.Unlock()
	<-w.done
}
