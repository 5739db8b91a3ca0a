package main

import (
	"context"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/store"
)

// Built-in label seeding is app.SeedBuiltin; open.go calls it through
// seedBuiltin when it opens a store.

// builtinSet is the label set that holds label.Builtin() in every store.
const builtinSet = hgapp.BuiltinSet

// builtinVersion is app.BuiltinVersion.
func builtinVersion() string { return hgapp.BuiltinVersion() }

// seedBuiltin is app.SeedBuiltin.
func seedBuiltin(ctx context.Context, st store.Labels) error { return hgapp.SeedBuiltin(ctx, st) }

// seedLabelSet is app.SeedLabelSet.
func seedLabelSet(ctx context.Context, st store.Labels, set, version string, load func() ([]heistgraph.Label, error)) error {
	return hgapp.SeedLabelSet(ctx, st, set, version, load)
}
