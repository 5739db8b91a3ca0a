package txgraph_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/txgraph"
)

// clusterIDsAt writes the cluster ids of path's graph from st and opens
// them under st's current stamp; the caller closes both.
func clusterIDsAt(t *testing.T, st *pebble.DB, path, cid string) (*txgraph.Graph, *txgraph.ClusterIDs) {
	t.Helper()
	ctx := context.Background()
	if _, err := txgraph.Update(ctx, st, chain, path); err != nil {
		t.Fatal(err)
	}
	g, err := txgraph.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := txgraph.WriteClusterIDs(ctx, st, g, cid); err != nil || !ok {
		t.Fatalf("write cluster ids: %v %v", ok, err)
	}
	ids, err := txgraph.OpenClusterIDs(cid, g, stamp(t, st))
	if err != nil {
		t.Fatal(err)
	}
	return g, ids
}

func stamp(t *testing.T, st *pebble.DB) uint64 {
	t.Helper()
	s, err := st.ClusterStamp(context.Background(), chain)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sameAsStore checks that ids answer every address of g as the store's
// AddressCluster does, and returns how many the clustering holds.
func sameAsStore(t *testing.T, st *pebble.DB, g *txgraph.Graph, ids *txgraph.ClusterIDs) int {
	t.Helper()
	held := 0
	for a := range uint32(g.Addresses()) {
		addr := g.Address(a)
		want, werr := st.AddressCluster(context.Background(), chain, addr)
		got, ok, in := ids.Member(addr)
		if !in {
			t.Fatalf("address %d (%s): not found in the graph", a, addr)
		}
		if werr != nil && !errors.Is(werr, heistgraph.ErrNotFound) {
			t.Fatal(werr)
		}
		if ok != (werr == nil) || (ok && got != want) {
			t.Fatalf("address %s: ids %+v (%v), store %+v (%v)", addr, got, ok, want, werr)
		}
		if ok {
			held++
		}
	}
	if _, _, in := ids.Member("bcrt1qnotanaddressofthegraph"); in {
		t.Fatal("an address the graph does not hold is answered")
	}
	return held
}

// TestClusterIDsFollowTheClustering writes the cluster ids beside a graph
// and checks them against the store's memberships for every address, and
// that each write of the clustering — an update with new blocks, an
// analyst's merge and split, a reorg, a recluster from scratch — makes the
// file stale (OpenClusterIDs refuses it) until it is written again.
func TestClusterIDsFollowTheClustering(t *testing.T) {
	w := synthWorld(t, 3)
	ctx := context.Background()
	st := openStore(t)
	opts := cluster.DefaultOptions()
	dir := t.TempDir()
	path, cid := filepath.Join(dir, "g.txg"), filepath.Join(dir, "g.cid")

	half := len(w.blocks) / 2
	for _, b := range w.blocks[:half] {
		if err := st.ApplyBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if s := stamp(t, st); s != 0 {
		t.Fatalf("stamp %d before any clustering, want 0", s)
	}
	if _, err := txgraph.Update(ctx, st, chain, path); err != nil {
		t.Fatal(err)
	}
	g0, err := txgraph.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := txgraph.WriteClusterIDs(ctx, st, g0, cid); err != nil || ok {
		t.Fatalf("written without a stamp: %v %v", ok, err)
	}
	g0.Close()
	if _, err := os.Stat(cid); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a file was left without a stamp: %v", err)
	}
	if _, err := cluster.Update(ctx, st, chain, opts); err != nil {
		t.Fatal(err)
	}

	// stale checks that the last file written is refused now, then
	// writes it again and checks it.
	g, ids := clusterIDsAt(t, st, path, cid)
	if n := sameAsStore(t, st, g, ids); n == 0 {
		t.Fatal("no address of the graph is clustered: the comparison checks nothing")
	}
	var before map[string]uint64 // cluster of each address when last written
	snapshot := func() {
		before = map[string]uint64{}
		for a := range uint32(g.Addresses()) {
			m, _, _ := ids.Member(g.Address(a))
			before[strings.Clone(g.Address(a))] = m.ClusterID // the graph's strings go with its mapping
		}
	}
	snapshot()
	stale := func(what string, moved bool) {
		t.Helper()
		ids.Close()
		g.Close()
		g2, err := txgraph.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := txgraph.OpenClusterIDs(cid, g2, stamp(t, st)); !errors.Is(err, txgraph.ErrStale) {
			t.Fatalf("%s: the old cluster ids are taken (%v)", what, err)
		}
		g2.Close()
		g, ids = clusterIDsAt(t, st, path, cid)
		sameAsStore(t, st, g, ids)
		changed := 0
		for a, c := range before {
			if m, _, _ := ids.Member(a); m.ClusterID != c {
				changed++
			}
		}
		if moved && changed == 0 {
			t.Fatalf("%s: no address changed cluster, so the stale file would have answered the same", what)
		}
		snapshot()
	}

	// An analyst's merge of two clusters.
	var a, b string
	for x := range uint32(g.Addresses()) {
		m, ok, _ := ids.Member(g.Address(x))
		if !ok {
			continue
		}
		if a == "" {
			a = g.Address(x)
		} else if ma, _, _ := ids.Member(a); ma.ClusterID != m.ClusterID {
			b = g.Address(x)
			break
		}
	}
	if _, err := cluster.Merge(ctx, st, chain, []string{a, b}, "test", "one owner", time.Unix(1700000000, 0), opts); err != nil {
		t.Fatal(err)
	}
	stale("merge", true)
	if _, err := cluster.Split(ctx, st, chain, b, "test", "not the owner", time.Unix(1700000001, 0), opts); err != nil {
		t.Fatal(err)
	}
	stale("split", true)

	// New blocks, clustered.
	for _, b := range w.blocks[half:] {
		if err := st.ApplyBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cluster.Update(ctx, st, chain, opts); err != nil {
		t.Fatal(err)
	}
	stale("update", false)

	// A reorg: the last blocks leave the chain; clustering rewinds.
	tip := w.blocks[len(w.blocks)-1].Height
	if err := st.RewindTo(ctx, chain, tip-20); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.Update(ctx, st, chain, opts); err != nil {
		t.Fatal(err)
	}
	stale("reorg", false)

	// The same tip clustered again from scratch.
	if _, err := cluster.Recluster(ctx, st, chain, opts); err != nil {
		t.Fatal(err)
	}
	stale("recluster", false)
	ids.Close()
	g.Close()
}

// TestClusterIDsRejectDamage opens truncated and altered cluster-ids
// files: an error, never a panic or a wrong answer.
func TestClusterIDsRejectDamage(t *testing.T) {
	w := synthWorld(t, 3)
	ctx := context.Background()
	st := openStore(t)
	for _, b := range w.blocks {
		if err := st.ApplyBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cluster.Update(ctx, st, chain, cluster.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path, cid := filepath.Join(dir, "g.txg"), filepath.Join(dir, "g.cid")
	g, ids := clusterIDsAt(t, st, path, cid)
	ids.Close()
	defer g.Close()
	good, err := os.ReadFile(cid)
	if err != nil {
		t.Fatal(err)
	}
	s := stamp(t, st)
	for _, c := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, txgraph.ErrFormat},
		{"header cut", good[:40], txgraph.ErrFormat},
		{"ids cut", good[:len(good)-4], txgraph.ErrFormat},
		{"bad magic", append([]byte("HGTXG\x00\x00\x02"), good[8:]...), txgraph.ErrFormat},
		{"other stamp", append(append(append([]byte(nil), good[:8]...), 1, 2, 3, 4, 5, 6, 7, 8), good[16:]...), txgraph.ErrStale},
		{"other tip", append(append(append([]byte(nil), good[:24]...), 0xff), good[25:]...), txgraph.ErrStale},
	} {
		p := filepath.Join(dir, c.name+".cid")
		if err := os.WriteFile(p, c.b, 0o644); err != nil {
			t.Fatal(err)
		}
		if ids, err := txgraph.OpenClusterIDs(p, g, s); !errors.Is(err, c.want) {
			if err == nil {
				ids.Close()
			}
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := txgraph.OpenClusterIDs(filepath.Join(dir, "absent.cid"), g, s); !errors.Is(err, txgraph.ErrStale) {
		t.Errorf("absent: %v", err)
	}
	if _, err := txgraph.OpenClusterIDs(cid, g, 0); !errors.Is(err, txgraph.ErrStale) {
		t.Errorf("stamp 0: %v", err)
	}
	// A file current for the stamp and the graph is kept as it is (a run
	// that clustered nothing new rewrites nothing: the mark stays); a
	// damaged one is written again.
	marked := slices.Clone(good)
	marked[len(marked)-1] ^= 0xff
	for _, c := range []struct {
		name    string
		b, want []byte
	}{{"current", marked, marked}, {"ids cut", good[:len(good)-4], good}} {
		if err := os.WriteFile(cid, c.b, 0o644); err != nil {
			t.Fatal(err)
		}
		if ok, err := txgraph.WriteClusterIDs(ctx, st, g, cid); err != nil || !ok {
			t.Fatalf("%s: write cluster ids: %v %v", c.name, ok, err)
		}
		if b, err := os.ReadFile(cid); err != nil || !bytes.Equal(b, c.want) {
			t.Errorf("%s: the file after the write is not the one wanted (%v)", c.name, err)
		}
	}
}
