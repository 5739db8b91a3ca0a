// Package btcdtest starts a real btcd node in regtest for integration tests,
// after btcd's own integration/rpctest harness, and builds and signs the
// transactions those tests send it (wallet.go).
//
// It is test support: only _test.go files import it. The btcd binary is
// the pinned one scripts/setup-btcd.sh installs; Start finds it through
// $HEISTGRAPH_BTCD, then $(go env GOPATH)/bin, then $PATH. Without it a test
// is skipped with a message naming the script, unless real nodes are
// required (HEISTGRAPH_REQUIRE_NODES=1, or CI set), in which case it fails.
package btcdtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/build"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
)

// SetupScript is the script that installs btcd and btcctl.
const SetupScript = "scripts/setup-btcd.sh"

// Options configures a node.
type Options struct {
	// MiningAddr receives the coinbases of generated blocks (a regtest
	// address). Default: the P2WPKH address of MinerKey.
	MiningAddr string
	// TxIndex and AddrIndex turn on btcd's transaction and address
	// indexes (getrawtransaction of any tx, searchrawtransactions).
	TxIndex, AddrIndex bool
	// Args are extra btcd flags.
	Args []string
}

// Node is a running btcd in regtest, stopped when the test ends.
type Node struct {
	// RPCURL is the node's JSON-RPC endpoint (http, no TLS).
	RPCURL string
	// User and Pass are its RPC credentials.
	User, Pass string
	// P2PAddr is where it listens for peers.
	P2PAddr string
	// Dir holds its data and its log (btcd.log).
	Dir string

	bin    string
	args   []string
	cmd    *exec.Cmd
	exited chan struct{}
	client *http.Client
	id     atomic.Int64
}

// Required reports whether tests must run against real nodes rather than
// skip when one is missing: HEISTGRAPH_REQUIRE_NODES=1, or CI set (to
// anything but "" or "false" or "0").
func Required() bool {
	if os.Getenv("HEISTGRAPH_REQUIRE_NODES") == "1" {
		return true
	}
	ci := strings.ToLower(os.Getenv("CI"))
	return ci != "" && ci != "false" && ci != "0"
}

// Binary returns the path of the btcd binary, or an error naming the setup
// script.
func Binary() (string, error) { return FindBinary("btcd", "HEISTGRAPH_BTCD", SetupScript) }

// FindBinary returns the path of the node binary name: $env when set, then
// $(go env GOPATH)/bin, then $PATH; or an error naming script, which
// installs it.
func FindBinary(name, env, script string) (string, error) {
	if p := os.Getenv(env); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s: $%s=%s: %w (run %s and unset it)", name, env, p, err, script)
		}
		return p, nil
	}
	for _, gopath := range filepath.SplitList(build.Default.GOPATH) {
		p := filepath.Join(gopath, "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s not found (run %s, or set $%s)", name, script, env)
}

// Start starts a btcd node in regtest on free loopback ports with a
// temporary data directory, waits until it answers RPC calls, and stops it
// when tb ends. It skips tb (or fails it, when Required) if btcd is not
// installed.
func Start(tb testing.TB, opts Options) *Node {
	tb.Helper()
	bin, err := Binary()
	if err != nil {
		if Required() {
			tb.Fatalf("%v; real nodes are required here (CI or HEISTGRAPH_REQUIRE_NODES=1)", err)
		}
		tb.Skipf("%v", err)
	}
	if opts.MiningAddr == "" {
		opts.MiningAddr = MinerKey().Address()
	}
	var last error
	for try := 0; try < 3; try++ { // a free port may be taken before btcd binds it
		n, err := start(tb, bin, opts)
		if err == nil {
			return n
		}
		last = err
	}
	tb.Fatalf("btcdtest: %v", last)
	return nil
}

func start(tb testing.TB, bin string, opts Options) (*Node, error) {
	dir, err := os.MkdirTemp("", "btcdtest-")
	if err != nil {
		return nil, err
	}
	rpcPort, err := freePort()
	if err != nil {
		return nil, err
	}
	p2pPort, err := freePort()
	if err != nil {
		return nil, err
	}
	n := &Node{
		RPCURL:  "http://127.0.0.1:" + strconv.Itoa(rpcPort),
		User:    "heistgraph",
		Pass:    "regtest-pass",
		P2PAddr: "127.0.0.1:" + strconv.Itoa(p2pPort),
		Dir:     dir,
		client:  &http.Client{Timeout: 60 * time.Second},
	}
	conf := filepath.Join(dir, "btcd.conf")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		return nil, err
	}
	args := []string{
		"--regtest", "--notls",
		"--configfile=" + conf,
		"--datadir=" + filepath.Join(dir, "data"),
		"--logdir=" + filepath.Join(dir, "logs"),
		"--rpcuser=" + n.User, "--rpcpass=" + n.Pass,
		"--rpclisten=127.0.0.1:" + strconv.Itoa(rpcPort),
		"--listen=" + n.P2PAddr,
		"--miningaddr=" + opts.MiningAddr,
		"--nodnsseed", "--nocfilters", "--debuglevel=info",
		"--utxocachemaxsize=16", // regtest chains are tiny: no need to preallocate 250 MiB
	}
	if opts.TxIndex {
		args = append(args, "--txindex")
	}
	if opts.AddrIndex {
		args = append(args, "--addrindex")
	}
	n.bin, n.args = bin, append(args, opts.Args...)
	if err := n.launch(); err != nil {
		return nil, err
	}
	if err := n.waitReady(30 * time.Second); err != nil {
		n.stop()
		log := n.logTail()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("%w\nbtcd log:\n%s", err, log)
	}
	tb.Cleanup(func() {
		n.stop()
		if tb.Failed() {
			tb.Logf("btcd log (%s):\n%s", n.Dir, n.logTail())
		}
		os.RemoveAll(dir)
	})
	return n, nil
}

