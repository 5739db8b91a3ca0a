package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/heistgraph/heistgraph"
)

// IncidentExporter answers the incident page's exports, each the bytes a
// CLI command writes for the same incident (the backend runs the same
// code): a STIX 2.1 bundle (export stix --incident ID), the one-incident
// HTML report (incidents report --incident ID --include-suspected --html -)
// and the GraphML of the incident's trace on one chain (trace --chain C
// --seed S... --graphml - with the seeds and policy of the incident's trace
// run on C). Errors are classified as for the views (ErrNotFound: 404).
// A backend without it answers the export routes 404.
type IncidentExporter interface {
	IncidentSTIX(ctx context.Context, id string) ([]byte, error)
	IncidentReportHTML(ctx context.Context, id string) ([]byte, error)
	// IncidentGraphML exports the run on chain, or the first run when chain
	// is "".
	IncidentGraphML(ctx context.Context, id, chain string) ([]byte, error)
}

// ReportCSP is the content security policy of the HTML report served from
// the API: the page is self-contained (inline styles, inline SVG) and runs
// no script.
const ReportCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func incidentExportRoutes() []route {
	bin := schema{"type": "string"}
	return []route{
		{method: "GET", path: "/v1/incidents/{id}/stix", role: RoleViewer, contentType: "application/stix+json;version=2.1",
			summary: "The incident as a STIX 2.1 bundle (export stix --incident ID)", resp: bin,
			h: incidentExport("stix", "application/stix+json;version=2.1", ".stix.json", func(e IncidentExporter, r *http.Request, id string) ([]byte, error) {
				return e.IncidentSTIX(r.Context(), id)
			})},
		{method: "GET", path: "/v1/incidents/{id}/report.html", role: RoleViewer, contentType: "text/html; charset=utf-8",
			summary: "The incident's self-contained HTML report (incidents report --incident ID --include-suspected --html -)", resp: bin,
			h: incidentExport("report", "text/html; charset=utf-8", ".html", func(e IncidentExporter, r *http.Request, id string) ([]byte, error) {
				return e.IncidentReportHTML(r.Context(), id)
			})},
		{method: "GET", path: "/v1/incidents/{id}/graph.graphml", role: RoleViewer, contentType: "application/graphml+xml",
			summary: "The graph of the incident's trace as GraphML (trace --chain C --seed ... --graphml - with the run's seeds and policy)",
			query:   []param{{"chain", "string", "the trace run's chain (default: the incident's first traced chain)"}}, resp: bin,
			h: incidentExport("graph", "application/graphml+xml", ".graphml", func(e IncidentExporter, r *http.Request, id string) ([]byte, error) {
				var chain heistgraph.Chain
				if c := r.URL.Query().Get("chain"); c != "" {
					var err error
					if chain, err = heistgraph.ParseChain(c); err != nil {
						return nil, &FieldError{Field: "chain", Err: err}
					}
				}
				return e.IncidentGraphML(r.Context(), id, string(chain))
			})},
	}
}

// incidentExport is the handler of one export: it checks the id, asks the
// backend for the whole answer (so a failure is still a JSON error) and
// writes it as an attachment named after the incident.
func incidentExport(what, contentType, ext string, get func(IncidentExporter, *http.Request, string) ([]byte, error)) func(*Server, http.ResponseWriter, *http.Request, *reqInfo) (any, error) {
	return func(s *Server, w http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
		e, ok := s.backend.(IncidentExporter)
		if !ok {
			return nil, fmt.Errorf("this server has no incident exports: %w", heistgraph.ErrNotFound)
		}
		id := strings.TrimSpace(r.PathValue("id"))
		if id == "" || len(id) > 200 {
			return nil, fieldErrf("id", "incident id %.40q", id)
		}
		b, err := get(e, r, id)
		if err != nil {
			return nil, err
		}
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Content-Disposition", `attachment; filename="`+fileName(id)+"-"+what+ext+`"`)
		h.Set("X-Content-Type-Options", "nosniff")
		if strings.HasPrefix(contentType, "text/html") {
			h.Set("Content-Security-Policy", ReportCSP)
		}
		w.WriteHeader(http.StatusOK)
		if _, err := w.Write(b); err != nil {
			s.log.Debug("write incident export", "incident", id, "what", what, "err", err)
		}
		return nil, nil
	}
}

// fileName keeps the letters, digits, '-', '_' and '.' of an incident id,
// so it can name a file in a header without quoting.
func fileName(id string) string {
	var b strings.Builder
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}
