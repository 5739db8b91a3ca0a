package share

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/incident"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/taxii"
)

// CollectionAlerts is the collection of the monitor's alerts, served when
// the publisher chooses (Publisher.Alerts).
const CollectionAlerts = "heistgraph-alerts"

// sighting is a STIX sighting of an incident: one alert.
type sighting struct {
	Type              string            `json:"type"`
	SpecVersion       string            `json:"spec_version"`
	ID                string            `json:"id"`
	CreatedByRef      string            `json:"created_by_ref"`
	Created           string            `json:"created"`
	Modified          string            `json:"modified"`
	Revoked           bool              `json:"revoked,omitempty"`
	Description       string            `json:"description"`
	FirstSeen         string            `json:"first_seen"`
	LastSeen          string            `json:"last_seen"`
	Count             int               `json:"count"`
	SightingOfRef     string            `json:"sighting_of_ref"`
	ObjectMarkingRefs []string          `json:"object_marking_refs"`
	XAlert            *heistgraph.Alert `json:"x_heistgraph_alert"`
}

// watchIncidentID is the STIX id of the incident a watch's alerts are
// sightings of: the register's incident for an incident's watch, else
// the watch's own incident of the watches collection.
func watchIncidentID(a heistgraph.Alert, reg map[string]bool) string {
	if a.Incident != "" && reg[a.Incident] {
		return incident.STIXID("incident", "incident|"+a.Incident)
	}
	return incident.STIXID("incident", "watch|"+a.Watch)
}

// alerts publishes every alert as a sighting of its watch's incident,
// marked like the watches, concerning the entity the money reached (so a
// key scoped to an exchange reads the alerts about it). An alert a
// retraction withdrew is served in a newer version, revoked.
func (p *Publisher) alerts(ctx context.Context, tlp string) ([]taxii.Object, error) {
	mark, ok := incident.TLPMarkingID(tlp)
	if !ok {
		return nil, fmt.Errorf("alerts: TLP %q: %w", tlp, heistgraph.ErrInvalid)
	}
	reg := map[string]bool{}
	if r, err := registerIDs(ctx, p.Store); err == nil {
		reg = r
	}
	var all []store.StoredAlert
	retracted := map[string]int64{} // idempotency key -> when its retraction was raised
	for a, err := range p.Store.AlertList(ctx, store.AlertQuery{}) {
		if err != nil {
			return nil, err
		}
		if a.Kind == heistgraph.AlertRetracted {
			retracted[a.Retracts] = a.Raised
			continue
		}
		all = append(all, a)
	}
	var out []taxii.Object
	for _, a := range all {
		raised := time.Unix(a.Raised, 0)
		seen := incident.STIXTime(time.Unix(a.Time, 0))
		s := sighting{Type: "sighting", SpecVersion: "2.1", ID: incident.STIXID("sighting", "alert|"+a.IdempotencyKey),
			CreatedByRef: incident.STIXProducerID(), Created: incident.STIXTime(raised), Modified: incident.STIXTime(raised),
			Description: fmt.Sprintf("%s: %d sat of watch %s at %s:%d (%s %s, block %d)", a.Kind, a.AmountSat, a.Watch, a.TxID, a.Vout, a.Entity, a.Category, a.BlockHeight),
			FirstSeen:   seen, LastSeen: seen, Count: 1, SightingOfRef: watchIncidentID(a.Alert, reg), ObjectMarkingRefs: []string{mark}, XAlert: &a.Alert}
		versions := []sighting{s}
		if at, ok := retracted[a.IdempotencyKey]; ok {
			r := s
			r.Revoked, r.Modified = true, incident.STIXTime(time.Unix(max(at, a.Raised+1), 0))
			versions = append(versions, r)
		}
		for _, v := range versions {
			raw, err := json.Marshal(v)
			if err != nil {
				return nil, err
			}
			o, err := objectOf(raw, raised)
			if err != nil {
				return nil, err
			}
			o.DateAdded = o.Version
			o.Entity = a.Entity
			out = append(out, o)
		}
	}
	return out, nil
}

// registerIDs are the ids of the register's incidents.
func registerIDs(ctx context.Context, st store.Store) (map[string]bool, error) {
	reg, _, err := app.Register(ctx, st)
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, inc := range reg.Incidents() {
		ids[inc.ID] = true
	}
	return ids, nil
}
