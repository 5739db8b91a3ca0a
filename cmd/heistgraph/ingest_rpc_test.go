package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/heistgraph/heistgraph/internal/btcdtest"
)

// rpcArgs are the flags that point ingest btc at node.
func rpcArgs(node *btcdtest.Node) []string {
	return []string{"ingest", "btc", "--rpc", node.RPCURL, "--rpc-user", node.User, "--rpc-pass", node.Pass}
}

func regtestDigest(t *testing.T, data string) string {
	t.Helper()
	r := cli(t, "--data", data, "--json", "store", "digest", "--chain", "btc-regtest")
	mustOK(t, r, "store digest")
	return decode[map[string]any](t, r.stdout)["digest"].(string)
}

// TestIngestRPC ingests a real btcd node's chain (with a signed spend)
// through the CLI and shows what it stored.
func TestIngestRPC(t *testing.T) {
	t.Parallel()
	node := btcdtest.Start(t, btcdtest.Options{})
	hashes := node.Generate(t, 101)
	var blk struct {
		Tx []string `json:"tx"`
	}
	node.MustCall(t, &blk, "getblock", hashes[0], 1)
	cb, err := chainhash.NewHashFromStr(blk.Tx[0])
	if err != nil {
		t.Fatal(err)
	}
	to := btcdtest.NewKey("cli", btcdtest.P2PKH)
	tx, err := btcdtest.Spend([]btcdtest.Coin{{TxID: *cb, Value: 50e8, Key: btcdtest.MinerKey()}}, []btcdtest.Payment{{Key: to, Value: 50e8 - 3000}})
	if err != nil {
		t.Fatal(err)
	}
	node.SendRawTransaction(t, tx.Hex())
	node.Generate(t, 3)

	data := t.TempDir()
	args := append([]string{"--data", data, "--json"}, rpcArgs(node)...)
	r := cli(t, append(args, "--network", "regtest", "--confirmations", "2")...)
	mustOK(t, r, "ingest --rpc")
	rep := decode[map[string]any](t, r.stdout)
	if rep["chain"] != "btc-regtest" || rep["rpc"] != node.RPCURL || rep["tip_height"] != float64(102) || rep["blocks"] != float64(103) {
		t.Fatalf("report %v: want chain btc-regtest from %s, blocks 0..102 (2 confirmations)", rep, node.RPCURL)
	}
	r = cli(t, args...)
	mustOK(t, r, "ingest --rpc again")
	if rep = decode[map[string]any](t, r.stdout); rep["tip_hash"] != node.BestHash(t) || rep["blocks"] != float64(2) {
		t.Fatalf("report %v: want the last 2 blocks, tip %s", rep, node.BestHash(t))
	}
	r = cli(t, "--data", data, "--json", "show", "tx", tx.TxID().String(), "--chain", "btc-regtest")
	mustOK(t, r, "show tx")
	shown := decode[map[string]any](t, r.stdout)
	if shown["fee_sat"] != float64(3000) || shown["block_height"] != float64(102) {
		t.Fatalf("show tx: %v; want fee 3000 in block 102", shown)
	}
	r = cli(t, "--data", data, "--json", "show", "address", to.Address(), "--chain", "btc-regtest")
	mustOK(t, r, "show address")
	if a := decode[map[string]any](t, r.stdout); a["balance_sat"] != float64(50e8-3000) {
		t.Fatalf("show address: %v", a)
	}
}

// TestIngestRPCErrors: wrong network and bad credentials are bad input
// (exit 2), an unreachable node a failure naming its URL (exit 1), and
// flags that do not go together are bad usage.
func TestIngestRPCErrors(t *testing.T) {
	t.Parallel()
	node := btcdtest.Start(t, btcdtest.Options{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{name: "wrong network", args: append(rpcArgs(node), "--network", "mainnet"), code: exitUsage, msg: "serves regtest, not mainnet"},
		{name: "bad password", args: []string{"ingest", "btc", "--rpc", node.RPCURL, "--rpc-user", node.User, "--rpc-pass", "nope"}, code: exitUsage, msg: "401"},
		{name: "unreachable", args: []string{"ingest", "btc", "--rpc", closed, "--rpc-retry", "0"}, code: exitFailure, msg: closed},
		{name: "unreachable with retries", args: []string{"ingest", "btc", "--rpc", closed, "--rpc-retry", "300ms"}, code: exitFailure, msg: "gave up after"},
		{name: "bad url", args: []string{"ingest", "btc", "--rpc", "ftp://x"}, code: exitUsage, msg: "--rpc"},
		{name: "blocks and rpc", args: append(rpcArgs(node), "--blocks", blocks1to255), code: exitUsage, msg: "not both"},
		{name: "follow without rpc", args: []string{"ingest", "btc", "--blocks", blocks1to255, "--follow"}, code: exitUsage, msg: "need --rpc"},
		{name: "negative confirmations", args: append(rpcArgs(node), "--confirmations", "-1"), code: exitUsage, msg: "--confirmations"},
		{name: "no source", args: []string{"ingest", "btc"}, code: exitUsage, msg: "--rpc URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := cli(t, append([]string{"--data", t.TempDir(), "--json"}, tc.args...)...)
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			last := lines[len(lines)-1]
			if r.code != tc.code || !strings.Contains(last, tc.msg) || !strings.HasPrefix(last, `{"error":`) {
				t.Fatalf("exit %d, last stderr line %s; want exit %d and a JSON error saying %q", r.code, last, tc.code, tc.msg)
			}
		})
	}
}

