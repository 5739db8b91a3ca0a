package share

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/incident"
	"github.com/heistgraph/heistgraph/taxii"
)

// stixObject is a STIX object this package writes (the watches
// collection, the relationships WithObservables adds): the union of the
// properties used, empty ones left out.
type stixObject struct {
	Type              string   `json:"type"`
	SpecVersion       string   `json:"spec_version"`
	ID                string   `json:"id"`
	CreatedByRef      string   `json:"created_by_ref,omitempty"`
	Created           string   `json:"created"`
	Modified          string   `json:"modified"`
	Name              string   `json:"name,omitempty"`
	Description       string   `json:"description,omitempty"`
	IdentityClass     string   `json:"identity_class,omitempty"`
	IndicatorTypes    []string `json:"indicator_types,omitempty"`
	Pattern           string   `json:"pattern,omitempty"`
	PatternType       string   `json:"pattern_type,omitempty"`
	ValidFrom         string   `json:"valid_from,omitempty"`
	RelationshipType  string   `json:"relationship_type,omitempty"`
	SourceRef         string   `json:"source_ref,omitempty"`
	TargetRef         string   `json:"target_ref,omitempty"`
	ObjectMarkingRefs []string `json:"object_marking_refs,omitempty"`
	XWatch            string   `json:"x_heistgraph_watch,omitempty"`
	XIncident         string   `json:"x_heistgraph_id,omitempty"`
	XChain            string   `json:"x_heistgraph_chain,omitempty"`
	XSeeds            []string `json:"x_heistgraph_seeds,omitempty"`
}

// WatchObjects returns the STIX objects that publish watch w: an incident
// named for the watch (its chain and seeds in x_heistgraph_chain and
// x_heistgraph_seeds, so another heistgraph can watch exactly the same
// coins), one indicator per flagged address (the address seeds, and the
// addresses the seed transactions and outputs paid, as far as the store
// knows them: addrs) with an indicates relationship, all marked tlp, and
// created at the watch's creation.
func WatchObjects(w heistgraph.Watch, addrs []string, tlp string) ([]json.RawMessage, error) {
	mark, ok := incident.TLPMarkingID(tlp)
	if !ok {
		return nil, fmt.Errorf("watch %s: TLP %q: %w", w.Name, tlp, heistgraph.ErrInvalid)
	}
	at := incident.STIXTime(time.Unix(w.Created, 0))
	producer := incident.STIXProducerID()
	incID := incident.STIXID("incident", "watch|"+w.Name)
	objs := []stixObject{{Type: "incident", ID: incID, CreatedByRef: producer, Created: at, Modified: at, Name: w.Name,
		Description:       fmt.Sprintf("Stolen funds followed by heistgraph watch %s on %s (seeds %s).", w.Name, w.Chain, strings.Join(w.Seeds, ", ")),
		ObjectMarkingRefs: []string{mark}, XWatch: w.Name, XIncident: w.Incident, XChain: string(w.Chain), XSeeds: w.Seeds}}
	for _, a := range addrs {
		ind := incident.STIXID("indicator", "watch|"+w.Name+"|"+string(w.Chain)+"|"+a)
		objs = append(objs,
			stixObject{Type: "indicator", ID: ind, CreatedByRef: producer, Created: at, Modified: at,
				Name: "Stolen funds of " + w.Name + ": " + a, IndicatorTypes: []string{"malicious-activity"},
				Pattern: fmt.Sprintf("[cryptocurrency-wallet:value = '%s']", strings.ReplaceAll(a, "'", `\'`)), PatternType: "stix",
				ValidFrom: at, ObjectMarkingRefs: []string{mark}, XChain: string(w.Chain)},
			stixObject{Type: "relationship", ID: incident.STIXID("relationship", "indicates|"+ind+"|"+incID), CreatedByRef: producer,
				Created: at, Modified: at, RelationshipType: "indicates", SourceRef: ind, TargetRef: incID, ObjectMarkingRefs: []string{mark}})
	}
	out := make([]json.RawMessage, 0, len(objs))
	for i := range objs {
		objs[i].SpecVersion = "2.1"
		b, err := json.Marshal(objs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// watchAddresses are the addresses a watch flags: its address seeds and
// the addresses its seed transactions and outputs paid (seeds the store
// lacks give none).
func (p *Publisher) watchAddresses(ctx context.Context, w heistgraph.Watch) []string {
	var out []string
	add := func(a string) {
		if a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	for _, s := range w.Seeds {
		s = strings.TrimSpace(s)
		if op, err := heistgraph.ParseOutpoint(s); err == nil {
			if o, err := p.Store.Output(ctx, w.Chain, op); err == nil {
				add(o.Address)
			}
			continue
		}
		if h, err := heistgraph.ParseHash(s); err == nil {
			if tx, err := p.Store.Tx(ctx, w.Chain, h); err == nil {
				for _, o := range tx.Tx.Outputs {
					add(o.Address)
				}
			}
			continue
		}
		if a, err := heistgraph.NormalizeAddress(w.Chain, s); err == nil {
			add(a)
		}
	}
	return out
}

// watches publishes every watch.
func (p *Publisher) watches(ctx context.Context) ([]taxii.Object, error) {
	tlp := p.watchTLP()
	var out []taxii.Object
	levels := map[string]bool{}
	for w, err := range p.Store.WatchList(ctx) {
		if err != nil {
			return nil, err
		}
		raws, err := WatchObjects(w, p.watchAddresses(ctx, w), tlp)
		if err != nil {
			return nil, err
		}
		for _, raw := range raws {
			o, err := objectOf(raw, time.Unix(w.Created, 0))
			if err != nil {
				return nil, err
			}
			out = append(out, o)
		}
		levels[tlp] = true
	}
	for level := range levels {
		m, _ := incident.TLPMarking(level)
		raw, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		o, err := objectOf(raw, time.Date(2022, 10, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}
