package incident

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/heistgraph/heistgraph"
)

// By says which day places an incident in a year.
type By string

// The report keys.
const (
	// ByStolen places an incident in the year of the theft.
	ByStolen By = "stolen"
	// ByAttributed places it in the year its attribution (at the reported
	// tier) was first made public.
	ByAttributed By = "attributed"
)

// Any is the Query.Tier and Query.Actor that keeps everything.
const Any = "any"

// USDFromPrices is the ReportIncident.USDSource of a value computed from
// imported daily prices rather than taken from a source.
const USDFromPrices = "prices"

// Query selects and keys the incidents of a report. The zero Query is the
// default report: every year, by day stolen, every tier, every actor.
type Query struct {
	Year int    // 0: every year
	By   By     // "" means ByStolen
	Tier string // official, industry, suspected; "" or "any" for every tier
	// Actor keeps incidents attributed to this actor ("dprk"); "" or "any"
	// for every actor. Tiers and dates are then those of that actor's
	// attributions.
	Actor string
	// Source keeps the incidents that source cites, whatever their year
	// (unless Year is also set), and values each with the figure that
	// source gives, when it gives one.
	Source string
	// Incident keeps one incident (for a one-incident HTML report).
	Incident string
	// IncludeSuspected keeps the incidents whose status is suspected too;
	// without it they are left out (and listed in Report.SuspectedLeftOut).
	// Tier "suspected" asks for them by name and implies it.
	IncludeSuspected bool
	// IncludePartner keeps partners' incidents (status partner) too;
	// without it they are left out (and listed in Report.PartnerLeftOut).
	IncludePartner bool
	// Visible, when set, keeps only the incidents it accepts (a reader's
	// TLP clearance): the others are left out without a trace, not even
	// in the left-out lists.
	Visible func(heistgraph.Incident) bool
}

// Validate checks q and fills defaults. It returns an error wrapping
// heistgraph.ErrInvalid for a bad by, tier or year.
func (q *Query) Validate() error {
	if q.By == "" {
		q.By = ByStolen
	}
	if q.By != ByStolen && q.By != ByAttributed {
		return fmt.Errorf("report: by %q: want stolen or attributed: %w", q.By, heistgraph.ErrInvalid)
	}
	if q.Tier == "" {
		q.Tier = Any
	}
	if q.Tier != Any {
		if _, err := heistgraph.ParseTier(q.Tier); err != nil {
			return fmt.Errorf("report: tier %q: want official, industry, suspected or any: %w", q.Tier, heistgraph.ErrInvalid)
		}
	}
	if q.Actor == "" {
		q.Actor = Any
	}
	if q.Year < 0 || q.Year > 9999 {
		return fmt.Errorf("report: year %d out of range: %w", q.Year, heistgraph.ErrInvalid)
	}
	return nil
}

// Report is the answer to a Query: the incidents it keeps, their USD total
// and count, the sources' aggregate claims for comparison, and every source
// cited. Its JSON form is the `incidents report --json` contract.
type Report struct {
	Year      *int             `json:"year"` // null: every year
	By        By               `json:"by"`
	Tier      string           `json:"tier"`
	Actor     string           `json:"actor"`
	Source    string           `json:"source,omitempty"`
	TotalUSD  heistgraph.USD   `json:"total_usd"`
	Count     int              `json:"count"`
	Incidents []ReportIncident `json:"incidents"`
	Claims    []Claim          `json:"claims,omitempty"`
	Sources   []ReportSource   `json:"sources"`
	// IncludeSuspected says whether incidents of status suspected are
	// counted; SuspectedLeftOut lists the ids of those the query would
	// otherwise keep, when they are not.
	IncludeSuspected bool     `json:"include_suspected"`
	SuspectedLeftOut []string `json:"suspected_left_out,omitempty"`
	// IncludePartner says whether partners' incidents are counted;
	// PartnerLeftOut lists the ids of those the query would otherwise
	// keep, when they are not.
	IncludePartner bool     `json:"include_partner"`
	PartnerLeftOut []string `json:"partner_left_out,omitempty"`
}

