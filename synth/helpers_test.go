package synth

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// testSeed is the seed of the small world most tests share.
const testSeed = 7

// shared is the small world generated once for the tests of this package,
// with its chain decoded by btcd's wire package (not by the generator).
var shared struct {
	once    sync.Once
	dir     string
	summary Summary
	truth   *Truth
	chain   *chain
	err     error
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, dir := range []string{shared.dir, evmShared.dir} {
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	os.Exit(code)
}

// testWorld returns the shared small world.
func testWorld(t testing.TB) (string, Summary, *Truth, *chain) {
	t.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "synth-test-")
		if shared.err != nil {
			return
		}
		shared.summary, shared.err = Generate(context.Background(), Options{Dir: shared.dir, Seed: testSeed, Scale: Small})
		if shared.err != nil {
			return
		}
		shared.truth, shared.err = LoadTruth(filepath.Join(shared.dir, TruthFile))
		if shared.err != nil {
			return
		}
		shared.chain, shared.err = readChain(shared.dir, shared.summary.Files)
	})
	if shared.err != nil {
		t.Fatalf("shared world: %v", shared.err)
	}
	return shared.dir, shared.summary, shared.truth, shared.chain
}

// chain is a decoded chain: blocks in file order, every transaction with
// its place, and every output with its address.
type chain struct {
	blocks []*wire.MsgBlock
	txs    []chainTx
	byID   map[chainhash.Hash]int
	outs   map[wire.OutPoint]chainOut
}

type chainTx struct {
	tx     *wire.MsgTx
	txid   chainhash.Hash
	height int
	time   int64
	cb     bool
}

type chainOut struct {
	value  int64
	script []byte
	addr   string // "" for OP_RETURN
	height int
	cb     bool
}

// readChain decodes the blk files in dir (regtest magic, 4-byte length,
// raw block) with wire.
func readChain(dir string, files []string) (*chain, error) {
	c := &chain{byID: map[chainhash.Hash]int{}, outs: map[wire.OutPoint]chainOut{}}
	height := 0
	for _, name := range files {
		if filepath.Ext(name) != ".dat" {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		r := bytes.NewReader(raw)
		for r.Len() > 0 {
			var hdr [8]byte
			if _, err := io.ReadFull(r, hdr[:]); err != nil {
				return nil, fmt.Errorf("%s: record header: %w", name, err)
			}
			if !bytes.Equal(hdr[:4], []byte{0xfa, 0xbf, 0xb5, 0xda}) {
				return nil, fmt.Errorf("%s: magic %x", name, hdr[:4])
			}
			n := binary.LittleEndian.Uint32(hdr[4:])
			body := make([]byte, n)
			if _, err := io.ReadFull(r, body); err != nil {
				return nil, fmt.Errorf("%s: block body: %w", name, err)
			}
			var b wire.MsgBlock
			br := bytes.NewReader(body)
			if err := b.Deserialize(br); err != nil {
				return nil, fmt.Errorf("%s: block %d: %w", name, height+1, err)
			}
			if br.Len() != 0 {
				return nil, fmt.Errorf("%s: block %d: %d trailing bytes", name, height+1, br.Len())
			}
			height++
			c.blocks = append(c.blocks, &b)
			for i, tx := range b.Transactions {
				id := tx.TxHash()
				c.byID[id] = len(c.txs)
				c.txs = append(c.txs, chainTx{tx: tx, txid: id, height: height, time: b.Header.Timestamp.Unix(), cb: i == 0})
				for v, o := range tx.TxOut {
					c.outs[wire.OutPoint{Hash: id, Index: uint32(v)}] = chainOut{
						value: o.Value, script: o.PkScript, addr: scriptAddr(o.PkScript), height: height, cb: i == 0,
					}
				}
			}
		}
	}
	return c, nil
}

// scriptAddr returns the regtest address an output script pays, by
// txscript, or "" for none.
func scriptAddr(script []byte) string {
	_, addrs, _, err := txscript.ExtractPkScriptAddrs(script, &chaincfg.RegressionNetParams)
	if err != nil || len(addrs) != 1 {
		return ""
	}
	return addrs[0].EncodeAddress()
}

// scriptClass returns txscript's class of an output script.
func scriptClass(script []byte) txscript.ScriptClass { return txscript.GetScriptClass(script) }

// vsize is the virtual size of tx.
func vsize(tx *wire.MsgTx) int64 {
	w := tx.SerializeSizeStripped()*3 + tx.SerializeSize()
	return int64(w+3) / 4
}

// inputValue returns the total value tx's inputs spend.
func (c *chain) inputValue(tx *wire.MsgTx) int64 {
	var v int64
	for _, in := range tx.TxIn {
		v += c.outs[in.PreviousOutPoint].value
	}
	return v
}

func outputValue(tx *wire.MsgTx) int64 {
	var v int64
	for _, o := range tx.TxOut {
		v += o.Value
	}
	return v
}

// kinds maps the truth's CoinJoin txids to their kind.
func kinds(tr *Truth) map[string]string {
	m := map[string]string{}
	for _, c := range tr.CoinJoins {
		m[c.Txid] = c.Kind
	}
	return m
}
