package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/label"
	"github.com/heistgraph/heistgraph/store"
)

func (a *app) labelsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "labels",
		Short: "Import, show and list entity labels (exchange, mixer, sanctioned, dprk, ...)",
		Long: `Entity labels tie an address to an entity name, a category, a source, a
confidence and a TLP marking. A label on one address reaches its whole cluster.

Every store holds the built-in DPRK labels (US government publications, shipped in
the binary); import more with labels import.`,
	}
	c.AddCommand(a.labelsImportCmd(), a.labelsShowCmd(), a.labelsListCmd())
	return c
}

// labelImportReport is what `labels import --json` prints.
type labelImportReport struct {
	File       string          `json:"file"`
	Format     label.Format    `json:"format"`
	Imported   int             `json:"imported"`
	Added      int             `json:"added"`
	Skipped    int             `json:"skipped"`
	ByCategory map[string]int  `json:"by_category"`
	ByChain    map[string]int  `json:"by_chain"`
	Problems   []labelSkipJSON `json:"problems"`
	Total      int64           `json:"labels_in_store"`
}

type labelSkipJSON struct {
	Line  int    `json:"line"`
	Field string `json:"field,omitempty"`
	Error string `json:"error"`
}

// maxProblems bounds the skipped rows an import report lists.
const maxProblems = 20

// importBatch is how many labels go into one store batch.
const importBatch = 10_000

