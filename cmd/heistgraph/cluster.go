package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/store"
)

// clusterFlags are the clustering options the cluster commands take.
type clusterFlags struct {
	chain         string
	change        string
	noCommonInput bool
	window        int64
	minVotes      int
	sweepRoots    int
}

func (f *clusterFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&f.chain, "chain", "", "chain to cluster (default: the Bitcoin chain the store holds)")
	c.Flags().StringVar(&f.change, "change", "default",
		"change heuristics, comma-separated: fresh, round, type, locktime, version, rbf, optimal (veto); none; default; legacy-pair")
	c.Flags().BoolVar(&f.noCommonInput, "no-common-input", false, "turn off common-input ownership (H1)")
	c.Flags().Int64Var(&f.window, "window", 0, fmt.Sprintf("blocks a change candidate waits for its outputs' spenders (default %d)", cluster.DefaultWindow))
	c.Flags().IntVar(&f.minVotes, "min-votes", 0, fmt.Sprintf("votes a change output needs, none against (default %d)", cluster.DefaultMinVotes))
	c.Flags().IntVar(&f.sweepRoots, "sweep-roots", 0, fmt.Sprintf("G5 extension: drop a change union when its change address is spent with coins of this many other clusters (default %d; -1: off)", cluster.DefaultSweepRoots))
}

func (a *app) clusterOptions(f *clusterFlags) (cluster.Options, error) {
	o := cluster.DefaultOptions()
	o.CommonInput = !f.noCommonInput
	if err := cluster.ParseChangeHeuristics(&o.Change, strings.Split(f.change, ",")); err != nil {
		return o, usageError{fmt.Errorf("--change: %w", err)}
	}
	o.Change.Window, o.Change.MinVotes, o.Guards.SweepRoots = f.window, f.minVotes, f.sweepRoots
	o.Logger = a.logger()
	if err := o.Validate(); err != nil {
		return o, usageError{err}
	}
	return o, nil
}

// clusterChain returns --chain, or the one Bitcoin chain the store holds
// blocks of.
func clusterChain(cmd *cobra.Command, r store.ChainReader, flag string) (heistgraph.Chain, error) {
	if flag != "" {
		c, err := heistgraph.ParseChain(flag)
		if err != nil {
			return "", usageError{fmt.Errorf("--chain: %w", err)}
		}
		if !c.IsUTXO() {
			return "", usageError{fmt.Errorf("--chain %s: only Bitcoin chains are clustered: %w", c, heistgraph.ErrInvalid)}
		}
		return c, nil
	}
	chains, err := candidateChains(cmd.Context(), r, "")
	if err != nil {
		return "", err
	}
	switch len(chains) {
	case 0:
		return "", fmt.Errorf("no Bitcoin chain in the store: ingest blocks first: %w", heistgraph.ErrNotFound)
	case 1:
		return chains[0], nil
	}
	return "", usageError{fmt.Errorf("the store holds several chains (%v): give --chain: %w", chains, heistgraph.ErrInvalid)}
}

func (a *app) clusterCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "cluster",
		Short: "Cluster addresses into entities, show a cluster and why, record analysts' merges and splits",
		Long: `Address clustering (docs/methods.md §3): common-input ownership on every transaction
that is not a CoinJoin, change heuristics each behind a switch, guards against
cluster collapse, and analysts' overrides that survive re-runs and reorgs.

"cluster update" clusters the blocks ingested since its last run (after a reorg
it rewinds to the fork first). Labels on one address reach its whole cluster.`,
	}
	c.AddCommand(a.clusterUpdateCmd(), a.clusterShowCmd(), a.clusterMergeCmd(), a.clusterSplitCmd())
	return c
}

// clusterStatsJSON is what cluster update prints (and merge and split
// under "stats").
type clusterStatsJSON struct {
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
}

