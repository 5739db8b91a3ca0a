package synth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/heistgraph/heistgraph"
)

func fileHashes(t *testing.T, dir string, files []string) map[string][32]byte {
	t.Helper()
	m := map[string][32]byte{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		m[f] = sha256.Sum256(b)
	}
	return m
}

// TestDeterminism generates the shared world's seed again and another seed:
// the same seed gives the same bytes in every file, another seed others.
func TestDeterminism(t *testing.T) {
	dir, sum, _, _ := testWorld(t)
	want := fileHashes(t, dir, sum.Files)

	again := t.TempDir()
	s2, err := Generate(context.Background(), Options{Dir: again, Seed: testSeed, Scale: Small})
	if err != nil {
		t.Fatal(err)
	}
	got := fileHashes(t, again, s2.Files)
	if len(got) != len(want) {
		t.Fatalf("files %v, first run %v", s2.Files, sum.Files)
	}
	for f, h := range want {
		if got[f] != h {
			t.Errorf("%s differs between two runs of seed %d", f, testSeed)
		}
	}

	other := t.TempDir()
	s3, err := Generate(context.Background(), Options{Dir: other, Seed: testSeed + 1, Scale: Small})
	if err != nil {
		t.Fatal(err)
	}
	for f, h := range fileHashes(t, other, s3.Files) {
		if want[f] == h {
			t.Errorf("%s is the same for seeds %d and %d", f, testSeed, testSeed+1)
		}
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  Options
	}{
		{"no dir", Options{Seed: 1, Scale: Small}},
		{"bad scale", Options{Dir: "x", Seed: 1, Scale: "huge"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Generate(context.Background(), tc.opt); !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("Generate = %v, want ErrInvalid", err)
			}
		})
	}
	if s, err := ParseScale(" Large "); err != nil || s != Large {
		t.Errorf("ParseScale(Large) = %q, %v", s, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, Options{Dir: t.TempDir(), Seed: 1, Scale: Small}); !errors.Is(err, context.Canceled) {
		t.Errorf("Generate with a cancelled context = %v", err)
	}
}

// TestBlocks checks every block: prev-hash links from the regtest genesis,
// merkle root, witness commitment, proof of work, BIP 34 height,
// timestamps, and coinbase value = subsidy + fees.
func TestBlocks(t *testing.T) {
	_, sum, _, c := testWorld(t)
	if int64(len(c.blocks)) != sum.Blocks {
		t.Fatalf("decoded %d blocks, summary says %d", len(c.blocks), sum.Blocks)
	}
	prev := *chaincfg.RegressionNetParams.GenesisHash
	prevTime := chaincfg.RegressionNetParams.GenesisBlock.Header.Timestamp.Unix()
	target := new(big.Int).Lsh(big.NewInt(0x7fffff), 8*(0x20-3))
	var ntx int64
	for i, b := range c.blocks {
		h := i + 1
		if b.Header.PrevBlock != prev {
			t.Fatalf("block %d: prev %s, want %s", h, b.Header.PrevBlock, prev)
		}
		if b.Header.Bits != 0x207fffff {
			t.Fatalf("block %d: bits %x", h, b.Header.Bits)
		}
		hash := b.BlockHash()
		var be [32]byte
		for k := range be {
			be[k] = hash[31-k]
		}
		if new(big.Int).SetBytes(be[:]).Cmp(target) > 0 {
			t.Fatalf("block %d: hash %s above the target", h, hash)
		}
		ids := make([]chainhash.Hash, len(b.Transactions))
		wids := make([]chainhash.Hash, len(b.Transactions))
		for k, tx := range b.Transactions {
			ids[k] = tx.TxHash()
			if k > 0 {
				wids[k] = tx.WitnessHash()
			}
		}
		if root := testMerkle(ids); root != b.Header.MerkleRoot {
			t.Fatalf("block %d: merkle root %s, computed %s", h, b.Header.MerkleRoot, root)
		}
		cb := b.Transactions[0]
		wroot := testMerkle(wids)
		commit := chainhash.DoubleHashH(append(wroot[:], cb.TxIn[0].Witness[0]...))
		want := append([]byte{0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed}, commit[:]...)
		found := false
		for _, o := range cb.TxOut {
			found = found || bytes.Equal(o.PkScript, want)
		}
		if !found {
			t.Fatalf("block %d: no valid witness commitment", h)
		}
		if got := bip34Height(t, cb.TxIn[0].SignatureScript); got != int64(h) {
			t.Fatalf("block %d: coinbase height %d", h, got)
		}
		if tm := b.Header.Timestamp.Unix(); tm <= prevTime || (h == 1 && tm < 1704067200) {
			t.Fatalf("block %d: time %d after %d", h, tm, prevTime)
		}
		prevTime = b.Header.Timestamp.Unix()
		prev = hash
		ntx += int64(len(b.Transactions))
	}
	if ntx != sum.Txs {
		t.Errorf("decoded %d txs, summary says %d", ntx, sum.Txs)
	}
	first, last := c.blocks[0].Header.Timestamp.Unix(), c.blocks[len(c.blocks)-1].Header.Timestamp.Unix()
	if gap := (last - first) / int64(len(c.blocks)-1); gap < 450 || gap > 750 {
		t.Errorf("mean block interval %d s, want about 600", gap)
	}
}

