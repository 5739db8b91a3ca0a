package evm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/heistgraph/heistgraph"
)

// The files of the files layout (design.md, `ingest evm --files DIR`).
const (
	// BlocksFile holds one eth_getBlockByNumber(N, true) result a line.
	BlocksFile = "blocks.jsonl"
	// ReceiptsFile holds {"block": N, "receipts": [...]} a line.
	ReceiptsFile = "receipts.jsonl"
	// TracesFile holds {"block": N, "traces": callTracer result} a line;
	// optional (without it, or without a block's line, the block has no
	// internal transfers).
	TracesFile = "traces.jsonl"
	// UnclesFile holds {"block": N, "uncles": [header, ...]} a line, for
	// blocks with uncles on chains that pay uncle rewards; optional.
	UnclesFile = "uncles.jsonl"
	// TokensFile holds {"address", "symbol", "decimals"} a line; optional.
	TokensFile = "tokens.jsonl"
	// GenesisFile holds {"alloc": {address: {"balance": quantity}}};
	// optional.
	GenesisFile = "genesis.json"
)

// FileOptions configures a FileSource.
type FileOptions struct {
	// Params are the chain's decoding parameters (ParamsFor); Params.Chain
	// is required.
	Params Params
	// OnNoTraces is called once when a block with transactions has no line
	// in traces.jsonl (or the file is absent): such blocks are decoded
	// without internal transfers (InternalKnown false). Nil ignores it;
	// FileSource.NoDebug tells it too.
	OnNoTraces func()
}

// lineRef places one line of a file.
type lineRef struct {
	off  int64
	n    int // bytes, without the newline
	line int // 1-based
}

// blockRef is a blocks.jsonl line and the block's hash.
type blockRef struct {
	lineRef
	hash heistgraph.EVMHash
	txs  bool // the block has transactions
}

// FileSource reads the files layout of a folder (see the *File constants):
// the same JSON-RPC answers an RPCSource reads from a node, one block a line.
// It implements heistgraph.AccountSource and RawSource and is safe for
// concurrent use.
//
// OpenFiles reads each file once, line by line, to index where each
// block's lines are (about 200 bytes of memory a block: a million blocks
// index in some 200 MB); Block then reads only that block's lines, so no
// file is ever held whole. Lines may come in any order; when a height has several
// lines (a dump taken while following a chain that reorganised), the last
// one counts. Every malformed or truncated line is a *DecodeError naming
// the file and line, wrapping heistgraph.ErrInvalid.
type FileSource struct {
	dir                      string
	opts                     FileOptions
	blocks, receipts, traces *os.File
	uncles                   *os.File
	blockIdx                 map[int64]blockRef
	receiptIdx, traceIdx     map[int64]lineRef
	uncleIdx                 map[int64]lineRef
	low, tip                 int64
	tokens                   map[heistgraph.EVMAddress]heistgraph.TokenInfo
	genesis                  *Genesis

	mu      sync.Mutex
	noTrace bool // a block with transactions had no traces line
}

// OpenFiles opens and indexes the files layout in dir. A folder without
// blocks.jsonl wraps heistgraph.ErrNotFound; malformed lines are a
// *DecodeError wrapping heistgraph.ErrInvalid.
func OpenFiles(dir string, opts FileOptions) (*FileSource, error) {
	if !opts.Params.Chain.IsEVM() {
		return nil, fmt.Errorf("evm: files: chain %q is not an EVM chain of the registry: %w", opts.Params.Chain, heistgraph.ErrInvalid)
	}
	s := &FileSource{dir: dir, opts: opts, low: -1, tip: -1}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	var err error
	if s.blocks, err = os.Open(filepath.Join(dir, BlocksFile)); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("evm: %s: no %s: %w", dir, BlocksFile, heistgraph.ErrNotFound)
		}
		return nil, fmt.Errorf("evm: %w", err)
	}
	if err := s.indexBlocks(); err != nil {
		return nil, err
	}
	if s.receipts, s.receiptIdx, err = openIndexed(dir, ReceiptsFile); err != nil {
		return nil, err
	}
	if s.traces, s.traceIdx, err = openIndexed(dir, TracesFile); err != nil {
		return nil, err
	}
	if s.uncles, s.uncleIdx, err = openIndexed(dir, UnclesFile); err != nil {
		return nil, err
	}
	if err := s.readTokens(); err != nil {
		return nil, err
	}
	if err := s.readGenesis(); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// Close closes the files.