// ReportIncident is one incident in a report with the value the report
// counts and where that value comes from.
type ReportIncident struct {
	ID     string         `json:"id"`
	Name   string         `json:"name"`
	Victim string         `json:"victim"`
	USD    heistgraph.USD `json:"usd"`
	// USDSource is the id of the source whose figure USD is, or "prices"
	// when USD was computed from imported daily prices.
	USDSource string `json:"usd_source"`
	// USDAt is the day the USD value refers to (the theft day, unless the
	// figure says otherwise).
	USDAt string `json:"usd_at"`
	// USDNow values the stolen amounts at the latest imported prices, on
	// USDNowAt (the oldest of those prices' days); absent without prices.
	USDNow       *heistgraph.USD `json:"usd_now,omitempty"`
	USDNowAt     string          `json:"usd_now_at,omitempty"`
	StolenOn     string          `json:"stolen_on"`
	AttributedOn *string         `json:"attributed_on"` // null when no dated attribution
	Tier         heistgraph.Tier `json:"tier"`
	Actor        string          `json:"actor"`
	Groups       []string        `json:"groups"`
	Sources      []string        `json:"sources"` // ids, as cited by the incident
	// Status is attributed, suspected or partner (see Statuses).
	Status string `json:"status"`
	// Figures are every source's USD figure for the incident, side by
	// side; FigureChoice says why the first is the preferred one when
	// they disagree.
	Figures      []ReportFigure `json:"figures"`
	FigureChoice string         `json:"figure_choice,omitempty"`
}

// ReportFigure is one source's USD figure for an incident.
type ReportFigure struct {
	Source string         `json:"source"`
	USD    heistgraph.USD `json:"usd"`
}

// Claim is a source's aggregate claim set beside the register: the total the
// source states, and how much of it the register can name.
type Claim struct {
	Source     string          `json:"source"`
	Tier       heistgraph.Tier `json:"tier"`
	Year       int             `json:"year"`
	USD        heistgraph.USD  `json:"usd"`
	Count      int             `json:"count,omitempty"`
	NamedUSD   heistgraph.USD  `json:"named_usd"`
	NamedCount int             `json:"named_count"`
	Named      []string        `json:"named"`
	// RemainderUSD is USD - NamedUSD: what the source counts beyond the
	// incidents the register names (negative when the source rounds down).
	RemainderUSD   heistgraph.USD `json:"remainder_usd"`
	RemainderCount int            `json:"remainder_count,omitempty"`
	Note           string         `json:"note,omitempty"`
}

// ReportSource is a source record as a report lists it.
type ReportSource struct {
	ID        string          `json:"id"`
	Publisher string          `json:"publisher"`
	Title     string          `json:"title"`
	Date      string          `json:"date,omitempty"`
	Version   string          `json:"version,omitempty"`
	URL       string          `json:"url"`
	Tier      heistgraph.Tier `json:"tier"`
}

// Build answers q over reg. prices may be nil (then every incident carries a
// figure its sources report). It returns an error wrapping
// heistgraph.ErrInvalid for a bad query, and one wrapping
// heistgraph.ErrNotFound for an unknown source, actor or incident id.
//
// Valuation: with q.Source set, an incident is valued at that source's
// figure when the source gives one (so a source's total is reproduced to the
// cent); otherwise at the theft day's imported prices when every stolen asset
// has one; otherwise at its first (preferred) figure.
func Build(reg *Register, q Query, prices Prices) (Report, error) {
	if err := q.Validate(); err != nil {
		return Report{}, err
	}
	if q.Source != "" {
		if _, ok := reg.Source(q.Source); !ok {
			return Report{}, fmt.Errorf("report: source %q: %w", q.Source, heistgraph.ErrNotFound)
		}
	}
	if q.Actor != Any {
		if _, ok := LookupActor(q.Actor); !ok {
			return Report{}, fmt.Errorf("report: actor %q: %w", q.Actor, heistgraph.ErrNotFound)
		}
	}
	if q.Incident != "" {
		if inc, ok := reg.Incident(q.Incident); !ok || (q.Visible != nil && !q.Visible(inc)) {
			return Report{}, fmt.Errorf("report: incident %q: %w", q.Incident, heistgraph.ErrNotFound)
		}
	}
	rep := Report{By: q.By, Tier: q.Tier, Actor: q.Actor, Source: q.Source, Incidents: []ReportIncident{},
		IncludeSuspected: q.suspectedToo(), IncludePartner: q.IncludePartner}
	if q.Year != 0 {
		y := q.Year
		rep.Year = &y
	}
	cited := map[string]bool{}
	for _, inc := range reg.Incidents() {
		if q.Visible != nil && !q.Visible(inc) {
			continue
		}
		ri, ok := row(inc, q, prices)
		if !ok {
			continue
		}
		if ri.Status == StatusSuspected && !rep.IncludeSuspected {
			rep.SuspectedLeftOut = append(rep.SuspectedLeftOut, ri.ID)
			continue
		}
		if ri.Status == StatusPartner && !rep.IncludePartner {
			rep.PartnerLeftOut = append(rep.PartnerLeftOut, ri.ID)
			continue
		}
		rep.Incidents = append(rep.Incidents, ri)
		rep.TotalUSD += ri.USD
		for _, s := range ri.Sources {
			cited[s] = true
		}
	}
	rep.Count = len(rep.Incidents)
	slices.SortStableFunc(rep.Incidents, func(a, b ReportIncident) int {
		return cmp.Or(cmp.Compare(keyDay(a, q.By), keyDay(b, q.By)), cmp.Compare(a.ID, b.ID))
	})

	for _, s := range reg.Sources() {
		if q.Source != "" && s.ID != q.Source {
			continue
		}
		for _, a := range s.Aggregates {
			if q.Year != 0 && a.Year != q.Year {
				continue
			}
			if q.Source == "" && q.Year == 0 {
				continue // claims are shown beside a year's or a source's report
			}
			rep.Claims = append(rep.Claims, claim(reg, s, a, prices))
			cited[s.ID] = true
		}
	}
	for _, s := range reg.Sources() {
		if cited[s.ID] {
			rep.Sources = append(rep.Sources, ReportSource{ID: s.ID, Publisher: s.Publisher, Title: s.Title,
				Date: formatDate(s.Date), Version: s.Version, URL: s.URL, Tier: s.Tier})
		}
	}
	if rep.Sources == nil {
		rep.Sources = []ReportSource{}
	}
	return rep, nil
}

