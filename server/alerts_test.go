package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
)

var testSecret = "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))

func raiseTest(t testing.TB, st store.Alerts, entities ...string) {
	t.Helper()
	var as []heistgraph.Alert
	for i, e := range entities {
		a := heistgraph.Alert{Kind: heistgraph.AlertFundsReachedEntity, Chain: heistgraph.ChainBTCRegtest, Watch: "w", Entity: e, AmountSat: 100}
		a.TxID[0] = byte(i + 1)
		a.IdempotencyKey = a.Key()
		as = append(as, a)
	}
	if _, err := st.RaiseAlerts(context.Background(), as, 1700000000); err != nil {
		t.Fatal(err)
	}
}

// TestAlertAndWebhookRoutes covers the roles (viewer reads, analyst writes
// and acks), 400s naming the field, 404s, and entity scoping: a key scoped
// to an entity sees, acks, adds and removes only that entity's alerts and
// webhooks.
func TestAlertAndWebhookRoutes(t *testing.T) {
	ts := newTestServer(t, Config{})
	ctx := context.Background()
	scoped, err := CreateKey(ctx, ts.st, KeyRequest{Role: "analyst", Entity: "Exchange X"}, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	ts.keys["scoped"] = scoped.Key
	raiseTest(t, ts.st, "Exchange X", "Exchange Y")
	hook := func(extra string) string {
		return `{"url":"https://x.example/h","secret":"` + testSecret + `"` + extra + `}`
	}
	tests := []struct {
		name, method, path, role, body string
		status                         int
		field                          string
	}{
		{"viewer reads alerts", "GET", "/v1/alerts", "viewer", "", 200, ""},
		{"no key", "GET", "/v1/alerts", "", "", 401, ""},
		{"bad kind", "GET", "/v1/alerts?kind=stolen", "viewer", "", 400, "kind"},
		{"bad since", "GET", "/v1/alerts?since=yesterday", "viewer", "", 400, "since"},
		{"bad limit", "GET", "/v1/alerts?limit=x", "viewer", "", 400, "limit"},
		{"since RFC 3339", "GET", "/v1/alerts?since=2023-01-01T00:00:00Z", "viewer", "", 200, ""},
		{"viewer may not ack", "POST", "/v1/alerts/1/ack", "viewer", "", 403, ""},
		{"screener may not ack", "POST", "/v1/alerts/1/ack", "screener", "", 403, ""},
		{"ack unknown", "POST", "/v1/alerts/99/ack", "analyst", "", 404, ""},
		{"ack junk id", "POST", "/v1/alerts/abc/ack", "analyst", "", 404, ""},
		{"ack", "POST", "/v1/alerts/1/ack", "analyst", "", 200, ""},
		{"scoped ack of another entity", "POST", "/v1/alerts/2/ack", "scoped", "", 404, ""},
		{"viewer reads webhooks", "GET", "/v1/webhooks", "viewer", "", 200, ""},
		{"viewer may not add", "POST", "/v1/webhooks", "viewer", hook(""), 403, ""},
		{"no body", "POST", "/v1/webhooks", "analyst", "", 400, "body"},
		{"not JSON", "POST", "/v1/webhooks", "analyst", "{", 400, "body"},
		{"bad url", "POST", "/v1/webhooks", "analyst", `{"url":"ftp://x","secret":"` + testSecret + `"}`, 400, "url"},
		{"relative url", "POST", "/v1/webhooks", "analyst", `{"url":"/x","secret":"` + testSecret + `"}`, 400, "url"},
		{"no secret", "POST", "/v1/webhooks", "analyst", `{"url":"https://x.example/h"}`, 400, "secret"},
		{"short secret", "POST", "/v1/webhooks", "analyst", `{"url":"https://x.example/h","secret":"whsec_AAAA"}`, 400, "secret"},
		{"bad kind", "POST", "/v1/webhooks", "analyst", hook(`,"kinds":["funds_moved","x"]`), 400, "kinds[1]"},
		{"empty entity", "POST", "/v1/webhooks", "analyst", hook(`,"entities":[" "]`), 400, "entities[0]"},
		{"kinds wrong type", "POST", "/v1/webhooks", "analyst", hook(`,"kinds":"funds_moved"`), 400, "kinds"},
		{"scoped key, other entity", "POST", "/v1/webhooks", "scoped", hook(`,"entities":["Exchange Y"]`), 403, ""},
		{"add", "POST", "/v1/webhooks", "analyst", hook(`,"entities":["Exchange Y"],"kinds":["funds_reached_entity"]`), 200, ""},
		{"scoped add", "POST", "/v1/webhooks", "scoped", hook(""), 200, ""},
		{"rm unknown", "DELETE", "/v1/webhooks/nope", "analyst", "", 404, ""},
		{"viewer may not rm", "DELETE", "/v1/webhooks/nope", "viewer", "", 403, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := ts.do(t, tc.method, tc.path, tc.role, tc.body)
			if w.Code != tc.status {
				t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, w.Code, w.Body, tc.status)
			}
			if tc.field != "" {
				var e errorBody
				_ = json.Unmarshal(w.Body.Bytes(), &e)
				if e.Field != tc.field {
					t.Errorf("field %q, want %q (%s)", e.Field, tc.field, e.Error)
				}
			}
		})
	}
	list := func(role, path string) map[string]any {
		w := ts.do(t, "GET", path, role, "")
		var v map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil || w.Code != 200 {
			t.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
		return v
	}
	if n := list("viewer", "/v1/alerts")["count"]; n != float64(2) {
		t.Errorf("viewer sees %v alerts, want 2", n)
	}
	al := list("scoped", "/v1/alerts")
	if al["count"] != float64(1) || al["alerts"].([]any)[0].(map[string]any)["entity"] != "Exchange X" {
		t.Errorf("scoped key sees %v", al)
	}
	if n := list("scoped", "/v1/alerts?entity=Exchange+Y")["count"]; n != float64(0) {
		t.Errorf("scoped key asking for another entity sees %v alerts", n)
	}
	first := list("viewer", "/v1/alerts?limit=1")["alerts"].([]any)[0].(map[string]any)
	if first["acked"] == nil || first["acked_by"] == "" {
		t.Errorf("acked alert %v", first)
	}
	hooks := list("viewer", "/v1/webhooks")
	if hooks["count"] != float64(2) || strings.Contains(ts.do(t, "GET", "/v1/webhooks", "viewer", "").Body.String(), "whsec_") {
		t.Fatalf("webhooks %v (and never a secret)", hooks)
	}
	sh := list("scoped", "/v1/webhooks")
	if sh["count"] != float64(1) {
		t.Fatalf("scoped key sees %v webhooks, want its own", sh)
	}
	var other string
	for _, h := range hooks["webhooks"].([]any) {
		if m := h.(map[string]any); m["entities"].([]any)[0] == "Exchange Y" {
			other = m["id"].(string)
		}
	}
	if w := ts.do(t, "DELETE", "/v1/webhooks/"+other, "scoped", ""); w.Code != 404 {
		t.Errorf("scoped key removed another entity's webhook: %d", w.Code)
	}
	if w := ts.do(t, "DELETE", "/v1/webhooks/"+other, "analyst", ""); w.Code != 200 {
		t.Errorf("rm: %d %s", w.Code, w.Body)
	}
	if n := list("viewer", "/v1/webhooks")["count"]; n != float64(1) {
		t.Errorf("after rm %v webhooks", n)
	}
}