// launch starts the btcd process, its output appended to btcd.log.
func (n *Node) launch() error {
	logf, err := os.OpenFile(filepath.Join(n.Dir, "btcd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	n.exited = make(chan struct{})
	n.cmd = exec.Command(n.bin, n.args...)
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	n.cmd.Env = append(os.Environ(), "HOME="+n.Dir) // nothing lands in the real ~/.btcd
	if err := n.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", n.bin, err)
	}
	cmd, exited := n.cmd, n.exited
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	return nil
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) { return freePort() }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (n *Node) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := n.Call(ctx, "getblockcount")
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-n.exited:
			return fmt.Errorf("btcd exited before answering RPC: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("btcd did not answer RPC within %v: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops the node (SIGINT, then SIGKILL after 10s) and waits for it to
// exit. Its RPC address then refuses connections. It is safe to call more
// than once; the test's cleanup calls it too. A stopped node cannot be
// started again with its chain: btcd deletes a regtest database when it
// starts (use a Proxy to make a node unreachable for a while).
func (n *Node) Stop() { n.stop() }

func (n *Node) stop() {
	select {
	case <-n.exited:
		return
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-n.exited:
	case <-time.After(10 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.exited
	}
}

func (n *Node) logTail() string {
	b, _ := os.ReadFile(filepath.Join(n.Dir, "btcd.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// RPCError is an error object the node answered with.
type RPCError struct {
	Method  string
	Code    int
	Message string
}

func (e *RPCError) Error() string {
	return fmt.Sprintf("btcd %s: error %d: %s", e.Method, e.Code, e.Message)
}

// Call invokes a JSON-RPC method and returns its raw result.
func (n *Node) Call(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	if params == nil {
		params = []any{}
	}
	body, err := json.Marshal(map[string]any{"jsonrpc": "1.0", "id": n.id.Add(1), "method": method, "params": params})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.RPCURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(n.User, n.Pass)
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var env struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("btcd %s: HTTP %d: %q", method, resp.StatusCode, data)
	}
	if env.Error != nil {
		return nil, &RPCError{Method: method, Code: env.Error.Code, Message: env.Error.Message}
	}
	return env.Result, nil
}

// MustCall is Call that fails tb on error and decodes the result into out
// (when out is not nil), with numbers kept as json.Number.
func (n *Node) MustCall(tb testing.TB, out any, method string, params ...any) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	raw, err := n.Call(ctx, method, params...)
	if err != nil {
		tb.Fatalf("%s %v: %v", method, params, err)
	}
	if out == nil {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		tb.Fatalf("%s %v: decode %s: %v", method, params, raw, err)
	}
}

// Generate mines n blocks to the mining address and returns their hashes.
func (n *Node) Generate(tb testing.TB, count int) []string {
	tb.Helper()
	var hashes []string
	n.MustCall(tb, &hashes, "generate", count)
	if len(hashes) != count {
		tb.Fatalf("generate %d: got %d blocks", count, len(hashes))
	}
	return hashes
}

// Coinbase returns the coin the coinbase of block (a hash) pays to the
// mining address: its first output, spendable by MinerKey once mature.
func (n *Node) Coinbase(tb testing.TB, block string) Coin {
	tb.Helper()
	var blk struct {
		Tx []struct {
			TxID string `json:"txid"`
			Vout []struct {
				Value json.Number `json:"value"`
			} `json:"vout"`
		} `json:"rawtx"` // btcd's name (Bitcoin Core's is "tx")
	}
	n.MustCall(tb, &blk, "getblock", block, 2)
	if len(blk.Tx) == 0 || len(blk.Tx[0].Vout) == 0 {
		tb.Fatalf("btcdtest: block %s has no coinbase output", block)
	}
	h, err := chainhash.NewHashFromStr(blk.Tx[0].TxID)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := ParseBTC(blk.Tx[0].Vout[0].Value.String())
	if err != nil {
		tb.Fatal(err)
	}
	return Coin{TxID: *h, Vout: 0, Value: v, Key: MinerKey()}
}

// Height returns the node's block count (its tip height).
func (n *Node) Height(tb testing.TB) int64 {
	tb.Helper()
	var h int64
	n.MustCall(tb, &h, "getblockcount")
	return h
}

// BlockHash returns the hash of the node's best-chain block at height.
func (n *Node) BlockHash(tb testing.TB, height int64) string {
	tb.Helper()
	var h string
	n.MustCall(tb, &h, "getblockhash", height)
	return h
}

// BestHash returns the hash of the node's best block.
func (n *Node) BestHash(tb testing.TB) string {
	tb.Helper()
	var h string
	n.MustCall(tb, &h, "getbestblockhash")
	return h
}

// SendRawTransaction submits a serialized transaction (hex) and returns its
// txid.
func (n *Node) SendRawTransaction(tb testing.TB, hexTx string) string {
	tb.Helper()
	var txid string
	n.MustCall(tb, &txid, "sendrawtransaction", hexTx)
	return txid
}

// InvalidateBlock marks a block invalid, so the node leaves its branch.
func (n *Node) InvalidateBlock(tb testing.TB, hash string) {
	tb.Helper()
	n.MustCall(tb, nil, "invalidateblock", hash)
}

// ReconsiderBlock clears an InvalidateBlock; the node takes the branch
// back if it has the most work.
func (n *Node) ReconsiderBlock(tb testing.TB, hash string) {
	tb.Helper()
	n.MustCall(tb, nil, "reconsiderblock", hash)
}
