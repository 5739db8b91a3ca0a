package storetest

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

func testIdempotent(t *testing.T, open func(t *testing.T) store.Store) {
	w := newWorld(chain)
	st := fresh(t, open, w.blocks...)
	before := digest(t, st, chain)
	sumA := mustAddress(t, st, chain, addrA)
	tests := []struct {
		name   string
		blocks []*heistgraph.Block
	}{
		{"the tip again", w.blocks[2:]},
		{"a block below the tip again", w.blocks[1:2]},
		{"every block again", w.blocks},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			apply(t, st, tc.blocks...)
			if got := digest(t, st, chain); got != before {
				t.Errorf("digest changed: %s, want %s", got, before)
			}
			equal(t, "summary of A", mustAddress(t, st, chain, addrA), sumA)
			tip, err := st.Tip(context.Background(), chain)
			if err != nil || tip != w.blocks[2].Ref() {
				t.Errorf("tip %+v, %v; want %+v", tip, err, w.blocks[2].Ref())
			}
		})
	}
	t.Run("same digest as a store that applied once", func(t *testing.T) {
		if got, want := digest(t, st, chain), digest(t, fresh(t, open, w.blocks...), chain); got != want {
			t.Errorf("digest %s, fresh store %s", got, want)
		}
	})
}

func testConflict(t *testing.T, open func(t *testing.T) store.Store) {
	w := newWorld(chain)
	st := fresh(t, open, w.blocks...)
	before := digest(t, st, chain)
	other := mkBlock(chain, 1, "1-other", w.blocks[0].Hash, coinbase("other cb", pay(addrB, 1)))
	moved := *w.blocks[1]
	moved.Height = 7
	tests := []struct {
		name string
		b    *heistgraph.Block
	}{
		{"another block at an occupied height", other},
		{"a stored block at another height", &moved},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := st.ApplyBlock(context.Background(), tc.b)
			if !errors.Is(err, heistgraph.ErrConflict) {
				t.Fatalf("error %v, want one wrapping ErrConflict", err)
			}
			if got := digest(t, st, chain); got != before {
				t.Errorf("a refused block changed the digest")
			}
		})
	}
}

func testRewind(t *testing.T, open func(t *testing.T) store.Store) {
	w := newWorld(chain)
	x := w.branch("x", 3)
	y := w.branch("y", 2)
	st := fresh(t, open, w.blocks...)
	base := digest(t, st, chain)
	addrs := []string{addrA, addrC, addrE, addrG}
	sums := map[string]heistgraph.AddressSummary{}
	hists := map[string][]heistgraph.AddressEvent{}
	for _, a := range addrs {
		sums[a] = mustAddress(t, st, chain, a)
		hists[a] = history(t, st, chain, a, store.HistoryOptions{})
	}
	branchSpends := []heistgraph.Outpoint{out(w.t2, 1), out(w.t5, 1), out(w.t3, 0)}

	apply(t, st, x...)
	for _, op := range branchSpends {
		if mustOutput(t, st, chain, op).SpentBy == nil {
			t.Fatalf("output %s unspent after applying the branch", op)
		}
	}
	if mustAddress(t, st, chain, addrC) == sums[addrC] {
		t.Fatalf("the branch did not change C's totals")
	}

	rewind(t, st, chain, 2)
	t.Run("digest equals the store before the branch", func(t *testing.T) {
		if got := digest(t, st, chain); got != base {
			t.Errorf("digest %s, want %s", got, base)
		}
	})
	t.Run("tip", func(t *testing.T) {
		tip, err := st.Tip(context.Background(), chain)
		if err != nil || tip != w.blocks[2].Ref() {
			t.Errorf("tip %+v, %v; want %+v", tip, err, w.blocks[2].Ref())
		}
	})
	t.Run("outputs unspent again", func(t *testing.T) {
		for _, op := range branchSpends {
			if o := mustOutput(t, st, chain, op); o.SpentBy != nil {
				t.Errorf("output %s still spent by %+v", op, *o.SpentBy)
			}
		}
	})
	t.Run("address totals and histories restored", func(t *testing.T) {
		for _, a := range addrs {
			equal(t, "summary of "+a, mustAddress(t, st, chain, a), sums[a])
			equal(t, "history of "+a, history(t, st, chain, a, store.HistoryOptions{}), hists[a])
		}
	})
	t.Run("branch gone", func(t *testing.T) {
		ctx := context.Background()
		_, err := st.Tx(ctx, chain, x[0].Txs[1].TxID)
		wantNotFound(t, "tx of the branch", err)
		_, err = st.BlockByHeight(ctx, chain, 3)
		wantNotFound(t, "block 3", err)
		_, err = st.BlockByHash(ctx, chain, x[2].Hash)
		wantNotFound(t, "block 5 by hash", err)
		_, err = st.Address(ctx, chain, x[0].Txs[1].Outputs[1].Address)
		wantNotFound(t, "address only the branch paid", err)
	})
	t.Run("rewind to or above the tip does nothing", func(t *testing.T) {
		rewind(t, st, chain, 2)
		rewind(t, st, chain, 100)
		rewind(t, st, heistgraph.ChainBTCSignet, 0)
		if got := digest(t, st, chain); got != base {
			t.Errorf("digest changed")
		}
	})

	apply(t, st, y...)
	t.Run("other branch equals a fresh store", func(t *testing.T) {
		ref := fresh(t, open, append(append([]*heistgraph.Block{}, w.blocks...), y...)...)
		if got, want := digest(t, st, chain), digest(t, ref, chain); got != want {
			t.Errorf("digest %s, fresh store %s", got, want)
		}
		equal(t, "summary of C", mustAddress(t, st, chain, addrC), mustAddress(t, ref, chain, addrC))
	})
}

