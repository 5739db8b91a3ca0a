package app

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/incident"
	"github.com/heistgraph/heistgraph/incidents"
	"github.com/heistgraph/heistgraph/store"
)

// Register returns the shipped register merged with the incidents imported
// into st, and the prices st holds for them.
func Register(ctx context.Context, st store.Store) (*incident.Register, *incident.PriceTable, error) {
	reg, err := incident.LoadWith(ctx, incidents.FS, st)
	if err != nil {
		return nil, nil, fmt.Errorf("incident register: %w", err)
	}
	prices, err := incident.PricesFrom(ctx, st, reg.Incidents())
	if err != nil {
		return nil, nil, fmt.Errorf("prices: %w", err)
	}
	return reg, prices, nil
}

// SavePartner stores a partner's incidents beside the shipped register
// (incident.SavePartner).
func SavePartner(ctx context.Context, st store.Incidents, b incident.PartnerBatch) (incident.PartnerSaved, error) {
	return incident.SavePartner(ctx, incidents.FS, st, b)
}

// IncidentItem is one line of `incidents list --json`.
type IncidentItem struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Victim     string          `json:"victim"`
	VictimType string          `json:"victim_type"`
	StolenOn   string          `json:"stolen_on"`
	Chains     []string        `json:"chains"`
	Tier       heistgraph.Tier `json:"tier"`
	Actors     []string        `json:"actors"`
	USD        heistgraph.USD  `json:"usd"`
	USDSource  string          `json:"usd_source"`
	USDAt      string          `json:"usd_at"`
	Origin     string          `json:"origin"` // shipped, imported or partner
	Status     string          `json:"status"` // attributed, suspected or partner
	// Partner is a partner's incident's provenance (origin partner).
	Partner *PartnerView `json:"partner,omitempty"`
}

// PartnerView is where a partner's incident came from: its STIX id and
// version, the feed or file, the partner's actors.
type PartnerView struct {
	STIXID   string   `json:"stix_id"`
	Modified string   `json:"modified"`
	Source   string   `json:"source"`
	Actors   []string `json:"actors"`
}

func partnerView(inc heistgraph.Incident) *PartnerView {
	if inc.Partner == nil {
		return nil
	}
	p := inc.Partner
	v := &PartnerView{STIXID: p.STIXID, Modified: p.Modified.UTC().Format(time.RFC3339Nano), Source: p.Source, Actors: slices.Clone(p.Actors)}
	if v.Actors == nil {
		v.Actors = []string{}
	}
	return v
}

// originOfIncident is an incident's origin: shipped, imported or partner.
func originOfIncident(reg *incident.Register, inc heistgraph.Incident) string {
	if inc.Partner != nil {
		return "partner"
	}
	return originOf(reg.Imported(inc.ID))
}

// IncidentsView is what `incidents list --json` prints: every incident of
// the register, oldest theft first.
type IncidentsView struct {
	Count     int            `json:"count"`
	Incidents []IncidentItem `json:"incidents"`
}

// IncidentsRequest asks for the whole register (it has no filters yet).
type IncidentsRequest struct{}

// Incidents lists the register, each incident valued at its theft day.
func Incidents(ctx context.Context, st store.Store, _ IncidentsRequest) (IncidentsView, error) {
	reg, prices, err := Register(ctx, st)
	if err != nil {
		return IncidentsView{}, err
	}
	out := IncidentsView{Incidents: []IncidentItem{}}
	for _, inc := range reg.Incidents() {
		v := incident.Value(inc, "", prices)
		it := IncidentItem{ID: inc.ID, Name: inc.Name, Victim: inc.Victim.Name, VictimType: string(inc.Victim.Type),
			StolenOn: Day(inc.StolenOn), Chains: incidentChains(inc), Tier: inc.BestTier(""), Actors: []string{},
			USD: v.USD, USDSource: v.Source, USDAt: Day(v.At), Origin: originOfIncident(reg, inc), Status: inc.Status,
			Partner: partnerView(inc)}
		for _, at := range inc.Attributions {
			if !slices.Contains(it.Actors, at.Actor) {
				it.Actors = append(it.Actors, at.Actor)
			}
		}
		out.Incidents = append(out.Incidents, it)
	}
	out.Count = len(out.Incidents)
	return out, nil
}

