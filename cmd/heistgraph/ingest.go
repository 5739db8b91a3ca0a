package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/bitcoin"
	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/ingest"
	"github.com/heistgraph/heistgraph/store"
)

func (a *app) ingestCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "ingest",
		Short: "Load chain data into the store",
	}
	c.AddCommand(a.ingestBTCCmd(), a.ingestEVMCmd())
	return c
}

type ingestBTCFlags struct {
	blocks  []string
	network string

	rpc           string
	rpcUser       string
	rpcPass       string
	rpcRetry      time.Duration
	follow        bool
	confirmations int64
	fetchAhead    int
	poll          time.Duration
	cluster       bool
	bulk          bool
}

func (a *app) ingestBTCCmd() *cobra.Command {
	var f ingestBTCFlags
	c := &cobra.Command{
		Use:   "btc --blocks PATH... | --rpc URL --rpc-user U --rpc-pass P [--follow] [--confirmations N]",
		Short: "Ingest Bitcoin blocks from blk*.dat files, a blocks folder, files of raw block hex, or a node",
		Long: `Ingest Bitcoin blocks into the store, one atomic batch per block.

--blocks takes files and folders. A file's format is detected from its content:
Bitcoin Core blk framing (any known network magic; de-obfuscated with an xor.dat
beside it) or hex text with one raw block per line. A folder means its top-level
blk*.dat files in numeric order, with its xor.dat if present.

Blocks are applied in chain order whatever their order in the files; stale blocks
are skipped; a block whose parent is neither in the files nor in the store is
ingested standalone at the height its BIP34 coinbase states. A rerun skips what is
stored, so an interrupted ingest resumes where it stopped.

--rpc URL reads a Bitcoin Core or btcd node over JSON-RPC (getblockhash, then
getblock HASH 0): the network is read from the node and checked against --network
when given; blocks are fetched ahead in parallel (--fetch-ahead) and applied in
order, from the store's tip to the node's tip less --confirmations. A reorg (a
block whose parent is not the stored block below it, or a stored block the node
no longer has at its height) rewinds the store to the fork exactly and applies the
node's branch. With --follow the command keeps up with new blocks until SIGINT or
SIGTERM, then prints its summary and exits 0. A node that is down or slow is
retried with backoff and a log line (one-shot: for --rpc-retry; --follow: until it
returns). The password may come from $HEISTGRAPH_RPC_PASS instead of --rpc-pass.

The summary's time covers the whole command: reading, applying and clustering.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Paths after --blocks (--blocks a.blk b.dat) are more block
			// paths; --blocks stays repeatable.
			if len(args) > 0 {
				if len(f.blocks) == 0 {
					return usageError{fmt.Errorf("ingest btc: unexpected argument %q: block files follow --blocks (ingest btc --blocks %s): %w", shortText(args[0]), shortText(args[0]), heistgraph.ErrInvalid)}
				}
				f.blocks = append(f.blocks, args...)
			}
			switch {
			case len(f.blocks) > 0 && f.rpc != "":
				return usageError{errors.New("ingest btc: give either --blocks or --rpc, not both")}
			case len(f.blocks) == 0 && f.rpc == "":
				return usageError{errors.New("ingest btc: give --blocks PATH... or --rpc URL")}
			case f.rpc == "" && (f.follow || cmd.Flags().Changed("confirmations") || cmd.Flags().Changed("rpc-user") || cmd.Flags().Changed("rpc-pass")):
				return usageError{errors.New("ingest btc: --follow, --confirmations, --rpc-user and --rpc-pass need --rpc URL")}
			case f.confirmations < 0:
				return usageError{fmt.Errorf("ingest btc: --confirmations %d: want 0 or more", f.confirmations)}
			case f.fetchAhead < 1:
				return usageError{fmt.Errorf("ingest btc: --fetch-ahead %d: want 1 or more", f.fetchAhead)}
			case f.bulk && f.rpc != "":
				return usageError{errors.New("ingest btc: --bulk needs --blocks (a node's blocks are applied block by block)")}
			case f.poll <= 0:
				return usageError{fmt.Errorf("ingest btc: --poll %v: want a positive duration", f.poll)}
			}
			if f.rpc != "" {
				return a.ingestRPC(cmd.Context(), f)
			}
			a.bulkLoad = f.bulk
			return a.withStore(cmd.Context(), func(st store.Store) error {
				return a.ingestFiles(cmd.Context(), st, f)
			})
		},
	}
	c.Flags().StringSliceVar(&f.blocks, "blocks", nil, "blk*.dat files, Bitcoin Core blocks folders, or files of raw block hex (--blocks PATH...; repeatable)")
	c.Flags().StringVar(&f.network, "network", "", "mainnet|testnet|testnet4|regtest|signet (default: detected from the blk magic or read from the node; mainnet for hex files)")
	c.Flags().StringVar(&f.rpc, "rpc", "", "JSON-RPC URL of a Bitcoin Core or btcd node (http://host:port)")
	c.Flags().StringVar(&f.rpcUser, "rpc-user", "", "the node's RPC user")
	c.Flags().StringVar(&f.rpcPass, "rpc-pass", os.Getenv("HEISTGRAPH_RPC_PASS"), "the node's RPC password (default $HEISTGRAPH_RPC_PASS)")
	c.Flags().DurationVar(&f.rpcRetry, "rpc-retry", 30*time.Second, "how long one RPC call is retried while the node is down or slow (0: no retries)")
	c.Flags().BoolVar(&f.follow, "follow", false, "keep following the node's tip (and its reorgs) until interrupted")
	c.Flags().Int64Var(&f.confirmations, "confirmations", 0, "leave the node's newest N blocks out (reorgs shallower than N never reach the store)")
	c.Flags().IntVar(&f.fetchAhead, "fetch-ahead", 8, "blocks fetched from the node at once, ahead of the one applied")
	c.Flags().DurationVar(&f.poll, "poll", 2*time.Second, "with --follow, how often the node is asked for new blocks")
	c.Flags().BoolVar(&f.bulk, "bulk", false, "with --blocks into the embedded store: write large groups of blocks as sorted runs (sstables ingested in one atomic step) instead of batches, for an initial ingest; the store's content is the same, and a killed run resumes by rerunning it")
	c.Flags().BoolVar(&f.cluster, "cluster", true, "cluster the new blocks' addresses as they are ingested (as cluster update does; with --follow, after every block); --cluster=false skips it")
	return c
}

// ingestRPC syncs (or, with --follow, follows) a node into the store.
func (a *app) ingestRPC(ctx context.Context, f ingestBTCFlags) error {
	opts := bitcoin.RPCOptions{User: f.rpcUser, Password: f.rpcPass, Logger: a.logger(), RetryFor: f.rpcRetry}
	if f.rpcRetry == 0 {
		opts.RetryFor = -1
	}
	if f.network != "" {
		n, err := heistgraph.NetworkByName(f.network)
		if err != nil {
			return usageError{fmt.Errorf("--network: %w", err)}
		}
		opts.Network = &n
	}
	src, err := bitcoin.NewRPCSource(f.rpc, opts)
	if err != nil {
		return usageError{fmt.Errorf("--rpc: %w", err)}
	}
	defer src.Close()
	// Ask the node first, so a node that is unreachable or on the wrong
	// network fails before the store is opened.
	net, err := src.Network(ctx)
	if err != nil {
		return err
	}
	return a.withStore(ctx, func(st store.Store) error {
		start := time.Now()
		prog := a.newProgress()
		cl := a.ingestClusterer(st, f.cluster && f.follow)
		var read int64
		sopts := ingest.SyncOptions{
			Logger:        a.logger(),
			Confirmations: f.confirmations,
			FetchAhead:    f.fetchAhead,
			PollInterval:  f.poll,
			Events: ingest.Events{BlockApplied: func(b *heistgraph.Block) {
				read += int64(b.Size)
				prog.read(read)
				prog.applied(b)
				cl.applied(ctx, b)
			}},
		}
		a.logger().Info("ingest from node", "rpc", src.URL(), "network", net.Name, "follow", f.follow,
			"confirmations", f.confirmations, "fetch_ahead", f.fetchAhead)
		var stats ingest.Stats
		if f.follow {
			stats, err = ingest.Follow(ctx, st, src, sopts)
			if errors.Is(err, context.Canceled) && ctx.Err() != nil {
				err = nil // SIGINT or SIGTERM: the normal end of --follow
			}
		} else {
			stats, err = ingest.Sync(ctx, st, src, sopts)
		}
		if err != nil {
			return err
		}
		rep := ingestReport{Chain: net.Chain, RPC: src.URL(), Blocks: stats.Blocks, Txs: stats.Txs, Bytes: stats.Bytes,
			Reorgs: stats.Reorgs, Rewound: stats.Rewound}
		if rep.Cluster, err = cl.finish(context.WithoutCancel(ctx), f.cluster, net.Chain); err != nil {
			return err
		}
		rep.Seconds = time.Since(start).Seconds() // fetching, applying and clustering
		return a.report(context.WithoutCancel(ctx), st, rep)
	})
}

type ingestReport struct {
	Chain     heistgraph.Chain `json:"chain"`
	Blocks    int64            `json:"blocks"`
	Txs       int64            `json:"txs"`
	Bytes     int64            `json:"bytes"`
	Stale     int64            `json:"stale_blocks"`
	Skipped   int64            `json:"skipped_blocks"`
	RPC       string           `json:"rpc,omitempty"`
	Reorgs    int64            `json:"reorgs,omitempty"`
	Rewound   int64            `json:"rewound_blocks,omitempty"`
	TipHeight int64            `json:"tip_height"`
	TipHash   heistgraph.Hash  `json:"tip_hash"`
	// Seconds is the whole command's time: reading, applying and
	// clustering (Cluster.Seconds is the clustering's share).
	Seconds    float64 `json:"seconds"`
	BlocksPerS float64 `json:"blocks_per_s"`
	TxsPerS    float64 `json:"txs_per_s"`
	MBPerS     float64 `json:"mb_per_s"`
	// Cluster is what --cluster clustered.
	Cluster *clusterStatsJSON `json:"cluster,omitempty"`
}

func (a *app) ingestFiles(ctx context.Context, st store.Store, f ingestBTCFlags) error {
	rep, err := a.ingestBlockFiles(ctx, st, f)
	if err != nil {
		return err
	}
	return a.report(ctx, st, rep)
}

// ingestBlockFiles ingests f.blocks (and clusters them as f.cluster says)
// and returns the report, without its tip and rates (report completes it).
func (a *app) ingestBlockFiles(ctx context.Context, st store.Store, f ingestBTCFlags) (ingestReport, error) {
	start := time.Now()
	opts := bitcoin.FileOptions{Logger: a.logger()}
	if f.network != "" {
		n, err := heistgraph.NetworkByName(f.network)
		if err != nil {
			return ingestReport{}, usageError{fmt.Errorf("--network: %w", err)}
		}
		opts.Network = &n
	}
	var chain atomic.Value // heistgraph.Chain, set once the source knows its network
	opts.Known = func(h heistgraph.Hash) (int64, bool) {
		c, _ := chain.Load().(heistgraph.Chain)
		if c == "" {
			return 0, false
		}
		b, err := st.BlockByHash(ctx, c, h)
		if err != nil {
			return 0, false
		}
		return b.Height, true
	}
	prog := a.newProgress()
	opts.Progress = func(b, _ int64) { prog.read(b) }
	src, err := bitcoin.NewFileSource(f.blocks, opts)
	if err != nil {
		return ingestReport{}, err
	}
	net := src.Network()
	chain.Store(net.Chain)
	prog.start(src.TotalBytes())
	iopts := ingest.Options{Logger: a.logger()}
	if err := a.fitIngest(&iopts); err != nil {
		return ingestReport{}, err
	}
	budget, err := a.memoryBudget()
	if err != nil {
		return ingestReport{}, err
	}
	ctx, stopGuard := guardMemory(ctx, budget)
	defer stopGuard()
	ctx, stopFull := context.WithCancelCause(ctx)
	defer stopFull(nil)
	applied := prog.applied
	var cl *clusterAlongside
	if a.clusterWhileIngesting(f.cluster, net.Chain) {
		cl = a.startClustering(ctx, st, net.Chain, budget.Cluster, budget.feedBytes(), stopFull)
		applied = func(b *heistgraph.Block) {
			prog.applied(b)
			cl.applied()
		}
	}
	iopts.Events.BlockApplied = applied
	stats, err := ingest.Stream(ctx, st, src, iopts)
	prog.finish()
	var cv *clusterStatsJSON
	var cerr error
	if cl != nil {
		cv, cerr = cl.finish(err == nil)
	}
	if full := (*cluster.SpillFullError)(nil); err != nil && errors.As(cerr, &full) {
		return ingestReport{}, cerr // the ingest was stopped for it
	}
	if err != nil {
		return ingestReport{}, memoryGuardError(ctx, err)
	}
	if cerr != nil {
		return ingestReport{}, memoryGuardError(ctx, cerr)
	}
	rep := ingestReport{Chain: net.Chain, Blocks: stats.Blocks, Txs: stats.Txs, Bytes: stats.Bytes,
		Stale: src.StaleCount(), Skipped: src.SkippedCount(), Cluster: cv}
	if cl == nil {
		if rep.Cluster, err = a.ingestClusterer(st, false).finish(ctx, f.cluster, net.Chain); err != nil {
			return ingestReport{}, memoryGuardError(ctx, err)
		}
	}
	rep.Seconds = time.Since(start).Seconds() // reading, applying and clustering
	return rep, nil
}

// report completes rep with the store's tip and the rates, logs it and
// prints it.
func (a *app) report(ctx context.Context, st store.ChainReader, rep ingestReport) error {
	if tip, err := st.Tip(ctx, rep.Chain); err == nil {
		rep.TipHeight, rep.TipHash = tip.Height, tip.Hash
	}
	if s := rep.Seconds; s > 0 {
		rep.BlocksPerS = float64(rep.Blocks) / s
		rep.TxsPerS = float64(rep.Txs) / s
		rep.MBPerS = float64(rep.Bytes) / 1e6 / s
	}
	a.logger().Info("ingest done", "chain", rep.Chain, "blocks", rep.Blocks, "txs", rep.Txs, "stale", rep.Stale,
		"skipped", rep.Skipped, "reorgs", rep.Reorgs, "tip", rep.TipHeight, "seconds", fmt.Sprintf("%.2f", rep.Seconds))
	return a.emit(rep, func(w io.Writer) error {
		printf(w, "ingested %d blocks, %d txs (%.1f MB) into %s in %.1fs: %.0f blocks/s, %.0f txs/s, %.1f MB/s; tip %d %s\n",
			rep.Blocks, rep.Txs, float64(rep.Bytes)/1e6, rep.Chain, rep.Seconds, rep.BlocksPerS, rep.TxsPerS, rep.MBPerS, rep.TipHeight, rep.TipHash)
		if rep.Reorgs > 0 {
			printf(w, "%d reorgs: %d blocks rewound\n", rep.Reorgs, rep.Rewound)
		}
		return nil
	})
}

// progress shows a bar on a terminal and periodic log lines otherwise.
type progress struct {
	log      *slog.Logger
	w        io.Writer
	bar      *progressbar.ProgressBar
	quiet    bool
	started  time.Time
	lastLog  time.Time
	readB    atomic.Int64
	blocks   int64
	txs      int64
	height   int64
	lastRead int64
}

func (a *app) newProgress() *progress {
	return &progress{log: a.logger(), w: a.stderr, quiet: a.quiet, started: time.Now(), lastLog: time.Now()}
}

func (p *progress) start(total int64) {
	if p.quiet || !isTerminal(p.w) || total <= 0 {
		return
	}
	p.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription("ingest"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish())
}

// read is the source's callback: bytes read so far.
func (p *progress) read(bytes int64) { p.readB.Store(bytes) }

func (p *progress) applied(b *heistgraph.Block) { p.step(b.Height, len(b.Txs)) }

// step counts one block applied at height with txs transactions.
func (p *progress) step(height int64, txs int) {
	p.blocks++
	p.txs += int64(txs)
	p.height = height
	if p.bar != nil {
		r := p.readB.Load()
		_ = p.bar.Add64(r - p.lastRead)
		p.lastRead = r
		p.bar.Describe(fmt.Sprintf("ingest: %d blocks, %d txs, height %d", p.blocks, p.txs, p.height))
		return
	}
	if now := time.Now(); now.Sub(p.lastLog) >= 5*time.Second {
		p.lastLog = now
		el := now.Sub(p.started).Seconds()
		p.log.Info("ingest progress", "blocks", p.blocks, "txs", p.txs, "height", p.height,
			"mb", fmt.Sprintf("%.1f", float64(p.readB.Load())/1e6),
			"mb_per_s", fmt.Sprintf("%.1f", float64(p.readB.Load())/1e6/el))
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
