package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/txgraph"
)

// clusterFlags are the clustering options the cluster commands take.
type clusterFlags struct {
	chain         string
	change        string
	noCommonInput bool
	window        int64
	minVotes      int
	sweepRoots    int
	// EVM chains (methods.md §7).
	noDepositReuse, noSelfAuth, noFundedBy bool
}

func (f *clusterFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&f.chain, "chain", "", "chain to cluster: a Bitcoin chain or an EVM chain such as eth (default: the Bitcoin chain the store holds)")
	c.Flags().StringVar(&f.change, "change", "default",
		"change heuristics, comma-separated: fresh, round, type, locktime, version, rbf, optimal (veto); none; default; legacy-pair")
	c.Flags().BoolVar(&f.noCommonInput, "no-common-input", false, "turn off common-input ownership (H1)")
	c.Flags().Int64Var(&f.window, "window", 0, fmt.Sprintf("blocks a change candidate waits for its outputs' spenders (default %d)", cluster.DefaultWindow))
	c.Flags().IntVar(&f.minVotes, "min-votes", 0, fmt.Sprintf("votes a change output needs, none against (default %d)", cluster.DefaultMinVotes))
	c.Flags().BoolVar(&f.noDepositReuse, "no-deposit-reuse", false, "EVM chains: turn off deposit-address reuse (methods.md §7.1)")
	c.Flags().BoolVar(&f.noSelfAuth, "no-self-authorization", false, "EVM chains: turn off self-authorization (§7.3)")
	c.Flags().BoolVar(&f.noFundedBy, "no-funded-by", false, "EVM chains: record no funded_by hints (§7.4)")
	c.Flags().IntVar(&f.sweepRoots, "sweep-roots", 0, fmt.Sprintf("G5 extension: drop a change union when its change address is spent with coins of this many other clusters (default %d; -1: off)", cluster.DefaultSweepRoots))
}

func (a *app) clusterOptions(f *clusterFlags) (cluster.Options, error) {
	o := cluster.DefaultOptions()
	o.CommonInput = !f.noCommonInput
	if err := cluster.ParseChangeHeuristics(&o.Change, strings.Split(f.change, ",")); err != nil {
		return o, usageError{fmt.Errorf("--change: %w", err)}
	}
	o.Change.Window, o.Change.MinVotes, o.Guards.SweepRoots = f.window, f.minVotes, f.sweepRoots
	o.Account.DepositReuse, o.Account.SelfAuth, o.Account.FundedBy = !f.noDepositReuse, !f.noSelfAuth, !f.noFundedBy
	o.Logger = a.logger()
	a.clusterSpill(&o)
	if err := o.Validate(); err != nil {
		return o, usageError{err}
	}
	return o, nil
}

// clusterChain is app.ClusterChain for the command cmd.
func clusterChain(cmd *cobra.Command, r store.ChainReader, flag string) (heistgraph.Chain, error) {
	return hgapp.ClusterChain(cmd.Context(), r, flag)
}

func (a *app) clusterCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "cluster",
		Short: "Cluster addresses into entities, show a cluster and why, record analysts' merges and splits",
		Long: `Address clustering (docs/methods.md §3): common-input ownership on every transaction
that is not a CoinJoin, change heuristics each behind a switch, guards against
cluster collapse, and analysts' overrides that survive re-runs and reorgs.

"cluster update" clusters the blocks ingested since its last run (after a reorg
it rewinds to the fork first). Labels on one address reach its whole cluster.

On EVM chains (cluster update --chain eth, docs/methods.md §7): deposit-address
reuse (an address that forwards its credits to a labelled exchange's hot wallet
within 3,200 blocks joins the exchange; the senders of what it forwards are one
user), self-authorization (an ERC-20 approval used by its own spender), and gas
funding recorded as funded_by hints, never merged.`,
	}
	c.AddCommand(a.clusterUpdateCmd(), a.clusterShowCmd(), a.clusterMergeCmd(), a.clusterSplitCmd())
	return c
}

