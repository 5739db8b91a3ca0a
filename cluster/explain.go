package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// ExplainOptions bounds an Explain.
type ExplainOptions struct {
	// Offset and Limit page through the evidence (Limit 0: 20).
	Offset, Limit int
	// To, when set, asks for the chain of evidence that joins the address
	// to this one (Path).
	To string
	// MaxAddresses bounds the addresses listed per evidence record (0: 10).
	MaxAddresses int
	// MaxVisits bounds the addresses a search visits (0: 100,000).
	MaxVisits int
}

// Evidence is one stored piece of evidence with its addresses resolved.
type Evidence struct {
	heistgraph.ClusterEvidence
	// Addresses are the first MaxAddresses addresses of AddrIDs; More
	// counts the others.
	Addresses []string
	More      int
}

// Explanation says what an address's cluster is and why: its size, the
// labels that reach it, the evidence that joins its addresses (from the
// address outward, nearest first), the unions refused, held or dropped on
// the way, and the analysts' overrides about it.
type Explanation struct {
	View
	// Evidence is a page of the joining evidence in breadth-first order
	// from the address; NextOffset is the offset of the next page, 0 when
	// there is none.
	Evidence   []Evidence
	NextOffset int
	// Reviews are refused, held and dropped unions met on the way (at most
	// 50): conflicts for an analyst to review.
	Reviews []Evidence
	// Overrides are the analysts' merges and splits naming an address of
	// the cluster.
	Overrides []heistgraph.ClusterOverride
	// Path, when ExplainOptions.To is set and in the same cluster, is the
	// chain of evidence from the address to it, in order; PathFound
	// reports whether one was found within MaxVisits.
	Path      []Evidence
	PathFound bool
}

// maxReviews bounds Explanation.Reviews.
const maxReviews = 50

// Explain explains addr's cluster on chain. An address that is not
// clustered wraps heistgraph.ErrNotFound.
func Explain(ctx context.Context, st LabelStore, chain heistgraph.Chain, addr string, opts ExplainOptions) (Explanation, error) {
	if opts.Limit <= 0 {
		opts.Limit = 20
	}
	if opts.MaxAddresses <= 0 {
		opts.MaxAddresses = 10
	}
	if opts.MaxVisits <= 0 {
		opts.MaxVisits = 100_000
	}
	if opts.Offset < 0 {
		return Explanation{}, fmt.Errorf("explain %s: offset %d < 0: %w", addr, opts.Offset, heistgraph.ErrInvalid)
	}
	addr = addressKey(chain, addr)
	m, err := st.AddressCluster(ctx, chain, addr)
	if err != nil {
		return Explanation{}, fmt.Errorf("explain %s: %w", addr, err)
	}
	v, err := NewResolver(st).View(ctx, chain, addr)
	if err != nil {
		return Explanation{}, err
	}
	x := Explanation{View: v, Evidence: []Evidence{}, Reviews: []Evidence{}, Overrides: []heistgraph.ClusterOverride{}}
	resolve := func(ev heistgraph.ClusterEvidence) (Evidence, error) {
		out := Evidence{ClusterEvidence: ev}
		for i, id := range ev.AddrIDs {
			if i == opts.MaxAddresses {
				out.More = len(ev.AddrIDs) - i
				break
			}
			a, err := st.ClusterAddress(ctx, chain, id)
			if err != nil {
				return Evidence{}, err
			}
			out.Addresses = append(out.Addresses, a)
		}
		return out, nil
	}

	// Breadth-first over the evidence from the address.
	want := opts.Offset + opts.Limit
	type key struct {
		h    int64
		i, n uint32
	}
	seen := map[key]bool{}
	visited := map[uint64]bool{m.AddrID: true}
	queue := []uint64{m.AddrID}
	joined := 0
	more := false
bfs:
	for len(queue) > 0 && len(visited) <= opts.MaxVisits {
		id := queue[0]
		queue = queue[1:]
		for ev, err := range st.Evidence(ctx, chain, store.EvidenceQuery{Addr: id}) {
			if err != nil {
				return Explanation{}, fmt.Errorf("explain %s: %w", addr, err)
			}
			k := key{ev.Height, ev.TxIndex, ev.N}
			if seen[k] {
				continue
			}
			seen[k] = true
			if !ev.Status.Joins() {
				if len(x.Reviews) < maxReviews {
					r, err := resolve(ev)
					if err != nil {
						return Explanation{}, err
					}
					x.Reviews = append(x.Reviews, r)
				}
				continue
			}
			if joined >= want {
				more = true
				break bfs
			}
			if joined >= opts.Offset {
				r, err := resolve(ev)
				if err != nil {
					return Explanation{}, err
				}
				x.Evidence = append(x.Evidence, r)
			}
			joined++
			for _, o := range ev.AddrIDs {
				if !visited[o] {
					visited[o] = true
					queue = append(queue, o)
				}
			}
		}
	}
	if more {
		x.NextOffset = want
	}

	for o, err := range st.Overrides(ctx, chain) {
		if err != nil {
			return Explanation{}, fmt.Errorf("explain %s: %w", addr, err)
		}
		for _, a := range o.Addresses {
			om, err := st.AddressCluster(ctx, chain, a)
			if err == nil && om.ClusterID == m.ClusterID || a == addr {
				x.Overrides = append(x.Overrides, o)
				break
			}
			if err != nil && !errors.Is(err, heistgraph.ErrNotFound) {
				return Explanation{}, fmt.Errorf("explain %s: %w", addr, err)
			}
		}
	}

	if opts.To != "" {
		path, found, err := evidencePath(ctx, st, chain, m.AddrID, addressKey(chain, opts.To), opts.MaxVisits)
		if err != nil {
			return Explanation{}, fmt.Errorf("explain %s: %w", addr, err)
		}
		x.PathFound = found
		for _, ev := range path {
			r, err := resolve(ev)
			if err != nil {
				return Explanation{}, err
			}
			x.Path = append(x.Path, r)
		}
	}
	return x, nil
}

// evidencePath finds the shortest chain of joining evidence from address
// id from to address to, visiting at most maxVisits addresses.
func evidencePath(ctx context.Context, st store.Clusters, chain heistgraph.Chain, from uint64, to string, maxVisits int) ([]heistgraph.ClusterEvidence, bool, error) {
	tm, err := st.AddressCluster(ctx, chain, to)
	if errors.Is(err, heistgraph.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if tm.AddrID == from {
		return nil, true, nil
	}
	type step struct {
		prev uint64
		ev   heistgraph.ClusterEvidence
	}
	came := map[uint64]step{from: {}}
	queue := []uint64{from}
	for len(queue) > 0 && len(came) <= maxVisits {
		id := queue[0]
		queue = queue[1:]
		for ev, err := range st.Evidence(ctx, chain, store.EvidenceQuery{Addr: id}) {
			if err != nil {
				return nil, false, err
			}
			if !ev.Status.Joins() {
				continue
			}
			for _, o := range ev.AddrIDs {
				if _, ok := came[o]; ok {
					continue
				}
				came[o] = step{id, ev}
				if o == tm.AddrID {
					var path []heistgraph.ClusterEvidence
					for x := o; x != from; x = came[x].prev {
						path = append(path, came[x].ev)
					}
					for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
						path[i], path[j] = path[j], path[i]
					}
					return path, true, nil
				}
				queue = append(queue, o)
			}
		}
	}
	return nil, false, nil
}
