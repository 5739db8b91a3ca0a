package pebble

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"strconv"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var _ store.Webhooks = (*DB)(nil)

// The webhook tables (schema.go): w + 'e' + id -> endpoint record; the
// outbox w + 'o' + len(id) + id + alert seq(be64) -> delivery record
// (pending, in raise order); the log w + 'd' + len(id) + id + alert
// seq(be64) -> delivery record (delivered or failed).
const (
	prefixWebhooks  byte = 'w'
	webhookEndpoint byte = 'e'
	webhookPending  byte = 'o'
	webhookDone     byte = 'd'
)

func webhookKey(id string) []byte { return append([]byte{prefixWebhooks, webhookEndpoint}, id...) }

func outboxPrefix(table byte, id string) []byte {
	return appendAddr([]byte{prefixWebhooks, table}, id)
}

func outboxKey(table byte, id string, seq uint64) []byte {
	return appendU64(outboxPrefix(table, id), seq)
}

func appendWebhookRecord(dst []byte, w *store.Webhook) []byte {
	dst = appendString(dst, w.URL)
	dst = appendString(dst, w.Secret)
	dst = appendUvarint(dst, uint64(len(w.Entities)))
	for _, e := range w.Entities {
		dst = appendString(dst, e)
	}
	dst = appendUvarint(dst, uint64(len(w.Kinds)))
	for _, k := range w.Kinds {
		dst = appendString(dst, string(k))
	}
	dst = appendVarint(dst, w.Created)
	dst = appendString(dst, w.Owner)
	disabled := byte(0)
	if w.Disabled {
		disabled = 1
	}
	dst = append(dst, disabled)
	dst = appendString(dst, w.DisabledReason)
	dst = appendVarint(dst, w.Delivered)
	dst = appendVarint(dst, w.Failed)
	dst = appendVarint(dst, int64(w.LastStatus))
	dst = appendString(dst, w.LastError)
	return appendVarint(dst, w.LastAttempt)
}

func decodeWebhookRecord(id string, v []byte) (store.Webhook, error) {
	r := reader{b: v}
	w := store.Webhook{ID: id}
	w.URL = r.str()
	w.Secret = r.str()
	n := r.uvarint()
	for i := uint64(0); i < n && !r.bad; i++ {
		w.Entities = append(w.Entities, r.str())
	}
	n = r.uvarint()
	for i := uint64(0); i < n && !r.bad; i++ {
		w.Kinds = append(w.Kinds, heistgraph.AlertKind(r.str()))
	}
	w.Created = r.varint()
	w.Owner = r.str()
	w.Disabled = r.byte() == 1
	w.DisabledReason = r.str()
	w.Delivered = r.varint()
	w.Failed = r.varint()
	w.LastStatus = int(r.varint())
	w.LastError = r.str()
	w.LastAttempt = r.varint()
	if err := r.done("webhook record " + id); err != nil {
		return store.Webhook{}, err
	}
	return w, nil
}

func appendDeliveryRecord(dst []byte, dl *store.Delivery) []byte {
	dst = appendString(dst, string(dl.State))
	dst = appendVarint(dst, int64(dl.Attempts))
	dst = appendVarint(dst, dl.NextAttempt)
	dst = appendVarint(dst, dl.LastAttempt)
	dst = appendVarint(dst, int64(dl.LastStatus))
	return appendString(dst, dl.LastError)
}

func decodeDeliveryRecord(endpoint string, seq uint64, v []byte) (store.Delivery, error) {
	r := reader{b: v}
	dl := store.Delivery{Endpoint: endpoint, AlertID: strconv.FormatUint(seq, 10)}
	dl.State = store.DeliveryState(r.str())
	dl.Attempts = int(r.varint())
	dl.NextAttempt = r.varint()
	dl.LastAttempt = r.varint()
	dl.LastStatus = int(r.varint())
	dl.LastError = r.str()
	if err := r.done("delivery record " + endpoint + "/" + dl.AlertID); err != nil {
		return store.Delivery{}, err
	}
	return dl, nil
}

