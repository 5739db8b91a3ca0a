package incident

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/heistgraph/heistgraph"
)

// The file form of the register: what incident and source YAML files hold.
// The same structs, with their JSON names, carry the register's fields in
// STIX custom properties, so an export and an import share one schema and
// one checker.

type fileSources struct {
	Sources []fileSource `yaml:"sources"`
}

type fileSource struct {
	ID         string          `yaml:"id" json:"id"`
	Publisher  string          `yaml:"publisher" json:"publisher"`
	Title      string          `yaml:"title" json:"title"`
	Date       string          `yaml:"date,omitempty" json:"date,omitempty"`
	Version    string          `yaml:"version,omitempty" json:"version,omitempty"`
	URL        string          `yaml:"url" json:"url"`
	Tier       string          `yaml:"tier" json:"tier"`
	Aggregates []fileAggregate `yaml:"aggregates,omitempty" json:"aggregates,omitempty"`
	Note       string          `yaml:"note,omitempty" json:"note,omitempty"`
}

type fileAggregate struct {
	Year      int      `yaml:"year" json:"year"`
	USD       string   `yaml:"usd" json:"usd"`
	Count     int      `yaml:"count,omitempty" json:"count,omitempty"`
	Incidents []string `yaml:"incidents,omitempty" json:"incidents,omitempty"`
	Note      string   `yaml:"note,omitempty" json:"note,omitempty"`
}

type fileIncident struct {
	ID           string            `yaml:"id" json:"id"`
	Name         string            `yaml:"name" json:"name"`
	Victim       fileVictim        `yaml:"victim" json:"victim"`
	StolenOn     string            `yaml:"stolen_on" json:"stolen_on"`
	Vectors      []string          `yaml:"vectors" json:"vectors"`
	Thefts       []fileTheft       `yaml:"thefts,omitempty" json:"thefts,omitempty"`
	Figures      []fileFigure      `yaml:"figures" json:"figures"`
	Addresses    []fileAddress     `yaml:"addresses,omitempty" json:"addresses,omitempty"`
	Txs          []fileTx          `yaml:"txs,omitempty" json:"txs,omitempty"`
	Attributions []fileAttribution `yaml:"attributions" json:"attributions"`
	TLP          string            `yaml:"tlp,omitempty" json:"tlp,omitempty"`
	Notes        string            `yaml:"notes,omitempty" json:"notes,omitempty"`
	// Status is attributed or suspected (Statuses); omitted, it follows the
	// attributions: attributed when one reaches the industry tier.
	Status string `yaml:"status,omitempty" json:"status,omitempty"`
	// FigureChoice says why the first figure is preferred when the
	// figures disagree.
	FigureChoice string `yaml:"figure_choice,omitempty" json:"figure_choice,omitempty"`
	// Partner carries a partner incident's provenance through the checks
	// (never in a file or a STIX custom property).
	Partner *heistgraph.PartnerIncident `yaml:"-" json:"-"`
}

type fileVictim struct {
	Name    string `yaml:"name" json:"name"`
	Type    string `yaml:"type" json:"type"`
	Country string `yaml:"country,omitempty" json:"country,omitempty"`
}

type fileTheft struct {
	Chain    string `yaml:"chain" json:"chain"`
	Asset    string `yaml:"asset" json:"asset"`
	Contract string `yaml:"contract,omitempty" json:"contract,omitempty"`
	Decimals *int   `yaml:"decimals" json:"decimals"`
	Amount   string `yaml:"amount" json:"amount"`
	Source   string `yaml:"source" json:"source"`
}

type fileFigure struct {
	Source string `yaml:"source" json:"source"`
	USD    string `yaml:"usd" json:"usd"`
	At     string `yaml:"at,omitempty" json:"at,omitempty"`
	Note   string `yaml:"note,omitempty" json:"note,omitempty"`
}

type fileAddress struct {
	Chain   string `yaml:"chain" json:"chain"`
	Address string `yaml:"address" json:"address"`
	Role    string `yaml:"role" json:"role"`
	Source  string `yaml:"source" json:"source"`
}

