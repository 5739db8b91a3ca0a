package main

import (
	"os"
	"testing"

	"github.com/heistgraph/heistgraph/store/pebble"
)

// TestStoreMigratePebble: store migrate on the embedded store leaves a
// --data folder without a store as it is (nothing created), and brings a
// store to the binary's schema (one already there: nothing applied). The
// migration itself (schema 11 to 12) is store/pebble's TestUnspentMigrate.
func TestStoreMigratePebble(t *testing.T) {
	type migration struct {
		Backend string `json:"backend"`
		From    *int   `json:"from_version"`
		To      *int   `json:"to_version"`
		Applied int    `json:"applied"`
	}
	empty := t.TempDir()
	r := cli(t, "--data", empty, "--json", "store", "migrate")
	mustOK(t, r, "store migrate without a store")
	if m := decode[migration](t, r.stdout); m.Backend != "pebble" || m.Applied != 0 || m.From != nil || m.To != nil {
		t.Errorf("store migrate without a store: %s", r.stdout)
	}
	if names, err := os.ReadDir(empty); err != nil || len(names) != 0 {
		t.Errorf("store migrate without a store left %d files (%v)", len(names), err)
	}
	data := t.TempDir()
	mustOK(t, cli(t, "--data", data, "--quiet", "ingest", "btc", "--blocks", blocks1to255), "ingest 1-255")
	r = cli(t, "--data", data, "--json", "store", "migrate")
	mustOK(t, r, "store migrate")
	m := decode[migration](t, r.stdout)
	if m.Backend != "pebble" || m.Applied != 0 || m.From == nil || m.To == nil || *m.From != pebble.SchemaVersion || *m.To != pebble.SchemaVersion {
		t.Errorf("store migrate of a current store: %s", r.stdout)
	}
}