// PutWebhook implements store.Webhooks. The endpoint is synced before it
// returns.
func (d *DB) PutWebhook(ctx context.Context, w store.Webhook) error {
	if w.ID == "" || w.URL == "" || w.Secret == "" {
		return fmt.Errorf("put webhook %q: id, url and secret are required: %w", w.ID, heistgraph.ErrInvalid)
	}
	unlock, err := d.lockAlerts(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if _, found, err := lookup(d.db, webhookKey(w.ID), nil); err != nil {
		return fmt.Errorf("put webhook %s: %w", w.ID, err)
	} else if found {
		return fmt.Errorf("put webhook %s: id already stored: %w", w.ID, heistgraph.ErrConflict)
	}
	w.Pending, w.HeadAttempts, w.NextAttempt = 0, 0, 0
	if err := d.db.Set(webhookKey(w.ID), appendWebhookRecord(nil, &w), pebbledb.Sync); err != nil {
		return fmt.Errorf("put webhook %s: %w", w.ID, err)
	}
	return nil
}

// webhookByID reads one endpoint, with Pending counted when count is set.
func (d *DB) webhookByID(id string, count bool) (store.Webhook, error) {
	v, found, err := lookup(d.db, webhookKey(id), nil)
	if err != nil {
		return store.Webhook{}, fmt.Errorf("webhook %s: %w", id, err)
	}
	if !found {
		return store.Webhook{}, fmt.Errorf("webhook %.40q: %w", id, heistgraph.ErrNotFound)
	}
	w, err := decodeWebhookRecord(id, v)
	if err != nil {
		return store.Webhook{}, err
	}
	if count {
		if err := d.fillPending(&w); err != nil {
			return store.Webhook{}, err
		}
	}
	return w, nil
}

// fillPending computes w's Pending, HeadAttempts and NextAttempt.
func (d *DB) fillPending(w *store.Webhook) error {
	var err error
	if w.Pending, err = d.countPrefix(outboxPrefix(webhookPending, w.ID)); err != nil || w.Pending == 0 {
		return err
	}
	head, ok, err := d.outboxHead(w.ID)
	if ok {
		w.HeadAttempts, w.NextAttempt = head.Attempts, head.NextAttempt
	}
	return err
}

func (d *DB) countPrefix(p []byte) (int64, error) {
	it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	var n int64
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	return n, it.Error()
}

// Webhook implements store.Webhooks.
func (d *DB) Webhook(ctx context.Context, id string) (store.Webhook, error) {
	if _, _, err := d.code(""); err != nil {
		return store.Webhook{}, err
	}
	if id == "" {
		return store.Webhook{}, fmt.Errorf("webhook: empty id: %w", heistgraph.ErrNotFound)
	}
	return d.webhookByID(id, true)
}

// webhookList reads every endpoint, with Pending counted when count is set.
func (d *DB) webhookList(ctx context.Context, count bool) ([]store.Webhook, error) {
	lo := []byte{prefixWebhooks, webhookEndpoint}
	it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []store.Webhook
	for ok := it.First(); ok; ok = it.Next() {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("webhooks: %w", err)
		}
		w, err := decodeWebhookRecord(string(it.Key()[2:]), it.Value())
		if err != nil {
			return nil, err
		}
		if count {
			if err := d.fillPending(&w); err != nil {
				return nil, err
			}
		}
		out = append(out, w)
	}
	return out, it.Error()
}

// WebhookList implements store.Webhooks.
func (d *DB) WebhookList(ctx context.Context) iter.Seq2[store.Webhook, error] {
	return func(yield func(store.Webhook, error) bool) {
		if _, _, err := d.code(""); err != nil {
			yield(store.Webhook{}, err)
			return
		}
		ws, err := d.webhookList(ctx, true)
		if err != nil {
			yield(store.Webhook{}, err)
			return
		}
		for _, w := range ws {
			if !yield(w, nil) {
				return
			}
		}
	}
}

