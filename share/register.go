package share

import (
	"cmp"
	"strings"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/incident"
	"github.com/heistgraph/heistgraph/taxii"
)

// maxNotes bounds the description of a partner's incident kept as its
// notes, in bytes.
const maxNotes = 4000

// PartnerSourceID is the id of the register's source record for the
// partner incidents of a label source: "feed:partner-a" gives
// "partner-feed-partner-a".
func PartnerSourceID(from string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(from) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	id := strings.Trim(b.String(), "-")
	if len(id) > 100 {
		id = strings.Trim(id[:100], "-")
	}
	return incident.PartnerSourcePrefix + cmp.Or(id, "unnamed")
}

// RegisterBatch turns what Read found into the incidents of the register
// (status partner, heistgraph.Incident.Partner naming the STIX id and
// version, from and the partner's actors), their source record (from, at
// url when there is one: a feed's; tier suspected, dated now) and the
// revoked incidents to withdraw. Each incident keeps the partner's TLP, its
// addresses (the ones its indicators and observables give, role linked),
// the day it began (first_seen, else created) and its description, and is
// attributed, at tier suspected on the partner's word, to the actors of
// the register's vocabulary that its threat actors or intrusion sets name.
func RegisterBatch(p *Partner, from, url string, now time.Time) incident.PartnerBatch {
	publisher := from
	for _, inc := range p.Incidents {
		if inc.CreatedBy != "" {
			publisher = inc.CreatedBy
			break
		}
	}
	y, m, d := now.UTC().Date()
	src := heistgraph.Source{ID: PartnerSourceID(from), Publisher: publisher, Title: "Incidents shared by " + publisher + " (" + from + ")",
		Date: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), URL: url, Tier: heistgraph.TierSuspected,
		Note: "a partner's STIX incidents: listed and shown, left out of report totals unless asked for (status partner)"}
	b := incident.PartnerBatch{Source: src, From: from}
	ids := map[string]bool{}
	for _, pi := range p.Incidents {
		inc := registerIncident(pi, src.ID, from, now)
		if ids[inc.ID] {
			continue // the same UUID in other letter case: one incident
		}
		ids[inc.ID] = true
		b.Incidents = append(b.Incidents, inc)
	}
	for _, pi := range p.RevokedIncidents {
		b.Withdrawn = append(b.Withdrawn, heistgraph.PartnerIncident{STIXID: pi.ID, Modified: stixTime(pi.Modified, now), Source: from})
	}
	return b
}

// registerIncident is one partner incident as the register keeps it.
func registerIncident(pi Incident, srcID, from string, now time.Time) heistgraph.Incident {
	began := stixTime(cmp.Or(pi.FirstSeen, pi.Modified), now)
	y, m, d := began.Date()
	notes := pi.Description
	if len(notes) > maxNotes {
		notes = strings.ToValidUTF8(notes[:maxNotes], "") + "..."
	}
	inc := heistgraph.Incident{ID: incident.PartnerID(pi.ID), Name: cmp.Or(strings.TrimSpace(pi.Name), pi.ID),
		Victim:   heistgraph.Victim{Name: cmp.Or(strings.TrimSpace(pi.Victim), "not named by the partner"), Type: heistgraph.VictimOther},
		StolenOn: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), Vectors: []heistgraph.AttackVector{heistgraph.VectorUnknown},
		TLP: cmp.Or(pi.TLP, "clear"), Notes: notes, Status: incident.StatusPartner,
		Partner: &heistgraph.PartnerIncident{STIXID: pi.ID, Modified: stixTime(pi.Modified, now), Source: from, Actors: pi.Actors}}
	for _, a := range pi.Addresses {
		chain, addr, _ := strings.Cut(a, ":")
		inc.Addresses = append(inc.Addresses, heistgraph.IncidentAddress{Chain: heistgraph.Chain(chain), Address: addr,
			Role: heistgraph.RoleLinked, Source: srcID})
	}
	seen := map[string]bool{}
	for _, names := range pi.ActorNames {
		// An actor is the first of its names (its name, then its aliases)
		// that the vocabulary knows.
		for _, name := range names {
			actor, group, ok := incident.PartnerActor(name)
			if !ok {
				continue
			}
			if !seen[actor+"/"+group] {
				seen[actor+"/"+group] = true
				inc.Attributions = append(inc.Attributions, heistgraph.Attribution{Actor: actor, Group: group, Tier: heistgraph.TierSuspected,
					Sources: []string{srcID}, Note: "the partner relates the incident to " + names[0]})
			}
			break
		}
	}
	return inc
}

// stixTime reads a STIX timestamp; an unreadable one (Read keeps what
// partners write) is now.
func stixTime(s string, now time.Time) time.Time {
	t, err := taxii.ParseTimestamp(s)
	if err != nil {
		return now.UTC()
	}
	return t.UTC()
}
