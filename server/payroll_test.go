package server

import (
	"context"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph/payroll"
	"github.com/heistgraph/heistgraph/risk"
	"github.com/heistgraph/heistgraph/store"
)

// payrollBackend is the fake backend with payroll screening: payee
// "bad" is high, every other none.
type payrollBackend struct{ *fakeBackend }

func (payrollBackend) ScreenPayroll(_ context.Context, req *payroll.Request) (*payroll.Answer, error) {
	a := &payroll.Answer{}
	for _, p := range req.Payees {
		l := risk.LevelNone
		if p.ID == "bad" {
			l = risk.LevelHigh
		}
		a.Payees = append(a.Payees, payroll.PayeeAnswer{ID: p.ID, Risk: l, Flags: []payroll.Flag{}})
	}
	return a, nil
}

// withPayroll swaps ts's server for one over payrollBackend.
func withPayroll(t testing.TB, ts *testServer, cfg Config) {
	t.Helper()
	ts.s.Close()
	cfg.LocalKey = "local-secret"
	cfg.Alerts, cfg.Webhooks, cfg.Watches = ts.st, ts.st, ts.st
	s, err := New(cfg, payrollBackend{ts.be}, ts.st, ts.st)
	if err != nil {
		t.Fatal(err)
	}
	ts.s = s
}

func TestServePayroll(t *testing.T) {
	cfg := Config{MaxBody: 1 << 20}
	ts := newTestServer(t, cfg)
	valid := `{"payees":[{"id":"ok","name":"A B"},{"id":"bad","name":"C D"}]}`
	// Without payroll screening in the backend: 501, after the checks.
	if w := ts.do(t, "POST", "/v1/screen/payroll", "screener", valid); w.Code != 501 {
		t.Errorf("backend without payroll: %d %s", w.Code, w.Body)
	}
	withPayroll(t, ts, cfg)
	tests := []struct {
		name, role, body string
		status           int
		want             string
	}{
		{"screened", "screener", valid, 200, `"risk":"high"`},
		{"viewer may not", "viewer", valid, 403, ""},
		{"no key", "", valid, 401, ""},
		{"malformed", "screener", `{"payees":[`, 400, "body"},
		{"bad address names its field", "screener", `{"payees":[{"id":"a","wallets":[{"chain":"btc","address":"1Nope"}]}]}`, 400, "payees[0].wallets[0].address"},
		{"payee without anything", "screener", `{"payees":[{"id":"a"}]}`, 400, "payees[0].name"},
		{"oversized batch", "screener", `{"payees":[` + strings.Repeat(`{"id":"a"},`, payroll.MaxPayees) + `{"id":"b"}]}`, 413, "payees"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := ts.do(t, "POST", "/v1/screen/payroll", tc.role, tc.body)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) {
				t.Errorf("%d %s, want %d with %q", w.Code, w.Body, tc.status, tc.want)
			}
		})
	}
	// The screening is audited: who, how many payees, the highest risk.
	ts.s.Close()
	var rec *store.AuditRecord
	for r, err := range ts.st.AuditLog(context.Background(), store.AuditQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		if r.Path == "/v1/screen/payroll" && r.Status == 200 {
			rec = &r
		}
	}
	if rec == nil || rec.Items != 2 || rec.Risk != "high" || rec.KeyID == "" {
		t.Errorf("audit record of the payroll screen: %+v", rec)
	}
}

// FuzzPostPayroll: no body makes the payroll route answer 500 (parsing
// and checks are the server's; the fake backend answers what passes).
func FuzzPostPayroll(f *testing.F) {
	ts := newTestServer(f, Config{})
	cfg := Config{MaxBody: 1 << 20, LocalKey: "local-secret", Alerts: ts.st, Webhooks: ts.st, Watches: ts.st}
	ts.s.Close()
	s, err := New(cfg, payrollBackend{ts.be}, ts.st, ts.st)
	if err != nil {
		f.Fatal(err)
	}
	ts.s = s
	for _, seed := range []string{
		`{"payees":[{"id":"a","name":"A","wallets":[{"chain":"btc","address":"1BoatSLRHtKNngkdXEeobR76b53LETtpyT"}]}]}`,
		`{"payees":[{"id":"a","payouts":[{"chain":"btc","txid":"` + strings.Repeat("00", 32) + `","vout":1}]}],"hops":2}`,
		`{"payees":null}`, `[]`, `{"payees":[{"id":5}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		w := ts.do(t, "POST", "/v1/screen/payroll", "screener", string(body))
		if w.Code >= 500 {
			t.Fatalf("%q: %d %s", body, w.Code, w.Body)
		}
	})
}
