// Package dump writes the backend-neutral content of a store as sorted JSON
// lines (design.md, `heistgraph store dump`): what `show`, `trace`,
// `cluster` and screening read, and nothing a backend keeps only for
// itself (undo records, caches, checkpoints of work in progress). The dump
// is built from the store contract alone (store.ChainReader,
// store.AccountReader, store.Clusters, store.Labels and the optional roles
// store.Enumerator and store.AccountLedger), so two stores with the same
// content give byte-identical dumps whatever their backend and whatever
// order the content came in: it is the basis of the cross-backend and
// metamorphic tests.
//
// # Lines
//
// Each line is one JSON object whose first field is "kind" and whose
// second is "chain"; every field of a kind is always present, in a fixed
// order (lines.go). The kinds:
//
//   - block: a stored best-chain block (UTXO: header fields and tx count;
//     account: header fields, tx and transfer counts, internal_known).
//   - tx: a transaction with its height and index in the block (UTXO: its
//     inputs, each with whether the store holds the output it spends, and
//     its fee when known; account: its receipt fields and kept logs).
//   - output: a UTXO output with its spender (null while unspent).
//   - transfer: one entry of an account block's ledger.
//   - address: the totals of a UTXO address.
//   - account: the summary of an account address with its balance per asset.
//   - token: stored token metadata.
//   - cluster: an address's id and its cluster's id.
//   - evidence: one piece of clustering evidence.
//   - override: an analyst's merge or split.
//   - label: a label.
//
// # Order
//
// Chains come in byte order of their names, each with its sections in this
// order; the labels of every chain come last:
//
//  1. The blocks by height. After a UTXO block come its transactions by
//     index, each followed by its outputs by vout; after an account block
//     come its transactions by index, then its ledger by seq.
//  2. address (UTXO) or account lines by address (byte order of the string
//     as written).
//  3. token lines by address.
//  4. cluster lines by address id, evidence by (height, tx index, n),
//     override by seq.
//  5. (after every chain) label lines by (chain, address, entity,
//     category, source), byte order of each field.
//
// Sections whose backends list keys in no particular order (addresses,
// accounts, tokens, labels) go through an external merge sort, so memory
// stays bounded (Options.SortMemory) on a store of any size; everything
// else streams in the contract's own order.
package dump

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Source is what a dump reads: the content roles of the store contract
// and the optional roles that list keys and ledgers. Both backends
// (store/pebble, store/postgres) are Sources.
type Source interface {
	store.ChainReader
	store.AccountReader
	store.Clusters
	store.Labels
	store.Enumerator
	store.AccountLedger
}

// Options tune a dump.
type Options struct {
	// Chain, when set, restricts the dump to one chain: its chain data,
	// clusters and the labels whose chain is Chain.
	Chain heistgraph.Chain
	// TempDir holds the sort's temporary runs; "" means os.TempDir.
	TempDir string
	// SortMemory bounds the bytes a section's sort keeps in memory before
	// it spills a run to TempDir; 0 means 64 MiB.
	SortMemory int
}

// Chains lists the chains a dump without Options.Chain covers: every chain
// of the registry (heistgraph.LookupChain), in byte order of their names.
func Chains() []heistgraph.Chain {
	var out []heistgraph.Chain
	for _, n := range heistgraph.Networks() {
		out = append(out, n.Chain)
	}
	for _, i := range heistgraph.EVMChains() {
		out = append(out, i.Chain)
	}
	slices.Sort(out)
	return out
}

// Write writes the dump of src to w. An error leaves w holding a prefix
// of the dump.
func Write(ctx context.Context, w io.Writer, src Source, opts Options) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	d := &dumper{ctx: ctx, src: src, w: bw, opts: opts}
	if d.opts.SortMemory <= 0 {
		d.opts.SortMemory = 64 << 20
	}
	chains := Chains()
	if opts.Chain != "" {
		chains = []heistgraph.Chain{opts.Chain}
	}
	for _, c := range chains {
		if err := d.chain(c); err != nil {
			return err
		}
	}
	if err := d.labels(); err != nil {
		return err
	}
	return bw.Flush()
}