func testMerkle(ids []chainhash.Hash) chainhash.Hash {
	level := append([]chainhash.Hash(nil), ids...)
	for len(level) > 1 {
		if len(level)%2 == 1 {
			level = append(level, level[len(level)-1])
		}
		var next []chainhash.Hash
		for i := 0; i < len(level); i += 2 {
			next = append(next, chainhash.DoubleHashH(append(level[i][:], level[i+1][:]...)))
		}
		level = next
	}
	return level[0]
}

func bip34Height(t *testing.T, ss []byte) int64 {
	t.Helper()
	op := ss[0]
	switch {
	case op >= txscript.OP_1 && op <= txscript.OP_16:
		return int64(op - txscript.OP_1 + 1)
	case op >= 1 && op <= 8:
		var v int64
		for i := int(op); i >= 1; i-- {
			v = v<<8 | int64(ss[i])
		}
		return v
	}
	t.Fatalf("coinbase script %x does not start with a height", ss)
	return 0
}

// TestTransactions checks conservation per transaction (inputs = outputs +
// fee, fee ≥ 1 sat/vB and not above 50 sat/vB plus a dropped change),
// that every input spends an earlier output once, coinbase maturity, and
// that every output address belongs to an entity of the truth.
func TestTransactions(t *testing.T) {
	_, _, tr, c := testWorld(t)
	owners := tr.Owners()
	cj := kinds(tr)
	spent := map[wire.OutPoint]bool{}
	blockFees := map[int]int64{}
	for _, ct := range c.txs {
		tx := ct.tx
		for v, o := range tx.TxOut {
			a := scriptAddr(o.PkScript)
			if a == "" {
				if scriptClass(o.PkScript) != txscript.NullDataTy || o.Value != 0 {
					t.Fatalf("%s:%d: output with no address and value %d", ct.txid, v, o.Value)
				}
				continue
			}
			if _, ok := owners[a]; !ok {
				t.Fatalf("%s:%d: address %s belongs to no entity", ct.txid, v, a)
			}
			if o.Value < 546 {
				t.Fatalf("%s:%d: dust output %d", ct.txid, v, o.Value)
			}
		}
		if ct.cb {
			continue
		}
		for _, in := range tx.TxIn {
			op := in.PreviousOutPoint
			prev, ok := c.outs[op]
			if !ok || c.byID[op.Hash] >= c.byID[ct.txid] {
				t.Fatalf("%s spends %s, not an earlier output", ct.txid, op)
			}
			if spent[op] {
				t.Fatalf("%s double-spends %s", ct.txid, op)
			}
			spent[op] = true
			if prev.cb && ct.height-prev.height < 100 {
				t.Fatalf("%s spends coinbase %s after %d blocks", ct.txid, op, ct.height-prev.height)
			}
		}
		fee := c.inputValue(tx) - outputValue(tx)
		vs := vsize(tx)
		if fee < vs {
			t.Fatalf("%s: fee %d for %d vB", ct.txid, fee, vs)
		}
		if cj[ct.txid.String()] == "" && fee > 50*vs+dustLimit {
			t.Fatalf("%s: fee %d for %d vB", ct.txid, fee, vs)
		}
		blockFees[ct.height] += fee
	}
	for i, b := range c.blocks {
		if got, want := outputValue(b.Transactions[0]), int64(subsidy)+blockFees[i+1]; got != want {
			t.Fatalf("block %d: coinbase pays %d, want subsidy + fees %d", i+1, got, want)
		}
	}
}