func originOf(imported bool) string {
	if imported {
		return "imported"
	}
	return "shipped"
}

func incidentChains(inc heistgraph.Incident) []string {
	out := []string{}
	add := func(c heistgraph.Chain) {
		if c != "" && !slices.Contains(out, string(c)) {
			out = append(out, string(c))
		}
	}
	for _, t := range inc.Thefts {
		add(t.Chain)
	}
	for _, t := range inc.Txs {
		add(t.Chain)
	}
	for _, ad := range inc.Addresses {
		add(ad.Chain)
	}
	return out
}

// Day formats a UTC day (YYYY-MM-DD); "" for the zero time.
func Day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

// IncidentView is what `incidents show --json` prints: the incident in
// the register's field names, its valuation, the source records it cites
// and the trace of its theft.
type IncidentView struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	Origin       string            `json:"origin"`
	Victim       VictimView        `json:"victim"`
	StolenOn     string            `json:"stolen_on"`
	Vectors      []string          `json:"vectors"`
	USD          heistgraph.USD    `json:"usd"`
	USDSource    string            `json:"usd_source"`
	USDAt        string            `json:"usd_at"`
	USDNow       *heistgraph.USD   `json:"usd_now,omitempty"`
	USDNowAt     string            `json:"usd_now_at,omitempty"`
	Thefts       []TheftView       `json:"thefts"`
	Figures      []FigureView      `json:"figures"`
	Attributions []AttributionView `json:"attributions"`
	Addresses    []IncAddressView  `json:"addresses"`
	Txs          []IncTxView       `json:"txs"`
	TLP          string            `json:"tlp"`
	Notes        string            `json:"notes,omitempty"`
	Sources      []SourceView      `json:"sources"`
	Trace        IncidentTraceView `json:"trace"`
	// Status is attributed or suspected; FigureChoice says why the first
	// figure is preferred when the sources disagree.
	Status       string `json:"status"`
	FigureChoice string `json:"figure_choice,omitempty"`
	// Partner is a partner's incident's provenance (status partner).
	Partner *PartnerView `json:"partner,omitempty"`
}

// VictimView is an incident's victim.
type VictimView struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Country string `json:"country,omitempty"`
}

// TheftView is what was taken on one chain, in base units of the asset.
type TheftView struct {
	Chain    heistgraph.Chain `json:"chain"`
	Asset    string           `json:"asset"`
	Contract string           `json:"contract,omitempty"`
	Decimals uint8            `json:"decimals"`
	Amount   string           `json:"amount"`
	Source   string           `json:"source"`
}

// FigureView is a USD figure a source reports for an incident.
type FigureView struct {
	Source string         `json:"source"`
	USD    heistgraph.USD `json:"usd"`
	At     string         `json:"at"`
	Note   string         `json:"note,omitempty"`
}

// AttributionView is one attribution of an incident to an actor.
type AttributionView struct {
	Actor   string          `json:"actor"`
	Group   string          `json:"group,omitempty"`
	Tier    heistgraph.Tier `json:"tier"`
	On      *string         `json:"on"`
	Sources []string        `json:"sources"`
	Note    string          `json:"note,omitempty"`
}

// IncAddressView is an address an incident names (attacker, laundering,
// ...).
type IncAddressView struct {
	Chain   heistgraph.Chain       `json:"chain"`
	Address string                 `json:"address"`
	Role    heistgraph.AddressRole `json:"role"`
	Source  string                 `json:"source"`
}

// IncTxView is a transaction an incident names, and whether the store
// holds it.
type IncTxView struct {
	Chain   heistgraph.Chain  `json:"chain"`
	TxID    string            `json:"txid"`
	Role    heistgraph.TxRole `json:"role"`
	Source  string            `json:"source"`
	InStore bool              `json:"in_store"`
}

// SourceView is a source record an incident cites, as a report lists it,
// and whether the register shipped it or an import brought it.
type SourceView struct {
	incident.ReportSource
	Origin string `json:"origin"`
}

