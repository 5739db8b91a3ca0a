package risk

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// labelIndex is one chain's labels, by address and by cluster, read once
// per Screener (as cluster.Resolver does: risk may not import cluster).
type labelIndex struct {
	byAddr    map[string][]heistgraph.Label
	byCluster map[uint64][]heistgraph.Label
	// changes are the times (Unix seconds) at which a label starts
	// (ValidFrom) or stops (ValidUntil+1) being valid, sorted, distinct.
	changes []int64
}

// loadLabels reads every label of chain and maps the labelled addresses to
// their clusters.
func loadLabels(ctx context.Context, st Store, chain heistgraph.Chain) (*labelIndex, error) {
	ix := &labelIndex{byAddr: map[string][]heistgraph.Label{}, byCluster: map[uint64][]heistgraph.Label{}}
	for l, err := range st.Labels(ctx, store.LabelQuery{Chain: chain}) {
		if err != nil {
			return nil, fmt.Errorf("risk: labels of %s: %w", chain, err)
		}
		ix.byAddr[l.Address] = append(ix.byAddr[l.Address], l)
		if l.ValidFrom != 0 {
			ix.changes = append(ix.changes, l.ValidFrom)
		}
		if l.ValidUntil != 0 && l.ValidUntil < math.MaxInt64 {
			ix.changes = append(ix.changes, l.ValidUntil+1)
		}
	}
	slices.Sort(ix.changes)
	ix.changes = slices.Compact(ix.changes)
	for _, a := range slices.Sorted(maps.Keys(ix.byAddr)) {
		m, err := st.AddressCluster(ctx, chain, a)
		if errors.Is(err, heistgraph.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("risk: cluster of labelled %s: %w", a, err)
		}
		ix.byCluster[m.ClusterID] = append(ix.byCluster[m.ClusterID], ix.byAddr[a]...)
	}
	return ix, nil
}

// LabelsChangeAfter returns the first time (Unix seconds) after t at which
// a label of chain starts or stops being valid (math.MaxInt64 when none
// does). The time a screen is answered matters to its answer only through
// the validity of its owners' labels (Options.Now), so an answer on chain
// given at t is the answer at any time before that one, as long as
// nothing else changed (the store, or the Screener).
func (s *Screener) LabelsChangeAfter(ctx context.Context, chain heistgraph.Chain, t int64) (int64, error) {
	idx, err := s.labels(ctx, chain)
	if err != nil {
		return 0, err
	}
	i, found := slices.BinarySearch(idx.changes, t)
	if found {
		i++
	}
	if i == len(idx.changes) {
		return math.MaxInt64, nil
	}
	return idx.changes[i], nil
}

// owner is who holds an address: its cluster, or the address alone when
// it is not clustered, with every label on it.
type owner struct {
	id      string // "c:<cluster id>", "a:<address>", or "" for no address
	cluster uint64 // 0 when not clustered
	addrID  uint64
	labels  []heistgraph.Label
}

// catLabel is the label that speaks for one category of an owner.
type catLabel struct {
	cat, entity, source string
	conf                float64
	weak                bool
}

// validAt reports whether l holds at time t (Unix seconds; bounds
// inclusive, 0 unbounded).
func validAt(l heistgraph.Label, t int64) bool {
	return (l.ValidFrom == 0 || t >= l.ValidFrom) && (l.ValidUntil == 0 || t <= l.ValidUntil)
}

// cats returns o's categories valid at time t, one label each (the most
// confident, then by source and entity), sorted by category. Labels with
// an empty category are skipped.
func (o *owner) cats(t int64, weakBelow float64) []catLabel {
	if o == nil || len(o.labels) == 0 {
		return nil
	}
	best := map[string]heistgraph.Label{}
	for _, l := range o.labels {
		if l.Category == "" || !validAt(l, t) {
			continue
		}
		b, ok := best[l.Category]
		if !ok || cmp.Or(cmp.Compare(b.Confidence, l.Confidence), cmp.Compare(l.Source, b.Source), cmp.Compare(l.Entity, b.Entity)) > 0 {
			best[l.Category] = l
		}
	}
	out := make([]catLabel, 0, len(best))
	for _, c := range slices.Sorted(maps.Keys(best)) {
		l := best[c]
		out = append(out, catLabel{cat: c, entity: l.Entity, source: l.Source, conf: l.Confidence, weak: l.Confidence < weakBelow})
	}
	return out
}