// rewindDigest rewinds st's copy of the world's chain to height and returns
// its digest.
func (w *world) rewindDigest(t *testing.T, st store.Store, height int64) heistgraph.Hash {
	t.Helper()
	rewind(t, st, w.chain, height)
	return digest(t, st, w.chain)
}

func testRewindAll(t *testing.T, open func(t *testing.T) store.Store) {
	w := newWorld(chain)
	st := fresh(t, open, w.blocks...)
	empty := digest(t, open(t), chain)
	if got := w.rewindDigest(t, st, -1); got != empty {
		t.Errorf("after rewinding everything: digest %s, empty store %s", got, empty)
	}
	_, err := st.Tip(context.Background(), chain)
	wantNotFound(t, "tip after rewinding everything", err)
	_, err = st.Address(context.Background(), chain, addrA)
	wantNotFound(t, "address after rewinding everything", err)
	apply(t, st, w.blocks...)
	if got, want := digest(t, st, chain), digest(t, fresh(t, open, w.blocks...), chain); got != want {
		t.Errorf("applied again: digest %s, fresh store %s", got, want)
	}
}

func testStandalone(t *testing.T, open func(t *testing.T) store.Store) {
	w := newWorld(chain)
	st := fresh(t, open, w.blocks...)
	base := digest(t, st, chain)
	other := heistgraph.Outpoint{TxID: fakeHash("another missing parent"), Vout: 3}
	s := spend("far spend", ins(out(w.t2, 1), other), pay(addrF, 400))
	far := mkBlock(chain, 574200, "far", fakeHash("far parent"), coinbase("far cb", pay(addrM, 100)), s)
	apply(t, st, far)

	tip, err := st.Tip(context.Background(), chain)
	if err != nil || tip != far.Ref() {
		t.Errorf("tip %+v, %v; want the standalone block %+v", tip, err, far.Ref())
	}
	bi, err := st.BlockByHeight(context.Background(), chain, 574200)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "standalone block", bi, blockInfo(far))
	tr := mustTx(t, st, chain, s.TxID)
	want := w.t2.Outputs[1]
	equal(t, "prevouts", tr.Prevouts, []*heistgraph.TxOut{&want, nil})
	if tr.FeeKnown {
		t.Errorf("fee known (%d) with an input not stored", tr.Fee)
	}
	equal(t, "spender of C's change", mustOutput(t, st, chain, out(w.t2, 1)).SpentBy, &heistgraph.Inpoint{TxID: s.TxID, Vin: 0})
	c := mustAddress(t, st, chain, addrC)
	if c.Sent != 3490 || c.LastHeight != 574200 || c.LastSeen != far.Time {
		t.Errorf("C: sent %d, last seen %d at %d; want 3490, %d at 574200", c.Sent, c.LastSeen, c.LastHeight, far.Time)
	}
	if got := w.rewindDigest(t, st, 2); got != base {
		t.Errorf("after rewinding the standalone block: digest %s, want %s", got, base)
	}
}