// TestIngestRPCPassFromEnv takes the password from $HEISTGRAPH_RPC_PASS.
func TestIngestRPCPassFromEnv(t *testing.T) {
	node := btcdtest.Start(t, btcdtest.Options{})
	node.Generate(t, 3)
	t.Setenv("HEISTGRAPH_RPC_PASS", node.Pass)
	r := cli(t, "--data", t.TempDir(), "--quiet", "ingest", "btc", "--rpc", node.RPCURL, "--rpc-user", node.User)
	mustOK(t, r, "ingest with the password from the environment")
}

// lockedBuffer is a bytes.Buffer safe to write from the command's
// goroutines while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitLog waits until the log holds a line matching re.
func waitLog(t *testing.T, log interface{ String() string }, re string) {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(20 * time.Second)
	for !rx.MatchString(log.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no log line matching %q:\n%s", re, log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestIngestRPCFollow follows a node through new blocks and a reorg until
// the context is cancelled (as SIGINT does), then exits 0 with a summary;
// the store equals a fresh ingest of the node's chain.
func TestIngestRPCFollow(t *testing.T) {
	t.Parallel()
	node := btcdtest.Start(t, btcdtest.Options{})
	node.Generate(t, 10)
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		args := append([]string{"--data", data, "--json"}, rpcArgs(node)...)
		done <- run(ctx, append(args, "--follow", "--poll", "20ms"), strings.NewReader(""), &stdout, &stderr)
	}()
	caughtUp := func(h int64) string {
		return `caught up.* height=` + strconv.FormatInt(h, 10) + ` hash=` + node.BestHash(t)
	}
	waitLog(t, &stderr, caughtUp(10))
	node.Generate(t, 3)
	waitLog(t, &stderr, caughtUp(13))
	node.InvalidateBlock(t, node.BlockHash(t, 12))
	node.Generate(t, 3)
	waitLog(t, &stderr, `ingest: reorg.* old_tip=13 .*fork=11`)
	waitLog(t, &stderr, caughtUp(14))
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("follow exited %d after cancellation:\n%s", code, stderr.String())
	}
	rep := decode[map[string]any](t, stdout.String())
	if rep["reorgs"] != float64(1) || rep["tip_hash"] != node.BestHash(t) {
		t.Fatalf("summary %v: want 1 reorg and tip %s", rep, node.BestHash(t))
	}
	fresh := t.TempDir()
	mustOK(t, cli(t, append([]string{"--data", fresh, "--quiet"}, rpcArgs(node)...)...), "fresh ingest")
	if regtestDigest(t, data) != regtestDigest(t, fresh) {
		t.Fatal("followed store differs from a fresh ingest of the node's chain")
	}
}

// TestIngestRPCFollowSIGTERM runs the command as a real process and stops
// it with SIGTERM: it exits 0 and prints its summary.
func TestIngestRPCFollowSIGTERM(t *testing.T) {
	t.Parallel()
	node := btcdtest.Start(t, btcdtest.Options{})
	node.Generate(t, 5)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--data", t.TempDir(), "--json"}, rpcArgs(node)...)
	cmd := exec.Command(exe, append(args, "--follow", "--poll", "20ms")...)
	cmd.Env = append(os.Environ(), "HEISTGRAPH_TEST_CLI=1")
	var stdout bytes.Buffer
	var stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitLog(t, &stderr, `caught up.* height=5 `)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v\n%s", err, stderr.String())
	}
	if rep := decode[map[string]any](t, stdout.String()); rep["tip_height"] != float64(5) {
		t.Fatalf("summary %v", rep)
	}
}