// ownerOf returns the owner of addr, memoised for the run.
func (r *run) ownerOf(addr string) (*owner, error) {
	if addr == "" {
		return &owner{}, nil
	}
	if r.owners != nil {
		if o, ok := r.owners[addr]; ok {
			return o, nil
		}
	}
	o, err := r.Screener.owner(r.ctx, r.chain, addr, r.idx)
	if err != nil {
		return nil, err
	}
	if r.owners != nil {
		r.owners[addr] = o
	}
	return o, nil
}

// owner returns the owner of addr on chain: its cluster, with the
// cluster's labels in idx (the Screener's index of chain), or the address
// alone with its own. Owners are kept with the memoized cluster
// membership they come from (addressCluster), for as long as it is kept;
// they are shared, and nobody may modify them.
func (s *Screener) owner(ctx context.Context, chain heistgraph.Chain, addr string, idx *labelIndex) (*owner, error) {
	k := chainAddr{chain, addr}
	s.memMu.Lock()
	c, ok := s.clusterOf[k]
	s.memMu.Unlock()
	if ok && c.own != nil {
		return c.own, nil
	}
	o := &owner{id: "a:" + addr}
	m, err := s.addressCluster(ctx, chain, addr)
	switch {
	case err == nil:
		o.id, o.cluster, o.addrID = "c:"+strconv.FormatUint(m.ClusterID, 10), m.ClusterID, m.AddrID
		o.labels = idx.byCluster[m.ClusterID]
	case errors.Is(err, heistgraph.ErrNotFound):
		o.labels = idx.byAddr[addr]
	default:
		return nil, fmt.Errorf("risk: cluster of %s: %w", addr, err)
	}
	s.memMu.Lock()
	if c, ok := s.clusterOf[k]; ok && c.own == nil {
		c.own = o
		s.clusterOf[k] = c
	}
	s.memMu.Unlock()
	return o, nil
}

// members returns the addresses of o's cluster, found by walking the
// evidence that joined them (and checked against the stored membership;
// the share of that evidence that is common-input ownership becomes the
// answer's cluster_confidence, methods.md §8.6),
// or addr alone when o is not clustered, when noCluster is set, or when
// the cluster has more than MaxClusterAddresses addresses (then a note
// says so). The addresses come sorted, and may be the memoized list that
// other screens read: callers must not modify them.
func (r *run) members(o *owner, addr string, noCluster bool) ([]string, int64, error) {
	if o.cluster == 0 || noCluster {
		return []string{addr}, 0, nil
	}
	// A walk that found the whole cluster found the same addresses, and
	// walked the same evidence, from any of them: it is kept for the
	// cluster (addr ""), and other walks for their address.
	k := memberKey{r.chain, o.cluster, addr}
	m, ok := r.Screener.memberSet(memberKey{r.chain, o.cluster, ""})
	if !ok {
		m, ok = r.Screener.memberSet(k)
	}
	if ok {
		if m.conf != nil {
			c := *m.conf
			r.clusterConf = &c
		}
		if m.note != "" {
			r.note(m.note)
		}
		return m.addrs, m.size, nil
	}
	conf0, notes0 := r.clusterConf, len(r.notes)
	addrs, size, err := r.walkMembers(o, addr)
	if err != nil {
		return nil, 0, err
	}
	m = clusterMembers{addrs: slices.Clone(addrs), size: size}
	if r.clusterConf != conf0 && r.clusterConf != nil {
		c := *r.clusterConf
		m.conf = &c
	}
	if len(r.notes) == notes0+1 {
		m.note = r.notes[notes0]
	}
	if size > 1 && int64(len(addrs)) == size && len(r.notes) == notes0 && slices.Contains(addrs, addr) {
		k.addr = "" // the whole cluster
	}
	r.Screener.keepMembers(k, m)
	return addrs, size, nil
}

