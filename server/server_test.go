package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// fakeBackend answers every view with its arguments, knows one address,
// and screens by echoing the item's chain.
type fakeBackend struct{ labels []heistgraph.Label }

const knownAddr = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"

func (f *fakeBackend) Address(_ context.Context, c heistgraph.Chain, a string) (any, error) {
	if a != knownAddr {
		return nil, fmt.Errorf("address %s: %w", a, heistgraph.ErrNotFound)
	}
	return map[string]any{"chain": c, "address": a}, nil
}
func (f *fakeBackend) Tx(_ context.Context, c heistgraph.Chain, id heistgraph.Hash) (any, error) {
	return nil, fmt.Errorf("tx %s: %w", id, heistgraph.ErrNotFound)
}
func (f *fakeBackend) Block(_ context.Context, c heistgraph.Chain, id string) (any, error) {
	return map[string]any{"id": id}, nil
}
func (f *fakeBackend) Cluster(_ context.Context, c heistgraph.Chain, id uint64) (any, error) {
	return map[string]any{"cluster_id": id, "chain": c}, nil
}
func (f *fakeBackend) Incidents(context.Context) (any, error) { return map[string]any{"count": 0}, nil }
func (f *fakeBackend) Incident(_ context.Context, id string) (any, error) {
	return nil, fmt.Errorf("incident %q: %w", id, heistgraph.ErrNotFound)
}
func (f *fakeBackend) Labels(_ context.Context, q LabelQuery) (any, error) {
	var out []string
	for _, l := range f.labels {
		if TLPAllows(q.TLPMax, l.TLP) {
			out = append(out, l.Address)
		}
	}
	return map[string]any{"addresses": out}, nil
}
func (f *fakeBackend) PutLabels(_ context.Context, ls []heistgraph.Label) (any, error) {
	f.labels = append(f.labels, ls...)
	return map[string]int{"added": len(ls)}, nil
}
func (f *fakeBackend) Screen(ctx context.Context, req ScreenRequest) (ScreenResult, error) {
	res := ScreenResult{}
	// Backends read the key from the context (TLP, scopes): the screen
	// route passes it on itself (route.callerInHandler).
	if c, ok := CallerFrom(ctx); !ok || c.Role < RoleScreener {
		return res, fmt.Errorf("screen without the caller in its context (%+v, %v)", c, ok)
	}
	var answers []any
	for _, raw := range req.Items {
		var it struct {
			Chain string `json:"chain"`
		}
		if err := json.Unmarshal(raw, &it); err != nil {
			return res, &FieldError{Field: "body", Err: fmt.Errorf("%v: %w", err, heistgraph.ErrInvalid)}
		}
		if _, err := heistgraph.ParseChain(it.Chain); err != nil {
			return res, &FieldError{Field: "chain", Err: err}
		}
		answers = append(answers, map[string]string{"risk": "severe"})
		res.Risks = append(res.Risks, "severe")
	}
	res.Answer = answers
	return res, nil
}

// testServer is a server on an in-memory Pebble store with one key per
// role; keys maps role names to secrets.
type testServer struct {
	s    *Server
	st   *pebble.DB
	be   *fakeBackend
	keys map[string]string
}

func newTestServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	be := &fakeBackend{}
	ts := newTestServerWith(t, cfg, be)
	ts.be = be
	return ts
}

// newTestServerWith is newTestServer over the backend be.
func newTestServerWith(t testing.TB, cfg Config, be Backend) *testServer {
	t.Helper()
	st, err := pebble.Open("", pebble.Options{FS: vfs.NewMem(), CacheSize: 1 << 20, MemTableSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{st: st, keys: map[string]string{}}
	for _, r := range []string{"viewer", "screener", "analyst", "admin"} {
		k, err := CreateKey(context.Background(), st, KeyRequest{Role: r}, time.Unix(1700000000, 0))
		if err != nil {
			t.Fatal(err)
		}
		ts.keys[r] = k.Key
	}
	cfg.LocalKey = "local-secret"
	cfg.Alerts, cfg.Webhooks, cfg.Watches = st, st, st
	if ts.s, err = New(cfg, be, st, st); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ts.s.Close()
		st.Close()
	})
	return ts
}