type fileTx struct {
	Chain  string `yaml:"chain" json:"chain"`
	TxID   string `yaml:"txid" json:"txid"`
	Role   string `yaml:"role" json:"role"`
	Source string `yaml:"source" json:"source"`
}

type fileAttribution struct {
	Actor   string   `yaml:"actor" json:"actor"`
	Group   string   `yaml:"group,omitempty" json:"group,omitempty"`
	Tier    string   `yaml:"tier" json:"tier"`
	On      string   `yaml:"on,omitempty" json:"on,omitempty"`
	Sources []string `yaml:"sources" json:"sources"`
	Note    string   `yaml:"note,omitempty" json:"note,omitempty"`
}

// The incident statuses: the register's judgment of an attribution.
const (
	// StatusAttributed incidents are counted in report totals: an
	// official or industry source attributes them.
	StatusAttributed = "attributed"
	// StatusSuspected incidents are left out of report totals unless the
	// query asks for them (Query.IncludeSuspected): only a victim's,
	// a journalist's or an official's suspicion names the actor, or the
	// register judges the attribution contested (the notes say why).
	StatusSuspected = "suspected"
	// StatusPartner incidents are a partner's, read from its STIX bundle
	// or TAXII feed (heistgraph.Incident.Partner says whose): the register
	// lists and shows them, and report totals leave them out unless the
	// query asks for them (Query.IncludePartner). They need no USD figure
	// and no attribution.
	StatusPartner = "partner"
)

// Statuses lists the incident statuses.
func Statuses() []string { return []string{StatusAttributed, StatusSuspected, StatusPartner} }

// PartnerSourcePrefix starts the id of a partner's source record (one per
// feed or bundle file); such a record may have no URL (a file has none).
const PartnerSourcePrefix = "partner-"

// dateLayout is how files write days.
const dateLayout = "2006-01-02"

func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(dateLayout)
}

var (
	idRE      = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	assetRE   = regexp.MustCompile(`^[A-Z0-9][A-Z0-9.]{0,19}$`)
	countryRE = regexp.MustCompile(`^[A-Z]{2}$`)
	evmAddrRE = regexp.MustCompile(`^0x[0-9a-fA-F]{40}$`)
	evmTxRE   = regexp.MustCompile(`^0x[0-9a-fA-F]{64}$`)
	hexTxRE   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	base58RE  = regexp.MustCompile(`^[1-9A-HJ-NP-Za-km-z]+$`)
)

// checker turns file-form values into domain values and records every
// problem as a ValidationError naming the file and the field.
type checker struct {
	file    string
	sources map[string]heistgraph.Source // known sources, for references
	errs    []error
}

func (c *checker) fail(field string, format string, args ...any) {
	c.errs = append(c.errs, &ValidationError{File: c.file, Field: field,
		Err: fmt.Errorf(format+": %w", append(args, heistgraph.ErrInvalid)...)})
}

func (c *checker) required(field, v string) bool {
	if strings.TrimSpace(v) == "" {
		c.fail(field, "required")
		return false
	}
	return true
}

func (c *checker) id(field, v string) {
	if c.required(field, v) && !idRE.MatchString(v) {
		c.fail(field, "id %q: want lower-case letters and digits joined by '-'", v)
	}
}

func (c *checker) date(field, v string, need bool) time.Time {
	if v == "" {
		if need {
			c.fail(field, "required")
		}
		return time.Time{}
	}
	t, err := time.Parse(dateLayout, v)
	if err != nil {
		c.fail(field, "date %q: want YYYY-MM-DD", v)
		return time.Time{}
	}
	return t
}

func (c *checker) source(field, id string) string {
	if !c.required(field, id) {
		return ""
	}
	if _, ok := c.sources[id]; !ok {
		c.fail(field, "unknown source %q (not in sources.yaml)", id)
	}
	return id
}

func (c *checker) chain(field, v string) heistgraph.Chain {
	if !c.required(field, v) {
		return ""
	}
	ch, err := heistgraph.ParseChain(v)
	if err != nil {
		c.fail(field, "unknown chain %q", v)
		return ""
	}
	if string(ch) != v {
		c.fail(field, "chain %q: write it as %q", v, ch)
	}
	return ch
}

