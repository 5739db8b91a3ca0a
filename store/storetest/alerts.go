package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// mkAlert builds a valid alert of kind about entity on output txid:vout,
// raised for a block whose hash starts with block.
func mkAlert(kind heistgraph.AlertKind, entity string, txid, vout, block byte) heistgraph.Alert {
	a := heistgraph.Alert{Kind: kind, Chain: chain, Watch: "w1", Vout: uint32(vout), Address: "bcrt1qexample",
		Entity: entity, Category: "exchange", AmountSat: 1000 * int64(txid), BlockHeight: 100 + int64(block), Time: 1700000000,
		Share: 0.5, Path: heistgraph.AlertPath{Hops: 2, TxIDs: []heistgraph.Hash{{1}, {txid}}}, Incident: "inc-1"}
	a.TxID[0] = txid
	a.BlockHash[0] = block
	a.IdempotencyKey = a.Key()
	return a
}

func alertList(t *testing.T, st store.Alerts, q store.AlertQuery) []store.StoredAlert {
	t.Helper()
	var out []store.StoredAlert
	for a, err := range st.AlertList(context.Background(), q) {
		if err != nil {
			t.Fatalf("alert list %+v: %v", q, err)
		}
		out = append(out, a)
	}
	return out
}

func alertIDs(as []store.StoredAlert) []string {
	ids := []string{}
	for _, a := range as {
		ids = append(ids, a.ID)
	}
	return ids
}

// testAlerts covers RaiseAlerts, Alert, AlertList and AckAlert: one alert
// per idempotency key (within a call and across calls), ids in raise
// order, every field kept, the filters, invalid alerts refused with nothing
// of their call stored, and acknowledgements that keep the first.
func testAlerts(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := open(t)
	a := mkAlert(heistgraph.AlertFundsReachedEntity, "Exchange X", 1, 0, 1)
	b := mkAlert(heistgraph.AlertFundsMoved, "", 2, 1, 1)
	b.Watch = "w2"
	b.IdempotencyKey = b.Key()
	got, err := st.RaiseAlerts(ctx, []heistgraph.Alert{a, b, a}, 1700000100)
	if err != nil {
		t.Fatalf("raise: %v", err)
	}
	equal(t, "raised ids", alertIDs(got), []string{"1", "2"})
	if again, err := st.RaiseAlerts(ctx, []heistgraph.Alert{b, a}, 1700000200); err != nil || len(again) != 0 {
		t.Errorf("raising stored keys again stored %v, %v; want nothing", alertIDs(again), err)
	}
	// The same output on another block is another event: a new key.
	a2 := mkAlert(heistgraph.AlertFundsReachedEntity, "Exchange X", 1, 0, 2)
	if a2.IdempotencyKey == a.IdempotencyKey {
		t.Fatal("another block hash gave the same idempotency key")
	}
	if got, err := st.RaiseAlerts(ctx, []heistgraph.Alert{a2}, 1700000300); err != nil || len(got) != 1 || got[0].ID != "3" {
		t.Fatalf("raise on another block: %+v, %v", got, err)
	}
	one, err := st.Alert(ctx, "1")
	if err != nil {
		t.Fatal(err)
	}
	want := store.StoredAlert{Alert: a, Raised: 1700000100}
	want.ID = "1"
	equal(t, "alert 1", one, want)

	bad := a
	bad.IdempotencyKey = "00"
	other := mkAlert(heistgraph.AlertFundsMoved, "", 9, 0, 9)
	noKind := mkAlert("", "", 8, 0, 8)
	for _, al := range []heistgraph.Alert{bad, noKind} {
		if _, err := st.RaiseAlerts(ctx, []heistgraph.Alert{other, al}, 1); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("raise %+v: err %v, want ErrInvalid", al, err)
		}
	}
	equal(t, "all alerts", alertIDs(alertList(t, st, store.AlertQuery{})), []string{"1", "2", "3"})
	equal(t, "entity filter", alertIDs(alertList(t, st, store.AlertQuery{Entity: "Exchange X"})), []string{"1", "3"})
	equal(t, "watch filter", alertIDs(alertList(t, st, store.AlertQuery{Watch: "w2"})), []string{"2"})
	equal(t, "kind filter", alertIDs(alertList(t, st, store.AlertQuery{Kind: heistgraph.AlertFundsMoved})), []string{"2"})
	equal(t, "since filter", alertIDs(alertList(t, st, store.AlertQuery{Since: 1700000300})), []string{"3"})
	equal(t, "limit", alertIDs(alertList(t, st, store.AlertQuery{Limit: 2})), []string{"1", "2"})

	acked, err := st.AckAlert(ctx, "2", 1700000400, "k1")
	if err != nil || acked.Acked != 1700000400 || acked.AckedBy != "k1" {
		t.Fatalf("ack: %+v, %v", acked, err)
	}
	if again, err := st.AckAlert(ctx, "2", 1700000500, "k2"); err != nil || again.Acked != 1700000400 || again.AckedBy != "k1" {
		t.Errorf("second ack: %+v, %v; want the first kept", again, err)
	}
	for _, id := range []string{"4", "0", "x", "", "01"} {
		if _, err := st.AckAlert(ctx, id, 1, "k"); !errors.Is(err, heistgraph.ErrNotFound) {
			t.Errorf("ack %q: err %v, want ErrNotFound", id, err)
		}
		if _, err := st.Alert(ctx, id); !errors.Is(err, heistgraph.ErrNotFound) {
			t.Errorf("alert %q: err %v, want ErrNotFound", id, err)
		}
	}
}

