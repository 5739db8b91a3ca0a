package pebble

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"iter"
	"math"
	"strconv"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var _ store.Alerts = (*DB)(nil)

// The alert tables (schema.go): r + 'a' + seq(be64) -> alert record, and
// the idempotency index r + 'k' + key(32) -> seq(be64). An alert's id is
// its seq in decimal.
const (
	prefixAlerts byte = 'r'
	alertsBySeq  byte = 'a'
	alertsByKey  byte = 'k'
)

func alertSeqKey(seq uint64) []byte  { return appendU64([]byte{prefixAlerts, alertsBySeq}, seq) }
func alertIdemKey(k [32]byte) []byte { return append([]byte{prefixAlerts, alertsByKey}, k[:]...) }

func appendAlertRecord(dst []byte, a *store.StoredAlert) []byte {
	dst = appendString(dst, string(a.Kind))
	dst = appendString(dst, string(a.Chain))
	dst = appendString(dst, a.Watch)
	dst = append(dst, a.TxID[:]...)
	dst = appendUvarint(dst, uint64(a.Vout))
	dst = appendString(dst, a.Address)
	dst = appendString(dst, a.Entity)
	dst = appendString(dst, a.Category)
	dst = appendVarint(dst, a.AmountSat)
	dst = appendVarint(dst, a.BlockHeight)
	dst = append(dst, a.BlockHash[:]...)
	dst = appendVarint(dst, a.Time)
	dst = appendU64(dst, math.Float64bits(a.Share))
	dst = appendVarint(dst, int64(a.Path.Hops))
	dst = appendUvarint(dst, uint64(len(a.Path.TxIDs)))
	for _, t := range a.Path.TxIDs {
		dst = append(dst, t[:]...)
	}
	dst = appendString(dst, a.Incident)
	dst = appendString(dst, a.Retracts)
	dst = appendVarint(dst, a.Raised)
	dst = appendVarint(dst, a.Acked)
	dst = appendString(dst, a.AckedBy)
	if a.RetractedKind != "" { // optional trailer: records written before it have none
		dst = appendString(dst, string(a.RetractedKind))
	}
	return dst
}

func decodeAlertRecord(seq uint64, v []byte) (store.StoredAlert, error) {
	r := reader{b: v}
	var a store.StoredAlert
	a.ID = strconv.FormatUint(seq, 10)
	a.Kind = heistgraph.AlertKind(r.str())
	a.Chain = heistgraph.Chain(r.str())
	a.Watch = r.str()
	a.TxID = r.hash()
	a.Vout = uint32(r.uvarint())
	a.Address = r.str()
	a.Entity = r.str()
	a.Category = r.str()
	a.AmountSat = r.varint()
	a.BlockHeight = r.varint()
	a.BlockHash = r.hash()
	a.Time = r.varint()
	if len(r.b) >= 8 {
		a.Share = math.Float64frombits(binary.BigEndian.Uint64(r.b))
		r.b = r.b[8:]
	} else {
		r.fail()
	}
	a.Path.Hops = int(r.varint())
	n := r.uvarint()
	if n > uint64(len(r.b)/32) {
		r.fail()
		n = 0
	}
	a.Path.TxIDs = make([]heistgraph.Hash, n)
	for i := range a.Path.TxIDs {
		a.Path.TxIDs[i] = r.hash()
	}
	a.Incident = r.str()
	a.Retracts = r.str()
	a.Raised = r.varint()
	a.Acked = r.varint()
	a.AckedBy = r.str()
	if len(r.b) > 0 {
		a.RetractedKind = heistgraph.AlertKind(r.str())
	}
	if err := r.done("alert record " + a.ID); err != nil {
		return store.StoredAlert{}, err
	}
	a.IdempotencyKey = a.Key()
	return a, nil
}

// parseAlertID parses an alert id (a positive decimal seq); anything else
// is not found (ids are opaque to callers, and a malformed one names no
// alert).
func parseAlertID(id string) (uint64, error) {
	seq, err := strconv.ParseUint(id, 10, 64)
	if err != nil || seq == 0 || strconv.FormatUint(seq, 10) != id {
		return 0, fmt.Errorf("alert %.40q: %w", id, heistgraph.ErrNotFound)
	}
	return seq, nil
}

// lockAlerts checks that the store is open and ctx live, and takes the
// lock that serializes writes to the alert and webhook tables.
func (d *DB) lockAlerts(ctx context.Context) (unlock func(), err error) {
	if _, _, err := d.code(""); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.alertMu.Lock()
	return d.alertMu.Unlock, nil
}

// nextAlertSeq returns the next alert seq, reading the last one stored on
// first use. The caller holds alertMu.
func (d *DB) nextAlertSeq() (uint64, error) {
	if d.alertNext != 0 {
		return d.alertNext, nil
	}
	lo := []byte{prefixAlerts, alertsBySeq}
	it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	d.alertNext = 1
	if it.Last() {
		if k := it.Key(); len(k) == 10 {
			d.alertNext = binary.BigEndian.Uint64(k[2:]) + 1
		}
	}
	return d.alertNext, it.Error()
}