// chainKind groups chains by address and transaction syntax.
func chainKind(ch heistgraph.Chain) string {
	switch {
	case ch.IsUTXO():
		return "btc"
	case ch == "tron", ch == "solana":
		return string(ch)
	}
	return "evm"
}

// address checks v as an address of chain ch: Bitcoin and Tron addresses
// by their base58check or bech32 checksum (heistgraph.NormalizeAddress),
// EVM addresses as 0x and 40 hex digits, either all lower case or in EIP-55
// mixed case with a valid checksum (a mixed-case address whose checksum
// fails was mistyped somewhere), Solana addresses by their alphabet and
// length.
func (c *checker) address(field string, ch heistgraph.Chain, v string) {
	if !c.required(field, v) || ch == "" {
		return
	}
	ok := false
	why := ""
	switch chainKind(ch) {
	case "btc", "tron":
		_, err := heistgraph.NormalizeAddress(ch, v)
		ok = err == nil
		if err != nil {
			why = ": bad checksum or form"
		}
	case "solana":
		ok = base58RE.MatchString(v) && len(v) >= 32 && len(v) <= 44
	default:
		ok = evmAddrRE.MatchString(v)
		if ok && v != strings.ToLower(v) && v != heistgraph.DisplayAddress(ch, strings.ToLower(v)) {
			ok, why = false, fmt.Sprintf(": mixed case fails the EIP-55 checksum (want %s)", heistgraph.DisplayAddress(ch, strings.ToLower(v)))
		}
	}
	if !ok {
		c.fail(field, "%q is not a %s address%s", v, ch, why)
	}
}

func (c *checker) txid(field string, ch heistgraph.Chain, v string) {
	if !c.required(field, v) || ch == "" {
		return
	}
	ok := false
	switch chainKind(ch) {
	case "btc", "tron":
		ok = hexTxRE.MatchString(v)
	case "solana":
		ok = base58RE.MatchString(v) && len(v) >= 64 && len(v) <= 88
	default:
		ok = evmTxRE.MatchString(v)
	}
	if !ok {
		c.fail(field, "%q is not a %s transaction id", v, ch)
	}
}

// sourceRecord checks one source record. Aggregate incident ids are checked
// by the caller once every incident is known.
func (c *checker) sourceRecord(f fileSource) heistgraph.Source {
	c.id("id", f.ID)
	c.required("publisher", f.Publisher)
	c.required("title", f.Title)
	if !strings.HasPrefix(f.ID, PartnerSourcePrefix) {
		c.required("url", f.URL)
	}
	if f.URL != "" && !strings.HasPrefix(f.URL, "https://") && !strings.HasPrefix(f.URL, "http://") {
		c.fail("url", "%q: want an http(s) URL", f.URL)
	}
	s := heistgraph.Source{ID: f.ID, Publisher: f.Publisher, Title: f.Title, Version: f.Version, URL: f.URL, Note: f.Note}
	if c.required("tier", f.Tier) {
		t, err := heistgraph.ParseTier(f.Tier)
		if err != nil {
			c.fail("tier", "unknown tier %q (want official, industry or suspected)", f.Tier)
		}
		s.Tier = t
	}
	s.Date = c.date("date", f.Date, false)
	if f.Date == "" && f.Version == "" {
		c.fail("date", "required (or a version for a living document)")
	}
	if s.Tier == heistgraph.TierOfficial && f.Date == "" {
		c.fail("date", "required for an official source")
	}
	for i, a := range f.Aggregates {
		p := fmt.Sprintf("aggregates[%d]", i)
		if a.Year < 1970 || a.Year > 9999 {
			c.fail(p+".year", "year %d out of range", a.Year)
		}
		var usd heistgraph.USD
		if c.required(p+".usd", a.USD) {
			v, err := heistgraph.ParseUSD(a.USD)
			if err != nil {
				c.fail(p+".usd", "%q: want dollars with at most two decimals", a.USD)
			}
			usd = v
		}
		if a.Count < 0 {
			c.fail(p+".count", "negative count %d", a.Count)
		}
		seen := map[string]bool{}
		for j, id := range a.Incidents {
			if !idRE.MatchString(id) || seen[id] {
				c.fail(fmt.Sprintf("%s.incidents[%d]", p, j), "bad or repeated incident id %q", id)
			}
			seen[id] = true
		}
		s.Aggregates = append(s.Aggregates, heistgraph.Aggregate{Year: a.Year, USD: usd, Count: a.Count,
			Incidents: append([]string(nil), a.Incidents...), Note: a.Note})
	}
	return s
}

