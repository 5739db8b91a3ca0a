package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heistgraph/heistgraph"

	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
	"github.com/heistgraph/heistgraph/txgraph"
)

// TraceRequest is a trace to run: on Chain (or the one Bitcoin chain the
// store holds: TraceChain), with Options (its Chain and Resolver are set
// here; its address seeds are checked and normalised here).
type TraceRequest struct {
	Chain   string
	Options trace.Options
	// GraphDir is a folder of transaction graphs (txgraph.Path; the CLI's
	// is DATA/txgraph). A trace reads its chain's graph there when the
	// graph is current (its last block is the store's tip), and the store
	// otherwise; the result is the same either way. "" reads the store.
	GraphDir string
	// GraphProgress, when set and the trace reads the graph, is called
	// with the number of transactions read from it so far, on every read
	// (the API's trace jobs report it). Reads from the store are the
	// store's to count.
	GraphProgress func(txs int64)
}

// TraceView is what `trace --json` prints: the trace.Result and the
// freshness of the clusters its entities were resolved through.
type TraceView struct {
	*trace.Result
	ClustersView
	// ByChain is where the money sits per chain when the trace crossed
	// links (--follow-links; Holdings).
	ByChain []ChainHoldings `json:"by_chain,omitempty"`
}

// CompareView is what `trace --compare --json` prints: the seeds traced
// under every policy, with the freshness of the clusters. Result (not in
// the JSON) is the run of the request's own policy.
type CompareView struct {
	*trace.Comparison
	ClustersView
	Result *trace.Result `json:"-"`
}

// JSONResults returns the result the view's JSON holds and the nesting of
// its keys there (1: the view embeds it), as internal/tracejson writes it.
func (v TraceView) JSONResults() ([]*trace.Result, int) {
	if v.Result == nil {
		return nil, 1
	}
	return []*trace.Result{v.Result}, 1
}

// JSONResults returns the results the view's JSON holds and the nesting of
// their keys there (3: {"results": [{...}]}), as internal/tracejson
// writes them.
func (v CompareView) JSONResults() ([]*trace.Result, int) {
	if v.Comparison == nil {
		return nil, 3
	}
	return v.Comparison.Results, 3
}

// EntityResolver is the trace.Resolver traces use: the entity the labels
// of an address's cluster name, so that a label on one address reaches its
// whole cluster (an exchange's deposit addresses, a mixer's pool).
// Unclustered addresses resolve by their own labels.
func EntityResolver(st cluster.LabelStore) trace.Resolver { return cluster.NewResolver(st) }

// traceOptions completes req's options: the chain, the checked seeds and
// the resolver.
func traceOptions(ctx context.Context, st store.Store, req TraceRequest) (trace.Options, error) {
	opts := req.Options
	ch, err := TraceChain(ctx, st, req.Chain)
	if err != nil {
		return opts, err
	}
	opts.Chain = ch
	opts.Seeds = slices.Clone(opts.Seeds)
	if err := CheckSeeds(ch, opts.Seeds); err != nil {
		return opts, err
	}
	opts.Resolver = EntityResolver(st)
	return opts, nil
}

// Trace follows the value of req's seeds forward (trace.Run), resolving
// entities through clusters. Bad options or seeds wrap
// heistgraph.ErrInvalid; a seed the store lacks wraps heistgraph.ErrNotFound.
func Trace(ctx context.Context, st store.Store, req TraceRequest) (TraceView, error) {
	opts, err := traceOptions(ctx, st, req)
	if err != nil {
		return TraceView{}, err
	}
	resolver := opts.Resolver
	r, done := traceReader(ctx, st, req.GraphDir, req.GraphProgress, &opts)
	defer done()
	res, err := trace.Run(ctx, r, opts)
	if errors.Is(err, txgraph.ErrFormat) {
		// The graph is damaged where the trace read it (its reads
		// check what they read; Open does not read it all): the store
		// answers, as for a graph that does not open.
		opts.Resolver = resolver
		res, err = trace.Run(ctx, st, opts)
	}
	if err != nil {
		return TraceView{}, err
	}
	fresh, err := Freshness(ctx, st, opts.Chain)
	if err != nil {
		return TraceView{}, err
	}
	v := TraceView{Result: res, ClustersView: fresh}
	if res.Across != nil {
		v.ByChain = Holdings([]*trace.Result{res}, nil)
	}
	return v, nil
}