func (ts *testServer) do(t testing.TB, method, path, role, body string) *httptest.ResponseRecorder {
	t.Helper()
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	var req *http.Request
	if rd != nil {
		req = httptest.NewRequest(method, path, rd)
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	if k, ok := ts.keys[role]; ok {
		req.Header.Set("Authorization", "Bearer "+k)
	} else if role != "" {
		req.Header.Set("Authorization", "Bearer "+role)
	}
	w := httptest.NewRecorder()
	ts.s.Handler().ServeHTTP(w, req)
	return w
}

func TestServeStatusCodes(t *testing.T) {
	ts := newTestServer(t, Config{MaxBody: 64 << 10})
	big := `{"labels": [` + strings.Repeat(`{"chain":"btc","address":"x","category":"c","source":"s"},`, 2000) + `{}]}`
	batch := `{"items": [` + strings.Repeat(`{"chain":"btc","address":"a"},`, MaxScreenItems) + `{"chain":"btc","address":"a"}]}`
	tests := []struct {
		name, method, path, role, body string
		status                         int
		field                          string
	}{
		{"no key", "GET", "/v1/incidents", "", "", 401, ""},
		{"unknown key", "GET", "/v1/incidents", "hg_nope", "", 401, ""},
		{"viewer reads", "GET", "/v1/incidents", "viewer", "", 200, ""},
		{"local admin", "GET", "/v1/audit", "local-secret", "", 200, ""},
		{"bad chain", "GET", "/v1/addresses/Bitcoin!/" + knownAddr, "viewer", "", 400, "chain"},
		{"bad address", "GET", "/v1/addresses/btc-regtest/bcrt1qnot", "viewer", "", 400, "address"},
		{"unknown address", "GET", "/v1/addresses/btc-testnet/tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "viewer", "", 404, ""},
		{"address", "GET", "/v1/addresses/btc-regtest/" + knownAddr, "viewer", "", 200, ""},
		{"bad txid", "GET", "/v1/txs/btc/xyz", "viewer", "", 400, "txid"},
		{"unknown tx", "GET", "/v1/txs/btc/" + strings.Repeat("ab", 32), "viewer", "", 404, ""},
		{"negative height", "GET", "/v1/blocks/btc/-1", "viewer", "", 400, "id"},
		{"cluster 0", "GET", "/v1/clusters/0", "viewer", "", 400, "id"},
		{"cluster chain", "GET", "/v1/clusters/7?chain=??", "viewer", "", 400, "chain"},
		{"unknown incident", "GET", "/v1/incidents/nope", "viewer", "", 404, ""},
		{"labels limit", "GET", "/v1/labels?limit=-1", "viewer", "", 400, "limit"},
		{"labels address without chain", "GET", "/v1/labels?address=abc", "viewer", "", 400, "chain"},
		{"viewer may not write", "POST", "/v1/labels", "viewer", `{"labels":[]}`, 403, ""},
		{"screener may not write", "POST", "/v1/labels", "screener", `{"labels":[]}`, 403, ""},
		{"labels not JSON", "POST", "/v1/labels", "analyst", `{"labels":`, 400, "body"},
		{"labels wrong type", "POST", "/v1/labels", "analyst", `{"labels":{}}`, 400, "labels"},
		{"labels empty", "POST", "/v1/labels", "analyst", `{"labels":[]}`, 400, "labels"},
		{"labels confidence", "POST", "/v1/labels", "analyst", `{"labels":[{"chain":"btc-regtest","address":"` + knownAddr + `","category":"exchange","source":"t","confidence":2}]}`, 400, "labels[0].confidence"},
		{"labels address", "POST", "/v1/labels", "analyst", `{"labels":[{"chain":"btc","address":"1nope","category":"exchange","source":"t","confidence":1}]}`, 400, "labels[0].address"},
		{"labels body too large", "POST", "/v1/labels", "analyst", big, 413, ""},
		{"labels", "POST", "/v1/labels", "analyst", `{"labels":[{"chain":"btc-regtest","address":"` + knownAddr + `","category":"exchange","source":"t","confidence":1,"tlp":"amber"}]}`, 200, ""},
		{"viewer may not screen", "POST", "/v1/screen", "viewer", `{"chain":"btc"}`, 403, ""},
		{"screen", "POST", "/v1/screen", "screener", `{"chain":"btc","address":"a"}`, 200, ""},
		{"screen array", "POST", "/v1/screen", "screener", `[1]`, 400, "body"},
		{"screen bad chain", "POST", "/v1/screen", "screener", `{"chain":"no pe"}`, 400, "chain"},
		{"screen empty batch", "POST", "/v1/screen", "screener", `{"items":[]}`, 400, "items"},
		{"screen items not array", "POST", "/v1/screen", "screener", `{"items":3}`, 400, "items"},
		{"screen batch too large", "POST", "/v1/screen", "screener", batch, 413, ""},
		{"analyst may not read audit", "GET", "/v1/audit", "analyst", "", 403, ""},
		{"audit after", "GET", "/v1/audit?after=x", "admin", "", 400, "after"},
		{"screener may not list keys", "GET", "/v1/keys", "screener", "", 403, ""},
		{"analyst may not create keys", "POST", "/v1/keys", "analyst", `{"role":"admin"}`, 403, ""},
		{"bad role", "POST", "/v1/keys", "admin", `{"role":"root"}`, 400, "role"},
		{"bad tlp", "POST", "/v1/keys", "admin", `{"role":"viewer","tlp_max":"purple"}`, 400, "tlp_max"},
		{"revoke unknown", "DELETE", "/v1/keys/nope", "admin", "", 404, ""},
		{"no such route", "POST", "/v1/traces", "admin", `{}`, 404, ""},
		{"healthz", "GET", "/healthz", "", "", 200, ""},
		{"readyz", "GET", "/readyz", "", "", 200, ""},
		{"openapi", "GET", "/openapi.json", "", "", 200, ""},
		{"metrics", "GET", "/metrics", "", "", 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := ts.do(t, tc.method, tc.path, tc.role, tc.body)
			if w.Code != tc.status {
				t.Fatalf("%s %s: status %d, want %d: %s", tc.method, tc.path, w.Code, tc.status, w.Body)
			}
			if tc.status < 400 {
				return
			}
			var e errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("error body %q is not {\"error\": ...}", w.Body)
			}
			if e.Field != tc.field {
				t.Errorf("field %q, want %q (%s)", e.Field, tc.field, e.Error)
			}
		})
	}
}

