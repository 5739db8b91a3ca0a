package pebble

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph/store"
)

// TestLayoutStats prints where a store's bytes are, per key family, as the
// Markdown table docs/benchmarks.md quotes: keys, key bytes, value bytes
// (logical, uncompressed) and Pebble's estimate of the family's bytes on
// disk (Stats with Keys). It is a measurement, not a check: it runs only
// when HEISTGRAPH_LAYOUT_STATS names a store directory, which it opens
// read-only (`heistgraph store stats --keys` prints the same figures).
//
//	HEISTGRAPH_LAYOUT_STATS=D go test ./store/pebble -run TestLayoutStats -v
func TestLayoutStats(t *testing.T) {
	dir := os.Getenv("HEISTGRAPH_LAYOUT_STATS")
	if dir == "" {
		t.Skip("HEISTGRAPH_LAYOUT_STATS names no store directory")
	}
	d, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rep, err := d.Stats(context.Background(), store.StatsOptions{Keys: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + formatLayoutStats(rep.Families))
}

// formatLayoutStats renders families counted by key as a Markdown table
// with a total row.
func formatLayoutStats(stats []store.FamilyStats) string {
	var b strings.Builder
	type row struct {
		name                     string
		keys, keyBytes, valBytes int64
		disk                     uint64
	}
	var rows []row
	tot := row{name: "all"}
	for _, f := range stats {
		r := row{name: f.Family, keys: *f.Keys, keyBytes: *f.KeyBytes, valBytes: *f.ValueBytes, disk: f.DiskBytes}
		rows = append(rows, r)
		tot.keys += r.keys
		tot.keyBytes += r.keyBytes
		tot.valBytes += r.valBytes
		tot.disk += r.disk
	}
	fmt.Fprintf(&b, "| family | keys | key bytes | avg key | value bytes | avg value | on disk (est.) | share |\n")
	fmt.Fprintf(&b, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range append(rows, tot) {
		avg := func(n int64) float64 {
			if r.keys == 0 {
				return 0
			}
			return float64(n) / float64(r.keys)
		}
		share := 0.0
		if tot.disk > 0 {
			share = 100 * float64(r.disk) / float64(tot.disk)
		}
		fmt.Fprintf(&b, "| %s | %d | %.1f MB | %.1f | %.1f MB | %.1f | %.1f MB | %.1f%% |\n",
			r.name, r.keys, float64(r.keyBytes)/1e6, avg(r.keyBytes), float64(r.valBytes)/1e6, avg(r.valBytes), float64(r.disk)/1e6, share)
	}
	return b.String()
}