func (s *FileSource) Close() error {
	var errs []error
	for _, f := range []*os.File{s.blocks, s.receipts, s.traces, s.uncles} {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	return errors.Join(errs...)
}

// Heights returns the lowest and highest block heights of blocks.jsonl
// (-1, -1 when it has none). A dump need not start at 0.
func (s *FileSource) Heights() (low, high int64) { return s.low, s.tip }

// NoDebug reports whether a block with transactions was found without
// call traces.
func (s *FileSource) NoDebug() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.noTrace
}

// ChainID returns the registry's chain id for the source's chain: files
// do not state it.
func (s *FileSource) ChainID(context.Context) (uint64, error) {
	info, _ := heistgraph.LookupChain(s.opts.Params.Chain)
	return info.ChainID, nil
}

// TipHeight returns the highest height of blocks.jsonl, or an error
// wrapping heistgraph.ErrNotFound when it has no block.
func (s *FileSource) TipHeight(context.Context) (int64, error) {
	if s.tip < 0 {
		return 0, fmt.Errorf("evm: %s: no blocks: %w", filepath.Join(s.dir, BlocksFile), heistgraph.ErrNotFound)
	}
	return s.tip, nil
}

// BlockHash returns the hash of the block at height, or an error wrapping
// heistgraph.ErrNotFound.
func (s *FileSource) BlockHash(_ context.Context, height int64) (heistgraph.EVMHash, error) {
	r, ok := s.blockIdx[height]
	if !ok {
		return heistgraph.EVMHash{}, fmt.Errorf("evm: %s: no block %d: %w", filepath.Join(s.dir, BlocksFile), height, heistgraph.ErrNotFound)
	}
	return r.hash, nil
}

// Raw returns the block's lines as a RawBlock. A height without a
// blocks.jsonl line wraps heistgraph.ErrNotFound; a block with
// transactions and no receipts.jsonl line is a *DecodeError.
func (s *FileSource) Raw(ctx context.Context, height int64) (*RawBlock, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	br, ok := s.blockIdx[height]
	if !ok {
		return nil, fmt.Errorf("evm: %s: no block %d: %w", filepath.Join(s.dir, BlocksFile), height, heistgraph.ErrNotFound)
	}
	line, err := readLine(s.blocks, br.lineRef)
	if err != nil {
		return nil, s.fileError(BlocksFile, br.line, height, err)
	}
	raw := &RawBlock{Height: height, Block: line, Receipts: json.RawMessage("[]")}
	if r, ok := s.receiptIdx[height]; ok {
		if raw.Receipts, err = s.member(s.receipts, ReceiptsFile, r, height, "receipts"); err != nil {
			return nil, err
		}
	} else if br.txs {
		return nil, &DecodeError{File: ReceiptsFile, Block: height, Tx: -1, Err: fmt.Errorf("no line for block %d: %w", height, heistgraph.ErrInvalid)}
	}
	if r, ok := s.traceIdx[height]; ok {
		if raw.Traces, err = s.member(s.traces, TracesFile, r, height, "traces"); err != nil {
			return nil, err
		}
	} else if br.txs {
		s.mu.Lock()
		first := !s.noTrace
		s.noTrace = true
		s.mu.Unlock()
		if first && s.opts.OnNoTraces != nil {
			s.opts.OnNoTraces()
		}
	} else {
		raw.Traces = json.RawMessage("[]")
	}
	if r, ok := s.uncleIdx[height]; ok {
		var v struct {
			Uncles []json.RawMessage `json:"uncles"`
		}
		b, err := readLine(s.uncles, r)
		if err == nil {
			err = json.Unmarshal(b, &v)
		}
		if err != nil {
			return nil, s.fileError(UnclesFile, r.line, height, err)
		}
		raw.Uncles = v.Uncles
	}
	if height == 0 {
		raw.Genesis = s.genesis
	}
	return raw, nil
}

