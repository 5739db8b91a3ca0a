package risk

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/trace"
)

// AccountStolen is the Stolen hook's side for account (EVM) chains: the
// value an incident's or a watch's trace moved into an address. Whoever
// receives tainted value holds stolen value directly (hop 1, category
// stolen:<ID>, for the tainted amount), however far it is from the theft
// (methods.md §8.3). A Stolen that also implements AccountStolen marks
// EVM screens; StolenSet does.
type AccountStolen interface {
	// StolenReceived returns the marks on what addr received on chain
	// (none: an empty slice and a nil error). The slice is the caller's.
	StolenReceived(ctx context.Context, chain heistgraph.Chain, addr heistgraph.EVMAddress) ([]AccountStolenMark, error)
}

// AccountStolenMark is tainted value an address received from another:
// the incident id or watch name, the sender, the asset and the tainted
// amount in its base units, and where the mark comes from.
type AccountStolenMark struct {
	ID     string
	From   heistgraph.EVMAddress
	Asset  heistgraph.Asset
	Amount uint256.Int
	Source string
}

// AddAccountTrace marks, as stolen:<id>, what an account trace moved into
// each address: every edge's tainted amount, at its receiver, from its
// sender, per asset (marks of one id, sender and asset add up).
func (s *StolenSet) AddAccountTrace(id string, res *trace.AccountResult) error {
	if id == "" {
		return fmt.Errorf("risk: stolen mark without an id: %w", heistgraph.ErrInvalid)
	}
	if s.acct == nil {
		s.acct = map[heistgraph.Chain]map[heistgraph.EVMAddress][]AccountStolenMark{}
	}
	by := s.acct[res.Chain]
	if by == nil {
		by = map[heistgraph.EVMAddress][]AccountStolenMark{}
		s.acct[res.Chain] = by
	}
	for i := range res.Edges {
		e := &res.Edges[i]
		v := e.Value()
		if v.IsZero() || e.From == e.To {
			continue
		}
		marks := by[e.To]
		j := slices.IndexFunc(marks, func(m AccountStolenMark) bool { return m.ID == id && m.From == e.From && m.Asset == e.Asset })
		if j < 0 {
			marks = append(marks, AccountStolenMark{ID: id, From: e.From, Asset: e.Asset, Source: "trace:" + string(res.Policy)})
			j = len(marks) - 1
		}
		marks[j].Amount.Add(&marks[j].Amount, &v)
		slices.SortFunc(marks, func(a, b AccountStolenMark) int {
			return cmp.Or(cmp.Compare(a.ID, b.ID), slices.Compare(a.From[:], b.From[:]), slices.Compare(a.Asset[:], b.Asset[:]))
		})
		by[e.To] = marks
	}
	return nil
}

// StolenReceived implements AccountStolen.
func (s *StolenSet) StolenReceived(_ context.Context, chain heistgraph.Chain, addr heistgraph.EVMAddress) ([]AccountStolenMark, error) {
	if s == nil {
		return nil, nil
	}
	return slices.Clone(s.acct[chain][addr]), nil
}

var _ AccountStolen = (*StolenSet)(nil)

// addStolen adds to byAsset the stolen marks on what the members received
// from outside the cluster (inside), each capped at what that asset's
// receipts total, and keeps propagation from adding stolen:<ID> on top:
// the trace is the authority for stolen value.
func (r *run) addStolen(members []heistgraph.EVMAddress, inside map[heistgraph.EVMAddress]bool, byAsset map[heistgraph.Asset]*assetAgg) error {
	hook, ok := r.stolen.(AccountStolen)
	if !ok {
		return nil
	}
	for _, g := range byAsset {
		for vk := range g.entries {
			if isStolen(vk.cat) {
				delete(g.entries, vk)
			}
		}
	}
	for _, m := range members {
		marks, err := hook.StolenReceived(r.ctx, r.chain, m)
		if err != nil {
			return fmt.Errorf("risk: stolen marks of %s: %w", m.Hex(), err)
		}
		for _, mk := range marks {
			g := byAsset[mk.Asset]
			if g == nil || inside[mk.From] {
				continue
			}
			vk := vkey{cat: "stolen:" + mk.ID, hop: 1, entity: mk.ID, source: mk.Source, owner: "stolen:" + mk.ID, conf: 1}
			cur := g.entries[vk]
			cur.Add(&cur, &mk.Amount)
			if cur.Gt(&g.total) {
				cur = g.total
			}
			g.entries[vk] = cur
		}
	}
	return nil
}
