package incident

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/incidents"
)

// partnerIncident is a partner's incident as share.RegisterBatch makes
// them: status partner, no figures, an attribution on the partner's word.
func partnerIncident(stixID, modified, from string, addrs ...string) heistgraph.Incident {
	m, _ := time.Parse(time.RFC3339, modified)
	inc := heistgraph.Incident{ID: PartnerID(stixID), Name: "Drain " + stixID[len(stixID)-4:],
		Victim:   heistgraph.Victim{Name: "not named by the partner", Type: heistgraph.VictimOther},
		StolenOn: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), Vectors: []heistgraph.AttackVector{heistgraph.VectorUnknown},
		TLP: "amber", Status: StatusPartner,
		Attributions: []heistgraph.Attribution{{Actor: "dprk", Group: "lazarus", Tier: heistgraph.TierSuspected, Sources: []string{"partner-feed-a"}}},
		Partner:      &heistgraph.PartnerIncident{STIXID: stixID, Modified: m, Source: from, Actors: []string{"Lazarus Group"}}}
	for _, a := range addrs {
		inc.Addresses = append(inc.Addresses, heistgraph.IncidentAddress{Chain: heistgraph.ChainBTC, Address: a, Role: heistgraph.RoleLinked, Source: "partner-feed-a"})
	}
	return inc
}

