package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var (
	_ store.Alerts   = (*DB)(nil)
	_ store.Webhooks = (*DB)(nil)
)

// Alerts, webhook endpoints and their outbox. An alert's id is its seq in
// decimal. Raising alerts, adding endpoints and recording attempts are
// serialized by one transaction-scoped advisory lock (alertsLock), so that
// alert ids are given in commit order and an endpoint gets exactly the
// alerts raised after it was stored.
//
// Several processes may deliver from one outbox at once. OutboxHeads
// claims the endpoints whose heads it returns: it selects the enabled
// endpoints with pending deliveries that no other live process claims,
// locking their rows with FOR UPDATE SKIP LOCKED (two processes claiming at
// once skip each other's rows instead of waiting), and writes its claim
// (this DB's random id and a lease of claimLease) on them. A process sees
// only the heads of the endpoints it claims, so two processes never attempt
// one delivery at once; every poll renews the lease, and a process that
// dies loses its claims when the lease runs out, to whichever polls next.
// RecordAttempt refuses (ErrNotFound) an attempt on an endpoint another
// process claims.

// claimLease is how long an endpoint stays claimed by the process that
// last polled it.
const claimLease = 30 * time.Second

var alertsLock = lockKey("alerts")

// newClaimID returns a random id for a DB's outbox claims.
func newClaimID() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// parseAlertID parses an alert id (a positive decimal seq); anything else
// names no alert.
func parseAlertID(id string) (int64, error) {
	seq, err := strconv.ParseInt(id, 10, 64)
	if err != nil || seq <= 0 || strconv.FormatInt(seq, 10) != id {
		return 0, fmt.Errorf("alert %.40q: %w", id, heistgraph.ErrNotFound)
	}
	return seq, nil
}

// inAlertsTx runs fn in a transaction holding alertsLock.
func (db *DB) inAlertsTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", alertsLock); err != nil {
			return err
		}
		return fn(tx)
	})
}

// RaiseAlerts implements store.Alerts.
func (db *DB) RaiseAlerts(ctx context.Context, alerts []heistgraph.Alert, raised int64) ([]store.StoredAlert, error) {
	keys := make([][]byte, len(alerts))
	for i := range alerts {
		if err := alerts[i].Validate(); err != nil {
			return nil, fmt.Errorf("raise alerts: alert %d: %w", i, err)
		}
		k, err := hex.DecodeString(alerts[i].IdempotencyKey)
		if err != nil || len(k) != 32 {
			return nil, fmt.Errorf("raise alerts: alert %d: key: %w", i, heistgraph.ErrInvalid)
		}
		keys[i] = k
	}
	var out []store.StoredAlert
	err := db.inAlertsTx(ctx, func(tx pgx.Tx) error {
		out = nil
		var seq int64
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(seq), 0) FROM alerts").Scan(&seq); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT idem_key FROM alerts WHERE idem_key = ANY($1)", keys)
		if err != nil {
			return err
		}
		stored, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, k := range stored {
			seen[string(k)] = true
		}
		hooks, err := webhooks(ctx, tx, "WHERE NOT disabled")
		if err != nil {
			return err
		}
		var alertRows, deliveryRows [][]any
		for i := range alerts {
			if seen[string(keys[i])] {
				continue
			}
			seen[string(keys[i])] = true
			seq++
			sa := store.StoredAlert{Alert: alerts[i], Raised: raised}
			sa.ID = strconv.FormatInt(seq, 10)
			sa.Path.TxIDs = append([]heistgraph.Hash{}, sa.Path.TxIDs...)
			path := make([][]byte, len(sa.Path.TxIDs))
			for j := range sa.Path.TxIDs {
				path[j] = sa.Path.TxIDs[j][:]
			}
			a := &sa.Alert
			alertRows = append(alertRows, []any{seq, keys[i], string(a.Kind), string(a.Chain), a.Watch, a.TxID[:], int64(a.Vout), a.Address,
				a.Entity, a.Category, a.AmountSat, a.BlockHeight, a.BlockHash[:], a.Time, a.Share, int64(a.Path.Hops), path,
				a.Incident, a.Retracts, string(a.RetractedKind), raised})
			for _, w := range hooks {
				if w.Matches(a) {
					deliveryRows = append(deliveryRows, []any{w.ID, seq, string(store.DeliveryPending)})
				}
			}
			out = append(out, sa)
		}
		if err := copyRows(ctx, tx, "alerts", []string{"seq", "idem_key", "kind", "chain", "watch", "txid", "vout", "address",
			"entity", "category", "amount_sat", "block_height", "block_hash", "time", "share", "hops", "path_txids",
			"incident", "retracts", "retracted_kind", "raised"}, alertRows); err != nil {
			return err
		}
		return copyRows(ctx, tx, "deliveries", []string{"endpoint", "alert", "state"}, deliveryRows)
	})
	if err != nil {
		return nil, fmt.Errorf("raise alerts: %w", err)
	}
	return out, nil
}

