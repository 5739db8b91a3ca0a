package share

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/incident"
	"github.com/heistgraph/heistgraph/label"
)

// ReadOptions tunes Read.
type ReadOptions struct {
	// Source is the label source of what the bundle gives (a feed's
	// "feed:<id>", a file's "stix:<name>"); required.
	Source string
	// TLPMax drops objects marked above it ("" keeps everything).
	TLPMax string
	// Limits bound the bundle.
	Limits Limits
}

// Partner is what Read found in a bundle.
type Partner struct {
	// Objects counts the bundle's objects; Types counts them by STIX type.
	Objects int            `json:"objects"`
	Types   map[string]int `json:"types"`
	// Unknown counts the objects of types Read does not use, by type: they
	// are kept in the bundle and not fatal.
	Unknown map[string]int `json:"unknown"`
	// Labels are the addresses found, one per address, entity and
	// category, in (chain, address, entity) order.
	Labels    []heistgraph.Label `json:"-"`
	Incidents []Incident         `json:"incidents"`
	Actors    []Actor            `json:"actors"`
	// Revoked lists the ids whose latest version is revoked (the
	// incidents among them are also in RevokedIncidents, with their
	// revoked version); Dropped counts objects marked above TLPMax.
	Revoked          []string   `json:"revoked"`
	RevokedIncidents []Incident `json:"-"`
	Dropped          int        `json:"dropped_tlp"`
	// Register counts the objects that carry heistgraph's register fields
	// (an incident's x_heistgraph_id, a report's source record): a bundle
	// with any is heistgraph's own export (incident.Import reads it whole).
	Register int `json:"register_objects"`
}

// Incident is a partner's incident with the addresses that point to it.
type Incident struct {
	ID        string   `json:"id"` // the STIX id
	Name      string   `json:"name"`
	TLP       string   `json:"tlp,omitempty"`
	Modified  string   `json:"modified,omitempty"`
	Chain     string   `json:"chain,omitempty"` // x_heistgraph_chain of a heistgraph watch
	Seeds     []string `json:"seeds,omitempty"` // x_heistgraph_seeds of a heistgraph watch
	Addresses []string `json:"addresses"`       // chain:address
	Actors    []string `json:"actors,omitempty"`
	// What the register keeps of it: the day it began (first_seen, else
	// created), its description, the victim (the identity it targets),
	// who wrote it (the created_by_ref identity) and every name of its
	// actors (names and aliases, to find them in the register's
	// vocabulary).
	FirstSeen   string     `json:"-"`
	Description string     `json:"-"`
	Victim      string     `json:"-"`
	CreatedBy   string     `json:"-"`
	ActorNames  [][]string `json:"-"` // per actor: its name, then its aliases
}

// Actor is a threat actor or intrusion set.
type Actor struct {
	ID      string   `json:"id"`
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Aliases []string `json:"aliases,omitempty"`
}

// stixObj is the union of the properties Read uses.
type stixObj struct {
	Type             string          `json:"type"`
	ID               string          `json:"id"`
	SpecVersion      string          `json:"spec_version"`
	Created          string          `json:"created"`
	FirstSeen        string          `json:"first_seen"`
	Description      string          `json:"description"`
	CreatedByRef     string          `json:"created_by_ref"`
	Modified         string          `json:"modified"`
	Revoked          bool            `json:"revoked"`
	Name             string          `json:"name"`
	Aliases          []string        `json:"aliases"`
	Pattern          string          `json:"pattern"`
	PatternType      string          `json:"pattern_type"`
	Value            string          `json:"value"`
	Address          string          `json:"address"`
	Confidence       *int            `json:"confidence"`
	Markings         []string        `json:"object_marking_refs"`
	RelationshipType string          `json:"relationship_type"`
	SourceRef        string          `json:"source_ref"`
	TargetRef        string          `json:"target_ref"`
	Definition       json.RawMessage `json:"definition"`
	DefinitionType   string          `json:"definition_type"`
	XChain           string          `json:"x_heistgraph_chain"`
	XSeeds           []string        `json:"x_heistgraph_seeds"`
	XID              string          `json:"x_heistgraph_id"`
	XSourceRecord    json.RawMessage `json:"x_heistgraph_source_record"`
	XMISPType        string          `json:"x_misp_type"`
	XMISPValue       string          `json:"x_misp_value"`
}