func (a *app) labelsImportCmd() *cobra.Command {
	var format, asset, source, comments string
	c := &cobra.Command{
		Use:   "import FILE --format ofac-xml|ofac-list|ofac-csv|tagpack|csv",
		Short: "Import a label file",
		Long: `Import a label file into the store.

Formats: ofac-list (one address a line, OFAC's per-asset lists; the asset comes
from the file name sanctioned_addresses_<ASSET>.txt or --asset), ofac-xml (OFAC's
sdn_advanced.xml), ofac-csv (OFAC's sdn.csv; --comments names sdn_comments.csv),
tagpack (a GraphSense TagPack) and csv (chain,address,entity,category,source,
confidence[,tlp]). Gzip-compressed files are recognised. Rows that fail
validation are skipped and reported; syntax errors stop the import (labels of
earlier batches stay stored). Importing the same file again changes nothing.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format == "" {
				return usageError{fmt.Errorf("labels import: give --format (ofac-list, ofac-xml, ofac-csv, tagpack or csv): %w", heistgraph.ErrInvalid)}
			}
			f, err := label.ParseFormat(format)
			if err != nil {
				return usageError{fmt.Errorf("--format: %w", err)}
			}
			if source != "" && strings.TrimSpace(source) != source {
				return usageError{fmt.Errorf("--source %q: leading or trailing space: %w", source, heistgraph.ErrInvalid)}
			}
			return a.withStore(cmd.Context(), func(st store.Store) error {
				return a.importLabels(cmd.Context(), st, args[0], f, asset, source, comments)
			})
		},
	}
	c.Flags().StringVar(&format, "format", "", "ofac-list|ofac-xml|ofac-csv|tagpack|csv (required)")
	c.Flags().StringVar(&asset, "asset", "", "asset of an ofac-list file (XBT, ETH, USDT, ...); default: from the file name")
	c.Flags().StringVar(&source, "source", "", "source id to record on every label instead of the file's")
	c.Flags().StringVar(&comments, "comments", "", "OFAC's sdn_comments.csv, for --format ofac-csv")
	return c
}

func (a *app) importLabels(ctx context.Context, st store.Labels, path string, f label.Format, asset, source, comments string) error {
	in, err := openInput(path)
	if err != nil {
		return fmt.Errorf("labels import: %w", err)
	}
	defer in.Close()
	opts := label.Options{Name: path, Asset: asset}
	if comments != "" {
		if f != label.FormatOFACCSV {
			return usageError{fmt.Errorf("--comments is for --format ofac-csv only: %w", heistgraph.ErrInvalid)}
		}
		cf, err := openInput(comments)
		if err != nil {
			return fmt.Errorf("labels import: %w", err)
		}
		defer cf.Close()
		opts.Comments = cf
	}
	rep := labelImportReport{File: path, Format: f, ByCategory: map[string]int{}, ByChain: map[string]int{}, Problems: []labelSkipJSON{}}
	opts.OnSkip = func(e *label.ParseError) {
		rep.Skipped++
		if len(rep.Problems) < maxProblems {
			rep.Problems = append(rep.Problems, labelSkipJSON{Line: e.Line, Field: e.Field, Error: e.Error()})
		}
	}
	batch := make([]heistgraph.Label, 0, importBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, err := st.PutLabels(ctx, batch)
		if err != nil {
			return fmt.Errorf("labels import %s: %w", path, err)
		}
		rep.Added += n
		batch = batch[:0]
		return nil
	}
	for l, err := range label.Read(in, f, opts) {
		if err != nil {
			if ferr := flush(); ferr != nil {
				return ferr
			}
			return fmt.Errorf("labels import: %w", err)
		}
		if source != "" {
			l.Source = source
		}
		batch = append(batch, l)
		rep.Imported++
		rep.ByCategory[l.Category]++
		rep.ByChain[string(l.Chain)]++
		if len(batch) == importBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if stats, err := st.LabelStats(ctx); err == nil {
		rep.Total = stats.Total
	}
	a.logger().Info("labels imported", "file", path, "format", f, "imported", rep.Imported, "added", rep.Added, "skipped", rep.Skipped)
	return a.emit(rep, func(w io.Writer) error {
		printf(w, "imported %d labels from %s (%d new, %d rows skipped); %d labels in the store\n", rep.Imported, path, rep.Added, rep.Skipped, rep.Total)
		for _, k := range sortedKeys(rep.ByCategory) {
			printf(w, "  %-20s %d\n", k, rep.ByCategory[k])
		}
		for _, p := range rep.Problems {
			printf(w, "  skipped: %s\n", p.Error)
		}
		return nil
	})
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// labelRowJSON is app's view of a label with its address (labels list).
type labelRowJSON = hgapp.LabelRowView

func (a *app) labelsShowCmd() *cobra.Command {
	var chainFlag string
	c := &cobra.Command{
		Use:   "show ADDRESS [--chain C]",
		Short: "Show the labels of an address and those that reach it through its cluster",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr := strings.TrimSpace(args[0])
			if addr == "" {
				return fmt.Errorf("labels show: empty address: %w", heistgraph.ErrInvalid)
			}
			chains, err := hgapp.LabelChains(chainFlag, addr)
			if err != nil {
				return usageError{err}
			}
			if chains, err = addressChains(chains, addr); err != nil {
				return fmt.Errorf("labels show: %w", err)
			}
			return a.withStore(cmd.Context(), func(st store.Store) error {
				v, err := hgapp.Labels(cmd.Context(), st, hgapp.LabelsRequest{Chains: chains, Address: addr})
				if err != nil {
					return err
				}
				return a.printLabels(v)
			})
		},
	}
	c.Flags().StringVar(&chainFlag, "chain", "", "chain of the address (btc, btc-regtest, eth, ...); default: eth for 0x addresses, else the Bitcoin chain that knows it")
	return c
}

// printLabels writes labels show.
func (a *app) printLabels(v hgapp.LabelsView) error {
	return a.emit(v, func(w io.Writer) error {
		printf(w, "%s (%s)\n", v.Address, v.Chain)
		if len(v.Labels) == 0 {
			printf(w, "  no labels\n")
		}
		for _, l := range v.Labels {
			printf(w, "  %-12s %-30s source %s, confidence %.2f\n", l.Category, l.Entity, l.Source, l.Confidence)
		}
		if v.ClusterID != nil {
			printf(w, "  cluster %d\n", *v.ClusterID)
		}
		for _, l := range v.ClusterLabels {
			printf(w, "  %-12s %-30s source %s, confidence %.2f, via %s in the cluster\n", l.Category, l.Entity, l.Source, l.Confidence, l.Address)
		}
		if len(v.Conflicts) > 0 {
			printf(w, "  CONFLICT: several entities: %s\n", strings.Join(v.Conflicts, ", "))
		}
		return nil
	})
}

func (a *app) labelsListCmd() *cobra.Command {
	var q store.LabelQuery
	var chainFlag string
	var limit int
	c := &cobra.Command{
		Use:   "list [--category C] [--chain C] [--source S] [--entity E]",
		Short: "List stored labels",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if chainFlag != "" {
				ch, err := heistgraph.ParseChain(chainFlag)
				if err != nil {
					return usageError{fmt.Errorf("--chain: %w", err)}
				}
				q.Chain = ch
			}
			if limit < 0 {
				return usageError{fmt.Errorf("--limit %d < 0: %w", limit, heistgraph.ErrInvalid)}
			}
			return a.withStore(cmd.Context(), func(st store.Store) error {
				v, err := hgapp.LabelList(cmd.Context(), st, hgapp.LabelListRequest{Query: q, Limit: limit})
				if err != nil {
					return err
				}
				return a.printLabelList(v)
			})
		},
	}
	c.Flags().StringVar(&q.Category, "category", "", "only this category (exchange, mixer, sanctioned, dprk, ...)")
	c.Flags().StringVar(&chainFlag, "chain", "", "only this chain")
	c.Flags().StringVar(&q.Source, "source", "", "only this source id")
	c.Flags().StringVar(&q.Entity, "entity", "", "only this entity name")
	c.Flags().IntVar(&limit, "limit", 0, "print at most N labels (0: all)")
	return c
}

// printLabelList writes labels list.
func (a *app) printLabelList(v hgapp.LabelListView) error {
	return a.emit(v, func(w io.Writer) error {
		for _, l := range v.Labels {
			printf(w, "%-12s %-44s %-18s %-30s %s\n", l.Chain, l.Address, l.Category, l.Entity, l.Source)
		}
		if v.Truncated {
			printf(w, "(first %d shown; raise --limit)\n", v.Count)
		}
		return nil
	})
}
