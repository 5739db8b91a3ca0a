package pebble

import (
	"context"
	"encoding/binary"
	"fmt"
	"iter"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var _ store.Audit = (*DB)(nil)

// prefixAudit is the audit log table (schema.go): v + seq(be64) -> audit
// record.
const prefixAudit byte = 'v'

func auditKey(seq uint64) []byte { return appendU64([]byte{prefixAudit}, seq) }

func appendAuditRecord(dst []byte, r *store.AuditRecord) []byte {
	dst = appendVarint(dst, r.Time)
	dst = appendString(dst, r.KeyID)
	dst = appendString(dst, r.Method)
	dst = appendString(dst, r.Path)
	dst = appendUvarint(dst, uint64(r.Items))
	dst = appendUvarint(dst, uint64(r.Status))
	return appendString(dst, r.Risk)
}

func decodeAuditRecord(k, v []byte) (store.AuditRecord, error) {
	if len(k) != 9 {
		return store.AuditRecord{}, fmt.Errorf("audit key: %w", errCorrupt)
	}
	rd := reader{b: v}
	rec := store.AuditRecord{Seq: binary.BigEndian.Uint64(k[1:])}
	rec.Time = rd.varint()
	rec.KeyID = rd.str()
	rec.Method = rd.str()
	rec.Path = rd.str()
	rec.Items = int(rd.uvarint())
	rec.Status = int(rd.uvarint())
	rec.Risk = rd.str()
	if err := rd.done(fmt.Sprintf("audit record %d", rec.Seq)); err != nil {
		return store.AuditRecord{}, err
	}
	return rec, nil
}

// AppendAudit implements store.Audit: one batch, committed with a sync of
// the write-ahead log, which also makes every earlier write durable.
func (d *DB) AppendAudit(ctx context.Context, recs []store.AuditRecord) (uint64, error) {
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
	d.auditMu.Lock()
	defer d.auditMu.Unlock()
	if d.auditNext == 0 {
		next, err := d.lastAuditSeq()
		if err != nil {
			return 0, fmt.Errorf("append audit: %w", err)
		}
		d.auditNext = next + 1
	}
	b := d.db.NewBatch()
	defer b.Close()
	seq := d.auditNext
	var val []byte
	for i := range recs {
		val = appendAuditRecord(val[:0], &recs[i])
		if err := b.Set(auditKey(seq), val, nil); err != nil {
			return 0, err
		}
		seq++
	}
	if err := b.Commit(pebbledb.Sync); err != nil {
		return 0, fmt.Errorf("append audit: commit: %w", err)
	}
	d.auditNext = seq
	return seq - 1, nil
}

// lastAuditSeq returns the largest stored sequence number, 0 for none.
func (d *DB) lastAuditSeq() (uint64, error) {
	it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: []byte{prefixAudit}, UpperBound: []byte{prefixAudit + 1}})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	if !it.Last() {
		return 0, it.Error()
	}
	if len(it.Key()) != 9 {
		return 0, fmt.Errorf("audit key: %w", errCorrupt)
	}
	return binary.BigEndian.Uint64(it.Key()[1:]), nil
}

// AuditLog implements store.Audit.
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
		it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: auditKey(q.After + 1), UpperBound: []byte{prefixAudit + 1}})
		if err != nil {
			yield(store.AuditRecord{}, err)
			return
		}
		defer it.Close()
		n := 0
		for ok := it.First(); ok; ok = it.Next() {
			if q.Limit > 0 && n == q.Limit {
				return
			}
			if err := ctx.Err(); err != nil {
				yield(store.AuditRecord{}, fmt.Errorf("audit log: %w", err))
				return
			}
			rec, err := decodeAuditRecord(it.Key(), it.Value())
			if !yield(rec, err) || err != nil {
				return
			}
			n++
		}
		if err := it.Error(); err != nil {
			yield(store.AuditRecord{}, fmt.Errorf("audit log: %w", err))
		}
	}
}
