package server

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
)

// exportingBackend knows one incident and exports it with bodies naming
// what was asked.
type exportingBackend struct{ fakeBackend }

func (e *exportingBackend) known(id string) error {
	if id != "known-1" {
		return fmt.Errorf("incident %q: %w", id, heistgraph.ErrNotFound)
	}
	return nil
}

func (e *exportingBackend) IncidentSTIX(_ context.Context, id string) ([]byte, error) {
	return []byte(`{"type":"bundle","id":"` + id + `"}`), e.known(id)
}

func (e *exportingBackend) IncidentReportHTML(_ context.Context, id string) ([]byte, error) {
	return []byte("<!doctype html><title>" + id + "</title>"), e.known(id)
}

func (e *exportingBackend) IncidentGraphML(_ context.Context, id, chain string) ([]byte, error) {
	if chain == "eth" {
		return nil, fmt.Errorf("incident %s has no trace on eth: %w", id, heistgraph.ErrNotFound)
	}
	return []byte("<graphml>" + id + " " + chain + "</graphml>"), e.known(id)
}

// TestIncidentExports: each export route answers the backend's bytes as an
// attachment with its content type (the HTML report under a policy that
// runs no script), to any key that may read incidents; unknown incidents
// and chains 404, a malformed chain 400, no key 401.
func TestIncidentExports(t *testing.T) {
	t.Parallel()
	be := &exportingBackend{}
	ts := newTestServerWith(t, Config{}, be)
	tests := []struct {
		path, role  string
		status      int
		ctype, body string
	}{
		{"/v1/incidents/known-1/stix", "viewer", 200, "application/stix+json;version=2.1", `{"type":"bundle","id":"known-1"}`},
		{"/v1/incidents/known-1/report.html", "viewer", 200, "text/html; charset=utf-8", "<!doctype html><title>known-1</title>"},
		{"/v1/incidents/known-1/graph.graphml", "screener", 200, "application/graphml+xml", "<graphml>known-1 </graphml>"},
		{"/v1/incidents/known-1/graph.graphml?chain=BTC-Regtest", "viewer", 200, "application/graphml+xml", "<graphml>known-1 btc-regtest</graphml>"},
		{"/v1/incidents/known-1/graph.graphml?chain=eth", "viewer", 404, "application/json", "no trace on eth"},
		{"/v1/incidents/known-1/graph.graphml?chain=btc-nope", "viewer", 400, "application/json", `"field":"chain"`},
		{"/v1/incidents/other/stix", "viewer", 404, "application/json", `incident \"other\"`},
		{"/v1/incidents/other/report.html", "admin", 404, "application/json", `incident \"other\"`},
		{"/v1/incidents/known-1/stix", "", 401, "application/json", "error"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			w := ts.do(t, "GET", tc.path, tc.role, "")
			if w.Code != tc.status || w.Header().Get("Content-Type") != tc.ctype || !strings.Contains(w.Body.String(), tc.body) {
				t.Fatalf("%d %q %s, want %d %q with %s", w.Code, w.Header().Get("Content-Type"), w.Body, tc.status, tc.ctype, tc.body)
			}
			if tc.status != 200 {
				return
			}
			if w.Body.String() != tc.body {
				t.Errorf("body %q, want the backend's %q", w.Body, tc.body)
			}
			if cd := w.Header().Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="known-1-`) {
				t.Errorf("Content-Disposition %q", cd)
			}
			if strings.HasSuffix(tc.path, ".html") && w.Header().Get("Content-Security-Policy") != ReportCSP {
				t.Errorf("the HTML report's policy is %q", w.Header().Get("Content-Security-Policy"))
			}
		})
	}
	// A backend without exports answers 404.
	plain := newTestServer(t, Config{})
	if w := plain.do(t, "GET", "/v1/incidents/known-1/stix", "viewer", ""); w.Code != 404 || !strings.Contains(w.Body.String(), "no incident exports") {
		t.Errorf("without exports: %d %s", w.Code, w.Body)
	}
}

func TestFileName(t *testing.T) {
	for in, want := range map[string]string{"synth-heist-2026": "synth-heist-2026", `a"b\c/d é`: "a_b_c_d__", "x.y_z": "x.y_z"} {
		if got := fileName(in); got != want {
			t.Errorf("fileName(%q) = %q, want %q", in, got, want)
		}
	}
}