// incident checks one incident file and returns its domain value.
func (c *checker) incident(f fileIncident) heistgraph.Incident {
	inc := heistgraph.Incident{ID: f.ID, Name: f.Name, Notes: f.Notes}
	c.id("id", f.ID)
	c.required("name", f.Name)

	c.required("victim.name", f.Victim.Name)
	inc.Victim.Name = f.Victim.Name
	if c.required("victim.type", f.Victim.Type) {
		if !contains(heistgraph.VictimTypes(), heistgraph.VictimType(f.Victim.Type)) {
			c.fail("victim.type", "unknown victim type %q (want one of %v)", f.Victim.Type, heistgraph.VictimTypes())
		}
		inc.Victim.Type = heistgraph.VictimType(f.Victim.Type)
	}
	if f.Victim.Country != "" && !countryRE.MatchString(f.Victim.Country) {
		c.fail("victim.country", "%q: want an ISO 3166 alpha-2 code such as JP", f.Victim.Country)
	}
	inc.Victim.Country = f.Victim.Country
	inc.StolenOn = c.date("stolen_on", f.StolenOn, true)

	if len(f.Vectors) == 0 {
		c.fail("vectors", "required (use [unknown] when no source says)")
	}
	for i, v := range f.Vectors {
		av := heistgraph.AttackVector(v)
		if !contains(heistgraph.AttackVectors(), av) || contains(inc.Vectors, av) {
			c.fail(fmt.Sprintf("vectors[%d]", i), "unknown or repeated attack vector %q (want one of %v)", v, heistgraph.AttackVectors())
		}
		inc.Vectors = append(inc.Vectors, av)
	}

	for i, t := range f.Thefts {
		inc.Thefts = append(inc.Thefts, c.theft(fmt.Sprintf("thefts[%d]", i), t))
	}

	partner := f.Status == StatusPartner
	switch {
	case partner && f.Partner == nil:
		c.fail("status", "partner is for a partner's incident (read from STIX): write attributed or suspected")
	case !partner && f.Partner != nil:
		c.fail("status", "a partner's incident has status partner, not %q", f.Status)
	case partner && (f.Partner.STIXID == "" || f.Partner.Source == ""):
		c.fail("partner", "a partner's incident needs its STIX id and source")
	}
	if f.Partner != nil {
		p := *f.Partner
		p.Actors = slices.Clone(p.Actors)
		inc.Partner = &p
	}
	if len(f.Figures) == 0 && !partner {
		c.fail("figures", "required: at least one USD figure with its source")
	}
	for i, fg := range f.Figures {
		p := fmt.Sprintf("figures[%d]", i)
		g := heistgraph.Figure{Source: c.source(p+".source", fg.Source), Note: fg.Note}
		if c.required(p+".usd", fg.USD) {
			v, err := heistgraph.ParseUSD(fg.USD)
			if err != nil {
				c.fail(p+".usd", "%q: want dollars with at most two decimals", fg.USD)
			}
			g.USD = v
		}
		g.At = c.date(p+".at", fg.At, false)
		inc.Figures = append(inc.Figures, g)
	}

	seenAddr := map[string]bool{}
	for i, a := range f.Addresses {
		p := fmt.Sprintf("addresses[%d]", i)
		ch := c.chain(p+".chain", a.Chain)
		c.address(p+".address", ch, a.Address)
		key := string(ch) + ":" + strings.ToLower(a.Address)
		if seenAddr[key] {
			c.fail(p+".address", "%s %s listed twice", ch, a.Address)
		}
		seenAddr[key] = true
		r := heistgraph.AddressRole(a.Role)
		if !contains(heistgraph.AddressRoles(), r) {
			c.fail(p+".role", "unknown address role %q (want one of %v)", a.Role, heistgraph.AddressRoles())
		}
		inc.Addresses = append(inc.Addresses, heistgraph.IncidentAddress{Chain: ch, Address: a.Address, Role: r,
			Source: c.source(p+".source", a.Source)})
	}

	seenTx := map[string]bool{}
	for i, t := range f.Txs {
		p := fmt.Sprintf("txs[%d]", i)
		ch := c.chain(p+".chain", t.Chain)
		c.txid(p+".txid", ch, t.TxID)
		key := string(ch) + ":" + strings.ToLower(t.TxID)
		if seenTx[key] {
			c.fail(p+".txid", "%s %s listed twice", ch, t.TxID)
		}
		seenTx[key] = true
		r := heistgraph.TxRole(t.Role)
		if !contains(heistgraph.TxRoles(), r) {
			c.fail(p+".role", "unknown transaction role %q (want one of %v)", t.Role, heistgraph.TxRoles())
		}
		inc.Txs = append(inc.Txs, heistgraph.IncidentTx{Chain: ch, TxID: t.TxID, Role: r,
			Source: c.source(p+".source", t.Source)})
	}

	if len(f.Attributions) == 0 && !partner {
		c.fail("attributions", "required: at least one attribution")
	}
	for i, a := range f.Attributions {
		inc.Attributions = append(inc.Attributions, c.attribution(fmt.Sprintf("attributions[%d]", i), a))
	}

	inc.TLP = f.TLP
	if inc.TLP == "" {
		inc.TLP = "clear"
	}
	if !contains(heistgraph.TLPs(), inc.TLP) {
		c.fail("tlp", "unknown TLP %q (want one of %v)", f.TLP, heistgraph.TLPs())
	}
	inc.Status = c.status(f.Status, inc.BestTier(""))
	inc.FigureChoice = f.FigureChoice
	canonical(&inc)
	return inc
}

