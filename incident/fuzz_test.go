package incident

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"testing/fstest"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/incidents"
)

// FuzzLoad feeds arbitrary incident files to the loader: it must never
// panic, and every rejection must be a ValidationError wrapping ErrInvalid.
// Seeded from the shipped register and the malformed cases.
func FuzzLoad(f *testing.F) {
	files, err := incidents.FS.ReadDir(".")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range files {
		if e.Name() == SourcesFile {
			continue
		}
		b, err := incidents.FS.ReadFile(e.Name())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(testIncident))
	f.Add([]byte("id: [\n"))
	f.Add([]byte("thefts: {a: b}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{SourcesFile: {Data: []byte(testSources)}, "test-2024.yaml": {Data: data}}
		reg, err := Load(fsys)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("rejection is not a ValidationError wrapping ErrInvalid: %v", err)
			}
			return
		}
		// What loads exports and imports unchanged.
		b, err := Export(reg.Incidents(), reg.Sources(), ExportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		back, err := Import(b)
		if err != nil {
			t.Fatalf("import of an export: %v", err)
		}
		b2, err := Export(back.Incidents(), back.Sources(), ExportOptions{})
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("round trip changed the bundle (%v)", err)
		}
	})
}

// FuzzParsePrices feeds arbitrary CSV to the price parser: no panic, and
// every rejection wraps ErrInvalid.
func FuzzParsePrices(f *testing.F) {
	for _, name := range []string{"testdata/prices/btc-usd-coingecko.csv", "testdata/prices/eth-usd-coingecko.csv"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "BTC")
	}
	f.Add([]byte("date,asset,usd\n2024-05-31,BTC,68372.49\n"), "")
	f.Add([]byte("date,asset,usd\n2024-05-31,BTC,1e-05\n2024-05-31,BTC,2\n"), "")
	f.Fuzz(func(t *testing.T, data []byte, asset string) {
		ps, err := ParsePrices(bytes.NewReader(data), asset)
		if err != nil {
			if !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("rejection does not wrap ErrInvalid: %v", err)
			}
			return
		}
		for _, p := range ps {
			if p.USD <= 0 || p.Asset == "" || p.Day.IsZero() {
				t.Fatalf("accepted a bad price %+v", p)
			}
		}
	})
}