// IncidentRequest asks for one incident of the register by id.
type IncidentRequest struct {
	ID string
}

// Incident returns one incident with its valuation, sources and the trace
// of its theft transactions (IncidentTrace). An empty id wraps
// heistgraph.ErrInvalid; an id not in the register heistgraph.ErrNotFound.
func Incident(ctx context.Context, st store.Store, req IncidentRequest) (IncidentView, error) {
	if req.ID == "" {
		return IncidentView{}, fmt.Errorf("incidents show: empty id: %w", heistgraph.ErrInvalid)
	}
	reg, prices, err := Register(ctx, st)
	if err != nil {
		return IncidentView{}, err
	}
	inc, ok := reg.Incident(req.ID)
	if !ok {
		return IncidentView{}, fmt.Errorf("incident %q: %w", req.ID, heistgraph.ErrNotFound)
	}
	tr, err := IncidentTrace(ctx, st, inc)
	if err != nil {
		return IncidentView{}, err
	}
	return incidentOf(reg, inc, prices, tr), nil
}

func incidentOf(reg *incident.Register, inc heistgraph.Incident, prices incident.Prices, tr IncidentTraceView) IncidentView {
	v := incident.Value(inc, "", prices)
	out := IncidentView{ID: inc.ID, Name: inc.Name, Origin: originOfIncident(reg, inc), Partner: partnerView(inc),
		Victim:   VictimView{Name: inc.Victim.Name, Type: string(inc.Victim.Type), Country: inc.Victim.Country},
		StolenOn: Day(inc.StolenOn), Vectors: []string{}, USD: v.USD, USDSource: v.Source, USDAt: Day(v.At),
		Thefts: []TheftView{}, Figures: []FigureView{}, Attributions: []AttributionView{}, Addresses: []IncAddressView{},
		Txs: []IncTxView{}, TLP: inc.TLP, Notes: inc.Notes, Sources: []SourceView{}, Trace: tr,
		Status: inc.Status, FigureChoice: inc.FigureChoice}
	if now, at, ok := incident.ValueNow(inc, prices); ok {
		out.USDNow, out.USDNowAt = &now, Day(at)
	}
	for _, vec := range inc.Vectors {
		out.Vectors = append(out.Vectors, string(vec))
	}
	for _, t := range inc.Thefts {
		out.Thefts = append(out.Thefts, TheftView{Chain: t.Chain, Asset: t.Asset, Contract: t.Contract, Decimals: t.Decimals,
			Amount: t.Amount.Dec(), Source: t.Source})
	}
	for _, f := range inc.Figures {
		at := f.At
		if at.IsZero() {
			at = inc.StolenOn
		}
		out.Figures = append(out.Figures, FigureView{Source: f.Source, USD: f.USD, At: Day(at), Note: f.Note})
	}
	for _, at := range inc.Attributions {
		aj := AttributionView{Actor: at.Actor, Group: at.Group, Tier: at.Tier, Sources: append([]string{}, at.Sources...), Note: at.Note}
		if !at.On.IsZero() {
			s := Day(at.On)
			aj.On = &s
		}
		out.Attributions = append(out.Attributions, aj)
	}
	for _, ad := range inc.Addresses {
		out.Addresses = append(out.Addresses, IncAddressView{Chain: ad.Chain, Address: ad.Address, Role: ad.Role, Source: ad.Source})
	}
	for _, t := range inc.Txs {
		out.Txs = append(out.Txs, IncTxView{Chain: t.Chain, TxID: t.TxID, Role: t.Role, Source: t.Source,
			InStore: slices.Contains(tr.TxsInStore, t.TxID)})
	}
	for _, id := range inc.SourceIDs() {
		s, ok := reg.Source(id)
		if !ok {
			continue
		}
		out.Sources = append(out.Sources, SourceView{ReportSource: incident.ReportSource{ID: s.ID, Publisher: s.Publisher, Title: s.Title,
			Date: Day(s.Date), Version: s.Version, URL: s.URL, Tier: s.Tier}, Origin: originOf(reg.ImportedSource(s.ID))})
	}
	return out
}

// ReportRequest is a query of the register (incident.Query, validated by
// the caller or here) and, with HTML, a request for the HTML page too.
type ReportRequest struct {
	Query incident.Query
	HTML  bool
}

