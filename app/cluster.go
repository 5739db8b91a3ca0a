package app

import (
	"context"
	"errors"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/store"
)

// ClustersView is what an answer that depends on clusters (trace, show
// address, cluster show) adds to its JSON: the last block clustered (null
// when the chain was never clustered) and how many blocks the clusters are
// behind the chain, so that a script can tell an answer from half-built
// clusters.
type ClustersView struct {
	ClustersHeight      *int64 `json:"clusters_height"`
	ClustersBehind      int64  `json:"clusters_behind"`
	ClustersNeedRebuild bool   `json:"clusters_need_rebuild,omitempty"`
	// Warning, not in the JSON, is one line saying how the clusters are
	// stale ("" when they are not); surfaces show it beside the answer
	// (the CLI on stderr).
	Warning string `json:"-"`
}

// Freshness checks how far chain's clusters are behind its blocks. It does
// not catch them up: a read may run on a read-only store, and catching up a
// large chain takes as long as "cluster update". A store without clusters,
// or an EVM chain never clustered, gives the zero view.
func Freshness(ctx context.Context, r store.ChainReader, chain heistgraph.Chain) (ClustersView, error) {
	var v ClustersView
	c, ok := r.(store.Clusters)
	if !ok {
		return v, nil
	}
	f, err := cluster.CheckFreshness(ctx, r, c, chain)
	if err != nil {
		return v, err
	}
	if !chain.IsUTXO() && !f.Clustered() {
		return v, nil // EVM chains are clustered on demand (cluster update --chain)
	}
	if f.Clustered() {
		h := f.Height
		v.ClustersHeight = &h
	}
	v.ClustersBehind, v.ClustersNeedRebuild = f.Behind, f.NeedsRebuild
	if f.Stale() {
		v.Warning = f.String()
	}
	return v, nil
}

// ClusterHead is what cluster show answers first, with or without
// members: the address, its cluster and the labels that reach it.
type ClusterHead struct {
	Address   string             `json:"address"`
	Chain     heistgraph.Chain   `json:"chain"`
	ClusterID uint64             `json:"cluster_id"`
	Size      int64              `json:"size"`
	Labels    []ClusterLabelView `json:"labels"`
	Conflicts []string           `json:"conflicts"`
}

// EvidenceView is one record of the evidence that joins a cluster.
type EvidenceView struct {
	// TxID is the transaction's id as explorers show it (EVM: 0x and
	// the hash in lower-case hex).
	TxID      string   `json:"txid"`
	Height    int64    `json:"height"`
	Heuristic string   `json:"heuristic"`
	Votes     []string `json:"votes,omitempty"`
	Soft      bool     `json:"soft,omitempty"`
	Status    string   `json:"status"`
	Reason    string   `json:"reason,omitempty"`
	Addresses []string `json:"addresses"`
	More      int      `json:"more_addresses,omitempty"`
}

func evidenceOf(chain heistgraph.Chain, es []cluster.Evidence) []EvidenceView {
	out := make([]EvidenceView, 0, len(es))
	for _, e := range es {
		txid := e.TxID.String()
		if !chain.IsUTXO() {
			txid = heistgraph.EVMHash(e.TxID).String()
		}
		addrs := make([]string, len(e.Addresses))
		for i, a := range e.Addresses {
			addrs[i] = heistgraph.DisplayAddress(chain, a)
		}
		out = append(out, EvidenceView{TxID: txid, Height: e.Height, Heuristic: e.Heuristic, Votes: e.Votes, Soft: e.Soft,
			Status: e.Status.String(), Reason: e.Reason, Addresses: addrs, More: e.More})
	}
	return out
}

// OverrideView is an analyst's merge or split.
type OverrideView struct {
	Seq       uint64   `json:"seq"`
	Kind      string   `json:"kind"`
	Addresses []string `json:"addresses"`
	By        string   `json:"by"`
	Why       string   `json:"why"`
	Time      int64    `json:"time"`
	Height    int64    `json:"height"`
}