// status checks an incident's status against its best attribution tier:
// attributed needs an attribution of the industry tier or above; omitted,
// the status follows from the tier.
func (c *checker) status(v string, best heistgraph.Tier) string {
	reaches := best.Rank() >= heistgraph.TierIndustry.Rank()
	switch v {
	case "":
		if reaches || best == "" {
			return StatusAttributed
		}
		return StatusSuspected
	case StatusAttributed:
		if best != "" && !reaches {
			c.fail("status", "attributed needs an attribution of industry or official tier (the best is %s): write suspected", best)
		}
	case StatusSuspected, StatusPartner:
	default:
		c.fail("status", "unknown status %q (want one of %v)", v, Statuses())
	}
	return v
}

func (c *checker) theft(p string, t fileTheft) heistgraph.Theft {
	th := heistgraph.Theft{Chain: c.chain(p+".chain", t.Chain), Asset: t.Asset, Contract: t.Contract}
	if c.required(p+".asset", t.Asset) && !assetRE.MatchString(t.Asset) {
		c.fail(p+".asset", "%q: want an upper-case symbol such as BTC", t.Asset)
	}
	if t.Contract != "" {
		if chainKind(th.Chain) != "evm" {
			c.fail(p+".contract", "a token contract is only allowed on EVM chains")
		} else {
			c.address(p+".contract", th.Chain, t.Contract)
		}
	}
	switch {
	case t.Decimals == nil:
		c.fail(p+".decimals", "required")
	case *t.Decimals < 0 || *t.Decimals > 36:
		c.fail(p+".decimals", "%d out of range 0..36", *t.Decimals)
	default:
		th.Decimals = uint8(*t.Decimals)
	}
	if c.required(p+".amount", t.Amount) {
		if v, err := heistgraph.ParseBaseUnits(t.Amount); err != nil {
			c.fail(p+".amount", "%q: want a positive integer number of base units below 2^256", t.Amount)
		} else {
			th.Amount = v
		}
	}
	th.Source = c.source(p+".source", t.Source)
	return th
}

