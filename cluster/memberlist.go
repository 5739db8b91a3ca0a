package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// MemberPage is one page of a cluster's member addresses.
type MemberPage struct {
	ClusterID uint64
	Size      int64
	// Offset is the position of Members[0] in the cluster's list.
	Offset int
	// Members are the page's addresses with their ids, in the order
	// ListMembers documents.
	Members []store.ClusterMember
	// NextOffset is the offset of the next page; 0 when there is none.
	NextOffset int
}

// ListMembers pages through the members of addr's cluster on chain
// (limit addresses from offset; limit 0 means 20). The list starts at the
// cluster's id address (its oldest) and walks the joining evidence and
// the analysts' merges breadth-first from there, keeping the addresses
// whose cluster is the same, so every member of a cluster gives the same
// list and a page costs reads in proportion to offset+limit, not to the
// chain. Members the walk does not reach (none while evidence and
// memberships agree) follow in address-id order from a scan of every
// membership. An address that is not clustered wraps
// heistgraph.ErrNotFound; a negative offset or limit wraps
// heistgraph.ErrInvalid.
func ListMembers(ctx context.Context, st store.Clusters, chain heistgraph.Chain, addr string, offset, limit int) (MemberPage, error) {
	if offset < 0 || limit < 0 {
		return MemberPage{}, fmt.Errorf("members of %s: offset %d, limit %d: want >= 0: %w", addr, offset, limit, heistgraph.ErrInvalid)
	}
	if limit == 0 {
		limit = 20
	}
	addr = addressKey(chain, addr)
	m, err := st.AddressCluster(ctx, chain, addr)
	if err != nil {
		return MemberPage{}, fmt.Errorf("members of %s: %w", addr, err)
	}
	p := MemberPage{ClusterID: m.ClusterID, Offset: offset, Members: []store.ClusterMember{}}
	if p.Size, err = st.ClusterSize(ctx, chain, m.ClusterID); err != nil {
		return MemberPage{}, fmt.Errorf("members of %s: %w", addr, err)
	}
	want := int64(offset + limit)
	if want > p.Size {
		want = p.Size
	}
	var found []store.ClusterMember
	seen := map[uint64]bool{}
	// member reports whether address id (or, when id is 0, the address a)
	// is in the cluster, and records it once.
	var queue []store.ClusterMember
	member := func(id uint64, a string) error {
		if id != 0 && seen[id] {
			return nil
		}
		if a == "" {
			if a, err = st.ClusterAddress(ctx, chain, id); err != nil {
				return err
			}
		}
		om, err := st.AddressCluster(ctx, chain, a)
		if errors.Is(err, heistgraph.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if seen[om.AddrID] {
			return nil
		}
		seen[om.AddrID] = true
		if om.ClusterID == m.ClusterID {
			found = append(found, om)
			queue = append(queue, om)
		}
		return nil
	}

	// The analysts' merges, by address: they join clusters without
	// evidence records.
	merged := map[string][]string{}
	for o, err := range st.Overrides(ctx, chain) {
		if err != nil {
			return MemberPage{}, fmt.Errorf("members of %s: %w", addr, err)
		}
		if o.Kind != heistgraph.OverrideMerge {
			continue
		}
		for _, a := range o.Addresses {
			merged[a] = append(merged[a], o.Addresses...)
		}
	}

	if err := member(m.ClusterID, ""); err != nil {
		return MemberPage{}, fmt.Errorf("members of %s: %w", addr, err)
	}
walk:
	for len(queue) > 0 && int64(len(found)) < want {
		cur := queue[0]
		queue = queue[1:]
		for ev, err := range st.Evidence(ctx, chain, store.EvidenceQuery{Addr: cur.AddrID}) {
			if err != nil {
				return MemberPage{}, fmt.Errorf("members of %s: %w", addr, err)
			}
			if !ev.Status.Joins() {
				continue
			}
			for _, id := range ev.AddrIDs {
				if err := member(id, ""); err != nil {
					return MemberPage{}, fmt.Errorf("members of %s: %w", addr, err)
				}
			}
			if int64(len(found)) >= want {
				break walk
			}
		}
		for _, a := range merged[cur.Address] {
			if err := member(0, a); err != nil {
				return MemberPage{}, fmt.Errorf("members of %s: %w", addr, err)
			}
		}
	}
	if int64(len(found)) < want {
		// The walk missed members: take them from the memberships.
		for mm, err := range st.Memberships(ctx, chain) {
			if err != nil {
				return MemberPage{}, fmt.Errorf("members of %s: %w", addr, err)
			}
			if mm.ClusterID != m.ClusterID || seen[mm.AddrID] {
				continue
			}
			seen[mm.AddrID] = true
			found = append(found, mm)
			if int64(len(found)) >= want {
				break
			}
		}
	}
	if offset < len(found) {
		p.Members = append(p.Members, found[offset:min(len(found), offset+limit)]...)
	}
	if int64(offset+limit) < p.Size {
		p.NextOffset = offset + limit
	}
	return p, nil
}