// walletPattern finds the addresses a STIX pattern compares a
// cryptocurrency wallet to.
var walletPattern = regexp.MustCompile(`(?:x-)?cryptocurrency-wallet:(?:value|address)\s*=\s*'((?:[^'\\]|\\.)*)'`)

// mispWallets are the MISP attribute types that are addresses.
var mispWallets = map[string]bool{"btc": true, "xmr": true, "eth": true, "dash": true}

// used are the types Read interprets (others count as unknown).
var used = map[string]bool{"indicator": true, "cryptocurrency-wallet": true, "x-misp-attribute": true, "incident": true,
	"threat-actor": true, "intrusion-set": true, "relationship": true, "marking-definition": true, "identity": true}

// Read streams a STIX 2.1 bundle from r and returns what it holds for
// heistgraph. It refuses (a *BundleError naming the byte offset and the
// object) a bundle that is not one, an object that is not JSON, and
// anything over opts.Limits; it holds one object's bytes at a time plus
// the small records it keeps. A bundle without any address is not an
// error (Labels is empty).
func Read(r io.Reader, opts ReadOptions) (*Partner, error) {
	if opts.Source == "" {
		return nil, fmt.Errorf("read stix: a label source is required: %w", heistgraph.ErrInvalid)
	}
	if opts.TLPMax != "" {
		if _, err := label.ParseTLP(opts.TLPMax); err != nil {
			return nil, err
		}
	}
	s := &scanner{r: bufio.NewReaderSize(r, 64<<10), lim: opts.Limits.withDefaults()}
	p := &Partner{Types: map[string]int{}, Unknown: map[string]int{}}
	latest := map[string]*stixObj{} // id -> the latest version of each used object
	isBundle := false
	kept := 0
	err := s.bundle(func(i int, raw []byte) error {
		var o stixObj
		if err := json.Unmarshal(raw, &o); err != nil {
			return s.fail("not a STIX object: %v: %w", err, heistgraph.ErrInvalid)
		}
		if o.Type == "" || !strings.HasPrefix(o.ID, o.Type+"--") {
			return s.fail("object %.80q of type %.40q: want an id of the form type--uuid: %w", o.ID, o.Type, heistgraph.ErrInvalid)
		}
		p.Objects++
		p.Types[o.Type]++
		if o.Type == "incident" && o.XID != "" || o.Type == "report" && len(o.XSourceRecord) > 0 {
			p.Register++
		}
		if !used[o.Type] {
			p.Unknown[o.Type]++
			return nil
		}
		if o.Type == "x-misp-attribute" && !mispWallets[o.XMISPType] || o.Type == "marking-definition" {
			return nil // known, nothing to keep (markings are read through object_marking_refs)
		}
		o.Pattern, o.Definition, o.XSourceRecord = walletsOf(o.Pattern), nil, nil // keep only what is needed
		if o.Type != "incident" {
			o.Description = ""
		}
		if old, ok := latest[o.ID]; ok && cmp.Or(o.Modified, o.Created) < cmp.Or(old.Modified, old.Created) {
			return nil
		}
		if kept += len(raw); kept > s.lim.MaxKept {
			return s.fail("the objects kept (indicators, observables, incidents, actors, relationships) exceed %d bytes: %w", s.lim.MaxKept, heistgraph.ErrInvalid)
		}
		latest[o.ID] = &o
		return nil
	}, func(key string, raw []byte) error {
		if key == "type" {
			isBundle = string(raw) == `"bundle"`
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !isBundle {
		return nil, &BundleError{Offset: 0, Object: -1, Err: fmt.Errorf("not a STIX bundle: no \"type\": \"bundle\": %w", heistgraph.ErrInvalid)}
	}
	p.interpret(latest, opts)
	return p, nil
}

// walletsOf reduces a pattern to the addresses it names, one a line.
func walletsOf(pattern string) string {
	var out []string
	for _, m := range walletPattern.FindAllStringSubmatch(pattern, -1) {
		out = append(out, strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(m[1]))
	}
	return strings.Join(out, "\n")
}

// tlpOf is an object's TLP level.
func tlpOf(o *stixObj) string { return incident.TLPOfMarkings(o.Markings) }

// interpret turns the latest versions into labels, incidents and actors.
func (p *Partner) interpret(latest map[string]*stixObj, opts ReadOptions) {
	ids := make([]string, 0, len(latest))
	for id := range latest {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	live := map[string]*stixObj{}
	for _, id := range ids {
		o := latest[id]
		switch {
		case o.Revoked:
			p.Revoked = append(p.Revoked, id)
			if o.Type == "incident" {
				p.RevokedIncidents = append(p.RevokedIncidents, Incident{ID: id, Name: cmp.Or(o.Name, id), Modified: cmp.Or(o.Modified, o.Created)})
			}
		case opts.TLPMax != "" && !tlpAllows(opts.TLPMax, tlpOf(o)):
			p.Dropped++
		default:
			live[id] = o
		}
	}
	// Neighbours over relationships, both ways.
	near := map[string][]string{}
	targeted := map[[2]string]bool{} // (incident, identity) of targets relationships
	for _, id := range ids {
		o := live[id]
		if o == nil || o.Type != "relationship" {
			continue
		}
		if live[o.SourceRef] == nil || live[o.TargetRef] == nil {
			continue
		}
		near[o.SourceRef] = append(near[o.SourceRef], o.TargetRef)
		near[o.TargetRef] = append(near[o.TargetRef], o.SourceRef)
		if o.RelationshipType == "targets" {
			targeted[[2]string{o.SourceRef, o.TargetRef}] = true
		}
	}
	incs := map[string]*Incident{}
	for _, id := range ids {
		o := live[id]
		if o == nil {
			continue
		}
		switch o.Type {
		case "incident":
			incs[id] = &Incident{ID: id, Name: cmp.Or(o.Name, id), TLP: tlpOf(o), Modified: cmp.Or(o.Modified, o.Created),
				Chain: o.XChain, Seeds: o.XSeeds, Addresses: []string{}, FirstSeen: cmp.Or(o.FirstSeen, o.Created),
				Description: o.Description}
			if by := live[o.CreatedByRef]; by != nil && by.Type == "identity" {
				incs[id].CreatedBy = by.Name
			}
		case "threat-actor", "intrusion-set":
			p.Actors = append(p.Actors, Actor{ID: id, Type: o.Type, Name: o.Name, Aliases: o.Aliases})
		}
	}
	actorName := map[string]string{}
	actorNames := map[string][]string{} // id -> name, then aliases
	for _, a := range p.Actors {
		actorName[a.ID] = a.Name
		actorNames[a.ID] = append([]string{a.Name}, a.Aliases...)
	}
	for id, inc := range incs {
		for _, n := range near[id] {
			if name, ok := actorName[n]; ok && !slices.Contains(inc.Actors, name) {
				inc.Actors = append(inc.Actors, name)
				inc.ActorNames = append(inc.ActorNames, actorNames[n])
			}
			if v := live[n]; v != nil && v.Type == "identity" && inc.Victim == "" && targeted[[2]string{id, n}] {
				inc.Victim = v.Name
			}
		}
		slices.Sort(inc.Actors)
	}
	seen := map[string]int{} // label key -> index in p.Labels
	for _, id := range ids {
		o := live[id]
		if o == nil {
			continue
		}
		var addrs []string
		switch o.Type {
		case "indicator":
			if o.Pattern != "" {
				addrs = strings.Split(o.Pattern, "\n")
			}
		case "cryptocurrency-wallet":
			addrs = []string{cmp.Or(o.Value, o.Address)}
		case "x-misp-attribute":
			addrs = []string{o.XMISPValue}
		}
		if len(addrs) == 0 {
			continue
		}
		// What the object points to: directly, or through the indicator
		// based on an observable.
		ctx := slices.Clone(near[id])
		for _, n := range near[id] {
			if live[n] != nil && live[n].Type == "indicator" {
				ctx = append(ctx, near[n]...)
			}
		}
		entity, category, note := o.Name, label.CategoryIllicitActor, "stix "+id
		if entity == "" {
			entity = "flagged by " + opts.Source
		}
		var inc *Incident
		for _, n := range ctx {
			if i, ok := incs[n]; ok {
				inc = i
				break
			}
		}
		if inc != nil {
			entity, category, note = inc.Name, label.CategoryStolen, note+" -> "+inc.ID
		} else {
			for _, n := range ctx {
				if name, ok := actorName[n]; ok && name != "" {
					entity, note = name, note+" -> "+n
					break
				}
			}
		}
		conf := 0.7
		if o.Confidence != nil && *o.Confidence >= 0 && *o.Confidence <= 100 {
			conf = float64(*o.Confidence) / 100
		}
		tlp := tlpOf(o)
		if inc != nil && tlpRank(inc.TLP) > tlpRank(tlp) {
			tlp = inc.TLP
		}
		for _, a := range addrs {
			chain, key, ok := addressOf(o.XChain, a)
			if !ok {
				continue
			}
			if inc != nil && !slices.Contains(inc.Addresses, string(chain)+":"+key) {
				inc.Addresses = append(inc.Addresses, string(chain)+":"+key)
			}
			l := heistgraph.Label{Chain: chain, Address: key, Entity: entity, Category: category, Source: opts.Source,
				Confidence: conf, TLP: tlp, Note: note}
			k := strings.Join([]string{string(chain), key, entity, category}, "\x00")
			if i, ok := seen[k]; ok {
				if conf > p.Labels[i].Confidence {
					p.Labels[i].Confidence = conf
				}
				continue
			}
			seen[k] = len(p.Labels)
			p.Labels = append(p.Labels, l)
		}
	}
	slices.SortFunc(p.Labels, func(a, b heistgraph.Label) int {
		return cmp.Or(cmp.Compare(a.Chain, b.Chain), cmp.Compare(a.Address, b.Address), cmp.Compare(a.Entity, b.Entity))
	})
	for _, id := range ids {
		if inc, ok := incs[id]; ok {
			slices.Sort(inc.Addresses)
			p.Incidents = append(p.Incidents, *inc)
		}
	}
	if p.Incidents == nil {
		p.Incidents = []Incident{}
	}
	if p.Actors == nil {
		p.Actors = []Actor{}
	}
	if p.Revoked == nil {
		p.Revoked = []string{}
	}
}

// guessChains are tried in order for an address without a chain.
var guessChains = []heistgraph.Chain{heistgraph.ChainBTC, heistgraph.ChainEVM, heistgraph.ChainBTCTestnet, heistgraph.ChainBTCRegtest}

// addressOf returns the chain and key form of address a (on chain when
// the object names one).
func addressOf(chain, a string) (heistgraph.Chain, string, bool) {
	a = strings.TrimSpace(a)
	if chain != "" {
		c, err := heistgraph.ParseChain(chain)
		if err != nil {
			return "", "", false
		}
		if c.IsEVM() {
			c = heistgraph.ChainEVM
		}
		key, err := heistgraph.NormalizeAddress(c, a)
		return c, key, err == nil
	}
	for _, c := range guessChains {
		if key, err := heistgraph.NormalizeAddress(c, a); err == nil {
			return c, key, true
		}
	}
	return "", "", false
}

func tlpRank(s string) int { return label.TLPRank(s) }

func tlpAllows(max, tlp string) bool { return label.TLPAllows(max, tlp) }
