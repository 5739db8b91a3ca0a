package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

func (a *app) storeStatsCmd() *cobra.Command {
	var opts store.StatsOptions
	c := &cobra.Command{
		Use:   "stats",
		Short: "Print where the store's bytes are: by level and by table",
		Long: `Print, read-only, where the store's bytes are: the sorted tables and the
write-ahead log, the files and bytes of each of Pebble's levels (level 0 holds
a bulk load's randomly keyed tables until it closes, or until the next open
when it was interrupted), the compactions running and the bytes still to
compact, and each table's bytes on disk as Pebble estimates them, with its
files (each file holds one table) and how many of them are below 1 MiB. No key is
read unless --keys asks for each table's keys and logical bytes, which reads
the whole store.

On PostgreSQL (--store), each of the store's tables with its bytes on disk
(indexes and TOAST included, as pg_total_relation_size counts them), its
indexes' bytes and the planner's estimate of its rows; --keys counts the rows,
in one snapshot. The server's write-ahead log is shared by its databases and
not counted.`,
		Example: `  heistgraph store stats
  heistgraph store stats --keys --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withView(cmd.Context(), func(st store.Store) error {
				s, ok := st.(store.Statser)
				if !ok {
					return fmt.Errorf("store stats: this backend does not report its layout: %w", heistgraph.ErrInvalid)
				}
				rep, err := s.Stats(cmd.Context(), opts)
				if err != nil {
					return err
				}
				return a.emit(rep, func(w io.Writer) error {
					if rep.Backend == "postgres" {
						printPostgresStats(w, rep)
						return nil
					}
					printf(w, "store %s: %.1f MB on disk, %.1f MB in sorted tables, %.1f MB of write-ahead log\n",
						a.dataDir, float64(rep.DiskBytes)/1e6, float64(rep.TableBytes)/1e6, float64(rep.WALBytes)/1e6)
					for _, l := range rep.Levels {
						if l.Files == 0 {
							continue
						}
						printf(w, "  level %d: %d files, %.1f MB", l.Level, l.Files, float64(l.Bytes)/1e6)
						if l.Sublevels > 0 {
							printf(w, " in %d sublevels", l.Sublevels)
						}
						printf(w, "\n")
					}
					if rep.Compactions > 0 {
						printf(w, "  compacting: %d running\n", rep.Compactions)
					}
					for _, f := range rep.Families {
						printf(w, "  %-3s %9.1f MB %6d files (%d below 1 MiB)  %s", f.Family, float64(f.DiskBytes)/1e6, f.Files, f.SmallFiles, f.Table)
						if f.Keys != nil {
							printf(w, " (%d keys, %.1f MB of keys, %.1f MB of values)", *f.Keys, float64(*f.KeyBytes)/1e6, float64(*f.ValueBytes)/1e6)
						}
						printf(w, "\n")
					}
					return nil
				})
			})
		},
	}
	c.Flags().BoolVar(&opts.Keys, "keys", false, "read every key to count each table's keys and bytes (slow on a large store)")
	return c
}

// printPostgresStats is store stats' text for PostgreSQL: the tables, the
// largest first.
func printPostgresStats(w io.Writer, rep store.StatsReport) {
	printf(w, "store (PostgreSQL): %.1f MB on disk, %.1f MB in tables, %.1f MB in indexes\n",
		float64(rep.DiskBytes)/1e6, float64(rep.TableBytes)/1e6, float64(rep.IndexBytes)/1e6)
	fams := slices.Clone(rep.Families)
	slices.SortStableFunc(fams, func(a, b store.FamilyStats) int { return cmp.Compare(b.DiskBytes, a.DiskBytes) })
	for _, f := range fams {
		printf(w, "  %-22s %9.1f MB (%.1f MB of indexes)", f.Family, float64(f.DiskBytes)/1e6, float64(f.IndexBytes)/1e6)
		switch {
		case f.Keys != nil:
			printf(w, " %d rows", *f.Keys)
		case f.Rows != nil && *f.Rows >= 0:
			printf(w, " ~%d rows", *f.Rows)
		}
		printf(w, "  %s\n", f.Table)
	}
}
