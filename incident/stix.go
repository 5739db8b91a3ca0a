package incident

import (
	"bytes"
	"cmp"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/heistgraph/heistgraph"
)

// STIX 2.1 export and import.
//
// What goes where (the custom properties carry what STIX has no field for,
// so that Import gives back exactly what Export was given):
//
//	marking-definition  the standard TLP 2.0 definitions (fixed ids) of the levels used
//	identity            the producer (heistgraph) and one victim per incident
//	threat-actor        one per actor sub-group attributed (TraderTraitor, Lazarus Group, ...)
//	                    or the actor itself when a source names no group, with aliases
//	incident            one per incident; x_heistgraph_* hold the day stolen, vectors,
//	                    stolen amounts, USD figures, transactions and non-indicator addresses
//	indicator           one per attacker, laundering or linked address:
//	                    [cryptocurrency-wallet:value = '<address>'], x_heistgraph_chain
//	relationship        incident attributed-to threat-actor (tier, day, sources),
//	                    indicator indicates incident (role, source), incident targets victim,
//	                    threat-actor targets victim
//	report              one per source record (x_heistgraph_source_record), listing the
//	                    incidents it supports, and one for the export as a whole
//
// STIX 2.1 has no cryptocurrency observable in its core. The pattern uses the
// cryptocurrency-wallet object type with a value property, the custom
// observable OpenCTI and MISP exchange (the pattern grammar admits custom
// object types; the JSON schemas only require pattern to be a string), and
// the chain travels in x_heistgraph_chain because the value alone does not
// say which EVM chain an address is on.
//
// Ids are UUIDv5 of the register's own ids, and every created, modified,
// valid_from and published timestamp comes from the data (days stolen,
// attributed and published; a fixed epoch for the producer and the actors),
// never from the clock, so one register always exports byte-identical
// bundles.

const (
	stixEpoch   = "2025-01-01T00:00:00.000Z" // producer and threat-actor objects
	tlpCreated  = "2022-10-01T00:00:00.000Z" // the TLP 2.0 marking definitions
	tlpExtID    = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
	stixPattern = "[cryptocurrency-wallet:value = '%s']"
)