// TestServeKeysRevoke checks that a key created through the API works at
// once and that revoking it locks it out at once.
func TestServeKeysRevoke(t *testing.T) {
	ts := newTestServer(t, Config{})
	w := ts.do(t, "POST", "/v1/keys", "admin", `{"role":"viewer","entity":"Exchange X"}`)
	var k NewKeyJSON
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &k) != nil || k.Key == "" || k.Role != "viewer" || k.TLPMax != "green" {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	ts.keys["new"] = k.Key
	if w := ts.do(t, "GET", "/v1/incidents", "new", ""); w.Code != 200 {
		t.Fatalf("new key: %d", w.Code)
	}
	if w := ts.do(t, "GET", "/v1/keys", "admin", ""); w.Code != 200 || strings.Contains(w.Body.String(), k.Key) {
		t.Fatalf("list: %d, or it shows a secret: %s", w.Code, w.Body)
	}
	if w := ts.do(t, "DELETE", "/v1/keys/"+k.ID, "admin", ""); w.Code != 200 || !strings.Contains(w.Body.String(), `"revoked"`) {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	if w := ts.do(t, "GET", "/v1/incidents", "new", ""); w.Code != 401 {
		t.Fatalf("revoked key: %d, want 401", w.Code)
	}
}

// TestServeTLPClearance checks that a label marked above a key's clearance
// is not listed to it.
func TestServeTLPClearance(t *testing.T) {
	ts := newTestServer(t, Config{})
	ts.be.labels = []heistgraph.Label{{Address: "green-one", TLP: "green"}, {Address: "red-one", TLP: "red"}, {Address: "clear-one"}}
	w := ts.do(t, "GET", "/v1/labels", "viewer", "")
	if !strings.Contains(w.Body.String(), "green-one") || !strings.Contains(w.Body.String(), "clear-one") || strings.Contains(w.Body.String(), "red-one") {
		t.Fatalf("viewer (green) sees %s", w.Body)
	}
	if w := ts.do(t, "GET", "/v1/labels", "local-secret", ""); !strings.Contains(w.Body.String(), "red-one") {
		t.Fatalf("local admin (red) sees %s", w.Body)
	}
}

// TestServeRateLimit checks 429 with Retry-After once a key's burst is
// spent, that other keys are not affected, and that the local credential
// is never limited.
func TestServeRateLimit(t *testing.T) {
	ts := newTestServer(t, Config{RateLimit: 0.5, RateBurst: 2})
	for i := range 2 {
		if w := ts.do(t, "GET", "/v1/incidents", "viewer", ""); w.Code != 200 {
			t.Fatalf("request %d: %d", i, w.Code)
		}
	}
	w := ts.do(t, "GET", "/v1/incidents", "viewer", "")
	if w.Code != 429 {
		t.Fatalf("third request: %d, want 429", w.Code)
	}
	if ra := w.Header().Get("Retry-After"); ra != "2" {
		t.Errorf("Retry-After %q, want 2 (one token at 0.5/s)", ra)
	}
	if w := ts.do(t, "GET", "/v1/incidents", "screener", ""); w.Code != 200 {
		t.Errorf("another key: %d", w.Code)
	}
	for range 5 {
		if w := ts.do(t, "GET", "/v1/incidents", "local-secret", ""); w.Code != 200 {
			t.Fatalf("local credential: %d", w.Code)
		}
	}
}

// TestServeAudit checks what the audit log records: writes (durable) and
// screening requests (group-committed, flushed by Close) with who, what,
// items and the risk answered; reads are not recorded.
func TestServeAudit(t *testing.T) {
	ts := newTestServer(t, Config{})
	ts.do(t, "GET", "/v1/incidents", "viewer", "")
	ts.do(t, "POST", "/v1/labels", "analyst", `{"labels":[{"chain":"btc-regtest","address":"`+knownAddr+`","category":"exchange","source":"t","confidence":1}]}`)
	// The write is durable and recorded before its answer.
	var recs []store.AuditRecord
	for r, err := range ts.st.AuditLog(context.Background(), store.AuditQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 1 || recs[0].Path != "/v1/labels" || recs[0].Items != 1 || recs[0].Status != 200 {
		t.Fatalf("after the write: %+v", recs)
	}
	ts.do(t, "POST", "/v1/screen", "screener", `{"items":[{"chain":"btc"},{"chain":"btc"}]}`)
	ts.do(t, "POST", "/v1/labels", "viewer", `{}`)
	ts.s.Close()
	recs = recs[:0]
	for r, err := range ts.st.AuditLog(context.Background(), store.AuditQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 3 {
		t.Fatalf("records %+v, want the write, the screening and the refused write", recs)
	}
	if r := recs[1]; r.Path != "/v1/screen" || r.Items != 2 || r.Risk != "severe" || r.KeyID == "" {
		t.Errorf("screening record %+v", r)
	}
	if r := recs[2]; r.Status != 403 {
		t.Errorf("refused write record %+v", r)
	}
	// After Close, audited routes are refused (they could not be
	// audited) rather than answered or crashing the server.
	if w := ts.do(t, "POST", "/v1/screen", "screener", `{"chain":"btc"}`); w.Code != 503 {
		t.Errorf("screening after Close: %d, want 503", w.Code)
	}
}

// fuzzNo500 sends body to route as role and fails on a 500.
func fuzzNo500(f *testing.F, path, role string, seeds ...string) {
	ts := newTestServer(f, Config{MaxBody: 1 << 20})
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+ts.keys[role])
		w := httptest.NewRecorder()
		ts.s.Handler().ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("POST %s %q: %d %s", path, body, w.Code, w.Body)
		}
	})
}

func FuzzPostLabels(f *testing.F) {
	fuzzNo500(f, "/v1/labels", "analyst",
		`{"labels":[{"chain":"btc-regtest","address":"`+knownAddr+`","category":"exchange","source":"t","confidence":1}]}`,
		`{"labels":[{"chain":"eth","address":"0x0000000000000000000000000000000000000001","entity":"E","category":"mixer","source":"s","confidence":0.5,"tlp":"TLP:AMBER","valid_from":5,"valid_until":4}]}`,
		`{"labels":null}`, `[]`, `{"labels":[{"confidence":"x"}]}`)
}

func FuzzPostScreen(f *testing.F) {
	fuzzNo500(f, "/v1/screen", "screener",
		`{"chain":"btc","address":"1BoatSLRHtKNngkdXEeobR76b53LETtpyT"}`,
		`{"items":[{"chain":"btc","txid":"`+strings.Repeat("00", 32)+`","vout":1}]}`, `{"items":null}`, `{"items":[1,2]}`, `"x"`)
}

func FuzzPostKeys(f *testing.F) {
	fuzzNo500(f, "/v1/keys", "admin", `{"role":"viewer"}`, `{"role":"admin","entity":"E","tlp_max":"red"}`, `{"role":5}`, `null`)
}