// suspectedToo reports whether q counts suspected incidents.
func (q Query) suspectedToo() bool {
	return q.IncludeSuspected || q.Tier == string(heistgraph.TierSuspected)
}

func keyDay(ri ReportIncident, by By) string {
	if by == ByAttributed && ri.AttributedOn != nil {
		return *ri.AttributedOn
	}
	return ri.StolenOn
}

// row applies q to one incident: whether it is kept, and its report line.
func row(inc heistgraph.Incident, q Query, prices Prices) (ReportIncident, bool) {
	if q.Incident != "" && inc.ID != q.Incident {
		return ReportIncident{}, false
	}
	if q.Source != "" && !inc.Cites(q.Source) {
		return ReportIncident{}, false
	}
	actor := ""
	if q.Actor != Any {
		actor = q.Actor
	}
	tier := inc.BestTier(actor)
	if tier == "" {
		return ReportIncident{}, false // no attribution to this actor
	}
	if q.Tier != Any {
		want := heistgraph.Tier(q.Tier)
		if tier != want {
			return ReportIncident{}, false
		}
	}
	// The attributions the line speaks for: the actor's, at the tier shown.
	var attributedOn time.Time
	var actors, groups []string
	for _, a := range inc.Attributions {
		if (actor != "" && a.Actor != actor) || a.Tier != tier {
			continue
		}
		if !a.On.IsZero() && (attributedOn.IsZero() || a.On.Before(attributedOn)) {
			attributedOn = a.On
		}
		if !slices.Contains(actors, a.Actor) {
			actors = append(actors, a.Actor)
		}
		if a.Group != "" && !slices.Contains(groups, a.Group) {
			groups = append(groups, a.Group)
		}
	}
	if q.Year != 0 {
		switch q.By {
		case ByStolen:
			if inc.StolenOn.Year() != q.Year {
				return ReportIncident{}, false
			}
		case ByAttributed:
			if attributedOn.IsZero() || attributedOn.Year() != q.Year {
				return ReportIncident{}, false
			}
		}
	}
	ri := ReportIncident{ID: inc.ID, Name: inc.Name, Victim: inc.Victim.Name, StolenOn: formatDate(inc.StolenOn),
		Tier: tier, Groups: groups, Sources: inc.SourceIDs(), Status: inc.Status, FigureChoice: inc.FigureChoice,
		Figures: []ReportFigure{}}
	if ri.Status == "" {
		ri.Status = StatusAttributed
	}
	for _, f := range inc.Figures {
		ri.Figures = append(ri.Figures, ReportFigure{Source: f.Source, USD: f.USD})
	}
	if ri.Groups == nil {
		ri.Groups = []string{}
	}
	slices.Sort(actors)
	if len(actors) > 0 {
		ri.Actor = actors[0]
	}
	if !attributedOn.IsZero() {
		s := formatDate(attributedOn)
		ri.AttributedOn = &s
	}
	v := Value(inc, q.Source, prices)
	ri.USD, ri.USDSource, ri.USDAt = v.USD, v.Source, formatDate(v.At)
	if now, at, ok := ValueNow(inc, prices); ok {
		ri.USDNow, ri.USDNowAt = &now, formatDate(at)
	}
	return ri, true
}

