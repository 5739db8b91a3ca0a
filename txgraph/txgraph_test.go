package txgraph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/bitcoin"
	"github.com/heistgraph/heistgraph/ingest"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/synth"
	"github.com/heistgraph/heistgraph/trace"
	"github.com/heistgraph/heistgraph/txgraph"
)

const chain = heistgraph.ChainBTCRegtest

func openStore(t testing.TB) *pebble.DB {
	t.Helper()
	st, err := pebble.Open("", pebble.Options{FS: vfs.NewMem(), CacheSize: 8 << 20, MemTableSize: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// world is a small synthetic world: its blocks in chain order, its truth,
// and a store holding it.
type world struct {
	blocks []*heistgraph.Block
	truth  *synth.Truth
	st     *pebble.DB
}

var worlds = map[int64]*world{}

func synthWorld(t testing.TB, seed int64) *world {
	t.Helper()
	if w, ok := worlds[seed]; ok {
		return w
	}
	dir := t.TempDir()
	ctx := context.Background()
	if _, err := synth.Generate(ctx, synth.Options{Dir: dir, Seed: seed, Scale: synth.Small}); err != nil {
		t.Fatal(err)
	}
	truth, err := synth.LoadTruth(filepath.Join(dir, synth.TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	net := heistgraph.Regtest
	src, err := bitcoin.NewFileSource([]string{dir}, bitcoin.FileOptions{Network: &net})
	if err != nil {
		t.Fatal(err)
	}
	st, err := pebble.Open("", pebble.Options{FS: vfs.NewMem(), CacheSize: 8 << 20, MemTableSize: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{truth: truth, st: st}
	opts := ingest.Options{Events: ingest.Events{BlockApplied: func(b *heistgraph.Block) { w.blocks = append(w.blocks, b) }}}
	if _, err := ingest.Stream(ctx, st, src, opts); err != nil {
		t.Fatal(err)
	}
	worlds[seed] = w
	return w
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, w := range worlds {
		w.st.Close()
	}
	os.Exit(code)
}

func build(t testing.TB, st *pebble.DB, path string) (*txgraph.Graph, txgraph.Stats) {
	t.Helper()
	stats, err := txgraph.Update(context.Background(), st, chain, path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := txgraph.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g, stats
}

// trimmed is rec without the fields the graph leaves out (package doc).
func trimmed(rec heistgraph.TxRecord) heistgraph.TxRecord {
	rec.Tx.WTxID, rec.Tx.Version, rec.Tx.LockTime, rec.Tx.Size, rec.Tx.Weight = heistgraph.Hash{}, 0, 0, 0, 0
	for i := range rec.Tx.Inputs {
		rec.Tx.Inputs[i].Sequence = 0
	}
	trimOutputs(&rec)
	return rec
}

// trimOutputs drops what the graph keeps of no output, the spent ones
// (rec's prevouts) included: multisig keys, and the script of an output
// with an address.
func trimOutputs(rec *heistgraph.TxRecord) {
	trim := func(o *heistgraph.TxOut) {
		o.Keys = nil
		if o.Address != "" {
			o.Script = nil
		}
	}
	for i := range rec.Tx.Outputs {
		trim(&rec.Tx.Outputs[i])
	}
	for _, p := range rec.Prevouts {
		if p != nil {
			trim(p)
		}
	}
}

// TestReaderMatchesStore reads every transaction, output and address of
// a synthetic world through the graph and through the store: equal, but
// for the fields the graph leaves out.
func TestReaderMatchesStore(t *testing.T) {
	w := synthWorld(t, 3)
	ctx := context.Background()
	g, stats := build(t, w.st, filepath.Join(t.TempDir(), "g.txg"))
	if !stats.Rebuilt || stats.Blocks != len(w.blocks) {
		t.Fatalf("stats %+v, want a build of %d blocks", stats, len(w.blocks))
	}
	r := txgraph.NewReader(g, w.st)
	txs, outs, addrs := 0, 0, map[string]bool{}
	for _, b := range w.blocks {
		for _, tx := range b.Txs {
			want, err := w.st.Tx(ctx, chain, tx.TxID)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.Tx(ctx, chain, tx.TxID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(trimmed(got), trimmed(want)) {
				t.Fatalf("tx %s:\ngraph %+v\nstore %+v", tx.TxID, trimmed(got), trimmed(want))
			}
			txs++
			for n, o := range tx.Outputs {
				op := heistgraph.Outpoint{TxID: tx.TxID, Vout: uint32(n)}
				want, err := w.st.Output(ctx, chain, op)
				if err != nil {
					t.Fatal(err)
				}
				got, err := r.Output(ctx, chain, op)
				if err != nil {
					t.Fatal(err)
				}
				want.Keys = nil
				if want.Address != "" {
					want.Script = nil
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("output %s:\ngraph %+v\nstore %+v", op, got, want)
				}
				outs++
				if o.Address != "" && !addrs[o.Address] {
					addrs[o.Address] = true
					s, err := w.st.Address(ctx, chain, o.Address)
					if err != nil {
						t.Fatal(err)
					}
					h, ok, err := r.FirstHeight(ctx, chain, o.Address)
					if err != nil || !ok || h != s.FirstHeight {
						t.Fatalf("first height of %s: %d %v %v, store %d", o.Address, h, ok, err, s.FirstHeight)
					}
				}
			}
		}
	}
	if _, ok, _ := r.FirstHeight(ctx, chain, "bcrt1qnotinthegraph"); ok {
		t.Error("an address the graph does not hold has a first height")
	}
	var missing heistgraph.Hash
	missing[0] = 1
	if _, err := r.Tx(ctx, chain, missing); err == nil {
		t.Error("a txid nothing stores was found")
	}
	if g.Txs() != txs {
		t.Errorf("graph holds %d txs, the world %d", g.Txs(), txs)
	}
	t.Logf("%d txs, %d outputs, %d addresses compared", txs, outs, len(addrs))
}

// truthResolver names the entity of an address from the world's truth.
type truthResolver map[string]heistgraph.EntityRef

func (r truthResolver) Resolve(_ context.Context, _ heistgraph.Chain, addr string) (heistgraph.EntityRef, bool, error) {
	ref, ok := r[addr]
	return ref, ok, nil
}

// TestTraceIdentical traces every heist of two synthetic worlds under
// every policy, stopping at CoinJoins and going through them, with entity
// stops from the truth and without: the JSON and GraphML of a trace read
// through the graph are byte-identical to those read from the store.
func TestTraceIdentical(t *testing.T) {
	ctx := context.Background()
	for _, seed := range []int64{3, 11} {
		w := synthWorld(t, seed)
		g, _ := build(t, w.st, filepath.Join(t.TempDir(), "g.txg"))
		gr := txgraph.NewReader(g, w.st)
		labels := truthResolver{}
		for _, e := range w.truth.Entities {
			for _, a := range e.Addresses {
				labels[a] = heistgraph.EntityRef{Name: e.ID, Category: e.Category}
			}
		}
		runs, visits := 0, 0
		for _, h := range w.truth.Heists {
			seeds, err := trace.ParseSeeds(h.Seeds)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range trace.Policies() {
				for _, through := range []trace.Policy{"", trace.Haircut, trace.FIFO} {
					for _, res := range []trace.Resolver{nil, labels} {
						opts := trace.Options{Chain: chain, Seeds: seeds, Policy: p, ThroughCoinJoin: through, Resolver: res}
						name := fmt.Sprintf("seed %d %s %s through=%q labels=%v", seed, h.ID, p, through, res != nil)
						want := render(t, ctx, w.st, opts, name)
						got := render(t, ctx, gr, opts, name)
						if !bytes.Equal(got, want) {
							t.Fatalf("%s: the graph's trace differs:\ngraph %s\nstore %s", name, got, want)
						}
						runs++
						var v struct {
							Stats trace.Stats `json:"stats"`
						}
						if err := json.NewDecoder(bytes.NewReader(got)).Decode(&v); err != nil {
							t.Fatal(err)
						}
						visits += v.Stats.TxsVisited
					}
				}
			}
		}
		if runs == 0 || visits < 10*runs {
			t.Fatalf("seed %d: %d traces visited %d txs: too little to compare", seed, runs, visits)
		}
		t.Logf("seed %d: %d traces, %d txs visited, identical", seed, runs, visits)
	}
}

// render runs a trace and returns its JSON and GraphML, Stats.MS zeroed.
func render(t *testing.T, ctx context.Context, r store.ChainReader, opts trace.Options, name string) []byte {
	t.Helper()
	res, err := trace.Run(ctx, r, opts)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	res.Stats.MS = 0
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var gml bytes.Buffer
	if err := res.WriteGraphML(&gml); err != nil {
		t.Fatal(err)
	}
	return append(b, gml.Bytes()...)
}

// TestUpdateExtendsAndRewinds builds the graph of half a world, extends it
// block by block to the whole (the file then equals a build from
// scratch), and after a rewind of the store rebuilds it: Current says
// when the graph no longer holds the store's tip.
func TestUpdateExtendsAndRewinds(t *testing.T) {
	w := synthWorld(t, 3)
	ctx := context.Background()
	st, half, full, path := halfStore(t, w)
	s, err := txgraph.Update(ctx, st, chain, path)
	if err != nil || !s.Rebuilt || s.Blocks != half {
		t.Fatalf("first build: %+v %v", s, err)
	}
	current := func(want bool) {
		t.Helper()
		g, err := txgraph.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		ok, err := g.Current(ctx, st)
		if err != nil || ok != want {
			t.Fatalf("current %v %v, want %v", ok, err, want)
		}
	}
	current(true)
	for i, b := range w.blocks[half:] {
		if err := st.ApplyBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
		if i%7 != 0 && i != len(w.blocks)-half-1 {
			continue
		}
		current(false)
		s, err := txgraph.Update(ctx, st, chain, path)
		if err != nil || s.Rebuilt || s.TipHeight != b.Height {
			t.Fatalf("extend to %d: %+v %v", b.Height, s, err)
		}
		current(true)
	}
	if s, err := txgraph.Update(ctx, st, chain, path); err != nil || s.Blocks != 0 || s.Rebuilt {
		t.Fatalf("update of a current graph: %+v %v", s, err)
	}
	if a, b := readFile(t, path), readFile(t, full); !bytes.Equal(a, b) {
		t.Fatalf("the extended graph (%d bytes) differs from one built at once (%d bytes)", len(a), len(b))
	}

	// A reorg: the graph's last block leaves the chain.
	tip := w.blocks[len(w.blocks)-1].Height
	if err := st.RewindTo(ctx, chain, tip-5); err != nil {
		t.Fatal(err)
	}
	current(false)
	s, err = txgraph.Update(ctx, st, chain, path)
	if err != nil || !s.Rebuilt || s.TipHeight != tip-5 {
		t.Fatalf("after the rewind: %+v %v", s, err)
	}
	current(true)
	g, err := txgraph.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	r := txgraph.NewReader(g, st)
	for _, blk := range w.blocks {
		for _, tx := range blk.Txs {
			want, werr := st.Tx(ctx, chain, tx.TxID)
			got, gerr := r.Tx(ctx, chain, tx.TxID)
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("tx %s: store %v, graph %v", tx.TxID, werr, gerr)
			}
			if werr == nil && !reflect.DeepEqual(trimmed(got), trimmed(want)) {
				t.Fatalf("tx %s after the rewind:\ngraph %+v\nstore %+v", tx.TxID, trimmed(got), trimmed(want))
			}
		}
	}
}

// TestUpdateByEveryRead builds one world's graph through each way Update
// reads a store (ranges with the store's address ids, ranges with the
// addresses, block by block, a lookup per transaction): the same file.
func TestUpdateByEveryRead(t *testing.T) {
	w := synthWorld(t, 3)
	_, want := worldGraph(t, w)
	type ranges interface {
		store.ChainReader
		store.BlockRangeTxs
	}
	type blocks interface {
		store.ChainReader
		store.BlockTxs
	}
	for _, tc := range []struct {
		name string
		r    store.ChainReader
	}{
		{"ranges with ids", w.st},
		{"ranges", struct{ ranges }{w.st}},
		{"block by block", struct{ blocks }{w.st}},
		{"tx by tx", struct{ store.ChainReader }{w.st}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "g.txg")
			if _, err := txgraph.Update(context.Background(), tc.r, chain, path); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(readFile(t, path), want) {
				t.Fatal("the graph differs from the one built by the store's fastest read")
			}
		})
	}
}

// TestUpdateLeavesNothing checks that a build leaves only its graph in
// the folder (the files its arrays spill to are removed as they are
// created), and that an update stopped midway leaves the graph it had,
// byte for byte, and nothing beside it.
func TestUpdateLeavesNothing(t *testing.T) {
	w := synthWorld(t, 3)
	st, half, full, path := halfStore(t, w)
	dir := filepath.Dir(path)
	files := func() []string {
		t.Helper()
		es, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		return names
	}
	want := []string{filepath.Base(full), filepath.Base(path)}
	if _, err := txgraph.Update(context.Background(), st, chain, path); err != nil {
		t.Fatal(err)
	}
	if got := files(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after a build the folder holds %q, want %q", got, want)
	}
	before := readFile(t, path)
	for _, b := range w.blocks[half:] {
		if err := st.ApplyBlock(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := txgraph.Update(ctx, st, chain, path); !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped update: %v, want %v", err, context.Canceled)
	}
	if got := files(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after a stopped update the folder holds %q, want %q", got, want)
	}
	if !bytes.Equal(readFile(t, path), before) {
		t.Fatal("a stopped update changed the graph")
	}
}

// halfStore builds w's whole graph at full (in a temporary folder) and
// returns a store holding the first half of w's blocks, that half's
// number of blocks, and a path beside full for a graph of the store.
func halfStore(t *testing.T, w *world) (st *pebble.DB, half int, full, path string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	full, path = filepath.Join(dir, "full.txg"), filepath.Join(dir, "g.txg")
	if _, err := txgraph.Update(ctx, w.st, chain, full); err != nil {
		t.Fatal(err)
	}
	st = openStore(t)
	half = len(w.blocks) / 2
	for _, b := range w.blocks[:half] {
		if err := st.ApplyBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	return st, half, full, path
}

// worldGraph builds w's graph in a temporary folder and returns its path
// and bytes.
func worldGraph(t testing.TB, w *world) (path string, b []byte) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "g.txg")
	if _, err := txgraph.Update(context.Background(), w.st, chain, path); err != nil {
		t.Fatal(err)
	}
	return path, readFile(t, path)
}

// readFile returns the bytes of the file at path.
func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOpenRejectsDamage opens truncated graph files: an error wrapping
// ErrFormat from Open, which checks that the sections lie inside the file
// (damage inside the arrays is met by the reads: TestReadsMeetDamage).
func TestOpenRejectsDamage(t *testing.T) {
	w := synthWorld(t, 3)
	dir := t.TempDir()
	_, good := worldGraph(t, w)
	for _, n := range []int{0, 7, 16, 100, len(good) / 2, len(good) - 8} {
		bad := filepath.Join(dir, fmt.Sprintf("cut%d.txg", n))
		if err := os.WriteFile(bad, good[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		if g, err := txgraph.Open(bad); err == nil {
			g.Close()
			t.Errorf("a graph cut at %d bytes opened", n)
		} else if n > 0 && !errors.Is(err, txgraph.ErrFormat) {
			t.Errorf("cut at %d: %v, want ErrFormat", n, err)
		}
	}
	if _, err := txgraph.Open(filepath.Join(dir, "none.txg")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing graph: %v, want os.ErrNotExist", err)
	}
}

// FuzzOpen opens damaged graph files (a small world's, with bytes
// changed or cut) and reads those that open through every read
// (readAll): an error wrapping ErrFormat, from Open, from a read or from
// Err, or an answer; never a panic. A file whose numbers all check
// (Verify) reads without an error.
func FuzzOpen(f *testing.F) {
	w := synthWorld(f, 3)
	_, good := worldGraph(f, w)
	f.Add(uint32(0), byte(0), uint32(len(good)))
	f.Add(uint32(len(good)/3), byte(0xff), uint32(len(good)))
	f.Add(uint32(len(good)-5), byte(0x80), uint32(len(good)))
	f.Add(uint32(20), byte('9'), uint32(len(good)))
	// Inside the arrays, where only the reads look: a transaction's
	// outputs, an output's address and an input's spent output.
	secs := sectionsOf(f, good)
	for _, c := range []struct {
		name string
		size uint64
	}{{"tx_nout", 4}, {"out_addr", 4}, {"in_spent", 8}, {"addr_off", 8}, {"tx_slots", 4}} {
		s := secs[c.name]
		f.Add(uint32(s.Off+s.Len/2*c.size+c.size-1), byte(0x40), uint32(len(good)))
	}
	f.Fuzz(func(t *testing.T, at uint32, x byte, cut uint32) {
		b := append([]byte(nil), good[:min(int(cut), len(good))]...)
		if len(b) > 0 {
			b[int(at)%len(b)] ^= x
		}
		p := filepath.Join(t.TempDir(), "f.txg")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		g, err := txgraph.Open(p)
		if err != nil {
			if !errors.Is(err, txgraph.ErrFormat) {
				t.Fatalf("%v, want ErrFormat", err)
			}
			return
		}
		defer g.Close()
		whole := g.Verify()
		if whole != nil && !errors.Is(whole, txgraph.ErrFormat) {
			t.Fatalf("Verify: %v, want ErrFormat", whole)
		}
		errs := readAll(t, g, w)
		if whole == nil && len(errs) > 0 {
			t.Fatalf("a graph Verify passes: reads met %v", errs)
		}
	})
}

// TestNumbersMatchRecords reads every transaction of a synthetic world by
// number (trace.TxNumbers) and checks each field against the record Tx
// reads: place, inputs (what they spend, known or not, coinbase), outputs
// (value, address, burn as trace decides it, spender), and the record
// NumberedRecord builds.
func TestNumbersMatchRecords(t *testing.T) {
	w := synthWorld(t, 3)
	ctx := context.Background()
	g, _ := build(t, w.st, filepath.Join(t.TempDir(), "g.txg"))
	r := txgraph.NewReader(g, w.st)
	var _ trace.TxNumbers = r
	view := r.TxView()
	if _, ok := r.TxNumber(heistgraph.ChainBTC, w.blocks[1].Txs[0].TxID); ok {
		t.Error("a transaction of another chain has a number")
	}
	numbered := 0
	for _, b := range w.blocks {
		for _, tx := range b.Txs {
			rec, err := r.Tx(ctx, chain, tx.TxID)
			if err != nil {
				t.Fatal(err)
			}
			n, ok := r.TxNumber(chain, tx.TxID)
			if !ok {
				continue
			}
			numbered++
			id, h, idx, tm, nin, nout := r.NumberedTx(n)
			if id != tx.TxID || h != rec.Block.Height || idx != rec.Index || tm != rec.Block.Time || nin != len(rec.Tx.Inputs) || nout != len(rec.Tx.Outputs) {
				t.Fatalf("tx %s: number %d reads %s %d %d %d %d %d", tx.TxID, n, id, h, idx, tm, nin, nout)
			}
			for vin, in := range rec.Tx.Inputs {
				prev, vout, known, cb := r.NumberedInput(n, vin)
				if cb != in.Coinbase || vout != in.PrevOut.Vout || known != (rec.Prevouts[vin] != nil) {
					t.Fatalf("tx %s input %d: %d %d %v %v", tx.TxID, vin, prev, vout, known, cb)
				}
				if v, ok := r.NumberedInputValue(n, vin); ok != known || (known && v != rec.Prevouts[vin].Value) || (!known && v != 0) {
					t.Fatalf("tx %s input %d: NumberedInputValue %d %v", tx.TxID, vin, v, ok)
				}
				if known {
					pid, _, _, _, _, _ := r.NumberedTx(prev)
					v, a, _, _, _ := r.NumberedOutput(prev, int(vout))
					if pid != in.PrevOut.TxID || v != rec.Prevouts[vin].Value || addr(r, a) != rec.Prevouts[vin].Address || r.NumberedInputAddress(n, vin) != a {
						t.Fatalf("tx %s input %d spends %s:%d worth %d at %q", tx.TxID, vin, pid, vout, v, addr(r, a))
					}
				}
			}
			for vout, o := range rec.Tx.Outputs {
				v, a, burn, sp, spVin := r.NumberedOutput(n, vout)
				if w := r.Warm(sp); sp == txgraph.NoTx && w != 0 { // the trace warms every spender it has (NoTx: unspent)
					t.Fatalf("tx %s output %d: Warm(NoTx) = %d", tx.TxID, vout, w)
				}
				wantBurn := o.Type == heistgraph.ScriptNullData || (len(o.Script) > 0 && o.Script[0] == 0x6a)
				if v != o.Value || addr(r, a) != o.Address || burn != wantBurn {
					t.Fatalf("tx %s output %d: %d %q %v", tx.TxID, vout, v, addr(r, a), burn)
				}
				if a != txgraph.NoAddress {
					h, ok, err := r.FirstHeight(ctx, chain, o.Address)
					if err != nil || !ok || r.NumberedFirstHeight(a) != h {
						t.Fatalf("tx %s output %d: first height %d, FirstHeight %d %v %v", tx.TxID, vout, r.NumberedFirstHeight(a), h, ok, err)
					}
				}
				switch by := rec.SpentBy[vout]; {
				case by == nil && sp != txgraph.NoTx:
					t.Fatalf("tx %s output %d: unspent, spender %d", tx.TxID, vout, sp)
				case by != nil:
					sid, _, _, _, _, _ := r.NumberedTx(sp)
					if sp == txgraph.NoTx || sid != by.TxID || spVin != by.Vin {
						t.Fatalf("tx %s output %d: spent by %v, number %d reads %s:%d", tx.TxID, vout, *by, sp, sid, spVin)
					}
				}
			}
			if fee, known := r.NumberedFee(n); known && (!rec.FeeKnown || fee != rec.Fee) {
				t.Fatalf("tx %s: fee %d known, the record's %d %v", tx.TxID, fee, rec.Fee, rec.FeeKnown)
			}
			if got := r.NumberedRecord(n); !reflect.DeepEqual(got, rec) {
				t.Fatalf("tx %s: NumberedRecord\n%+v\nTx\n%+v", tx.TxID, got, rec)
			}
			// The view: what the CoinJoin detectors read, equal to the
			// record's (inputs' outpoints, outputs, prevouts).
			v := view(n)
			if v.Tx.TxID != rec.Tx.TxID || v.Block != rec.Block || v.Index != rec.Index || len(v.Tx.Inputs) != len(rec.Tx.Inputs) ||
				!reflect.DeepEqual(v.Tx.Outputs, rec.Tx.Outputs) || len(v.Prevouts) != len(rec.Prevouts) {
				t.Fatalf("tx %s: TxView\n%+v\nTx\n%+v", tx.TxID, *v, rec)
			}
			for k, in := range rec.Tx.Inputs {
				if v.Tx.Inputs[k].PrevOut != in.PrevOut || v.Tx.Inputs[k].Coinbase != in.Coinbase ||
					!reflect.DeepEqual(v.Prevouts[k], rec.Prevouts[k]) {
					t.Fatalf("tx %s input %d: TxView %+v %+v, Tx %+v %+v", tx.TxID, k, v.Tx.Inputs[k], v.Prevouts[k], in, rec.Prevouts[k])
				}
			}
		}
	}
	if numbered == 0 {
		t.Fatal("no transaction answered by number")
	}
	t.Logf("%d transactions read by number", numbered)
}

// addr returns address id a as NumberedAddress gives it, checking that
// AppendNumberedAddress appends the same.
func addr(r *txgraph.Reader, a uint32) string {
	if a == txgraph.NoAddress {
		return ""
	}
	s := r.NumberedAddress(a)
	if b := r.AppendNumberedAddress([]byte("x"), a); string(b) != "x"+s {
		panic(fmt.Sprintf("address %d: AppendNumberedAddress appends %q, NumberedAddress %q", a, b[1:], s))
	}
	return s
}
