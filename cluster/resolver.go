package cluster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// LabelStore is what a Resolver reads: labels and clusters.
type LabelStore interface {
	store.Labels
	store.Clusters
}

// Resolver tells which entity an address belongs to: from the labels on
// the address itself and, through clustering, from the labels on every
// other address of its cluster (a label on one address reaches its whole
// cluster). It implements the tracing engine's resolver.
//
// A Resolver reads all labels of a chain once, on first use, and keeps the
// labels of every labelled cluster in memory, so that Resolve costs two
// point reads (the address's cluster) and map lookups. Labels imported and
// clusters changed after that first use are not seen: make a Resolver per
// trace or per request. It is safe for concurrent use.
type Resolver struct {
	st LabelStore

	mu     sync.Mutex
	chains map[heistgraph.Chain]*chainLabels
}

// chainLabels are one chain's labels, by address and by cluster.
type chainLabels struct {
	byAddr    map[string][]heistgraph.Label
	byCluster map[uint64][]heistgraph.Label
}

// NewResolver returns a Resolver over st.
func NewResolver(st LabelStore) *Resolver {
	return &Resolver{st: st, chains: map[heistgraph.Chain]*chainLabels{}}
}

// addressKey returns addr's key on chain, as labels and the store key it
// (heistgraph.NormalizeAddress). A value that is no address of chain is
// kept, trimmed: it is in no cluster and carries no label, which the lookup
// then says.
func addressKey(chain heistgraph.Chain, addr string) string {
	if chain.IsUTXO() && ownKey(addr) {
		return addr // what NormalizeAddress or the fallback gives, without decoding
	}
	if k, err := heistgraph.NormalizeAddress(chain, addr); err == nil {
		return k
	}
	return strings.TrimSpace(addr)
}

// ownKey reports whether a is its own key on a UTXO chain, which a
// trace's many addresses (read from the store, so keys already) mostly
// are, without decoding it: NormalizeAddress keeps a base58 string as it
// is, lower-cases only a bech32 one (prefix bc1, tb1 or bcrt1, in any
// case), and addressKey keeps an invalid one trimmed. So a string without
// surrounding space (or bytes TrimSpace could take) that has no upper
// case letter, or does not begin like a bech32 address, is its own key.
func ownKey(a string) bool {
	if a == "" || a[0] <= ' ' || a[0] >= 0x7f || a[len(a)-1] <= ' ' || a[len(a)-1] >= 0x7f {
		return false
	}
	if !strings.ContainsFunc(a, func(r rune) bool { return 'A' <= r && r <= 'Z' }) {
		return true
	}
	low := strings.ToLower(a[:min(len(a), 5)])
	return !strings.HasPrefix(low, "bc1") && !strings.HasPrefix(low, "tb1") && !strings.HasPrefix(low, "bcrt1")
}

// load returns the labels of chain, reading them on first use.
func (r *Resolver) load(ctx context.Context, chain heistgraph.Chain) (*chainLabels, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cl, ok := r.chains[chain]; ok {
		return cl, nil
	}
	cl := &chainLabels{byAddr: map[string][]heistgraph.Label{}, byCluster: map[uint64][]heistgraph.Label{}}
	for l, err := range r.st.Labels(ctx, store.LabelQuery{Chain: chain}) {
		if err != nil {
			return nil, fmt.Errorf("resolver: labels of %s: %w", chain, err)
		}
		cl.byAddr[l.Address] = append(cl.byAddr[l.Address], l)
	}
	for _, a := range slices.Sorted(maps.Keys(cl.byAddr)) {
		m, err := r.st.AddressCluster(ctx, chain, a)
		if errors.Is(err, heistgraph.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("resolver: %w", err)
		}
		cl.byCluster[m.ClusterID] = append(cl.byCluster[m.ClusterID], cl.byAddr[a]...)
	}
	r.chains[chain] = cl
	return cl, nil
}

// View is what labels and clustering say about one address.
type View struct {
	Chain   heistgraph.Chain
	Address string
	// ClusterID is the address's cluster (0 when it is not clustered) and
	// Size the cluster's number of addresses.
	ClusterID uint64
	Size      int64
	// Own are the labels on the address itself; Reached the labels on the
	// other addresses of its cluster, which reach it.
	Own     []heistgraph.Label
	Reached []heistgraph.Label
	// Conflicts lists the distinct service entities of the cluster when
	// there are several (never silently resolved).
	Conflicts []string
}