const alertCols = `seq, idem_key, kind, chain, watch, txid, vout, address, entity, category, amount_sat, block_height,
	block_hash, time, share, hops, path_txids, incident, retracts, retracted_kind, raised, acked, acked_by`

func scanAlert(row pgx.Row) (store.StoredAlert, error) {
	var sa store.StoredAlert
	a := &sa.Alert
	var seq, vout, hops int64
	var key, txid, bhash []byte
	var kind, chain, rkind string
	var path [][]byte
	err := row.Scan(&seq, &key, &kind, &chain, &a.Watch, &txid, &vout, &a.Address, &a.Entity, &a.Category, &a.AmountSat, &a.BlockHeight,
		&bhash, &a.Time, &a.Share, &hops, &path, &a.Incident, &a.Retracts, &rkind, &sa.Raised, &sa.Acked, &sa.AckedBy)
	if err != nil {
		return store.StoredAlert{}, err
	}
	a.ID, a.IdempotencyKey = strconv.FormatInt(seq, 10), hex.EncodeToString(key)
	a.Kind, a.Chain, a.RetractedKind = heistgraph.AlertKind(kind), heistgraph.Chain(chain), heistgraph.AlertKind(rkind)
	a.TxID, a.Vout, a.BlockHash, a.Path.Hops = toHash(txid), uint32(vout), toHash(bhash), int(hops)
	a.Path.TxIDs = make([]heistgraph.Hash, len(path))
	for i, p := range path {
		a.Path.TxIDs[i] = toHash(p)
	}
	return sa, nil
}

// Alert implements store.Alerts.
func (db *DB) Alert(ctx context.Context, id string) (store.StoredAlert, error) {
	seq, err := parseAlertID(id)
	if err != nil {
		return store.StoredAlert{}, err
	}
	a, err := scanAlert(db.pool.QueryRow(ctx, "SELECT "+alertCols+" FROM alerts WHERE seq = $1", seq))
	if err != nil {
		return store.StoredAlert{}, notFound(err, "alert %s", id)
	}
	return a, nil
}

// AlertList implements store.Alerts.
func (db *DB) AlertList(ctx context.Context, q store.AlertQuery) iter.Seq2[store.StoredAlert, error] {
	limit := any(nil)
	if q.Limit > 0 {
		limit = q.Limit
	}
	return querySeq(ctx, db, "alerts", "SELECT "+alertCols+` FROM alerts
		WHERE ($1 = '' OR entity = $1) AND ($2 = '' OR watch = $2) AND ($3 = '' OR kind = $3) AND raised >= $4
		ORDER BY seq LIMIT $5`, []any{q.Entity, q.Watch, string(q.Kind), q.Since, limit},
		func(rows pgx.Rows) (store.StoredAlert, error) { return scanAlert(rows) })
}

// AckAlert implements store.Alerts.
func (db *DB) AckAlert(ctx context.Context, id string, at int64, who string) (store.StoredAlert, error) {
	seq, err := parseAlertID(id)
	if err != nil {
		return store.StoredAlert{}, err
	}
	a, err := scanAlert(db.pool.QueryRow(ctx, `UPDATE alerts SET
			acked_by = CASE WHEN acked = 0 THEN $3 ELSE acked_by END,
			acked = CASE WHEN acked = 0 THEN $2 ELSE acked END
		WHERE seq = $1 RETURNING `+alertCols, seq, at, who))
	if err != nil {
		return store.StoredAlert{}, notFound(err, "ack alert %s", id)
	}
	return a, nil
}

// PutWebhook implements store.Webhooks.
func (db *DB) PutWebhook(ctx context.Context, w store.Webhook) error {
	if w.ID == "" || w.URL == "" || w.Secret == "" {
		return fmt.Errorf("put webhook %q: id, url and secret are required: %w", w.ID, heistgraph.ErrInvalid)
	}
	kinds := make([]string, len(w.Kinds))
	for i, k := range w.Kinds {
		kinds[i] = string(k)
	}
	err := db.inAlertsTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO webhooks (id, url, secret, entities, kinds, created, owner, disabled, disabled_reason,
			delivered, failed, last_status, last_error, last_attempt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			w.ID, w.URL, w.Secret, nonNil(w.Entities), kinds, w.Created, w.Owner, w.Disabled, w.DisabledReason,
			w.Delivered, w.Failed, int64(w.LastStatus), w.LastError, w.LastAttempt)
		return err
	})
	if isUniqueViolation(err) {
		return fmt.Errorf("put webhook %s: id already stored: %w", w.ID, heistgraph.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("put webhook %s: %w", w.ID, err)
	}
	return nil
}

