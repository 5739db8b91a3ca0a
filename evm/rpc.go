package evm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto/keccak"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
)

// RPCOptions configures an RPCSource. The zero value of a field means its
// default (see DefaultRPCOptions).
type RPCOptions struct {
	// Params are the chain's decoding parameters (ParamsFor); Params.Chain
	// is required.
	Params Params
	// Timeout bounds one round trip (one attempt of one call or batch).
	// Default 60s.
	Timeout time.Duration
	// RetryFor is how long a call keeps being retried while the node is
	// unreachable, overloaded or drops the connection, counted from the
	// first failed attempt. Default 2m; a negative value disables retries.
	RetryFor time.Duration
	// MinBackoff is the wait before the first retry; each further wait
	// doubles, up to MaxBackoff. Defaults 250ms and 15s.
	MinBackoff, MaxBackoff time.Duration
	// MaxConns bounds the HTTP connections kept to the node, which is the
	// most calls in flight at once. Default 16.
	MaxConns int
	// Genesis, when set, gives block 0's allocations, and the node is not
	// asked for them (see RPCSource.Raw).
	Genesis *Genesis
	// OnNoDebug is called once per debug method the node does not serve
	// ("debug_traceBlockByHash", "debug_accountRange"), from whichever
	// goroutine found out. Blocks are then decoded without internal
	// transfers (InternalKnown false) or, for block 0, without genesis
	// allocations. Nil ignores it; RPCSource.NoDebug tells it too.
	OnNoDebug func(method string)
	// Logger receives a warning for each retry; nil discards them.
	Logger *slog.Logger
}

// DefaultRPCOptions returns the defaults documented on RPCOptions.
func DefaultRPCOptions() RPCOptions {
	return RPCOptions{
		Timeout:    60 * time.Second,
		RetryFor:   2 * time.Minute,
		MinBackoff: 250 * time.Millisecond,
		MaxBackoff: 15 * time.Second,
		MaxConns:   16,
	}
}