func testLateParent(t *testing.T, open func(t *testing.T) store.Store) {
	w := newWorld(chain)
	ref := fresh(t, open, w.blocks...)
	st := open(t)
	apply(t, st, w.blocks[2])
	t.Run("parents absent", func(t *testing.T) {
		tr := mustTx(t, st, chain, w.t2.TxID)
		if tr.FeeKnown || tr.Prevouts[0] != nil {
			t.Errorf("t2 without its parent: fee known %v, prevout %+v; want unknown, nil", tr.FeeKnown, tr.Prevouts[0])
		}
		tr = mustTx(t, st, chain, w.t3.TxID)
		if !tr.FeeKnown || tr.Fee != 100 {
			t.Errorf("t3 spends within its block: fee %d known %v, want 100", tr.Fee, tr.FeeKnown)
		}
		_, err := st.Output(context.Background(), chain, out(w.t1, 0))
		wantNotFound(t, "output of the absent parent", err)
	})
	apply(t, st, w.blocks[0], w.blocks[1])
	t.Run("parents applied later", func(t *testing.T) {
		for _, tx := range []heistgraph.Tx{w.t1, w.t2, w.t5} {
			got, want := mustTx(t, st, chain, tx.TxID), mustTx(t, ref, chain, tx.TxID)
			equal(t, "tx "+tx.TxID.String(), got, want)
		}
		for _, a := range []string{addrA, addrB, addrC, addrD} {
			equal(t, "summary of "+a, mustAddress(t, st, chain, a), mustAddress(t, ref, chain, a))
			equal(t, "history of "+a, history(t, st, chain, a, store.HistoryOptions{}), history(t, ref, chain, a, store.HistoryOptions{}))
		}
		if got, want := digest(t, st, chain), digest(t, ref, chain); got != want {
			t.Errorf("digest %s, store that applied in order %s", got, want)
		}
	})
	t.Run("rewind", func(t *testing.T) {
		if got, want := w.rewindDigest(t, st, 0), digest(t, fresh(t, open, w.blocks[0]), chain); got != want {
			t.Errorf("digest %s, fresh store with block 0 %s", got, want)
		}
	})
}

func testRewindParentKeepsChild(t *testing.T, open func(t *testing.T) store.Store) {
	// A block stored above the one that spends its outputs (data a store
	// does not validate): rewinding it must un-resolve the spends. A keeps
	// events in the low block, one of them in a tx whose spend goes away.
	parentTx := coinbase("high parent", pay(addrA, 900), pay(addrA, 600))
	child1 := spend("low child 1", ins(out(parentTx, 0)), pay(addrB, 500), pay(addrA, 300))
	child2 := spend("low child 2", ins(out(parentTx, 1)), pay(addrB, 550))
	high := mkBlock(chain, 10, "high", fakeHash("?"), parentTx)
	low := mkBlock(chain, 5, "low", fakeHash("??"), coinbase("low cb", pay(addrA, 1)), child1, child2)
	st := fresh(t, open, high, low)
	if tr := mustTx(t, st, chain, child1.TxID); !tr.FeeKnown || tr.Fee != 100 {
		t.Fatalf("child: fee %d known %v, want 100", tr.Fee, tr.FeeKnown)
	}
	if a := mustAddress(t, st, chain, addrA); a.TxCount != 4 || a.Sent != 1500 {
		t.Fatalf("A before the rewind: %+v, want 4 txs, 1500 sent", a)
	}
	rewind(t, st, chain, 7)
	ref := fresh(t, open, low)
	tr := mustTx(t, st, chain, child1.TxID)
	if tr.FeeKnown || tr.Prevouts[0] != nil {
		t.Errorf("child after its parent was rewound: fee known %v, prevout %+v; want unknown, nil", tr.FeeKnown, tr.Prevouts[0])
	}
	equal(t, "A", mustAddress(t, st, chain, addrA), mustAddress(t, ref, chain, addrA))
	equal(t, "B", mustAddress(t, st, chain, addrB), mustAddress(t, ref, chain, addrB))
	if got, want := digest(t, st, chain), digest(t, ref, chain); got != want {
		t.Errorf("digest %s, fresh store with the children's block %s", got, want)
	}
}

