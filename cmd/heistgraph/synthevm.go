package main

import (
	"context"
	"io"
	"time"

	"github.com/heistgraph/heistgraph/synth"
)

// synthEVM is `synth --chain evm`: an EVM world in the files layout.
func (a *app) synthEVM(ctx context.Context, opts synth.Options) error {
	log := a.logger()
	next := int64(0)
	opts.Events.BlockWritten = func(h, last, txs int64) {
		if h >= next {
			log.Info("synth", "chain", synth.EVMChain, "height", h, "of", last, "txs", txs)
			next = h + max(last/10, 1)
		}
	}
	start := time.Now()
	s, err := synth.GenerateEVM(ctx, opts)
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	r := synthReport{Dir: opts.Dir, Chain: string(s.Chain), Seed: opts.Seed, Scale: string(opts.Scale), Blocks: s.Blocks, Txs: s.Txs,
		Heists: s.Heists, Entities: s.Entities, Addresses: int64(s.Addresses), Labels: s.Labels, Bytes: s.Bytes, Files: s.Files,
		Seconds: secs, TxsPerS: float64(s.Txs) / max(secs, 1e-9)}
	return a.emit(r, func(w io.Writer) error {
		printf(w, "wrote %d blocks of %s, %d txs, %d heists, %d entities, %d addresses, %d labels to %s\n",
			r.Blocks, r.Chain, r.Txs, r.Heists, r.Entities, r.Addresses, r.Labels, opts.Dir)
		printf(w, "%s in %d files, %.1f s (%.0f txs/s); ingest with: heistgraph ingest evm --files %s --chain %s\n",
			mib(r.Bytes), len(r.Files), r.Seconds, r.TxsPerS, opts.Dir, r.Chain)
		if l := s.Linked; l != nil {
			printf(w, "linked Bitcoin world: %d blocks, %d txs, %d heists of its own; ingest with: heistgraph ingest btc --blocks %s --network regtest\n",
				l.Blocks, l.Txs, l.Heists, opts.Dir)
		}
		return nil
	})
}
