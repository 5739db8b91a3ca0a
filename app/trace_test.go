package app

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/bitcoin"
	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/ingest"
	"github.com/heistgraph/heistgraph/label"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/synth"
	"github.com/heistgraph/heistgraph/trace"
	"github.com/heistgraph/heistgraph/txgraph"
)

// countingStore counts the store's AddressCluster reads.
type countingStore struct {
	*pebble.DB
	reads atomic.Int64
}

func (s *countingStore) AddressCluster(ctx context.Context, chain heistgraph.Chain, addr string) (store.ClusterMember, error) {
	s.reads.Add(1)
	return s.DB.AddressCluster(ctx, chain, addr)
}

// TestTraceResolvesThroughClusterIDs traces every heist of a small world,
// labelled and clustered, on the graph with the cluster ids beside it and
// on the store: the JSON is the same, the first asks the store for no
// address's cluster that the graph holds, and after an analyst's merge
// (the ids are stale) the store answers again, still the same.
func TestTraceResolvesThroughClusterIDs(t *testing.T) {
	ctx := context.Background()
	const ch = heistgraph.ChainBTCRegtest
	world, gdir := t.TempDir(), t.TempDir()
	if _, err := synth.Generate(ctx, synth.Options{Dir: world, Seed: 7, Scale: synth.Small}); err != nil {
		t.Fatal(err)
	}
	truth, err := synth.LoadTruth(filepath.Join(world, synth.TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	db, err := pebble.Open("", pebble.Options{FS: vfs.NewMem(), CacheSize: 8 << 20, MemTableSize: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := &countingStore{DB: db}
	net := heistgraph.Regtest
	src, err := bitcoin.NewFileSource([]string{world}, bitcoin.FileOptions{Network: &net})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Stream(ctx, st, src, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(world, synth.LabelsFile))
	if err != nil {
		t.Fatal(err)
	}
	var labels []heistgraph.Label
	for l, err := range label.ReadCSV(f, label.Options{Name: synth.LabelsFile}) {
		if err != nil {
			t.Fatal(err)
		}
		labels = append(labels, l)
	}
	f.Close()
	if _, err := st.PutLabels(ctx, labels); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.Update(ctx, st, ch, cluster.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	if _, err := txgraph.Update(ctx, st, ch, txgraph.Path(gdir, ch)); err != nil {
		t.Fatal(err)
	}
	g, err := txgraph.Open(txgraph.Path(gdir, ch))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := txgraph.WriteClusterIDs(ctx, st, g, txgraph.ClusterIDsPath(gdir, ch)); err != nil || !ok {
		t.Fatalf("write cluster ids: %v %v", ok, err)
	}
	defer g.Close()
	held := func(addr string) bool { _, ok := g.AddressID(addr); return ok }

	// run traces every heist, haircut through CoinJoins, and returns the
	// JSON and the store's cluster reads of addresses the graph holds.
	run := func(dir string) ([]byte, int) {
		t.Helper()
		st.reads.Store(0)
		var out []byte
		entities := 0
		for _, h := range truth.Heists {
			seeds, err := trace.ParseSeeds(h.Seeds)
			if err != nil {
				t.Fatal(err)
			}
			var progress int64
			v, err := Trace(ctx, st, TraceRequest{GraphDir: dir, Options: trace.Options{Seeds: seeds, Policy: trace.Haircut, ThroughCoinJoin: trace.Haircut},
				GraphProgress: func(n int64) { progress = n }})
			if err != nil {
				t.Fatal(err)
			}
			// GraphProgress counts the graph's reads, only when the
			// graph is read: at least one a transaction visited.
			if (dir == "") != (progress == 0) || (dir != "" && progress < int64(v.Stats.TxsVisited)) {
				t.Fatalf("graph %q: GraphProgress said %d transactions read, the trace visited %d", dir, progress, v.Stats.TxsVisited)
			}
			v.Stats.MS = 0
			for _, s := range v.Sinks.All() {
				if s.Entity != "" && held(s.Address) {
					entities++
				}
			}
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b...)
		}
		if entities == 0 {
			t.Fatal("no sink reaches an entity: the resolver is not exercised")
		}
		return out, int(st.reads.Load())
	}
	want, storeReads := run("")
	got, idReads := run(gdir)
	if string(got) != string(want) {
		t.Fatal("the trace resolved through the cluster ids differs from the store's")
	}
	// The resolver reads the cluster of each labelled address once (some
	// are not in the graph) and of each address a trace reaches.
	labelled := 0
	for _, l := range labels {
		if l.Chain == ch && !held(l.Address) {
			labelled++
		}
	}
	if idReads > labelled*len(truth.Heists) || storeReads <= idReads {
		t.Fatalf("store cluster reads: %d with the cluster ids (at most %d wanted), %d without", idReads, labelled*len(truth.Heists), storeReads)
	}

	checkScreen(t, st, g, gdir)

	// A merge makes the ids stale: the store answers, the same.
	var a, b string
	for x := range uint32(g.Addresses()) {
		if m, err := st.DB.AddressCluster(ctx, ch, g.Address(x)); err == nil {
			if a == "" {
				a = g.Address(x)
			} else if ma, _ := st.DB.AddressCluster(ctx, ch, a); ma.ClusterID != m.ClusterID {
				b = g.Address(x)
				break
			}
		}
	}
	if _, err := cluster.Merge(ctx, st, ch, []string{a, b}, "test", "one owner", time.Unix(1700000000, 0), cluster.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	want, _ = run("")
	got, staleReads := run(gdir)
	if string(got) != string(want) {
		t.Fatal("after a merge, the trace on the graph differs from the store's")
	}
	t.Logf("store cluster reads: %d on the store, %d with the cluster ids, %d with them stale", storeReads, idReads, staleReads)
	if staleReads <= idReads {
		t.Fatalf("after a merge the stale cluster ids were read (%d store reads, %d before)", staleReads, idReads)
	}
}

// checkScreen checks the resolver of a trace over the graph with current
// cluster ids: every graph address its screen passes over resolves to no
// entity, and the screen passes over most addresses (a world's labels are
// few).
func checkScreen(t *testing.T, st store.Store, g *txgraph.Graph, gdir string) {
	t.Helper()
	ctx := context.Background()
	const ch = heistgraph.ChainBTCRegtest
	opts := trace.Options{Chain: ch}
	_, done := traceReader(ctx, st, gdir, nil, &opts)
	defer done()
	sr, ok := opts.Resolver.(*screenedResolver)
	if !ok {
		t.Fatalf("the resolver over current cluster ids is a %T, not screened", opts.Resolver)
	}
	// The screened resolver keeps answers by cluster: each must be the
	// plain resolver's for the address, whole.
	plain := EntityResolver(st)
	// fresh returns a second screened resolver, asked only by id.
	var byID *screenedResolver
	fresh := func() *screenedResolver {
		if byID == nil {
			o := trace.Options{Chain: ch}
			_, d := traceReader(ctx, st, gdir, nil, &o)
			t.Cleanup(d)
			byID = o.Resolver.(*screenedResolver)
		}
		return byID
	}
	screened, resolved := 0, 0
	for x := range uint32(g.Addresses()) {
		ref, found, err := sr.Resolve(ctx, ch, g.Address(x))
		if err != nil {
			t.Fatal(err)
		}
		wref, wfound, err := plain.Resolve(ctx, ch, g.Address(x))
		if err != nil {
			t.Fatal(err)
		}
		if found != wfound || !reflect.DeepEqual(ref, wref) {
			t.Fatalf("address %s resolves to %+v %v through the screen, %+v %v plainly", g.Address(x), ref, found, wref, wfound)
		}
		// By id, and on a second resolver whose answers by cluster
		// are all ResolveID's.
		for _, r := range []*screenedResolver{sr, fresh()} {
			iref, ifound, err := r.ResolveID(ctx, ch, x, g.Address(x))
			if err != nil {
				t.Fatal(err)
			}
			if ifound != wfound || !reflect.DeepEqual(iref, wref) {
				t.Fatalf("address %s (id %d) resolves to %+v %v by id, %+v %v plainly", g.Address(x), x, iref, ifound, wref, wfound)
			}
		}
		if found {
			resolved++
		}
		if !sr.MayResolve(ch, x) {
			screened++
			if found {
				t.Fatalf("address %s resolves to an entity but the screen passed over it", g.Address(x))
			}
		}
	}
	if !sr.MayResolve(heistgraph.ChainBTC, 0) || !sr.MayResolve(ch, uint32(g.Addresses())) {
		t.Fatal("the screen passed over an address of another chain or beyond the graph")
	}
	t.Logf("screen: %d of %d graph addresses passed over, %d resolve to an entity", screened, g.Addresses(), resolved)
	if resolved == 0 || screened < g.Addresses()/2 {
		t.Fatalf("screen: %d of %d passed over, %d resolved: the check exercises nothing", screened, g.Addresses(), resolved)
	}
}
