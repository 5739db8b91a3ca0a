package store

import (
	"context"
	"iter"
	"slices"

	"github.com/heistgraph/heistgraph"
)

// Webhooks stores the webhook endpoints alerts are delivered to and their
// durable outbox: per endpoint, the pending deliveries in the order their
// alerts were raised (Alerts.RaiseAlerts queues them), and the log of
// finished ones.
//
// Every write is durable before it returns. All methods are safe for
// concurrent use; returned values are the caller's. An endpoint with an
// empty id or URL or no secret wraps heistgraph.ErrInvalid; an unknown
// endpoint wraps heistgraph.ErrNotFound.
type Webhooks interface {
	// PutWebhook stores a new endpoint. An id already stored wraps
	// heistgraph.ErrConflict. Only alerts raised after it is stored are
	// delivered to it.
	PutWebhook(ctx context.Context, w Webhook) error
	// Webhook returns one endpoint with its delivery state.
	Webhook(ctx context.Context, id string) (Webhook, error)
	// WebhookList yields every endpoint with its delivery state, in id
	// order. It streams.
	WebhookList(ctx context.Context) iter.Seq2[Webhook, error]
	// DeleteWebhook removes an endpoint with its pending deliveries and its
	// log.
	DeleteWebhook(ctx context.Context, id string) error
	// OutboxHeads returns, for every enabled endpoint with pending
	// deliveries, its first pending delivery (the one every later delivery
	// of that endpoint waits for), with its alert, in endpoint id order.
	OutboxHeads(ctx context.Context) ([]Delivery, error)
	// RecordAttempt records the outcome of an attempt at the pending
	// delivery (d.Endpoint, d.AlertID), which must be an endpoint's head: it
	// stores d's Attempts, LastAttempt, LastStatus, LastError and
	// NextAttempt; with d.State Delivered or Failed it moves the delivery
	// to the endpoint's log and counts it; with disable set it also
	// disables the endpoint with d.LastError as the reason. A delivery not
	// pending wraps heistgraph.ErrNotFound (its endpoint was removed).
	RecordAttempt(ctx context.Context, d Delivery, disable bool) error
	// Deliveries yields an endpoint's deliveries: the finished ones
	// (delivered or failed) by alert id, then the pending ones by alert
	// id. It streams.
	Deliveries(ctx context.Context, endpoint string) iter.Seq2[Delivery, error]
}

// Webhook is one endpoint: where alerts are POSTed, the Standard Webhooks
// secret they are signed with ("whsec_..."), which alerts it wants (an
// empty Entities or Kinds means all), and its delivery state.
type Webhook struct {
	ID       string
	URL      string
	Secret   string
	Entities []string
	Kinds    []heistgraph.AlertKind
	Created  int64  // Unix seconds
	Owner    string // entity scope of the key that added it ("" for none)

	// Delivery state, kept by the store.
	Disabled       bool
	DisabledReason string
	Delivered      int64 // deliveries answered 2xx
	Failed         int64 // deliveries given up after the last retry
	Pending        int64 // deliveries waiting (computed when read)
	// HeadAttempts and NextAttempt are the attempts made at the first
	// pending delivery and when its next is due (Unix milliseconds; 0 when
	// nothing is pending); computed when read.
	HeadAttempts int
	NextAttempt  int64
	LastStatus   int // HTTP status of the last attempt (0: no answer)
	LastError    string
	LastAttempt  int64 // Unix milliseconds; 0 before any
}

// Matches reports whether w wants alert a (disabled or not). An endpoint
// that wants a kind also gets the retractions of alerts of that kind.
func (w *Webhook) Matches(a *heistgraph.Alert) bool {
	return (len(w.Entities) == 0 || slices.Contains(w.Entities, a.Entity)) &&
		(len(w.Kinds) == 0 || slices.Contains(w.Kinds, a.Kind) ||
			a.Kind == heistgraph.AlertRetracted && a.RetractedKind != "" && slices.Contains(w.Kinds, a.RetractedKind))
}

// DeliveryState is where a delivery stands.
type DeliveryState string

// The delivery states.
const (
	DeliveryPending   DeliveryState = "pending"
	DeliveryDelivered DeliveryState = "delivered"
	DeliveryFailed    DeliveryState = "failed" // given up after the last retry
)

// Delivery is one alert to one endpoint. Times are Unix milliseconds.
type Delivery struct {
	Endpoint    string
	AlertID     string
	State       DeliveryState
	Attempts    int
	NextAttempt int64 // when the next attempt is due (pending only)
	LastAttempt int64
	LastStatus  int // HTTP status of the last attempt; 0: no answer
	LastError   string

	// Alert and Webhook are the delivery's alert and endpoint, set by
	// OutboxHeads only (zero from Deliveries).
	Alert   heistgraph.Alert
	Webhook Webhook
}