// Compare is Trace under every policy (trace.Compare).
func Compare(ctx context.Context, st store.Store, req TraceRequest) (CompareView, error) {
	opts, err := traceOptions(ctx, st, req)
	if err != nil {
		return CompareView{}, err
	}
	resolver := opts.Resolver
	r, done := traceReader(ctx, st, req.GraphDir, req.GraphProgress, &opts)
	defer done()
	c, err := trace.Compare(ctx, r, opts)
	if errors.Is(err, txgraph.ErrFormat) {
		opts.Resolver = resolver // the store answers, as in Trace
		c, err = trace.Compare(ctx, st, opts)
	}
	if err != nil {
		return CompareView{}, err
	}
	fresh, err := Freshness(ctx, st, opts.Chain)
	if err != nil {
		return CompareView{}, err
	}
	v := CompareView{Comparison: c, ClustersView: fresh}
	for _, r := range c.Results {
		if r.Policy == opts.Policy {
			v.Result = r
		}
	}
	return v, nil
}

// TraceReader returns what a trace with opts reads: the transaction graph
// of opts.Chain under dir when there is one and it is current, st
// otherwise (also for a trace that follows links, which reads the store's
// links). done releases the graph. A graph that cannot be opened (absent,
// of another version, damaged in its header) is passed over: the store
// answers. Damage inside a graph that opened is met by the trace's reads
// (an error wrapping txgraph.ErrFormat); Trace and Compare then trace
// again on the store.
func TraceReader(ctx context.Context, st store.ChainReader, dir string, opts trace.Options) (r store.ChainReader, done func()) {
	g := currentGraph(ctx, st, dir, opts)
	if g == nil {
		return st, func() {}
	}
	return txgraph.NewReader(g, st), func() { g.Close() }
}

// currentGraph opens the graph TraceReader reads, or returns nil.
func currentGraph(ctx context.Context, st store.ChainReader, dir string, opts trace.Options) *txgraph.Graph {
	if dir == "" || opts.FollowLinks {
		return nil
	}
	g, err := txgraph.Open(txgraph.Path(dir, opts.Chain))
	if err != nil {
		return nil
	}
	if ok, err := g.Current(ctx, st); err != nil || !ok {
		g.Close()
		return nil
	}
	return g
}

// traceReader is TraceReader for Trace and Compare: with the graph, when
// the cluster ids beside it are current (txgraph.ClusterIDs, under the
// store's clustering stamp), opts's resolver reads a graph address's
// cluster there instead of in the store; the answers are the same.
func traceReader(ctx context.Context, st store.Store, dir string, progress func(int64), opts *trace.Options) (r store.ChainReader, done func()) {
	g := currentGraph(ctx, st, dir, *opts)
	if g == nil {
		return st, func() {}
	}
	done = func() { g.Close() }
	if ss, ok := st.(store.ClusterStamps); ok {
		stamp, err := ss.ClusterStamp(ctx, opts.Chain)
		if err == nil {
			if ids, err := txgraph.OpenClusterIDs(txgraph.ClusterIDsPath(dir, opts.Chain), g, stamp); err == nil {
				gc := graphClusters{LabelStore: st, ids: ids}
				opts.Resolver = &screenedResolver{Resolver: EntityResolver(gc), ctx: ctx, st: gc, g: g, ids: ids}
				done = func() { ids.Close(); g.Close() }
			}
		}
	}
	gr := txgraph.NewReader(g, st)
	if progress != nil {
		return &countingGraph{Reader: gr, progress: progress}, done
	}
	return gr, done
}

// countingGraph is a graph reader that reports the transactions a trace
// reads from it (its NumberedTx calls: at least one a transaction visited,
// more for the spent and spending ones it looks up) as
// TraceRequest.GraphProgress. It has every role of the reader it embeds.
type countingGraph struct {
	*txgraph.Reader
	n        atomic.Int64
	progress func(int64)
}