func overrideOf(o heistgraph.ClusterOverride) OverrideView {
	return OverrideView{Seq: o.Seq, Kind: o.Kind, Addresses: o.Addresses, By: o.By, Why: o.Why, Time: o.Time, Height: o.Height}
}

// ClusterView is what `cluster show --json` prints: the head, a page of
// evidence, the unions held for review, the overrides and, with To, the
// chain of evidence joining the two addresses.
type ClusterView struct {
	ClusterHead
	Evidence  []EvidenceView `json:"evidence"`
	Next      int            `json:"next_offset"`
	Review    []EvidenceView `json:"review"`
	Overrides []OverrideView `json:"overrides"`
	Path      []EvidenceView `json:"path,omitempty"`
	PathFound *bool          `json:"path_found,omitempty"`
	ClustersView
}

// ClusterRequest asks for the cluster of Address on Chain (both already
// checked: ClusterChainOf, ValidAddress): a page of evidence (Limit records
// from Offset) and, with To, the path to that address.
type ClusterRequest struct {
	Chain         heistgraph.Chain
	Address       string
	Limit, Offset int
	To            string
}

// Cluster explains the cluster of an address (cluster.Explain).
func Cluster(ctx context.Context, st store.Store, req ClusterRequest) (ClusterView, error) {
	if err := checkPage(req.Limit, req.Offset); err != nil {
		return ClusterView{}, err
	}
	x, err := cluster.Explain(ctx, st, req.Chain, req.Address, cluster.ExplainOptions{Limit: req.Limit, Offset: req.Offset, To: req.To})
	if err != nil {
		return ClusterView{}, err
	}
	fresh, err := Freshness(ctx, st, req.Chain)
	if err != nil {
		return ClusterView{}, err
	}
	v := ClusterView{ClusterHead: ClusterHead{Address: x.Address, Chain: x.Chain, ClusterID: x.ClusterID, Size: x.Size,
		Labels: viewLabels(x.View), Conflicts: x.Conflicts}, Evidence: evidenceOf(req.Chain, x.Evidence), Next: x.NextOffset,
		Review: evidenceOf(req.Chain, x.Reviews), Overrides: []OverrideView{}, ClustersView: fresh}
	for _, o := range x.Overrides {
		v.Overrides = append(v.Overrides, overrideOf(o))
	}
	if req.To != "" {
		v.Path, v.PathFound = evidenceOf(req.Chain, x.Path), &x.PathFound
	}
	return v, nil
}

// viewLabels lists the labels on an address and those that reach it
// through its cluster.
func viewLabels(v cluster.View) []ClusterLabelView {
	out := []ClusterLabelView{}
	for _, l := range append(append([]heistgraph.Label{}, v.Own...), v.Reached...) {
		out = append(out, clusterLabelOf(l, l.Address))
	}
	return out
}

// MemberView is one address of a cluster with its totals and own labels.
type MemberView struct {
	Address    string      `json:"address"`
	AddrID     uint64      `json:"addr_id"`
	BalanceSat int64       `json:"balance_sat"`
	TxCount    int64       `json:"tx_count"`
	Labels     []LabelView `json:"labels"`
	// Balance is, on EVM chains, the native balance in base units (wei),
	// a decimal string; BalanceSat is then 0.
	Balance string `json:"balance,omitempty"`
}

// MembersView is what `cluster show --members --json` prints.
type MembersView struct {
	ClusterHead
	Offset  int          `json:"offset"`
	Members []MemberView `json:"members"`
	Next    int          `json:"next_offset"`
	ClustersView
}

// MembersRequest asks for a page of the members of Address's cluster on
// Chain (Limit addresses from Offset; Limit 0 means 20).
type MembersRequest struct {
	Chain         heistgraph.Chain
	Address       string
	Limit, Offset int
}

