package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/synth"
)

// synthReport is what `synth --json` prints.
type synthReport struct {
	Dir       string   `json:"dir"`
	Chain     string   `json:"chain"`
	Seed      int64    `json:"seed"`
	Scale     string   `json:"scale"`
	Blocks    int64    `json:"blocks"`
	Txs       int64    `json:"txs"`
	Heists    int      `json:"heists"`
	Entities  int      `json:"entities"`
	Addresses int64    `json:"addresses"`
	CoinJoins int64    `json:"coinjoins"`
	Labels    int      `json:"labels"`
	Bytes     int64    `json:"bytes"`
	Files     []string `json:"files"`
	Seconds   float64  `json:"seconds"`
	TxsPerS   float64  `json:"txs_per_s"`
}

func (a *app) synthCmd() *cobra.Command {
	var (
		out    string
		seed   int64
		scale  string
		chain  string
		linked bool
	)
	c := &cobra.Command{
		Use:   "synth --out DIR [--seed N] [--scale small|medium|large] [--chain btc|evm]",
		Short: "Generate a synthetic regtest chain with ground truth (blk*.dat, truth.json, labels.csv)",
		Long: `Generate a synthetic Bitcoin world in real block format.

DIR receives blk00000.dat, blk00001.dat, ... (regtest blocks in Bitcoin Core's
blk-file framing, chained from the regtest genesis), truth.json (the owner of
every address and where each heist's stolen value went) and labels.csv (a few
addresses of each service, importable with labels import --format csv).
Ingest the blocks with: heistgraph ingest btc --blocks DIR --network regtest.

The same --seed and --scale give the same bytes. Scales: small (a few thousand
transactions, about a second), medium (about 100,000), large (a few million,
minutes; streamed to disk with bounded memory).

--chain evm writes an EVM world (chain evm-synth, chain id 424242) instead: the
JSON-RPC answers of its blocks in the files layout (blocks.jsonl, receipts.jsonl,
traces.jsonl, tokens.jsonl, genesis.json), truth.json and labels.csv. Ingest it
with: heistgraph ingest evm --files DIR --chain evm-synth. Exchanges sweep their
customers' deposit addresses into hot wallets, a Uniswap v2 pool swaps WETH and a
stablecoin, a Tornado-like mixer takes 10 and 100 ETH notes, users trade, and the
heists fan out, hop, swap, mix and deposit at exchanges; truth.json says where each
heist's value went, per entity and asset. It also writes, into the same DIR, the
Bitcoin world (btc-regtest) linked to it by THORChain: a router on the EVM chain
takes deposits with swap memos (Deposit events), THORChain's Bitcoin vaults pay
the outbounds (OP_RETURN OUT:<inbound tx hash>, streaming swaps in several
outbounds, a refund back on the EVM chain and one on Bitcoin), and heists bridge ETH and the
stablecoin to Bitcoin and on to its exchanges; blk*.dat, truth-btc.json, its
labels in labels.csv, and in truth.json the cross-chain heists (crosses_chains)
with their destinations on both chains. Ingest the Bitcoin side with: heistgraph
ingest btc --blocks DIR --network regtest. --linked=false leaves it out; the EVM
world's other heists are the same either way.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError{errors.New("synth: give --out DIR")}
			}
			sc, err := synth.ParseScale(scale)
			if err != nil {
				return usageError{err}
			}
			log := a.logger()
			next := int64(0)
			opts := synth.Options{Dir: out, Seed: seed, Scale: sc}
			switch chain {
			case "btc":
			case "evm":
				opts.Unlinked = !linked
				return a.synthEVM(cmd.Context(), opts)
			default:
				return usageError{fmt.Errorf("synth: --chain %q: want btc or evm: %w", chain, heistgraph.ErrInvalid)}
			}
			opts.Events.BlockWritten = func(h, last, txs int64) {
				if h >= next {
					log.Info("synth", "height", h, "of", last, "txs", txs)
					next = h + max(last/10, 1)
				}
			}
			start := time.Now()
			s, err := synth.Generate(cmd.Context(), opts)
			if err != nil {
				return err
			}
			secs := time.Since(start).Seconds()
			r := synthReport{
				Dir: out, Chain: string(heistgraph.ChainBTCRegtest), Seed: seed, Scale: string(sc),
				Blocks: s.Blocks, Txs: s.Txs, Heists: s.Heists, Entities: s.Entities, Addresses: s.Addresses,
				CoinJoins: s.CoinJoins, Labels: s.Labels, Bytes: s.Bytes, Files: s.Files,
				Seconds: secs, TxsPerS: float64(s.Txs) / max(secs, 1e-9),
			}
			return a.emit(r, func(w io.Writer) error {
				printf(w, "wrote %d blocks, %d txs (%d CoinJoins), %d heists, %d entities, %d addresses, %d labels to %s\n",
					r.Blocks, r.Txs, r.CoinJoins, r.Heists, r.Entities, r.Addresses, r.Labels, out)
				printf(w, "%s of blocks in %d files, %.1f s (%.0f txs/s)\n", mib(r.Bytes), len(r.Files)-2, r.Seconds, r.TxsPerS)
				return nil
			})
		},
	}
	f := c.Flags()
	f.StringVar(&out, "out", "", "directory to write the world to (created if missing)")
	f.Int64Var(&seed, "seed", 1, "seed: the same seed and scale give the same bytes")
	f.StringVar(&scale, "scale", string(synth.Small), "small|medium|large")
	f.BoolVar(&linked, "linked", true, "with --chain evm: also write the Bitcoin world linked to it by THORChain (blk*.dat, truth-btc.json)")
	f.StringVar(&chain, "chain", "btc", "btc (a regtest chain in blk files) or evm (an evm-synth chain in the ingest evm --files layout)")
	return c
}

// mib formats a byte count in MiB.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
