package storetest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// incidentFixture is an incident with every field set, a 256-bit-range
// amount, a figure at another day, and a zero attribution day.
func incidentFixture(t *testing.T, id string) heistgraph.Incident {
	t.Helper()
	wei, err := heistgraph.ParseBaseUnits("401346770000000000000000") // 401,346.77 ETH: beyond 2^64
	if err != nil {
		t.Fatal(err)
	}
	sat, err := heistgraph.ParseBaseUnits("450290000000")
	if err != nil {
		t.Fatal(err)
	}
	return heistgraph.Incident{
		ID:       id,
		Name:     "Partner heist " + id,
		Victim:   heistgraph.Victim{Name: "Victim Exchange Ltd.", Type: heistgraph.VictimExchange, Country: "SG"},
		StolenOn: day(2025, 2, 21),
		Vectors:  []heistgraph.AttackVector{heistgraph.VectorMultisigUISpoofing, heistgraph.VectorSupplyChain},
		Thefts: []heistgraph.Theft{
			{Chain: "eth", Asset: "ETH", Decimals: 18, Amount: wei, Source: "partner-report"},
			{Chain: "btc", Asset: "BTC", Decimals: 8, Amount: sat, Source: "partner-report"},
			{Chain: "eth", Asset: "USDC", Contract: "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48", Decimals: 6, Amount: sat, Source: "partner-report"},
		},
		Figures: []heistgraph.Figure{
			{Source: "partner-report", USD: 146_000_000_012},
			{Source: "partner-report", USD: 140_000_000_000, At: day(2025, 3, 1), Note: "valued a week later"},
		},
		Addresses: []heistgraph.IncidentAddress{
			{Chain: "eth", Address: "0x47666Fab8bd0Ac7003bce3f5C3585383F09486E2", Role: heistgraph.RoleAttacker, Source: "partner-report"},
			{Chain: "btc", Address: "1B6rJRfjTXwEy36SCs5zofGMmdv2kdZw7P", Role: heistgraph.RoleLaundering, Source: "partner-report"},
		},
		Txs: []heistgraph.IncidentTx{
			{Chain: "eth", TxID: "0x46deef0f52e3a983b67abf4714448a41dd7ffd6d32d32da69d62081c68ad7882", Role: heistgraph.TxTheft, Source: "partner-report"},
		},
		Attributions: []heistgraph.Attribution{
			{Actor: "dprk", Group: "tradertraitor", Tier: heistgraph.TierOfficial, On: day(2025, 2, 26), Sources: []string{"partner-report", "fbi"}, Note: "PSA"},
			{Actor: "dprk", Tier: heistgraph.TierSuspected, Sources: []string{"partner-report"}},
		},
		TLP:          "amber",
		Notes:        "Imported from a partner's STIX bundle.",
		Status:       "suspected",
		FigureChoice: "the partner's own figure",
		Partner: &heistgraph.PartnerIncident{STIXID: "incident--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
			Modified: time.Date(2025, 3, 1, 12, 30, 45, 123000000, time.UTC), Source: "feed:partner-a",
			Actors: []string{"Lazarus Group", "APT38"}, Withdrawn: true},
	}
}

// sourceFixture is a source with every field set; living marks a living
// document (no date, a version instead).
func sourceFixture(id string, living bool) heistgraph.Source {
	s := heistgraph.Source{
		ID: id, Publisher: "Partner CERT", Title: "Report " + id, Date: day(2025, 2, 26),
		URL: "https://example.org/" + id, Tier: heistgraph.TierOfficial, Note: "a note",
		Aggregates: []heistgraph.Aggregate{
			{Year: 2025, USD: 1_500_000_000_00, Count: 3, Incidents: []string{"partner-a", "partner-b"}, Note: "first quarter"},
			{Year: 2024, USD: 1},
		},
	}
	if living {
		s.Date, s.Version, s.Aggregates = time.Time{}, "commit 000ce4a9", nil
	}
	return s
}