// Members lists a page of a cluster's addresses, from its oldest address
// outward, each with its balance, transaction count and own labels.
func Members(ctx context.Context, st store.Store, req MembersRequest) (MembersView, error) {
	if err := checkPage(req.Limit, req.Offset); err != nil {
		return MembersView{}, err
	}
	ch, limit := req.Chain, req.Limit
	if limit == 0 {
		limit = 20
	}
	p, err := cluster.ListMembers(ctx, st, ch, req.Address, req.Offset, limit)
	if err != nil {
		return MembersView{}, err
	}
	fresh, err := Freshness(ctx, st, ch)
	if err != nil {
		return MembersView{}, err
	}
	res := cluster.NewResolver(st)
	view, err := res.View(ctx, ch, req.Address)
	if err != nil {
		return MembersView{}, err
	}
	v := MembersView{ClusterHead: ClusterHead{Address: view.Address, Chain: ch, ClusterID: p.ClusterID, Size: p.Size,
		Labels: viewLabels(view), Conflicts: view.Conflicts}, Offset: p.Offset, Members: []MemberView{}, Next: p.NextOffset, ClustersView: fresh}
	for _, m := range p.Members {
		j := MemberView{Address: m.Address, AddrID: m.AddrID, Labels: []LabelView{}}
		if err := memberTotals(ctx, st, ch, &j); err != nil {
			return MembersView{}, err
		}
		mv, err := res.View(ctx, ch, m.Address)
		if err != nil {
			return MembersView{}, err
		}
		for _, l := range mv.Own {
			j.Labels = append(j.Labels, LabelOf(l))
		}
		v.Members = append(v.Members, j)
	}
	return v, nil
}

