package pebble

import (
	"context"
	"testing"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// TestLegacyLabelKeys checks that a store written before label keys carried
// their content digest is read as it is, and that storing one of its labels
// again moves it to its new key instead of adding a second copy, so an
// import repeated after the upgrade still adds nothing.
func TestLegacyLabelKeys(t *testing.T) {
	ctx := context.Background()
	db := openMem(t, 256<<10)
	old := heistgraph.Label{Chain: "btc", Address: "1Archive1n2C579dMsAu3iC6tWzuQJz8dN", Entity: "Internet Archive",
		Category: "organization", Source: "tagpack:demo", Confidence: 0.5, Note: "n"}
	inSet := old
	inSet.Category = "exchange"
	// Write both as the previous layout did: no digest in the keys, inSet
	// only through the set "builtin".
	b := db.db.NewBatch()
	for _, w := range []struct {
		l     heistgraph.Label
		flags byte
	}{{old, labelDirect}, {inSet, 0}} {
		if err := b.Set(appendLegacyLabelKey(nil, &w.l), appendLabelRecord(nil, w.flags, &w.l), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Set(appendLegacyLabelTail(appendLabelSetPrefix(nil, "builtin"), &inSet), nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(pebbledb.Sync); err != nil {
		t.Fatal(err)
	}

	got, err := db.AddressLabels(ctx, old.Chain, old.Address)
	if err != nil || len(got) != 2 {
		t.Fatalf("legacy labels: %+v, %v", got, err)
	}
	// The same label again: moved, not added.
	if added, err := db.PutLabels(ctx, []heistgraph.Label{old}); err != nil || added != 0 {
		t.Fatalf("re-put a legacy label: added %d, %v; want 0", added, err)
	}
	// A revised one is a label of its own beside it.
	revised := old
	revised.Confidence = 0.7
	if added, err := db.PutLabels(ctx, []heistgraph.Label{revised}); err != nil || added != 1 {
		t.Fatalf("put a revised label: added %d, %v; want 1", added, err)
	}
	if got, _ = db.AddressLabels(ctx, old.Chain, old.Address); len(got) != 3 {
		t.Fatalf("after re-put: %+v, want 3 labels", got)
	}
	if _, found, _ := lookup(db.db, appendLegacyLabelKey(nil, &old), nil); found {
		t.Errorf("legacy key of a re-put label still there")
	}
	// The set's new version drops its legacy member.
	added, removed, err := db.ReplaceLabelSet(ctx, "builtin", "v2", nil)
	if err != nil || added != 0 || removed != 1 {
		t.Fatalf("replace set: added %d removed %d, %v; want 0, 1", added, removed, err)
	}
	var left []heistgraph.Label
	for l, err := range db.Labels(ctx, store.LabelQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		left = append(left, l)
	}
	if len(left) != 2 || left[0].Category != "organization" || left[1].Category != "organization" {
		t.Errorf("left %+v, want the re-put and the revised label", left)
	}
}
