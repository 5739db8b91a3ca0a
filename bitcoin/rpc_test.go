package bitcoin_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/bitcoin"
)

// The RPC adapter is a heistgraph.BlockSource.
var _ heistgraph.BlockSource = (*bitcoin.RPCSource)(nil)

// mainnetBlocks returns the raw mainnet blocks 0 to 255: the genesis block
// (from btcd's parameters) and testdata/blocks1-256.blk.
func mainnetBlocks(tb testing.TB) [][]byte {
	tb.Helper()
	var g bytes.Buffer
	if err := chaincfg.MainNetParams.GenesisBlock.Serialize(&g); err != nil {
		tb.Fatal(err)
	}
	blocks := [][]byte{g.Bytes()}
	b, err := os.ReadFile("testdata/blocks1-256.blk")
	if err != nil {
		tb.Fatal(err)
	}
	for len(b) >= 8 {
		n := binary.LittleEndian.Uint32(b[4:8])
		blocks = append(blocks, b[8:8+n])
		b = b[8+n:]
	}
	return blocks
}

// fakeNode answers the JSON-RPC calls RPCSource makes the way Bitcoin Core
// does (HTTP 401 for bad credentials, HTTP 500 with a JSON-RPC error
// object otherwise), serving a list of raw blocks. Its failure knobs
// imitate a node that is down, warming up or slow.
type fakeNode struct {
	t      testing.TB
	chain  string // getblockchaininfo's chain
	blocks [][]byte
	hashes []string
	byHash map[string][]byte

	unavailable atomic.Int64 // answer this many more requests with HTTP 503
	warmup      atomic.Int64 // ... with error -28
	slow        atomic.Int64 // ... after sleeping slowFor
	slowFor     time.Duration
	wrongBlock  bool // getblock answers the next block's bytes
	calls       atomic.Int64
	mu          sync.Mutex
	methods     []string
}

