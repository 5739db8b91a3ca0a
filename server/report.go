package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/incident"
)

// Reporter answers GET /v1/incidents/report: the same JSON as `incidents
// report --json` for the same query (app.Report). A backend without it
// answers the route 404.
type Reporter interface {
	Report(ctx context.Context, q incident.Query) (any, error)
}

func reportRoutes() []route {
	return append(incidentExportRoutes(), route{method: "GET", path: "/v1/incidents/report", role: RoleViewer,
		summary: "Total, count and breakdown of the thefts a query keeps (incidents report --json)",
		query: []param{{"year", "integer", "keep this year's incidents (0 or absent: every year)"},
			{"by", "string", "which day places an incident in a year: stolen (default) or attributed"},
			{"tier", "string", "official, industry, suspected or any (default)"}, {"actor", "string", "actor (dprk) or any (default)"},
			{"source", "string", "keep the incidents this source names, valued with its figures"},
			{"incident", "string", "keep one incident"},
			{"include_suspected", "boolean", "also count incidents of status suspected"},
			{"include_partner", "boolean", "also count partners' incidents (status partner)"}},
		resp: schema{"type": "object"}, h: getReport})
}

func getReport(s *Server, _ http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
	rep, ok := s.backend.(Reporter)
	if !ok {
		return nil, fmt.Errorf("this server has no incident reports: %w", heistgraph.ErrNotFound)
	}
	q := r.URL.Query()
	iq := incident.Query{By: incident.By(strings.TrimSpace(q.Get("by"))), Tier: strings.TrimSpace(q.Get("tier")),
		Actor: strings.TrimSpace(q.Get("actor")), Source: strings.TrimSpace(q.Get("source")), Incident: strings.TrimSpace(q.Get("incident"))}
	if iq.By == "" {
		iq.By = incident.ByStolen
	}
	if iq.Tier == "" {
		iq.Tier = incident.Any
	}
	if iq.Actor == "" {
		iq.Actor = incident.Any
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"include_suspected", &iq.IncludeSuspected}, {"include_partner", &iq.IncludePartner}} {
		if v := q.Get(b.name); v != "" {
			on, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fieldErrf(b.name, "%.20q: want true or false", v)
			}
			*b.dst = on
		}
	}
	if y := q.Get("year"); y != "" {
		n, err := strconv.Atoi(y)
		if err != nil {
			return nil, fieldErrf("year", "%.20q is not a year", y)
		}
		iq.Year = n
	}
	if err := iq.Validate(); err != nil {
		return nil, err
	}
	return rep.Report(r.Context(), iq)
}