func (c *countingGraph) NumberedTx(n uint32) (txid heistgraph.Hash, height int64, index int, time int64, nin, nout int) {
	c.progress(c.n.Add(1))
	return c.Reader.NumberedTx(n)
}

// graphClusters is a cluster.LabelStore whose AddressCluster answers the
// graph's addresses from the cluster ids beside it, and asks the store for
// the others.
type graphClusters struct {
	cluster.LabelStore
	ids *txgraph.ClusterIDs
}

func (s graphClusters) AddressCluster(ctx context.Context, chain heistgraph.Chain, addr string) (store.ClusterMember, error) {
	if chain == s.ids.Chain() {
		if m, ok, held := s.ids.Member(addr); held {
			if !ok {
				return store.ClusterMember{}, fmt.Errorf("cluster of %s on %s: %w", addr, chain, heistgraph.ErrNotFound)
			}
			return m, nil
		}
	}
	return s.LabelStore.AddressCluster(ctx, chain, addr)
}

// screenedResolver is the resolver of a trace over the graph with current
// cluster ids: it answers trace.ResolverScreen by the graph's address id,
// from the labels of the chain read once (on first use): an address that
// carries no label, in no cluster or in one that holds no labelled
// address, resolves to no entity, which Resolve would read the address's
// string and cluster to say. It answers trace.ResolverByID too: the
// others resolve with their cluster read by id.
type screenedResolver struct {
	trace.Resolver
	ctx context.Context
	st  graphClusters
	g   *txgraph.Graph
	ids *txgraph.ClusterIDs

	once     sync.Once
	failed   bool            // the labels could not be read: screen nothing
	own      map[uint32]bool // graph address ids that carry a label
	clusters map[uint64]bool // clusters that hold a labelled address
	// folded holds the labels' addresses lower-cased and trimmed: an
	// address whose folded form is not there carries no label of its own
	// (the resolver's key of an address folds to the address's fold).
	folded map[string]bool
	// The filters of own's ids, clusters' ids and folded's foldHash,
	// asked before the maps.
	ownF, clustersF, foldedF screenFilter

	mu        sync.Mutex // byCluster (Compare resolves from several runs)
	byCluster map[uint64]resolved
}

// resolved is a Resolve answer.
type resolved struct {
	ref heistgraph.EntityRef
	ok  bool
}

// Resolve implements trace.Resolver. A graph address that carries no
// label of its own resolves from the labels of its cluster alone (its
// own are none, the cluster's are all reached): the same answer for
// every such address of the cluster, asked of the resolver once per
// cluster and kept. Any other address is the resolver's to answer.
func (r *screenedResolver) Resolve(ctx context.Context, chain heistgraph.Chain, addr string) (heistgraph.EntityRef, bool, error) {
	if chain != r.ids.Chain() || !plainKey(addr) {
		return r.Resolver.Resolve(ctx, chain, addr)
	}
	r.once.Do(func() { r.load(chain) })
	if r.failed || r.labelledFold(addr) {
		return r.Resolver.Resolve(ctx, chain, addr)
	}
	m, ok, held := r.ids.Member(addr)
	if !ok || !held {
		return r.Resolver.Resolve(ctx, chain, addr)
	}
	return r.ofCluster(ctx, chain, addr, m.ClusterID)
}

// ResolveID implements trace.ResolverByID: Resolve with the cluster read
// by the graph's address id a (addr) rather than looked up by addr.
func (r *screenedResolver) ResolveID(ctx context.Context, chain heistgraph.Chain, a uint32, addr string) (heistgraph.EntityRef, bool, error) {
	if chain != r.ids.Chain() || int(a) >= r.g.Addresses() || !plainKey(addr) {
		return r.Resolver.Resolve(ctx, chain, addr)
	}
	r.once.Do(func() { r.load(chain) })
	if r.failed || r.labelledFold(addr) {
		return r.Resolver.Resolve(ctx, chain, addr)
	}
	_, cl, ok := r.ids.MemberByID(a)
	if !ok {
		return r.Resolver.Resolve(ctx, chain, addr)
	}
	return r.ofCluster(ctx, chain, addr, uint64(cl))
}

