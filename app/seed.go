package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/label"
	"github.com/heistgraph/heistgraph/store"
)

// BuiltinSet is the label set that holds label.Builtin() in every store.
const BuiltinSet = "builtin"

// BuiltinVersion is the version of the built-in labels this binary ships
// (label.BuiltinVersion: a digest of the embedded files, computed once per
// process without parsing them). A store records the version it was seeded
// with as the version of its builtin label set.
func BuiltinVersion() string { return label.BuiltinVersion() }

// SeedBuiltin makes the store's built-in label set the binary's: when the
// version the store recorded (store.Labels.LabelSetVersion) is this
// binary's, it returns after that one read, without parsing the built-in
// files or writing; otherwise (a new store, or one seeded by a binary with
// other built-in labels) it replaces the set in one atomic batch, which
// removes the labels of the old set that the new one no longer has, except
// those also imported by the user (store.Labels.ReplaceLabelSet), and
// records the version with them. Surfaces call it when they open a store.
func SeedBuiltin(ctx context.Context, st store.Labels) error {
	return SeedLabelSet(ctx, st, BuiltinSet, BuiltinVersion(), label.Builtin)
}

// SeedLabelSet stores the labels load returns as label set set at version,
// unless the store already records that version for the set. load is
// called only then.
func SeedLabelSet(ctx context.Context, st store.Labels, set, version string, load func() ([]heistgraph.Label, error)) error {
	old, err := st.LabelSetVersion(ctx, set)
	if err == nil && old == version {
		return nil
	}
	if err != nil && !errors.Is(err, heistgraph.ErrNotFound) {
		return fmt.Errorf("%s labels: %w", set, err)
	}
	ls, err := load()
	if err != nil {
		return fmt.Errorf("%s labels: %w", set, err)
	}
	if _, _, err := st.ReplaceLabelSet(ctx, set, version, ls); err != nil {
		return fmt.Errorf("%s labels version %s: %w", set, version, err)
	}
	return nil
}