func testDuplicateTxID(t *testing.T, open func(t *testing.T) store.Store) {
	// BIP30: mainnet blocks 91842 and 91880 repeat earlier coinbases.
	dup := coinbase("bip30", pay(addrA, 5000))
	b0 := mkBlock(chain, 0, "bip30-0", heistgraph.Hash{}, dup)
	b1 := mkBlock(chain, 1, "bip30-1", b0.Hash, dup, spend("bip30 spend", ins(out(dup, 0)), pay(addrB, 4000)))
	st := fresh(t, open, b0, b1)
	if tr := mustTx(t, st, chain, dup.TxID); tr.Block != b1.Ref() {
		t.Errorf("duplicate tx in block %+v, want the later block %+v", tr.Block, b1.Ref())
	}
	a := mustAddress(t, st, chain, addrA)
	if a.Received != 10000 || a.OutputCount != 2 || a.TxCount != 3 || a.Sent != 5000 {
		t.Errorf("A: %+v; want received 10000 in 2 outputs, sent 5000, 3 txs", a)
	}
	if n := len(history(t, st, chain, addrA, store.HistoryOptions{})); n != 3 {
		t.Errorf("A has %d events, want 3", n)
	}
	rewind(t, st, chain, 0)
	if tr := mustTx(t, st, chain, dup.TxID); tr.Block != b0.Ref() || tr.SpentBy[0] != nil {
		t.Errorf("after rewind: tx in block %+v spent by %+v, want block %+v, unspent", tr.Block, tr.SpentBy[0], b0.Ref())
	}
	if got, want := digest(t, st, chain), digest(t, fresh(t, open, b0), chain); got != want {
		t.Errorf("after rewind: digest %s, fresh store with block 0 %s", got, want)
	}
}

func testConflictingData(t *testing.T, open func(t *testing.T) store.Store) {
	// Stores do not validate: a stale block kept beside the chain that
	// replaced it can spend an output the chain spends too, or hold a tx
	// the chain mined again. Rewinding the later block restores the
	// earlier one's view exactly.
	w := newWorld(chain)
	again := spend("mined twice", ins(out(w.t5, 1)), pay(addrE, 6900))
	first := spend("first spender", ins(out(w.t2, 1)), pay(addrB, 480))
	second := spend("second spender", ins(out(w.t2, 1)), pay(addrD, 470))
	b3 := mkBlock(chain, 3, "stale", w.blocks[2].Hash, coinbase("stale cb", pay(addrM, 1)), first, again)
	b5 := mkBlock(chain, 5, "main", fakeHash("4"), coinbase("main cb", pay(addrM, 2)), second, again)
	st := fresh(t, open, append(append([]*heistgraph.Block{}, w.blocks...), b3, b5)...)
	o := mustOutput(t, st, chain, out(w.t2, 1))
	if o.SpentBy == nil || (o.SpentBy.TxID != first.TxID && o.SpentBy.TxID != second.TxID) {
		t.Errorf("output spent twice: spent by %+v, want one of the two spenders", o.SpentBy)
	}
	if tr := mustTx(t, st, chain, again.TxID); tr.Block != b5.Ref() {
		t.Errorf("tx mined twice: in block %+v, want the later %+v", tr.Block, b5.Ref())
	}
	rewind(t, st, chain, 4)
	equal(t, "spender after rewind", mustOutput(t, st, chain, out(w.t2, 1)).SpentBy, &heistgraph.Inpoint{TxID: first.TxID, Vin: 0})
	if tr := mustTx(t, st, chain, again.TxID); tr.Block != b3.Ref() {
		t.Errorf("tx mined twice after rewind: in block %+v, want %+v", tr.Block, b3.Ref())
	}
	ref := fresh(t, open, append(append([]*heistgraph.Block{}, w.blocks...), b3)...)
	if got, want := digest(t, st, chain), digest(t, ref, chain); got != want {
		t.Errorf("digest %s, fresh store without the later block %s", got, want)
	}
}

