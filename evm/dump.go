package evm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/heistgraph/heistgraph"
)

// Dumper writes blocks' raw answers in the files layout FileSource reads
// (`ingest evm --rpc URL --dump DIR`). Files are opened for appending, so a
// dump can be resumed; a height written twice (a reorganised block) is read
// back as its last line. It is safe for concurrent use; lines of one block
// are written together.
type Dumper struct {
	dir string

	mu                               sync.Mutex
	blocks, receipts, traces, uncles *dumpFile
	tokens                           *dumpFile
	seenTokens                       map[heistgraph.EVMAddress]bool
}

// dumpFile is one appended file with its buffer.
type dumpFile struct {
	f *os.File
	w *bufio.Writer
}

// NewDumper creates dir if needed and opens the layout's files in it for
// appending.
func NewDumper(dir string) (*Dumper, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("evm: dump: %w", err)
	}
	d := &Dumper{dir: dir, seenTokens: map[heistgraph.EVMAddress]bool{}}
	for _, p := range []struct {
		f    **dumpFile
		name string
	}{{&d.blocks, BlocksFile}, {&d.receipts, ReceiptsFile}, {&d.traces, TracesFile}, {&d.uncles, UnclesFile}, {&d.tokens, TokensFile}} {
		f, err := os.OpenFile(filepath.Join(dir, p.name), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("evm: dump: %w", err)
		}
		*p.f = &dumpFile{f: f, w: bufio.NewWriterSize(f, 1<<20)}
	}
	return d, nil
}

// WriteBlock appends raw's answers: its block line, its receipts line, its
// traces line when raw has traces, its uncles line when it has uncles, and
// for block 0 with genesis allocations, genesis.json (written whole, then
// renamed into place). Answers are compacted to one line each.
func (d *Dumper) WriteBlock(raw *RawBlock) error {
	var block, receipts, traces, uncles bytes.Buffer
	if err := json.Compact(&block, raw.Block); err != nil {
		return fmt.Errorf("evm: dump block %d: %w", raw.Height, ensureInvalid(err))
	}
	h := strconv.FormatInt(raw.Height, 10)
	if err := member(&receipts, h, "receipts", raw.Receipts); err != nil {
		return fmt.Errorf("evm: dump block %d receipts: %w", raw.Height, err)
	}
	if raw.Traces != nil {
		if err := member(&traces, h, "traces", raw.Traces); err != nil {
			return fmt.Errorf("evm: dump block %d traces: %w", raw.Height, err)
		}
	}
	if len(raw.Uncles) > 0 {
		u, err := json.Marshal(raw.Uncles)
		if err == nil {
			err = member(&uncles, h, "uncles", u)
		}
		if err != nil {
			return fmt.Errorf("evm: dump block %d uncles: %w", raw.Height, err)
		}
	}
	if raw.Genesis != nil {
		if err := d.writeGenesis(raw.Genesis); err != nil {
			return err
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, l := range []struct {
		f *dumpFile
		b *bytes.Buffer
	}{{d.blocks, &block}, {d.receipts, &receipts}, {d.traces, &traces}, {d.uncles, &uncles}} {
		if l.b.Len() == 0 {
			continue
		}
		l.b.WriteByte('\n')
		if _, err := l.f.w.Write(l.b.Bytes()); err != nil {
			return fmt.Errorf("evm: dump block %d: %w", raw.Height, err)
		}
	}
	return nil
}

// WriteToken appends a known token's line to tokens.jsonl, once per
// address. Unknown tokens (Known false) are not written: read back they
// are unknown again.
func (d *Dumper) WriteToken(t heistgraph.TokenInfo) error {
	if !t.Known {
		return nil
	}
	b, err := json.Marshal(tokenLine{Address: &t.Address, Symbol: t.Symbol, Decimals: &t.Decimals})
	if err != nil {
		return fmt.Errorf("evm: dump token %s: %w", t.Address, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seenTokens[t.Address] {
		return nil
	}
	d.seenTokens[t.Address] = true
	if _, err := d.tokens.w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("evm: dump token %s: %w", t.Address, err)
	}
	return nil
}

// writeGenesis writes genesis.json atomically.
func (d *Dumper) writeGenesis(g *Genesis) error {
	b, err := json.Marshal(g)
	if err != nil {
		return fmt.Errorf("evm: dump genesis: %w", err)
	}
	path := filepath.Join(d.dir, GenesisFile)
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("evm: dump genesis: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("evm: dump genesis: %w", err)
	}
	return nil
}

// Sync flushes the buffers and syncs the files to disk: what was written
// before Sync returns nil is durable.
func (d *Dumper) Sync() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	for _, f := range d.files() {
		if err := f.w.Flush(); err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, f.f.Sync())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("evm: dump %s: %w", d.dir, err)
	}
	return nil
}

// Close syncs and closes the files.
func (d *Dumper) Close() error {
	err := d.Sync()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, f := range d.files() {
		if cerr := f.f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("evm: dump %s: %w", d.dir, cerr)
		}
	}
	return err
}

func (d *Dumper) files() []*dumpFile {
	var out []*dumpFile
	for _, f := range []*dumpFile{d.blocks, d.receipts, d.traces, d.uncles, d.tokens} {
		if f != nil {
			out = append(out, f)
		}
	}
	return out
}

// member writes {"block": h, "key": v} with v compacted.
func member(w *bytes.Buffer, h, key string, v json.RawMessage) error {
	w.WriteString(`{"block":` + h + `,"` + key + `":`)
	if err := json.Compact(w, v); err != nil {
		return ensureInvalid(err)
	}
	w.WriteByte('}')
	return nil
}

// Dumping is an AccountSource that writes each block's raw answers (and
// each token read) to a Dumper as it hands the block on: `ingest evm --rpc
// URL --dump DIR`. Blocks are written in the order they are fetched, into
// the Dumper's buffers: call Dump.Sync before telling anyone a block is
// dumped (or before a checkpoint that counts on it).
type Dumping struct {
	Src interface {
		heistgraph.AccountSource
		RawSource
		Params() Params
	}
	Dump *Dumper
}

// ChainID returns the source's chain id.
func (d *Dumping) ChainID(ctx context.Context) (uint64, error) { return d.Src.ChainID(ctx) }

// TipHeight returns the source's tip.
func (d *Dumping) TipHeight(ctx context.Context) (int64, error) { return d.Src.TipHeight(ctx) }

// BlockHash returns the source's block hash at height.
func (d *Dumping) BlockHash(ctx context.Context, height int64) (heistgraph.EVMHash, error) {
	return d.Src.BlockHash(ctx, height)
}

// Block fetches the block's raw answers, writes them, and returns them
// decoded. A block that does not decode is not written.
func (d *Dumping) Block(ctx context.Context, height int64) (*heistgraph.AccountBlock, error) {
	p := d.Src.Params()
	raw, b, err := fetchDecode(ctx, d.Src, height, &p, func(*DecodeError) {})
	if err != nil {
		return nil, err
	}
	if err := d.Dump.WriteBlock(raw); err != nil {
		return nil, err
	}
	return b, nil
}

// Token reads the token from the source and writes it.
func (d *Dumping) Token(ctx context.Context, addr heistgraph.EVMAddress) (heistgraph.TokenInfo, error) {
	t, err := d.Src.Token(ctx, addr)
	if err != nil {
		return t, err
	}
	return t, d.Dump.WriteToken(t)
}
