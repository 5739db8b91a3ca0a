package pebble

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestLayoutStats prints where a store's bytes are, per key family: keys,
// key bytes, value bytes (logical, uncompressed) and Pebble's estimate of
// the family's bytes on disk (EstimateDiskUsage over the family's key
// range, after whatever compaction has happened). It is a measurement, not
// a check: it runs only when HEISTGRAPH_LAYOUT_STATS names a store
// directory, which it opens read-only (docs/benchmarks.md, "Compact store
// layout").
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
	stats, err := d.layoutStats()
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + formatLayoutStats(stats))
}

// familyStats is one key family's share of a store.
type familyStats struct {
	Name               string
	Keys               int64
	KeyBytes, ValBytes int64
	Disk               uint64
	first, last        []byte
}

// layoutFamily names the family of a key: its prefix byte, and for the
// tables that hold sub-tables (clustering, accounts, keys, alerts,
// webhooks, feeds) the sub-table byte too.
func layoutFamily(k []byte) string {
	switch {
	case len(k) == 0:
		return "?"
	case k[0] == prefixMeta:
		return "m"
	case (k[0] == prefixCluster || k[0] == prefixAccount) && len(k) > 3:
		return fmt.Sprintf("%c%c", k[0], k[3])
	case (k[0] == prefixKeys || k[0] == 'r' || k[0] == 'w' || k[0] == 'f') && len(k) > 1:
		return fmt.Sprintf("%c%c", k[0], k[1])
	}
	return string(k[:1])
}

// layoutStats reads every key of the store once. Families are contiguous
// key ranges only when the store holds one chain; with several the disk
// estimate of a chain-scoped family spans the other chains' keys between.
func (d *DB) layoutStats() ([]familyStats, error) {
	it, err := d.db.NewIter(nil)
	if err != nil {
		return nil, err
	}
	byName := map[string]*familyStats{}
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return nil, err
		}
		name := layoutFamily(k)
		f := byName[name]
		if f == nil {
			f = &familyStats{Name: name, first: slices.Clone(k)}
			byName[name] = f
		}
		f.Keys++
		f.KeyBytes += int64(len(k))
		f.ValBytes += int64(len(v))
		f.last = append(f.last[:0], k...)
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	var out []familyStats
	for _, f := range byName {
		hi := append(slices.Clone(f.last), 0)
		n, err := d.db.EstimateDiskUsage(f.first, hi)
		if err != nil {
			return nil, err
		}
		f.Disk = n
		out = append(out, *f)
	}
	slices.SortFunc(out, func(a, b familyStats) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// formatLayoutStats renders stats as a Markdown table with a total row.
func formatLayoutStats(stats []familyStats) string {
	var b strings.Builder
	var tot familyStats
	for _, f := range stats {
		tot.Keys += f.Keys
		tot.KeyBytes += f.KeyBytes
		tot.ValBytes += f.ValBytes
		tot.Disk += f.Disk
	}
	fmt.Fprintf(&b, "| family | keys | key bytes | avg key | value bytes | avg value | on disk (est.) | share |\n")
	fmt.Fprintf(&b, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	row := func(f familyStats) {
		avg := func(n int64) float64 {
			if f.Keys == 0 {
				return 0
			}
			return float64(n) / float64(f.Keys)
		}
		share := 0.0
		if tot.Disk > 0 {
			share = 100 * float64(f.Disk) / float64(tot.Disk)
		}
		fmt.Fprintf(&b, "| %s | %d | %.1f MB | %.1f | %.1f MB | %.1f | %.1f MB | %.1f%% |\n",
			f.Name, f.Keys, float64(f.KeyBytes)/1e6, avg(f.KeyBytes), float64(f.ValBytes)/1e6, avg(f.ValBytes), float64(f.Disk)/1e6, share)
	}
	for _, f := range stats {
		row(f)
	}
	tot.Name = "all"
	row(tot)
	return b.String()
}
