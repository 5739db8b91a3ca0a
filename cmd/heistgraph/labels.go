package main

import (
	"context"
	"errors"
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

// labelImportReport is what `labels import --json` prints. Imported counts
// the labels of the file, all stored (one row may give several labels, one
// per category); of them, Added were new in the store and Existing were
// stored already under the same chain, address, entity, category and source
// (by an earlier import, or by a row before in the same file), whose
// confidence, TLP, validity and note are now this file's. Skipped rows
// failed validation (--skip-invalid) and stored nothing.
type labelImportReport struct {
	File     string       `json:"file"`
	Format   label.Format `json:"format"`
	Imported int          `json:"imported"`
	Added    int          `json:"added"`
	Existing int          `json:"existing"`
	Skipped  int          `json:"skipped"`
	// UnknownCategories counts the labels, by category, whose category
	// screening does not know (label.KnownCategory): kept, with no
	// severity. At most maxUnknownCategories categories are listed;
	// UnknownCategoryLabels counts them all.
	UnknownCategoryLabels int            `json:"unknown_category_labels"`
	UnknownCategories     map[string]int `json:"unknown_categories"`
	// Conflicts counts the addresses this file labels that carry labels
	// of several entities in one category (all kept; labels show lists
	// them); ConflictExamples shows the first few, each with at most
	// maxConflictEntities of its entities.
	Conflicts        int                 `json:"conflicts"`
	ConflictExamples []labelConflictJSON `json:"conflict_examples"`
	ByCategory       map[string]int      `json:"by_category"`
	ByChain          map[string]int      `json:"by_chain"`
	Problems         []labelSkipJSON     `json:"problems"`
	Total            int64               `json:"labels_in_store"`
}

type labelSkipJSON struct {
	Line  int    `json:"line"`
	Field string `json:"field,omitempty"`
	Error string `json:"error"`
}

// labelConflictJSON is an address whose labels name several entities in
// one category.
type labelConflictJSON struct {
	Chain    heistgraph.Chain `json:"chain"`
	Address  string           `json:"address"`
	Category string           `json:"category"`
	Entities []string         `json:"entities"`
}

const (
	// maxProblems bounds the skipped rows an import report lists.
	maxProblems = 20
	// maxUnknownCategories bounds the unknown categories a report lists.
	maxUnknownCategories = 20
	// maxConflictExamples bounds the conflicts a report shows, and
	// maxConflictEntities the entities shown for each.
	maxConflictExamples = 5
	maxConflictEntities = 8
	// maxImportSources bounds the sources an import remembers to find its
	// conflicts; beyond it, conflicts are counted over every source.
	maxImportSources = 1000
)

// importBatch is how many labels go into one store batch.
const importBatch = 10_000

func (a *app) labelsImportCmd() *cobra.Command {
	var format, asset, source, comments, chain, tag string
	var skipInvalid bool
	c := &cobra.Command{
		Use:   "import FILE --format ofac-xml|ofac-list|ofac-csv|tagpack|csv|etherscan",
		Short: "Import a label file",
		Long: `Import a label file into the store.

Formats: ofac-list (one address a line, OFAC's per-asset lists; the asset comes
from the file name sanctioned_addresses_<ASSET>.txt or --asset), ofac-xml (OFAC's
sdn_advanced.xml), ofac-csv (OFAC's sdn.csv; --comments names sdn_comments.csv),
tagpack (a GraphSense TagPack), csv (chain,address,entity,category,source,
confidence[,tlp]) and etherscan (an Etherscan label CSV, one file per Etherscan label:
,Address,Name Tag,...; the label comes from the file name accounts-<label>.csv or --tag,
the chain is --chain, eth by default, or evm for every EVM chain). Gzip-compressed files
are recognised.

An etherscan file's label gives the category: the exchanges' labels (binance, coinbase,
kraken, okx, ...) exchange with the exchange as entity, tornado-cash and ethereum-mixer
mixer, bridge bridge, ofac-sanctions-lists sanctioned, hot-wallet and cold-wallet
hot_wallet and cold_wallet, any other label itself (blocked, high-risk: kept, with no
severity); the entity is otherwise the owner the name tag names ("Bitkub: Hot Wallet 2"
is Bitkub), the source etherscan:<label>, the confidence 0.8.

OFAC and government attributions of EVM addresses are stored once, on the shared
key evm, which a lookup on any EVM chain (eth, bsc, arbitrum, ...) reads.

The file is read twice: once to check every row, then to store. A row that fails
validation (unknown chain, address invalid for its chain, empty entity, confidence
outside [0, 1], a field over its length limit, ...) stops the import with exit 2,
naming FILE:LINE: FIELD, and nothing of the file is stored; with --skip-invalid such
rows are skipped, counted and listed instead. Syntax errors always stop it.

Labels of one address that name other entities or come from other sources are
stored side by side, never merged, and labels show lists them; a label with the same
chain, address, entity, category and source as a stored one replaces its confidence,
TLP, validity and note. Importing the same file again changes nothing. The summary
counts labels imported (new and already stored) and rows skipped, names categories
screening does not know (kept), and addresses whose labels name several entities in
one category.

Examples:
  heistgraph labels import labels.csv --format csv
  heistgraph labels import lazarus.yaml --format tagpack --skip-invalid
  heistgraph labels import accounts-binance.csv --format etherscan
  heistgraph labels import binance-bsc.csv --format etherscan --tag binance --chain bsc`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := newLabelImport(args[0], format, asset, source, comments, chain, tag, skipInvalid)
			if err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(st store.Store) error {
				return a.importLabels(cmd.Context(), st, in)
			})
		},
	}
	c.Flags().StringVar(&format, "format", "", "ofac-list|ofac-xml|ofac-csv|tagpack|csv|etherscan (required)")
	c.Flags().StringVar(&asset, "asset", "", "asset of an ofac-list file (XBT, ETH, USDT, ...); default: from the file name")
	c.Flags().StringVar(&source, "source", "", "source id to record on every label instead of the file's")
	c.Flags().StringVar(&comments, "comments", "", "OFAC's sdn_comments.csv, for --format ofac-csv")
	c.Flags().StringVar(&chain, "chain", "", "chain of an etherscan file's addresses: an EVM chain, or evm for every one (default eth)")
	c.Flags().StringVar(&tag, "tag", "", "Etherscan label of an etherscan file (binance, tornado-cash, bridge, ...); default: from the file name accounts-<label>.csv")
	c.Flags().BoolVar(&skipInvalid, "skip-invalid", false, "skip rows that fail validation (and count them) instead of stopping the import")
	return c
}