// DeleteWebhook implements store.Webhooks: one synced batch.
func (d *DB) DeleteWebhook(ctx context.Context, id string) error {
	unlock, err := d.lockAlerts(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if id == "" {
		return fmt.Errorf("delete webhook: empty id: %w", heistgraph.ErrNotFound)
	}
	if _, err := d.webhookByID(id, false); err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	b := d.db.NewBatch()
	defer b.Close()
	if err := b.Delete(webhookKey(id), nil); err != nil {
		return err
	}
	for _, t := range []byte{webhookPending, webhookDone} {
		p := outboxPrefix(t, id)
		if err := b.DeleteRange(p, prefixEnd(p), nil); err != nil {
			return err
		}
	}
	if err := b.Commit(pebbledb.Sync); err != nil {
		return fmt.Errorf("delete webhook %s: %w", id, err)
	}
	return nil
}

// OutboxHeads implements store.Webhooks.
func (d *DB) OutboxHeads(ctx context.Context) ([]store.Delivery, error) {
	if _, _, err := d.code(""); err != nil {
		return nil, err
	}
	hooks, err := d.webhookList(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	var out []store.Delivery
	for _, w := range hooks {
		if w.Disabled {
			continue
		}
		dl, ok, err := d.outboxHead(w.ID)
		if err != nil {
			return nil, fmt.Errorf("outbox of %s: %w", w.ID, err)
		}
		if !ok {
			continue
		}
		seq, _ := strconv.ParseUint(dl.AlertID, 10, 64)
		a, err := d.alertBySeq(seq)
		if err != nil {
			return nil, fmt.Errorf("outbox of %s: %w", w.ID, err)
		}
		dl.Alert, dl.Webhook = a.Alert, w
		out = append(out, dl)
	}
	return out, nil
}

// outboxHead reads an endpoint's first pending delivery.
func (d *DB) outboxHead(id string) (store.Delivery, bool, error) {
	p := outboxPrefix(webhookPending, id)
	it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return store.Delivery{}, false, err
	}
	defer it.Close()
	if !it.First() {
		return store.Delivery{}, false, it.Error()
	}
	k := it.Key()
	if len(k) != len(p)+8 {
		return store.Delivery{}, false, fmt.Errorf("outbox key: %w", errCorrupt)
	}
	dl, err := decodeDeliveryRecord(id, binary.BigEndian.Uint64(k[len(p):]), it.Value())
	return dl, err == nil, err
}

// RecordAttempt implements store.Webhooks: one synced batch.
func (d *DB) RecordAttempt(ctx context.Context, dl store.Delivery, disable bool) error {
	seq, err := parseAlertID(dl.AlertID)
	if err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}
	switch dl.State {
	case store.DeliveryPending, store.DeliveryDelivered, store.DeliveryFailed:
	default:
		return fmt.Errorf("record attempt: state %q: %w", dl.State, heistgraph.ErrInvalid)
	}
	unlock, err := d.lockAlerts(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	w, err := d.webhookByID(dl.Endpoint, false)
	if err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}
	key := outboxKey(webhookPending, dl.Endpoint, seq)
	if _, found, err := lookup(d.db, key, nil); err != nil {
		return fmt.Errorf("record attempt: %w", err)
	} else if !found {
		return fmt.Errorf("record attempt: delivery of alert %s to %s is not pending: %w", dl.AlertID, dl.Endpoint, heistgraph.ErrNotFound)
	}
	b := d.db.NewBatch()
	defer b.Close()
	rec := appendDeliveryRecord(nil, &dl)
	if dl.State == store.DeliveryPending {
		err = b.Set(key, rec, nil)
	} else {
		if err = b.Delete(key, nil); err == nil {
			err = b.Set(outboxKey(webhookDone, dl.Endpoint, seq), rec, nil)
		}
	}
	if err != nil {
		return err
	}
	switch dl.State {
	case store.DeliveryDelivered:
		w.Delivered++
	case store.DeliveryFailed:
		w.Failed++
	}
	w.LastStatus, w.LastError, w.LastAttempt = dl.LastStatus, dl.LastError, dl.LastAttempt
	if disable {
		w.Disabled, w.DisabledReason = true, dl.LastError
	}
	if err := b.Set(webhookKey(w.ID), appendWebhookRecord(nil, &w), nil); err != nil {
		return err
	}
	if err := b.Commit(pebbledb.Sync); err != nil {
		return fmt.Errorf("record attempt: commit: %w", err)
	}
	return nil
}

// Deliveries implements store.Webhooks.
func (d *DB) Deliveries(ctx context.Context, endpoint string) iter.Seq2[store.Delivery, error] {
	return func(yield func(store.Delivery, error) bool) {
		if _, _, err := d.code(""); err != nil {
			yield(store.Delivery{}, err)
			return
		}
		if _, err := d.webhookByID(endpoint, false); err != nil {
			yield(store.Delivery{}, err)
			return
		}
		for _, t := range []byte{webhookDone, webhookPending} {
			p := outboxPrefix(t, endpoint)
			it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
			if err != nil {
				yield(store.Delivery{}, err)
				return
			}
			for ok := it.First(); ok; ok = it.Next() {
				if err := ctx.Err(); err != nil {
					it.Close()
					yield(store.Delivery{}, fmt.Errorf("deliveries: %w", err))
					return
				}
				k := it.Key()
				if len(k) != len(p)+8 {
					it.Close()
					yield(store.Delivery{}, fmt.Errorf("outbox key: %w", errCorrupt))
					return
				}
				dl, err := decodeDeliveryRecord(endpoint, binary.BigEndian.Uint64(k[len(p):]), it.Value())
				if !yield(dl, err) || err != nil {
					it.Close()
					return
				}
			}
			err = it.Error()
			it.Close()
			if err != nil {
				yield(store.Delivery{}, errors.Join(fmt.Errorf("deliveries of %s", endpoint), err))
				return
			}
		}
	}
}