// The views of the cluster commands are package app's; these names keep
// the command's tests readable.
type (
	clusterStatsJSON   = hgapp.ClusterStatsView
	clusterShowJSON    = hgapp.ClusterView
	clusterMembersJSON = hgapp.MembersView
	overrideResultJSON = hgapp.OverrideResultView
	clustersJSON       = hgapp.ClustersView
	clusterLabelJSON   = hgapp.ClusterLabelView
)

func (a *app) printStats(v clusterStatsJSON, what string) error {
	a.logger().Info(what, "chain", v.Chain, "blocks", v.Blocks, "addresses", v.Addresses, "clusters", v.Clusters,
		"seconds", fmt.Sprintf("%.2f", v.Seconds))
	return a.emit(v, func(w io.Writer) error {
		if x := v.Account; x != nil {
			printf(w, "%s %s: %d blocks, %d txs, %d transfers in %.1fs (%.0f transfers/s); tip %d\n",
				what, v.Chain, v.Blocks, v.Txs, x.Transfers, v.Seconds, x.TransfersPerS, v.TipHeight)
			printf(w, "  %d addresses in %d clusters (largest %d); %d deposit addresses, %d deposit-reuse merges, %d shared deposits, %d self-authorization merges, %d funded_by hints\n",
				v.Addresses, v.Clusters, v.Largest, x.Deposits, x.DepositReuse, x.SharedDeposits, x.SelfAuth, x.FundedBy)
			printf(w, "  guards: %d refused, %d held\n", v.Refused, v.Held)
			return nil
		}
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

// Graph modes of clustering (cluster update --graph).
const (
	graphAuto  = "auto"  // read the graph when its file exists, extended first
	graphBuild = "build" // build it first when it does not exist
	graphOff   = "off"   // read the store
)

// clusterGraph returns the transaction graph of ch for clustering, brought
// up to st's tip first (as graph build does), or nil when clustering reads
// the store: mode off, an account chain, no data folder, or mode auto
// and no graph file. The caller closes it.
func (a *app) clusterGraph(ctx context.Context, st store.ChainReader, ch heistgraph.Chain, mode string) (*txgraph.Graph, error) {
	if mode == graphOff || !ch.IsUTXO() || a.graphDir() == "" {
		return nil, nil
	}
	path := txgraph.Path(a.graphDir(), ch)
	if mode == graphAuto {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
	}
	if _, err := txgraph.Update(ctx, st, ch, path); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", ch, err)
	}
	g, err := txgraph.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", ch, err)
	}
	return g, nil
}

func (a *app) clusterUpdateCmd() *cobra.Command {
	var f clusterFlags
	var fromScratch bool
	var graph string
	c := &cobra.Command{
		Use:   "update [--chain C]",
		Short: "Cluster the blocks ingested since the last run",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := a.clusterOptions(&f)
			if err != nil {
				return err
			}
			if graph != graphAuto && graph != graphBuild && graph != graphOff {
				return usageError{fmt.Errorf("--graph %q: want auto, build or off: %w", graph, heistgraph.ErrInvalid)}
			}
			return a.withStore(cmd.Context(), func(st store.Store) error {
				ch, err := clusterChain(cmd, st, f.chain)
				if err != nil {
					return err
				}
				g, err := a.clusterGraph(cmd.Context(), st, ch, graph)
				if err != nil {
					return err
				}
				if g != nil {
					defer g.Close()
					opts.Graph = g
				}
				run := cluster.Update
				if fromScratch {
					run = cluster.Recluster
				}
				s, err := run(cmd.Context(), st, ch, opts)
				if err != nil {
					return err
				}
				if g != nil {
					if err := writeClusterIDs(cmd.Context(), st, a.graphDir(), ch); err != nil {
						return err
					}
				}
				return a.printStats(hgapp.ClusterStatsOf(s), "clustered")
			})
		},
	}
	f.add(c)
	c.Flags().BoolVar(&fromScratch, "from-scratch", false, "cluster every stored block again (overrides kept): after importing labels that heuristics read, such as EVM exchanges' hot wallets")
	c.Flags().StringVar(&graph, "graph", graphAuto, "Bitcoin chains: read the transaction graph (DATA/txgraph/CHAIN.txg, extended to the store's tip first) instead of the store's blocks: auto (when it exists), build (build it when it does not), off; the clusters are the same")
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
					v, err := hgapp.Members(cmd.Context(), st, hgapp.MembersRequest{Chain: ch, Address: addr, Limit: limit, Offset: offset})
					if err != nil {
						return err
					}
					return a.printMembers(v)
				}
				v, err := hgapp.Cluster(cmd.Context(), st, hgapp.ClusterRequest{Chain: ch, Address: addr, Limit: limit, Offset: offset, To: to})
				if err != nil {
					return err
				}
				return a.printExplanation(v)
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