// labelImport is what `labels import` was asked to do.
type labelImport struct {
	path, asset, source, comments, tag string
	chain                              heistgraph.Chain
	format                             label.Format
	skipInvalid                        bool
}

// newLabelImport checks the flags of `labels import` (here and against a
// running server, remote.go); bad ones are usage errors.
func newLabelImport(path, format, asset, source, comments, chain, tag string, skipInvalid bool) (labelImport, error) {
	if format == "" {
		return labelImport{}, usageError{fmt.Errorf("labels import: give --format (ofac-list, ofac-xml, ofac-csv, tagpack, csv or etherscan): %w", heistgraph.ErrInvalid)}
	}
	f, err := label.ParseFormat(format)
	if err != nil {
		return labelImport{}, usageError{fmt.Errorf("--format: %w", err)}
	}
	if source != "" && strings.TrimSpace(source) != source {
		return labelImport{}, usageError{fmt.Errorf("--source %q: leading or trailing space: %w", source, heistgraph.ErrInvalid)}
	}
	if len(source) > label.MaxField {
		return labelImport{}, usageError{fmt.Errorf("--source is %d bytes long (limit %d): %w", len(source), label.MaxField, heistgraph.ErrInvalid)}
	}
	if comments != "" && f != label.FormatOFACCSV {
		return labelImport{}, usageError{fmt.Errorf("--comments is for --format ofac-csv only: %w", heistgraph.ErrInvalid)}
	}
	if (chain != "" || tag != "") && f != label.FormatEtherscan {
		return labelImport{}, usageError{fmt.Errorf("--chain and --tag are for --format etherscan only: %w", heistgraph.ErrInvalid)}
	}
	in := labelImport{path: path, format: f, asset: asset, source: source, comments: comments, tag: tag, skipInvalid: skipInvalid}
	if chain != "" {
		c, err := heistgraph.ParseChain(chain)
		if err == nil && !c.IsEVM() && c != heistgraph.ChainEVM {
			err = fmt.Errorf("%s is no EVM chain (eth, bsc, arbitrum, ..., or evm for every one): %w", c, heistgraph.ErrInvalid)
		}
		if err != nil {
			return labelImport{}, usageError{fmt.Errorf("--chain: %w", err)}
		}
		in.chain = c
	}
	if err := (label.Options{Tag: tag}).Validate(); err != nil {
		return labelImport{}, usageError{fmt.Errorf("--tag: %w", err)}
	}
	return in, nil
}

