package pebble

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// TestAddrKeyHash pins the hash that leads the totals keys to XXH64 with
// seed 0 (the specification's vectors): it is on disk, so it must never
// change.
func TestAddrKeyHash(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want uint64
	}{
		{"", 0xef46db3751d8e999},
		{"a", 0xd24ec4f1a98c6e5b},
		{"abc", 0x44bc2cf5ad770999},
	} {
		if got := addrKeyHash(tc.s); got != tc.want {
			t.Errorf("addrKeyHash(%q) = %#x, want %#x", tc.s, got, tc.want)
		}
	}
}

// collide makes addrKeyHash put every address under one of two hashes
// until the test ends: every address shares its hash with about half the
// others. The test must not be parallel (the hash is the package's).
func collide(t *testing.T) {
	t.Helper()
	old := addrKeyHash
	addrKeyHash = func(s string) uint64 { return xxhash.Sum64String(s) & 1 }
	t.Cleanup(func() { addrKeyHash = old })
}

// addressViews returns what show reads of every address of chain in d
// (totals and history, as JSON), by address.
func addressViews(t *testing.T, d *DB, chain heistgraph.Chain) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for a, err := range d.Addresses(ctx, chain) {
		if err != nil {
			t.Fatal(err)
		}
		s, err := d.Address(ctx, chain, a)
		if err != nil {
			t.Fatalf("address %q: %v", a, err)
		}
		var evs []heistgraph.AddressEvent
		for ev, err := range d.AddressHistory(ctx, chain, a, store.HistoryOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
			evs = append(evs, ev)
		}
		b, err := json.Marshal(struct {
			S   heistgraph.AddressSummary
			Evs []heistgraph.AddressEvent
		}{s, evs})
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := out[a]; dup {
			t.Fatalf("address %q listed twice", a)
		}
		out[a] = string(b)
	}
	return out
}

// TestAddrHashCollisions: with a hash under which every address shares
// its totals key prefix with about half the others, every address keeps
// its own totals, history and clustering id (the entries under a hash are
// told apart by the address table): the conformance suite and the
// clustering's address tests pass, and the random reorganising worlds of
// TestBulkLoadMetamorphic give, by every ingest path, the dump, the
// digest and the address views (totals and events of every address)
// they give with the real hash.
func TestAddrHashCollisions(t *testing.T) {
	chain := heistgraph.ChainBTCRegtest
	type result struct {
		dump   string
		digest heistgraph.Hash
		views  map[string]string
	}
	run := func(t *testing.T, seed uint64) result {
		one := bulkLoadMetamorphic(t, seed)
		checkAddrIDs(t, one, chain)
		return result{string(storeDump(t, one)), mustDigest(t, one, chain), addressViews(t, one, chain)}
	}
	var real []result
	for seed := uint64(1); seed <= 2; seed++ {
		real = append(real, run(t, seed))
	}
	collide(t)
	t.Run("worlds", func(t *testing.T) {
		for seed := uint64(1); seed <= 2; seed++ {
			got, want := run(t, seed), real[seed-1]
			if got.dump != want.dump {
				t.Errorf("seed %d: the dump with collisions differs:\n%s", seed, dumpDiff([]byte(got.dump), []byte(want.dump)))
			}
			if got.digest != want.digest {
				t.Errorf("seed %d: digest %s with collisions, %s without", seed, got.digest, want.digest)
			}
			if !maps.Equal(got.views, want.views) {
				t.Errorf("seed %d: the addresses' totals and histories differ with collisions", seed)
			}
			if len(want.views) < 10 {
				t.Fatalf("seed %d: only %d addresses", seed, len(want.views))
			}
		}
	})
	t.Run("conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return openMem(t, 256<<10) })
	})
	t.Run("cluster addresses", func(t *testing.T) {
		bothCommitWays(t, testClusterAddrExceptions)
		bothCommitWays(t, testClusterAddrNamedAfterRewind)
		bothCommitWays(t, testClusterAddrNamedOwn)
	})
	t.Run("digest world", func(t *testing.T) { checkDigestWorld(t, "db", Options{FS: vfs.NewMem()}) })
}

// TestDigestOrderSpill: past digestSortBytes, Digest sorts the addresses
// through a scratch store, in order, and gets the same digest; on disk the
// scratch store is removed after.
func TestDigestOrderSpill(t *testing.T) {
	defer func(n int) { digestSortBytes = n }(digestSortBytes)
	one := bulkLoadMetamorphic(t, 3)
	chain := heistgraph.ChainBTCRegtest
	want := mustDigest(t, one, chain)
	for _, n := range []int{0, 200, 2000} {
		digestSortBytes = n
		if got := mustDigest(t, one, chain); got != want {
			t.Errorf("sorting in %d bytes: digest %s, want %s", n, got, want)
		}
	}
	c, _, err := one.code(chain)
	if err != nil {
		t.Fatal(err)
	}
	digestSortBytes = 0
	snap := one.db.NewSnapshot()
	defer snap.Close()
	o, err := one.newDigestOrder(context.Background(), snap, c)
	if err != nil {
		t.Fatal(err)
	}
	if o.spill == nil {
		t.Fatal("sorting in 0 bytes did not spill")
	}
	var suffixes []string
	if err := o.each(context.Background(), func(s, _ []byte) error {
		suffixes = append(suffixes, string(s))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(suffixes) < 10 || !slices.IsSorted(suffixes) {
		t.Errorf("%d addresses, sorted %v", len(suffixes), slices.IsSorted(suffixes))
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}

	// On disk the scratch store is in the system's temporary directory,
	// removed after.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	checkDigestWorld(t, filepath.Join(t.TempDir(), "db"), Options{})
	if left, err := os.ReadDir(tmp); err != nil || len(left) > 0 {
		t.Errorf("left in the temporary directory: %v (%v)", left, err)
	}
}

// checkDigestWorld checks that a store opened at dir with opts digests
// digestWorld's blocks to the digest pinned for them.
func checkDigestWorld(t *testing.T, dir string, opts Options) {
	t.Helper()
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustApply(t, db, digestWorld()...)
	if got := mustDigest(t, db, heistgraph.ChainBTCRegtest); got.String() != digestWorldWant {
		t.Errorf("digest %s, want %s", got, digestWorldWant)
	}
}