// testWebhooks covers the endpoints and the outbox: deliveries queued in
// the raise batch for matching enabled endpoints only, in raise order
// (each endpoint's head first), attempts recorded, finished deliveries
// moved to the log and counted, disabling, deletion and the errors.
func testWebhooks(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := open(t)
	x := store.Webhook{ID: "aa", URL: "https://x.example/hook", Secret: "whsec_x", Entities: []string{"Exchange X"}, Created: 1700000000, Owner: "Exchange X"}
	all := store.Webhook{ID: "bb", URL: "http://127.0.0.1:9/all", Secret: "whsec_y", Kinds: []heistgraph.AlertKind{heistgraph.AlertFundsReachedEntity, heistgraph.AlertRetracted}, Created: 1700000001}
	for _, w := range []store.Webhook{x, all} {
		if err := st.PutWebhook(ctx, w); err != nil {
			t.Fatalf("put webhook %s: %v", w.ID, err)
		}
	}
	if err := st.PutWebhook(ctx, x); !errors.Is(err, heistgraph.ErrConflict) {
		t.Errorf("reused id: err %v, want ErrConflict", err)
	}
	for _, w := range []store.Webhook{{URL: "u", Secret: "s"}, {ID: "c", Secret: "s"}, {ID: "c", URL: "u"}} {
		if err := st.PutWebhook(ctx, w); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("put %+v: err %v, want ErrInvalid", w, err)
		}
	}
	got, err := st.Webhook(ctx, "aa")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "webhook aa", got, x)
	if heads, err := st.OutboxHeads(ctx); err != nil || len(heads) != 0 {
		t.Fatalf("empty outbox: %+v, %v", heads, err)
	}
	a1 := mkAlert(heistgraph.AlertFundsReachedEntity, "Exchange X", 1, 0, 1) // both
	a2 := mkAlert(heistgraph.AlertFundsMoved, "Exchange X", 2, 0, 1)         // x only
	a3 := mkAlert(heistgraph.AlertFundsReachedEntity, "Bridge B", 3, 0, 1)   // all only
	if _, err := st.RaiseAlerts(ctx, []heistgraph.Alert{a1, a2, a3}, 1700000100); err != nil {
		t.Fatal(err)
	}
	heads, err := st.OutboxHeads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(heads) != 2 || heads[0].Endpoint != "aa" || heads[0].AlertID != "1" || heads[1].Endpoint != "bb" || heads[1].AlertID != "1" {
		t.Fatalf("heads = %+v", heads)
	}
	if heads[0].Alert.IdempotencyKey != a1.IdempotencyKey || heads[0].Webhook.URL != x.URL || heads[0].State != store.DeliveryPending {
		t.Errorf("head carries alert %+v, webhook %+v", heads[0].Alert, heads[0].Webhook)
	}
	// A failed attempt keeps the delivery the head, with its state.
	h := heads[0]
	h.Attempts, h.LastAttempt, h.LastStatus, h.LastError, h.NextAttempt = 1, 1700000100000, 500, "500 Internal Server Error", 1700000105000
	if err := st.RecordAttempt(ctx, h, false); err != nil {
		t.Fatal(err)
	}
	heads, _ = st.OutboxHeads(ctx)
	if heads[0].AlertID != "1" || heads[0].Attempts != 1 || heads[0].NextAttempt != 1700000105000 || heads[0].LastStatus != 500 {
		t.Errorf("after a failed attempt the head is %+v", heads[0])
	}
	if w, _ := st.Webhook(ctx, "aa"); w.Pending != 2 || w.HeadAttempts != 1 || w.NextAttempt != 1700000105000 || w.LastStatus != 500 {
		t.Errorf("after a failed attempt aa is %+v", w)
	}
	// Delivered: the next alert becomes the head.
	h = heads[0]
	h.State, h.Attempts, h.LastStatus, h.LastError = store.DeliveryDelivered, 2, 200, ""
	if err := st.RecordAttempt(ctx, h, false); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordAttempt(ctx, h, false); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Errorf("recording a finished delivery: err %v, want ErrNotFound", err)
	}
	heads, _ = st.OutboxHeads(ctx)
	if len(heads) != 2 || heads[0].AlertID != "2" {
		t.Fatalf("after delivery the heads are %+v", heads)
	}
	w, _ := st.Webhook(ctx, "aa")
	if w.Delivered != 1 || w.Pending != 1 || w.LastStatus != 200 || w.HeadAttempts != 0 || w.NextAttempt != 0 {
		t.Errorf("aa state = %+v", w)
	}
	var states []string
	for dl, err := range st.Deliveries(ctx, "aa") {
		if err != nil {
			t.Fatal(err)
		}
		states = append(states, dl.AlertID+":"+string(dl.State))
	}
	equal(t, "deliveries of aa", states, []string{"1:delivered", "2:pending"})
	// 410 disables: the endpoint has no head any more, its queue stays.
	hb := heads[1]
	hb.Attempts, hb.LastStatus, hb.LastError = 1, 410, "410 Gone"
	if err := st.RecordAttempt(ctx, hb, true); err != nil {
		t.Fatal(err)
	}
	heads, _ = st.OutboxHeads(ctx)
	if len(heads) != 1 || heads[0].Endpoint != "aa" {
		t.Errorf("heads with bb disabled: %+v", heads)
	}
	wb, _ := st.Webhook(ctx, "bb")
	if !wb.Disabled || wb.DisabledReason != "410 Gone" || wb.Pending != 2 {
		t.Errorf("bb = %+v", wb)
	}
	// A disabled endpoint gets no new deliveries.
	a4 := mkAlert(heistgraph.AlertFundsReachedEntity, "Exchange X", 4, 0, 1)
	if _, err := st.RaiseAlerts(ctx, []heistgraph.Alert{a4}, 1700000200); err != nil {
		t.Fatal(err)
	}
	if wb, _ = st.Webhook(ctx, "bb"); wb.Pending != 2 {
		t.Errorf("disabled bb got a delivery: pending %d", wb.Pending)
	}
	// Failed: moved to the log and counted.
	ha := heads[0]
	ha.State, ha.Attempts, ha.LastStatus = store.DeliveryFailed, 10, 503
	if err := st.RecordAttempt(ctx, ha, false); err != nil {
		t.Fatal(err)
	}
	if w, _ = st.Webhook(ctx, "aa"); w.Failed != 1 || w.Delivered != 1 || w.Pending != 1 {
		t.Errorf("aa after a failure = %+v", w)
	}
	var ids []string
	for w, err := range st.WebhookList(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, w.ID)
	}
	equal(t, "webhook ids", ids, []string{"aa", "bb"})
	if err := st.DeleteWebhook(ctx, "aa"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteWebhook(ctx, "aa"); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Errorf("delete again: err %v, want ErrNotFound", err)
	}
	if _, err := st.Webhook(ctx, "aa"); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Errorf("deleted webhook: err %v, want ErrNotFound", err)
	}
	ha.State = store.DeliveryDelivered
	if err := st.RecordAttempt(ctx, ha, false); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Errorf("attempt on a deleted endpoint: err %v, want ErrNotFound", err)
	}
	// A new endpoint with the old id starts empty.
	if err := st.PutWebhook(ctx, x); err != nil {
		t.Fatal(err)
	}
	if w, _ = st.Webhook(ctx, "aa"); w.Pending != 0 || w.Delivered != 0 {
		t.Errorf("re-added aa = %+v", w)
	}
}