// FuzzServeWebhooks: no body of POST /v1/webhooks, and no id of POST
// /v1/alerts/{id}/ack, answers 500.
func FuzzServeWebhooks(f *testing.F) {
	st, err := pebble.Open("", pebble.Options{FS: vfs.NewMem(), CacheSize: 1 << 20, MemTableSize: 1 << 20})
	if err != nil {
		f.Fatal(err)
	}
	raiseTest(f, st, "Exchange X")
	srv, err := New(Config{LocalKey: "k", MaxBody: 1 << 20, Alerts: st, Webhooks: st}, &fakeBackend{}, st, st)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	for _, s := range []string{`{"url":"https://x.example/h","secret":"` + testSecret + `","entities":["E"],"kinds":["funds_moved"]}`,
		`{"url":"http://[::1]:80/","secret":"whsec_"}`, `{"url":1}`, `{"kinds":[null]}`, `[]`, `null`, ``} {
		f.Add([]byte(s), "1")
	}
	f.Add([]byte(`{}`), "%00")
	f.Fuzz(func(t *testing.T, body []byte, id string) {
		for _, req := range []*httptestReq{{"POST", "/v1/webhooks", body}, {"POST", "/v1/alerts/" + urlPathEscape(id) + "/ack", nil}} {
			r := httptest.NewRequest(req.method, "/", bytes.NewReader(req.body))
			r.URL.Path = req.path
			r.Header.Set("Authorization", "Bearer k")
			w := httptest.NewRecorder()
			srv.Handler().ServeHTTP(w, r)
			if w.Code >= 500 {
				t.Fatalf("%s %s %q: %d %s", req.method, req.path, body, w.Code, w.Body)
			}
		}
	})
}

type httptestReq struct {
	method, path string
	body         []byte
}

func urlPathEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "/", "%2F"), "?", "%3F")
}