// RaiseAlerts implements store.Alerts: one batch, committed with a sync.
func (d *DB) RaiseAlerts(ctx context.Context, alerts []heistgraph.Alert, raised int64) ([]store.StoredAlert, error) {
	keys := make([][32]byte, len(alerts))
	for i := range alerts {
		if err := alerts[i].Validate(); err != nil {
			return nil, fmt.Errorf("raise alerts: alert %d: %w", i, err)
		}
		if _, err := hex.Decode(keys[i][:], []byte(alerts[i].IdempotencyKey)); err != nil {
			return nil, fmt.Errorf("raise alerts: alert %d: key: %w", i, heistgraph.ErrInvalid)
		}
	}
	unlock, err := d.lockAlerts(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	next, err := d.nextAlertSeq()
	if err != nil {
		return nil, fmt.Errorf("raise alerts: %w", err)
	}
	hooks, err := d.webhookList(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("raise alerts: %w", err)
	}
	b := d.db.NewBatch()
	defer b.Close()
	var out []store.StoredAlert
	seen := map[[32]byte]bool{}
	seq := next
	for i := range alerts {
		if seen[keys[i]] {
			continue
		}
		seen[keys[i]] = true
		if _, found, err := lookup(d.db, alertIdemKey(keys[i]), nil); err != nil {
			return nil, fmt.Errorf("raise alerts: %w", err)
		} else if found {
			continue
		}
		sa := store.StoredAlert{Alert: alerts[i], Raised: raised}
		sa.ID = strconv.FormatUint(seq, 10)
		sa.Path.TxIDs = append([]heistgraph.Hash{}, sa.Path.TxIDs...)
		if err := b.Set(alertSeqKey(seq), appendAlertRecord(nil, &sa), nil); err != nil {
			return nil, err
		}
		if err := b.Set(alertIdemKey(keys[i]), appendU64(nil, seq), nil); err != nil {
			return nil, err
		}
		for _, w := range hooks {
			if w.Disabled || !w.Matches(&sa.Alert) {
				continue
			}
			dl := store.Delivery{Endpoint: w.ID, AlertID: sa.ID, State: store.DeliveryPending}
			if err := b.Set(outboxKey(webhookPending, w.ID, seq), appendDeliveryRecord(nil, &dl), nil); err != nil {
				return nil, err
			}
		}
		out = append(out, sa)
		seq++
	}
	if len(out) == 0 {
		return nil, nil
	}
	if err := b.Commit(pebbledb.Sync); err != nil {
		return nil, fmt.Errorf("raise alerts: commit: %w", err)
	}
	d.alertNext = seq
	return out, nil
}

// Alert implements store.Alerts.
func (d *DB) Alert(ctx context.Context, id string) (store.StoredAlert, error) {
	if _, _, err := d.code(""); err != nil {
		return store.StoredAlert{}, err
	}
	seq, err := parseAlertID(id)
	if err != nil {
		return store.StoredAlert{}, err
	}
	return d.alertBySeq(seq)
}

func (d *DB) alertBySeq(seq uint64) (store.StoredAlert, error) {
	v, found, err := lookup(d.db, alertSeqKey(seq), nil)
	if err != nil {
		return store.StoredAlert{}, fmt.Errorf("alert %d: %w", seq, err)
	}
	if !found {
		return store.StoredAlert{}, fmt.Errorf("alert %d: %w", seq, heistgraph.ErrNotFound)
	}
	return decodeAlertRecord(seq, v)
}

// AlertList implements store.Alerts.
func (d *DB) AlertList(ctx context.Context, q store.AlertQuery) iter.Seq2[store.StoredAlert, error] {
	return func(yield func(store.StoredAlert, error) bool) {
		if _, _, err := d.code(""); err != nil {
			yield(store.StoredAlert{}, err)
			return
		}
		lo := []byte{prefixAlerts, alertsBySeq}
		it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
		if err != nil {
			yield(store.StoredAlert{}, err)
			return
		}
		defer it.Close()
		n := 0
		for ok := it.First(); ok; ok = it.Next() {
			if err := ctx.Err(); err != nil {
				yield(store.StoredAlert{}, fmt.Errorf("alerts: %w", err))
				return
			}
			k := it.Key()
			if len(k) != 10 {
				yield(store.StoredAlert{}, fmt.Errorf("alert key: %w", errCorrupt))
				return
			}
			a, err := decodeAlertRecord(binary.BigEndian.Uint64(k[2:]), it.Value())
			if err != nil {
				yield(store.StoredAlert{}, err)
				return
			}
			if !q.Match(a) {
				continue
			}
			if !yield(a, nil) {
				return
			}
			if n++; q.Limit > 0 && n >= q.Limit {
				return
			}
		}
		if err := it.Error(); err != nil {
			yield(store.StoredAlert{}, fmt.Errorf("alerts: %w", err))
		}
	}
}

// AckAlert implements store.Alerts. The acknowledgement is synced before
// it returns.
func (d *DB) AckAlert(ctx context.Context, id string, at int64, who string) (store.StoredAlert, error) {
	seq, err := parseAlertID(id)
	if err != nil {
		if _, _, cerr := d.code(""); cerr != nil {
			return store.StoredAlert{}, cerr
		}
		return store.StoredAlert{}, err
	}
	unlock, err := d.lockAlerts(ctx)
	if err != nil {
		return store.StoredAlert{}, err
	}
	defer unlock()
	a, err := d.alertBySeq(seq)
	if err != nil {
		return store.StoredAlert{}, fmt.Errorf("ack: %w", err)
	}
	if a.Acked != 0 {
		return a, nil
	}
	a.Acked, a.AckedBy = at, who
	if err := d.db.Set(alertSeqKey(seq), appendAlertRecord(nil, &a), pebbledb.Sync); err != nil {
		return store.StoredAlert{}, fmt.Errorf("ack alert %s: %w", id, err)
	}
	return a, nil
}