// memberTotals sets j's balance and transaction count.
func memberTotals(ctx context.Context, st store.Store, ch heistgraph.Chain, j *MemberView) error {
	if !ch.IsUTXO() {
		a, err := heistgraph.ParseEVMAddress(j.Address)
		if err != nil {
			return err
		}
		s, err := st.AccountSummary(ctx, ch, a)
		if errors.Is(err, heistgraph.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		j.TxCount, j.Balance = s.TxCount, "0"
		if b, ok := s.Balance(heistgraph.NativeAsset); ok {
			j.Balance = b.Balance.Dec()
		}
		return nil
	}
	s, err := st.Address(ctx, ch, j.Address)
	switch {
	case err == nil:
		j.BalanceSat, j.TxCount = s.Balance(), s.TxCount
	case !errors.Is(err, heistgraph.ErrNotFound):
		return err
	}
	return nil
}

// ClusterStatsView is what cluster update prints (and merge and split
// under "stats").
type ClusterStatsView struct {
	Chain          heistgraph.Chain `json:"chain"`
	TipHeight      int64            `json:"tip_height"`
	Blocks         int64            `json:"blocks"`
	Txs            int64            `json:"txs"`
	Inputs         int64            `json:"inputs"`
	Rewound        int64            `json:"rewound_blocks"`
	Rebuilt        bool             `json:"rebuilt"`
	CoinJoins      map[string]int64 `json:"coinjoins"`
	Stonewalls     int64            `json:"stonewalls"`
	CommonInput    int64            `json:"common_input_merges"`
	Change         int64            `json:"change_merges"`
	ChangeDeferred int64            `json:"change_merges_deferred"`
	Refused        int64            `json:"refused"`
	Held           int64            `json:"held"`
	ServiceChange  int64            `json:"service_change_skipped"`
	ChangeNotLeaf  int64            `json:"change_not_leaf_skipped"`
	Dropped        int64            `json:"dropped"`
	Addresses      int64            `json:"addresses"`
	Clusters       int64            `json:"clusters"`
	Largest        int64            `json:"largest_cluster"`
	Seconds        float64          `json:"seconds"`
	InputsPerS     float64          `json:"inputs_per_s"`
	// EVM chains (methods.md §7), set on them only.
	Account *AccountClusterStatsView `json:"account,omitempty"`
}

// AccountClusterStatsView is what clustering an EVM chain did.
type AccountClusterStatsView struct {
	Transfers      int64   `json:"transfers"`
	Deposits       int64   `json:"deposit_addresses"`
	DepositReuse   int64   `json:"deposit_reuse_merges"`
	SharedDeposits int64   `json:"shared_deposits"`
	SelfAuth       int64   `json:"self_authorization_merges"`
	FundedBy       int64   `json:"funded_by_hints"`
	TransfersPerS  float64 `json:"transfers_per_s"`
}

// ClusterStatsOf is the view of a clustering run's statistics.
func ClusterStatsOf(s cluster.Stats) ClusterStatsView {
	v := ClusterStatsView{Chain: s.Chain, TipHeight: s.TipHeight, Blocks: s.Blocks, Txs: s.Txs, Inputs: s.Inputs,
		Rewound: s.Rewound, Rebuilt: s.Rebuilt, CoinJoins: s.CoinJoins, Stonewalls: s.Stonewalls,
		CommonInput: s.CommonInput, Change: s.Change, ChangeDeferred: s.ChangeDeferred, Refused: s.Refused,
		Held: s.Held, ServiceChange: s.ServiceChange, ChangeNotLeaf: s.ChangeNotLeaf, Dropped: s.Dropped, Addresses: s.Addresses, Clusters: s.Clusters,
		Largest: s.Largest, Seconds: s.Elapsed.Seconds()}
	if v.CoinJoins == nil {
		v.CoinJoins = map[string]int64{}
	}
	if v.Seconds > 0 {
		v.InputsPerS = float64(s.Inputs) / v.Seconds
	}
	if !s.Chain.IsUTXO() {
		v.Account = &AccountClusterStatsView{Transfers: s.Transfers, Deposits: s.Deposits, DepositReuse: s.DepositReuse,
			SharedDeposits: s.SharedDeposits, SelfAuth: s.SelfAuth, FundedBy: s.FundedBy}
		if v.Seconds > 0 {
			v.Account.TransfersPerS = float64(s.Transfers) / v.Seconds
		}
	}
	return v
}

// OverrideMemberView is an address an override names, with its cluster
// after the override.
type OverrideMemberView struct {
	Address     string `json:"address"`
	ClusterID   uint64 `json:"cluster_id"`
	ClusterSize int64  `json:"cluster_size"`
}

// OverrideResultView is what cluster merge and split print: the override
// recorded (or, with Duplicate set, the earlier one that already says the
// same: nothing was recorded), the addresses' clusters after it and, for a
// split, the cluster the address left.
type OverrideResultView struct {
	Chain     heistgraph.Chain     `json:"chain"`
	Override  OverrideView         `json:"override"`
	Duplicate bool                 `json:"duplicate"`
	Addresses []OverrideMemberView `json:"addresses"`
	ClusterID uint64               `json:"cluster_id"`
	Size      int64                `json:"size"`
	RestID    *uint64              `json:"rest_cluster_id,omitempty"`
	RestSize  *int64               `json:"rest_size,omitempty"`
	Stats     *ClusterStatsView    `json:"stats,omitempty"`
}

// OverrideResultOf is the view of a merge or split on chain ch.
func OverrideResultOf(ch heistgraph.Chain, r cluster.OverrideResult) OverrideResultView {
	v := OverrideResultView{Chain: ch, Duplicate: r.Duplicate, Addresses: []OverrideMemberView{}, Override: overrideOf(r.Override)}
	for i, m := range r.Members {
		v.Addresses = append(v.Addresses, OverrideMemberView{Address: m.Address, ClusterID: m.ClusterID, ClusterSize: r.Sizes[i]})
	}
	if len(v.Addresses) > 0 {
		v.ClusterID, v.Size = v.Addresses[0].ClusterID, v.Addresses[0].ClusterSize
	}
	if r.RestID != 0 {
		v.RestID, v.RestSize = &r.RestID, &r.RestSize
	}
	if !r.Duplicate {
		st := ClusterStatsOf(r.Stats)
		v.Stats = &st
	}
	return v
}