// read streams the labels of the file (opening it, and the comments file,
// afresh), with --source applied. onSkip, when set, receives rows that fail
// validation and the read goes on.
func (in labelImport) read(onSkip func(*label.ParseError), each func(heistgraph.Label) error) error {
	f, err := openInput(in.path)
	if err != nil {
		return fmt.Errorf("labels import: %w", err)
	}
	defer f.Close()
	opts := label.Options{Name: in.path, Asset: in.asset, Tag: in.tag, Chain: in.chain, OnSkip: onSkip}
	if in.comments != "" {
		cf, err := openInput(in.comments)
		if err != nil {
			return fmt.Errorf("labels import: %w", err)
		}
		defer cf.Close()
		opts.Comments = cf
	}
	for l, err := range label.Read(f, in.format, opts) {
		if err != nil {
			return fmt.Errorf("labels import: %w", err)
		}
		if in.source != "" {
			l.Source = in.source
		}
		if err := each(l); err != nil {
			return err
		}
	}
	return nil
}

func (a *app) importLabels(ctx context.Context, st store.Labels, in labelImport) error {
	rep := labelImportReport{File: in.path, Format: in.format, UnknownCategories: map[string]int{}, ConflictExamples: []labelConflictJSON{},
		ByCategory: map[string]int{}, ByChain: map[string]int{}, Problems: []labelSkipJSON{}}
	var onSkip func(*label.ParseError)
	if in.skipInvalid {
		onSkip = func(e *label.ParseError) {
			rep.Skipped++
			if len(rep.Problems) < maxProblems {
				rep.Problems = append(rep.Problems, labelSkipJSON{Line: e.Line, Field: e.Field, Error: e.Error()})
			}
		}
	}
	// Pass 1: check every row, store nothing.
	sources := map[string]bool{}
	err := in.read(onSkip, func(l heistgraph.Label) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		rep.Imported++
		rep.ByCategory[l.Category]++
		rep.ByChain[string(l.Chain)]++
		if !label.KnownCategory(l.Category) {
			rep.UnknownCategoryLabels++
			if _, ok := rep.UnknownCategories[l.Category]; ok || len(rep.UnknownCategories) < maxUnknownCategories {
				rep.UnknownCategories[l.Category]++
			}
		}
		if sources != nil && !sources[l.Source] {
			sources[l.Source] = true
			if len(sources) > maxImportSources {
				sources = nil // too many to remember: look at every source
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Pass 2: store, in batches.
	batch := make([]heistgraph.Label, 0, importBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, err := st.PutLabels(ctx, batch)
		if err != nil {
			return fmt.Errorf("labels import %s: %w", in.path, err)
		}
		rep.Added += n
		rep.Existing += len(batch) - n
		batch = batch[:0]
		return nil
	}
	read := 0
	err = in.read(func(*label.ParseError) {}, func(l heistgraph.Label) error {
		read++
		batch = append(batch, l)
		if len(batch) == importBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil && read != rep.Imported {
		err = fmt.Errorf("labels import: %s changed while it was imported (%d labels, then %d)", in.path, rep.Imported, read)
	}
	if err != nil {
		return err
	}
	switch err := labelConflicts(ctx, st, sources, &rep); {
	case errors.Is(err, errRemoteOnly): // a running server's store: no scan, just its count
		stats, err := st.LabelStats(ctx)
		if err != nil {
			return fmt.Errorf("labels import: %w", err)
		}
		rep.Total = stats.Total
	case err != nil:
		return err
	}
	a.logger().Info("labels imported", "file", in.path, "format", in.format, "imported", rep.Imported, "added", rep.Added,
		"existing", rep.Existing, "skipped", rep.Skipped)
	return a.emit(rep, func(w io.Writer) error {
		printf(w, "imported %d labels from %s (%d new, %d already stored, %d rows skipped); %d labels in the store\n",
			rep.Imported, in.path, rep.Added, rep.Existing, rep.Skipped, rep.Total)
		for _, k := range sortedKeys(rep.ByCategory) {
			printf(w, "  %-20s %d\n", k, rep.ByCategory[k])
		}
		if rep.UnknownCategoryLabels > 0 {
			var cs []string
			for _, k := range sortedKeys(rep.UnknownCategories) {
				cs = append(cs, fmt.Sprintf("%s %d", k, rep.UnknownCategories[k]))
			}
			printf(w, "  %d rows with categories screening does not know: kept (%s)\n", rep.UnknownCategoryLabels, strings.Join(cs, ", "))
		}
		if rep.Conflicts > 0 {
			printf(w, "  %d addresses carry labels of several entities in one category: all kept (labels show ADDRESS)\n", rep.Conflicts)
			for _, c := range rep.ConflictExamples {
				more := ""
				if len(c.Entities) == maxConflictEntities {
					more = " | ..."
				}
				printf(w, "    %s %s %s: %s%s\n", c.Chain, c.Address, c.Category, strings.Join(c.Entities, " | "), more)
			}
		}
		for _, p := range rep.Problems {
			printf(w, "  skipped: %s\n", p.Error)
		}
		return nil
	})
}

// labelConflicts counts the labels in the store and, among the addresses
// that carry a label of one of sources (nil: any), those whose labels name
// several entities (compared without case) in one category. It reads every
// label once, in key order (one address after another), and holds per
// address at most maxConflictEntities entities of each category, so an
// address with a million labels costs no more.
func labelConflicts(ctx context.Context, st store.Labels, sources map[string]bool, rep *labelImportReport) error {
	type addrKey struct {
		chain heistgraph.Chain
		addr  string
	}
	var cur addrKey
	mine := false
	byCat := map[string][]string{} // category -> distinct entities, at most maxConflictEntities
	check := func() {
		defer func() { clear(byCat); mine = false }()
		if !mine {
			return
		}
		for _, c := range sortedKeys(byCat) {
			if es := byCat[c]; len(es) > 1 {
				rep.Conflicts++
				if len(rep.ConflictExamples) < maxConflictExamples {
					slices.Sort(es)
					rep.ConflictExamples = append(rep.ConflictExamples, labelConflictJSON{Chain: cur.chain,
						Address: heistgraph.DisplayAddress(cur.chain, cur.addr), Category: c, Entities: slices.Clone(es)})
				}
				return // an address counts once
			}
		}
	}
	rep.Total = 0
	for l, err := range st.Labels(ctx, store.LabelQuery{}) {
		if err != nil {
			return fmt.Errorf("labels import: %w", err)
		}
		rep.Total++
		if k := (addrKey{l.Chain, l.Address}); k != cur {
			check()
			cur = k
		}
		mine = mine || sources == nil || sources[l.Source]
		es := byCat[l.Category]
		if l.Entity != "" && len(es) < maxConflictEntities && !slices.ContainsFunc(es, func(e string) bool { return strings.EqualFold(e, l.Entity) }) {
			byCat[l.Category] = append(es, l.Entity)
		}
	}
	check()
	return nil
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
			return a.withBuiltin(cmd.Context(), func(st store.Store) error {
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
			return a.withBuiltin(cmd.Context(), func(st store.Store) error {
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
