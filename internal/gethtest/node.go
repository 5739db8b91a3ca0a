// Package gethtest starts a real geth in dev mode (--dev) for integration
// tests, and deploys and calls the scenario contracts of testdata/ on it
// (contracts.go).
//
// It is test support: only _test.go files import it. The geth binary is the
// pinned one scripts/setup-geth.sh installs; Start finds it through
// $HEISTGRAPH_GETH, then $(go env GOPATH)/bin, then $PATH. Without it a test
// is skipped with a message naming the script, unless real nodes are
// required (HEISTGRAPH_REQUIRE_NODES=1, or CI set: btcdtest.Required), in
// which case it fails.
package gethtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/heistgraph/heistgraph/internal/btcdtest"
)

// SetupScript is the script that installs geth.
const SetupScript = "scripts/setup-geth.sh"

// ChainID is the chain id of a geth --dev node (the registry's "dev").
const ChainID = 1337

// Options configures a node.
type Options struct {
	// APIs are the HTTP JSON-RPC namespaces served. Default eth, debug,
	// net, web3; leave debug out for a node without the debug API.
	APIs []string
	// Period is --dev.period: 0 seals a block for every transaction as it
	// arrives.
	Period int
	// Args are extra geth flags.
	Args []string
}

// Node is a running geth --dev, stopped when the test ends.
type Node struct {
	// RPCURL is the node's HTTP JSON-RPC endpoint.
	RPCURL string
	// Dev is the developer account: funded in the genesis block, unlocked
	// (eth_sendTransaction signs with it), and the fee recipient of every
	// block.
	Dev common.Address
	// Dir holds its data and its log (geth.log).
	Dir string

	rpc    *rpc.Client
	eth    *ethclient.Client
	cmd    *exec.Cmd
	exited chan struct{}
}

// Binary returns the path of the geth binary, or an error naming the setup
// script.
func Binary() (string, error) { return btcdtest.FindBinary("geth", "HEISTGRAPH_GETH", SetupScript) }

// Start starts geth --dev on free loopback ports with a temporary data
// directory, waits until it answers JSON-RPC, and stops it when tb ends. It
// skips tb (or fails it, when real nodes are required) if geth is not
// installed.
func Start(tb testing.TB, opts Options) *Node {
	tb.Helper()
	bin, err := Binary()
	if err != nil {
		if btcdtest.Required() {
			tb.Fatalf("%v; real nodes are required here (CI or HEISTGRAPH_REQUIRE_NODES=1)", err)
		}
		tb.Skipf("%v", err)
	}
	if len(opts.APIs) == 0 {
		opts.APIs = []string{"eth", "debug", "net", "web3"}
	}
	var last error
	for try := 0; try < 3; try++ { // a free port may be taken before geth binds it
		n, err := start(tb, bin, opts)
		if err == nil {
			return n
		}
		last = err
	}
	tb.Fatalf("gethtest: %v", last)
	return nil
}

func start(tb testing.TB, bin string, opts Options) (*Node, error) {
	dir, err := os.MkdirTemp("", "gethtest-")
	if err != nil {
		return nil, err
	}
	ports := make([]int, 2)
	for i := range ports {
		if ports[i], err = btcdtest.FreePort(); err != nil {
			return nil, err
		}
	}
	n := &Node{RPCURL: "http://127.0.0.1:" + strconv.Itoa(ports[0]), Dir: dir}
	args := []string{
		"--dev", "--dev.period", strconv.Itoa(opts.Period),
		"--datadir", filepath.Join(dir, "data"),
		// Block 0's state is read back with debug_accountRange (the
		// genesis allocations): it needs the addresses' preimages, and,
		// past geth's 128 recent blocks, an archive of every state.
		"--cache.preimages", "--gcmode", "archive", "--state.scheme", "hash",
		"--http", "--http.addr", "127.0.0.1", "--http.port", strconv.Itoa(ports[0]),
		"--http.api", strings.Join(opts.APIs, ","),
		"--authrpc.addr", "127.0.0.1", "--authrpc.port", strconv.Itoa(ports[1]),
		"--port", "0", "--nodiscover", "--maxpeers", "0", "--ipcdisable",
		"--verbosity", "3",
	}
	args = append(args, opts.Args...)
	if err := n.launch(bin, args); err != nil {
		return nil, err
	}
	if err := n.waitReady(60 * time.Second); err != nil {
		n.stop()
		log := n.logTail()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("%w\ngeth log:\n%s", err, log)
	}
	tb.Cleanup(func() {
		n.stop()
		if tb.Failed() {
			tb.Logf("geth log (%s):\n%s", n.Dir, n.logTail())
		}
		os.RemoveAll(dir)
	})
	return n, nil
}

func (n *Node) launch(bin string, args []string) error {
	logf, err := os.OpenFile(filepath.Join(n.Dir, "geth.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	n.exited = make(chan struct{})
	n.cmd = exec.Command(bin, args...)
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	n.cmd.Env = append(os.Environ(), "HOME="+n.Dir) // nothing lands in the real ~/.ethereum
	if err := n.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", bin, err)
	}
	cmd, exited := n.cmd, n.exited
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	return nil
}

// waitReady waits until the node answers eth_accounts with the dev account.
func (n *Node) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client, err := rpc.Dial(n.RPCURL) // over HTTP: no connection yet
	if err != nil {
		return err
	}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		var accts []common.Address
		err = client.CallContext(ctx, &accts, "eth_accounts")
		cancel()
		if err == nil && len(accts) > 0 {
			n.rpc, n.eth, n.Dev = client, ethclient.NewClient(client), accts[0]
			return nil
		}
		if err == nil {
			err = fmt.Errorf("no dev account yet")
		}
		select {
		case <-n.exited:
			return fmt.Errorf("geth exited before answering JSON-RPC: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("geth did not answer JSON-RPC within %v: %v", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// RPC returns the node's JSON-RPC client.
func (n *Node) RPC() *rpc.Client { return n.rpc }

// Eth returns an ethclient on the node.
func (n *Node) Eth() *ethclient.Client { return n.eth }

// Stop stops the node (SIGINT, then SIGKILL after 20s) and waits for it to
// exit. It is safe to call more than once; the test's cleanup calls it.
func (n *Node) Stop() { n.stop() }

func (n *Node) stop() {
	select {
	case <-n.exited:
		return
	default:
	}
	if n.rpc != nil {
		n.rpc.Close()
	}
	_ = n.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-n.exited:
	case <-time.After(20 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.exited
	}
}

func (n *Node) logTail() string {
	b, _ := os.ReadFile(filepath.Join(n.Dir, "geth.log"))
	if len(b) > 6000 {
		b = b[len(b)-6000:]
	}
	return string(b)
}