// memberKey names a members walk: the cluster of chain, from addr ("": a
// walk that found the whole cluster, from any of its addresses).
type memberKey struct {
	chain   heistgraph.Chain
	cluster uint64
	addr    string
}

// clusterMembers is what a members walk found: the addresses (sorted),
// the cluster's size, the share of its evidence that is common-input
// (nil when none was walked) and the note the walk left (or "").
type clusterMembers struct {
	addrs []string
	size  int64
	conf  *float64
	note  string
}

// maxMemberSets bounds the Screener's memo of members walks; it is emptied
// when full.
const maxMemberSets = 1 << 14

// clusterOf is a memoized answer of the store's AddressCluster.
type clusterOf struct {
	m        store.ClusterMember
	notFound bool
	own      *owner // the owner made of it (nil until asked for)
}

// maxClusterOf bounds the Screener's memo of cluster memberships; it is
// emptied when full.
const maxClusterOf = 1 << 16

// addressCluster is the store's AddressCluster, memoized for the
// Screener's life (clusters, like labels, are read as they were when the
// Screener first needed them).
func (s *Screener) addressCluster(ctx context.Context, chain heistgraph.Chain, addr string) (store.ClusterMember, error) {
	k := chainAddr{chain, addr}
	s.memMu.Lock()
	c, ok := s.clusterOf[k]
	s.memMu.Unlock()
	if ok {
		if c.notFound {
			return store.ClusterMember{}, heistgraph.ErrNotFound
		}
		return c.m, nil
	}
	m, err := s.st.AddressCluster(ctx, chain, addr)
	if err != nil && !errors.Is(err, heistgraph.ErrNotFound) {
		return m, err
	}
	s.memMu.Lock()
	if len(s.clusterOf) >= maxClusterOf {
		clear(s.clusterOf)
	}
	s.clusterOf[k] = clusterOf{m: m, notFound: err != nil}
	s.memMu.Unlock()
	return m, err
}

// chainCluster is a cluster of a chain.
type chainCluster struct {
	chain heistgraph.Chain
	id    uint64
}

// clusterSize is the store's ClusterSize, memoized for the Screener's life
// as addressCluster is (bounded by maxClusterOf).
func (s *Screener) clusterSize(ctx context.Context, chain heistgraph.Chain, id uint64) (int64, error) {
	k := chainCluster{chain, id}
	s.memMu.Lock()
	n, ok := s.sizes[k]
	s.memMu.Unlock()
	if ok {
		return n, nil
	}
	n, err := s.st.ClusterSize(ctx, chain, id)
	if err != nil {
		return n, err
	}
	s.memMu.Lock()
	if len(s.sizes) >= maxClusterOf {
		clear(s.sizes)
	}
	s.sizes[k] = n
	s.memMu.Unlock()
	return n, nil
}

// chainAddr is an address of a chain.
type chainAddr struct {
	chain heistgraph.Chain
	addr  string
}

// memberSet returns the memoized walk of k.
func (s *Screener) memberSet(k memberKey) (clusterMembers, bool) {
	s.memMu.Lock()
	defer s.memMu.Unlock()
	m, ok := s.members[k]
	return m, ok
}

// keepMembers memoizes the walk of k: clusters, like labels, are read as
// they were when the Screener first needed them.
func (s *Screener) keepMembers(k memberKey, m clusterMembers) {
	s.memMu.Lock()
	defer s.memMu.Unlock()
	if len(s.members) >= maxMemberSets {
		clear(s.members)
	}
	s.members[k] = m
}

