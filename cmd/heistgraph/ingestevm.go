package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
	"github.com/heistgraph/heistgraph/ingest"
	"github.com/heistgraph/heistgraph/store"
)

type ingestEVMFlags struct {
	rpc           string
	files         string
	chain         string
	from, to      int64
	fromSet       bool // --from given
	follow        bool
	confirmations int64
	fetchAhead    int
	poll          time.Duration
	rpcRetry      time.Duration
	dump          string
	cluster       bool
}

func (a *app) ingestEVMCmd() *cobra.Command {
	var f ingestEVMFlags
	c := &cobra.Command{
		Use:   "evm --rpc URL --chain NAME [--from N] [--to M] [--follow] [--confirmations N] [--dump DIR] | --files DIR --chain NAME",
		Short: "Ingest an EVM chain from a node's JSON-RPC or from a dump of its answers in files",
		Long: `Ingest an EVM chain into the store, one atomic batch per block: each block's
transactions with their receipts (status, gas used, effective gas price, fee) and
its ledger of value transfers in order: top-level value, internal transfers from
the callTracer (debug_traceBlockByHash), ERC-20 Transfer and WETH logs, fees,
the fee recipient's priority fees, rewards, withdrawals, genesis allocations.
Balances per address and asset follow from the ledger.

--chain names an EVM chain of the registry (eth, bsc, arbitrum, ..., dev for a
geth --dev node, chain id 1337); the node's eth_chainId must be its id, else the
command exits 2 before it writes anything. A node without the debug API is said
so once on stderr and its blocks are ingested without internal transfers, flagged
(show tx: internal_transfers_known false). Each token's symbol and decimals are
read once (eth_call) and stored.

The store resumes after its tip (at --from when it holds nothing of the chain);
--to stops at a height. Blocks are fetched ahead in parallel (--fetch-ahead) and
applied in order up to the node's tip less --confirmations. A reorg (a block whose
parent is not the stored block below it) rewinds the store to the fork exactly and
applies the node's branch. A node that drops is retried with backoff (--rpc-retry);
after an error a rerun resumes exactly where the store stopped. With --follow the
command keeps up until SIGINT or SIGTERM, then prints its summary and exits 0.

--dump DIR also writes every block's answers in the files layout that --files DIR
reads (blocks.jsonl, receipts.jsonl, traces.jsonl, tokens.jsonl); a malformed or
truncated file exits 2 naming the file and line.

A balance is received − sent over the stored blocks: exact when the store holds
every block from 0 (the genesis allocations included); after --from N it is the
net change since N, and an address that sent more than the store saw it receive
shows a deficit, flagged incomplete, never a wrapped-around number.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fl := cmd.Flags()
			switch {
			case (f.rpc == "") == (f.files == ""):
				return usageError{errors.New("ingest evm: give --rpc URL or --files DIR")}
			case f.chain == "":
				return usageError{errors.New("ingest evm: give --chain NAME (eth, bsc, dev, ...)")}
			case f.files != "" && (f.follow || f.dump != "" || fl.Changed("confirmations") || fl.Changed("rpc-retry")):
				return usageError{errors.New("ingest evm: --follow, --confirmations, --rpc-retry and --dump need --rpc URL")}
			case f.follow && fl.Changed("to"):
				return usageError{errors.New("ingest evm: --follow has no last height: leave out --to")}
			case f.from < 0 || fl.Changed("to") && f.to < f.from:
				return usageError{fmt.Errorf("ingest evm: --from %d --to %d: want 0 <= from <= to", f.from, f.to)}
			case f.confirmations < 0:
				return usageError{fmt.Errorf("ingest evm: --confirmations %d: want 0 or more", f.confirmations)}
			case f.fetchAhead < 1 || f.fetchAhead > evm.MaxFetchAhead:
				return usageError{fmt.Errorf("ingest evm: --fetch-ahead %d: want 1..%d", f.fetchAhead, evm.MaxFetchAhead)}
			case f.poll <= 0:
				return usageError{fmt.Errorf("ingest evm: --poll %v: want a positive duration", f.poll)}
			}
			chain, err := heistgraph.ParseChain(f.chain)
			if err != nil || !chain.IsEVM() {
				return usageError{fmt.Errorf("ingest evm: --chain %q is not an EVM chain heistgraph knows (eth, bsc, polygon, arbitrum, dev, ...): %w", f.chain, heistgraph.ErrInvalid)}
			}
			f.fromSet = fl.Changed("from")
			return a.ingestEVM(cmd.Context(), chain, f, fl.Changed("to"))
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.rpc, "rpc", "", "JSON-RPC URL of an EVM node (http://host:port)")
	fl.StringVar(&f.files, "files", "", "a folder of JSON-RPC answers in files (blocks.jsonl, receipts.jsonl, traces.jsonl, tokens.jsonl, genesis.json)")
	fl.StringVar(&f.chain, "chain", "", "the EVM chain: eth, bsc, polygon, arbitrum, ..., dev (geth --dev, chain id 1337)")
	fl.Int64Var(&f.from, "from", 0, "first height when the store holds nothing of the chain")
	fl.Int64Var(&f.to, "to", 0, "last height (default: the tip less --confirmations)")
	fl.BoolVar(&f.follow, "follow", false, "keep following the node's tip (and its reorgs) until interrupted")
	fl.Int64Var(&f.confirmations, "confirmations", 0, "leave the node's newest N blocks out (reorgs shallower than N never reach the store)")
	fl.IntVar(&f.fetchAhead, "fetch-ahead", 8, "blocks fetched at once, ahead of the one applied (1..16)")
	fl.DurationVar(&f.poll, "poll", 2*time.Second, "with --follow, how often the node is asked for new blocks")
	fl.DurationVar(&f.rpcRetry, "rpc-retry", 2*time.Minute, "how long one RPC call is retried while the node is down or slow (0: no retries)")
	fl.StringVar(&f.dump, "dump", "", "also write the node's answers in the files layout into DIR")
	fl.BoolVar(&f.cluster, "cluster", true, "cluster the chain's addresses when the ingest ends (as cluster update --chain does: docs/methods.md §7); --cluster=false skips it")
	return c
}

// accountSource is what ingest evm reads: a node or files.
type accountSource interface {
	heistgraph.AccountSource
	NoDebug() bool
}

// ingestEVM opens the source, checks its chain id, then syncs (or follows)
// it into the store.
func (a *app) ingestEVM(ctx context.Context, chain heistgraph.Chain, f ingestEVMFlags, bounded bool) (err error) {
	params, err := evm.ParamsFor(chain)
	if err != nil {
		return usageError{err}
	}
	var src accountSource
	where := f.files
	if f.rpc != "" {
		opts := evm.RPCOptions{Params: params, Logger: a.logger(), RetryFor: f.rpcRetry}
		if f.rpcRetry == 0 {
			opts.RetryFor = -1
		}
		rs, rerr := evm.NewRPCSource(f.rpc, opts)
		if rerr != nil {
			return usageError{fmt.Errorf("--rpc: %w", rerr)}
		}
		defer rs.Close()
		src, where = rs, rs.URL()
		if f.dump != "" {
			d, derr := evm.NewDumper(f.dump)
			if derr != nil {
				return derr
			}
			src = dumping{Dumping: &evm.Dumping{Src: rs, Dump: d}, rs: rs}
			defer func() {
				if cerr := d.Close(); cerr != nil && err == nil {
					err = fmt.Errorf("--dump %s: %w", f.dump, cerr)
				}
			}()
		}
	} else {
		fs, ferr := evm.OpenFiles(f.files, evm.FileOptions{Params: params})
		if ferr != nil {
			return ferr
		}
		defer fs.Close()
		src = fs
		// A dump need not start at block 0: without --from, a store that
		// holds nothing of the chain starts at the dump's first block.
		if low, _ := fs.Heights(); low > 0 && !f.fromSet {
			f.from = low
		}
	}
	// Ask the source first, so a node that is unreachable or on another
	// chain fails before the store is opened.
	if err := evm.CheckChain(ctx, src, chain); err != nil {
		return err
	}
	return a.withStore(ctx, func(st store.Store) error {
		start := time.Now()
		prog := a.newProgress()
		warned := false
		opts := ingest.AccountOptions{Chain: chain, From: f.from, To: f.to, Bounded: bounded}
		opts.Logger, opts.Confirmations, opts.FetchAhead, opts.PollInterval = a.logger(), f.confirmations, f.fetchAhead, f.poll
		opts.BlockApplied = func(b *heistgraph.AccountBlock) {
			prog.step(b.Height, len(b.Txs))
			if !b.InternalKnown && !warned && src.NoDebug() {
				warned = true
				printf(a.stderr, "warning: %s has no call traces (no debug API, or no traces.jsonl): blocks are ingested without internal transfers and flagged (show tx: internal_transfers_known false)\n", where)
			}
		}
		a.logger().Info("ingest evm", "source", where, "chain", chain, "follow", f.follow,
			"confirmations", f.confirmations, "fetch_ahead", f.fetchAhead)
		var stats ingest.Stats
		if f.follow {
			stats, err = ingest.FollowAccounts(ctx, st, src, opts)
			if errors.Is(err, context.Canceled) && ctx.Err() != nil {
				err = nil // SIGINT or SIGTERM: the normal end of --follow
			}
		} else {
			stats, err = ingest.SyncAccounts(ctx, st, src, opts)
		}
		if err != nil {
			return err
		}
		rep := evmIngestReport{Chain: chain, Blocks: stats.Blocks, Txs: stats.Txs, Transfers: stats.Transfers,
			Tokens: stats.Tokens, Reorgs: stats.Reorgs, Rewound: stats.Rewound, InternalKnown: !src.NoDebug(),
			Seconds: time.Since(start).Seconds()}
		if f.rpc != "" {
			rep.RPC = where
		} else {
			rep.Files = where
		}
		if rep.Cluster, err = a.ingestClusterer(st, false).finish(context.WithoutCancel(ctx), f.cluster, chain); err != nil {
			return err
		}
		rep.Seconds = time.Since(start).Seconds() // fetching, applying and clustering
		return a.reportEVM(context.WithoutCancel(ctx), st, rep)
	})
}

// dumping is evm.Dumping with the node's NoDebug.
type dumping struct {
	*evm.Dumping
	rs *evm.RPCSource
}

func (d dumping) NoDebug() bool { return d.rs.NoDebug() }

type evmIngestReport struct {
	Chain         heistgraph.Chain    `json:"chain"`
	RPC           string              `json:"rpc,omitempty"`
	Files         string              `json:"files,omitempty"`
	Blocks        int64               `json:"blocks"`
	Txs           int64               `json:"txs"`
	Transfers     int64               `json:"transfers"`
	Tokens        int64               `json:"tokens"`
	Reorgs        int64               `json:"reorgs,omitempty"`
	Rewound       int64               `json:"rewound_blocks,omitempty"`
	InternalKnown bool                `json:"internal_transfers_known"`
	TipHeight     int64               `json:"tip_height"`
	TipHash       *heistgraph.EVMHash `json:"tip_hash"`
	Seconds       float64             `json:"seconds"`
	BlocksPerS    float64             `json:"blocks_per_s"`
	TxsPerS       float64             `json:"txs_per_s"`
	TransfersPerS float64             `json:"transfers_per_s"`
	// Cluster is what --cluster clustered.
	Cluster *clusterStatsJSON `json:"cluster,omitempty"`
}

// reportEVM completes rep with the store's tip and the rates, logs it and
// prints it.
func (a *app) reportEVM(ctx context.Context, st store.AccountReader, rep evmIngestReport) error {
	rep.TipHeight = -1
	if tip, err := st.AccountTip(ctx, rep.Chain); err == nil {
		rep.TipHeight, rep.TipHash = tip.Height, &tip.Hash
	}
	if s := rep.Seconds; s > 0 {
		rep.BlocksPerS = float64(rep.Blocks) / s
		rep.TxsPerS = float64(rep.Txs) / s
		rep.TransfersPerS = float64(rep.Transfers) / s
	}
	a.logger().Info("ingest evm done", "chain", rep.Chain, "blocks", rep.Blocks, "txs", rep.Txs, "transfers", rep.Transfers,
		"reorgs", rep.Reorgs, "tip", rep.TipHeight, "seconds", fmt.Sprintf("%.2f", rep.Seconds))
	return a.emit(rep, func(w io.Writer) error {
		printf(w, "ingested %d blocks, %d txs, %d transfers, %d tokens into %s in %.1fs: %.0f blocks/s, %.0f transfers/s; tip %d",
			rep.Blocks, rep.Txs, rep.Transfers, rep.Tokens, rep.Chain, rep.Seconds, rep.BlocksPerS, rep.TransfersPerS, rep.TipHeight)
		if rep.TipHash != nil {
			printf(w, " %s", rep.TipHash)
		}
		printf(w, "\n")
		if rep.Reorgs > 0 {
			printf(w, "%d reorgs: %d blocks rewound\n", rep.Reorgs, rep.Rewound)
		}
		if !rep.InternalKnown {
			printf(w, "internal transfers unknown: the source had no call traces\n")
		}
		if c := rep.Cluster; c != nil && c.Account != nil {
			printf(w, "clustered %d addresses in %d clusters in %.1fs: %d deposit addresses, %d deposit-reuse and %d self-authorization merges\n",
				c.Addresses, c.Clusters, c.Seconds, c.Account.Deposits, c.Account.DepositReuse, c.Account.SelfAuth)
		}
		return nil
	})
}
