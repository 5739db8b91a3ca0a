package store

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"unicode/utf8"

	"github.com/heistgraph/heistgraph"
)

// Labels stores entity labels on addresses (heistgraph.Label): which entity
// an address belongs to, in which category, from which source.
//
// A label is identified by its key (chain, address, entity, category,
// source); storing a label whose key is stored replaces its other fields
// (confidence, TLP, validity, note). Labels of one address and category
// that name other entities, or come from other sources, are distinct and
// kept side by side: conflicting claims are never merged. Addresses are stored and looked up
// exactly as given: callers key them first with heistgraph.NormalizeAddress
// (EVM addresses lower-cased), so that one address has one key. Labels come
// back in the store's key order, which groups them by chain and then by
// address, and is the same for the same content.
//
// A label on the shared EVM key heistgraph.ChainEVM holds on every EVM
// chain of the registry (one secp256k1 key holds the same 0x address on all
// of them): a lookup on an EVM chain, by AddressLabels or by Labels with a
// LabelQuery.Chain, returns the chain's own labels and then those on
// heistgraph.ChainEVM (heistgraph.Chain.LabelChains), which keep their
// chain evm. The store holds such a label once.
//
// A label set is a named group of labels that is replaced as a whole, with
// a version, such as the built-in intelligence shipped in the binary: when
// the shipped file changes, the new version replaces the old labels of the
// set without touching labels imported otherwise (unless they have the same
// key, which then belongs to both).
//
// All methods are safe for concurrent use. Returned values are the
// caller's. A label with an empty chain, address, category or source, or a
// confidence outside [0, 1], wraps heistgraph.ErrInvalid, and then nothing
// is stored. When ctx is cancelled a scan ends with an error wrapping
// ctx.Err().
type Labels interface {
	// PutLabels stores labels in one atomic batch and returns how many of
	// them were not stored before (a key given twice in labels counts once;
	// the last one given wins).
	PutLabels(ctx context.Context, labels []heistgraph.Label) (added int, err error)
	// AddressLabels returns the labels on addr on chain in key order
	// (for an EVM chain, then those on heistgraph.ChainEVM); an address
	// without labels gives an empty slice and a nil error.
	AddressLabels(ctx context.Context, chain heistgraph.Chain, addr string) ([]heistgraph.Label, error)
	// Labels yields the stored labels that match q, in key order. It
	// streams.
	Labels(ctx context.Context, q LabelQuery) iter.Seq2[heistgraph.Label, error]
	// LabelStats counts the stored labels. It reads every label.
	LabelStats(ctx context.Context) (LabelStats, error)
	// ReplaceLabelSet makes labels the content of the label set called set
	// and records version as its version, in one atomic batch: the labels
	// are stored as by PutLabels, and labels that the set held before and
	// that are not in labels are removed, unless they were also stored
	// outside the set (by PutLabels). It returns how many labels were not
	// stored before and how many it removed. An empty set name wraps
	// heistgraph.ErrInvalid.
	ReplaceLabelSet(ctx context.Context, set, version string, labels []heistgraph.Label) (added, removed int, err error)
	// LabelSetVersion returns the version recorded for set by
	// ReplaceLabelSet; a set never stored wraps heistgraph.ErrNotFound.
	LabelSetVersion(ctx context.Context, set string) (string, error)
}

// LabelQuery selects labels. Empty fields match everything. A Chain that
// is an EVM chain of the registry also matches labels on the shared EVM
// key heistgraph.ChainEVM.
type LabelQuery struct {
	Chain    heistgraph.Chain
	Category string
	Source   string
	Entity   string
}

// Match reports whether l is selected by q.
func (q LabelQuery) Match(l heistgraph.Label) bool {
	return (q.Chain == "" || l.Chain == q.Chain || l.Chain == heistgraph.ChainEVM && q.Chain.IsEVM()) &&
		(q.Category == "" || l.Category == q.Category) &&
		(q.Source == "" || l.Source == q.Source) &&
		(q.Entity == "" || l.Entity == q.Entity)
}

// LabelStats counts stored labels, in total and by category and chain. The
// maps are the caller's.
type LabelStats struct {
	Total      int64
	ByCategory map[string]int64
	ByChain    map[heistgraph.Chain]int64
}

// CheckLabel validates what every backend needs of a label: a chain, an
// address, a category and a source, a confidence in [0, 1], and text
// fields that are valid UTF-8 without NUL bytes (PostgreSQL's text holds
// no other). Its error wraps heistgraph.ErrInvalid.
func CheckLabel(l *heistgraph.Label) error {
	for _, f := range []string{string(l.Chain), l.Address, l.Entity, l.Category, l.Source, l.TLP, l.Note} {
		if !utf8.ValidString(f) || strings.IndexByte(f, 0) >= 0 {
			return fmt.Errorf("label %s %q: text %q is not UTF-8 without NUL bytes: %w", l.Chain, l.Address, f, heistgraph.ErrInvalid)
		}
	}
	switch {
	case l.Chain == "" || l.Address == "" || l.Category == "" || l.Source == "":
		return fmt.Errorf("label %s %q %q: chain, address, category and source are required: %w", l.Chain, l.Address, l.Category, heistgraph.ErrInvalid)
	case !(l.Confidence >= 0 && l.Confidence <= 1):
		return fmt.Errorf("label %s %s: confidence %v outside [0, 1]: %w", l.Chain, l.Address, l.Confidence, heistgraph.ErrInvalid)
	}
	return nil
}
