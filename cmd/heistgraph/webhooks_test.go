package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/webhooktest"
	"github.com/heistgraph/heistgraph/monitor"
	"github.com/heistgraph/heistgraph/server"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
)

func webhookSecret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// testAlerts are n alerts about entity on outputs 1..n of one block.
func testAlerts(entity string, n int) []heistgraph.Alert {
	var out []heistgraph.Alert
	for i := 1; i <= n; i++ {
		a := heistgraph.Alert{Kind: heistgraph.AlertFundsReachedEntity, Chain: heistgraph.ChainBTCRegtest, Watch: "kill-test",
			Vout: uint32(i), Address: "bcrt1qexchange", Entity: entity, Category: "exchange", AmountSat: int64(1000 * i),
			BlockHeight: 300, Time: 1700000000}
		a.TxID[0], a.BlockHash[0] = 0x77, 0x99
		out = append(out, a)
	}
	return out
}

// withStore opens the store in dir for fn and closes it, as a process that
// raised alerts and exited would.
func withStore(t *testing.T, dir string, fn func(st *pebble.DB)) {
	t.Helper()
	st, err := pebble.Open(dir, pebble.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	fn(st)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestWebhooksAndAlertsCLI covers the commands on a store they open
// themselves: bad secrets and filters are exit 2, unknown ids exit 1, and
// the JSON is the API's.
func TestWebhooksAndAlertsCLI(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	secret := webhookSecret(t)
	for _, args := range [][]string{
		{"webhooks", "add", "https://x.example/h", "--secret", "whsec_c2hvcnQ="},
		{"webhooks", "add", "https://x.example/h", "--secret", strings.TrimPrefix(secret, "whsec_")},
		{"webhooks", "add", "https://x.example/h"},
		{"webhooks", "add", "not a url", "--secret", secret},
		{"webhooks", "add", "https://x.example/h", "--secret", secret, "--kind", "stolen"},
		{"alerts", "list", "--kind", "stolen"},
		{"alerts", "list", "--since", "last week"},
		{"alerts", "ack"},
	} {
		if r := cli(t, append([]string{"--data", data}, args...)...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2; stderr %s", args, r.code, r.stderr)
		} else if strings.Contains(r.stderr, secret) {
			t.Errorf("%v: the error echoes the secret", args)
		}
	}
	r := cli(t, "--data", data, "--json", "webhooks", "add", "https://x.example/h", "--secret", secret, "--entity", "Exchange X", "--kind", "funds_reached_entity")
	mustOK(t, r, "webhooks add")
	added := decode[server.WebhookJSON](t, r.stdout)
	if added.ID == "" || added.Entities[0] != "Exchange X" || added.Kinds[0] != "funds_reached_entity" {
		t.Fatalf("added %+v", added)
	}
	withStore(t, data, func(st *pebble.DB) {
		if _, err := monitor.Raise(context.Background(), st, append(testAlerts("Exchange X", 2), testAlerts("Exchange Y", 1)...)...); err != nil {
			t.Fatal(err)
		}
	})
	r = cli(t, "--data", data, "--json", "webhooks", "list")
	mustOK(t, r, "webhooks list")
	hooks := decode[server.WebhooksList](t, r.stdout)
	if hooks.Count != 1 || hooks.Webhooks[0].Pending != 2 || strings.Contains(r.stdout, "whsec_") {
		t.Errorf("webhooks list %s", r.stdout)
	}
	r = cli(t, "--data", data, "--json", "alerts", "list", "--entity", "Exchange X")
	mustOK(t, r, "alerts list")
	if l := decode[server.AlertsList](t, r.stdout); l.Count != 2 || l.Alerts[0].IdempotencyKey == "" {
		t.Errorf("alerts list %s", r.stdout)
	}
	mustOK(t, cli(t, "--data", data, "alerts", "ack", "3"), "alerts ack")
	r = cli(t, "--data", data, "--json", "alerts", "list", "--since", "2000-01-01")
	mustOK(t, r, "alerts list --since")
	if l := decode[server.AlertsList](t, r.stdout); l.Count != 3 || l.Alerts[2].Acked == 0 {
		t.Errorf("alerts list after ack %s", r.stdout)
	}
	if r := cli(t, "--data", data, "alerts", "ack", "42"); r.code != 1 {
		t.Errorf("ack unknown: exit %d", r.code)
	}
	mustOK(t, cli(t, "--data", data, "webhooks", "rm", added.ID), "webhooks rm")
	if r := cli(t, "--data", data, "webhooks", "rm", added.ID); r.code != 1 {
		t.Errorf("rm again: exit %d", r.code)
	}
}

// TestWebhookKillRestart: serve (a real process) is SIGKILLed while
// deliveries are pending, then restarted: every alert reaches the receiver
// (verified by the standardwebhooks npm package), in raise order, and no
// event arrives under two keys; a delivery in flight at the kill may be
// retried with its same webhook-id. The store then counts each delivery
// once. The webhooks commands go through the running server.
func TestWebhookKillRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes")
	}
	t.Parallel()
	const n = 12
	data := t.TempDir()
	secret := webhookSecret(t)
	rc := webhooktest.Start(t, secret, func(int, webhooktest.Request) int {
		time.Sleep(150 * time.Millisecond) // a slow receiver: deliveries pile up
		return http.StatusOK
	})
	var keys []string
	withStore(t, data, func(st *pebble.DB) {
		// The alerts are raised before serve runs (watches do not exist
		// yet): serve finds them pending in the outbox.
		if err := st.PutWebhook(context.Background(), store.Webhook{ID: "00kill", URL: rc.URL, Secret: secret, Created: 1}); err != nil {
			t.Fatal(err)
		}
		raised, err := monitor.Raise(context.Background(), st, testAlerts("Exchange X", n)...)
		if err != nil || len(raised) != n {
			t.Fatalf("raise: %d, %v", len(raised), err)
		}
		for _, a := range raised {
			keys = append(keys, a.IdempotencyKey)
		}
	})
	s := startServe(t, data)
	rc.WaitFor(t, 30*time.Second, "a few deliveries before the kill", func(r []webhooktest.Request) bool { return len(r) >= 3 })
	s.kill(t)
	before := len(rc.Requests())
	if before >= n {
		t.Fatalf("all %d deliveries were made before the kill: nothing was pending", before)
	}
	s2 := startServe(t, data)
	distinct := func(reqs []webhooktest.Request) map[string]int {
		m := map[string]int{}
		for _, r := range reqs {
			if r.Verified && r.Status == 200 {
				m[r.ID]++
			}
		}
		return m
	}
	reqs := rc.WaitFor(t, 60*time.Second, "every alert after the restart", func(r []webhooktest.Request) bool { return len(distinct(r)) >= n })
	if resp, err := insecureClient.Get(s2.url + "/metrics"); err != nil {
		t.Error(err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), `heistgraph_webhook_attempts_total{result="delivered"}`) {
			t.Errorf("/metrics lacks the delivery counter")
		}
	}
	// Next to the running server, webhooks list goes through it.
	r := cli(t, "--data", data, "--json", "webhooks", "list")
	mustOK(t, r, "webhooks list through the server")
	if l := decode[server.WebhooksList](t, r.stdout); l.Count != 1 || l.Webhooks[0].ID != "00kill" {
		t.Errorf("webhooks list through the server: %s", r.stdout)
	}
	r = cli(t, "--data", data, "--json", "alerts", "ack", "1")
	mustOK(t, r, "alerts ack through the server")
	if a := decode[server.AlertJSON](t, r.stdout); a.AckedBy != server.LocalKeyID || a.IdempotencyKey != keys[0] {
		t.Errorf("ack through the server: %s", r.stdout)
	}
	mustOK(t, cli(t, "--data", data, "webhooks", "add", "https://soc.example/h", "--secret", secret, "--kind", "alert_retracted"), "webhooks add through the server")
	if r := cli(t, "--data", data, "webhooks", "rm", "nope"); r.code != 1 {
		t.Errorf("webhooks rm of an unknown id through the server: exit %d, want 1", r.code)
	}
	s2.stop(t)

	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	var order []string
	seen := map[string]bool{}
	for _, q := range reqs {
		if !q.Verified {
			t.Errorf("request %s failed verification: %s", q.ID, q.VerifyError)
		}
		if !want[q.ID] {
			t.Errorf("webhook-id %s is no alert's key", q.ID)
		}
		if !seen[q.ID] {
			seen[q.ID] = true
			order = append(order, q.ID)
		}
	}
	if strings.Join(order, ",") != strings.Join(keys, ",") {
		t.Errorf("first arrivals out of raise order:\n got %v\nwant %v", order, keys)
	}
	retries := len(reqs) - n
	t.Logf("%d requests before the kill, %d in all for %d alerts (%d retries of an id)", before, len(reqs), n, retries)
	if retries > 1 {
		t.Errorf("%d repeated deliveries: at most the one in flight at the kill may repeat", retries)
	}
	withStore(t, data, func(st *pebble.DB) {
		w, err := st.Webhook(context.Background(), "00kill")
		if err != nil {
			t.Fatal(err)
		}
		if w.Delivered != n || w.Pending != 0 {
			t.Errorf("store counts %d delivered, %d pending; want %d and 0", w.Delivered, w.Pending, n)
		}
		if a, err := st.Alert(context.Background(), "1"); err != nil || a.Acked == 0 {
			t.Errorf("the acknowledgement made through the server is not stored: %+v, %v", a, err)
		}
		if n := len(listHooks(t, st)); n != 2 {
			t.Errorf("%d endpoints stored, want 2 (one added through the server)", n)
		}
	})
}

func listHooks(t *testing.T, st store.Webhooks) []store.Webhook {
	t.Helper()
	var out []store.Webhook
	for w, err := range st.WebhookList(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, w)
	}
	return out
}
