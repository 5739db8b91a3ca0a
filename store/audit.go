package store

import (
	"context"
	"iter"
)

// Audit is the append-only audit log of the HTTP service: one record per
// write and per screening request. Records are never changed or removed.
//
// AppendAudit makes its records durable before it returns, and with them
// every write this store acknowledged before the call: a caller that
// appends the audit record of a write after making the write, and answers
// only then, has both on disk (on Pebble one write-ahead log holds both; on
// PostgreSQL every commit is durable). Callers batch records (several
// screening answers, one sync) to amortise the sync.
//
// All methods are safe for concurrent use; returned values are the
// caller's. A record with an empty key id, method or path wraps
// heistgraph.ErrInvalid, and then nothing of the batch is stored. When ctx
// is cancelled a scan ends with an error wrapping ctx.Err().
type Audit interface {
	// AppendAudit stores recs in one atomic batch, giving them the next
	// sequence numbers in order (Seq in recs is ignored), and returns the
	// sequence number of the last one (0 for an empty batch).
	AppendAudit(ctx context.Context, recs []AuditRecord) (last uint64, err error)
	// AuditLog yields the records with sequence numbers above q.After, in
	// sequence order, at most q.Limit of them (0: all). It streams.
	AuditLog(ctx context.Context, q AuditQuery) iter.Seq2[AuditRecord, error]
}

// AuditRecord is one audited request: who (the key id), when (Unix
// seconds), what (method, path, how many items it carried, the status
// answered) and, for screening, the highest risk answered.
type AuditRecord struct {
	Seq    uint64
	Time   int64
	KeyID  string
	Method string
	Path   string
	Items  int
	Status int
	Risk   string
}

// AuditQuery selects audit records.
type AuditQuery struct {
	After uint64 // only records with a larger sequence number
	Limit int    // at most this many; 0 means all
}

// AuditBuffer is an optional role of an Audit store that can append
// without waiting for the disk. A screening service appends a record per
// answer; their answers are out before the records are durable anyway
// (the records are group-committed), so waiting for a sync of every group
// only holds up the answers that come next (on Pebble, an fdatasync holds
// the goroutine's processor for as long as the disk takes).
type AuditBuffer interface {
	// AppendAuditBuffered stores recs as AppendAudit does, in one atomic
	// batch with the next sequence numbers, handed to the operating
	// system so that a crash of the process loses nothing, but not
	// synced: a crash of the machine may lose them, and the batches
	// appended after them, until the next AppendAudit or SyncAudit.
	AppendAuditBuffered(ctx context.Context, recs []AuditRecord) (last uint64, err error)
	// SyncAudit makes every record appended so far durable.
	SyncAudit(ctx context.Context) error
}