// TestScripts checks that all four script types occur and that inputs
// carry realistically sized placeholder signatures.
func TestScripts(t *testing.T) {
	_, _, _, c := testWorld(t)
	seen := map[txscript.ScriptClass]int{}
	for _, ct := range c.txs {
		if ct.cb {
			continue
		}
		for _, in := range ct.tx.TxIn {
			prev := c.outs[in.PreviousOutPoint]
			class := scriptClass(prev.script)
			seen[class]++
			ss, wit := in.SignatureScript, in.Witness
			ok := false
			switch class {
			case txscript.PubKeyHashTy:
				ok = (len(ss) == 106 || len(ss) == 107) && len(wit) == 0
			case txscript.ScriptHashTy:
				ok = len(ss) == 23 && len(wit) == 2 && len(wit[1]) == 33
			case txscript.WitnessV0PubKeyHashTy:
				ok = len(ss) == 0 && len(wit) == 2 && (len(wit[0]) == 71 || len(wit[0]) == 72) && len(wit[1]) == 33
			case txscript.WitnessV1TaprootTy:
				ok = len(ss) == 0 && len(wit) == 1 && len(wit[0]) == 64
			}
			if !ok {
				t.Fatalf("%s: %v input with scriptSig %d bytes, witness %d items", ct.txid, class, len(ss), len(wit))
			}
		}
	}
	for _, class := range []txscript.ScriptClass{txscript.PubKeyHashTy, txscript.ScriptHashTy, txscript.WitnessV0PubKeyHashTy, txscript.WitnessV1TaprootTy} {
		if seen[class] < 50 {
			t.Errorf("%v inputs: %d", class, seen[class])
		}
	}
}

// TestHabits checks that every user's own transactions carry the same
// version, locktime rule and sequence (methods.md §3.3).
func TestHabits(t *testing.T) {
	_, _, tr, c := testWorld(t)
	owners := tr.Owners()
	cj := kinds(tr)
	type habit struct {
		version  int32
		lockTime bool
		sequence uint32
	}
	seen := map[int]habit{}
	checked := 0
	for _, ct := range c.txs {
		if ct.cb || cj[ct.txid.String()] != "" {
			continue
		}
		e := owners[c.outs[ct.tx.TxIn[0].PreviousOutPoint].addr]
		if tr.Entities[e].Category != catUser {
			continue
		}
		h := habit{ct.tx.Version, ct.tx.LockTime != 0, ct.tx.TxIn[0].Sequence}
		if ct.tx.LockTime != 0 && ct.tx.LockTime != uint32(ct.height-1) {
			t.Fatalf("%s: locktime %d at height %d", ct.txid, ct.tx.LockTime, ct.height)
		}
		if old, ok := seen[e]; ok && old != h {
			t.Fatalf("%s: user %s habit %+v, earlier %+v", ct.txid, tr.Entities[e].ID, h, old)
		}
		seen[e] = h
		checked++
	}
	if checked < 500 {
		t.Errorf("only %d user transactions", checked)
	}
}

// TestBlockFiles writes a small world with a 512 KiB file limit (Core's is
// 128 MiB) and checks the files roll over and read back as one chain.
func TestBlockFiles(t *testing.T) {
	t.Parallel()
	_, sum, _, _ := testWorld(t)
	dir := t.TempDir()
	// A stale file from an earlier, longer world must disappear.
	if err := os.WriteFile(filepath.Join(dir, "blk00099.dat"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := newWorld(Options{Dir: dir, Seed: testSeed, Scale: Small})
	w.out.limit = 512 << 10
	if err := w.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := w.out.finish(); err != nil {
		t.Fatal(err)
	}
	if len(w.out.files) < 5 {
		t.Fatalf("files %v", w.out.files)
	}
	for _, f := range w.out.files {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Size() > 512<<10 {
			t.Fatalf("%s: %v, %d bytes", f, err, st.Size())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "blk00099.dat")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale blk00099.dat: %v", err)
	}
	c, err := readChain(dir, w.out.files)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(c.txs)) != sum.Txs || w.out.total != sum.Bytes {
		t.Errorf("%d txs and %d bytes over %d files, one file has %d and %d", len(c.txs), w.out.total, len(w.out.files), sum.Txs, sum.Bytes)
	}
}