func (c *checker) attribution(p string, a fileAttribution) heistgraph.Attribution {
	at := heistgraph.Attribution{Actor: a.Actor, Group: a.Group, Note: a.Note}
	if c.required(p+".actor", a.Actor) {
		if _, ok := LookupActor(a.Actor); !ok {
			c.fail(p+".actor", "unknown actor %q", a.Actor)
		} else if a.Group != "" {
			if _, ok := LookupGroup(a.Actor, a.Group); !ok {
				c.fail(p+".group", "unknown group %q of actor %s", a.Group, a.Actor)
			}
		}
	}
	if c.required(p+".tier", a.Tier) {
		t, err := heistgraph.ParseTier(a.Tier)
		if err != nil {
			c.fail(p+".tier", "unknown tier %q (want official, industry or suspected)", a.Tier)
		}
		at.Tier = t
	}
	at.On = c.date(p+".on", a.On, at.Tier == heistgraph.TierOfficial)
	if len(a.Sources) == 0 {
		c.fail(p+".sources", "required: the sources that make the attribution")
	}
	best := 0
	for j, s := range a.Sources {
		at.Sources = append(at.Sources, c.source(fmt.Sprintf("%s.sources[%d]", p, j), s))
		if src, ok := c.sources[s]; ok && src.Tier.Rank() > best {
			best = src.Tier.Rank()
		}
	}
	if len(a.Sources) > 0 && best > 0 && at.Tier.Rank() > best {
		c.fail(p+".tier", "tier %s needs a source of that tier (its sources reach only %s)", at.Tier, tierOfRank(best))
	}
	return at
}

func tierOfRank(r int) heistgraph.Tier {
	for _, t := range heistgraph.Tiers() {
		if t.Rank() == r {
			return t
		}
	}
	return ""
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// encodeSource is the file form of s.
func encodeSource(s heistgraph.Source) fileSource {
	f := fileSource{ID: s.ID, Publisher: s.Publisher, Title: s.Title, Date: formatDate(s.Date), Version: s.Version,
		URL: s.URL, Tier: string(s.Tier), Note: s.Note}
	for _, a := range s.Aggregates {
		f.Aggregates = append(f.Aggregates, fileAggregate{Year: a.Year, USD: usdText(a.USD), Count: a.Count,
			Incidents: append([]string(nil), a.Incidents...), Note: a.Note})
	}
	return f
}

// encodeIncident is the file form of inc.
func encodeIncident(inc heistgraph.Incident) fileIncident {
	f := fileIncident{ID: inc.ID, Name: inc.Name, StolenOn: formatDate(inc.StolenOn), TLP: inc.TLP, Notes: inc.Notes,
		Status: inc.Status, FigureChoice: inc.FigureChoice, Partner: inc.Partner,
		Victim: fileVictim{Name: inc.Victim.Name, Type: string(inc.Victim.Type), Country: inc.Victim.Country}}
	for _, v := range inc.Vectors {
		f.Vectors = append(f.Vectors, string(v))
	}
	for _, t := range inc.Thefts {
		d := int(t.Decimals)
		f.Thefts = append(f.Thefts, fileTheft{Chain: string(t.Chain), Asset: t.Asset, Contract: t.Contract,
			Decimals: &d, Amount: t.Amount.Dec(), Source: t.Source})
	}
	for _, g := range inc.Figures {
		f.Figures = append(f.Figures, fileFigure{Source: g.Source, USD: usdText(g.USD), At: formatDate(g.At), Note: g.Note})
	}
	for _, a := range inc.Addresses {
		f.Addresses = append(f.Addresses, fileAddress{Chain: string(a.Chain), Address: a.Address, Role: string(a.Role), Source: a.Source})
	}
	for _, t := range inc.Txs {
		f.Txs = append(f.Txs, fileTx{Chain: string(t.Chain), TxID: t.TxID, Role: string(t.Role), Source: t.Source})
	}
	for _, a := range inc.Attributions {
		f.Attributions = append(f.Attributions, fileAttribution{Actor: a.Actor, Group: a.Group, Tier: string(a.Tier),
			On: formatDate(a.On), Sources: append([]string(nil), a.Sources...), Note: a.Note})
	}
	return f
}

// usdText writes u as files do: whole dollars without decimals when it can.
func usdText(u heistgraph.USD) string {
	if u%100 == 0 {
		return fmt.Sprintf("%d", int64(u)/100)
	}
	return u.String()
}
