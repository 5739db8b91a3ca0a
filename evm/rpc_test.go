package evm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto/keccak"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
)

// fakeNode answers the JSON-RPC calls RPCSource makes from the blocks of a
// FileSource, the way geth does (batches, -32601 for a method it does not
// serve, null for an unknown block), with knobs for failures: connections
// dropped in the middle of an answer, HTTP 503, no debug API, no
// eth_getBlockReceipts. It exists for failure injection; the real node
// tests run geth.
type fakeNode struct {
	t        testing.TB
	src      *evm.FileSource
	chainID  uint64
	byHash   map[string]int64
	raws     map[int64]*evm.RawBlock
	receipts map[string]json.RawMessage // by transaction hash
	genesis  []string                   // genesis accounts "address balance", served one a page

	noDebug, noBlockReceipts bool
	noPreimages              bool          // name genesis accounts pre(keccak(address)), as geth --dev does
	extraHashed              string        // and add this account, named by a hash only, with a balance
	latency                  time.Duration // added to every answer
	drop                     atomic.Int64  // cut this many more answers in the middle
	unavailable              atomic.Int64  // answer this many more requests with HTTP 503

	mu    sync.Mutex
	calls map[string]int
}

func newFakeNode(t testing.TB, src *evm.FileSource, chainID uint64) (*fakeNode, *httptest.Server) {
	t.Helper()
	f := &fakeNode{t: t, src: src, chainID: chainID, byHash: map[string]int64{}, raws: map[int64]*evm.RawBlock{}, receipts: map[string]json.RawMessage{}, calls: map[string]int{}}
	lo, hi := src.Heights()
	for h := lo; h <= hi; h++ {
		raw, err := src.Raw(context.Background(), h)
		if err != nil {
			t.Fatal(err)
		}
		hash, _ := src.BlockHash(context.Background(), h)
		f.byHash[hash.String()] = h
		f.raws[h] = raw
		var rs []json.RawMessage
		if err := json.Unmarshal(raw.Receipts, &rs); err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			var v struct {
				TxHash string `json:"transactionHash"`
			}
			json.Unmarshal(r, &v)
			f.receipts[v.TxHash] = r
		}
		if raw.Genesis != nil {
			for a, bal := range raw.Genesis.Alloc {
				f.genesis = append(f.genesis, a.Hex()+" "+bal.Dec())
			}
		}
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

type rpcReq struct {
	ID     json.RawMessage   `json:"id"`
	Method string            `json:"method"`
	Params []json.RawMessage `json:"params"`
}

type rpcErr struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (f *fakeNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	time.Sleep(f.latency)
	if f.unavailable.Add(-1) >= 0 {
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	var reqs []rpcReq
	batch := bytes.HasPrefix(bytes.TrimSpace(body), []byte("["))
	if batch {
		json.Unmarshal(body, &reqs)
	} else {
		var one rpcReq
		json.Unmarshal(body, &one)
		reqs = []rpcReq{one}
	}
	// The answers are written as they are stored, without re-encoding,
	// so that the server costs little next to the client.
	var out bytes.Buffer
	if batch {
		out.WriteByte('[')
	}
	for i, q := range reqs {
		f.mu.Lock()
		f.calls[q.Method]++
		f.mu.Unlock()
		res, e := f.answer(q)
		if i > 0 {
			out.WriteByte(',')
		}
		out.WriteString(`{"jsonrpc":"2.0","id":`)
		out.Write(q.ID)
		if e != nil {
			eb, _ := json.Marshal(e)
			out.WriteString(`,"error":`)
			out.Write(eb)
		} else {
			out.WriteString(`,"result":`)
			out.Write(res)
		}
		out.WriteByte('}')
	}
	if batch {
		out.WriteByte(']')
	}
	b := out.Bytes()
	w.Header().Set("Content-Type", "application/json")
	if f.drop.Add(-1) >= 0 { // the node goes away half way through the answer
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		w.Write(b[:len(b)/2])
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	w.Write(b)
}

func (f *fakeNode) answer(q rpcReq) (json.RawMessage, *rpcErr) {
	str := func(i int) string {
		var s string
		if i < len(q.Params) {
			json.Unmarshal(q.Params[i], &s)
		}
		return s
	}
	notFound := &rpcErr{Code: -32601, Message: "the method " + q.Method + " does not exist/is not available"}
	byHash := func() (*evm.RawBlock, bool) {
		h, ok := f.byHash[str(0)]
		if !ok {
			return nil, false
		}
		return f.raws[h], true
	}
	switch q.Method {
	case "eth_chainId":
		return json.RawMessage(fmt.Sprintf(`"0x%x"`, f.chainID)), nil
	case "eth_blockNumber":
		_, hi := f.src.Heights()
		return json.RawMessage(fmt.Sprintf(`"0x%x"`, hi)), nil
	case "eth_getBlockByNumber":
		n, _ := strconv.ParseInt(strings.TrimPrefix(str(0), "0x"), 16, 64)
		raw, ok := f.raws[n]
		if !ok {
			return json.RawMessage("null"), nil
		}
		return raw.Block, nil
	case "eth_getBlockReceipts":
		if f.noBlockReceipts {
			return nil, notFound
		}
		if raw, ok := byHash(); ok {
			return raw.Receipts, nil
		}
		return json.RawMessage("null"), nil
	case "eth_getTransactionReceipt":
		if r, ok := f.receipts[str(0)]; ok {
			return r, nil
		}
		return json.RawMessage("null"), nil
	case "debug_traceBlockByHash":
		if f.noDebug {
			return nil, notFound
		}
		var cfg map[string]string
		json.Unmarshal(q.Params[1], &cfg)
		if cfg["tracer"] != "callTracer" {
			return nil, &rpcErr{Code: -32602, Message: "want the callTracer"}
		}
		raw, ok := byHash()
		if !ok {
			return json.RawMessage("null"), nil
		}
		if raw.Traces == nil {
			return nil, notFound
		}
		return raw.Traces, nil
	case "debug_accountRange":
		if f.noDebug {
			return nil, notFound
		}
		// One account a page, to exercise paging; "next" is the index
		// of the next account.
		start := 0
		if s := str(1); len(s) > 2 {
			v, _ := strconv.ParseInt(s[2:], 16, 64)
			start = int(v)
		}
		accounts := map[string]any{}
		next := ""
		if start < len(f.genesis) {
			a, bal, _ := strings.Cut(f.genesis[start], " ")
			if f.noPreimages {
				h := keccak.NewLegacyKeccak256()
				ga := addr(f.t, a)
				h.Write(ga[:])
				a = fmt.Sprintf("pre(0x%x)", h.Sum(nil))
			}
			accounts[a] = map[string]any{"balance": bal, "nonce": 0}
		}
		if start == 0 && f.extraHashed != "" {
			accounts["pre("+f.extraHashed+")"] = map[string]any{"balance": "5"}
		}
		if start+1 < len(f.genesis) {
			next = fmt.Sprintf("0x%02x", start+1)
		}
		b, _ := json.Marshal(map[string]any{"root": strings.Repeat("0", 64), "accounts": accounts, "next": next}) // geth: no 0x
		return b, nil
	case "eth_getUncleByBlockHashAndIndex":
		raw, ok := byHash()
		i, _ := strconv.ParseInt(strings.TrimPrefix(str(1), "0x"), 16, 64)
		if !ok || int(i) >= len(raw.Uncles) {
			return json.RawMessage("null"), nil
		}
		return raw.Uncles[i], nil
	case "eth_accounts":
		return json.RawMessage(`["` + eoa + `"]`), nil
	case "eth_call":
		var call struct{ To, Data string }
		json.Unmarshal(q.Params[0], &call)
		if call.To != strings.ToLower(cb) {
			return nil, &rpcErr{Code: 3, Message: "execution reverted"}
		}
		if call.Data == "0x95d89b41" { // symbol(): "TKN"
			return json.RawMessage(`"0x` + fmt.Sprintf("%064x%064x", 32, 3) + "544b4e" + strings.Repeat("0", 58) + `"`), nil
		}
		return json.RawMessage(`"0x` + fmt.Sprintf("%064x", 6) + `"`), nil
	}
	return nil, notFound
}

func (f *fakeNode) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// fastOptions retry quickly.
func fastOptions(t *testing.T, chain heistgraph.Chain) evm.RPCOptions {
	return evm.RPCOptions{Params: *params(t, chain), MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, RetryFor: 5 * time.Second}
}

func newRPC(t *testing.T, url string, opts evm.RPCOptions) *evm.RPCSource {
	t.Helper()
	s, err := evm.NewRPCSource(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// rangeBlocks collects Range's blocks.
func rangeBlocks(t *testing.T, src heistgraph.AccountSource, lo, hi int64, ahead int) []*heistgraph.AccountBlock {
	t.Helper()
	var out []*heistgraph.AccountBlock
	for b, err := range evm.Range(context.Background(), src, lo, hi, ahead) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// TestRPCMatchesFiles reads the same blocks from a node and from files:
// they must be identical, with the node's genesis read page by page.
func TestRPCMatchesFiles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		dir   string
		chain heistgraph.Chain
		id    uint64
	}{{"dev", devWorld(t), "dev", 1337}, {"mainnet", mainnetDir, "eth", 1}} {
		t.Run(tc.name, func(t *testing.T) {
			files := openFiles(t, tc.dir, tc.chain)
			node, srv := newFakeNode(t, files, tc.id)
			rpc := newRPC(t, srv.URL, fastOptions(t, tc.chain))
			if err := evm.CheckChain(context.Background(), rpc, tc.chain); err != nil {
				t.Fatal(err)
			}
			lo, hi := files.Heights()
			if tip, err := rpc.TipHeight(context.Background()); err != nil || tip != hi {
				t.Fatalf("tip %d %v", tip, err)
			}
			got := rangeBlocks(t, rpc, lo, hi, 4)
			want := allBlocks(t, files, lo, hi)
			if !reflect.DeepEqual(got, want) {
				for i := range got {
					if !reflect.DeepEqual(got[i], want[i]) {
						t.Errorf("block %d differs:\n got %+v\nwant %+v", want[i].Height, got[i], want[i])
					}
				}
			}
			if tc.name == "dev" && node.count("debug_accountRange") != 2 {
				t.Errorf("genesis read in %d pages, want 2", node.count("debug_accountRange"))
			}
			if _, err := rpc.Block(context.Background(), hi+1); !errors.Is(err, heistgraph.ErrNotFound) {
				t.Errorf("block above the tip: %v", err)
			}
			if _, err := rpc.BlockHash(context.Background(), hi+1); !errors.Is(err, heistgraph.ErrNotFound) {
				t.Errorf("hash above the tip: %v", err)
			}
		})
	}
}

// TestRPCNoDebug: a node without the debug API is reported once per
// method however many blocks are fetched at once, and its blocks come
// without internal transfers or genesis allocations.
func TestRPCNoDebug(t *testing.T) {
	files := openFiles(t, devWorld(t), "dev")
	node, srv := newFakeNode(t, files, 1337)
	node.noDebug = true
	var mu sync.Mutex
	told := map[string]int{}
	opts := fastOptions(t, "dev")
	opts.OnNoDebug = func(m string) { mu.Lock(); told[m]++; mu.Unlock() }
	rpc := newRPC(t, srv.URL, opts)
	bs := rangeBlocks(t, rpc, 0, 4, 16)
	if told["debug_traceBlockByHash"] != 1 || told["debug_accountRange"] != 1 || len(told) != 2 || !rpc.NoDebug() {
		t.Errorf("told %v, NoDebug %v", told, rpc.NoDebug())
	}
	for _, b := range bs {
		if b.InternalKnown != (len(b.Txs) == 0) {
			t.Errorf("block %d: InternalKnown %v with %d txs", b.Height, b.InternalKnown, len(b.Txs))
		}
		for _, tr := range b.Transfers {
			if tr.Kind == heistgraph.TransferInternal || tr.Kind == heistgraph.TransferGenesis {
				t.Errorf("block %d: %s without the debug API", b.Height, showTransfer(tr))
			}
		}
	}
	before := node.count("debug_traceBlockByHash")
	rangeBlocks(t, rpc, 0, 4, 2)
	if node.count("debug_traceBlockByHash") != before {
		t.Error("asked for traces again after the node said it has no debug API")
	}
}

// TestRPCReceiptFallback: a node without eth_getBlockReceipts gives the
// same blocks through eth_getTransactionReceipt.
func TestRPCReceiptFallback(t *testing.T) {
	files := openFiles(t, mainnetDir, "eth")
	node, srv := newFakeNode(t, files, 1)
	node.noBlockReceipts = true
	rpc := newRPC(t, srv.URL, fastOptions(t, "eth"))
	got := rangeBlocks(t, rpc, 17173049, 17173050, 2)
	if !reflect.DeepEqual(got, allBlocks(t, files, 17173049, 17173050)) {
		t.Error("blocks through per-transaction receipts differ")
	}
	if n := node.count("eth_getTransactionReceipt"); n != 298 {
		t.Errorf("%d receipts asked, want 298", n)
	}
	if n := node.count("eth_getBlockReceipts"); n > 2 {
		t.Errorf("eth_getBlockReceipts asked %d times after it failed", n)
	}
}

// TestRPCDrops: a node that drops connections in the middle of answers,
// or answers 503, is retried and the blocks come out exactly; one that
// stays away fails naming the call once RetryFor is spent.
func TestRPCDrops(t *testing.T) {
	files := openFiles(t, devWorld(t), "dev")
	node, srv := newFakeNode(t, files, 1337)
	node.drop.Store(5)
	node.unavailable.Store(3)
	rpc := newRPC(t, srv.URL, fastOptions(t, "dev"))
	got := rangeBlocks(t, rpc, 0, 4, 3)
	if !reflect.DeepEqual(got, allBlocks(t, files, 0, 4)) {
		t.Error("blocks differ after drops")
	}
	if node.drop.Load() >= 0 || node.unavailable.Load() >= 0 {
		t.Errorf("failures left unused: drop %d, 503 %d", node.drop.Load(), node.unavailable.Load())
	}
	node.drop.Store(1 << 30)
	opts := fastOptions(t, "dev")
	opts.RetryFor = 30 * time.Millisecond
	_, err := newRPC(t, srv.URL, opts).Block(context.Background(), 1)
	var ce *evm.CallError
	if !errors.As(err, &ce) || ce.Method != "eth_getBlockByNumber" || !strings.Contains(err.Error(), "gave up") || errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("got %v, want a CallError for eth_getBlockByNumber that gave up", err)
	}
	node.drop.Store(0)
}

// TestRPCWrongChain: a node of another chain is refused.
func TestRPCWrongChain(t *testing.T) {
	_, srv := newFakeNode(t, openFiles(t, devWorld(t), "dev"), 1)
	err := evm.CheckChain(context.Background(), newRPC(t, srv.URL, fastOptions(t, "dev")), "dev")
	if !errors.Is(err, heistgraph.ErrInvalid) || !strings.Contains(err.Error(), "chain id 1 (eth)") {
		t.Errorf("got %v, want ErrInvalid naming chain id 1 (eth)", err)
	}
}

// TestRPCDump: blocks and tokens read from a node through Dumping, written
// to a dump and read back from files, are identical.
func TestRPCDump(t *testing.T) {
	files := openFiles(t, devWorld(t), "dev")
	_, srv := newFakeNode(t, files, 1337)
	rpc := newRPC(t, srv.URL, fastOptions(t, "dev"))
	dir := t.TempDir()
	d, err := evm.NewDumper(dir)
	if err != nil {
		t.Fatal(err)
	}
	src := &evm.Dumping{Src: rpc, Dump: d}
	got := rangeBlocks(t, src, 0, 4, 4)
	ctx := context.Background()
	tok, err := src.Token(ctx, addr(t, cb))
	if err != nil || !tok.Known || tok.Symbol != "TKN" || tok.Decimals != 6 {
		t.Fatalf("token %+v %v", tok, err)
	}
	if tok, err := src.Token(ctx, addr(t, ca)); err != nil || tok.Known {
		t.Fatalf("a contract that reverts: %+v %v", tok, err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	back := openFiles(t, dir, "dev")
	if !reflect.DeepEqual(got, allBlocks(t, back, 0, 4)) {
		t.Error("blocks differ after node → dump → files")
	}
	if again, _ := back.Token(ctx, addr(t, cb)); again != tok {
		t.Errorf("token read back %+v, want %+v", again, tok)
	}
}

// TestRange checks Range's arguments, order and early stop.
func TestRange(t *testing.T) {
	files := openFiles(t, devWorld(t), "dev")
	for _, ahead := range []int{1, 2, 16} {
		bs := rangeBlocks(t, files, 0, 4, ahead)
		for i, b := range bs {
			if b.Height != int64(i) {
				t.Fatalf("ahead %d: block %d at %d", ahead, b.Height, i)
			}
		}
	}
	for _, bad := range []struct {
		lo, hi int64
		ahead  int
	}{{0, 4, 0}, {0, 4, 17}, {3, 2, 1}, {-1, 2, 1}} {
		for _, err := range evm.Range(context.Background(), files, bad.lo, bad.hi, bad.ahead) {
			if !errors.Is(err, heistgraph.ErrInvalid) {
				t.Errorf("%v: %v", bad, err)
			}
		}
	}
	n := 0
	for range evm.Range(context.Background(), files, 0, 4, 4) {
		n++
		break
	}
	var last error
	for _, err := range evm.Range(context.Background(), files, 3, 9, 4) {
		last = err
	}
	if n != 1 || !errors.Is(last, heistgraph.ErrNotFound) {
		t.Errorf("early stop %d, past the end %v", n, last)
	}
}

// TestRPCGenesisWithoutPreimages: a node that names genesis accounts by
// the hash of their address (geth --dev) still gives the allocations of
// known addresses, and refuses to guess the others.
func TestRPCGenesisWithoutPreimages(t *testing.T) {
	files := openFiles(t, devWorld(t), "dev")
	node, srv := newFakeNode(t, files, 1337)
	node.noPreimages = true
	want, err := files.Block(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := newRPC(t, srv.URL, fastOptions(t, "dev")).Block(context.Background(), 0)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("block 0 without preimages: %v\n got %v\nwant %v", err, got, want)
	}
	node.extraHashed = "0x" + strings.Repeat("de", 32)
	_, err = newRPC(t, srv.URL, fastOptions(t, "dev")).Block(context.Background(), 0)
	if !errors.Is(err, heistgraph.ErrInvalid) || !strings.Contains(err.Error(), "--cache.preimages") {
		t.Errorf("an allocation that cannot be placed: %v", err)
	}
}

// TestRewards: on a proof-of-work chain the miner gets the block reward
// and 1/32 of it per uncle, each uncle's miner (U + 8 − N)/8 of it; the
// uncle headers travel through uncles.jsonl and eth_getUncleByBlockHashAndIndex.
func TestRewards(t *testing.T) {
	dir := t.TempDir()
	d, err := evm.NewDumper(dir)
	if err != nil {
		t.Fatal(err)
	}
	raw := buildBlockAt(1000)
	raw.Block = bytes.Replace(raw.Block, []byte(`"transactions":[]`), []byte(`"transactions":[],"uncles":["0x`+strings.Repeat("0c", 32)+`"]`), 1)
	raw.Uncles = []json.RawMessage{json.RawMessage(`{"number":"0x3e6","miner":"` + cb + `"}`)} // 998
	if err := d.WriteBlock(raw); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	files := openFiles(t, dir, "eth")
	b, err := files.Block(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tr := range b.Transfers {
		got = append(got, showTransfer(tr))
	}
	want := []string{
		"reward 0x0000000000000000000000000000000000000000 " + cc + " native 5156250000000000000 ", // 5 + 5/32 ETH
		"reward 0x0000000000000000000000000000000000000000 " + cb + " native 3750000000000000000 ", // (998 + 8 − 1000)/8 × 5 ETH
		"withdrawal 0x0000000000000000000000000000000000000000 " + cb + " native 2000000000 ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ledger:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	_, srv := newFakeNode(t, files, 1)
	fromNode, err := newRPC(t, srv.URL, fastOptions(t, "eth")).Block(context.Background(), 1000)
	if err != nil || !reflect.DeepEqual(fromNode, b) {
		t.Errorf("from the node: %v %v", fromNode, err)
	}
	raw.Uncles = nil
	if _, err := evm.Decode(raw, params(t, "eth")); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("uncles without headers: %v", err)
	}
	if _, err := evm.Decode(raw, params(t, "dev")); err != nil {
		t.Errorf("no rewards on dev: %v", err)
	}
}

// TestRPCStatuses: what the node's HTTP status means. 429 and 5xx are
// retried; 401 and 403 are the caller's fault (ErrInvalid) and not
// retried; other statuses are not retried.
func TestRPCStatuses(t *testing.T) {
	tests := []struct {
		status  int
		ok      bool // answered after one refusal
		invalid bool
	}{
		{http.StatusTooManyRequests, true, false},
		{http.StatusBadGateway, true, false},
		{http.StatusUnauthorized, false, true},
		{http.StatusForbidden, false, true},
		{http.StatusNotFound, false, false},
	}
	for _, tc := range tests {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			var n atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					http.Error(w, "no", tc.status)
					return
				}
				io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":"0x539"}`)
			}))
			defer srv.Close()
			id, err := newRPC(t, srv.URL, fastOptions(t, "dev")).ChainID(context.Background())
			if tc.ok != (err == nil && id == 1337) || errors.Is(err, heistgraph.ErrInvalid) != tc.invalid {
				t.Errorf("got %d %v after %d requests", id, err, n.Load())
			}
			if !tc.ok && n.Load() != 1 {
				t.Errorf("retried a %d (%d requests)", tc.status, n.Load())
			}
		})
	}
}