func newFakeNode(tb testing.TB, chain string, blocks [][]byte) (*fakeNode, *httptest.Server) {
	f := &fakeNode{t: tb, chain: chain, blocks: blocks, byHash: map[string][]byte{}}
	for _, raw := range blocks {
		b, err := bitcoin.DecodeBlock(raw, heistgraph.Mainnet)
		if err != nil {
			tb.Fatal(err)
		}
		f.hashes = append(f.hashes, b.Hash.String())
		f.byHash[b.Hash.String()] = raw
	}
	srv := httptest.NewServer(f)
	tb.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	if u, p, ok := r.BasicAuth(); !ok || u != "user" || p != "pass" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var req struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Params []any           `json:"params"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.methods = append(f.methods, req.Method)
	f.mu.Unlock()
	if f.unavailable.Add(-1) >= 0 {
		http.Error(w, "Work queue depth exceeded", http.StatusServiceUnavailable)
		return
	}
	if f.slow.Add(-1) >= 0 {
		select {
		case <-time.After(f.slowFor):
		case <-r.Context().Done():
			return
		}
	}
	reply := func(result any, code int, msg string) {
		resp := map[string]any{"id": req.ID, "result": result, "error": nil}
		status := http.StatusOK
		if code != 0 {
			resp["result"] = nil
			resp["error"] = map[string]any{"code": code, "message": msg}
			status = http.StatusInternalServerError
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(resp)
	}
	if f.warmup.Add(-1) >= 0 {
		reply(nil, -28, "Loading block index...")
		return
	}
	switch req.Method {
	case "getblockchaininfo":
		reply(map[string]any{"chain": f.chain, "blocks": len(f.blocks) - 1}, 0, "")
	case "getblockcount":
		reply(len(f.blocks)-1, 0, "")
	case "getblockhash":
		h, ok := req.Params[0].(float64)
		if !ok || h < 0 || int(h) >= len(f.hashes) {
			reply(nil, -8, "Block height out of range")
			return
		}
		reply(f.hashes[int(h)], 0, "")
	case "getblock":
		raw, ok := f.byHash[fmt.Sprint(req.Params[0])]
		if !ok {
			reply(nil, -5, "Block not found")
			return
		}
		if f.wrongBlock {
			raw = f.blocks[1]
		}
		reply(hex.EncodeToString(raw), 0, "")
	default:
		reply(nil, -32601, "Method not found")
	}
}

func newSource(tb testing.TB, url string, opts bitcoin.RPCOptions) *bitcoin.RPCSource {
	tb.Helper()
	if opts.User == "" {
		opts.User, opts.Password = "user", "pass"
	}
	s, err := bitcoin.NewRPCSource(url, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

func TestRPCSourceBlocks(t *testing.T) {
	t.Parallel()
	raws := mainnetBlocks(t)
	_, srv := newFakeNode(t, "main", raws)
	src := newSource(t, srv.URL, bitcoin.RPCOptions{})
	ctx := context.Background()
	net, err := src.Network(ctx)
	if err != nil || net != heistgraph.Mainnet {
		t.Fatalf("Network = %v, %v; want mainnet", net, err)
	}
	tip, err := src.TipHeight(ctx)
	if err != nil || tip != int64(len(raws)-1) {
		t.Fatalf("TipHeight = %d, %v; want %d", tip, err, len(raws)-1)
	}
	// Fetch every block concurrently, as an ingester fetching ahead does.
	var wg sync.WaitGroup
	errs := make([]error, len(raws))
	for h := range raws {
		wg.Go(func() {
			hash, err := src.BlockHash(ctx, int64(h))
			if err != nil {
				errs[h] = err
				return
			}
			b, err := src.Block(ctx, hash, int64(h))
			if err != nil {
				errs[h] = err
				return
			}
			want, err := bitcoin.DecodeBlock(raws[h], heistgraph.Mainnet)
			if err != nil {
				errs[h] = err
				return
			}
			want.Height = int64(h)
			if b.Hash != hash || b.Height != want.Height || b.PrevHash != want.PrevHash || len(b.Txs) != len(want.Txs) ||
				b.Txs[0].Outputs[0].Address != want.Txs[0].Outputs[0].Address || b.Chain != heistgraph.ChainBTC {
				errs[h] = fmt.Errorf("block %d: got %s prev %s (%d txs), want %s prev %s (%d txs)",
					h, b.Hash, b.PrevHash, len(b.Txs), want.Hash, want.PrevHash, len(want.Txs))
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

func TestRPCSourceNetworks(t *testing.T) {
	t.Parallel()
	raws := mainnetBlocks(t)[:3]
	tests := []struct {
		name  string
		chain string
		want  *heistgraph.Network // expected by the caller
		err   error
		msg   string
	}{
		{name: "core mainnet", chain: "main"},
		{name: "btcd mainnet", chain: "mainnet"},
		{name: "expected mainnet", chain: "main", want: &heistgraph.Mainnet},
		{name: "wrong network", chain: "main", want: &heistgraph.Regtest, err: heistgraph.ErrInvalid, msg: "serves mainnet, not regtest"},
		{name: "unknown chain", chain: "simnet", err: heistgraph.ErrInvalid, msg: `unknown chain "simnet"`},
		{name: "genesis of another network", chain: "test", err: heistgraph.ErrInvalid, msg: "genesis block"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, srv := newFakeNode(t, tc.chain, raws)
			src := newSource(t, srv.URL, bitcoin.RPCOptions{Network: tc.want})
			net, err := src.Network(context.Background())
			if tc.err == nil {
				if err != nil || net != heistgraph.Mainnet {
					t.Fatalf("Network = %v, %v; want mainnet", net, err)
				}
				return
			}
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err %v; want %v saying %q", err, tc.err, tc.msg)
			}
		})
	}
}

func TestRPCSourceErrors(t *testing.T) {
	t.Parallel()
	raws := mainnetBlocks(t)[:4]
	ctx := context.Background()
	b1, _ := bitcoin.DecodeBlock(raws[1], heistgraph.Mainnet)
	b2, _ := bitcoin.DecodeBlock(raws[2], heistgraph.Mainnet)
	unknown := heistgraph.Hash{1, 2, 3}
	tests := []struct {
		name  string
		setup func(*fakeNode)
		user  string
		call  func(*bitcoin.RPCSource) error
		err   error
		msg   string
	}{
		{name: "height above tip", call: func(s *bitcoin.RPCSource) error { _, err := s.BlockHash(ctx, 9); return err },
			err: heistgraph.ErrNotFound, msg: "getblockhash [9]"},
		{name: "negative height", call: func(s *bitcoin.RPCSource) error { _, err := s.BlockHash(ctx, -1); return err },
			err: heistgraph.ErrNotFound, msg: "negative height"},
		{name: "unknown block", call: func(s *bitcoin.RPCSource) error { _, err := s.Block(ctx, unknown, 5); return err },
			err: heistgraph.ErrNotFound, msg: "getblock [" + unknown.String() + " 0]"},
		{name: "bad credentials", user: "mallory", call: func(s *bitcoin.RPCSource) error { _, err := s.TipHeight(ctx); return err },
			err: heistgraph.ErrInvalid, msg: "HTTP 401"},
		{name: "node answers another block", setup: func(f *fakeNode) { f.wrongBlock = true },
			call: func(s *bitcoin.RPCSource) error { _, err := s.Block(ctx, b2.Hash, 2); return err },
			err:  heistgraph.ErrInvalid, msg: "node answered with block " + b1.Hash.String()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, srv := newFakeNode(t, "main", raws)
			if tc.setup != nil {
				tc.setup(f)
			}
			opts := bitcoin.RPCOptions{RetryFor: -1}
			if tc.user != "" {
				opts.User, opts.Password = tc.user, "x"
			}
			err := tc.call(newSource(t, srv.URL, opts))
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), srv.URL) {
				t.Fatalf("err %v; want %v naming %q and the node's URL", err, tc.err, tc.msg)
			}
			var de *bitcoin.DecodeError
			if errors.Is(err, heistgraph.ErrInvalid) && tc.user == "" && !errors.As(err, &de) {
				t.Fatalf("err %v is not a *DecodeError", err)
			}
		})
	}
}

func TestNewRPCSourceInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  string
		opts bitcoin.RPCOptions
	}{
		{name: "empty url", url: ""},
		{name: "other scheme", url: "ftp://127.0.0.1:8332"},
		{name: "no host", url: "http://"},
		{name: "negative timeout", url: "127.0.0.1:8332", opts: bitcoin.RPCOptions{Timeout: -1}},
		{name: "backoffs crossed", url: "127.0.0.1:8332", opts: bitcoin.RPCOptions{MinBackoff: time.Minute, MaxBackoff: time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := bitcoin.NewRPCSource(tc.url, tc.opts); !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("err %v, want ErrInvalid", err)
			}
		})
	}
}

// TestRPCSourceURLCredentials: credentials in the URL are used and never
// shown.
func TestRPCSourceURLCredentials(t *testing.T) {
	t.Parallel()
	_, srv := newFakeNode(t, "main", mainnetBlocks(t)[:2])
	withCreds := strings.Replace(srv.URL, "http://", "http://user:pass@", 1)
	src, err := bitcoin.NewRPCSource(withCreds, bitcoin.RPCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := src.TipHeight(context.Background()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(src.URL(), "pass") || src.URL() != srv.URL {
		t.Fatalf("URL() = %q, want %q without credentials", src.URL(), srv.URL)
	}
}

// logBuffer is a goroutine-safe log sink.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRPCSourceRetries: a node that is overloaded, warming up or slow is
// retried with a log line each time, and the call succeeds once it answers.
func TestRPCSourceRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(*fakeNode)
	}{
		{name: "HTTP 503", setup: func(f *fakeNode) { f.unavailable.Store(3) }},
		{name: "warming up", setup: func(f *fakeNode) { f.warmup.Store(3) }},
		{name: "slow", setup: func(f *fakeNode) { f.slow.Store(2); f.slowFor = time.Second }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, srv := newFakeNode(t, "main", mainnetBlocks(t)[:6])
			tc.setup(f)
			var logs logBuffer
			src := newSource(t, srv.URL, bitcoin.RPCOptions{
				Timeout: 100 * time.Millisecond, MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond,
				Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			})
			tip, err := src.TipHeight(context.Background())
			if err != nil || tip != 5 {
				t.Fatalf("TipHeight = %d, %v; want 5 after retries", tip, err)
			}
			if n := strings.Count(logs.String(), "bitcoin node unavailable, retrying"); n < 2 {
				t.Fatalf("%d retry lines, want at least 2:\n%s", n, logs.String())
			}
			if !strings.Contains(logs.String(), "method=getblockcount") || !strings.Contains(logs.String(), srv.URL) {
				t.Fatalf("retry line does not name the method and node:\n%s", logs.String())
			}
		})
	}
}

// TestRPCSourceGivesUp: a node that stays down fails the call after
// RetryFor with an error naming the call and the node; cancelling the
// context stops the retries at once.
func TestRPCSourceGivesUp(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close() // nothing listens there now
	src := newSource(t, url, bitcoin.RPCOptions{RetryFor: 200 * time.Millisecond, MinBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond})
	start := time.Now()
	_, err = src.BlockHash(context.Background(), 7)
	if err == nil || !strings.Contains(err.Error(), "getblockhash [7]") || !strings.Contains(err.Error(), url) ||
		!strings.Contains(err.Error(), "node unavailable; gave up after") {
		t.Fatalf("err %v; want it to name getblockhash [7], %s and the attempts", err, url)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("gave up after %v, want about 200ms", el)
	}
	if errors.Is(err, heistgraph.ErrInvalid) || errors.Is(err, heistgraph.ErrNotFound) {
		t.Fatalf("err %v classed as invalid or not found", err)
	}

	slowSrc := newSource(t, url, bitcoin.RPCOptions{RetryFor: time.Hour, MinBackoff: time.Second, MaxBackoff: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := slowSrc.TipHeight(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the context's", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("cancellation took %v", el)
	}
}
