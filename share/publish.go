package share

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/incident"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/taxii"
)

// The collections heistgraph publishes (design.md fixes their titles; the
// ids are the titles, which TAXII allows as any string).
const (
	CollectionIncidents  = "heistgraph-incidents"
	CollectionIndicators = "heistgraph-indicators"
	CollectionWatches    = "heistgraph-watches"
	CollectionInbox      = "heistgraph-inbox"
)

// Publisher is what the server's TAXII routes publish, read from a store
// at each request (so a new watch or label is served at once).
type Publisher struct {
	Store store.Store
	// WatchTLP marks the objects of the watches collection (default
	// green).
	WatchTLP string
	// Now is the clock of posts (date added); nil means time.Now.
	Now func() time.Time
	// Alerts publishes the monitor's alerts too (CollectionAlerts, marked
	// like the watches).
	Alerts bool
}

// watchTLP is the marking of the watches and alerts collections.
func (p *Publisher) watchTLP() string {
	if p.WatchTLP == "" {
		return "green"
	}
	return p.WatchTLP
}

// Collections lists the four collections.
func (p *Publisher) Collections() []taxii.CollectionInfo {
	col := func(id, desc, read, write string) taxii.CollectionInfo {
		return taxii.CollectionInfo{Collection: taxii.Collection{ID: id, Title: id, Description: desc,
			MediaTypes: []string{taxii.STIXMediaType}}, ReadRole: read, WriteRole: write}
	}
	cols := []taxii.CollectionInfo{
		col(CollectionIncidents, "The incident register: incidents, victims, actors, sources and their addresses", "viewer", ""),
		col(CollectionIndicators, "Attacker and stolen-fund addresses as indicators, with the incidents they indicate", "viewer", ""),
		col(CollectionWatches, "Flagged addresses of the live monitor's watches, one incident per watch", "viewer", ""),
		col(CollectionInbox, "What partners post to us", "analyst", "analyst"),
	}
	if p.Alerts {
		cols = append(cols, col(CollectionAlerts, "The live monitor's alerts, each a sighting of its watch's incident", "viewer", ""))
	}
	return cols
}

// Objects returns the objects of a collection.
func (p *Publisher) Objects(ctx context.Context, id string) ([]taxii.Object, error) {
	switch id {
	case CollectionIncidents, CollectionIndicators:
		return p.register(ctx, id == CollectionIndicators)
	case CollectionWatches:
		return p.watches(ctx)
	case CollectionAlerts:
		if p.Alerts {
			return p.alerts(ctx, p.watchTLP())
		}
	case CollectionInbox:
		var out []taxii.Object
		for so, err := range p.Store.SharedObjects(ctx, CollectionInbox) {
			if err != nil {
				return nil, err
			}
			o, err := objectOf(so.Raw, time.Unix(0, so.DateAdded))
			if err != nil {
				return nil, err
			}
			out = append(out, o)
		}
		return out, nil
	}
	return nil, fmt.Errorf("collection %q: %w", id, heistgraph.ErrNotFound)
}

// objectOf is taxii.ObjectOf with the object's TLP.
func objectOf(raw []byte, added time.Time) (taxii.Object, error) {
	o, err := taxii.ObjectOf(raw, added)
	if err != nil {
		return o, err
	}
	var m struct {
		Markings []string `json:"object_marking_refs"`
	}
	_ = json.Unmarshal(raw, &m)
	o.TLP = incident.TLPOfMarkings(m.Markings)
	if o.Type == "marking-definition" {
		o.TLP = "" // the definitions themselves are public
		o.Entity = taxii.AnyEntity
	}
	return o, nil
}

// entities maps the objects of a register export to the entity they
// concern, for keys scoped to one entity: an incident, its victim and
// what points to it (indicators, relationships) concern the victim;
// threat actors, the producer and markings are shared context
// (taxii.AnyEntity); reports span incidents and concern no one entity.
func entities(objs []json.RawMessage) map[string]string {
	type head struct {
		Type, ID, Name string
		Kind           string `json:"relationship_type"`
		Source         string `json:"source_ref"`
		Target         string `json:"target_ref"`
	}
	var hs []head
	victim := map[string]string{} // identity id -> name
	for _, raw := range objs {
		var h head
		_ = json.Unmarshal(raw, &h)
		hs = append(hs, h)
		if h.Type == "identity" {
			victim[h.ID] = h.Name
		}
	}
	out := map[string]string{incident.STIXProducerID(): taxii.AnyEntity}
	for _, h := range hs {
		if h.Type == "threat-actor" {
			out[h.ID] = taxii.AnyEntity
		}
		if h.Type == "relationship" && h.Kind == "targets" && strings.HasPrefix(h.Source, "incident--") {
			out[h.Source], out[h.Target], out[h.ID] = victim[h.Target], victim[h.Target], victim[h.Target]
		}
	}
	for _, h := range hs {
		if h.Type != "relationship" || h.Kind == "targets" {
			continue
		}
		inc, other := h.Target, h.Source
		if strings.HasPrefix(h.Source, "incident--") {
			inc, other = h.Source, h.Target
		}
		e := out[inc]
		if !strings.HasPrefix(inc, "incident--") || e == "" {
			continue
		}
		out[h.ID] = e
		if strings.HasPrefix(other, "indicator--") {
			out[other] = e
		}
	}
	return out
}