// TestSavePartner: a partner's incidents join the register with status
// partner, apart from report totals unless asked; saving again changes
// nothing; a newer version (or a new address) updates, an older one does
// not; a revoked version withdraws and an older version cannot bring it
// back; a complete batch withdraws what the partner no longer has and
// restores it when it comes back.
func TestSavePartner(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	src := heistgraph.Source{ID: "partner-feed-a", Publisher: "SEAL-ISAC", Title: "Incidents shared by SEAL-ISAC (feed:a)",
		Date: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Tier: heistgraph.TierSuspected}
	const idA, idB = "incident--0b7a5f9b-3f1e-4d6b-8f0c-6f8b1e0a9c21", "incident--1c8b6a0c-4a2f-4e7c-9a1d-7a9c2f1b0d32"
	a1 := partnerIncident(idA, "2024-02-03T12:00:00Z", "feed:a", "3Cwgr2g7vsi1bXDUkpEnVoRLA9w4FZfC69")
	b1 := partnerIncident(idB, "2024-03-01T00:00:00Z", "feed:a")
	save := func(b PartnerBatch) PartnerSaved {
		t.Helper()
		if b.Source.ID == "" {
			b.Source = src
		}
		b.From = "feed:a"
		sv, err := SavePartner(ctx, incidents.FS, st, b)
		if err != nil {
			t.Fatal(err)
		}
		return sv
	}
	listed := func() []string {
		t.Helper()
		reg, err := LoadWith(ctx, incidents.FS, st)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, inc := range reg.Incidents() {
			if inc.Partner != nil {
				out = append(out, inc.ID)
			}
		}
		return out
	}
	want := func(what string, sv PartnerSaved, added, updated, unchanged, withdrawn, older int) {
		t.Helper()
		if len(sv.Added) != added || len(sv.Updated) != updated || len(sv.Unchanged) != unchanged || len(sv.Withdrawn) != withdrawn || len(sv.Older) != older {
			t.Errorf("%s: %+v", what, sv)
		}
	}

	want("first save", save(PartnerBatch{Incidents: []heistgraph.Incident{a1, b1}}), 2, 0, 0, 0, 0)
	if got := listed(); !slices.Equal(got, []string{PartnerID(idA), PartnerID(idB)}) {
		t.Fatalf("register's partner incidents %v", got)
	}
	reg, err := LoadWith(ctx, incidents.FS, st)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := reg.Incident(PartnerID(idA))
	if got.Partner == nil || got.Partner.STIXID != idA || got.Status != StatusPartner || got.TLP != "amber" || len(got.Addresses) != 1 {
		t.Errorf("stored %+v", got)
	}
	// Report totals leave partners' incidents out unless asked.
	rep, err := Build(reg, Query{Actor: "dprk"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(rep.PartnerLeftOut, PartnerID(idA)) || slices.ContainsFunc(rep.Incidents, func(ri ReportIncident) bool { return ri.ID == PartnerID(idA) }) {
		t.Errorf("default report counts partners' incidents: left out %v", rep.PartnerLeftOut)
	}
	with, err := Build(reg, Query{Actor: "dprk", IncludePartner: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if with.Count != rep.Count+2 || len(with.PartnerLeftOut) != 0 || with.TotalUSD != rep.TotalUSD {
		t.Errorf("--include-partner: %d incidents (default %d), left out %v", with.Count, rep.Count, with.PartnerLeftOut)
	}

	want("the same again", save(PartnerBatch{Incidents: []heistgraph.Incident{a1, b1}}), 0, 0, 2, 0, 0)
	// The partner relates a new address to A without a new version: the
	// register follows.
	a1b := partnerIncident(idA, "2024-02-03T12:00:00Z", "feed:a", "3Cwgr2g7vsi1bXDUkpEnVoRLA9w4FZfC69", "1KFHE7w8BhaENAswwryaoccDb6qcT6DbYY")
	want("a new address", save(PartnerBatch{Incidents: []heistgraph.Incident{a1b}}), 0, 1, 0, 0, 0)
	a2 := partnerIncident(idA, "2024-02-05T00:00:00Z", "feed:a", "3Cwgr2g7vsi1bXDUkpEnVoRLA9w4FZfC69")
	a2.Name = "Exchange hot wallet drain (confirmed)"
	want("a newer version", save(PartnerBatch{Incidents: []heistgraph.Incident{a2}}), 0, 1, 0, 0, 0)
	want("an older version", save(PartnerBatch{Incidents: []heistgraph.Incident{a1}}), 0, 0, 0, 0, 1)
	if inc, err := st.Incident(ctx, PartnerID(idA)); err != nil || inc.Name != a2.Name {
		t.Errorf("after an older version: %+v %v", inc, err)
	}

	// Revoked: withdrawn, and an older version cannot bring it back.
	revoked := heistgraph.PartnerIncident{STIXID: idA, Modified: time.Date(2024, 2, 6, 0, 0, 0, 0, time.UTC), Source: "feed:a"}
	want("revoked", save(PartnerBatch{Withdrawn: []heistgraph.PartnerIncident{revoked}}), 0, 0, 0, 1, 0)
	if got := listed(); !slices.Equal(got, []string{PartnerID(idB)}) {
		t.Errorf("after revoking A: %v", got)
	}
	want("revoked again", save(PartnerBatch{Withdrawn: []heistgraph.PartnerIncident{revoked}}), 0, 0, 1, 0, 0)
	want("A's older version after the revocation", save(PartnerBatch{Incidents: []heistgraph.Incident{a2}}), 0, 0, 0, 0, 1)
	if got := listed(); !slices.Equal(got, []string{PartnerID(idB)}) {
		t.Errorf("an older version brought A back: %v", got)
	}

	// A complete batch without B withdraws B; B's return restores it.
	want("B gone from the feed", save(PartnerBatch{Complete: true}), 0, 0, 0, 1, 0)
	if got := listed(); len(got) != 0 {
		t.Errorf("after B left the feed: %v", got)
	}
	want("B back", save(PartnerBatch{Incidents: []heistgraph.Incident{b1}, Complete: true}), 0, 1, 0, 0, 0)
	if got := listed(); !slices.Equal(got, []string{PartnerID(idB)}) {
		t.Errorf("after B came back: %v", got)
	}

	// Refused, with nothing stored: an incident of another source, one
	// that breaks the register's checks, a status other than partner.
	other := partnerIncident("incident--2d9c7b1d-5b3a-4f8d-8b2e-8bad0c2e1e43", "2024-01-01T00:00:00Z", "feed:b")
	bad := partnerIncident("incident--3e0d8c2e-6c4b-4a9e-9c3f-9cbe1d3f2f54", "2024-01-01T00:00:00Z", "feed:a", "not-an-address")
	notPartner := partnerIncident("incident--4f1e9d3f-7d5c-4baf-8d40-adcf2e403065", "2024-01-01T00:00:00Z", "feed:a")
	notPartner.Status = StatusSuspected
	for _, inc := range []heistgraph.Incident{other, bad, notPartner} {
		if _, err := SavePartner(ctx, incidents.FS, st, PartnerBatch{Source: src, From: "feed:a", Incidents: []heistgraph.Incident{inc}}); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("save %s: %v, want ErrInvalid", inc.Partner.STIXID, err)
		}
		if _, err := st.Incident(ctx, inc.ID); !errors.Is(err, heistgraph.ErrNotFound) {
			t.Errorf("%s stored after a refusal: %v", inc.ID, err)
		}
	}
}

// TestPartnerID: a STIX id's UUID is the register id; anything else a hash.
func TestPartnerID(t *testing.T) {
	for stixID, want := range map[string]string{
		"incident--0B7A5F9B-3f1e-4d6b-8f0c-6f8b1e0a9c21": "partner-0b7a5f9b-3f1e-4d6b-8f0c-6f8b1e0a9c21",
		"incident--not a uuid":                           "partner-" + hashID("incident--not a uuid"),
	} {
		if got := PartnerID(stixID); got != want || !idRE.MatchString(got) {
			t.Errorf("PartnerID(%q) = %q, want %q", stixID, got, want)
		}
	}
	for name, want := range map[string]string{"Lazarus Group": "dprk/lazarus", "HIDDEN COBRA": "dprk/lazarus", "apt38": "dprk/apt38",
		"North Korea": "dprk/", "APT41": ""} {
		a, g, ok := PartnerActor(name)
		if got := map[bool]string{true: a + "/" + g}[ok]; got != want {
			t.Errorf("PartnerActor(%q) = %q, want %q", name, got, want)
		}
	}
}