func testIncidents(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := open(t)
	incs := []heistgraph.Incident{incidentFixture(t, "partner-b"), incidentFixture(t, "partner-a")}
	incs[0].Txs, incs[0].Vectors = nil, nil // empty lists come back empty
	srcs := []heistgraph.Source{sourceFixture("partner-report", false), sourceFixture("fbi", true)}
	if err := st.PutIncidents(ctx, incs, srcs); err != nil {
		t.Fatalf("put: %v", err)
	}
	t.Run("Get", func(t *testing.T) {
		for _, want := range incs {
			got, err := st.Incident(ctx, want.ID)
			if err != nil {
				t.Fatalf("incident %s: %v", want.ID, err)
			}
			sameIncident(t, got, want)
		}
		for _, want := range srcs {
			got, err := st.Source(ctx, want.ID)
			if err != nil {
				t.Fatalf("source %s: %v", want.ID, err)
			}
			sameSource(t, got, want)
		}
	})
	t.Run("List", func(t *testing.T) {
		var ids []string
		for inc, err := range st.ListIncidents(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, inc.ID)
			i := slices.IndexFunc(incs, func(x heistgraph.Incident) bool { return x.ID == inc.ID })
			if i < 0 {
				t.Fatalf("listed incident %q was never put", inc.ID)
			}
			sameIncident(t, inc, incs[i])
		}
		equal(t, "incident ids in order", ids, []string{"partner-a", "partner-b"})
		ids = nil
		for s, err := range st.ListSources(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, s.ID)
		}
		equal(t, "source ids in order", ids, []string{"fbi", "partner-report"})
	})
	t.Run("NotFound", func(t *testing.T) {
		_, err := st.Incident(ctx, "partner-c")
		wantNotFound(t, "unknown incident", err)
		_, err = st.Incident(ctx, "partner")
		wantNotFound(t, "a prefix of a stored incident id", err)
		_, err = st.Source(ctx, "partner-a")
		wantNotFound(t, "an incident id asked as a source", err)
		_, err = st.Incident(ctx, "fbi")
		wantNotFound(t, "a source id asked as an incident", err)
		_, err = st.Incident(ctx, "")
		wantNotFound(t, "empty id", err)
	})
	t.Run("Replace", func(t *testing.T) {
		st := open(t)
		first := incidentFixture(t, "partner-a")
		if err := st.PutIncidents(ctx, []heistgraph.Incident{first}, nil); err != nil {
			t.Fatal(err)
		}
		second := incidentFixture(t, "partner-a")
		second.Name, second.Addresses = "Renamed", nil
		if err := st.PutIncidents(ctx, []heistgraph.Incident{second}, nil); err != nil {
			t.Fatal(err)
		}
		got, err := st.Incident(ctx, "partner-a")
		if err != nil {
			t.Fatal(err)
		}
		sameIncident(t, got, second)
		n := 0
		for _, err := range st.ListIncidents(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n != 1 {
			t.Errorf("%d incidents listed after replacing one, want 1", n)
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		tests := []struct {
			name string
			incs []heistgraph.Incident
			srcs []heistgraph.Source
		}{
			{"incident without id", []heistgraph.Incident{incidentFixture(t, "partner-a"), {Name: "no id"}}, nil},
			{"source without id", []heistgraph.Incident{incidentFixture(t, "partner-a")}, []heistgraph.Source{{Title: "no id"}}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				st := open(t)
				err := st.PutIncidents(ctx, tc.incs, tc.srcs)
				if !errors.Is(err, heistgraph.ErrInvalid) {
					t.Fatalf("error %v, want one wrapping ErrInvalid", err)
				}
				_, err = st.Incident(ctx, "partner-a")
				if !errors.Is(err, heistgraph.ErrNotFound) {
					t.Errorf("the good incident of a refused batch was stored (err %v): PutIncidents must be atomic", err)
				}
			})
		}
	})
	t.Run("ListCancel", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		var last error
		for _, err := range st.ListIncidents(cctx) {
			last = err
		}
		if !errors.Is(last, context.Canceled) {
			t.Errorf("list on a cancelled context ended with %v, want context.Canceled", last)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		st := open(t)
		for _, err := range st.ListIncidents(ctx) {
			t.Fatalf("a fresh store lists an incident (err %v)", err)
		}
		for _, err := range st.ListSources(ctx) {
			t.Fatalf("a fresh store lists a source (err %v)", err)
		}
	})
}

// sameIncident compares incidents as values: times by instant, nil and
// empty lists alike.
func sameIncident(t *testing.T, got, want heistgraph.Incident) {
	t.Helper()
	equal(t, "incident "+want.ID, normalIncident(got), normalIncident(want))
}

func sameSource(t *testing.T, got, want heistgraph.Source) {
	t.Helper()
	equal(t, "source "+want.ID, normalSource(got), normalSource(want))
}

func normalTime(tm time.Time) time.Time {
	if tm.IsZero() {
		return time.Time{}
	}
	return time.Unix(tm.Unix(), int64(tm.Nanosecond())).UTC()
}

func normalIncident(inc heistgraph.Incident) heistgraph.Incident {
	inc.StolenOn = normalTime(inc.StolenOn)
	inc.Vectors = nilIfEmpty(inc.Vectors)
	inc.Thefts = nilIfEmpty(inc.Thefts)
	inc.Figures = nilIfEmpty(slices.Clone(inc.Figures))
	for i := range inc.Figures {
		inc.Figures[i].At = normalTime(inc.Figures[i].At)
	}
	inc.Addresses = nilIfEmpty(inc.Addresses)
	inc.Txs = nilIfEmpty(inc.Txs)
	inc.Attributions = nilIfEmpty(slices.Clone(inc.Attributions))
	for i := range inc.Attributions {
		inc.Attributions[i].On = normalTime(inc.Attributions[i].On)
		inc.Attributions[i].Sources = nilIfEmpty(inc.Attributions[i].Sources)
	}
	return inc
}

func normalSource(s heistgraph.Source) heistgraph.Source {
	s.Date = normalTime(s.Date)
	s.Aggregates = nilIfEmpty(slices.Clone(s.Aggregates))
	for i := range s.Aggregates {
		s.Aggregates[i].Incidents = nilIfEmpty(s.Aggregates[i].Incidents)
	}
	return s
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// reflectFields counts the exported fields of a struct type, so that a
// field added to heistgraph.Incident or Source without a case here (and in
// every backend's record) fails the suite.
func reflectFields(v any) int { return reflect.TypeOf(v).NumField() }

func testIncidentFields(t *testing.T, _ func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		v    any
		want int
	}{
		{"Incident", heistgraph.Incident{}, 15},
		{"PartnerIncident", heistgraph.PartnerIncident{}, 5},
		{"Source", heistgraph.Source{}, 9},
		{"Aggregate", heistgraph.Aggregate{}, 5},
		{"Theft", heistgraph.Theft{}, 6},
		{"Figure", heistgraph.Figure{}, 4},
		{"Attribution", heistgraph.Attribution{}, 6},
		{"IncidentAddress", heistgraph.IncidentAddress{}, 4},
		{"IncidentTx", heistgraph.IncidentTx{}, 4},
		{"Victim", heistgraph.Victim{}, 3},
	}
	for _, tc := range tests {
		if got := reflectFields(tc.v); got != tc.want {
			t.Errorf("heistgraph.%s has %d fields, the suite's fixtures know %d: set the new field in incidentFixture/sourceFixture and persist it in every backend", tc.name, got, tc.want)
		}
	}
}
