package pebble

import (
	"context"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// TestAlertsAcrossRestarts: an alert raised again after the store is
// closed and reopened is not stored again (one alert per idempotency key
// across restarts), its delivery is not queued twice, and ids continue
// from the last one stored.
func TestAlertsAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	mk := func(n byte) heistgraph.Alert {
		a := heistgraph.Alert{Kind: heistgraph.AlertFundsMoved, Chain: heistgraph.ChainBTCRegtest, Watch: "w", Entity: "E"}
		a.TxID[0] = n
		a.IdempotencyKey = a.Key()
		return a
	}
	st, err := Open(dir, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutWebhook(ctx, store.Webhook{ID: "h", URL: "http://127.0.0.1:9/", Secret: "whsec_x"}); err != nil {
		t.Fatal(err)
	}
	if got, err := st.RaiseAlerts(ctx, []heistgraph.Alert{mk(1), mk(2)}, 1); err != nil || len(got) != 2 {
		t.Fatalf("raise: %v, %v", got, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = Open(dir, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.RaiseAlerts(ctx, []heistgraph.Alert{mk(2), mk(3), mk(1)}, 2)
	if err != nil || len(got) != 1 || got[0].ID != "3" || got[0].IdempotencyKey != mk(3).IdempotencyKey {
		t.Fatalf("raise after reopening: %+v, %v; want only the new alert, id 3", got, err)
	}
	w, err := st.Webhook(ctx, "h")
	if err != nil || w.Pending != 3 {
		t.Errorf("pending deliveries %d (%v), want 3", w.Pending, err)
	}
}

// A retraction keeps the kind of the alert it retracts across a reopen and
// an acknowledgement (the record's optional trailer), and a record without
// the trailer still reads.
func TestAlertRetractedKindStored(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	orig := heistgraph.Alert{Kind: heistgraph.AlertFundsReachedEntity, Chain: heistgraph.ChainBTCRegtest, Watch: "w", Entity: "E"}
	orig.TxID[0] = 7
	orig.IdempotencyKey = orig.Key()
	r := orig
	r.Kind, r.Retracts, r.RetractedKind = heistgraph.AlertRetracted, orig.IdempotencyKey, orig.Kind
	r.IdempotencyKey = r.Key()
	st, err := Open(dir, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.RaiseAlerts(ctx, []heistgraph.Alert{orig, r}, 1)
	if err != nil || len(got) != 2 {
		t.Fatalf("raise: %v, %v", got, err)
	}
	if _, err := st.AckAlert(ctx, got[1].ID, 2, "analyst"); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = Open(dir, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := st.Alert(ctx, got[0].ID)
	if err != nil || a.RetractedKind != "" || a.Kind != heistgraph.AlertFundsReachedEntity {
		t.Errorf("original alert read back as %+v, %v", a, err)
	}
	b, err := st.Alert(ctx, got[1].ID)
	if err != nil || b.RetractedKind != heistgraph.AlertFundsReachedEntity || b.Retracts != orig.IdempotencyKey || b.AckedBy != "analyst" {
		t.Errorf("retraction read back as %+v, %v", b, err)
	}
}
