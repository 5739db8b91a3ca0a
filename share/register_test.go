package share

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/incident"
)

// TestRegisterBatchOpenCTI: the OpenCTI bundle's incident becomes one
// partner incident of the register, keeping its STIX id and version, its
// TLP, the address its indicators give, the intrusion set (Lazarus Group,
// in the register's vocabulary as dprk/lazarus, attributed at tier
// suspected on the partner's word), the victim-less default, the partner
// (the created_by identity) as publisher; it is listed by the register,
// left out of report totals unless asked for. MISP's bundle has no
// incident (its event is a grouping): nothing joins the register.
func TestRegisterBatchOpenCTI(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 5, 15, 0, 0, 0, time.UTC)
	p := readFile(t, "opencti-lazarus.json", ReadOptions{Source: "stix:opencti-lazarus"})
	b := RegisterBatch(p, "stix:opencti-lazarus", "", now)
	if len(b.Incidents) != 1 || len(b.Withdrawn) != 0 {
		t.Fatalf("batch %+v", b)
	}
	inc := b.Incidents[0]
	got := fmt.Sprintf("%s|%s|%s|%s|%s|%v|%+v|%+v", inc.ID, inc.Name, inc.StolenOn.Format(time.DateOnly), inc.TLP, inc.Status, inc.Vectors,
		inc.Addresses, inc.Attributions)
	want := "partner-0b7a5f9b-3f1e-4d6b-8f0c-6f8b1e0a9c21|Example exchange hot wallet drain|2024-02-01|amber|partner|[unknown]|" +
		"[{Chain:btc Address:3Cwgr2g7vsi1bXDUkpEnVoRLA9w4FZfC69 Role:linked Source:partner-stix-opencti-lazarus}]|" +
		"[{Actor:dprk Group:lazarus Tier:suspected On:0001-01-01 00:00:00 +0000 UTC Sources:[partner-stix-opencti-lazarus] Note:the partner relates the incident to Lazarus Group}]"
	if got != want {
		t.Errorf("incident\n%s\nwant\n%s", got, want)
	}
	if pi := inc.Partner; pi == nil || pi.STIXID != "incident--0b7a5f9b-3f1e-4d6b-8f0c-6f8b1e0a9c21" || !pi.Modified.Equal(time.Date(2024, 2, 3, 12, 0, 0, 0, time.UTC)) ||
		pi.Source != "stix:opencti-lazarus" || fmt.Sprint(pi.Actors) != "[Lazarus Group]" {
		t.Errorf("provenance %+v", inc.Partner)
	}
	if !strings.HasPrefix(inc.Notes, "Hot wallet drained") || b.Source.Publisher != "SEAL-ISAC" || b.Source.ID != "partner-stix-opencti-lazarus" ||
		b.Source.Tier != heistgraph.TierSuspected || b.Source.URL != "" {
		t.Errorf("notes %q, source %+v", inc.Notes, b.Source)
	}

	st := openStore(t)
	sv, err := app.SavePartner(ctx, st, b)
	if err != nil || fmt.Sprint(sv.Added) != "[partner-0b7a5f9b-3f1e-4d6b-8f0c-6f8b1e0a9c21]" {
		t.Fatalf("save %+v %v", sv, err)
	}
	list, err := app.Incidents(ctx, st, app.IncidentsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var item *app.IncidentItem
	for i := range list.Incidents {
		if list.Incidents[i].ID == inc.ID {
			item = &list.Incidents[i]
		}
	}
	if item == nil || item.Origin != "partner" || item.Status != incident.StatusPartner || item.Partner == nil ||
		item.Partner.STIXID != inc.Partner.STIXID || fmt.Sprint(item.Actors) != "[dprk]" || item.Tier != heistgraph.TierSuspected {
		t.Errorf("incidents list: %+v", item)
	}
	rep, err := app.Report(ctx, st, app.ReportRequest{Query: incident.Query{Tier: incident.Any, Actor: incident.Any, By: incident.ByStolen}})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rep.Report.PartnerLeftOut) != "[partner-0b7a5f9b-3f1e-4d6b-8f0c-6f8b1e0a9c21]" {
		t.Errorf("report leaves out %v", rep.Report.PartnerLeftOut)
	}

	m := readFile(t, "misp-btc.json", ReadOptions{Source: "stix:misp-btc"})
	if mb := RegisterBatch(m, "stix:misp-btc", "", now); len(mb.Incidents)+len(mb.Withdrawn) != 0 {
		t.Errorf("MISP batch %+v", mb)
	}
}

// TestRegisterBatchOddBundles: incidents with a blank name, a blank
// victim, ids differing only in letter case, odd timestamps and
// addresses on several chains still make a register that passes its
// checks (a partner cannot block a feed's pulls with them).
func TestRegisterBatchOddBundles(t *testing.T) {
	bundle := `{"type":"bundle","id":"bundle--1","objects":[
	{"type":"incident","id":"incident--AAAAAAAA-0000-4000-8000-000000000001","name":"  ","modified":"not a time","first_seen":"1969-12-31T23:59:59Z"},
	{"type":"incident","id":"incident--aaaaaaaa-0000-4000-8000-000000000001","name":"dup"},
	{"type":"incident","id":"incident--x y","created":"2024-01-01T00:00:00Z"},
	{"type":"identity","id":"identity--1","name":" "},
	{"type":"relationship","id":"relationship--1","relationship_type":"targets","source_ref":"incident--x y","target_ref":"identity--1"},
	{"type":"indicator","id":"indicator--1","pattern":"[cryptocurrency-wallet:value = '0x098b716b8aaf21512996dc57eb0615e2383e2f96'] OR [cryptocurrency-wallet:value = '1KFHE7w8BhaENAswwryaoccDb6qcT6DbYY']"},
	{"type":"relationship","id":"relationship--2","relationship_type":"indicates","source_ref":"indicator--1","target_ref":"incident--x y"}]}`
	p, err := Read(strings.NewReader(bundle), ReadOptions{Source: "stix:odd"})
	if err != nil {
		t.Fatal(err)
	}
	b := RegisterBatch(p, "stix:odd", "", time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC))
	if len(b.Incidents) != 2 {
		t.Errorf("%d incidents, want 2 (one per UUID)", len(b.Incidents))
	}
	if _, err := incident.New([]heistgraph.Source{b.Source}, b.Incidents); err != nil {
		t.Errorf("the register refuses them: %v\n%+v", err, b.Incidents)
	}
}
