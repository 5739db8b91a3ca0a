package heistgraph

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// AlertKind says what an alert reports.
type AlertKind string

// The alert kinds of design.md.
const (
	// AlertFundsReachedEntity: tainted value reached a labelled service
	// (exchange, bridge, mixer, ...).
	AlertFundsReachedEntity AlertKind = "funds_reached_entity"
	// AlertFundsMoved: a watched coin moved.
	AlertFundsMoved AlertKind = "funds_moved"
	// AlertRetracted: a reorg removed the transaction an earlier alert was
	// raised for; Retracts names that alert's idempotency key.
	AlertRetracted AlertKind = "alert_retracted"
)

// AlertKinds are the known kinds, in design.md's order.
func AlertKinds() []AlertKind {
	return []AlertKind{AlertFundsReachedEntity, AlertFundsMoved, AlertRetracted}
}

// ParseAlertKind parses a kind name; other names wrap ErrInvalid.
func ParseAlertKind(s string) (AlertKind, error) {
	for _, k := range AlertKinds() {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("alert kind %q (want funds_reached_entity, funds_moved or alert_retracted): %w", short(s), ErrInvalid)
}

// Alert is one event of the live monitor: stolen value that reached an
// entity, a watched coin that moved, or the retraction of an earlier alert
// after a reorg. Its JSON is the webhook body and the item of GET
// /v1/alerts (design.md). Amounts are satoshis; times Unix seconds.
//
// IdempotencyKey is Key() of the alert: the same event keeps it on every
// retry and after every restart, and an alert raised again on another
// block (after a reorg) gets a new one. ID is the store's short id of the
// alert (its raise order), given when it is first stored.
type Alert struct {
	ID             string    `json:"id"`
	IdempotencyKey string    `json:"idempotency_key"`
	Kind           AlertKind `json:"kind"`
	Chain          Chain     `json:"chain"`
	Watch          string    `json:"watch"`
	TxID           Hash      `json:"txid"`
	Vout           uint32    `json:"vout"`
	Address        string    `json:"address"`
	Entity         string    `json:"entity"`
	Category       string    `json:"category"`
	AmountSat      int64     `json:"amount_sat"`
	BlockHeight    int64     `json:"block_height"`
	BlockHash      Hash      `json:"block_hash"`
	Time           int64     `json:"time"`
	// Share is the tainted fraction of the output's value (0..1]; it is a
	// ratio, not money: AmountSat is the tainted amount itself.
	Share float64 `json:"share"`
	// Path is how the value got there from the watch's seeds.
	Path AlertPath `json:"path"`
	// Incident is the register's incident the watch follows, if any.
	Incident string `json:"incident,omitempty"`
	// Retracts is, for an alert_retracted, the idempotency key of the
	// alert it retracts.
	Retracts string `json:"retracts,omitempty"`
	// RetractedKind is, for an alert_retracted, the kind of the alert it
	// retracts, so that an endpoint subscribed to that kind receives the
	// retraction too.
	RetractedKind AlertKind `json:"retracted_kind,omitempty"`
}

// AlertPath is the way tainted value took: the hops from the seeds and the
// transactions of the path, seed side first.
type AlertPath struct {
	Hops  int    `json:"hops"`
	TxIDs []Hash `json:"txids"`
}

// Key returns the alert's idempotency key: the lower-case hex SHA-256 of
// (kind, watch, chain, txid, vout, entity, block hash). Each string field
// is framed by its length (uvarint), hashes are their 32 bytes and vout is
// 4 bytes big-endian, after a version tag, so no two different tuples
// frame to the same bytes. It holds no "." (Standard Webhooks' webhook-id
// must not).
func (a *Alert) Key() string {
	h := sha256.New()
	var buf []byte
	str := func(s string) {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	str("heistgraph alert v1")
	str(string(a.Kind))
	str(a.Watch)
	str(string(a.Chain))
	buf = append(buf, a.TxID[:]...)
	buf = binary.BigEndian.AppendUint32(buf, a.Vout)
	str(a.Entity)
	buf = append(buf, a.BlockHash[:]...)
	h.Write(buf)
	return hex.EncodeToString(h.Sum(nil))
}

// Validate checks the fields an alert must have: a known kind, a chain,
// and an idempotency key that is Key(). It wraps ErrInvalid.
func (a *Alert) Validate() error {
	if _, err := ParseAlertKind(string(a.Kind)); err != nil {
		return fmt.Errorf("alert: %w", err)
	}
	if a.Chain == "" {
		return fmt.Errorf("alert %s: no chain: %w", a.Kind, ErrInvalid)
	}
	if a.IdempotencyKey != a.Key() {
		return fmt.Errorf("alert %s: idempotency key %q is not the alert's key: %w", a.Kind, short(a.IdempotencyKey), ErrInvalid)
	}
	if a.AmountSat < 0 || a.BlockHeight < 0 {
		return fmt.Errorf("alert %s: negative amount or height: %w", a.Kind, ErrInvalid)
	}
	return nil
}

// WebhookSecretPrefix starts every Standard Webhooks symmetric secret.
const WebhookSecretPrefix = "whsec_"

// ParseWebhookSecret decodes a Standard Webhooks symmetric secret: "whsec_"
// followed by the standard (padded) base64 of 24 to 64 key bytes, the
// specification's bounds. It returns the key bytes that HMAC-SHA256 signs
// with; anything else wraps ErrInvalid (without echoing the secret).
func ParseWebhookSecret(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, WebhookSecretPrefix)
	if !ok {
		return nil, fmt.Errorf("webhook secret: want whsec_ followed by base64 of 24 to 64 bytes: %w", ErrInvalid)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("webhook secret: not standard base64 after whsec_: %w", ErrInvalid)
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, fmt.Errorf("webhook secret: %d key bytes, want 24 to 64: %w", len(key), ErrInvalid)
	}
	return key, nil
}