// printClusterHead writes the head of cluster show for people.
func printClusterHead(w io.Writer, v *hgapp.ClusterHead) {
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

// printMembers writes cluster show --members.
func (a *app) printMembers(v hgapp.MembersView) error {
	a.warnClusters(v.ClustersView)
	return a.emit(v, func(w io.Writer) error {
		printClusterHead(w, &v.ClusterHead)
		if len(v.Members) == 0 {
			printf(w, "  members: none at offset %d\n", v.Offset)
			return nil
		}
		printf(w, "  members %d-%d of %d, from the cluster's oldest address outward:\n", v.Offset+1, v.Offset+len(v.Members), v.Size)
		unit := "balance BTC"
		if !v.Chain.IsUTXO() {
			unit = "balance (wei)"
		}
		printf(w, "    %-44s %20s %6s  %s\n", "address", unit, "txs", "labels")
		for _, m := range v.Members {
			var ls []string
			for _, l := range m.Labels {
				ls = append(ls, entityName(l.Entity, l.Category, "-")+" ["+esc(l.Source)+"]")
			}
			if len(ls) == 0 {
				ls = []string{"-"}
			}
			bal := btcCell(m.BalanceSat)
			if m.Balance != "" {
				bal = m.Balance
			}
			printf(w, "    %-44s %20s %6d  %s\n", esc(m.Address), bal, m.TxCount, strings.Join(ls, "; "))
		}
		if v.Next > 0 {
			printf(w, "  (more: --members --offset %d)\n", v.Next)
		}
		return nil
	})
}

// printOverride confirms an analyst's merge or split: what was recorded
// under which override id, and the clusters it left.
func (a *app) printOverride(ch heistgraph.Chain, r cluster.OverrideResult) error {
	o := r.Override
	v := hgapp.OverrideResultOf(ch, r)
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

// printExplanation writes cluster show.
func (a *app) printExplanation(v hgapp.ClusterView) error {
	a.warnClusters(v.ClustersView)
	withPath := v.PathFound != nil
	return a.emit(v, func(w io.Writer) error {
		printClusterHead(w, &v.ClusterHead)
		pr := func(e hgapp.EvidenceView) {
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
			if *v.PathFound {
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

// ingestClustering clusters blocks as `ingest btc --cluster` ingests them:
// once at the end of a one-shot ingest (a file ingest without a
// transaction graph clusters alongside instead: clusterAlongside), after
// every block with --follow (through a cluster.Engine kept open).
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
		c.a.clusterSpill(&opts)
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
		c.a.clusterSpill(&opts)
		g, err := c.a.clusterGraph(ctx, c.st, ch, graphAuto)
		if err != nil {
			return nil, err
		}
		if g != nil {
			defer g.Close()
			opts.Graph = g
		}
		s, err := cluster.Update(ctx, c.st, ch, opts)
		if err != nil {
			return nil, err
		}
		if g != nil {
			if err := writeClusterIDs(ctx, c.st, c.a.graphDir(), ch); err != nil {
				return nil, err
			}
		}
		c.total = s
	}
	v := hgapp.ClusterStatsOf(c.total)
	v.Chain = ch
	return &v, nil
}

// warnClusters says in one warning line on stderr how the clusters an
// answer depends on are stale, if they are (also with --quiet: it
// qualifies the answer).
func (a *app) warnClusters(v hgapp.ClustersView) {
	if v.Warning != "" {
		fmt.Fprintf(a.stderr, "heistgraph: warning: %s\n", v.Warning)
	}
}