// webhookCols are an endpoint's columns and its computed delivery state:
// the number of pending deliveries and the attempts and next attempt of
// its head.
const webhookCols = `w.id, w.url, w.secret, w.entities, w.kinds, w.created, w.owner, w.disabled, w.disabled_reason,
	w.delivered, w.failed, w.last_status, w.last_error, w.last_attempt,
	(SELECT count(*) FROM deliveries d WHERE d.endpoint = w.id AND NOT d.done),
	coalesce(h.attempts, 0), coalesce(h.next_attempt, 0)`

const webhookFrom = ` FROM webhooks w LEFT JOIN LATERAL (SELECT attempts, next_attempt FROM deliveries d
	WHERE d.endpoint = w.id AND NOT d.done ORDER BY d.alert LIMIT 1) h ON true `

func scanWebhook(row pgx.Row) (store.Webhook, error) {
	var w store.Webhook
	var kinds []string
	var status, head int64
	err := row.Scan(&w.ID, &w.URL, &w.Secret, &w.Entities, &kinds, &w.Created, &w.Owner, &w.Disabled, &w.DisabledReason,
		&w.Delivered, &w.Failed, &status, &w.LastError, &w.LastAttempt, &w.Pending, &head, &w.NextAttempt)
	w.LastStatus, w.HeadAttempts = int(status), int(head)
	if len(w.Entities) == 0 {
		w.Entities = nil
	}
	for _, k := range kinds {
		w.Kinds = append(w.Kinds, heistgraph.AlertKind(k))
	}
	return w, err
}

// webhooks reads the endpoints that where (a WHERE clause on w) selects,
// in id order.
func webhooks(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, where string, args ...any) ([]store.Webhook, error) {
	rows, err := q.Query(ctx, "SELECT "+webhookCols+webhookFrom+where+" ORDER BY w.id", args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Webhook, error) { return scanWebhook(r) })
}

// Webhook implements store.Webhooks.
func (db *DB) Webhook(ctx context.Context, id string) (store.Webhook, error) {
	w, err := scanWebhook(db.pool.QueryRow(ctx, "SELECT "+webhookCols+webhookFrom+"WHERE w.id = $1", id))
	if err != nil {
		return store.Webhook{}, notFound(err, "webhook %.40q", id)
	}
	return w, nil
}

// WebhookList implements store.Webhooks.
func (db *DB) WebhookList(ctx context.Context) iter.Seq2[store.Webhook, error] {
	return querySeq(ctx, db, "webhooks", "SELECT "+webhookCols+webhookFrom+"ORDER BY w.id", nil,
		func(rows pgx.Rows) (store.Webhook, error) { return scanWebhook(rows) })
}

// DeleteWebhook implements store.Webhooks; its deliveries go with it (ON
// DELETE CASCADE).
func (db *DB) DeleteWebhook(ctx context.Context, id string) error {
	tag, err := db.pool.Exec(ctx, "DELETE FROM webhooks WHERE id = $1", id)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	if err != nil {
		return notFound(err, "delete webhook %.40q", id)
	}
	return nil
}

