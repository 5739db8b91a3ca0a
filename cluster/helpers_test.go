package cluster

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/store/storetest"
)

const chain = heistgraph.ChainBTCRegtest

const (
	wpkh = heistgraph.ScriptWitnessV0KeyHash
	pkh  = heistgraph.ScriptPubKeyHash
	tr   = heistgraph.ScriptWitnessV1Taproot
)

// openMem opens an in-memory Pebble store closed at the end of the test.
func openMem(tb testing.TB) *pebble.DB {
	tb.Helper()
	return openMemCache(tb, pebble.DefaultOptions().UTXOCacheSize)
}

// openMemCache is openMem with an output cache of utxoCache bytes (a
// small one makes the store resolve most spends from its unspent outputs,
// whose fed records leave the spent outputs' addresses out).
func openMemCache(tb testing.TB, utxoCache int64) *pebble.DB {
	tb.Helper()
	opts := pebble.DefaultOptions()
	opts.UTXOCacheSize = utxoCache
	opts.FS = vfs.NewMem()
	opts.CacheSize = 8 << 20
	opts.MemTableSize = 1 << 20
	db, err := pebble.Open("db", opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// out is an output to build: a value at an address (the address names its
// owner in tests) of a script type.
type out struct {
	addr  string
	value int64
	typ   heistgraph.ScriptType
}

func o(addr string, value int64) out                           { return out{addr, value, wpkh} }
func ot(addr string, value int64, t heistgraph.ScriptType) out { return out{addr, value, t} }

// habit is a transaction's fingerprint.
type habit struct {
	version  int32
	lockTime uint32
	sequence uint32
}

var (
	core   = habit{2, 100, 0xfffffffd} // nLockTime set, RBF
	mobile = habit{2, 0, 0xffffffff}
	old    = habit{1, 0, 0xffffffff}
)

// graph builds a chain block by block into an in-memory store.
type graph struct {
	t      testing.TB
	st     *pebble.DB
	height int64
	prev   heistgraph.Hash
	txs    []heistgraph.Tx
	n      int
	// coins maps "txname:vout" to outpoints.
	coins map[string]heistgraph.Outpoint
}

func newGraph(t testing.TB) *graph {
	return &graph{t: t, st: openMem(t), coins: map[string]heistgraph.Outpoint{}}
}

func fakeHash(s string) heistgraph.Hash { return sha256.Sum256([]byte(s)) }

func txOut(x out) heistgraph.TxOut {
	h := fakeHash(x.addr)
	return heistgraph.TxOut{Value: x.value, Type: x.typ, Address: x.addr, Script: append([]byte{0x00, 0x14}, h[:20]...)}
}

// coinbase adds a coinbase paying outs; its outputs are name:0, name:1, ...
func (g *graph) coinbase(name string, outs ...out) {
	tx := heistgraph.Tx{TxID: fakeHash("tx/" + name), Version: 1,
		Inputs: []heistgraph.TxIn{{PrevOut: heistgraph.Outpoint{Vout: 0xffffffff}, Sequence: 0xffffffff, Coinbase: true}}}
	for _, x := range outs {
		tx.Outputs = append(tx.Outputs, txOut(x))
	}
	g.add(name, tx)
}

// spend adds a transaction named name spending the coins ins ("tx:vout")
// into outs with fingerprint h.
func (g *graph) spend(name string, h habit, ins []string, outs ...out) {
	tx := heistgraph.Tx{TxID: fakeHash("tx/" + name), Version: h.version, LockTime: h.lockTime}
	for _, in := range ins {
		op, ok := g.coins[in]
		if !ok {
			g.t.Fatalf("spend %s: no coin %s", name, in)
		}
		tx.Inputs = append(tx.Inputs, heistgraph.TxIn{PrevOut: op, Sequence: h.sequence})
	}
	for _, x := range outs {
		tx.Outputs = append(tx.Outputs, txOut(x))
	}
	g.add(name, tx)
}

// nulldata appends an OP_RETURN output to the last transaction.
func (g *graph) nulldata() {
	tx := &g.txs[len(g.txs)-1]
	tx.Outputs = append(tx.Outputs, heistgraph.TxOut{Type: heistgraph.ScriptNullData, Script: []byte{0x6a, 1, 2}})
}

func (g *graph) add(name string, tx heistgraph.Tx) {
	tx.WTxID = tx.TxID
	tx.Size = 100 + 150*len(tx.Inputs) + 34*len(tx.Outputs)
	tx.Weight = 4 * tx.Size
	for i := range tx.Outputs {
		g.coins[fmt.Sprintf("%s:%d", name, i)] = heistgraph.Outpoint{TxID: tx.TxID, Vout: uint32(i)}
	}
	g.txs = append(g.txs, tx)
}

// mine puts the transactions added since the last mine in a block (with a
// coinbase of its own first) and applies it.
func (g *graph) mine() {
	g.n++
	cb := heistgraph.Tx{TxID: fakeHash(fmt.Sprintf("cb/%d/%v", g.n, g.prev)), Version: 1,
		Inputs:  []heistgraph.TxIn{{PrevOut: heistgraph.Outpoint{Vout: 0xffffffff}, Sequence: 0xffffffff, Coinbase: true}},
		Outputs: []heistgraph.TxOut{txOut(o(fmt.Sprintf("miner-%d", g.n), 5_000_000_000))}}
	b := &heistgraph.Block{Chain: chain, Hash: fakeHash(fmt.Sprintf("block/%d/%v", g.n, g.prev)), PrevHash: g.prev,
		Height: g.height, Time: 1_700_000_000 + 600*g.height, Version: 0x20000000, Size: 81,
		Txs: append([]heistgraph.Tx{cb}, g.txs...)}
	if err := g.st.ApplyBlock(context.Background(), b); err != nil {
		g.t.Fatalf("apply block %d: %v", g.height, err)
	}
	g.txs = nil
	g.prev = b.Hash
	g.height++
}

// empty mines n blocks with nothing but their coinbases.
func (g *graph) empty(n int) {
	for range n {
		g.mine()
	}
}

// update clusters the chain with opts (defaults when nil).
func (g *graph) update(opts *Options) Stats {
	g.t.Helper()
	o := DefaultOptions()
	if opts != nil {
		o = *opts
	}
	s, err := Update(context.Background(), g.st, chain, o)
	if err != nil {
		g.t.Fatalf("update: %v", err)
	}
	return s
}

func (g *graph) clusterOf(addr string) uint64 {
	g.t.Helper()
	m, err := g.st.AddressCluster(context.Background(), chain, addr)
	if err != nil {
		g.t.Fatalf("cluster of %s: %v", addr, err)
	}
	return m.ClusterID
}

// together fails unless the addresses share one cluster.
func (g *graph) together(addrs ...string) {
	g.t.Helper()
	c := g.clusterOf(addrs[0])
	for _, a := range addrs[1:] {
		if g.clusterOf(a) != c {
			g.t.Errorf("%s and %s are in different clusters (%d, %d)", addrs[0], a, c, g.clusterOf(a))
		}
	}
}

// apart fails if two of the addresses share a cluster.
func (g *graph) apart(addrs ...string) {
	g.t.Helper()
	for i, a := range addrs {
		for _, b := range addrs[i+1:] {
			if g.clusterOf(a) == g.clusterOf(b) {
				g.t.Errorf("%s and %s are in one cluster %d", a, b, g.clusterOf(a))
			}
		}
	}
}

// memberships returns every address with its cluster, in id order.
func memberships(t testing.TB, st store.Clusters) []store.ClusterMember {
	t.Helper()
	var out []store.ClusterMember
	for m, err := range st.Memberships(context.Background(), chain) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// evidence returns every evidence record.
func evidence(t testing.TB, st store.Clusters) []heistgraph.ClusterEvidence {
	t.Helper()
	var out []heistgraph.ClusterEvidence
	for e, err := range st.Evidence(context.Background(), chain, store.EvidenceQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// evidenceOf returns the evidence records of heuristic h.
func (g *graph) evidenceOf(h string) []heistgraph.ClusterEvidence {
	var out []heistgraph.ClusterEvidence
	for _, e := range evidence(g.t, g.st) {
		if e.Heuristic == h {
			out = append(out, e)
		}
	}
	return out
}

func (g *graph) label(addr, entity, cat string) {
	g.t.Helper()
	if _, err := g.st.PutLabels(context.Background(), []heistgraph.Label{{Chain: chain, Address: addr, Entity: entity,
		Category: cat, Source: "test", Confidence: 1}}); err != nil {
		g.t.Fatal(err)
	}
}

func wantErr(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("error %v, want one wrapping %v", err, want)
	}
}

func sortedVotes(v []string) []string { return slices.Sorted(slices.Values(v)) }

// reorg replaces the last 12 of blocks, applied to every store of stores
// from storetest.NewGenerator(chain, seed, txs), by a branch: the stores
// are rewound to the fork, and the generator returned continues the
// branch (apply 18 of its blocks for a longer chain).
func reorg(t *testing.T, stores []*pebble.DB, seed uint64, txs int, blocks []*heistgraph.Block) (*storetest.Generator, []*heistgraph.Block) {
	t.Helper()
	fork := int64(len(blocks) - 13)
	regen := storetest.NewGenerator(chain, seed, txs)
	for range fork + 1 {
		regen.Next()
	}
	for _, st := range stores {
		if err := st.RewindTo(context.Background(), chain, fork); err != nil {
			t.Fatal(err)
		}
	}
	return regen.Fork(77), blocks[:fork+1]
}

// applyNext applies the next n blocks of gen to every store of stores and
// returns blocks with them appended.
func applyNext(t *testing.T, stores []*pebble.DB, gen *storetest.Generator, n int, blocks []*heistgraph.Block) []*heistgraph.Block {
	t.Helper()
	for range n {
		b := gen.Next()
		blocks = append(blocks, b)
		for _, st := range stores {
			if err := st.ApplyBlock(context.Background(), b); err != nil {
				t.Fatal(err)
			}
		}
	}
	return blocks
}
