package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

func collect[T any](t *testing.T, what string, seq func(yield func(T, error) bool)) []T {
	t.Helper()
	var out []T
	for x, err := range seq {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		out = append(out, x)
	}
	return out
}

// testSharing covers the Sharing role: feeds kept field for field, in id
// order, replaced by id, removed; invalid ids and feeds refused with
// nothing stored; shared objects kept per collection in (id, version)
// order, one version replacing itself; statuses kept byte for byte.
func testSharing(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := open(t)
	if got := collect(t, "feeds", st.FeedList(ctx)); len(got) != 0 {
		t.Fatalf("new store lists feeds %+v", got)
	}
	b := store.Feed{ID: "partner-b", URL: "https://b.example/taxii2/api/", Collection: "heistgraph-watches", Key: "hg_x",
		AsWatches: true, TLPMax: "amber", Created: 1700000000, LastPull: 1700000100, Objects: 7, Labels: 3, Watches: 1, LastError: "timeout",
		AddedLast: "2026-12-05T10:11:12.123456Z"}
	a := store.Feed{ID: "a1", URL: "http://a", Collection: "c", Created: 1}
	for _, f := range []store.Feed{b, a} {
		if err := st.PutFeed(ctx, f); err != nil {
			t.Fatalf("put feed %s: %v", f.ID, err)
		}
	}
	equal(t, "feeds", collect(t, "feeds", st.FeedList(ctx)), []store.Feed{a, b})
	b.LastError, b.Labels = "", 9
	if err := st.PutFeed(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, err := st.Feed(ctx, "partner-b")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "replaced feed", got, b)
	for _, bad := range []store.Feed{{ID: "", URL: "u", Collection: "c"}, {ID: "Up", URL: "u", Collection: "c"},
		{ID: "x", Collection: "c"}, {ID: "y", URL: "u"}} {
		if err := st.PutFeed(ctx, bad); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("put feed %+v: %v, want ErrInvalid", bad, err)
		}
	}
	if err := st.DeleteFeed(ctx, "a1"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a1", "never", "Bad id"} {
		if _, err := st.Feed(ctx, id); !errors.Is(err, heistgraph.ErrNotFound) {
			t.Errorf("feed %q: %v, want ErrNotFound", id, err)
		}
		if err := st.DeleteFeed(ctx, id); !errors.Is(err, heistgraph.ErrNotFound) {
			t.Errorf("delete feed %q: %v, want ErrNotFound", id, err)
		}
	}
	equal(t, "feeds after delete", collect(t, "feeds", st.FeedList(ctx)), []store.Feed{b})

	o1 := store.SharedObject{ID: "indicator--b", Version: 20, DateAdded: 100, KeyID: "k1", Raw: []byte(`{"id":"indicator--b"}`)}
	o0 := store.SharedObject{ID: "indicator--b", Version: -5, DateAdded: 101, KeyID: "k1", Raw: []byte(`{"v":0}`)}
	o2 := store.SharedObject{ID: "incident--a", Version: 30, DateAdded: 102, KeyID: "k2", Raw: []byte(`{"id":"incident--a"}`)}
	other := store.SharedObject{ID: "incident--a", Version: 30, DateAdded: 1, Raw: []byte(`{}`)}
	if err := st.PutSharedObjects(ctx, "inbox", []store.SharedObject{o1, o0, o2}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutSharedObjects(ctx, "inbox-2", []store.SharedObject{other}); err != nil {
		t.Fatal(err)
	}
	equal(t, "shared objects", collect(t, "objects", st.SharedObjects(ctx, "inbox")), []store.SharedObject{o2, o0, o1})
	o1.Raw, o1.DateAdded = []byte(`{"again":true}`), 200
	if err := st.PutSharedObjects(ctx, "inbox", []store.SharedObject{o1}); err != nil {
		t.Fatal(err)
	}
	equal(t, "replaced version", collect(t, "objects", st.SharedObjects(ctx, "inbox")), []store.SharedObject{o2, o0, o1})
	for _, bad := range [][]store.SharedObject{{{ID: "", Raw: []byte("{}")}}, {{ID: "a\x00b", Raw: []byte("{}")}}, {{ID: "x"}}} {
		if err := st.PutSharedObjects(ctx, "inbox", append([]store.SharedObject{o2}, bad...)); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("put %+v: %v, want ErrInvalid", bad, err)
		}
	}
	if err := st.PutSharedObjects(ctx, "", []store.SharedObject{o2}); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("put in collection \"\": %v, want ErrInvalid", err)
	}
	if got := collect(t, "objects", st.SharedObjects(ctx, "none")); len(got) != 0 {
		t.Errorf("empty collection yields %+v", got)
	}
	// Deleting: the versions named go (one never stored is no error), the
	// other versions, ids and collections stay.
	if err := st.DeleteSharedObjects(ctx, "inbox", []store.SharedVersion{{ID: "indicator--b", Version: -5}, {ID: "indicator--b", Version: 99},
		{ID: "incident--zz", Version: 1}}); err != nil {
		t.Fatal(err)
	}
	equal(t, "after deleting one version", collect(t, "objects", st.SharedObjects(ctx, "inbox")), []store.SharedObject{o2, o1})
	if err := st.DeleteSharedObjects(ctx, "inbox", []store.SharedVersion{{ID: "incident--a", Version: 30}, {ID: "indicator--b", Version: 20}}); err != nil {
		t.Fatal(err)
	}
	if got := collect(t, "objects", st.SharedObjects(ctx, "inbox")); len(got) != 0 {
		t.Errorf("after deleting every version: %+v", got)
	}
	equal(t, "the other collection", collect(t, "objects", st.SharedObjects(ctx, "inbox-2")), []store.SharedObject{other})
	for _, bad := range []struct {
		col string
		vs  []store.SharedVersion
	}{{"", nil}, {"inbox-2", []store.SharedVersion{{ID: ""}}}, {"inbox-2", []store.SharedVersion{{ID: "incident--a", Version: 30}, {ID: "a\x00b"}}}} {
		if err := st.DeleteSharedObjects(ctx, bad.col, bad.vs); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("delete %q %+v: %v, want ErrInvalid", bad.col, bad.vs, err)
		}
	}
	equal(t, "after refused deletes", collect(t, "objects", st.SharedObjects(ctx, "inbox-2")), []store.SharedObject{other})

	status := []byte(`{"id":"s1","status":"complete"}`)
	if err := st.PutShareStatus(ctx, "s1", status); err != nil {
		t.Fatal(err)
	}
	gotStatus, err := st.ShareStatus(ctx, "s1")
	if err != nil || string(gotStatus) != string(status) {
		t.Errorf("status s1: %q, %v", gotStatus, err)
	}
	if _, err := st.ShareStatus(ctx, "s2"); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Errorf("status s2: %v, want ErrNotFound", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	for _, err := range st.FeedList(cctx) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("feed list on a cancelled context: %v", err)
		}
	}
}