func statsJSON(s cluster.Stats) clusterStatsJSON {
	v := clusterStatsJSON{Chain: s.Chain, TipHeight: s.TipHeight, Blocks: s.Blocks, Txs: s.Txs, Inputs: s.Inputs,
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
	return v
}

func (a *app) printStats(v clusterStatsJSON, what string) error {
	a.logger().Info(what, "chain", v.Chain, "blocks", v.Blocks, "addresses", v.Addresses, "clusters", v.Clusters,
		"seconds", fmt.Sprintf("%.2f", v.Seconds))
	return a.emit(v, func(w io.Writer) error {
		printf(w, "%s %s: %d blocks, %d txs, %d inputs in %.1fs (%.0f inputs/s); tip %d\n",
			what, v.Chain, v.Blocks, v.Txs, v.Inputs, v.Seconds, v.InputsPerS, v.TipHeight)
		printf(w, "  %d addresses in %d clusters (largest %d); merges: %d common-input, %d change (%d deferred)\n",
			v.Addresses, v.Clusters, v.Largest, v.CommonInput, v.Change, v.ChangeDeferred)
		printf(w, "  guards: %d refused, %d held, %d dropped, %d change skipped in services, %d change skipped (address not alone)\n",
			v.Refused, v.Held, v.Dropped, v.ServiceChange, v.ChangeNotLeaf)
		if v.Rewound > 0 || v.Rebuilt {
			printf(w, "  rewound %d blocks, rebuilt %v\n", v.Rewound, v.Rebuilt)
		}
		return nil
	})
}

func (a *app) clusterUpdateCmd() *cobra.Command {
	var f clusterFlags
	c := &cobra.Command{
		Use:   "update [--chain C]",
		Short: "Cluster the blocks ingested since the last run",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := a.clusterOptions(&f)
			if err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(st store.Store) error {
				ch, err := clusterChain(cmd, st, f.chain)
				if err != nil {
					return err
				}
				s, err := cluster.Update(cmd.Context(), st, ch, opts)
				if err != nil {
					return err
				}
				return a.printStats(statsJSON(s), "clustered")
			})
		},
	}
	f.add(c)
	return c
}

func (a *app) clusterMergeCmd() *cobra.Command {
	var f clusterFlags
	var by, why string
	c := &cobra.Command{
		Use:   "merge ADDRESS ADDRESS... --by WHO --why TEXT",
		Short: "Record that addresses are one entity (an analyst's decision that wins over the heuristics)",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := a.clusterOptions(&f)
			if err != nil {
				return err
			}
			if strings.TrimSpace(by) == "" || strings.TrimSpace(why) == "" {
				return usageError{errors.New("cluster merge: give --by WHO and --why TEXT")}
			}
			return a.withStore(cmd.Context(), func(st store.Store) error {
				ch, err := clusterChainOf(cmd, st, f.chain, args[0])
				if err != nil {
					return err
				}
				addrs, err := validAddresses(ch, args)
				if err != nil {
					return fmt.Errorf("cluster merge: %w", err)
				}
				res, err := cluster.Merge(cmd.Context(), st, ch, addrs, by, why, time.Now(), opts)
				if err != nil {
					return err
				}
				return a.printOverride(ch, res)
			})
		},
	}
	f.add(c)
	c.Flags().StringVar(&by, "by", "", "who decides (required)")
	c.Flags().StringVar(&why, "why", "", "why (required)")
	return c
}

func (a *app) clusterSplitCmd() *cobra.Command {
	var f clusterFlags
	var by, why string
	c := &cobra.Command{
		Use:   "split ADDRESS --by WHO --why TEXT",
		Short: "Take an address out of its cluster (an analyst's decision that wins over the heuristics)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := a.clusterOptions(&f)
			if err != nil {
				return err
			}
			if strings.TrimSpace(by) == "" || strings.TrimSpace(why) == "" {
				return usageError{errors.New("cluster split: give --by WHO and --why TEXT")}
			}
			return a.withStore(cmd.Context(), func(st store.Store) error {
				ch, err := clusterChainOf(cmd, st, f.chain, args[0])
				if err != nil {
					return err
				}
				addr, err := validAddress(ch, args[0])
				if err != nil {
					return fmt.Errorf("cluster split: %w", err)
				}
				res, err := cluster.Split(cmd.Context(), st, ch, addr, by, why, time.Now(), opts)
				if err != nil {
					return err
				}
				return a.printOverride(ch, res)
			})
		},
	}
	f.add(c)
	c.Flags().StringVar(&by, "by", "", "who decides (required)")
	c.Flags().StringVar(&why, "why", "", "why (required)")
	return c
}

