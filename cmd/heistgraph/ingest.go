package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/bitcoin"
	"github.com/heistgraph/heistgraph/ingest"
	"github.com/heistgraph/heistgraph/store"
)

func (a *app) ingestCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "ingest",
		Short: "Load chain data into the store",
	}
	c.AddCommand(a.ingestBTCCmd())
	return c
}

type ingestBTCFlags struct {
	blocks  []string
	network string
}

func (a *app) ingestBTCCmd() *cobra.Command {
	var f ingestBTCFlags
	c := &cobra.Command{
		Use:   "btc --blocks PATH...",
		Short: "Ingest Bitcoin blocks from blk*.dat files, a blocks folder, or files of raw block hex",
		Long: `Ingest Bitcoin blocks into the store, one atomic batch per block.

--blocks takes files and folders. A file's format is detected from its content:
Bitcoin Core blk framing (any known network magic; de-obfuscated with an xor.dat
beside it) or hex text with one raw block per line. A folder means its top-level
blk*.dat files in numeric order, with its xor.dat if present.

Blocks are applied in chain order whatever their order in the files; stale blocks
are skipped; a block whose parent is neither in the files nor in the store is
ingested standalone at the height its BIP34 coinbase states. A rerun skips what is
stored, so an interrupted ingest resumes where it stopped.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(f.blocks) == 0 {
				return usageError{errors.New("ingest btc: give --blocks PATH... (node RPC ingestion: --rpc)")}
			}
			return a.withStore(cmd.Context(), func(st store.Store) error {
				return a.ingestFiles(cmd.Context(), st, f)
			})
		},
	}
	c.Flags().StringSliceVar(&f.blocks, "blocks", nil, "blk*.dat files, Bitcoin Core blocks folders, or files of raw block hex (repeatable)")
	c.Flags().StringVar(&f.network, "network", "", "mainnet|testnet|testnet4|regtest|signet (default: detected from the blk magic; mainnet for hex files)")
	return c
}

type ingestReport struct {
	Chain      heistgraph.Chain `json:"chain"`
	Blocks     int64            `json:"blocks"`
	Txs        int64            `json:"txs"`
	Bytes      int64            `json:"bytes"`
	Stale      int64            `json:"stale_blocks"`
	Skipped    int64            `json:"skipped_blocks"`
	TipHeight  int64            `json:"tip_height"`
	TipHash    heistgraph.Hash  `json:"tip_hash"`
	Seconds    float64          `json:"seconds"`
	BlocksPerS float64          `json:"blocks_per_s"`
	TxsPerS    float64          `json:"txs_per_s"`
	MBPerS     float64          `json:"mb_per_s"`
}

func (a *app) ingestFiles(ctx context.Context, st store.Store, f ingestBTCFlags) error {
	opts := bitcoin.FileOptions{Logger: a.logger()}
	if f.network != "" {
		n, err := heistgraph.NetworkByName(f.network)
		if err != nil {
			return usageError{fmt.Errorf("--network: %w", err)}
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
		return err
	}
	net := src.Network()
	chain.Store(net.Chain)
	prog.start(src.TotalBytes())
	stats, err := ingest.Stream(ctx, st, src, ingest.Options{Logger: a.logger(), Events: ingest.Events{BlockApplied: prog.applied}})
	prog.finish()
	if err != nil {
		return err
	}
	rep := ingestReport{Chain: net.Chain, Blocks: stats.Blocks, Txs: stats.Txs, Bytes: stats.Bytes,
		Stale: src.StaleCount(), Skipped: src.SkippedCount(), Seconds: stats.Elapsed.Seconds()}
	if tip, err := st.Tip(ctx, net.Chain); err == nil {
		rep.TipHeight, rep.TipHash = tip.Height, tip.Hash
	}
	if s := stats.Elapsed.Seconds(); s > 0 {
		rep.BlocksPerS = float64(stats.Blocks) / s
		rep.TxsPerS = float64(stats.Txs) / s
		rep.MBPerS = float64(stats.Bytes) / 1e6 / s
	}
	a.logger().Info("ingest done", "chain", net.Chain, "blocks", rep.Blocks, "txs", rep.Txs, "stale", rep.Stale,
		"skipped", rep.Skipped, "tip", rep.TipHeight, "seconds", fmt.Sprintf("%.2f", rep.Seconds))
	return a.emit(rep, func(w io.Writer) error {
		if a.quiet {
			return nil
		}
		printf(w, "ingested %d blocks, %d txs (%.1f MB) into %s in %.1fs: %.0f blocks/s, %.0f txs/s, %.1f MB/s; tip %d %s\n",
			rep.Blocks, rep.Txs, float64(rep.Bytes)/1e6, rep.Chain, rep.Seconds, rep.BlocksPerS, rep.TxsPerS, rep.MBPerS, rep.TipHeight, rep.TipHash)
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

func (p *progress) applied(b *heistgraph.Block) {
	p.blocks++
	p.txs += int64(len(b.Txs))
	p.height = b.Height
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
