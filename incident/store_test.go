package incident

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/incidents"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// openStore opens an empty Pebble store in memory for the test.
func openStore(t *testing.T) store.Store {
	t.Helper()
	opts := pebble.DefaultOptions()
	opts.FS = vfs.NewMem()
	db, err := pebble.Open("db", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// partnerBundle exports the partner fixture register (testdata/partner) as
// a STIX bundle and reads it back, as `import stix` does.
func partnerBundle(t *testing.T) *Register {
	t.Helper()
	// The fixture holds its own copy of a shipped source, so the directory
	// is a register of its own.
	reg, err := Load(os.DirFS("testdata/partner"))
	if err != nil {
		t.Fatalf("load partner fixture: %v", err)
	}
	b, err := Export(reg.Incidents(), reg.Sources(), ExportOptions{Name: "partner"})
	if err != nil {
		t.Fatal(err)
	}
	in, err := Import(b)
	if err != nil {
		t.Fatalf("import partner bundle: %v", err)
	}
	return in
}

func TestLoadWithEmptyStore(t *testing.T) {
	t.Parallel()
	reg, err := LoadWith(context.Background(), incidents.FS, openStore(t))
	if err != nil {
		t.Fatal(err)
	}
	shipped := loadShipped(t)
	if len(reg.Incidents()) != len(shipped.Incidents()) || len(reg.Sources()) != len(shipped.Sources()) {
		t.Fatalf("a fresh store gives %d incidents and %d sources, want the shipped %d and %d",
			len(reg.Incidents()), len(reg.Sources()), len(shipped.Incidents()), len(shipped.Sources()))
	}
	if reg.Imported("dmm-bitcoin-2024") || reg.ImportedSource("joint-statement-2025-01-14") {
		t.Error("a shipped record is marked imported")
	}
}

// TestSaveImported stores a partner's bundle and loads it back merged with
// the shipped register: the partner's own records are added, the shipped
// ones win over the partner's copies, and reports see the imported incident.
func TestSaveImported(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	sv, err := SaveImported(ctx, incidents.FS, st, partnerBundle(t))
	if err != nil {
		t.Fatal(err)
	}
	want := Saved{Incidents: []string{"partner-exchange-2025"}, Sources: []string{"partner-cert-2025-03-01"},
		ShippedIncidents: []string{"dmm-bitcoin-2024"}, ShippedSources: []string{"fbi-2024-12-23-dmm"}}
	if !sameSaved(sv, want) {
		t.Fatalf("saved %+v, want %+v", sv, want)
	}
	if _, err := st.Incident(ctx, "dmm-bitcoin-2024"); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Errorf("the partner's copy of a shipped incident was stored (err %v)", err)
	}

	reg, err := LoadWith(ctx, incidents.FS, st)
	if err != nil {
		t.Fatal(err)
	}
	if n, ship := len(reg.Incidents()), len(loadShipped(t).Incidents()); n != ship+1 {
		t.Errorf("merged register has %d incidents, want the %d shipped + 1", n, ship)
	}
	p, ok := reg.Incident("partner-exchange-2025")
	if !ok || !reg.Imported("partner-exchange-2025") || !reg.ImportedSource("partner-cert-2025-03-01") {
		t.Fatalf("partner incident missing or not marked imported: %v", ok)
	}
	if p.Figures[0].USD != 10_000_000_050 || p.TLP != "green" || len(p.Addresses) != 2 || p.Thefts[0].Amount.Uint64() != 5_000_000_000 {
		t.Errorf("partner incident lost data: %+v", p)
	}
	dmm, _ := reg.Incident("dmm-bitcoin-2024")
	if dmm.Name != "DMM Bitcoin" || reg.Imported("dmm-bitcoin-2024") {
		t.Errorf("dmm-bitcoin-2024 is %q (imported %v): the shipped record must win", dmm.Name, reg.Imported("dmm-bitcoin-2024"))
	}
	fbi, _ := reg.Source("fbi-2024-12-23-dmm")
	if !strings.Contains(fbi.URL, "fbi.gov") {
		t.Errorf("fbi-2024-12-23-dmm URL %s: the shipped source must win", fbi.URL)
	}

	rep, err := Build(reg, Query{Year: 2025}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rep.Incidents, func(ri ReportIncident) bool {
		return ri.ID == "partner-exchange-2025" && ri.USD == 10_000_000_050
	}) {
		t.Errorf("the 2025 report lacks the imported incident at its figure: %+v", rep.Incidents)
	}
	js, err := Build(reg, Query{Source: "joint-statement-2025-01-14"}, nil)
	if err != nil || js.TotalUSD != 65_913_000_000 || js.Count != 5 {
		t.Errorf("joint statement after an import: %s over %d (%v), want 659130000.00 over 5", js.TotalUSD, js.Count, err)
	}

	t.Run("again is idempotent", func(t *testing.T) {
		sv2, err := SaveImported(ctx, incidents.FS, st, partnerBundle(t))
		if err != nil || !sameSaved(sv2, want) {
			t.Fatalf("second import: %+v, %v", sv2, err)
		}
		reg2, err := LoadWith(ctx, incidents.FS, st)
		if err != nil || len(reg2.Incidents()) != len(reg.Incidents()) {
			t.Fatalf("after a second import: %v", err)
		}
	})
}

// TestSaveImportedRefused: an imported incident that only fits its own
// bundle, not the merged register, is refused and nothing is stored.
func TestSaveImportedRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// The partner calls the Chainalysis report (industry in the shipped
	// register) official and attributes officially on it: with the shipped
	// record winning, the attribution's tier exceeds its source's.
	src := `sources:
  - {id: chainalysis-2024-12-19, publisher: Partner, title: T, date: 2024-12-19, url: "https://example.org", tier: official}
  - {id: partner-src, publisher: Partner, title: T, date: 2025-01-01, url: "https://example.org", tier: official}
`
	inc := `id: partner-heist-2024
name: P
victim: {name: V, type: exchange}
stolen_on: 2024-03-01
vectors: [unknown]
figures: [{source: partner-src, usd: "5"}]
attributions: [{actor: dprk, tier: official, on: 2024-12-19, sources: [chainalysis-2024-12-19]}]
`
	in, err := Load(fstest.MapFS{"sources.yaml": {Data: []byte(src)}, "partner-heist-2024.yaml": {Data: []byte(inc)}})
	if err != nil {
		t.Fatalf("the bundle is valid on its own: %v", err)
	}
	st := openStore(t)
	_, err = SaveImported(ctx, incidents.FS, st, in)
	var ve *ValidationError
	if !errors.Is(err, heistgraph.ErrInvalid) || !errors.As(err, &ve) || !strings.Contains(err.Error(), "partner-heist-2024") {
		t.Fatalf("error %v, want a ValidationError naming partner-heist-2024", err)
	}
	for inc, err := range st.ListIncidents(ctx) {
		t.Errorf("a refused import stored %q (%v)", inc.ID, err)
	}
	for s, err := range st.ListSources(ctx) {
		t.Errorf("a refused import stored source %q (%v)", s.ID, err)
	}
}