// ofCluster resolves addr, of cluster id and carrying no label of its
// own, from the answer kept for its cluster, keeping it the first time.
func (r *screenedResolver) ofCluster(ctx context.Context, chain heistgraph.Chain, addr string, id uint64) (heistgraph.EntityRef, bool, error) {
	if a, ok := r.clusterAnswer(id, nil); ok {
		return a.ref, a.ok, nil
	}
	ref, found, err := r.Resolver.Resolve(ctx, chain, addr)
	if err == nil {
		r.clusterAnswer(id, &resolved{ref, found})
	}
	return ref, found, err
}

// clusterAnswer returns the answer kept for cluster id, keeping set
// first when it is not nil.
func (r *screenedResolver) clusterAnswer(id uint64, set *resolved) (resolved, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if set != nil {
		r.byCluster[id] = *set
	}
	a, ok := r.byCluster[id]
	return a, ok
}

// plainKey reports whether addr is sure to be its own key as the
// resolver looks addresses up (cluster's addressKey on a UTXO chain, after
// heistgraph.NormalizeAddress): printable ASCII without spaces, and no
// upper-case letter unless it cannot be bech32 (which alone is
// lower-cased; base58 is kept). The graph's addresses, read from blocks,
// are.
func plainKey(addr string) bool {
	upper := false
	for i := 0; i < len(addr); i++ {
		c := addr[i]
		if c <= ' ' || c >= 0x7f {
			return false
		}
		upper = upper || ('A' <= c && c <= 'Z')
	}
	if !upper {
		return addr != ""
	}
	low := strings.ToLower(addr[:min(len(addr), 5)])
	return !strings.HasPrefix(low, "bc1") && !strings.HasPrefix(low, "tb1") && !strings.HasPrefix(low, "bcrt1")
}

var _ trace.ResolverByID = (*screenedResolver)(nil)

// MayResolve implements trace.ResolverScreen.
func (r *screenedResolver) MayResolve(chain heistgraph.Chain, a uint32) bool {
	if chain != r.ids.Chain() || int(a) >= r.g.Addresses() {
		return true
	}
	r.once.Do(func() { r.load(chain) })
	if r.failed || (r.ownF.mayHold(uint64(a)) && r.own[a]) {
		return true
	}
	_, cl, ok := r.ids.MemberByID(a)
	return ok && r.clustersF.mayHold(uint64(cl)) && r.clusters[uint64(cl)]
}

// labelledFold reports whether addr, a plainKey, folds to a label's
// folded address (folded): the filter first, without lower-casing it.
func (r *screenedResolver) labelledFold(addr string) bool {
	return r.foldedF.mayHold(foldHash(addr)) && r.folded[strings.ToLower(addr)]
}

// load reads the chain's labels as cluster.Resolver does: by address,
// and the cluster of each labelled address.
func (r *screenedResolver) load(chain heistgraph.Chain) {
	r.own, r.clusters, r.folded, r.byCluster = map[uint32]bool{}, map[uint64]bool{}, map[string]bool{}, map[uint64]resolved{}
	for l, err := range r.st.Labels(r.ctx, store.LabelQuery{Chain: chain}) {
		if err != nil {
			r.failed = true
			return
		}
		r.folded[strings.ToLower(strings.TrimSpace(l.Address))] = true
		if a, ok := r.g.AddressID(l.Address); ok {
			r.own[a] = true
		}
		m, err := r.st.AddressCluster(r.ctx, chain, l.Address)
		switch {
		case err == nil:
			r.clusters[m.ClusterID] = true
		case !errors.Is(err, heistgraph.ErrNotFound):
			r.failed = true
			return
		}
	}
	r.ownF = newScreenFilter(hashes(maps.Keys(r.own), func(a uint32) uint64 { return uint64(a) }))
	r.clustersF = newScreenFilter(hashes(maps.Keys(r.clusters), func(c uint64) uint64 { return c }))
	// A folded label's bytes are its fold: the hash foldHash gives a
	// plainKey of the same fold.
	r.foldedF = newScreenFilter(hashes(maps.Keys(r.folded), foldHash))
}