// Valuation is an incident's USD value and where it comes from.
type Valuation struct {
	USD    heistgraph.USD
	Source string    // a source id, or USDFromPrices
	At     time.Time // the day the value refers to
}

// Value values inc at the theft day. With source set and a figure from that
// source, the figure wins; otherwise imported prices (prices may be nil),
// when every stolen asset is priced on the theft day; otherwise the
// incident's first figure.
func Value(inc heistgraph.Incident, source string, prices Prices) Valuation {
	if source != "" {
		for _, f := range inc.Figures {
			if f.Source == source {
				return figureValue(inc, f)
			}
		}
	}
	if prices != nil && len(inc.Thefts) > 0 {
		var sum heistgraph.USD
		ok := true
		for _, t := range inc.Thefts {
			p, found := prices.USD(t.Asset, inc.StolenOn)
			if !found {
				ok = false
				break
			}
			sum += p.Value(&t.Amount, t.Decimals)
		}
		if ok {
			return Valuation{USD: sum, Source: USDFromPrices, At: inc.StolenOn}
		}
	}
	if len(inc.Figures) == 0 {
		return Valuation{At: inc.StolenOn}
	}
	return figureValue(inc, inc.Figures[0])
}

func figureValue(inc heistgraph.Incident, f heistgraph.Figure) Valuation {
	at := f.At
	if at.IsZero() {
		at = inc.StolenOn
	}
	return Valuation{USD: f.USD, Source: f.Source, At: at}
}

// ValueNow values the stolen amounts of inc at the latest imported prices.
// It reports false unless every stolen asset has a price. The day returned
// is the oldest of the latest prices used.
func ValueNow(inc heistgraph.Incident, prices Prices) (heistgraph.USD, time.Time, bool) {
	if prices == nil || len(inc.Thefts) == 0 {
		return 0, time.Time{}, false
	}
	var sum heistgraph.USD
	var at time.Time
	for _, t := range inc.Thefts {
		d, p, ok := prices.Latest(t.Asset)
		if !ok {
			return 0, time.Time{}, false
		}
		sum += p.Value(&t.Amount, t.Decimals)
		if at.IsZero() || d.Before(at) {
			at = d
		}
	}
	return sum, at, true
}

// claim sets a source's aggregate beside the register: the named incidents
// are valued with the source's own figures where it gives them.
func claim(reg *Register, s heistgraph.Source, a heistgraph.Aggregate, prices Prices) Claim {
	c := Claim{Source: s.ID, Tier: s.Tier, Year: a.Year, USD: a.USD, Count: a.Count, Note: a.Note, Named: []string{}}
	for _, id := range a.Incidents {
		inc, ok := reg.Incident(id)
		if !ok {
			continue
		}
		c.Named = append(c.Named, id)
		c.NamedUSD += Value(inc, s.ID, prices).USD
	}
	c.NamedCount = len(c.Named)
	c.RemainderUSD = c.USD - c.NamedUSD
	if c.Count > 0 {
		c.RemainderCount = c.Count - c.NamedCount
	}
	return c
}

// YearTotal is the USD total and count of one actor's incidents in one year.
type YearTotal struct {
	Year  int            `json:"year"`
	Actor string         `json:"actor"`
	USD   heistgraph.USD `json:"usd"`
	Count int            `json:"count"`
}

// Totals sums the incidents q keeps for every year (q.Year is ignored) by
// year and actor, ordered by year then actor.
func Totals(reg *Register, q Query, prices Prices) ([]YearTotal, error) {
	q.Year, q.Incident = 0, ""
	rep, err := Build(reg, q, prices)
	if err != nil {
		return nil, err
	}
	idx := map[[2]string]int{}
	var out []YearTotal
	for _, ri := range rep.Incidents {
		day := keyDay(ri, rep.By)
		if rep.By == ByAttributed && ri.AttributedOn == nil {
			continue
		}
		t, err := time.Parse(dateLayout, day)
		if err != nil {
			continue
		}
		k := [2]string{fmt.Sprint(t.Year()), ri.Actor}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, YearTotal{Year: t.Year(), Actor: ri.Actor})
		}
		out[i].USD += ri.USD
		out[i].Count++
	}
	slices.SortFunc(out, func(a, b YearTotal) int { return cmp.Or(cmp.Compare(a.Year, b.Year), cmp.Compare(a.Actor, b.Actor)) })
	return out, nil
}