func (a *app) clusterShowCmd() *cobra.Command {
	var chainFlag, to string
	var limit, offset int
	var members bool
	c := &cobra.Command{
		Use:   "show ADDRESS [--chain C] [--limit N] [--offset N] [--to ADDRESS] [--members]",
		Short: "Show the cluster of an address: its size, labels, conflicts and the evidence that joins it (or its members)",
		Long: `Show the cluster an address belongs to: its id (the id of its oldest address),
its size, the labels on the address and those that reach it from other addresses
of the cluster, conflicting entity names, and the evidence that joins the
cluster's addresses, from the address outward (transaction, heuristic, votes,
addresses), a page at a time (--limit, --offset). --to ADDRESS shows the chain of
evidence that joins the two addresses. review lists unions the guards refused,
held or dropped on the way; overrides the analysts' merges and splits.

--members lists the cluster's addresses instead of its evidence, a page at a
time (--limit, --offset), each with its balance, transaction count and labels:
from the cluster's oldest address outward along the evidence, so every member
gives the same list.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 0 || offset < 0 {
				return usageError{fmt.Errorf("--limit and --offset must be >= 0: %w", heistgraph.ErrInvalid)}
			}
			if members && to != "" {
				return usageError{fmt.Errorf("--members and --to cannot be combined: %w", heistgraph.ErrInvalid)}
			}
			addr := strings.TrimSpace(args[0])
			if addr == "" {
				return fmt.Errorf("cluster show: empty address: %w", heistgraph.ErrInvalid)
			}
			return noStoreAddress("cluster show", chainFlag, addr, a.withView(cmd.Context(), func(st store.Store) error {
				ch, err := clusterChainOf(cmd, st, chainFlag, addr)
				if err != nil {
					return err
				}
				if addr, err = validAddress(ch, addr); err != nil {
					return fmt.Errorf("cluster show: %w", err)
				}
				if to != "" {
					if to, err = validAddress(ch, to); err != nil {
						return fmt.Errorf("cluster show --to: %w", err)
					}
				}
				if members {
					return a.showMembers(cmd.Context(), st, ch, addr, offset, limit)
				}
				x, err := cluster.Explain(cmd.Context(), st, ch, addr, cluster.ExplainOptions{Limit: limit, Offset: offset, To: strings.TrimSpace(to)})
				if err != nil {
					return err
				}
				fresh, err := a.clusterFreshness(cmd.Context(), st, ch)
				if err != nil {
					return err
				}
				return a.printExplanation(x, to != "", fresh)
			}))
		},
	}
	c.Flags().StringVar(&chainFlag, "chain", "", "chain of the address (default: the Bitcoin chain the store holds)")
	c.Flags().IntVar(&limit, "limit", 20, "evidence records (with --members: addresses) per page")
	c.Flags().IntVar(&offset, "offset", 0, "evidence records (with --members: addresses) to skip (the next_offset of the previous page)")
	c.Flags().StringVar(&to, "to", "", "show the chain of evidence joining ADDRESS to this address")
	c.Flags().BoolVar(&members, "members", false, "list the cluster's addresses (a page at a time) instead of its evidence")
	return c
}

// memberJSON is one address of a cluster with its totals and own labels.
type memberJSON struct {
	Address    string      `json:"address"`
	AddrID     uint64      `json:"addr_id"`
	BalanceSat int64       `json:"balance_sat"`
	TxCount    int64       `json:"tx_count"`
	Labels     []labelJSON `json:"labels"`
}

// clusterHeadJSON is what cluster show prints first, with or without
// --members: the address, its cluster and the labels that reach it.
type clusterHeadJSON struct {
	Address   string             `json:"address"`
	Chain     heistgraph.Chain   `json:"chain"`
	ClusterID uint64             `json:"cluster_id"`
	Size      int64              `json:"size"`
	Labels    []clusterLabelJSON `json:"labels"`
	Conflicts []string           `json:"conflicts"`
}

// printClusterHead writes the head of cluster show for people.
func printClusterHead(w io.Writer, v *clusterHeadJSON) {
	printf(w, "%s (%s) is in cluster %d of %s\n", esc(v.Address), v.Chain, v.ClusterID, plural(v.Size, "address", "addresses"))
	for _, l := range v.Labels {
		via := ""
		if l.Address != v.Address {
			via = l.Address
		}
		printf(w, "  label %s\n", labelText(l.Category, l.Entity, l.Source, l.Confidence, l.TLP, via))
	}
	if len(v.Conflicts) > 0 {
		printf(w, "  CONFLICT: the cluster carries several entities: %s\n", escJoin(v.Conflicts, ", "))
	}
}

// clusterMembersJSON is what cluster show --members prints.
type clusterMembersJSON struct {
	clusterHeadJSON
	Offset  int          `json:"offset"`
	Members []memberJSON `json:"members"`
	Next    int          `json:"next_offset"`
	clustersJSON
}

func (a *app) showMembers(ctx context.Context, st store.Store, ch heistgraph.Chain, addr string, offset, limit int) error {
	if limit == 0 {
		limit = 20
	}
	p, err := cluster.ListMembers(ctx, st, ch, addr, offset, limit)
	if err != nil {
		return err
	}
	fresh, err := a.clusterFreshness(ctx, st, ch)
	if err != nil {
		return err
	}
	res := cluster.NewResolver(st)
	view, err := res.View(ctx, ch, addr)
	if err != nil {
		return err
	}
	v := clusterMembersJSON{clusterHeadJSON: clusterHeadJSON{Address: view.Address, Chain: ch, ClusterID: p.ClusterID, Size: p.Size,
		Labels: viewLabels(view), Conflicts: view.Conflicts}, Offset: p.Offset, Members: []memberJSON{}, Next: p.NextOffset, clustersJSON: fresh}
	for _, m := range p.Members {
		j := memberJSON{Address: m.Address, AddrID: m.AddrID, Labels: []labelJSON{}}
		s, err := st.Address(ctx, ch, m.Address)
		switch {
		case err == nil:
			j.BalanceSat, j.TxCount = s.Balance(), s.TxCount
		case !errors.Is(err, heistgraph.ErrNotFound):
			return err
		}
		mv, err := res.View(ctx, ch, m.Address)
		if err != nil {
			return err
		}
		for _, l := range mv.Own {
			j.Labels = append(j.Labels, labelJSON{Entity: l.Entity, Category: l.Category, Source: l.Source, Confidence: l.Confidence, TLP: l.TLP})
		}
		v.Members = append(v.Members, j)
	}
	return a.emit(v, func(w io.Writer) error {
		printClusterHead(w, &v.clusterHeadJSON)
		if len(v.Members) == 0 {
			printf(w, "  members: none at offset %d\n", v.Offset)
			return nil
		}
		printf(w, "  members %d-%d of %d, from the cluster's oldest address outward:\n", v.Offset+1, v.Offset+len(v.Members), v.Size)
		printf(w, "    %-44s %20s %6s  %s\n", "address", "balance BTC", "txs", "labels")
		for _, m := range v.Members {
			var ls []string
			for _, l := range m.Labels {
				ls = append(ls, entityName(l.Entity, l.Category, "-")+" ["+esc(l.Source)+"]")
			}
			if len(ls) == 0 {
				ls = []string{"-"}
			}
			printf(w, "    %-44s %20s %6d  %s\n", esc(m.Address), btcCell(m.BalanceSat), m.TxCount, strings.Join(ls, "; "))
		}
		if v.Next > 0 {
			printf(w, "  (more: --members --offset %d)\n", v.Next)
		}
		return nil
	})
}

// overrideMemberJSON is an address an override names, with its cluster
// after the override.
type overrideMemberJSON struct {
	Address     string `json:"address"`
	ClusterID   uint64 `json:"cluster_id"`
	ClusterSize int64  `json:"cluster_size"`
}

// overrideResultJSON is what cluster merge and split print: the override
// recorded (or, with duplicate set, the earlier one that already says the
// same: nothing was recorded), the addresses' clusters after it and, for
// a split, the cluster the address left.
type overrideResultJSON struct {
	Chain     heistgraph.Chain     `json:"chain"`
	Override  overrideJSON         `json:"override"`
	Duplicate bool                 `json:"duplicate"`
	Addresses []overrideMemberJSON `json:"addresses"`
	ClusterID uint64               `json:"cluster_id"`
	Size      int64                `json:"size"`
	RestID    *uint64              `json:"rest_cluster_id,omitempty"`
	RestSize  *int64               `json:"rest_size,omitempty"`
	Stats     *clusterStatsJSON    `json:"stats,omitempty"`
}

// printOverride confirms an analyst's merge or split: what was recorded
// under which override id, and the clusters it left.
func (a *app) printOverride(ch heistgraph.Chain, r cluster.OverrideResult) error {
	o := r.Override
	v := overrideResultJSON{Chain: ch, Duplicate: r.Duplicate, Addresses: []overrideMemberJSON{},
		Override: overrideJSON{Seq: o.Seq, Kind: o.Kind, Addresses: o.Addresses, By: o.By, Why: o.Why, Time: o.Time, Height: o.Height}}
	for i, m := range r.Members {
		v.Addresses = append(v.Addresses, overrideMemberJSON{Address: m.Address, ClusterID: m.ClusterID, ClusterSize: r.Sizes[i]})
	}
	if len(v.Addresses) > 0 {
		v.ClusterID, v.Size = v.Addresses[0].ClusterID, v.Addresses[0].ClusterSize
	}
	if r.RestID != 0 {
		v.RestID, v.RestSize = &r.RestID, &r.RestSize
	}
	if !r.Duplicate {
		st := statsJSON(r.Stats)
		v.Stats = &st
	}
	return a.emit(v, func(w io.Writer) error {
		names := make([]string, len(v.Addresses))
		for i, m := range v.Addresses {
			names[i] = esc(m.Address)
		}
		who := fmt.Sprintf("by %s on %s: %s", esc(o.By), unixUTC(o.Time), esc(o.Why))
		switch {
		case o.Kind == heistgraph.OverrideMerge && r.Duplicate:
			printf(w, "%s already merged by override %d (%s); nothing recorded\n", strings.Join(names, " and "), o.Seq, who)
		case o.Kind == heistgraph.OverrideMerge:
			printf(w, "merged %s on %s: override %d (%s)\n", strings.Join(names, " and "), ch, o.Seq, who)
		case r.Duplicate:
			printf(w, "%s already split by override %d (%s); nothing recorded\n", names[0], o.Seq, who)
		default:
			printf(w, "split %s off its cluster on %s: override %d (%s)\n", names[0], ch, o.Seq, who)
		}
		same := true
		for _, m := range v.Addresses {
			same = same && m.ClusterID == v.ClusterID
		}
		if same && o.Kind == heistgraph.OverrideMerge {
			printf(w, "  cluster %d of %s\n", v.ClusterID, plural(v.Size, "address", "addresses"))
		} else {
			for _, m := range v.Addresses {
				printf(w, "  %s: cluster %d of %s\n", esc(m.Address), m.ClusterID, plural(m.ClusterSize, "address", "addresses"))
			}
		}
		if v.RestID != nil {
			printf(w, "  the rest: cluster %d of %s\n", *v.RestID, plural(*v.RestSize, "address", "addresses"))
		}
		return nil
	})
}

type evidenceJSON struct {
	TxID      heistgraph.Hash `json:"txid"`
	Height    int64           `json:"height"`
	Heuristic string          `json:"heuristic"`
	Votes     []string        `json:"votes,omitempty"`
	Soft      bool            `json:"soft,omitempty"`
	Status    string          `json:"status"`
	Reason    string          `json:"reason,omitempty"`
	Addresses []string        `json:"addresses"`
	More      int             `json:"more_addresses,omitempty"`
}

func evidenceView(es []cluster.Evidence) []evidenceJSON {
	out := make([]evidenceJSON, 0, len(es))
	for _, e := range es {
		out = append(out, evidenceJSON{TxID: e.TxID, Height: e.Height, Heuristic: e.Heuristic, Votes: e.Votes, Soft: e.Soft,
			Status: e.Status.String(), Reason: e.Reason, Addresses: e.Addresses, More: e.More})
	}
	return out
}

type overrideJSON struct {
	Seq       uint64   `json:"seq"`
	Kind      string   `json:"kind"`
	Addresses []string `json:"addresses"`
	By        string   `json:"by"`
	Why       string   `json:"why"`
	Time      int64    `json:"time"`
	Height    int64    `json:"height"`
}

type clusterShowJSON struct {
	clusterHeadJSON
	Evidence  []evidenceJSON `json:"evidence"`
	Next      int            `json:"next_offset"`
	Review    []evidenceJSON `json:"review"`
	Overrides []overrideJSON `json:"overrides"`
	Path      []evidenceJSON `json:"path,omitempty"`
	PathFound *bool          `json:"path_found,omitempty"`
	clustersJSON
}

func (a *app) printExplanation(x cluster.Explanation, withPath bool, fresh clustersJSON) error {
	v := clusterShowJSON{clusterHeadJSON: clusterHeadJSON{Address: x.Address, Chain: x.Chain, ClusterID: x.ClusterID, Size: x.Size,
		Labels: viewLabels(x.View), Conflicts: x.Conflicts}, Evidence: evidenceView(x.Evidence), Next: x.NextOffset,
		Review: evidenceView(x.Reviews), Overrides: []overrideJSON{}, clustersJSON: fresh}
	for _, o := range x.Overrides {
		v.Overrides = append(v.Overrides, overrideJSON{Seq: o.Seq, Kind: o.Kind, Addresses: o.Addresses, By: o.By, Why: o.Why, Time: o.Time, Height: o.Height})
	}
	if withPath {
		v.Path, v.PathFound = evidenceView(x.Path), &x.PathFound
	}
	return a.emit(v, func(w io.Writer) error {
		printClusterHead(w, &v.clusterHeadJSON)
		pr := func(e evidenceJSON) {
			votes := ""
			if len(e.Votes) > 0 {
				votes = " [" + strings.Join(e.Votes, ",") + "]"
			}
			more := ""
			if e.More > 0 {
				more = fmt.Sprintf(" +%d", e.More)
			}
			printf(w, "    %s at %d: %s%s %s: %s%s\n", e.TxID, e.Height, esc(e.Heuristic), esc(votes), esc(e.Status), escJoin(e.Addresses, " "), more)
			if e.Reason != "" {
				printf(w, "      %s\n", esc(e.Reason))
			}
		}
		if withPath {
			if x.PathFound {
				printf(w, "  path:\n")
			} else {
				printf(w, "  no chain of evidence found to the other address\n")
			}
			for _, e := range v.Path {
				pr(e)
			}
		}
		printf(w, "  evidence:\n")
		for _, e := range v.Evidence {
			pr(e)
		}
		if v.Next > 0 {
			printf(w, "  (more: --offset %d)\n", v.Next)
		}
		if len(v.Review) > 0 {
			printf(w, "  for review:\n")
			for _, e := range v.Review {
				pr(e)
			}
		}
		for _, o := range v.Overrides {
			printf(w, "  override %d: %s %s by %s on %s: %s\n", o.Seq, esc(o.Kind), escJoin(o.Addresses, " "), esc(o.By), unixUTC(o.Time), esc(o.Why))
		}
		return nil
	})
}

// viewLabels lists the labels on an address and those that reach it
// through its cluster.
func viewLabels(v cluster.View) []clusterLabelJSON {
	out := []clusterLabelJSON{}
	for _, l := range slicesConcat(v.Own, v.Reached) {
		out = append(out, clusterLabelJSON{Address: l.Address, Entity: l.Entity, Category: l.Category, Source: l.Source, Confidence: l.Confidence, TLP: l.TLP})
	}
	return out
}

func slicesConcat(a, b []heistgraph.Label) []heistgraph.Label {
	return append(append([]heistgraph.Label{}, a...), b...)
}

// ingestClustering clusters blocks as `ingest btc --cluster` ingests them:
// once at the end of a one-shot ingest, after every block with --follow
// (through a cluster.Engine kept open).
type ingestClustering struct {
	a      *app
	st     store.Store
	follow bool
	eng    *cluster.Engine
	total  cluster.Stats
	err    error
}

func (a *app) ingestClusterer(st store.Store, follow bool) *ingestClustering {
	return &ingestClustering{a: a, st: st, follow: follow}
}

// applied clusters up to block b when following. An error stops the
// clustering (the ingest goes on) and is logged.
func (c *ingestClustering) applied(ctx context.Context, b *heistgraph.Block) {
	if !c.follow || c.err != nil {
		return
	}
	if c.eng == nil {
		opts := cluster.DefaultOptions()
		opts.Logger = c.a.logger()
		if c.eng, c.err = cluster.Open(ctx, c.st, b.Chain, opts); c.err != nil {
			c.a.logger().Error("cluster: stopped", "err", c.err)
			return
		}
	}
	s, err := c.eng.Update(ctx)
	if err != nil {
		c.err = err
		c.a.logger().Error("cluster: stopped", "err", err)
		return
	}
	c.total.Blocks += s.Blocks
	c.total.Txs += s.Txs
	c.total.Inputs += s.Inputs
	c.total.Elapsed += s.Elapsed
	c.total.Addresses, c.total.Clusters, c.total.Largest, c.total.TipHeight = s.Addresses, s.Clusters, s.Largest, s.TipHeight
}

// finish clusters what is left (everything, for a one-shot ingest) when on
// is set, and returns the statistics for the report.
func (c *ingestClustering) finish(ctx context.Context, on bool, ch heistgraph.Chain) (*clusterStatsJSON, error) {
	if !on {
		return nil, nil
	}
	if c.err != nil {
		return nil, c.err
	}
	if c.eng != nil {
		if err := c.eng.Save(ctx); err != nil {
			return nil, err
		}
	}
	if !c.follow {
		opts := cluster.DefaultOptions()
		opts.Logger = c.a.logger()
		s, err := cluster.Update(ctx, c.st, ch, opts)
		if err != nil {
			return nil, err
		}
		c.total = s
	}
	v := statsJSON(c.total)
	v.Chain = ch
	return &v, nil
}

// clustersJSON is what an answer that depends on clusters (trace, show
// address, cluster show) adds to its JSON: the last block clustered (null
// when the chain was never clustered) and how many blocks the clusters
// are behind the chain, so that a script can tell an answer from
// half-built clusters.
type clustersJSON struct {
	ClustersHeight      *int64 `json:"clusters_height"`
	ClustersBehind      int64  `json:"clusters_behind"`
	ClustersNeedRebuild bool   `json:"clusters_need_rebuild,omitempty"`
}

// clusterFreshness checks how far chain's clusters are behind its blocks
// and, when they are, says so in one warning line on stderr (also with
// --quiet: it qualifies the answer). Read commands do not catch the
// clusters up themselves: they may open the store read-only, and catching
// up a large chain takes as long as "cluster update".
func (a *app) clusterFreshness(ctx context.Context, r store.ChainReader, chain heistgraph.Chain) (clustersJSON, error) {
	var v clustersJSON
	c, ok := r.(store.Clusters)
	if !ok || !chain.IsUTXO() {
		return v, nil
	}
	f, err := cluster.CheckFreshness(ctx, r, c, chain)
	if err != nil {
		return v, err
	}
	if f.Clustered() {
		h := f.Height
		v.ClustersHeight = &h
	}
	v.ClustersBehind, v.ClustersNeedRebuild = f.Behind, f.NeedsRebuild
	if f.Stale() {
		fmt.Fprintf(a.stderr, "heistgraph: warning: %s\n", f)
	}
	return v, nil
}
