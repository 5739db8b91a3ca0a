package store

import (
	"context"
	"iter"

	"github.com/heistgraph/heistgraph"
)

// Alerts stores the alerts of the live monitor, one per idempotency key,
// and queues their webhook deliveries (see Webhooks).
//
// RaiseAlerts writes each new alert and one pending delivery per matching,
// enabled webhook endpoint in one atomic batch that is durable before it
// returns: after a crash either the alert and all its deliveries are
// stored, or none of them, so a delivery is never lost and never made
// twice. Raising an alert whose key is stored does nothing, across
// restarts.
//
// All methods are safe for concurrent use; returned values are the
// caller's. An alert that fails heistgraph.Alert.Validate wraps
// heistgraph.ErrInvalid, and then nothing of the call is stored; an unknown
// id wraps heistgraph.ErrNotFound. Scans end with an error wrapping
// ctx.Err() when ctx is cancelled.
type Alerts interface {
	// RaiseAlerts stores the alerts whose idempotency keys are not stored
	// yet (a key given twice in alerts counts once), giving each the next
	// id in order and raised as its raise time (Unix seconds), and queues
	// their deliveries. It returns the alerts it stored, with their ids, in
	// the order given.
	RaiseAlerts(ctx context.Context, alerts []heistgraph.Alert, raised int64) ([]StoredAlert, error)
	// Alert returns one alert by id.
	Alert(ctx context.Context, id string) (StoredAlert, error)
	// AlertList yields the alerts q selects in raise order. It streams.
	AlertList(ctx context.Context, q AlertQuery) iter.Seq2[StoredAlert, error]
	// AckAlert marks alert id acknowledged at time at (Unix seconds) by
	// who, durably, and returns it. Acknowledging it again keeps the first
	// acknowledgement.
	AckAlert(ctx context.Context, id string, at int64, who string) (StoredAlert, error)
}

// StoredAlert is an alert with the store's bookkeeping: when it was raised
// and, once acknowledged, when and by whom (Acked is 0 until then).
type StoredAlert struct {
	heistgraph.Alert
	Raised  int64
	Acked   int64
	AckedBy string
}

// AlertQuery selects alerts; zero fields select everything.
type AlertQuery struct {
	Entity string               // only alerts about this entity
	Watch  string               // only alerts of this watch
	Kind   heistgraph.AlertKind // only alerts of this kind
	Since  int64                // only alerts raised at or after this time (Unix seconds)
	Limit  int                  // at most this many; 0 means all
}

// Match reports whether q selects a.
func (q AlertQuery) Match(a StoredAlert) bool {
	return (q.Entity == "" || a.Entity == q.Entity) && (q.Watch == "" || a.Watch == q.Watch) &&
		(q.Kind == "" || a.Kind == q.Kind) && a.Raised >= q.Since
}
