package cluster

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// TestListMembers: the pages of every cluster, put together, are exactly
// its members as the memberships say, without repeats, and every member
// of a cluster gives the same list; also after analysts' merges and
// splits, which join addresses without evidence records.
func TestListMembers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	gen := storetest.NewGenerator(chain, 11, 12)
	st := openMem(t)
	for range 60 {
		if err := st.ApplyBlock(ctx, gen.Next()); err != nil {
			t.Fatal(err)
		}
	}
	opts := DefaultOptions()
	if _, err := Update(ctx, st, chain, opts); err != nil {
		t.Fatal(err)
	}
	check := func(stage string) {
		t.Helper()
		byCluster := map[uint64][]string{}
		for _, m := range memberships(t, st) {
			byCluster[m.ClusterID] = append(byCluster[m.ClusterID], m.Address)
		}
		multi := 0
		for cid, want := range byCluster {
			if len(want) < 2 {
				continue
			}
			multi++
			var first []string
			for _, from := range []string{want[0], want[len(want)-1]} {
				var got []string
				for off := 0; ; {
					p, err := ListMembers(ctx, st, chain, from, off, 3)
					if err != nil {
						t.Fatalf("%s: members of %s at %d: %v", stage, from, off, err)
					}
					if p.ClusterID != cid || p.Size != int64(len(want)) || p.Offset != off {
						t.Fatalf("%s: page of %s: cluster %d size %d offset %d; want %d, %d, %d", stage, from, p.ClusterID, p.Size, p.Offset, cid, len(want), off)
					}
					for _, m := range p.Members {
						got = append(got, m.Address)
					}
					if p.NextOffset == 0 {
						break
					}
					if p.NextOffset != off+3 || len(p.Members) != 3 {
						t.Fatalf("%s: page at %d: next %d with %d members", stage, off, p.NextOffset, len(p.Members))
					}
					off = p.NextOffset
				}
				if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
					t.Fatalf("%s: cluster %d from %s lists %v; want the members %v", stage, cid, from, got, want)
				}
				if first == nil {
					first = got
				} else if !slices.Equal(first, got) {
					t.Fatalf("%s: cluster %d lists differently from two members:\n%v\n%v", stage, cid, first, got)
				}
			}
		}
		if multi == 0 {
			t.Fatalf("%s: no cluster of two addresses or more to list", stage)
		}
	}
	check("clustered")

	// Merge two clusters by override, split an address off another.
	ms := memberships(t, st)
	var a, b, c string
	for _, m := range ms {
		switch {
		case a == "":
			a = m.Address
		case b == "" && m.ClusterID != ms[0].ClusterID:
			b = m.Address
		}
	}
	counts := map[uint64]int{}
	for _, m := range ms {
		counts[m.ClusterID]++
	}
	for _, m := range ms {
		if counts[m.ClusterID] >= 3 && m.Address != a && m.Address != b {
			c = m.Address
			break
		}
	}
	now := time.Unix(1_800_000_000, 0)
	if _, err := Merge(ctx, st, chain, []string{a, b}, "ana", "same owner", now, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := Split(ctx, st, chain, c, "bob", "a payee", now, opts); err != nil {
		t.Fatal(err)
	}
	check("after overrides")

	tests := []struct {
		name          string
		addr          string
		offset, limit int
		want          error
	}{
		{"unknown address", "nobody", 0, 1, heistgraph.ErrNotFound},
		{"negative offset", a, -1, 1, heistgraph.ErrInvalid},
		{"negative limit", a, 0, -1, heistgraph.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ListMembers(ctx, st, chain, tc.addr, tc.offset, tc.limit)
			wantErr(t, err, tc.want)
		})
	}
	// A page past the end is empty and has no next page.
	if p, err := ListMembers(ctx, st, chain, a, 1_000, 5); err != nil || len(p.Members) != 0 || p.NextOffset != 0 {
		t.Errorf("page past the end: %+v, %v", p, err)
	}
}

// TestOverrideDuplicates: repeating a merge or a split records nothing
// and names the override that already says it; a merge after a split of
// one of its addresses (or a split after a merge back) is new.
func TestOverrideDuplicates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := newGraph(t)
	g.fund("f", o("A", 1_000_000), o("B", 1_000_000), o("C", 1_000_000))
	g.mine()
	g.update(nil)
	now := time.Unix(1_800_000_000, 0)
	opts := DefaultOptions()
	overrides := func() int {
		n := 0
		for _, err := range g.st.Overrides(ctx, chain) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		return n
	}
	type step struct {
		name    string
		merge   []string // else split split
		split   string
		dup     bool
		seq     uint64
		size    int64 // of the first address's cluster after
		rest    int64 // split: the size of the cluster left
		records int   // overrides stored after the step
	}
	steps := []step{
		{name: "merge A B", merge: []string{"A", "B"}, seq: 1, size: 2, records: 1},
		{name: "same merge", merge: []string{"A", "B"}, dup: true, seq: 1, size: 2, records: 1},
		{name: "same merge other order and repeated", merge: []string{"B", "A", "B"}, dup: true, seq: 1, size: 2, records: 1},
		{name: "merge A B C", merge: []string{"A", "B", "C"}, seq: 2, size: 3, records: 2},
		{name: "a subset of a merge", merge: []string{"C", "A"}, dup: true, seq: 2, size: 3, records: 2},
		{name: "split B", split: "B", seq: 3, size: 1, rest: 2, records: 3},
		{name: "same split", split: "B", dup: true, seq: 3, size: 1, records: 3},
		{name: "merge back after the split", merge: []string{"A", "B"}, seq: 4, size: 3, records: 4},
		{name: "split after the merge back", split: "B", seq: 5, size: 1, rest: 2, records: 5},
	}
	for _, s := range steps {
		var r OverrideResult
		var err error
		if s.merge != nil {
			r, err = Merge(ctx, g.st, chain, s.merge, "ana", s.name, now, opts)
		} else {
			r, err = Split(ctx, g.st, chain, s.split, "ana", s.name, now, opts)
		}
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if r.Duplicate != s.dup || r.Override.Seq != s.seq || r.Sizes[0] != s.size || r.RestSize != s.rest {
			t.Errorf("%s: duplicate %v seq %d size %d rest %d; want %v %d %d %d", s.name, r.Duplicate, r.Override.Seq, r.Sizes[0], r.RestSize, s.dup, s.seq, s.size, s.rest)
		}
		if n := overrides(); n != s.records {
			t.Errorf("%s: %d overrides stored, want %d", s.name, n, s.records)
		}
	}
	_, err := Merge(ctx, g.st, chain, []string{"A", " A "}, "ana", "x", now, opts)
	wantErr(t, err, heistgraph.ErrInvalid)
}