func testMultiChain(t *testing.T, open func(t *testing.T) store.Store) {
	const other = heistgraph.ChainBTC
	wr, wb := newWorld(chain), newWorld(other)
	onlyB := fresh(t, open, wb.blocks...)
	onlyR := fresh(t, open, wr.blocks...)
	// The regtest chain first, so the two chains are registered in the
	// opposite order from onlyB.
	st := fresh(t, open, wr.blocks...)
	apply(t, st, wb.blocks...)
	ctx := context.Background()
	t.Run("digests per chain", func(t *testing.T) {
		if digest(t, st, other) != digest(t, onlyB, other) {
			t.Errorf("btc digest differs from a store holding only btc")
		}
		if digest(t, st, chain) != digest(t, onlyR, chain) {
			t.Errorf("regtest digest differs from a store holding only regtest")
		}
	})
	t.Run("reads stay on their chain", func(t *testing.T) {
		_, err := st.Tx(ctx, other, wr.t1.TxID)
		wantNotFound(t, "regtest tx on btc", err)
		equal(t, "regtest tx", mustTx(t, st, chain, wr.t1.TxID), mustTx(t, onlyR, chain, wr.t1.TxID))
		equal(t, "A on btc", mustAddress(t, st, other, addrA), mustAddress(t, onlyB, other, addrA))
		equal(t, "A on regtest", mustAddress(t, st, chain, addrA), mustAddress(t, onlyR, chain, addrA))
	})
	t.Run("rewinding one chain leaves the other", func(t *testing.T) {
		rewind(t, st, chain, -1)
		if digest(t, st, other) != digest(t, onlyB, other) {
			t.Errorf("btc digest changed when regtest was rewound")
		}
		_, err := st.Tip(ctx, chain)
		wantNotFound(t, "regtest tip", err)
		if tip, err := st.Tip(ctx, other); err != nil || tip != wb.blocks[2].Ref() {
			t.Errorf("btc tip %+v, %v", tip, err)
		}
	})
}

func testRandomReorgs(t *testing.T, open func(t *testing.T) store.Store) {
	const fork = 8
	g := NewGenerator(chain, 7, 25)
	var main []*heistgraph.Block
	for i := 0; i < fork; i++ {
		main = append(main, g.Next())
	}
	f := g.Fork(99)
	for i := fork; i < 14; i++ {
		main = append(main, g.Next())
	}
	var side []*heistgraph.Block
	for i := fork; i < 17; i++ {
		side = append(side, f.Next())
	}
	winning := append(append([]*heistgraph.Block{}, main[:fork]...), side...)
	ref := fresh(t, open, main...)

	t.Run("fees", func(t *testing.T) {
		values := map[heistgraph.Outpoint]int64{}
		for _, b := range main {
			for _, tx := range b.Txs {
				for n, o := range tx.Outputs {
					values[heistgraph.Outpoint{TxID: tx.TxID, Vout: uint32(n)}] = o.Value
				}
			}
		}
		for _, b := range main[len(main)-2:] {
			for _, tx := range b.Txs[1:] {
				var in int64
				for _, i := range tx.Inputs {
					in += values[i.PrevOut]
				}
				tr := mustTx(t, ref, chain, tx.TxID)
				if !tr.FeeKnown || tr.Fee != in-tx.OutputSum() {
					t.Fatalf("tx %s: fee %d known %v, want %d", tx.TxID, tr.Fee, tr.FeeKnown, in-tx.OutputSum())
				}
			}
		}
	})
	t.Run("reorg equals fresh ingest of the winning branch", func(t *testing.T) {
		st := fresh(t, open, main...)
		rewind(t, st, chain, fork-1)
		apply(t, st, side...)
		if got, want := digest(t, st, chain), digest(t, fresh(t, open, winning...), chain); got != want {
			t.Errorf("digest %s, fresh store %s", got, want)
		}
	})
	t.Run("reorg back", func(t *testing.T) {
		st := fresh(t, open, winning...)
		rewind(t, st, chain, fork-1)
		apply(t, st, main[fork:]...)
		if got, want := digest(t, st, chain), digest(t, ref, chain); got != want {
			t.Errorf("digest %s, fresh store %s", got, want)
		}
	})
	t.Run("any apply order", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for round := 0; round < 3; round++ {
			shuffled := append([]*heistgraph.Block{}, main...)
			rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			st := fresh(t, open, shuffled...)
			if got, want := digest(t, st, chain), digest(t, ref, chain); got != want {
				t.Fatalf("round %d: digest %s, store that applied in order %s", round, got, want)
			}
			cut := int64(rng.IntN(len(main)))
			rewind(t, st, chain, cut-1)
			if got, want := digest(t, st, chain), digest(t, fresh(t, open, main[:cut]...), chain); got != want {
				t.Fatalf("round %d: after rewinding to %d: digest %s, fresh store %s", round, cut-1, got, want)
			}
		}
	})
}