// hashes returns the hash h of each of keys.
func hashes[K any](keys iter.Seq[K], h func(K) uint64) []uint64 {
	var hs []uint64
	for k := range keys {
		hs = append(hs, h(k))
	}
	return hs
}

// ParseTime reads a time bound (trace's until and from): Unix seconds,
// an RFC 3339 datetime, or a date (YYYY-MM-DD, UTC), which as an upper
// bound (end) means the end of that day. Errors wrap heistgraph.ErrInvalid.
func ParseTime(s string, end bool) (int64, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("time %q: negative Unix seconds: %w", s, heistgraph.ErrInvalid)
		}
		return n, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.Unix(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			return t.Unix() + 86400 - 1, nil
		}
		return t.Unix(), nil
	}
	return 0, fmt.Errorf("time %q: want RFC 3339 (2024-05-31 or 2024-05-31T12:00:00Z) or Unix seconds: %w", s, heistgraph.ErrInvalid)
}

// SinkGroup is the sinks of one kind and entity (the label their
// addresses carry, if any), summed.
type SinkGroup struct {
	Kind      trace.SinkKind
	Entity    string
	Category  string
	AmountSat int64
	Sinks     int
}

// sinkKindOrder is the order of sink kinds in summaries: where value
// reached someone first, then where it rests, then where the trace ended.
var sinkKindOrder = []trace.SinkKind{trace.SinkEntity, trace.SinkUnspent, trace.SinkThreshold, trace.SinkHopLimit,
	trace.SinkUntraced, trace.SinkBurned, trace.SinkOverlap}

func kindRank(k trace.SinkKind) int {
	if i := slices.Index(sinkKindOrder, k); i >= 0 {
		return i
	}
	return len(sinkKindOrder)
}

// GroupSinks sums sinks per kind and entity: kinds in summary order
// (entity, unspent, threshold, hop_limit, untraced, burned, overlap), then
// the largest amount first, then by entity and category. It is the one
// sink aggregation of the surfaces (trace's totals table, an incident's
// by_entity).
func GroupSinks(sinks trace.SinkList) []SinkGroup {
	var out []SinkGroup
	type key struct {
		kind             trace.SinkKind
		entity, category string
	}
	at := map[key]int{}
	for _, s := range sinks.All() {
		k := key{s.Kind, s.Entity, s.Category}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, SinkGroup{Kind: s.Kind, Entity: s.Entity, Category: s.Category})
		}
		out[i].AmountSat += s.AmountSat
		out[i].Sinks++
	}
	slices.SortStableFunc(out, func(a, b SinkGroup) int {
		return cmp.Or(cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)), cmp.Compare(b.AmountSat, a.AmountSat),
			cmp.Compare(a.Entity, b.Entity), cmp.Compare(a.Category, b.Category))
	})
	return out
}

// EntityTotal is what reached one entity, over every sink kind.
type EntityTotal struct {
	Entity    string `json:"entity"`
	Category  string `json:"category"`
	AmountSat int64  `json:"amount_sat"`
}

// ByEntity sums the sinks that carry an entity per entity and category,
// the largest amount first (then by entity and category).
func ByEntity(sinks trace.SinkList) []EntityTotal {
	out := []EntityTotal{}
	at := map[[2]string]int{}
	for _, g := range GroupSinks(sinks) {
		if g.Entity == "" {
			continue
		}
		k := [2]string{g.Entity, g.Category}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, EntityTotal{Entity: g.Entity, Category: g.Category})
		}
		out[i].AmountSat += g.AmountSat
	}
	slices.SortStableFunc(out, func(a, b EntityTotal) int {
		return cmp.Or(cmp.Compare(b.AmountSat, a.AmountSat), cmp.Compare(a.Entity, b.Entity), cmp.Compare(a.Category, b.Category))
	})
	return out
}