// ReportView is what `incidents report` answers: the report (its JSON is
// incident.Report's) and, when asked, the HTML page (not in the JSON).
type ReportView struct {
	incident.Report
	Page *incident.Page `json:"-"`
}

// Report sums the incidents a query keeps (incident.Build). With HTML it
// also builds the page, with the incident's trace for a one-incident
// query. A bad query wraps heistgraph.ErrInvalid.
func Report(ctx context.Context, st store.Store, req ReportRequest) (ReportView, error) {
	q := req.Query
	if err := q.Validate(); err != nil {
		return ReportView{}, err
	}
	reg, prices, err := Register(ctx, st)
	if err != nil {
		return ReportView{}, err
	}
	rep, err := incident.Build(reg, q, prices)
	if err != nil {
		return ReportView{}, err
	}
	v := ReportView{Report: rep}
	if req.HTML {
		var tr *incident.TraceSummary
		if q.Incident != "" {
			inc, _ := reg.Incident(q.Incident)
			t, err := IncidentTrace(ctx, st, inc)
			if err != nil {
				return ReportView{}, err
			}
			tr = t.Summary(inc)
		}
		page, err := incident.NewPage(reg, q, prices, tr)
		if err != nil {
			return ReportView{}, err
		}
		v.Page = &page
	}
	return v, nil
}

// STIXRequest asks for a STIX 2.1 bundle of one incident (Incident) or of
// every incident stolen in a year (Year): exactly one of them.
type STIXRequest struct {
	Incident string
	Year     int
}

// STIXBundle is a STIX 2.1 bundle (incident.Export) and the ids of the
// incidents in it.
type STIXBundle struct {
	Bundle    []byte
	Incidents []string
}

// STIX exports the incidents req names from the register merged with the
// store's imports. A request naming both or neither, or a year out of
// range, wraps heistgraph.ErrInvalid; an unknown incident, or a year without
// thefts, heistgraph.ErrNotFound. The same register gives the same bytes.
func STIX(ctx context.Context, st store.Store, req STIXRequest) (STIXBundle, error) {
	id, year := req.Incident, req.Year
	if (id == "") == (year == 0) {
		return STIXBundle{}, fmt.Errorf("export stix: give exactly one of --incident ID and --year Y: %w", heistgraph.ErrInvalid)
	}
	if year < 0 || year > 9999 {
		return STIXBundle{}, fmt.Errorf("export stix: --year %d out of range: %w", year, heistgraph.ErrInvalid)
	}
	reg, _, err := Register(ctx, st)
	if err != nil {
		return STIXBundle{}, err
	}
	var incs []heistgraph.Incident
	name := ""
	if id != "" {
		inc, ok := reg.Incident(id)
		if !ok {
			return STIXBundle{}, fmt.Errorf("export stix: incident %q: %w", id, heistgraph.ErrNotFound)
		}
		if inc.Partner != nil {
			return STIXBundle{}, fmt.Errorf("export stix: incident %q is a partner's (%s, STIX %s): heistgraph does not republish partners' incidents: %w",
				id, inc.Partner.Source, inc.Partner.STIXID, heistgraph.ErrInvalid)
		}
		incs, name = append(incs, inc), "heistgraph incident "+inc.ID+": "+inc.Name
	} else {
		for _, inc := range reg.Incidents() {
			if inc.StolenOn.Year() == year && inc.Partner == nil { // partners' incidents are not republished
				incs = append(incs, inc)
			}
		}
		if len(incs) == 0 {
			return STIXBundle{}, fmt.Errorf("export stix: no incident stolen in %d: %w", year, heistgraph.ErrNotFound)
		}
		name = fmt.Sprintf("heistgraph incident register: thefts of %d", year)
	}
	b, err := incident.Export(incs, reg.Sources(), incident.ExportOptions{Name: name})
	if err != nil {
		return STIXBundle{}, err
	}
	out := STIXBundle{Bundle: b, Incidents: []string{}}
	for _, inc := range incs {
		out.Incidents = append(out.Incidents, inc.ID)
	}
	return out, nil
}
