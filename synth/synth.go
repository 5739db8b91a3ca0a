package synth

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/heistgraph/heistgraph"
)

// Scale selects the size of a world.
type Scale string

// The three world sizes.
const (
	// Small is a few thousand transactions in about a second, for tests.
	Small Scale = "small"
	// Medium is about 100,000 transactions.
	Medium Scale = "medium"
	// Large is several million transactions, for benchmarks.
	Large Scale = "large"
)

// ParseScale parses "small", "medium" or "large". It returns an error
// wrapping heistgraph.ErrInvalid for anything else.
func ParseScale(s string) (Scale, error) {
	switch sc := Scale(strings.ToLower(strings.TrimSpace(s))); sc {
	case Small, Medium, Large:
		return sc, nil
	}
	return "", fmt.Errorf("synth: unknown scale %q (want small, medium or large): %w", s, heistgraph.ErrInvalid)
}

// Options configures Generate.
type Options struct {
	// Dir is the directory the world is written to; it is created if
	// missing. Files of an earlier world in it are overwritten, and blk
	// files beyond the new world's last are removed.
	Dir string
	// Seed determines the world: the same seed and scale give the same
	// bytes in every file.
	Seed int64
	// Scale is the world's size.
	Scale Scale
	// Events receives progress; nil callbacks are skipped.
	Events Events
	// Unlinked leaves out, in an EVM world, the Bitcoin world linked to
	// it by THORChain (GenerateEVM); the rest of the world is the same
	// either way.
	Unlinked bool
}

// Events are callbacks Generate makes while it runs, on its own goroutine.
type Events struct {
	// BlockWritten is called after each block is written, with its height,
	// the height of the world's last block, and the transactions written
	// so far (coinbases included).
	BlockWritten func(height, last, txs int64)
}

// DefaultOptions returns the defaults: seed 1, small scale, no directory.
func DefaultOptions() Options { return Options{Seed: 1, Scale: Small} }

// Validate reports a missing directory or an unknown scale with an error
// wrapping heistgraph.ErrInvalid.
func (o Options) Validate() error {
	if o.Dir == "" {
		return fmt.Errorf("synth: no output directory: %w", heistgraph.ErrInvalid)
	}
	if _, err := ParseScale(string(o.Scale)); err != nil {
		return err
	}
	return nil
}

// Summary describes a generated world.
type Summary struct {
	Blocks    int64    `json:"blocks"`
	Txs       int64    `json:"txs"` // including coinbases
	Heists    int      `json:"heists"`
	Entities  int      `json:"entities"`
	Addresses int64    `json:"addresses"` // in truth.json
	CoinJoins int64    `json:"coinjoins"`
	Labels    int      `json:"labels"`
	Bytes     int64    `json:"bytes"` // bytes of blk files
	Files     []string `json:"files"` // blk files, truth.json, labels.csv, in dir
}

// File names Generate writes besides the blk files.
const (
	TruthFile  = "truth.json"
	LabelsFile = "labels.csv"
)

// Generate writes a world into opts.Dir: blk00000.dat, ... (regtest
// blocks chained from the regtest genesis, which is implicit and not
// written), truth.json and labels.csv. It streams blocks to disk as it goes
// and keeps only the state the world's actors need (their unspent coins
// and, per address, its owner and type), so memory stays bounded for large
// worlds. It honours ctx between blocks. Errors are I/O errors, or wrap
// heistgraph.ErrInvalid for bad options.
func Generate(ctx context.Context, opts Options) (Summary, error) {
	if err := opts.Validate(); err != nil {
		return Summary{}, err
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return Summary{}, fmt.Errorf("synth: %w", err)
	}
	if _, err := os.Stat(filepath.Join(opts.Dir, "xor.dat")); err == nil {
		return Summary{}, fmt.Errorf("synth: %s holds an xor.dat, which would garble the blocks for readers: %w", opts.Dir, heistgraph.ErrInvalid)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Summary{}, fmt.Errorf("synth: %w", err)
	}
	w := newWorld(opts)
	if err := w.run(ctx); err != nil {
		w.out.abort()
		return Summary{}, err
	}
	if err := w.out.finish(); err != nil {
		return Summary{}, fmt.Errorf("synth: %w", err)
	}
	if err := w.checkHeists(); err != nil {
		return Summary{}, err
	}
	nlabels, err := w.writeLabels(filepath.Join(opts.Dir, LabelsFile))
	if err != nil {
		return Summary{}, err
	}
	if err := w.writeTruth(filepath.Join(opts.Dir, TruthFile)); err != nil {
		return Summary{}, err
	}
	heists := 0
	for _, hs := range w.heists {
		if hs.amount > 0 {
			heists++
		}
	}
	files := append([]string(nil), w.out.files...)
	files = append(files, TruthFile, LabelsFile)
	return Summary{
		Blocks:    int64(w.p.blocks),
		Txs:       w.txs,
		Heists:    heists,
		Entities:  len(w.ents) + 1, // and the genesis owner
		Addresses: int64(w.book.usedCount()) + 1,
		CoinJoins: int64(len(w.coinjoins)),
		Labels:    nlabels,
		Bytes:     w.out.total,
		Files:     files,
	}, nil
}