// Block returns the block at height decoded with Decode (see Raw). A
// decoding error is a *DecodeError naming the file and line.
func (s *FileSource) Block(ctx context.Context, height int64) (*heistgraph.AccountBlock, error) {
	_, b, err := fetchDecode(ctx, s, height, &s.opts.Params, func(de *DecodeError) {
		if de.File != "" {
			return
		}
		de.File, de.Line = BlocksFile, s.blockIdx[height].line
		switch {
		case strings.HasPrefix(de.Field, "receipt"):
			de.File, de.Line = ReceiptsFile, s.receiptIdx[height].line
		case strings.HasPrefix(de.Field, "trace"):
			de.File, de.Line = TracesFile, s.traceIdx[height].line
		case strings.HasPrefix(de.Field, "uncle"):
			de.File, de.Line = UnclesFile, s.uncleIdx[height].line
		}
	})
	return b, err
}

// Params returns the source's chain parameters.
func (s *FileSource) Params() Params { return s.opts.Params }

// Token returns the token's line of tokens.jsonl, or an unknown token
// (Known false) when it has none.
func (s *FileSource) Token(_ context.Context, addr heistgraph.EVMAddress) (heistgraph.TokenInfo, error) {
	if t, ok := s.tokens[addr]; ok {
		return t, nil
	}
	return heistgraph.TokenInfo{Chain: s.opts.Params.Chain, Address: addr}, nil
}

