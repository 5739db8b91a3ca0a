package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

func watchList(t *testing.T, st store.Watches) []heistgraph.Watch {
	t.Helper()
	var out []heistgraph.Watch
	for w, err := range st.WatchList(context.Background()) {
		if err != nil {
			t.Fatalf("watch list: %v", err)
		}
		out = append(out, w)
	}
	return out
}

// testWatches covers PutWatch, Watch, WatchList and DeleteWatch: every
// field kept, name order, a name stored twice refused as a conflict,
// invalid watches refused with nothing stored, unknown names not found.
func testWatches(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := open(t)
	if got := watchList(t, st); len(got) != 0 {
		t.Fatalf("new store lists watches %+v", got)
	}
	b := heistgraph.Watch{Name: "b-2", Chain: chain, Seeds: []string{"aa:0", "bcrt1qexample"}, Policy: "haircut", Created: 1700000000}
	a := heistgraph.Watch{Name: "2024-a", Chain: chain, Seeds: []string{"cc"}, Policy: "poison", Created: 1700000100, Incident: "2024-a"}
	for _, w := range []heistgraph.Watch{b, a} {
		if err := st.PutWatch(ctx, w); err != nil {
			t.Fatalf("put %s: %v", w.Name, err)
		}
	}
	equal(t, "list", watchList(t, st), []heistgraph.Watch{a, b})
	got, err := st.Watch(ctx, "b-2")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "watch b-2", got, b)
	again := b
	again.Seeds = []string{"dd"}
	if err := st.PutWatch(ctx, again); !errors.Is(err, heistgraph.ErrConflict) {
		t.Errorf("put b-2 again: %v, want ErrConflict", err)
	}
	for _, bad := range []heistgraph.Watch{
		{Name: "", Chain: chain, Seeds: []string{"aa"}},
		{Name: "Upper", Chain: chain, Seeds: []string{"aa"}},
		{Name: "a.b", Chain: chain, Seeds: []string{"aa"}},
		{Name: "no-seeds", Chain: chain},
		{Name: "no-chain", Seeds: []string{"aa"}},
	} {
		if err := st.PutWatch(ctx, bad); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("put %+v: %v, want ErrInvalid", bad, err)
		}
	}
	equal(t, "list after refusals", watchList(t, st), []heistgraph.Watch{a, b})
	for _, name := range []string{"zz", "", "UPPER"} {
		if _, err := st.Watch(ctx, name); !errors.Is(err, heistgraph.ErrNotFound) {
			t.Errorf("watch %q: %v, want ErrNotFound", name, err)
		}
		if err := st.DeleteWatch(ctx, name); !errors.Is(err, heistgraph.ErrNotFound) {
			t.Errorf("delete %q: %v, want ErrNotFound", name, err)
		}
	}
	if err := st.DeleteWatch(ctx, "b-2"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteWatch(ctx, "b-2"); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Errorf("delete twice: %v, want ErrNotFound", err)
	}
	equal(t, "list after delete", watchList(t, st), []heistgraph.Watch{a})
}