// OutboxHeads implements store.Webhooks: it claims the endpoints whose
// heads it returns (see the comment at the top of the file).
func (db *DB) OutboxHeads(ctx context.Context) ([]store.Delivery, error) {
	var out []store.Delivery
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		out = nil
		rows, err := tx.Query(ctx, `UPDATE webhooks SET claimed_by = $1, claimed_until = now() + $2::interval
			WHERE id IN (SELECT w.id FROM webhooks w
				WHERE NOT w.disabled AND (w.claimed_by IS NULL OR w.claimed_by = $1 OR w.claimed_until < now())
				AND EXISTS (SELECT 1 FROM deliveries d WHERE d.endpoint = w.id AND NOT d.done)
				ORDER BY w.id FOR UPDATE SKIP LOCKED)
			RETURNING id`, db.claimID, claimLease.String())
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(ids) == 0 {
			return err
		}
		hooks, err := webhooks(ctx, tx, "WHERE w.id = ANY($1)", ids)
		if err != nil {
			return err
		}
		for _, w := range hooks {
			dl := store.Delivery{Endpoint: w.ID}
			var seq int64
			err := tx.QueryRow(ctx, `SELECT alert, state, attempts, next_attempt, last_attempt, last_status, last_error
				FROM deliveries WHERE endpoint = $1 AND NOT done ORDER BY alert LIMIT 1`, w.ID).
				Scan(&seq, &dl.State, &dl.Attempts, &dl.NextAttempt, &dl.LastAttempt, &dl.LastStatus, &dl.LastError)
			if err != nil {
				return fmt.Errorf("head of %s: %w", w.ID, err)
			}
			dl.AlertID = strconv.FormatInt(seq, 10)
			a, err := scanAlert(tx.QueryRow(ctx, "SELECT "+alertCols+" FROM alerts WHERE seq = $1", seq))
			if err != nil {
				return fmt.Errorf("alert %d of %s: %w", seq, w.ID, err)
			}
			dl.Alert, dl.Webhook = a.Alert, w
			out = append(out, dl)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return out, nil
}

// RecordAttempt implements store.Webhooks.
func (db *DB) RecordAttempt(ctx context.Context, dl store.Delivery, disable bool) error {
	seq, err := parseAlertID(dl.AlertID)
	if err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}
	switch dl.State {
	case store.DeliveryPending, store.DeliveryDelivered, store.DeliveryFailed:
	default:
		return fmt.Errorf("record attempt: state %q: %w", dl.State, heistgraph.ErrInvalid)
	}
	err = db.inAlertsTx(ctx, func(tx pgx.Tx) error {
		var claimedBy *string
		err := tx.QueryRow(ctx, `SELECT w.claimed_by FROM webhooks w JOIN deliveries d ON d.endpoint = w.id
			WHERE w.id = $1 AND d.alert = $2 AND NOT d.done FOR UPDATE OF w`, dl.Endpoint, seq).Scan(&claimedBy)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("delivery of alert %s to %s is not pending: %w", dl.AlertID, dl.Endpoint, heistgraph.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if claimedBy != nil && *claimedBy != db.claimID {
			return fmt.Errorf("delivery of alert %s to %s is claimed by another process: %w", dl.AlertID, dl.Endpoint, heistgraph.ErrNotFound)
		}
		done := dl.State != store.DeliveryPending
		if _, err := tx.Exec(ctx, `UPDATE deliveries SET done = $3, state = $4, attempts = $5, next_attempt = $6,
			last_attempt = $7, last_status = $8, last_error = $9 WHERE endpoint = $1 AND alert = $2`,
			dl.Endpoint, seq, done, string(dl.State), int64(dl.Attempts), dl.NextAttempt, dl.LastAttempt, int64(dl.LastStatus), dl.LastError); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE webhooks SET
				delivered = delivered + CASE WHEN $2 = 'delivered' THEN 1 ELSE 0 END,
				failed = failed + CASE WHEN $2 = 'failed' THEN 1 ELSE 0 END,
				last_status = $3, last_error = $4, last_attempt = $5,
				disabled = disabled OR $6, disabled_reason = CASE WHEN $6 THEN $4 ELSE disabled_reason END
			WHERE id = $1`, dl.Endpoint, string(dl.State), int64(dl.LastStatus), dl.LastError, dl.LastAttempt, disable)
		return err
	})
	if err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}
	return nil
}

// Deliveries implements store.Webhooks.
func (db *DB) Deliveries(ctx context.Context, endpoint string) iter.Seq2[store.Delivery, error] {
	return func(yield func(store.Delivery, error) bool) {
		var exists bool
		if err := db.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM webhooks WHERE id = $1)", endpoint).Scan(&exists); err != nil || !exists {
			if err == nil {
				err = pgx.ErrNoRows
			}
			yield(store.Delivery{}, notFound(err, "webhook %.40q", endpoint))
			return
		}
		seq := querySeq(ctx, db, "deliveries of "+endpoint, `SELECT alert, state, attempts, next_attempt, last_attempt, last_status, last_error
			FROM deliveries WHERE endpoint = $1 ORDER BY done DESC, alert`, []any{endpoint},
			func(rows pgx.Rows) (store.Delivery, error) {
				dl := store.Delivery{Endpoint: endpoint}
				var alert int64
				err := rows.Scan(&alert, &dl.State, &dl.Attempts, &dl.NextAttempt, &dl.LastAttempt, &dl.LastStatus, &dl.LastError)
				dl.AlertID = strconv.FormatInt(alert, 10)
				return dl, err
			})
		for dl, err := range seq {
			if !yield(dl, err) {
				return
			}
		}
	}
}
