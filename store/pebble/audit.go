package pebble

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var _ store.Audit = (*DB)(nil)

func appendAuditRecord(dst []byte, r *store.AuditRecord) []byte {
	dst = appendVarint(dst, r.Time)
	dst = appendString(dst, r.KeyID)
	dst = appendString(dst, r.Method)
	dst = appendString(dst, r.Path)
	dst = appendUvarint(dst, uint64(r.Items))
	dst = appendUvarint(dst, uint64(r.Status))
	return appendString(dst, r.Risk)
}

// decodeAuditFields reads one record's fields (appendAuditRecord) from rd.
func decodeAuditFields(rd *reader, seq uint64) store.AuditRecord {
	rec := store.AuditRecord{Seq: seq}
	rec.Time = rd.varint()
	rec.KeyID = rd.str()
	rec.Method = rd.str()
	rec.Path = rd.str()
	rec.Items = int(rd.uvarint())
	rec.Status = int(rd.uvarint())
	rec.Risk = rd.str()
	return rec
}

var _ store.AuditBuffer = (*DB)(nil)

// AppendAudit implements store.Audit: one frame of the audit log file
// (auditlog.go), synced, and then a sync of the write-ahead log when the
// store holds writes not yet synced, which makes every earlier write
// durable too.
func (d *DB) AppendAudit(ctx context.Context, recs []store.AuditRecord) (uint64, error) {
	last, err := d.appendAudit(ctx, recs, true)
	if err != nil || len(recs) == 0 {
		return last, err
	}
	if err := d.Sync(); err != nil {
		return 0, fmt.Errorf("append audit: %w", err)
	}
	return last, nil
}

// AppendAuditBuffered implements store.AuditBuffer: one frame of the audit
// log file, written but not synced.
func (d *DB) AppendAuditBuffered(ctx context.Context, recs []store.AuditRecord) (uint64, error) {
	return d.appendAudit(ctx, recs, false)
}

// SyncAudit implements store.AuditBuffer.
func (d *DB) SyncAudit(ctx context.Context) error {
	if _, _, err := d.code(""); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	d.auditMu.Lock()
	defer d.auditMu.Unlock()
	if err := d.auditLog.sync(); err != nil {
		return fmt.Errorf("sync audit: %s: %w", d.auditLogPath(), err)
	}
	return nil
}

func (d *DB) appendAudit(ctx context.Context, recs []store.AuditRecord, sync bool) (uint64, error) {
	for i := range recs {
		if r := &recs[i]; r.KeyID == "" || r.Method == "" || r.Path == "" {
			return 0, fmt.Errorf("append audit: record %d: key id, method and path are required: %w", i, heistgraph.ErrInvalid)
		}
	}
	if _, _, err := d.code(""); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if len(recs) == 0 {
		return 0, nil
	}
	if d.opts.ReadOnly {
		return 0, fmt.Errorf("append audit: the store is open read-only: %w", heistgraph.ErrInvalid)
	}
	d.auditMu.Lock()
	defer d.auditMu.Unlock()
	if d.auditNext == 0 {
		d.auditNext = d.nextAuditSeq()
	}
	first := d.auditNext
	d.auditBuf = d.auditBuf[:0]
	for i := range recs {
		d.auditBuf = appendAuditRecord(d.auditBuf, &recs[i])
	}
	if err := d.auditLog.append(first, uint64(len(recs)), d.auditBuf, sync); err != nil {
		return 0, fmt.Errorf("append audit: %s: %w", d.auditLogPath(), err)
	}
	d.auditNext = first + uint64(len(recs))
	return d.auditNext - 1, nil
}

func (d *DB) auditLogPath() string { return d.fs().PathJoin(d.dir, auditFileName) }

// nextAuditSeq returns the sequence number the next record gets: after the
// file's last (1 for an empty log).
func (d *DB) nextAuditSeq() uint64 {
	d.auditLog.mu.Lock()
	defer d.auditLog.mu.Unlock()
	return max(d.auditLog.next, 1)
}

// AuditLog implements store.Audit: the records of the audit log file.
func (d *DB) AuditLog(ctx context.Context, q store.AuditQuery) iter.Seq2[store.AuditRecord, error] {
	return func(yield func(store.AuditRecord, error) bool) {
		if _, _, err := d.code(""); err != nil {
			yield(store.AuditRecord{}, err)
			return
		}
		if q.Limit < 0 {
			yield(store.AuditRecord{}, fmt.Errorf("audit log: limit %d < 0: %w", q.Limit, heistgraph.ErrInvalid))
			return
		}
		if q.After == ^uint64(0) {
			return
		}
		n := 0
		after := q.After
		more := func(rec store.AuditRecord, err error) bool {
			if err == nil && q.Limit > 0 && n == q.Limit {
				return false
			}
			if err == nil {
				if err = ctx.Err(); err != nil {
					err = fmt.Errorf("audit log: %w", err)
				}
			}
			if err != nil {
				yield(store.AuditRecord{}, err)
				return false
			}
			n++
			after = rec.Seq
			return yield(rec, nil)
		}
		d.fileAuditLog(after, more)
	}
}

// errStopAudit ends a walk of the file that its consumer stopped.
var errStopAudit = errors.New("stop")

// fileAuditLog yields the records above after that the file holds.
func (d *DB) fileAuditLog(after uint64, more func(store.AuditRecord, error) bool) {
	off, size, err := d.auditLog.from(after + 1)
	if err != nil {
		more(store.AuditRecord{}, fmt.Errorf("audit log: %w", err))
		return
	}
	err = d.auditLog.frames(off, size, func(payload []byte) error {
		first, count, recs, ok := framePayloadHead(payload)
		if !ok {
			return fmt.Errorf("audit log: frame of seq %d: %w", first, errCorrupt)
		}
		if first+count <= after+1 {
			return nil
		}
		rd := reader{b: recs}
		for seq := first; seq < first+count; seq++ {
			rec := decodeAuditFields(&rd, seq)
			if rd.bad {
				return fmt.Errorf("audit record %d: %w", seq, errCorrupt)
			}
			if seq <= after {
				continue
			}
			if !more(rec, nil) {
				return errStopAudit
			}
		}
		return rd.done(fmt.Sprintf("audit frame of seq %d", first))
	})
	if err != nil && !errors.Is(err, errStopAudit) {
		more(store.AuditRecord{}, fmt.Errorf("audit log %s: %w", d.auditLogPath(), err))
	}
}