// indicatorTypes are the objects of the indicators collection.
var indicatorTypes = []string{"marking-definition", "identity", "incident", "indicator", "relationship"}

// register exports the whole register and splits the bundle; with
// indicators, it keeps the indicators, what they indicate and the
// relationships that say so.
func (p *Publisher) register(ctx context.Context, indicators bool) ([]taxii.Object, error) {
	reg, _, err := app.Register(ctx, p.Store)
	if err != nil {
		return nil, err
	}
	// Partners' incidents are not republished: each partner publishes its
	// own (and two partners pulling each other's incidents would echo).
	var incs []heistgraph.Incident
	for _, inc := range reg.Incidents() {
		if inc.Partner == nil {
			incs = append(incs, inc)
		}
	}
	if len(incs) == 0 {
		return nil, nil
	}
	b, err := incident.Export(incs, reg.Sources(), incident.ExportOptions{})
	if err != nil {
		return nil, err
	}
	var bundle struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		return nil, fmt.Errorf("share: the register's bundle: %w", err)
	}
	entity := entities(bundle.Objects)
	var out []taxii.Object
	for _, raw := range bundle.Objects {
		o, err := objectOf(compact(raw), time.Time{})
		if err != nil {
			return nil, err
		}
		o.Entity = entity[o.ID]
		o.DateAdded = o.Version
		if o.Type == "marking-definition" {
			o.DateAdded = time.Date(2022, 10, 1, 0, 0, 0, 0, time.UTC)
		}
		if indicators && !slices.Contains(indicatorTypes, o.Type) {
			continue
		}
		if indicators && o.Type == "relationship" {
			var r struct {
				Kind string `json:"relationship_type"`
			}
			if json.Unmarshal(raw, &r) != nil || r.Kind != "indicates" {
				continue
			}
		}
		out = append(out, o)
	}
	return out, nil
}

func compact(raw []byte) []byte {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

// AddObjects stores what a partner posts to the inbox and answers the
// status: each object that is a STIX object (type, type--uuid id,
// timestamps) succeeds, others fail with the reason.
func (p *Publisher) AddObjects(ctx context.Context, id, keyID string, raws []json.RawMessage) (taxii.Status, error) {
	if id != CollectionInbox {
		return taxii.Status{}, fmt.Errorf("collection %s is not writable: %w", id, heistgraph.ErrInvalid)
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	t := now().UTC()
	var sid [16]byte
	if _, err := rand.Read(sid[:]); err != nil {
		return taxii.Status{}, err
	}
	h := hex.EncodeToString(sid[:])
	st := taxii.Status{ID: h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], Status: "complete",
		RequestTimestamp: taxii.Timestamp(t), TotalCount: len(raws)}
	var keep []store.SharedObject
	for i, raw := range raws {
		o, err := taxii.ObjectOf(raw, t)
		if err != nil {
			st.Failures = append(st.Failures, taxii.StatusDetail{ID: fmt.Sprintf("objects[%d]", i), Message: err.Error()})
			continue
		}
		keep = append(keep, store.SharedObject{ID: o.ID, Version: o.Version.UnixNano(), DateAdded: t.UnixNano(), KeyID: keyID, Raw: compact(raw)})
		st.Successes = append(st.Successes, taxii.StatusDetail{ID: o.ID, Version: o.Version.Format("2006-01-02T15:04:05.000Z")})
	}
	if len(keep) > 0 {
		if err := p.Store.PutSharedObjects(ctx, CollectionInbox, keep); err != nil {
			return taxii.Status{}, err
		}
	}
	st.SuccessCount, st.FailureCount = len(st.Successes), len(st.Failures)
	b, err := json.Marshal(st)
	if err != nil {
		return taxii.Status{}, err
	}
	if err := p.Store.PutShareStatus(ctx, st.ID, b); err != nil {
		return taxii.Status{}, err
	}
	return st, nil
}

// DeleteObjects removes versions of the inbox's objects (a partner's
// TAXII DELETE); the other collections are generated and not writable.
func (p *Publisher) DeleteObjects(ctx context.Context, id string, objs []taxii.Object) error {
	if id != CollectionInbox {
		return fmt.Errorf("collection %s is not writable: %w", id, heistgraph.ErrInvalid)
	}
	vs := make([]store.SharedVersion, len(objs))
	for i, o := range objs {
		vs[i] = store.SharedVersion{ID: o.ID, Version: o.Version.UnixNano()}
	}
	return p.Store.DeleteSharedObjects(ctx, CollectionInbox, vs)
}

// Status returns a stored status.
func (p *Publisher) Status(ctx context.Context, id string) (taxii.Status, error) {
	b, err := p.Store.ShareStatus(ctx, id)
	if err != nil {
		return taxii.Status{}, err
	}
	var st taxii.Status
	if err := json.Unmarshal(b, &st); err != nil {
		return taxii.Status{}, fmt.Errorf("status %s: %w", id, errors.Join(err, heistgraph.ErrConflict))
	}
	return st, nil
}