// TestPricesFrom values DMM Bitcoin from prices kept in the store, as
// `incidents report` does after `prices import`.
func TestPricesFrom(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	if err := st.PutPrices(ctx, loadPricesList(t)); err != nil {
		t.Fatal(err)
	}
	reg := loadShipped(t)
	dmm, _ := reg.Incident("dmm-bitcoin-2024")
	table, err := PricesFrom(ctx, st, []heistgraph.Incident{dmm})
	if err != nil {
		t.Fatal(err)
	}
	v := Value(dmm, "", table)
	// 4,502.9 BTC at CoinGecko's 2024-05-31 snapshot (the same as from the
	// in-memory table of the CSV).
	if v.Source != USDFromPrices || v.USD != Value(dmm, "", loadPrices(t)).USD || v.USD.Dollars() != 307_874_498 {
		t.Errorf("DMM valued at %s from %s, want $307,874,498 from prices", v.USD, v.Source)
	}
	now, at, ok := ValueNow(dmm, table)
	wantDay, wantPrice, _ := loadPrices(t).Latest("BTC")
	if !ok || !at.Equal(wantDay) || now != wantPrice.Value(&dmm.Thefts[0].Amount, 8) {
		t.Errorf("DMM now = %s on %s (%v), want the latest BTC price's day %s", now, at, ok, wantDay)
	}
	// An incident whose asset has no price falls back on its figure.
	ronin, _ := reg.Incident("ronin-bridge-2022")
	empty := openStore(t)
	table, err = PricesFrom(ctx, empty, []heistgraph.Incident{ronin})
	if err != nil {
		t.Fatal(err)
	}
	if v := Value(ronin, "", table); v.Source == USDFromPrices {
		t.Errorf("Ronin valued from prices an empty store does not have")
	}
}

// loadPricesList is the checked-in CoinGecko BTC and ETH prices as a list.
func loadPricesList(t *testing.T) []heistgraph.DayPrice {
	t.Helper()
	var out []heistgraph.DayPrice
	for file, asset := range map[string]string{"testdata/prices/btc-usd-coingecko.csv": "BTC", "testdata/prices/eth-usd-coingecko.csv": "ETH"} {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		ps, err := ParsePrices(f, asset)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ps...)
	}
	return out
}

func sameSaved(a, b Saved) bool {
	return slices.Equal(a.Incidents, b.Incidents) && slices.Equal(a.Sources, b.Sources) &&
		slices.Equal(a.ShippedIncidents, b.ShippedIncidents) && slices.Equal(a.ShippedSources, b.ShippedSources)
}

// TestLoadWithShadowed: a record stored under an id the shipped register
// has (imported before a newer binary shipped that id) is ignored.
func TestLoadWithShadowed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	dmm, _ := loadShipped(t).Incident("dmm-bitcoin-2024")
	dmm.Name = "stale partner copy"
	js, _ := loadShipped(t).Source("joint-statement-2025-01-14")
	js.Title = "stale partner copy"
	if err := st.PutIncidents(ctx, []heistgraph.Incident{dmm}, []heistgraph.Source{js}); err != nil {
		t.Fatal(err)
	}
	reg, err := LoadWith(ctx, incidents.FS, st)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := reg.Incident("dmm-bitcoin-2024")
	src, _ := reg.Source("joint-statement-2025-01-14")
	if got.Name != "DMM Bitcoin" || src.Title == "stale partner copy" || reg.Imported("dmm-bitcoin-2024") {
		t.Errorf("stored copies shadowed the shipped records: %q, %q", got.Name, src.Title)
	}
}