// walkMembers finds the addresses of o's cluster from addr through its
// merge evidence.
func (r *run) walkMembers(o *owner, addr string) ([]string, int64, error) {
	size, err := r.Screener.clusterSize(r.ctx, r.chain, o.cluster)
	if err != nil && !errors.Is(err, heistgraph.ErrNotFound) {
		return nil, 0, fmt.Errorf("risk: size of cluster %d: %w", o.cluster, err)
	}
	if size <= 1 {
		return []string{addr}, size, nil
	}
	if size > int64(r.cfg.MaxClusterAddresses) {
		r.note(fmt.Sprintf("cluster %d has %d addresses, more than %d: screened the address alone", o.cluster, size, r.cfg.MaxClusterAddresses))
		return []string{addr}, size, nil
	}
	out, joins, h1, ok := r.tab.memberIndex().component(o.addrID)
	if !ok {
		var err error
		if out, joins, h1, err = r.walkEvidence(o, addr); err != nil {
			return nil, 0, err
		}
	}
	if joins > 0 {
		c := float64(h1) / float64(joins)
		r.clusterConf = &c
	}
	if int64(len(out)) < size {
		r.note(fmt.Sprintf("found %d of the %d addresses of cluster %d through its evidence", len(out), size, o.cluster))
	}
	slices.Sort(out)
	return out, size, nil
}

// walkEvidence finds the addresses of o's cluster that the joining
// evidence reaches from addr (o's address id), and counts the joining
// records it met and the common-input ones among them.
func (r *run) walkEvidence(o *owner, addr string) (out []string, joins, h1 int, err error) {
	seen := map[uint64]bool{o.addrID: true}
	queue := []uint64{o.addrID}
	out = []string{addr}
	evSeen := map[[3]int64]bool{}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for ev, err := range r.st.Evidence(r.ctx, r.chain, store.EvidenceQuery{Addr: id}) {
			if err != nil {
				return nil, 0, 0, fmt.Errorf("risk: evidence of address id %d: %w", id, err)
			}
			if !ev.Status.Joins() {
				continue
			}
			if !evSeen[[3]int64{ev.Height, int64(ev.TxIndex), int64(ev.N)}] {
				evSeen[[3]int64{ev.Height, int64(ev.TxIndex), int64(ev.N)}] = true
				joins++
				if ev.Heuristic == heistgraph.HeuristicCommonInput {
					h1++
				}
			}
			for _, aid := range ev.AddrIDs {
				if seen[aid] {
					continue
				}
				seen[aid] = true
				a, err := r.st.ClusterAddress(r.ctx, r.chain, aid)
				if err != nil {
					return nil, 0, 0, fmt.Errorf("risk: address id %d: %w", aid, err)
				}
				m, err := r.st.AddressCluster(r.ctx, r.chain, a)
				if err != nil {
					return nil, 0, 0, fmt.Errorf("risk: cluster of %s: %w", a, err)
				}
				if m.ClusterID == o.cluster {
					out = append(out, a)
					queue = append(queue, aid)
				}
			}
		}
	}
	return out, joins, h1, nil
}

// tabPayers returns the owners of transaction h's inputs as the Table
// recorded them (ownerOf's ids, distinct, in input order), when the table
// covers h.
func (r *run) tabPayers(h heistgraph.Hash) ([]string, bool) {
	if r.tab == nil {
		return nil, false
	}
	ids, ok := r.tab.payers[h]
	return ids, ok
}

// ownerByID returns the owner an ownerOf id names, with the labels
// ownerOf would give it: a cluster's ("c:<id>"), an unclustered address's
// ("a:<address>"), or none ("", no address).
func (r *run) ownerByID(id string) *owner {
	switch {
	case len(id) > 2 && id[:2] == "c:":
		c, err := strconv.ParseUint(id[2:], 10, 64)
		if err == nil {
			return &owner{id: id, cluster: c, labels: r.idx.byCluster[c]}
		}
	case len(id) > 2 && id[:2] == "a:":
		return &owner{id: id, labels: r.idx.byAddr[id[2:]]}
	}
	return &owner{id: id}
}

// output returns the stored output op (its address, value and block
// time), from the Table when it covers op's transaction.
func (r *run) output(op heistgraph.Outpoint) (heistgraph.Output, error) {
	if r.tab != nil {
		if addr, v, t, ok := r.tab.output(op); ok {
			out := heistgraph.Output{Chain: r.chain, Outpoint: op, Block: heistgraph.BlockRef{Time: t}}
			out.Address, out.Value = addr, v
			return out, nil
		}
	}
	return r.st.Output(r.ctx, r.chain, op)
}
