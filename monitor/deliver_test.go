package monitor_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/webhooktest"
	"github.com/heistgraph/heistgraph/monitor"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
)

func openStore(t testing.TB) *pebble.DB {
	t.Helper()
	st, err := pebble.Open("", pebble.Options{FS: vfs.NewMem(), CacheSize: 1 << 20, MemTableSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newSecret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return heistgraph.WebhookSecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// alert is a funds_reached_entity alert on output n:0 about entity.
func alert(entity string, n byte) heistgraph.Alert {
	a := heistgraph.Alert{Kind: heistgraph.AlertFundsReachedEntity, Chain: heistgraph.ChainBTCRegtest, Watch: "ronin-test",
		Vout: 0, Address: "bcrt1qexchange", Entity: entity, Category: "exchange", AmountSat: 50_000_000 + int64(n),
		BlockHeight: 120, Time: 1700000000, Share: 1, Path: heistgraph.AlertPath{Hops: 3, TxIDs: []heistgraph.Hash{{0xaa}, {n}}}}
	a.TxID[0] = n
	a.BlockHash[0] = 0xbb
	return a
}

// runDeliverer runs a Deliverer with opts until the test ends.
func runDeliverer(t *testing.T, st store.Webhooks, opts monitor.DelivererOptions) *monitor.Deliverer {
	t.Helper()
	if opts.Poll == 0 {
		opts.Poll = 20 * time.Millisecond
	}
	d, err := monitor.NewDeliverer(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := d.Run(ctx); err != nil {
			t.Errorf("deliverer: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return d
}

func addHook(t *testing.T, st store.Webhooks, id, url, secret string, entities ...string) {
	t.Helper()
	if err := st.PutWebhook(context.Background(), store.Webhook{ID: id, URL: url, Secret: secret, Entities: entities, Created: time.Now().Unix()}); err != nil {
		t.Fatal(err)
	}
}

func ids(reqs []webhooktest.Request) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.ID)
	}
	return out
}

// TestWebhookDeliveryVerifiedByNode delivers three alerts and has the
// standardwebhooks npm package verify each request: headers, signature,
// body; webhook-id is the idempotency key; an endpoint filtered to another
// entity gets nothing; alerts arrive in raise order.
func TestWebhookDeliveryVerifiedByNode(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	secret := newSecret(t)
	rc := webhooktest.Start(t, secret, nil)
	other := webhooktest.Start(t, secret, nil)
	addHook(t, st, "x", rc.URL, secret, "Exchange X")
	addHook(t, st, "y", other.URL, secret, "Exchange Y")
	reg := prometheus.NewRegistry()
	runDeliverer(t, st, monitor.DelivererOptions{Registerer: reg})
	raised, err := monitor.Raise(context.Background(), st, alert("Exchange X", 1), alert("Exchange X", 2), alert("Exchange X", 3))
	if err != nil || len(raised) != 3 {
		t.Fatalf("raise: %d, %v", len(raised), err)
	}
	reqs := rc.WaitFor(t, 10*time.Second, "three deliveries", func(r []webhooktest.Request) bool { return len(r) >= 3 })
	for i, r := range reqs {
		if !r.Verified {
			t.Errorf("request %d failed the standardwebhooks verification: %s", i, r.VerifyError)
		}
		if r.ID != raised[i].IdempotencyKey {
			t.Errorf("request %d: webhook-id %s, want alert %s's key %s (raise order)", i, r.ID, raised[i].ID, raised[i].IdempotencyKey)
		}
		if r.Payload["idempotency_key"] != r.ID || r.Payload["id"] != raised[i].ID || r.Payload["kind"] != "funds_reached_entity" ||
			r.Payload["entity"] != "Exchange X" || r.Payload["amount_sat"] != float64(raised[i].AmountSat) {
			t.Errorf("request %d payload = %v", i, r.Payload)
		}
		if !strings.HasPrefix(r.Signature, "v1,") {
			t.Errorf("signature %q", r.Signature)
		}
	}
	waitState(t, st, "x", func(w store.Webhook) bool { return w.Delivered == 3 && w.Pending == 0 && w.LastStatus == 200 })
	if n := len(other.Requests()); n != 0 {
		t.Errorf("the Exchange Y endpoint got %d requests for Exchange X's alerts", n)
	}
	if got := counter(t, reg, "delivered"); got != 3 {
		t.Errorf("delivered counter %v, want 3", got)
	}
	if _, err := monitor.NewDeliverer(st, monitor.DelivererOptions{Jitter: 1}); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("jitter 1: %v, want ErrInvalid", err)
	}
}

// counter reads heistgraph_webhook_attempts_total{result}.
func counter(t *testing.T, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "heistgraph_webhook_attempts_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func waitState(t *testing.T, st store.Webhooks, id string, cond func(store.Webhook) bool) store.Webhook {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		w, err := st.Webhook(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if cond(w) {
			return w
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook %s state %+v", id, w)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// failFirst answers status to the first request and 200 after.
func failFirst(status int) func(int, webhooktest.Request) int {
	return func(n int, _ webhooktest.Request) int {
		if n == 1 {
			return status
		}
		return http.StatusOK
	}
}

// TestWebhookRetry: a receiver that answers 500 then 200 gets the alert on
// the retry with the same webhook-id and a fresh timestamp and signature
// (the schedule's second delay is over a second), and the endpoint's next
// alert waits for the first.
func TestWebhookRetry(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	secret := newSecret(t)
	rc := webhooktest.Start(t, secret, failFirst(http.StatusInternalServerError))
	addHook(t, st, "x", rc.URL, secret)
	runDeliverer(t, st, monitor.DelivererOptions{Schedule: []time.Duration{0, 1100 * time.Millisecond, time.Second}})
	raised, err := monitor.Raise(context.Background(), st, alert("Exchange X", 1), alert("Exchange X", 2))
	if err != nil {
		t.Fatal(err)
	}
	reqs := rc.WaitFor(t, 15*time.Second, "three requests", func(r []webhooktest.Request) bool { return len(r) >= 3 })
	k1, k2 := raised[0].IdempotencyKey, raised[1].IdempotencyKey
	if got := ids(reqs); len(got) != 3 || got[0] != k1 || got[1] != k1 || got[2] != k2 {
		t.Fatalf("webhook-ids %v, want [%s %s %s]: the retry keeps the id, the next alert waits", got, k1, k1, k2)
	}
	for i, r := range reqs {
		if !r.Verified {
			t.Errorf("request %d not verified: %s", i, r.VerifyError)
		}
	}
	if reqs[0].Timestamp == reqs[1].Timestamp || reqs[0].Signature == reqs[1].Signature {
		t.Errorf("the retry reused timestamp %s / signature: each attempt is signed with its own time", reqs[1].Timestamp)
	}
	if string(reqs[0].Body) != string(reqs[1].Body) {
		t.Errorf("the retry changed the body")
	}
	w := waitState(t, st, "x", func(w store.Webhook) bool { return w.Delivered == 2 })
	if w.LastStatus != 200 || w.Pending != 0 {
		t.Errorf("state %+v", w)
	}
	var attempts []int
	for dl, err := range st.Deliveries(context.Background(), "x") {
		if err != nil {
			t.Fatal(err)
		}
		attempts = append(attempts, dl.Attempts)
	}
	if len(attempts) != 2 || attempts[0] != 2 || attempts[1] != 1 {
		t.Errorf("attempts per delivery %v, want [2 1]", attempts)
	}
}

// TestWebhookGoneDisables: 410 disables the endpoint at once (no retry,
// later alerts are not sent to it) while another endpoint keeps receiving.
func TestWebhookGoneDisables(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	secret := newSecret(t)
	gone := webhooktest.Start(t, secret, func(int, webhooktest.Request) int { return http.StatusGone })
	ok := webhooktest.Start(t, secret, nil)
	addHook(t, st, "gone", gone.URL, secret)
	addHook(t, st, "ok", ok.URL, secret)
	runDeliverer(t, st, monitor.DelivererOptions{Schedule: []time.Duration{0, 10 * time.Millisecond}})
	if _, err := monitor.Raise(context.Background(), st, alert("Exchange X", 1)); err != nil {
		t.Fatal(err)
	}
	w := waitState(t, st, "gone", func(w store.Webhook) bool { return w.Disabled })
	if w.LastStatus != 410 || !strings.Contains(w.DisabledReason, "410") {
		t.Errorf("disabled endpoint %+v", w)
	}
	if _, err := monitor.Raise(context.Background(), st, alert("Exchange X", 2)); err != nil {
		t.Fatal(err)
	}
	ok.WaitFor(t, 10*time.Second, "both alerts at the other endpoint", func(r []webhooktest.Request) bool { return len(r) >= 2 })
	time.Sleep(100 * time.Millisecond)
	if n := len(gone.Requests()); n != 1 {
		t.Errorf("the gone endpoint got %d requests, want 1", n)
	}
}

// TestWebhookGivesUp: after the schedule's last attempt the delivery is
// failed, counted, and the endpoint's next alert is sent.
func TestWebhookGivesUp(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	secret := newSecret(t)
	rc := webhooktest.Start(t, secret, func(_ int, r webhooktest.Request) int {
		if r.Payload["amount_sat"] == float64(50_000_001) {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	addHook(t, st, "x", rc.URL, secret)
	runDeliverer(t, st, monitor.DelivererOptions{Schedule: []time.Duration{0, 10 * time.Millisecond, 10 * time.Millisecond}})
	if _, err := monitor.Raise(context.Background(), st, alert("Exchange X", 1), alert("Exchange X", 2)); err != nil {
		t.Fatal(err)
	}
	w := waitState(t, st, "x", func(w store.Webhook) bool { return w.Failed == 1 && w.Delivered == 1 })
	if w.Disabled {
		t.Error("giving up one delivery disabled the endpoint")
	}
	if n := len(rc.Requests()); n != 4 {
		t.Errorf("%d requests, want 3 attempts of the first alert and 1 of the second", n)
	}
}

// TestRaiseTwiceStoresOne: raising an alert twice stores one alert and one
// delivery per endpoint (store/pebble's TestAlertsAcrossRestarts does the
// same across a reopening of the store).
func TestRaiseTwiceStoresOne(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	addHook(t, st, "x", "http://127.0.0.1:9/", newSecret(t))
	ctx := context.Background()
	first, err := monitor.Raise(ctx, st, alert("Exchange X", 1))
	if err != nil || len(first) != 1 {
		t.Fatalf("first raise: %v, %v", first, err)
	}
	again, err := monitor.Raise(ctx, st, alert("Exchange X", 1), alert("Exchange X", 1))
	if err != nil || len(again) != 0 {
		t.Fatalf("second raise stored %v, %v", again, err)
	}
	n := 0
	for _, err := range st.AlertList(ctx, store.AlertQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	w, _ := st.Webhook(ctx, "x")
	if n != 1 || w.Pending != 1 {
		t.Errorf("%d alerts, %d pending deliveries; want 1 and 1", n, w.Pending)
	}
	if _, err := monitor.Raise(ctx, st, heistgraph.Alert{Kind: "stolen"}); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("bad kind: %v", err)
	}
}

// TestSign pins Sign against the example of the standardwebhooks libraries'
// own tests (a signature the JavaScript library computes for this secret,
// id, timestamp and body).
func TestSign(t *testing.T) {
	t.Parallel()
	key, err := heistgraph.ParseWebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := monitor.Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

// TestNodeVerifierRejects shows the independent verifier is not vacuous:
// a request signed with another secret, or with its body changed, fails.
func TestNodeVerifierRejects(t *testing.T) {
	t.Parallel()
	secret := newSecret(t)
	rc := webhooktest.Start(t, secret, nil)
	key, _ := heistgraph.ParseWebhookSecret(newSecret(t))
	good, _ := heistgraph.ParseWebhookSecret(secret)
	ts := time.Now().Unix()
	for _, c := range []struct {
		key          []byte
		body, signed string
	}{
		{key, `{"a":1}`, `{"a":1}`},  // another secret
		{good, `{"a":2}`, `{"a":1}`}, // body changed after signing
	} {
		req, _ := http.NewRequest("POST", rc.URL, strings.NewReader(c.body))
		req.Header.Set(monitor.HeaderID, "k1")
		req.Header.Set(monitor.HeaderTimestamp, strconv.FormatInt(ts, 10))
		req.Header.Set(monitor.HeaderSignature, monitor.Sign(c.key, "k1", ts, []byte(c.signed)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for i, r := range rc.Requests() {
		if r.Verified {
			t.Errorf("request %d verified, want rejected", i)
		}
	}
}

// TestWebhookRetryAfter: a 429 with Retry-After delays the retry past a
// shorter schedule delay.
func TestWebhookRetryAfter(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	secret := newSecret(t)
	rc := webhooktest.Start(t, secret, failFirst(http.StatusTooManyRequests))
	// The receiver cannot set headers through respond: wrap its URL with a
	// proxy that adds Retry-After to a 429.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, rc.URL, r.Body)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(resp.StatusCode)
	}))
	t.Cleanup(proxy.Close)
	addHook(t, st, "x", proxy.URL, secret)
	runDeliverer(t, st, monitor.DelivererOptions{Schedule: []time.Duration{0, 10 * time.Millisecond, 10 * time.Millisecond}})
	if _, err := monitor.Raise(context.Background(), st, alert("Exchange X", 1)); err != nil {
		t.Fatal(err)
	}
	reqs := rc.WaitFor(t, 10*time.Second, "the retry", func(r []webhooktest.Request) bool { return len(r) >= 2 })
	if gap := reqs[1].At.Sub(reqs[0].At); gap < 900*time.Millisecond {
		t.Errorf("retried after %s despite Retry-After: 1", gap)
	}
}

// TestDelivererStops: cancelling Run ends it promptly even while a
// receiver hangs, and the interrupted attempt is not recorded (it is made
// again after a restart).
func TestDelivererStops(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	secret := newSecret(t)
	arrived := make(chan struct{}, 1)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // then the server notices the client going away
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(hang.Close)
	addHook(t, st, "x", hang.URL, secret)
	if _, err := monitor.Raise(context.Background(), st, alert("Exchange X", 1)); err != nil {
		t.Fatal(err)
	}
	d, err := monitor.NewDeliverer(st, monitor.DelivererOptions{Poll: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ended := make(chan error, 1)
	go func() { ended <- d.Run(ctx) }()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("no attempt reached the receiver")
	}
	cancel()
	select {
	case err := <-ended:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	w, err := st.Webhook(context.Background(), "x")
	if err != nil || w.Pending != 1 || w.HeadAttempts != 0 || w.LastAttempt != 0 {
		t.Errorf("after the stop: %+v, %v; want the delivery pending and no attempt recorded", w, err)
	}
}
