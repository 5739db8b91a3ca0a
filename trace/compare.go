package trace

import (
	"cmp"
	"context"
	"slices"
	"sync"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Comparison is the same seeds traced under every policy (methods.md
// §1.12 "--compare"): the results in Policies() order and their sinks
// side by side, grouped by kind and entity.
type Comparison struct {
	Policies []Policy     `json:"policies"`
	Rows     []CompareRow `json:"rows"`
	FeesSat  []int64      `json:"fees_sat"`
	Results  []*Result    `json:"results"`
}

// CompareRow is one group of sinks (a kind and an entity; entity sinks
// per entity, other kinds together) with its amount under each policy, in
// Comparison.Policies order.
type CompareRow struct {
	Kind      SinkKind `json:"kind"`
	Entity    string   `json:"entity"`
	Category  string   `json:"category"`
	AmountSat []int64  `json:"amount_sat"`
}

// Compare runs every policy on opts' seeds (opts.Policy is ignored) and
// lines their sinks up. Errors are Run's.
func Compare(ctx context.Context, r store.ChainReader, opts Options) (*Comparison, error) {
	c := &Comparison{Policies: Policies()}
	type key struct {
		kind             SinkKind
		entity, category string
	}
	at := map[key]int{}
	if opts.Resolver != nil {
		opts.Resolver = &memoResolver{r: opts.Resolver, m: map[memoKey]memoAnswer{}}
	}
	for i, p := range c.Policies {
		o := opts
		o.Policy = p
		res, err := Run(ctx, r, o)
		if err != nil {
			return nil, err
		}
		c.Results = append(c.Results, res)
		c.FeesSat = append(c.FeesSat, res.FeesSat)
		for _, s := range res.Sinks.All() {
			k := key{kind: s.Kind}
			if s.Kind == SinkEntity {
				k.entity, k.category = s.Entity, s.Category
			}
			j, ok := at[k]
			if !ok {
				j = len(c.Rows)
				at[k] = j
				c.Rows = append(c.Rows, CompareRow{Kind: k.kind, Entity: k.entity, Category: k.category,
					AmountSat: make([]int64, len(c.Policies))})
			}
			c.Rows[j].AmountSat[i] += s.AmountSat
		}
	}
	order := map[SinkKind]int{}
	for i, k := range sinkKinds {
		order[k] = i
	}
	slices.SortStableFunc(c.Rows, func(a, b CompareRow) int {
		if x := cmp.Compare(order[a.Kind], order[b.Kind]); x != 0 {
			return x
		}
		return cmp.Compare(a.Entity, b.Entity)
	})
	return c, nil
}

// memoResolver asks its resolver once per address for the runs of one
// Compare: the policies see one answer for each address, and the store is
// read once, not once per policy.
type memoResolver struct {
	r  Resolver
	mu sync.Mutex
	m  map[memoKey]memoAnswer
}

type memoKey struct {
	chain heistgraph.Chain
	addr  string
}

type memoAnswer struct {
	ref heistgraph.EntityRef
	ok  bool
}

// MayResolve implements ResolverScreen with m's resolver's screen (true
// when it has none).
func (m *memoResolver) MayResolve(chain heistgraph.Chain, a uint32) bool {
	sc, ok := m.r.(ResolverScreen)
	return !ok || sc.MayResolve(chain, a)
}

// Resolve implements Resolver. Errors are not kept.
func (m *memoResolver) Resolve(ctx context.Context, chain heistgraph.Chain, addr string) (heistgraph.EntityRef, bool, error) {
	k := memoKey{chain, addr}
	m.mu.Lock()
	a, ok := m.m[k]
	m.mu.Unlock()
	if ok {
		return a.ref, a.ok, nil
	}
	ref, found, err := m.r.Resolve(ctx, chain, addr)
	if err != nil {
		return ref, found, err
	}
	m.mu.Lock()
	m.m[k] = memoAnswer{ref, found}
	m.mu.Unlock()
	return ref, found, nil
}

// sinkKinds lists the sink kinds in the order totals and tables use.
var sinkKinds = []SinkKind{SinkEntity, SinkUnspent, SinkThreshold, SinkHopLimit, SinkUntraced, SinkBurned, SinkOverlap}

// The indexes of the kinds in sinkKinds, as the engine keeps a sink's kind
// (sink.kind): its calls name the index, with no search of sinkKinds per
// sink.
const (
	kindEntity uint8 = iota
	kindUnspent
	kindThreshold
	kindHopLimit
	kindUntraced
	kindBurned
	kindOverlap
)