// member reads the line at r and returns its member key (receipts,
// traces).
func (s *FileSource) member(f *os.File, name string, r lineRef, height int64, key string) (json.RawMessage, error) {
	b, err := readLine(f, r)
	if err != nil {
		return nil, s.fileError(name, r.line, height, err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, s.fileError(name, r.line, height, err)
	}
	v, ok := m[key]
	if !ok || isNull(v) {
		return nil, s.fileError(name, r.line, height, fmt.Errorf("no %q", key))
	}
	return v, nil
}

func (s *FileSource) fileError(name string, line int, height int64, err error) error {
	return &DecodeError{File: name, Line: line, Block: height, Tx: -1, Err: ensureInvalid(err)}
}

// indexBlocks reads blocks.jsonl once.
func (s *FileSource) indexBlocks() error {
	s.blockIdx = map[int64]blockRef{}
	return eachLine(s.blocks, BlocksFile, func(r lineRef, b []byte) error {
		var head struct {
			Number *hexutil.Uint64     `json:"number"`
			Hash   *heistgraph.EVMHash `json:"hash"`
			Txs    json.RawMessage     `json:"transactions"`
		}
		if err := json.Unmarshal(b, &head); err != nil {
			return err
		}
		if head.Number == nil || head.Hash == nil {
			return errors.New("not a block: no number or hash")
		}
		h := int64(*head.Number)
		if h < 0 {
			return errors.New("block number above 2^63")
		}
		s.blockIdx[h] = blockRef{lineRef: r, hash: *head.Hash, txs: hasElements(head.Txs)}
		if s.low < 0 || h < s.low {
			s.low = h
		}
		s.tip = max(s.tip, h)
		return nil
	})
}

// openIndexed opens an optional {"block": N, ...} file and indexes it.
func openIndexed(dir, name string) (*os.File, map[int64]lineRef, error) {
	idx := map[int64]lineRef{}
	f, err := os.Open(filepath.Join(dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, idx, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("evm: %w", err)
	}
	err = eachLine(f, name, func(r lineRef, b []byte) error {
		var v struct {
			Block *int64 `json:"block"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		if v.Block == nil || *v.Block < 0 {
			return errors.New(`no "block" number`)
		}
		idx[*v.Block] = r
		return nil
	})
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, idx, nil
}

// readTokens reads tokens.jsonl when there is one.
func (s *FileSource) readTokens() error {
	s.tokens = map[heistgraph.EVMAddress]heistgraph.TokenInfo{}
	f, err := os.Open(filepath.Join(s.dir, TokensFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("evm: %w", err)
	}
	defer f.Close()
	return eachLine(f, TokensFile, func(_ lineRef, b []byte) error {
		t, err := ParseTokenLine(b)
		if err != nil {
			return err
		}
		t.Chain = s.opts.Params.Chain
		s.tokens[t.Address] = t
		return nil
	})
}

// tokenLine is a tokens.jsonl line.
type tokenLine struct {
	Address  *heistgraph.EVMAddress `json:"address"`
	Symbol   string                 `json:"symbol"`
	Decimals *uint8                 `json:"decimals"`
}

// ParseTokenLine parses a tokens.jsonl line: {"address", "symbol",
// "decimals"}, all present. The token is Known. Anything else wraps
// heistgraph.ErrInvalid.
func ParseTokenLine(b []byte) (heistgraph.TokenInfo, error) {
	var v tokenLine
	if err := json.Unmarshal(b, &v); err != nil {
		return heistgraph.TokenInfo{}, ensureInvalid(err)
	}
	if v.Address == nil || v.Decimals == nil {
		return heistgraph.TokenInfo{}, fmt.Errorf("want address, symbol and decimals: %w", heistgraph.ErrInvalid)
	}
	return heistgraph.TokenInfo{Address: *v.Address, Symbol: v.Symbol, Decimals: *v.Decimals, Known: true}, nil
}

// readGenesis reads genesis.json when there is one.
func (s *FileSource) readGenesis() error {
	b, err := os.ReadFile(filepath.Join(s.dir, GenesisFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("evm: %w", err)
	}
	var g Genesis
	if err := json.Unmarshal(b, &g); err != nil {
		return &DecodeError{File: GenesisFile, Block: -1, Tx: -1, Err: ensureInvalid(err)}
	}
	s.genesis = &g
	return nil
}

// eachLine calls fn for each non-empty line of f with where it is. A line
// fn refuses, and a final line cut short, are a *DecodeError naming the
// file and line.
func eachLine(f *os.File, name string, fn func(lineRef, []byte) error) error {
	r := bufio.NewReaderSize(f, 1<<20)
	var (
		off  int64
		line int
		buf  []byte
	)
	for {
		buf = buf[:0]
		var err error
		for {
			var chunk []byte
			chunk, err = r.ReadSlice('\n')
			buf = append(buf, chunk...)
			if err != bufio.ErrBufferFull {
				break
			}
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("evm: %s: %w", name, err)
		}
		if len(buf) == 0 && err == io.EOF {
			return nil
		}
		line++
		n := len(buf)
		body := buf
		if body[len(body)-1] == '\n' {
			body = body[:len(body)-1]
		}
		if len(strings.TrimSpace(string(body))) > 0 {
			if ferr := fn(lineRef{off: off, n: len(body), line: line}, body); ferr != nil {
				if err == io.EOF {
					ferr = fmt.Errorf("%w (the last line, without a newline: the file may be cut short)", ferr)
				}
				return &DecodeError{File: name, Line: line, Block: -1, Tx: -1, Err: ensureInvalid(ferr)}
			}
		}
		off += int64(n)
		if err == io.EOF {
			return nil
		}
	}
}

// readLine reads the line at r.
func readLine(f *os.File, r lineRef) ([]byte, error) {
	b := make([]byte, r.n)
	if _, err := f.ReadAt(b, r.off); err != nil {
		return nil, err
	}
	return b, nil
}

// hasElements reports whether a JSON array has elements.
func hasElements(a json.RawMessage) bool {
	a = bytes.TrimSpace(a)
	return len(a) > 2 && a[0] == '[' && len(bytes.TrimSpace(a[1:len(a)-1])) > 0
}