// Validate checks o and fills in defaults. A missing chain, negative
// durations other than RetryFor, a MinBackoff above MaxBackoff and a
// negative MaxConns wrap heistgraph.ErrInvalid.
func (o *RPCOptions) Validate() error {
	d := DefaultRPCOptions()
	if !o.Params.Chain.IsEVM() {
		return fmt.Errorf("evm: rpc options: chain %q is not an EVM chain of the registry: %w", o.Params.Chain, heistgraph.ErrInvalid)
	}
	if o.Timeout < 0 || o.MinBackoff < 0 || o.MaxBackoff < 0 || o.MaxConns < 0 {
		return fmt.Errorf("evm: rpc options: negative timeout, backoff or connection count: %w", heistgraph.ErrInvalid)
	}
	if o.Timeout == 0 {
		o.Timeout = d.Timeout
	}
	if o.RetryFor == 0 {
		o.RetryFor = d.RetryFor
	}
	if o.MinBackoff == 0 {
		o.MinBackoff = d.MinBackoff
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = max(d.MaxBackoff, o.MinBackoff)
	}
	if o.MinBackoff > o.MaxBackoff {
		return fmt.Errorf("evm: rpc options: min backoff %v above max backoff %v: %w", o.MinBackoff, o.MaxBackoff, heistgraph.ErrInvalid)
	}
	if o.MaxConns == 0 {
		o.MaxConns = d.MaxConns
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// RPCSource reads blocks from an EVM node's JSON-RPC with go-ethereum's rpc
// client. It implements heistgraph.AccountSource and RawSource and is safe
// for concurrent use; concurrent Block calls are how a caller fetches ahead
// (see Range).
//
// A block takes two round trips: eth_getBlockByNumber(N, true), then one
// batch, by the block's hash so that both answers are of the same block,
// of eth_getBlockReceipts and debug_traceBlockByHash with the callTracer.
// A node without eth_getBlockReceipts is asked eth_getTransactionReceipt
// for each transaction instead (batched); a node without the debug API is
// reported once (RPCOptions.OnNoDebug) and its blocks come without internal
// transfers.
//
// Every call carries the caller's context, is bounded by
// RPCOptions.Timeout per attempt, and is retried with exponential backoff
// while the node is unreachable, drops the connection, answers HTTP 5xx or
// 429, for up to RPCOptions.RetryFor. Errors name the method, its
// parameters and the node's URL (without credentials).
type RPCSource struct {
	client *rpc.Client
	shown  string
	opts   RPCOptions

	noTrace    atomic.Bool // debug_traceBlockByHash is not served
	noReceipts atomic.Bool // eth_getBlockReceipts is not served
	mu         sync.Mutex
	told       map[string]bool // debug methods reported missing
	chainID    uint64          // cached eth_chainId, 0 until known
}

// NewRPCSource returns a source for the node at rawURL ("http://host:port"
// or "host:port"; ws:// and a geth IPC path work too). It does not contact
// the node. A URL that does not parse, or bad options, wrap
// heistgraph.ErrInvalid.
func NewRPCSource(rawURL string, opts RPCOptions) (*RPCSource, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	s := strings.TrimSpace(rawURL)
	if s == "" {
		return nil, fmt.Errorf("evm: no rpc url: %w", heistgraph.ErrInvalid)
	}
	if !strings.Contains(s, "://") && !strings.HasSuffix(s, ".ipc") {
		s = "http://" + s
	}
	shown := s
	if u, err := url.Parse(s); err == nil && u.User != nil {
		u.User = nil
		shown = u.String()
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxConnsPerHost = opts.MaxConns
	tr.MaxIdleConnsPerHost = opts.MaxConns
	c, err := rpc.DialOptions(context.Background(), s, rpc.WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		return nil, fmt.Errorf("evm: rpc url %q: %v: %w", shown, err, heistgraph.ErrInvalid)
	}
	return &RPCSource{client: c, shown: shown, opts: opts, told: map[string]bool{}}, nil
}

// URL returns the node's URL without credentials.
func (s *RPCSource) URL() string { return s.shown }

// Close closes the client.
func (s *RPCSource) Close() { s.client.Close() }

// Params returns the source's chain parameters.
func (s *RPCSource) Params() Params { return s.opts.Params }

// NoDebug reports whether the node was found not to serve
// debug_traceBlockByHash, so that blocks come without internal transfers.
func (s *RPCSource) NoDebug() bool { return s.noTrace.Load() }

// ChainID returns the node's chain id (eth_chainId), cached after the
// first success.
func (s *RPCSource) ChainID(ctx context.Context) (uint64, error) {
	s.mu.Lock()
	id := s.chainID
	s.mu.Unlock()
	if id != 0 {
		return id, nil
	}
	var v hexutil.Uint64
	if err := s.call(ctx, &v, "eth_chainId"); err != nil {
		return 0, err
	}
	s.mu.Lock()
	s.chainID = uint64(v)
	s.mu.Unlock()
	return uint64(v), nil
}

// TipHeight returns the number of the node's latest block (eth_blockNumber).
func (s *RPCSource) TipHeight(ctx context.Context) (int64, error) {
	var v hexutil.Uint64
	if err := s.call(ctx, &v, "eth_blockNumber"); err != nil {
		return 0, err
	}
	return int64(v), nil
}

// BlockHash returns the hash of the canonical block at height
// (eth_getBlockByNumber(N, false)). A height the node does not have, or a
// negative one, wraps heistgraph.ErrNotFound.
func (s *RPCSource) BlockHash(ctx context.Context, height int64) (heistgraph.EVMHash, error) {
	if height < 0 {
		return heistgraph.EVMHash{}, fmt.Errorf("evm rpc eth_getBlockByNumber [%d] at %s: negative height: %w", height, s.shown, heistgraph.ErrNotFound)
	}
	var head *struct {
		Hash heistgraph.EVMHash `json:"hash"`
	}
	if err := s.call(ctx, &head, "eth_getBlockByNumber", hexutil.Uint64(height), false); err != nil {
		return heistgraph.EVMHash{}, err
	}
	if head == nil {
		return heistgraph.EVMHash{}, fmt.Errorf("evm rpc eth_getBlockByNumber [%d] at %s: no such block: %w", height, s.shown, heistgraph.ErrNotFound)
	}
	return head.Hash, nil
}

// Block returns the canonical block at height, decoded with Decode and the
// source's Params. A height the node does not have wraps
// heistgraph.ErrNotFound; answers that do not decode are a *DecodeError
// (Source is the node's URL) wrapping heistgraph.ErrInvalid. The block is
// the caller's.
func (s *RPCSource) Block(ctx context.Context, height int64) (*heistgraph.AccountBlock, error) {
	_, b, err := fetchDecode(ctx, s, height, &s.opts.Params, func(de *DecodeError) { de.Source = s.shown })
	return b, err
}

// fetchDecode gets the raw answers for height from src and decodes them;
// place sets where a *DecodeError happened (the node, the file and line).
func fetchDecode(ctx context.Context, src RawSource, height int64, p *Params, place func(*DecodeError)) (*RawBlock, *heistgraph.AccountBlock, error) {
	raw, err := src.Raw(ctx, height)
	if err != nil {
		return nil, nil, err
	}
	b, err := Decode(raw, p)
	if err != nil {
		var de *DecodeError
		if errors.As(err, &de) {
			place(de)
		}
		return nil, nil, err
	}
	return raw, b, nil
}

// blockHead is what Raw reads of a block answer before asking for the rest.
type blockHead struct {
	Number       *hexutil.Uint64    `json:"number"`
	Hash         heistgraph.EVMHash `json:"hash"`
	StateRoot    heistgraph.EVMHash `json:"stateRoot"`
	Transactions []struct {
		Hash heistgraph.EVMHash `json:"hash"`
	} `json:"transactions"`
	Uncles []heistgraph.EVMHash `json:"uncles"`
}

// traceConfig asks debug_trace* for geth's callTracer.
var traceConfig = map[string]any{"tracer": "callTracer"}

// Raw returns the node's answers for the block at height (see RawBlock).
// For block 0 it adds the genesis allocations: RPCOptions.Genesis when set,
// else the state of block 0 read with debug_accountRange (256 accounts a
// call), checked against the block's state root. geth serves that state
// while it has it: always with --gcmode archive, and on a geth --dev node
// (or any node) for the first 128 blocks after it; otherwise the call
// fails and so does Raw, naming the fix. A node without debug_accountRange
// is reported through OnNoDebug and block 0 comes without allocations.
func (s *RPCSource) Raw(ctx context.Context, height int64) (*RawBlock, error) {
	if height < 0 {
		return nil, fmt.Errorf("evm rpc eth_getBlockByNumber [%d] at %s: negative height: %w", height, s.shown, heistgraph.ErrNotFound)
	}
	var block json.RawMessage
	if err := s.call(ctx, &block, "eth_getBlockByNumber", hexutil.Uint64(height), true); err != nil {
		return nil, err
	}
	if isNull(block) {
		return nil, fmt.Errorf("evm rpc eth_getBlockByNumber [%d true] at %s: no such block: %w", height, s.shown, heistgraph.ErrNotFound)
	}
	var head blockHead
	if err := json.Unmarshal(block, &head); err != nil || head.Number == nil || int64(*head.Number) != height {
		return nil, &DecodeError{Source: s.shown, Block: height, Tx: -1, Field: "block",
			Err: fmt.Errorf("not block %d with full transactions: %w", height, ensureInvalid(err))}
	}
	raw := &RawBlock{Height: height, Block: block, Receipts: json.RawMessage("[]"), Traces: json.RawMessage("[]")}
	if len(head.Transactions) > 0 {
		if err := s.receiptsAndTraces(ctx, raw, &head); err != nil {
			return nil, err
		}
	}
	if s.opts.Params.Reward(height) > 0 && len(head.Uncles) > 0 {
		if err := s.uncles(ctx, raw, &head); err != nil {
			return nil, err
		}
	}
	if height == 0 {
		g, err := s.genesis(ctx, &head)
		if err != nil {
			return nil, err
		}
		raw.Genesis = g
	}
	return raw, nil
}

// receiptsAndTraces asks, in one batch by block hash, for the block's
// receipts and call traces.
func (s *RPCSource) receiptsAndTraces(ctx context.Context, raw *RawBlock, head *blockHead) error {
	hash := head.Hash.String()
	var receipts, traces json.RawMessage
	var elems []rpc.BatchElem
	if !s.noReceipts.Load() {
		elems = append(elems, rpc.BatchElem{Method: "eth_getBlockReceipts", Args: []any{hash}, Result: &receipts})
	}
	if !s.noTrace.Load() {
		elems = append(elems, rpc.BatchElem{Method: "debug_traceBlockByHash", Args: []any{hash, traceConfig}, Result: &traces})
	}
	if len(elems) > 0 {
		if err := s.batch(ctx, elems); err != nil {
			return err
		}
	}
	raw.Traces = nil
	got := false
	for _, e := range elems {
		switch {
		case e.Error != nil && isMethodNotFound(e.Error) && e.Method == "eth_getBlockReceipts":
			s.noReceipts.Store(true)
		case e.Error != nil && isMethodNotFound(e.Error):
			s.noTrace.Store(true)
			s.noDebug(e.Method)
		case e.Error != nil:
			return s.callError(e.Method, e.Args, e.Error)
		case isNull(*e.Result.(*json.RawMessage)):
			return fmt.Errorf("evm rpc %s %v at %s: the node no longer has block %d %s (reorganised?): %w",
				e.Method, formatArgs(e.Args), s.shown, raw.Height, hash, heistgraph.ErrNotFound)
		case e.Method == "eth_getBlockReceipts":
			raw.Receipts, got = receipts, true
		default:
			raw.Traces = traces
		}
	}
	if !got {
		r, err := s.txReceipts(ctx, raw.Height, head)
		if err != nil {
			return err
		}
		raw.Receipts = r
	}
	return nil
}

// receiptChunk bounds one batch of eth_getTransactionReceipt calls (geth
// refuses batches above 1,000 items by default).
const receiptChunk = 200

// txReceipts gathers eth_getTransactionReceipt for each transaction into
// the array eth_getBlockReceipts would have answered.
func (s *RPCSource) txReceipts(ctx context.Context, height int64, head *blockHead) (json.RawMessage, error) {
	n := len(head.Transactions)
	out := make([]json.RawMessage, n)
	for lo := 0; lo < n; lo += receiptChunk {
		hi := min(lo+receiptChunk, n)
		elems := make([]rpc.BatchElem, hi-lo)
		for i := range elems {
			elems[i] = rpc.BatchElem{Method: "eth_getTransactionReceipt", Args: []any{head.Transactions[lo+i].Hash.String()}, Result: &out[lo+i]}
		}
		if err := s.batch(ctx, elems); err != nil {
			return nil, err
		}
		for i, e := range elems {
			if e.Error != nil {
				return nil, s.callError(e.Method, e.Args, e.Error)
			}
			if isNull(out[lo+i]) {
				return nil, fmt.Errorf("evm rpc eth_getTransactionReceipt %v at %s: no receipt for a transaction of block %d (reorganised?): %w",
					formatArgs(e.Args), s.shown, height, heistgraph.ErrNotFound)
			}
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("evm: block %d receipts: %w", height, err)
	}
	return b, nil
}

// uncles fetches the block's uncle headers.
func (s *RPCSource) uncles(ctx context.Context, raw *RawBlock, head *blockHead) error {
	raw.Uncles = make([]json.RawMessage, len(head.Uncles))
	elems := make([]rpc.BatchElem, len(head.Uncles))
	for i := range elems {
		elems[i] = rpc.BatchElem{Method: "eth_getUncleByBlockHashAndIndex", Args: []any{head.Hash.String(), hexutil.Uint64(i)}, Result: &raw.Uncles[i]}
	}
	if err := s.batch(ctx, elems); err != nil {
		return err
	}
	for i, e := range elems {
		if e.Error != nil {
			return s.callError(e.Method, e.Args, e.Error)
		}
		if isNull(raw.Uncles[i]) {
			return fmt.Errorf("evm rpc %s %v at %s: no such uncle: %w", e.Method, formatArgs(e.Args), s.shown, heistgraph.ErrNotFound)
		}
	}
	return nil
}

// accountRangeMax is geth's most accounts per debug_accountRange answer.
const accountRangeMax = 256

// genesis reads block 0's allocations (see Raw). Nodes that keep no
// address preimages (geth without --cache.preimages, geth --dev included)
// name accounts by the hash of their address; those are matched against
// the node's own accounts and coinbase and the addresses 0x..01 to
// 0x..01ff (precompiles and system contracts live there), which covers a
// geth --dev genesis. An allocation with a balance that stays unmatched is
// an error naming the remedy.
func (s *RPCSource) genesis(ctx context.Context, head *blockHead) (*Genesis, error) {
	if s.opts.Genesis != nil {
		return s.opts.Genesis, nil
	}
	g := &Genesis{Alloc: map[heistgraph.EVMAddress]uint256.Int{}}
	hashed := map[heistgraph.EVMHash]uint256.Int{} // accounts named by the hash of their address
	var start hexutil.Bytes = []byte{}
	for page := 0; ; page++ {
		var dump struct {
			Root     string `json:"root"`
			Accounts map[string]struct {
				Balance string `json:"balance"`
			} `json:"accounts"`
			Next hexutil.Bytes `json:"next"`
		}
		args := []any{"0x0", start, accountRangeMax, true, true, true}
		err := s.call(ctx, &dump, "debug_accountRange", args...)
		if err != nil && isMethodNotFound(err) {
			s.noDebug("debug_accountRange")
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("evm: genesis allocations of block 0: %w (the node must still hold block 0's state: geth --gcmode archive; or give the allocations as a genesis file)", err)
		}
		if root, err := heistgraph.ParseEVMHash("0x" + strings.TrimPrefix(dump.Root, "0x")); err != nil || root != head.StateRoot {
			return nil, fmt.Errorf("evm rpc debug_accountRange %v at %s: state root %q, not block 0's %s: %w", formatArgs(args), s.shown, short(dump.Root), head.StateRoot, heistgraph.ErrInvalid)
		}
		for k, acc := range dump.Accounts {
			bal, err := parseQuantityOrDecimal(acc.Balance)
			if err != nil {
				return nil, fmt.Errorf("evm rpc debug_accountRange at %s: account %s balance: %w", s.shown, short(k), err)
			}
			if a, err := heistgraph.ParseEVMAddress(k); err == nil {
				g.Alloc[a] = bal
				continue
			}
			h, err := heistgraph.ParseEVMHash(strings.TrimSuffix(strings.TrimPrefix(k, "pre("), ")"))
			if err != nil {
				return nil, fmt.Errorf("evm rpc debug_accountRange at %s: account %q is neither an address nor pre(hash): %w", s.shown, short(k), heistgraph.ErrInvalid)
			}
			if !bal.IsZero() {
				hashed[h] = bal
			}
		}
		if len(dump.Next) == 0 {
			break
		}
		if bytes.Equal(dump.Next, start) {
			return nil, fmt.Errorf("evm rpc debug_accountRange at %s: page %d does not advance: %w", s.shown, page, heistgraph.ErrInvalid)
		}
		start = dump.Next
	}
	if len(hashed) > 0 {
		if err := s.matchHashed(ctx, g, hashed); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// matchHashed finds the addresses of genesis accounts named by the hash of
// their address (see genesis).
func (s *RPCSource) matchHashed(ctx context.Context, g *Genesis, hashed map[heistgraph.EVMHash]uint256.Int) error {
	var candidates []heistgraph.EVMAddress
	var accounts []heistgraph.EVMAddress
	var coinbase heistgraph.EVMAddress
	if err := s.call(ctx, &accounts, "eth_accounts"); err == nil {
		candidates = append(candidates, accounts...)
	}
	if err := s.call(ctx, &coinbase, "eth_coinbase"); err == nil {
		candidates = append(candidates, coinbase)
	}
	for i := 1; i < 0x200; i++ {
		var a heistgraph.EVMAddress
		a[18], a[19] = byte(i>>8), byte(i)
		candidates = append(candidates, a)
	}
	h := keccak.NewLegacyKeccak256()
	for _, a := range candidates {
		h.Reset()
		h.Write(a[:])
		var sum heistgraph.EVMHash
		h.Sum(sum[:0])
		if bal, ok := hashed[sum]; ok {
			g.Alloc[a] = bal
			delete(hashed, sum)
		}
	}
	if len(hashed) > 0 {
		return fmt.Errorf("evm rpc debug_accountRange at %s: %d genesis accounts with a balance are named only by the hash of their address (start geth with --cache.preimages, or give the allocations as a genesis file): %w", s.shown, len(hashed), heistgraph.ErrInvalid)
	}
	return nil
}

// Token reads the token contract's symbol() and decimals() with eth_call
// at the latest block, in one batch. A contract that reverts, has no code
// or answers something that is not an ABI string, a bytes32 or a uint8
// leaves that field unanswered; Known is false when neither was answered.
// Only failures to reach the node are errors.
func (s *RPCSource) Token(ctx context.Context, addr heistgraph.EVMAddress) (heistgraph.TokenInfo, error) {
	var sym, dec hexutil.Bytes
	call := func(selector string) map[string]any {
		return map[string]any{"to": addr.Lower(), "data": selector}
	}
	elems := []rpc.BatchElem{
		{Method: "eth_call", Args: []any{call("0x95d89b41"), "latest"}, Result: &sym},
		{Method: "eth_call", Args: []any{call("0x313ce567"), "latest"}, Result: &dec},
	}
	if err := s.batch(ctx, elems); err != nil {
		return heistgraph.TokenInfo{}, err
	}
	info := heistgraph.TokenInfo{Chain: s.opts.Params.Chain, Address: addr}
	var symOK, decOK bool
	if elems[0].Error == nil {
		info.Symbol, symOK = DecodeSymbol(sym)
	}
	if elems[1].Error == nil {
		info.Decimals, decOK = DecodeDecimals(dec)
	}
	info.Known = symOK || decOK
	return info, nil
}

// noDebug reports a missing debug method once.
func (s *RPCSource) noDebug(method string) {
	s.mu.Lock()
	told := s.told[method]
	s.told[method] = true
	s.mu.Unlock()
	if !told && s.opts.OnNoDebug != nil {
		s.opts.OnNoDebug(method)
	}
}

func isNull(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || string(b) == "null"
}