// tlpMarking maps TLP 2.0 levels to their standard marking-definition ids.
var tlpMarking = map[string]string{
	"clear":        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
	"green":        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
	"amber":        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
	"amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
	"red":          "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

// tlp1Marking maps the TLP 1.0 marking ids an imported bundle may use.
var tlp1Marking = map[string]string{
	"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "clear",
	"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
	"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
	"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
}

// stixObject is every STIX object the register writes or reads, with the
// union of the properties used; empty ones are left out.
type stixObject struct {
	Type               string                       `json:"type"`
	SpecVersion        string                       `json:"spec_version"`
	ID                 string                       `json:"id"`
	CreatedByRef       string                       `json:"created_by_ref,omitempty"`
	Created            string                       `json:"created"`
	Modified           string                       `json:"modified,omitempty"`
	Name               string                       `json:"name,omitempty"`
	Description        string                       `json:"description,omitempty"`
	IdentityClass      string                       `json:"identity_class,omitempty"`
	Sectors            []string                     `json:"sectors,omitempty"`
	ThreatActorTypes   []string                     `json:"threat_actor_types,omitempty"`
	Aliases            []string                     `json:"aliases,omitempty"`
	IndicatorTypes     []string                     `json:"indicator_types,omitempty"`
	Pattern            string                       `json:"pattern,omitempty"`
	PatternType        string                       `json:"pattern_type,omitempty"`
	PatternVersion     string                       `json:"pattern_version,omitempty"`
	ValidFrom          string                       `json:"valid_from,omitempty"`
	RelationshipType   string                       `json:"relationship_type,omitempty"`
	SourceRef          string                       `json:"source_ref,omitempty"`
	TargetRef          string                       `json:"target_ref,omitempty"`
	StartTime          string                       `json:"start_time,omitempty"`
	ReportTypes        []string                     `json:"report_types,omitempty"`
	Published          string                       `json:"published,omitempty"`
	ObjectRefs         []string                     `json:"object_refs,omitempty"`
	Extensions         map[string]map[string]string `json:"extensions,omitempty"`
	ExternalReferences []stixExternalRef            `json:"external_references,omitempty"`
	ObjectMarkingRefs  []string                     `json:"object_marking_refs,omitempty"`

	XID           string        `json:"x_heistgraph_id,omitempty"`
	XVictimType   string        `json:"x_heistgraph_victim_type,omitempty"`
	XCountry      string        `json:"x_heistgraph_country,omitempty"`
	XStolenOn     string        `json:"x_heistgraph_stolen_on,omitempty"`
	XVectors      []string      `json:"x_heistgraph_vectors,omitempty"`
	XThefts       []fileTheft   `json:"x_heistgraph_thefts,omitempty"`
	XFigures      []fileFigure  `json:"x_heistgraph_figures,omitempty"`
	XTxs          []fileTx      `json:"x_heistgraph_txs,omitempty"`
	XAddresses    []fileAddress `json:"x_heistgraph_addresses,omitempty"`
	XNotes        string        `json:"x_heistgraph_notes,omitempty"`
	XActor        string        `json:"x_heistgraph_actor,omitempty"`
	XGroup        string        `json:"x_heistgraph_group,omitempty"`
	XChain        string        `json:"x_heistgraph_chain,omitempty"`
	XAddress      string        `json:"x_heistgraph_address,omitempty"`
	XRole         string        `json:"x_heistgraph_role,omitempty"`
	XSource       string        `json:"x_heistgraph_source,omitempty"`
	XTier         string        `json:"x_heistgraph_tier,omitempty"`
	XAttributedOn string        `json:"x_heistgraph_attributed_on,omitempty"`
	XSources      []string      `json:"x_heistgraph_sources,omitempty"`
	XNote         string        `json:"x_heistgraph_note,omitempty"`
	XSourceRecord *fileSource   `json:"x_heistgraph_source_record,omitempty"`
	XStatus       string        `json:"x_heistgraph_status,omitempty"`
	XFigureChoice string        `json:"x_heistgraph_figure_choice,omitempty"`
}

type stixExternalRef struct {
	SourceName  string `json:"source_name"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url,omitempty"`
	ExternalID  string `json:"external_id,omitempty"`
}

type stixBundle struct {
	Type    string       `json:"type"`
	ID      string       `json:"id"`
	Objects []stixObject `json:"objects"`
}

// ExportOptions tunes Export.
type ExportOptions struct {
	// Name titles the export's report object; default "heistgraph incident register".
	Name string
}

// Export writes incidents, and the sources among sources they cite or that
// claim aggregates over them (an aggregate that names no incident covers
// the exported thefts of its year), as an indented STIX 2.1 bundle. The same input
// always gives the same bytes. Aggregates keep only the exported incidents,
// so a partial export imports on its own. It returns an error wrapping
// heistgraph.ErrInvalid for an empty incident list or a citation of a source
// missing from sources.
func Export(incidents []heistgraph.Incident, sources []heistgraph.Source, opts ExportOptions) ([]byte, error) {
	if len(incidents) == 0 {
		return nil, fmt.Errorf("stix: nothing to export: %w", heistgraph.ErrInvalid)
	}
	if opts.Name == "" {
		opts.Name = "heistgraph incident register"
	}
	incs := slices.Clone(incidents)
	slices.SortFunc(incs, func(a, b heistgraph.Incident) int {
		return cmp.Or(a.StolenOn.Compare(b.StolenOn), cmp.Compare(a.ID, b.ID))
	})
	srcByID := map[string]heistgraph.Source{}
	for _, s := range sources {
		srcByID[s.ID] = s
	}
	exported := map[string]string{} // incident id -> object id
	for _, inc := range incs {
		exported[inc.ID] = stixID("incident", "incident|"+inc.ID)
	}

	e := &exporter{objs: map[string]*stixObject{}, tlps: map[string]bool{}}
	producer := e.add(&stixObject{Type: "identity", ID: stixID("identity", "producer|heistgraph"), Created: stixEpoch,
		Modified: stixEpoch, Name: "heistgraph", IdentityClass: "system",
		Description: "heistgraph incident register: thefts, their attribution and sources"})
	e.producer = producer.ID

	srcRefs := map[string][]string{} // source id -> exported incident object ids
	for _, inc := range incs {
		if err := e.incident(inc, srcByID, exported[inc.ID]); err != nil {
			return nil, err
		}
		for _, id := range inc.SourceIDs() {
			srcRefs[id] = append(srcRefs[id], exported[inc.ID])
		}
	}
	for _, s := range sources {
		fs := encodeSource(s)
		var aggs []fileAggregate
		for _, a := range fs.Aggregates {
			if len(a.Incidents) == 0 {
				// A claim that names no incident (a yearly total alone) goes
				// with the exported thefts of its year, which it covers.
				covered := false
				for _, inc := range incs {
					if inc.StolenOn.Year() == a.Year {
						srcRefs[s.ID] = append(srcRefs[s.ID], exported[inc.ID])
						covered = true
					}
				}
				if covered {
					aggs = append(aggs, a)
				}
				continue
			}
			var keep []string
			for _, id := range a.Incidents {
				if oid, ok := exported[id]; ok {
					keep = append(keep, id)
					srcRefs[s.ID] = append(srcRefs[s.ID], oid)
				}
			}
			if len(keep) > 0 {
				a.Incidents = keep
				aggs = append(aggs, a)
			}
		}
		refs := uniqueSorted(srcRefs[s.ID])
		if len(refs) == 0 {
			continue
		}
		fs.Aggregates = aggs
		published := stixTime(s.Date)
		if s.Date.IsZero() {
			published = stixEpoch
		}
		e.add(&stixObject{Type: "report", ID: stixID("report", "source|"+s.ID), CreatedByRef: e.producer,
			Created: published, Modified: published, Name: s.Title, Description: s.Note,
			ReportTypes: []string{"threat-report"}, Published: published, ObjectRefs: refs,
			ExternalReferences: []stixExternalRef{sourceRef(s)}, ObjectMarkingRefs: []string{e.markRefs(refs)},
			XSourceRecord: &fs})
	}

	// The export's own report lists everything but the markings.
	var all []string
	latest := stixEpoch
	for id, o := range e.objs {
		if o.Type != "marking-definition" {
			all = append(all, id)
		}
		if o.Modified > latest {
			latest = o.Modified
		}
	}
	slices.Sort(all)
	var incIDs []string
	for _, inc := range incs {
		incIDs = append(incIDs, inc.ID)
	}
	e.add(&stixObject{Type: "report", ID: stixID("report", "export|"+strings.Join(incIDs, ",")), CreatedByRef: e.producer,
		Created: latest, Modified: latest, Name: opts.Name,
		Description: fmt.Sprintf("%d incidents exported from the heistgraph incident register.", len(incs)),
		ReportTypes: []string{"threat-report"}, Published: latest, ObjectRefs: all,
		ObjectMarkingRefs: []string{e.markRefs(all)}})

	for level := range e.tlps {
		e.add(&stixObject{Type: "marking-definition", ID: tlpMarking[level], Created: tlpCreated,
			Name:       "TLP:" + strings.ToUpper(level),
			Extensions: map[string]map[string]string{tlpExtID: {"extension_type": "property-extension", "tlp_2_0": level}}})
	}

	b := stixBundle{Type: "bundle"}
	var ids []string
	for id, o := range e.objs {
		ids = append(ids, id)
		b.Objects = append(b.Objects, *o)
	}
	slices.Sort(ids)
	b.ID = stixID("bundle", strings.Join(ids, ","))
	slices.SortFunc(b.Objects, func(x, y stixObject) int {
		return cmp.Or(cmp.Compare(typeRank(x.Type), typeRank(y.Type)), cmp.Compare(x.ID, y.ID))
	})
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(b); err != nil {
		return nil, fmt.Errorf("stix: encode: %w", err)
	}
	return buf.Bytes(), nil
}

type exporter struct {
	objs     map[string]*stixObject
	tlps     map[string]bool
	tlpOf    map[string]string // object id -> TLP level
	producer string
}

func (e *exporter) add(o *stixObject) *stixObject {
	o.SpecVersion = "2.1"
	if old, ok := e.objs[o.ID]; ok {
		return old
	}
	e.objs[o.ID] = o
	return o
}

// mark applies TLP level to o (keeping the most restrictive level o has).
func (e *exporter) mark(o *stixObject, level string) {
	if e.tlpOf == nil {
		e.tlpOf = map[string]string{}
	}
	if cur, ok := e.tlpOf[o.ID]; ok && tlpRank(cur) >= tlpRank(level) {
		return
	}
	e.tlpOf[o.ID] = level
	e.tlps[level] = true
	o.ObjectMarkingRefs = []string{tlpMarking[level]}
}

// markRefs returns the marking of the most restrictive level among ids.
func (e *exporter) markRefs(ids []string) string {
	level := "clear"
	for _, id := range ids {
		if l, ok := e.tlpOf[id]; ok && tlpRank(l) > tlpRank(level) {
			level = l
		}
	}
	e.tlps[level] = true
	return tlpMarking[level]
}

func tlpRank(level string) int { return slices.Index(heistgraph.TLPs(), level) }

func (e *exporter) incident(inc heistgraph.Incident, srcByID map[string]heistgraph.Source, oid string) error {
	for _, id := range inc.SourceIDs() {
		if _, ok := srcByID[id]; !ok {
			return fmt.Errorf("stix: incident %s cites source %q, which is not given: %w", inc.ID, id, heistgraph.ErrInvalid)
		}
	}
	f := encodeIncident(inc)
	stolen := stixTime(inc.StolenOn)
	modified := stolen
	for _, id := range inc.SourceIDs() {
		if t := stixTime(srcByID[id].Date); t > modified {
			modified = t
		}
	}
	for _, a := range inc.Attributions {
		if t := stixTime(a.On); t > modified {
			modified = t
		}
	}
	level := inc.TLP

	victim := e.add(&stixObject{Type: "identity", ID: stixID("identity", "victim|"+inc.ID), CreatedByRef: e.producer,
		Created: stolen, Modified: stolen, Name: inc.Victim.Name, IdentityClass: "organization",
		Sectors: []string{"financial-services"}, XVictimType: string(inc.Victim.Type), XCountry: inc.Victim.Country})
	e.mark(victim, level)

	var refs []stixExternalRef
	for _, id := range inc.SourceIDs() {
		refs = append(refs, sourceRef(srcByID[id]))
	}
	var other []fileAddress
	for _, a := range f.Addresses {
		if !heistgraph.AddressRole(a.Role).IsIndicator() {
			other = append(other, a)
		}
	}
	obj := e.add(&stixObject{Type: "incident", ID: oid, CreatedByRef: e.producer, Created: stolen, Modified: modified,
		Name: inc.Name, Description: describe(inc), ExternalReferences: refs,
		XID: inc.ID, XStolenOn: f.StolenOn, XVectors: f.Vectors, XThefts: f.Thefts, XFigures: f.Figures,
		XTxs: f.Txs, XAddresses: other, XNotes: inc.Notes, XStatus: inc.Status, XFigureChoice: inc.FigureChoice})
	e.mark(obj, level)
	e.mark(e.add(rel("targets", oid, victim.ID, stolen, e.producer)), level)

	for _, a := range inc.Attributions {
		ta := e.threatActor(a.Actor, a.Group)
		on := stixTime(a.On)
		created := on
		if created == "" {
			created = stolen
		}
		key := strings.Join([]string{inc.ID, a.Actor, a.Group, string(a.Tier), formatDate(a.On), strings.Join(a.Sources, ",")}, "|")
		r := rel("attributed-to", oid, ta.ID, created, e.producer)
		r.ID = stixID("relationship", "attributed-to|"+key)
		r.StartTime = on
		r.Description = fmt.Sprintf("%s attribution by %s", a.Tier, publishers(a.Sources, srcByID))
		r.XTier, r.XAttributedOn, r.XSources, r.XNote = string(a.Tier), formatDate(a.On), a.Sources, a.Note
		e.mark(e.add(r), level)
		e.mark(e.add(rel("targets", ta.ID, victim.ID, created, e.producer)), level)
	}

	for _, a := range inc.Addresses {
		if !a.Role.IsIndicator() {
			continue
		}
		ind := e.add(&stixObject{Type: "indicator", ID: stixID("indicator", "address|"+string(a.Chain)+"|"+addrKey(a.Chain, a.Address)),
			CreatedByRef: e.producer, Created: stolen, Modified: stolen,
			Name:           fmt.Sprintf("%s address %s", a.Chain, a.Address),
			Description:    fmt.Sprintf("Address used in the %s theft of %s (%s).", inc.Name, formatDate(inc.StolenOn), a.Role),
			IndicatorTypes: []string{"malicious-activity"}, Pattern: fmt.Sprintf(stixPattern, a.Address),
			PatternType: "stix", PatternVersion: "2.1", ValidFrom: stolen, XChain: string(a.Chain)})
		e.mark(ind, level)
		r := rel("indicates", ind.ID, oid, stolen, e.producer)
		r.XAddress, r.XRole, r.XSource = a.Address, string(a.Role), a.Source
		e.mark(e.add(r), level)
	}
	return nil
}

func (e *exporter) threatActor(actor, group string) *stixObject {
	a, _ := LookupActor(actor)
	o := &stixObject{Type: "threat-actor", ID: stixID("threat-actor", "actor|"+actor+"|"+group), CreatedByRef: e.producer,
		Created: stixEpoch, Modified: stixEpoch, Name: a.Name, Aliases: a.Aliases,
		ThreatActorTypes: []string{"nation-state"}, XActor: actor, XGroup: group}
	if g, ok := LookupGroup(actor, group); ok {
		o.Name, o.Aliases = g.Name, g.Aliases
		o.Description = "A cluster of " + a.Name + "."
	}
	o = e.add(o)
	e.tlps["clear"] = true
	if _, ok := e.tlpOf[o.ID]; !ok {
		e.mark(o, "clear")
	}
	return o
}

func rel(kind, from, to, created, producer string) *stixObject {
	return &stixObject{Type: "relationship", ID: stixID("relationship", kind+"|"+from+"|"+to), CreatedByRef: producer,
		Created: created, Modified: created, RelationshipType: kind, SourceRef: from, TargetRef: to}
}

func sourceRef(s heistgraph.Source) stixExternalRef {
	return stixExternalRef{SourceName: s.Publisher, Description: s.Title, URL: s.URL, ExternalID: s.ID}
}

func publishers(ids []string, srcByID map[string]heistgraph.Source) string {
	var ps []string
	for _, id := range ids {
		if p := srcByID[id].Publisher; p != "" && !slices.Contains(ps, p) {
			ps = append(ps, p)
		}
	}
	return strings.Join(ps, "; ")
}

// describe is an incident's human summary.
func describe(inc heistgraph.Incident) string {
	v := Value(inc, "", nil)
	s := fmt.Sprintf("Theft from %s (%s) on %s, about $%s according to %s.", inc.Victim.Name, inc.Victim.Type,
		formatDate(inc.StolenOn), groupDigits(v.USD.Dollars()), v.Source)
	if inc.Notes != "" {
		s += "\n\n" + inc.Notes
	}
	return s
}

func addrKey(ch heistgraph.Chain, a string) string {
	if chainKind(ch) == "evm" {
		return strings.ToLower(a)
	}
	return a
}

func typeRank(t string) int {
	order := []string{"marking-definition", "identity", "threat-actor", "incident", "indicator", "relationship", "report"}
	if i := slices.Index(order, t); i >= 0 {
		return i
	}
	return len(order)
}

func uniqueSorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// stixTime writes a day as a STIX timestamp with milliseconds; "" for zero.
func stixTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// stixNamespace is the UUIDv5 namespace of heistgraph's STIX ids: the
// UUIDv5 of "https://github.com/heistgraph/heistgraph/stix" in the URL namespace.
var stixNamespace = uuid5([16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8},
	"https://github.com/heistgraph/heistgraph/stix")

// stixID returns typ--UUIDv5(name) in heistgraph's namespace.
func stixID(typ, name string) string {
	u := uuid5(stixNamespace, name)
	h := hex.EncodeToString(u[:])
	return fmt.Sprintf("%s--%s-%s-%s-%s-%s", typ, h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}

// uuid5 is RFC 9562's name-based UUID (SHA-1).
func uuid5(ns [16]byte, name string) [16]byte {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return u
}

// Import reads a bundle written by Export back into a register. Objects of
// other types, and objects without heistgraph's custom properties, are
// ignored; what it reads is checked like a register directory, and a
// ValidationError names the STIX object ("stix:<id>") and the field. Other
// errors (not JSON, not a bundle, a dangling reference) wrap
// heistgraph.ErrInvalid.
func Import(bundle []byte) (*Register, error) {
	var b stixBundle
	if err := json.Unmarshal(bundle, &b); err != nil {
		return nil, fmt.Errorf("stix: not a STIX bundle: %v: %w", err, heistgraph.ErrInvalid)
	}
	if b.Type != "bundle" {
		return nil, fmt.Errorf("stix: type %q: want bundle: %w", b.Type, heistgraph.ErrInvalid)
	}
	byID := map[string]*stixObject{}
	for i := range b.Objects {
		o := &b.Objects[i]
		if o.SpecVersion != "2.1" {
			return nil, fmt.Errorf("stix: object %s: spec_version %q: want 2.1: %w", o.ID, o.SpecVersion, heistgraph.ErrInvalid)
		}
		byID[o.ID] = o
	}
	var fsrc []fileSource
	var files []fileIncident
	var names []string
	fileOf := map[string]int{} // incident object id -> index in files
	for i := range b.Objects {
		o := &b.Objects[i]
		switch {
		case o.Type == "report" && o.XSourceRecord != nil:
			fsrc = append(fsrc, *o.XSourceRecord)
		case o.Type == "incident" && o.XID != "":
			fileOf[o.ID] = len(files)
			files = append(files, fileIncident{ID: o.XID, Name: o.Name, StolenOn: o.XStolenOn, Vectors: o.XVectors,
				Thefts: o.XThefts, Figures: o.XFigures, Txs: o.XTxs, Addresses: slices.Clone(o.XAddresses),
				Notes: o.XNotes, TLP: tlpOf(o.ObjectMarkingRefs), Status: o.XStatus, FigureChoice: o.XFigureChoice})
			names = append(names, "stix:"+o.ID)
		}
	}
	for i := range b.Objects {
		r := &b.Objects[i]
		if r.Type != "relationship" {
			continue
		}
		switch r.RelationshipType {
		case "targets":
			fi, ok := fileOf[r.SourceRef]
			if !ok {
				continue // threat-actor targets victim: derived
			}
			v, ok := byID[r.TargetRef]
			if !ok || v.Type != "identity" {
				return nil, fmt.Errorf("stix: relationship %s: target %s is not in the bundle: %w", r.ID, r.TargetRef, heistgraph.ErrInvalid)
			}
			files[fi].Victim = fileVictim{Name: v.Name, Type: v.XVictimType, Country: v.XCountry}
		case "attributed-to":
			fi, ok := fileOf[r.SourceRef]
			if !ok {
				continue
			}
			ta, ok := byID[r.TargetRef]
			if !ok || ta.Type != "threat-actor" {
				return nil, fmt.Errorf("stix: relationship %s: target %s is not a threat-actor in the bundle: %w", r.ID, r.TargetRef, heistgraph.ErrInvalid)
			}
			files[fi].Attributions = append(files[fi].Attributions, fileAttribution{Actor: ta.XActor, Group: ta.XGroup,
				Tier: r.XTier, On: r.XAttributedOn, Sources: r.XSources, Note: r.XNote})
		case "indicates":
			fi, ok := fileOf[r.TargetRef]
			if !ok {
				continue
			}
			ind, ok := byID[r.SourceRef]
			if !ok || ind.Type != "indicator" {
				return nil, fmt.Errorf("stix: relationship %s: source %s is not an indicator in the bundle: %w", r.ID, r.SourceRef, heistgraph.ErrInvalid)
			}
			files[fi].Addresses = append(files[fi].Addresses, fileAddress{Chain: ind.XChain, Address: r.XAddress,
				Role: r.XRole, Source: r.XSource})
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("stix: the bundle holds no heistgraph incident: %w", heistgraph.ErrInvalid)
	}
	return build("stix:sources", fsrc, names, files)
}

// tlpOf reads the TLP level of an object's markings ("" if none is known).
func tlpOf(refs []string) string {
	level := ""
	for _, ref := range refs {
		l := tlp1Marking[ref]
		for k, v := range tlpMarking {
			if v == ref {
				l = k
			}
		}
		if l != "" && tlpRank(l) > tlpRank(level) {
			level = l
		}
	}
	return level
}
