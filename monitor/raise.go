package monitor

import (
	"context"
	"fmt"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Raise stores alerts, once per idempotency key, and queues their webhook
// deliveries in the same durable batch. It fills each alert's
// IdempotencyKey (Alert.Key) and returns the alerts it stored (those whose
// keys were new), with their ids. A malformed alert wraps
// heistgraph.ErrInvalid, and then none of alerts is stored.
func Raise(ctx context.Context, st store.Alerts, alerts ...heistgraph.Alert) ([]store.StoredAlert, error) {
	in := make([]heistgraph.Alert, len(alerts))
	for i, a := range alerts {
		a.IdempotencyKey = a.Key()
		if a.Path.TxIDs == nil {
			a.Path.TxIDs = []heistgraph.Hash{}
		}
		in[i] = a
	}
	out, err := st.RaiseAlerts(ctx, in, time.Now().Unix())
	if err != nil {
		return nil, fmt.Errorf("raise: %w", err)
	}
	return out, nil
}