// View returns what labels and clustering say about addr on chain. An
// address that is neither labelled nor clustered gives an empty View and
// no error.
func (r *Resolver) View(ctx context.Context, chain heistgraph.Chain, addr string) (View, error) {
	addr = addressKey(chain, addr)
	v := View{Chain: chain, Address: addr, Own: []heistgraph.Label{}, Reached: []heistgraph.Label{}, Conflicts: []string{}}
	cl, err := r.load(ctx, chain)
	if err != nil {
		return View{}, err
	}
	v.Own = append(v.Own, cl.byAddr[addr]...)
	m, err := r.st.AddressCluster(ctx, chain, addr)
	switch {
	case errors.Is(err, heistgraph.ErrNotFound):
		v.Conflicts = conflicts(v.Own)
		return v, nil
	case err != nil:
		return View{}, fmt.Errorf("resolver: %w", err)
	}
	v.ClusterID = m.ClusterID
	if v.Size, err = r.st.ClusterSize(ctx, chain, m.ClusterID); err != nil && !errors.Is(err, heistgraph.ErrNotFound) {
		return View{}, fmt.Errorf("resolver: %w", err)
	}
	for _, l := range cl.byCluster[m.ClusterID] {
		if l.Address != addr {
			v.Reached = append(v.Reached, l)
		}
	}
	v.Conflicts = conflicts(slices.Concat(v.Own, v.Reached))
	return v, nil
}

// Resolve returns the entity of addr's cluster: from the labels on addr
// itself, else from those on the other addresses of its cluster; ok is
// false when there are none. Among several labels the one on the address
// itself wins, then the higher confidence, then the more severe category
// (CategoryRank), then the entity name. ClusterID is set when the label
// reaches addr through its cluster. Conflicts lists the other entity names
// the address and its cluster carry (sorted).
func (r *Resolver) Resolve(ctx context.Context, chain heistgraph.Chain, addr string) (heistgraph.EntityRef, bool, error) {
	addr = addressKey(chain, addr)
	cl, err := r.load(ctx, chain)
	if err != nil {
		return heistgraph.EntityRef{}, false, err
	}
	own := cl.byAddr[addr]
	var reached []heistgraph.Label
	var cid uint64
	if len(cl.byCluster) > 0 {
		m, err := r.st.AddressCluster(ctx, chain, addr)
		switch {
		case err == nil:
			cid = m.ClusterID
			for _, l := range cl.byCluster[cid] {
				if l.Address != addr {
					reached = append(reached, l)
				}
			}
		case !errors.Is(err, heistgraph.ErrNotFound):
			return heistgraph.EntityRef{}, false, fmt.Errorf("resolver: %w", err)
		}
	}
	if len(own) == 0 && len(reached) == 0 {
		return heistgraph.EntityRef{}, false, nil
	}
	best, fromCluster := pick(own, reached)
	ref := heistgraph.EntityRef{Name: best.Entity, Category: best.Category, Source: best.Source, Confidence: best.Confidence}
	if fromCluster {
		ref.ClusterID = cid
	}
	for _, l := range slices.Concat(own, reached) {
		if l.Entity != "" && l.Entity != best.Entity {
			ref.Conflicts = insertSorted(ref.Conflicts, l.Entity)
		}
	}
	return ref, true, nil
}

// pick chooses the label that names an address's entity.
func pick(own, reached []heistgraph.Label) (heistgraph.Label, bool) {
	better := func(a, b heistgraph.Label) int {
		return cmp.Or(cmp.Compare(b.Confidence, a.Confidence), cmp.Compare(CategoryRank(a.Category), CategoryRank(b.Category)),
			cmp.Compare(a.Entity, b.Entity), cmp.Compare(a.Source, b.Source), cmp.Compare(a.Address, b.Address))
	}
	if len(own) > 0 {
		return slices.MinFunc(own, better), false
	}
	return slices.MinFunc(reached, better), true
}

// conflicts returns the distinct entity names of ls when there are
// several, sorted; else an empty slice.
func conflicts(ls []heistgraph.Label) []string {
	var names []string
	for _, l := range ls {
		if l.Entity != "" {
			names = insertSorted(names, l.Entity)
		}
	}
	if len(names) < 2 {
		return []string{}
	}
	return names
}

// categoryRank orders categories most severe first, as package label lists
// them (label.Categories); other categories come after, by name.
var categoryRank = []string{"sanctioned", "dprk", "stolen", "terrorist_financing", "csam", "mixer", "darknet",
	"ransomware", "scam", "illicit_actor", "gambling", "high_risk_exchange", "p2p_exchange", "exchange", "defi",
	"payment_processor", "mining", "bridge", "dex", "wallet_service", "victim"}

// CategoryRank returns the severity rank of a label category: 0 for the
// most severe (sanctioned), larger for milder ones, len(known) for
// categories outside the known list.
func CategoryRank(c string) int {
	if i := slices.Index(categoryRank, c); i >= 0 {
		return i
	}
	return len(categoryRank)
}