type dumper struct {
	ctx  context.Context
	src  Source
	w    *bufio.Writer
	opts Options
}

// emit writes v as one line.
func (d *dumper) emit(v any) error {
	b, err := d.encode(v)
	if err != nil {
		return err
	}
	return writeLine(d.w, b)
}

func (d *dumper) encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("dump: %w", err)
	}
	return b, nil
}

func (d *dumper) sorter() *sorter { return &sorter{dir: d.opts.TempDir, limit: d.opts.SortMemory} }

// chain writes the sections of one chain.
func (d *dumper) chain(c heistgraph.Chain) error {
	info, ok := heistgraph.LookupChain(c)
	if !ok {
		return nil // labels may name it; nothing else can be stored
	}
	steps := []func(heistgraph.Chain) error{d.utxoBlocks, d.addresses}
	if info.Kind == heistgraph.KindAccount {
		steps = []func(heistgraph.Chain) error{d.accountBlocks, d.accounts, d.tokens}
	}
	steps = append(steps, d.clusters)
	for _, step := range steps {
		if err := step(c); err != nil {
			return err
		}
	}
	return nil
}

func (d *dumper) utxoBlocks(c heistgraph.Chain) error {
	for h, err := range d.src.BlockHeights(d.ctx, c) {
		if err != nil {
			return err
		}
		b, err := d.src.BlockByHeight(d.ctx, c, h)
		if err != nil {
			return err
		}
		if err := d.emit(newBlockLine(&b)); err != nil {
			return err
		}
		txs := make([]heistgraph.TxRecord, len(b.TxIDs))
		err = d.each(len(txs), func(ctx context.Context, i int) (err error) {
			txs[i], err = d.src.Tx(ctx, c, b.TxIDs[i])
			return err
		})
		if err != nil {
			return err
		}
		for i := range txs {
			if err := d.emit(newTxLine(&txs[i], b.Height)); err != nil {
				return err
			}
			for vout := range txs[i].Tx.Outputs {
				if err := d.emit(newOutputLine(&txs[i], vout)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// lookups is how many point reads a dump keeps in flight: a store on a
// server (PostgreSQL) answers them on several connections at once.
const lookups = 4

// each calls fn for 0, ..., n-1, up to lookups at a time, and returns the
// first error.
func (d *dumper) each(n int, fn func(ctx context.Context, i int) error) error {
	g, ctx := errgroup.WithContext(d.ctx)
	g.SetLimit(lookups)
	for i := range n {
		g.Go(func() error { return fn(ctx, i) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return d.ctx.Err()
}

func (d *dumper) accountBlocks(c heistgraph.Chain) error {
	for h, err := range d.src.BlockHeights(d.ctx, c) {
		if err != nil {
			return err
		}
		b, ledger, err := d.src.AccountLedger(d.ctx, c, h)
		if err != nil {
			return err
		}
		if err := d.emit(newAccountBlockLine(&b)); err != nil {
			return err
		}
		for _, hash := range b.TxHashes {
			r, err := d.src.AccountTx(d.ctx, c, hash)
			if err != nil {
				return err
			}
			if err := d.emit(newAccountTxLine(&r)); err != nil {
				return err
			}
		}
		for seq := range ledger {
			if err := d.emit(newTransferLine(c, h, seq, &ledger[seq])); err != nil {
				return err
			}
		}
	}
	return nil
}

// sorted writes the lines that each yields (with its sort key) in key
// order. add is safe for concurrent use.
func (d *dumper) sorted(each func(add func(key string, line any) error) error) error {
	s := d.sorter()
	defer s.close()
	var mu sync.Mutex
	err := each(func(key string, v any) error {
		b, err := d.encode(v)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		return s.add([]byte(key), b)
	})
	if err != nil {
		return err
	}
	return s.writeTo(d.w)
}

// lookupAll calls fn on every key that keys yields, up to lookups at a
// time, and returns the first error.
func lookupAll[K any](d *dumper, keys iter.Seq2[K, error], fn func(ctx context.Context, k K) error) error {
	g, ctx := errgroup.WithContext(d.ctx)
	g.SetLimit(lookups)
	for k, err := range keys {
		if err != nil {
			g.Wait()
			return err
		}
		if ctx.Err() != nil {
			break // a lookup failed: Wait reports it
		}
		g.Go(func() error { return fn(ctx, k) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return d.ctx.Err()
}

func (d *dumper) addresses(c heistgraph.Chain) error {
	return d.sorted(func(add func(string, any) error) error {
		return lookupAll(d, d.src.Addresses(d.ctx, c), func(ctx context.Context, a string) error {
			s, err := d.src.Address(ctx, c, a)
			if err != nil {
				return err
			}
			return add(a, newAddressLine(&s))
		})
	})
}

func (d *dumper) accounts(c heistgraph.Chain) error {
	return d.sorted(func(add func(string, any) error) error {
		return lookupAll(d, d.src.Accounts(d.ctx, c), func(ctx context.Context, a heistgraph.EVMAddress) error {
			s, err := d.src.AccountSummary(ctx, c, a)
			if err != nil {
				return err
			}
			return add(string(a[:]), newAccountLine(&s))
		})
	})
}

func (d *dumper) tokens(c heistgraph.Chain) error {
	return d.sorted(func(add func(string, any) error) error {
		for t, err := range d.src.Tokens(d.ctx, c) {
			if err != nil {
				return err
			}
			if err := add(string(t.Address[:]), newTokenLine(&t)); err != nil {
				return err
			}
		}
		return nil
	})
}

func (d *dumper) clusters(c heistgraph.Chain) error {
	for m, err := range d.src.Memberships(d.ctx, c) {
		if err != nil {
			return err
		}
		if err := d.emit(clusterLine{Kind: "cluster", Chain: c, AddressID: m.AddrID, Address: m.Address, ClusterID: m.ClusterID}); err != nil {
			return err
		}
	}
	for e, err := range d.src.Evidence(d.ctx, c, store.EvidenceQuery{}) {
		if err != nil {
			return err
		}
		if err := d.emit(newEvidenceLine(c, &e)); err != nil {
			return err
		}
	}
	for o, err := range d.src.Overrides(d.ctx, c) {
		if err != nil {
			return err
		}
		if err := d.emit(newOverrideLine(c, &o)); err != nil {
			return err
		}
	}
	return nil
}

func (d *dumper) labels() error {
	return d.sorted(func(add func(string, any) error) error {
		q := store.LabelQuery{Chain: d.opts.Chain}
		for l, err := range d.src.Labels(d.ctx, q) {
			if err != nil {
				return err
			}
			if d.opts.Chain != "" && l.Chain != d.opts.Chain {
				continue // the shared EVM key's labels are dumped under evm
			}
			if err := add(labelKey(&l), newLabelLine(&l)); err != nil {
				return err
			}
		}
		return nil
	})
}

// labelKey orders labels by (chain, address, entity, category, source),
// each field compared as bytes: each field is written with its NUL bytes
// escaped (0x00 0xff) and ended by 0x00 0x00, which keeps tuple order.
func labelKey(l *heistgraph.Label) string {
	var b []byte
	for _, f := range []string{string(l.Chain), l.Address, l.Entity, l.Category, l.Source} {
		for i := 0; i < len(f); i++ {
			b = append(b, f[i])
			if f[i] == 0 {
				b = append(b, 0xff)
			}
		}
		b = append(b, 0, 0)
	}
	return string(b)
}

var errNoDump = errors.New("this backend cannot list its content")

// For returns st as a Source, or an error saying that st cannot be
// dumped.
func For(st any) (Source, error) {
	src, ok := st.(Source)
	if !ok {
		return nil, fmt.Errorf("store dump: %w", errNoDump)
	}
	return src, nil
}
