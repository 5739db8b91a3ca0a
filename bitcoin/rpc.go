package bitcoin

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heistgraph/heistgraph"
)

// RPCOptions configures an RPCSource. The zero value of a field means its
// default (see DefaultRPCOptions).
type RPCOptions struct {
	// User and Password are the node's RPC credentials (HTTP basic auth:
	// Bitcoin Core's rpcuser/rpcpassword or btcd's rpcuser/rpcpass). When
	// empty, credentials in the URL's user info are used.
	User, Password string
	// Network, when set, is the network the node must serve: Network
	// fails with an error wrapping heistgraph.ErrInvalid if the node serves
	// another. When nil, the node's network is taken as it is.
	Network *heistgraph.Network
	// Timeout bounds one HTTP round trip (one attempt of one call).
	// Default 60s.
	Timeout time.Duration
	// RetryFor is how long a call keeps being retried while the node is
	// unreachable, overloaded or too slow, counted from the first failed
	// attempt. Default 2m; a negative value disables retries.
	RetryFor time.Duration
	// MinBackoff is the wait before the first retry; each further wait
	// doubles, up to MaxBackoff. Defaults 250ms and 15s.
	MinBackoff, MaxBackoff time.Duration
	// MaxConns bounds the HTTP connections kept to the node, which is the
	// most calls in flight at once. Default 16. Bitcoin Core serves
	// rpcthreads (4) calls at a time and queues rpcworkqueue (16) more;
	// btcd takes rpcmaxclients (10) at a time.
	MaxConns int
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

// Validate checks o and fills in defaults. Negative durations other than
// RetryFor, a MinBackoff above MaxBackoff and a negative MaxConns wrap
// heistgraph.ErrInvalid.
func (o *RPCOptions) Validate() error {
	d := DefaultRPCOptions()
	if o.Timeout < 0 || o.MinBackoff < 0 || o.MaxBackoff < 0 || o.MaxConns < 0 {
		return fmt.Errorf("bitcoin: rpc options: negative timeout, backoff or connection count: %w", heistgraph.ErrInvalid)
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
		return fmt.Errorf("bitcoin: rpc options: min backoff %v above max backoff %v: %w", o.MinBackoff, o.MaxBackoff, heistgraph.ErrInvalid)
	}
	if o.MaxConns == 0 {
		o.MaxConns = d.MaxConns
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// RPCSource reads blocks from a Bitcoin Core or btcd node over the JSON-RPC
// interface both serve: getblockchaininfo for the network, getblockcount,
// getblockhash, and getblock HASH 0 for the raw block, which DecodeBlock
// decodes. It implements heistgraph.BlockSource and is safe for concurrent
// use; concurrent Block calls are how a caller fetches ahead.
//
// Every call carries the caller's context, is bounded by RPCOptions.Timeout
// per attempt, and is retried with exponential backoff (and a warning on the
// logger) while the node is unreachable, answers 5xx without a JSON-RPC
// error, says it is warming up, or times out, for up to RPCOptions.RetryFor.
// Errors name the method, its parameters and the node's URL (without
// credentials).
type RPCSource struct {
	url    string // as requested, without user info
	shown  string // for messages
	user   string
	pass   string
	opts   RPCOptions
	client *http.Client
	id     atomic.Uint64

	mu  sync.Mutex
	net *heistgraph.Network // cached once Network succeeded
}

// NewRPCSource returns a source for the node at rawURL ("http://host:port",
// or "host:port", which means http). It does not contact the node. A URL
// that does not parse, or bad options, wrap heistgraph.ErrInvalid.
func NewRPCSource(rawURL string, opts RPCOptions) (*RPCSource, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	s := strings.TrimSpace(rawURL)
	if s == "" {
		return nil, fmt.Errorf("bitcoin: no rpc url: %w", heistgraph.ErrInvalid)
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("bitcoin: rpc url %q: want http://host:port: %w", redactURL(rawURL), heistgraph.ErrInvalid)
	}
	user, pass := opts.User, opts.Password
	if u.User != nil {
		if user == "" {
			user = u.User.Username()
		}
		if p, ok := u.User.Password(); ok && pass == "" {
			pass = p
		}
		u.User = nil
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxConnsPerHost = opts.MaxConns
	tr.MaxIdleConnsPerHost = opts.MaxConns
	tr.ResponseHeaderTimeout = 0 // the per-attempt context bounds it
	return &RPCSource{
		url:    u.String(),
		shown:  u.String(),
		user:   user,
		pass:   pass,
		opts:   opts,
		client: &http.Client{Transport: tr},
	}, nil
}

// URL returns the node's URL without credentials.
func (s *RPCSource) URL() string { return s.shown }

// Close releases idle connections to the node.
func (s *RPCSource) Close() { s.client.CloseIdleConnections() }

// Network returns the network the node serves, read from getblockchaininfo
// ("main", "test", "testnet4", "regtest", "signet", and btcd's "mainnet",
// "testnet3") and checked against the node's genesis block. A network this
// package does not know, a genesis hash that is not that network's, or a
// network other than RPCOptions.Network wraps heistgraph.ErrInvalid. The
// answer is cached after the first success.
func (s *RPCSource) Network(ctx context.Context) (heistgraph.Network, error) {
	s.mu.Lock()
	if s.net != nil {
		n := *s.net
		s.mu.Unlock()
		return n, nil
	}
	s.mu.Unlock()
	var info struct {
		Chain string `json:"chain"`
	}
	if err := s.call(ctx, "getblockchaininfo", nil, &info); err != nil {
		return heistgraph.Network{}, err
	}
	net, err := networkOfChain(info.Chain)
	if err != nil {
		return heistgraph.Network{}, fmt.Errorf("bitcoin: node at %s: %w", s.shown, err)
	}
	if want := s.opts.Network; want != nil && want.Chain != net.Chain {
		return heistgraph.Network{}, fmt.Errorf("bitcoin: node at %s serves %s, not %s: %w", s.shown, net.Name, want.Name, heistgraph.ErrInvalid)
	}
	genesis, err := s.BlockHash(ctx, 0)
	if err != nil {
		return heistgraph.Network{}, err
	}
	if want, err := GenesisHash(net); err != nil {
		return heistgraph.Network{}, err
	} else if genesis != want {
		return heistgraph.Network{}, fmt.Errorf("bitcoin: node at %s says %s but its genesis block is %s, not %s: %w", s.shown, net.Name, genesis, want, heistgraph.ErrInvalid)
	}
	s.mu.Lock()
	s.net = &net
	s.mu.Unlock()
	return net, nil
}

// networkOfChain maps getblockchaininfo's chain to a network: Bitcoin
// Core's names (main, test, testnet4, regtest, signet) and btcd's (its
// chaincfg names: mainnet, testnet3, testnet4, regtest, signet).
func networkOfChain(chain string) (heistgraph.Network, error) {
	switch chain {
	case "main":
		return heistgraph.Mainnet, nil
	case "test":
		return heistgraph.Testnet, nil
	}
	n, err := heistgraph.NetworkByName(chain)
	if err != nil {
		return heistgraph.Network{}, fmt.Errorf("unknown chain %q in getblockchaininfo: %w", chain, heistgraph.ErrInvalid)
	}
	return n, nil
}

// TipHeight returns the height of the node's best block (getblockcount).
func (s *RPCSource) TipHeight(ctx context.Context) (int64, error) {
	var n int64
	if err := s.call(ctx, "getblockcount", nil, &n); err != nil {
		return 0, err
	}
	return n, nil
}

// BlockHash returns the hash of the node's best-chain block at height
// (getblockhash). A height above the node's tip, or negative, wraps
// heistgraph.ErrNotFound.
func (s *RPCSource) BlockHash(ctx context.Context, height int64) (heistgraph.Hash, error) {
	if height < 0 {
		return heistgraph.Hash{}, fmt.Errorf("bitcoin rpc getblockhash [%d] at %s: negative height: %w", height, s.shown, heistgraph.ErrNotFound)
	}
	var str string
	if err := s.call(ctx, "getblockhash", []any{height}, &str); err != nil {
		return heistgraph.Hash{}, err
	}
	h, err := heistgraph.ParseHash(str)
	if err != nil {
		return heistgraph.Hash{}, fmt.Errorf("bitcoin rpc getblockhash [%d] at %s: bad hash in answer: %w", height, s.shown, err)
	}
	return h, nil
}

// Block returns the block hash at height, fetched raw (getblock HASH 0)
// and decoded with DecodeBlock for the node's network; height is recorded
// on the block as given. A hash the node does not know wraps
// heistgraph.ErrNotFound; bytes that do not decode, or decode to another
// block, are a *DecodeError (File is the node's URL) wrapping
// heistgraph.ErrInvalid. The block is the caller's.
func (s *RPCSource) Block(ctx context.Context, hash heistgraph.Hash, height int64) (*heistgraph.Block, error) {
	net, err := s.Network(ctx)
	if err != nil {
		return nil, err
	}
	var raw rawHex
	if err := s.call(ctx, "getblock", []any{hash.String(), 0}, &raw); err != nil {
		return nil, err
	}
	b, err := DecodeBlock(raw, net)
	if err != nil {
		var de *DecodeError
		if errors.As(err, &de) {
			de.File, de.Height = s.shown, height
			if de.Hash == "" {
				de.Hash = hash.String()
			}
		}
		return nil, fmt.Errorf("bitcoin rpc getblock [%s 0]: %w", hash, err)
	}
	if b.Hash != hash {
		return nil, fmt.Errorf("bitcoin rpc getblock [%s 0]: %w", hash, &DecodeError{File: s.shown, Height: height, Hash: hash.String(),
			Err: fmt.Errorf("node answered with block %s: %w", b.Hash, heistgraph.ErrInvalid)})
	}
	b.Height = height
	return b, nil
}

// rawHex decodes a JSON string of hex digits (getblock's verbosity 0
// answer) straight into bytes.
type rawHex []byte

func (r *rawHex) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("want a hex string, got %.20q: %w", b, heistgraph.ErrInvalid)
	}
	b = b[1 : len(b)-1]
	out := make([]byte, hex.DecodedLen(len(b)))
	if _, err := hex.Decode(out, b); err != nil {
		return fmt.Errorf("bad hex: %v: %w", err, heistgraph.ErrInvalid)
	}
	*r = out
	return nil
}

// RPCError is an error a node answered a call with: a JSON-RPC error
// object, or an HTTP status without one. It names the call. Unwrap gives
// heistgraph.ErrNotFound for Core's and btcd's "not found" and "out of
// range" codes (-5, and -8 or -1 from getblockhash), heistgraph.ErrInvalid
// for refused credentials (HTTP 401, 403), and nil otherwise.
type RPCError struct {
	URL     string // the node, without credentials
	Method  string
	Params  []any
	Status  int    // HTTP status
	Code    int    // JSON-RPC error code; 0 when the node sent none
	Message string // the node's message, or the HTTP status text
	kind    error
}

// Error names the call, the node and what it said.
func (e *RPCError) Error() string {
	var b strings.Builder
	b.WriteString("bitcoin rpc ")
	b.WriteString(e.Method)
	b.WriteString(" ")
	b.WriteString(formatParams(e.Params))
	b.WriteString(" at ")
	b.WriteString(e.URL)
	b.WriteString(": ")
	if e.Code != 0 {
		b.WriteString("error " + strconv.Itoa(e.Code) + ": ")
	} else if e.Status != 0 {
		b.WriteString("HTTP " + strconv.Itoa(e.Status) + ": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Unwrap returns the error class (see RPCError), or nil.
func (e *RPCError) Unwrap() error { return e.kind }

// JSON-RPC error codes shared by Bitcoin Core and btcd.
const (
	codeMisc            = -1  // btcd: block number out of range
	codeNotFound        = -5  // RPC_INVALID_ADDRESS_OR_KEY: block not found
	codeInvalidParam    = -8  // Core: block height out of range
	codeWarmup          = -28 // RPC_IN_WARMUP: retry later
	maxErrorBodyPreview = 200
)

// unavailableError is a failure to get an answer: the node is unreachable,
// overloaded or too slow. It is retried.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return e.err.Error() }
func (e *unavailableError) Unwrap() error { return e.err }

// call invokes method with params and decodes the result into result,
// retrying while the node is unavailable.
func (s *RPCSource) call(ctx context.Context, method string, params []any, result any) error {
	if params == nil {
		params = []any{}
	}
	body, err := json.Marshal(struct {
		JSONRPC string `json:"jsonrpc"`
		ID      uint64 `json:"id"`
		Method  string `json:"method"`
		Params  []any  `json:"params"`
	}{"1.0", s.id.Add(1), method, params})
	if err != nil {
		return fmt.Errorf("bitcoin rpc %s %s: %w", method, formatParams(params), err)
	}
	var (
		first   time.Time
		attempt int
	)
	for {
		err := s.attempt(ctx, method, params, body, result)
		var un *unavailableError
		if err == nil || !errors.As(err, &un) {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("bitcoin rpc %s %s at %s: %w", method, formatParams(params), s.shown, ctx.Err())
		}
		now := time.Now()
		if attempt == 0 {
			first = now
		}
		attempt++
		wait := s.opts.MinBackoff << min(attempt-1, 30)
		if wait > s.opts.MaxBackoff || wait <= 0 {
			wait = s.opts.MaxBackoff
		}
		if s.opts.RetryFor < 0 {
			return fmt.Errorf("%w (node unavailable; retries off)", un.err)
		}
		if now.Add(wait).Sub(first) > s.opts.RetryFor {
			return fmt.Errorf("%w (node unavailable; gave up after %d attempts over %v)",
				un.err, attempt, now.Sub(first).Round(time.Millisecond))
		}
		s.opts.Logger.Warn("bitcoin node unavailable, retrying", "url", s.shown, "method", method,
			"params", formatParams(params), "attempt", attempt, "wait", wait, "err", un.err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("bitcoin rpc %s %s at %s: %w", method, formatParams(params), s.shown, ctx.Err())
		case <-t.C:
		}
	}
}

// attempt makes one round trip. Failures worth retrying are
// *unavailableError.
func (s *RPCSource) attempt(ctx context.Context, method string, params []any, body []byte, result any) error {
	actx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	where := func() string { return "bitcoin rpc " + method + " " + formatParams(params) + " at " + s.shown }
	req, err := http.NewRequestWithContext(actx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", where(), err)
	}
	req.Header.Set("Content-Type", "application/json")
	if s.user != "" || s.pass != "" {
		req.SetBasicAuth(s.user, s.pass)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", where(), ctx.Err())
		}
		if actx.Err() != nil {
			return &unavailableError{fmt.Errorf("%s: no answer within %v", where(), s.opts.Timeout)}
		}
		return &unavailableError{fmt.Errorf("%s: %w", where(), err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", where(), ctx.Err())
		}
		if actx.Err() != nil {
			return &unavailableError{fmt.Errorf("%s: answer not complete within %v", where(), s.opts.Timeout)}
		}
		return &unavailableError{fmt.Errorf("%s: reading the answer: %w", where(), err)}
	}
	rerr := &RPCError{URL: s.shown, Method: method, Params: params, Status: resp.StatusCode}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		rerr.Message = http.StatusText(resp.StatusCode) + " (check the rpc user and password)"
		rerr.kind = heistgraph.ErrInvalid
		return rerr
	}
	var env struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		if resp.StatusCode >= 500 {
			rerr.Message = http.StatusText(resp.StatusCode) + preview(data)
			return &unavailableError{rerr}
		}
		if resp.StatusCode != http.StatusOK {
			rerr.Message = http.StatusText(resp.StatusCode) + preview(data)
			return rerr
		}
		return fmt.Errorf("%s: answer is not JSON-RPC: %v: %w", where(), err, heistgraph.ErrInvalid)
	}
	if env.Error != nil {
		rerr.Code, rerr.Message = env.Error.Code, env.Error.Message
		switch {
		case rerr.Code == codeWarmup:
			return &unavailableError{rerr}
		case rerr.Code == codeNotFound,
			method == "getblockhash" && (rerr.Code == codeInvalidParam || rerr.Code == codeMisc):
			rerr.kind = heistgraph.ErrNotFound
		}
		return rerr
	}
	if resp.StatusCode != http.StatusOK {
		rerr.Message = http.StatusText(resp.StatusCode) + preview(data)
		if resp.StatusCode >= 500 {
			return &unavailableError{rerr}
		}
		return rerr
	}
	if result != nil {
		if err := json.Unmarshal(env.Result, result); err != nil {
			return fmt.Errorf("%s: unexpected answer: %v: %w", where(), err, heistgraph.ErrInvalid)
		}
	}
	return nil
}

// preview returns the start of a non-JSON answer body for a message.
func preview(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return ""
	}
	if len(b) > maxErrorBodyPreview {
		b = b[:maxErrorBodyPreview]
	}
	return ": " + strconv.Quote(string(b))
}

// formatParams renders call parameters for messages: [hash 0].
func formatParams(params []any) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, p := range params {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprint(&b, p)
	}
	b.WriteByte(']')
	return b.String()
}

// redactURL drops user info from a URL for messages.
func redactURL(s string) string {
	if i := strings.Index(s, "@"); i >= 0 {
		if j := strings.Index(s, "://"); j >= 0 && j < i {
			return s[:j+3] + s[i+1:]
		}
		return s[i+1:]
	}
	return s
}
