package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

func testBlocks(t *testing.T, open func(t *testing.T) store.Store) {
	w := newWorld(chain)
	st := fresh(t, open, w.blocks...)
	ctx := context.Background()
	tests := []struct {
		name string
		get  func() (heistgraph.BlockInfo, error)
		want *heistgraph.Block
	}{
		{"height 0", func() (heistgraph.BlockInfo, error) { return st.BlockByHeight(ctx, chain, 0) }, w.blocks[0]},
		{"height 2", func() (heistgraph.BlockInfo, error) { return st.BlockByHeight(ctx, chain, 2) }, w.blocks[2]},
		{"hash of 1", func() (heistgraph.BlockInfo, error) { return st.BlockByHash(ctx, chain, w.blocks[1].Hash) }, w.blocks[1]},
		{"hash of 2", func() (heistgraph.BlockInfo, error) { return st.BlockByHash(ctx, chain, w.blocks[2].Hash) }, w.blocks[2]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.get()
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "block", got, blockInfo(tc.want))
		})
	}
	t.Run("tip", func(t *testing.T) {
		tip, err := st.Tip(ctx, chain)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "tip", tip, w.blocks[2].Ref())
	})
}

func testTx(t *testing.T, open func(t *testing.T) store.Store) {
	w := newWorld(chain)
	st := fresh(t, open, w.blocks...)
	ref := func(h int) heistgraph.BlockRef { return w.blocks[h].Ref() }
	in := func(tx heistgraph.Tx, vin uint32) *heistgraph.Inpoint {
		return &heistgraph.Inpoint{TxID: tx.TxID, Vin: vin}
	}
	outOf := func(tx heistgraph.Tx, n int) *heistgraph.TxOut { o := tx.Outputs[n]; return &o }
	tests := []struct {
		name     string
		tx       heistgraph.Tx
		block    heistgraph.BlockRef
		index    int
		prevouts []*heistgraph.TxOut
		fee      int64
		feeKnown bool
		spentBy  []*heistgraph.Inpoint
	}{
		{"coinbase", w.cb0, ref(0), 0, []*heistgraph.TxOut{nil}, 0, true, []*heistgraph.Inpoint{in(w.t1, 0)}},
		{"coinbase with multisig output", w.cb2, ref(2), 0, []*heistgraph.TxOut{nil}, 0, true, []*heistgraph.Inpoint{nil, nil}},
		{"resolved spend, outputs spent by two txs", w.t1, ref(1), 1, []*heistgraph.TxOut{outOf(w.cb0, 0)}, 10, true, []*heistgraph.Inpoint{in(w.t2, 0), in(w.t5, 0)}},
		{"output spent in the same block", w.t2, ref(2), 1, []*heistgraph.TxOut{outOf(w.t1, 0)}, 10, true, []*heistgraph.Inpoint{in(w.t3, 0), nil}},
		{"spend of an output of the same block", w.t3, ref(2), 2, []*heistgraph.TxOut{outOf(w.t2, 0)}, 100, true, []*heistgraph.Inpoint{nil}},
		{"unknown prevout", w.t4, ref(2), 3, []*heistgraph.TxOut{nil}, 0, false, []*heistgraph.Inpoint{nil}},
		{"two inputs, nulldata, wtxid", w.t5, ref(2), 4, []*heistgraph.TxOut{outOf(w.t1, 1), outOf(w.cb1, 0)}, 10, true, []*heistgraph.Inpoint{nil, nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mustTx(t, st, chain, tc.tx.TxID)
			if got.Chain != chain {
				t.Errorf("chain %q, want %q", got.Chain, chain)
			}
			equal(t, "tx", got.Tx, tc.tx)
			equal(t, "block", got.Block, tc.block)
			equal(t, "index", got.Index, tc.index)
			equal(t, "prevouts", got.Prevouts, tc.prevouts)
			equal(t, "spent by", got.SpentBy, tc.spentBy)
			if got.FeeKnown != tc.feeKnown || tc.feeKnown && got.Fee != tc.fee {
				t.Errorf("fee %d known %v, want %d known %v", got.Fee, got.FeeKnown, tc.fee, tc.feeKnown)
			}
		})
	}
}

func testOutput(t *testing.T, open func(t *testing.T) store.Store) {
	w := newWorld(chain)
	st := fresh(t, open, w.blocks...)
	tests := []struct {
		name    string
		op      heistgraph.Outpoint
		want    heistgraph.TxOut
		height  int
		spentBy *heistgraph.Inpoint
	}{
		{"spent in a later block", out(w.cb0, 0), w.cb0.Outputs[0], 0, &heistgraph.Inpoint{TxID: w.t1.TxID, Vin: 0}},
		{"spent in the same block", out(w.t2, 0), w.t2.Outputs[0], 2, &heistgraph.Inpoint{TxID: w.t3.TxID, Vin: 0}},
		{"spent by a second input", out(w.cb1, 0), w.cb1.Outputs[0], 1, &heistgraph.Inpoint{TxID: w.t5.TxID, Vin: 1}},
		{"unspent", out(w.t2, 1), w.t2.Outputs[1], 2, nil},
		{"bare multisig", out(w.cb2, 1), w.cb2.Outputs[1], 2, nil},
		{"nulldata", out(w.t5, 0), w.t5.Outputs[0], 2, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mustOutput(t, st, chain, tc.op)
			want := heistgraph.Output{Chain: chain, Outpoint: tc.op, TxOut: tc.want, Block: w.blocks[tc.height].Ref(), SpentBy: tc.spentBy}
			equal(t, "output", got, want)
		})
	}
}

func testAddress(t *testing.T, open func(t *testing.T) store.Store) {
	w := newWorld(chain)
	st := fresh(t, open, w.blocks...)
	tm := func(h int) int64 { return w.blocks[h].Time }
	tests := []struct {
		name string
		want heistgraph.AddressSummary
	}{
		// A: cb0 pays it, t1 spends that and pays change back (one tx),
		// t5 spends the change.
		{"received and spent in one tx", heistgraph.AddressSummary{Address: addrA, Received: 6990, Sent: 6990, TxCount: 3, OutputCount: 2, SpendCount: 2, FirstSeen: tm(0), LastSeen: tm(2), FirstHeight: 0, LastHeight: 2}},
		{"spent by a second input", heistgraph.AddressSummary{Address: addrB, Received: 5000, Sent: 5000, TxCount: 2, OutputCount: 1, SpendCount: 1, FirstSeen: tm(1), LastSeen: tm(2), FirstHeight: 1, LastHeight: 2}},
		{"change back to the spender", heistgraph.AddressSummary{Address: addrC, Received: 3490, Sent: 3000, TxCount: 2, OutputCount: 2, SpendCount: 1, FirstSeen: tm(1), LastSeen: tm(2), FirstHeight: 1, LastHeight: 2}},
		{"received and spent in one block", heistgraph.AddressSummary{Address: addrD, Received: 2500, Sent: 2500, TxCount: 2, OutputCount: 1, SpendCount: 1, FirstSeen: tm(2), LastSeen: tm(2), FirstHeight: 2, LastHeight: 2}},
		{"paid by an unresolved spend", heistgraph.AddressSummary{Address: addrF, Received: 700, TxCount: 1, OutputCount: 1, FirstSeen: tm(2), LastSeen: tm(2), FirstHeight: 2, LastHeight: 2}},
		{"miner", heistgraph.AddressSummary{Address: addrM, Received: 5125, TxCount: 1, OutputCount: 1, FirstSeen: tm(2), LastSeen: tm(2), FirstHeight: 2, LastHeight: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			want.Chain = chain
			got := mustAddress(t, st, chain, want.Address)
			equal(t, "summary", got, want)
			if got.Balance() != want.Received-want.Sent {
				t.Errorf("balance %d, want %d", got.Balance(), want.Received-want.Sent)
			}
		})
	}
}

func testAddressHistory(t *testing.T, open func(t *testing.T) store.Store) {
	w := newWorld(chain)
	st := fresh(t, open, w.blocks...)
	ev := func(kind heistgraph.AddressEventKind, op heistgraph.Outpoint, tx heistgraph.Tx, idx uint32, amount int64, h int) heistgraph.AddressEvent {
		return heistgraph.AddressEvent{Kind: kind, Outpoint: op, TxID: tx.TxID, Index: idx, Amount: amount, Block: w.blocks[h].Ref()}
	}
	const R, S = heistgraph.Received, heistgraph.Spent
	aRecv0 := ev(R, out(w.cb0, 0), w.cb0, 0, 5000, 0)
	aRecv1 := ev(R, out(w.t1, 1), w.t1, 1, 1990, 1)
	aSpent1 := ev(S, out(w.cb0, 0), w.t1, 0, 5000, 1)
	aSpent2 := ev(S, out(w.t1, 1), w.t5, 0, 1990, 2)
	tests := []struct {
		name string
		addr string
		opts store.HistoryOptions
		want []heistgraph.AddressEvent
	}{
		{"all, received before spent within a tx", addrA, store.HistoryOptions{}, []heistgraph.AddressEvent{aRecv0, aRecv1, aSpent1, aSpent2}},
		{"from height 1", addrA, store.HistoryOptions{FromHeight: 1}, []heistgraph.AddressEvent{aRecv1, aSpent1, aSpent2}},
		{"to height 1", addrA, store.HistoryOptions{ToHeight: 1}, []heistgraph.AddressEvent{aRecv0, aRecv1, aSpent1}},
		{"height 1 only", addrA, store.HistoryOptions{FromHeight: 1, ToHeight: 1}, []heistgraph.AddressEvent{aRecv1, aSpent1}},
		{"above the tip", addrA, store.HistoryOptions{FromHeight: 3}, nil},
		{"from after to", addrA, store.HistoryOptions{FromHeight: 2, ToHeight: 1}, nil},
		{"receive index before spend index in one tx", addrC, store.HistoryOptions{}, []heistgraph.AddressEvent{
			ev(R, out(w.t1, 0), w.t1, 0, 3000, 1),
			ev(R, out(w.t2, 1), w.t2, 1, 490, 2),
			ev(S, out(w.t1, 0), w.t2, 0, 3000, 2),
		}},
		{"spent in the same block", addrD, store.HistoryOptions{}, []heistgraph.AddressEvent{
			ev(R, out(w.t2, 0), w.t2, 0, 2500, 2),
			ev(S, out(w.t2, 0), w.t3, 0, 2500, 2),
		}},
		{"second input", addrB, store.HistoryOptions{}, []heistgraph.AddressEvent{
			ev(R, out(w.cb1, 0), w.cb1, 0, 5000, 1),
			ev(S, out(w.cb1, 0), w.t5, 1, 5000, 2),
		}},
		{"never seen", "1NeverSeenxxxxxxxxxxxxxxxxxxxxxxxx", store.HistoryOptions{}, nil},
		{"multisig key is no address", "1K1kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkK", store.HistoryOptions{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := history(t, st, chain, tc.addr, tc.opts)
			if len(got) != len(tc.want) {
				for _, e := range got {
					t.Log(fmtEvent(e))
				}
				t.Fatalf("%d events, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("event %d:\n got %s\nwant %s", i, fmtEvent(got[i]), fmtEvent(tc.want[i]))
				}
			}
		})
	}
	t.Run("stop early", func(t *testing.T) {
		n := 0
		for _, err := range st.AddressHistory(context.Background(), chain, addrA, store.HistoryOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
			n++
			break
		}
		if n != 1 {
			t.Errorf("%d events before break, want 1", n)
		}
	})
}

func testHistoryCancel(t *testing.T, open func(t *testing.T) store.Store) {
	w := newWorld(chain)
	st := fresh(t, open, w.blocks...)
	t.Run("cancelled while iterating", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		n, errs := 0, 0
		var last error
		for _, err := range st.AddressHistory(ctx, chain, addrA, store.HistoryOptions{}) {
			if err != nil {
				errs++
				last = err
				continue
			}
			n++
			cancel()
		}
		if n != 1 || errs != 1 || !errors.Is(last, context.Canceled) {
			t.Errorf("%d events and %d errors (last %v), want 1 event then one error wrapping context.Canceled", n, errs, last)
		}
	})
	t.Run("cancelled before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		n := 0
		var last error
		for _, err := range st.AddressHistory(ctx, chain, addrA, store.HistoryOptions{}) {
			if err != nil {
				last = err
				continue
			}
			n++
		}
		if n != 0 || !errors.Is(last, context.Canceled) {
			t.Errorf("%d events, error %v; want none and an error wrapping context.Canceled", n, last)
		}
	})
}

func testNotFound(t *testing.T, open func(t *testing.T) store.Store) {
	w := newWorld(chain)
	st := fresh(t, open, w.blocks...)
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
	}{
		{"tip of a chain with nothing stored", func() error { _, err := st.Tip(ctx, heistgraph.ChainBTCSignet); return err }},
		{"block above the tip", func() error { _, err := st.BlockByHeight(ctx, chain, 3); return err }},
		{"block at a negative height", func() error { _, err := st.BlockByHeight(ctx, chain, -1); return err }},
		{"block by unknown hash", func() error { _, err := st.BlockByHash(ctx, chain, fakeHash("no block")); return err }},
		{"block of another chain", func() error { _, err := st.BlockByHash(ctx, heistgraph.ChainBTC, w.blocks[0].Hash); return err }},
		{"unknown tx", func() error { _, err := st.Tx(ctx, chain, fakeHash("no tx")); return err }},
		{"tx of another chain", func() error { _, err := st.Tx(ctx, heistgraph.ChainBTC, w.t1.TxID); return err }},
		{"output index out of range", func() error { _, err := st.Output(ctx, chain, out(w.t1, 2)); return err }},
		{"output spent but not stored", func() error { _, err := st.Output(ctx, chain, w.missing); return err }},
		{"address never seen", func() error { _, err := st.Address(ctx, chain, "1NeverSeenxxxxxxxxxxxxxxxxxxxxxxxx"); return err }},
		{"multisig key is no address", func() error { _, err := st.Address(ctx, chain, "1K1kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkK"); return err }},
		{"address of another chain", func() error { _, err := st.Address(ctx, heistgraph.ChainBTC, addrA); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantNotFound(t, tc.name, tc.call())
		})
	}
}

func testInvalid(t *testing.T, open func(t *testing.T) store.Store) {
	st := open(t)
	ctx := context.Background()
	w := newWorld(chain)
	neg := *w.blocks[0]
	neg.Height = -1
	noChain := *w.blocks[0]
	noChain.Chain = ""
	tests := []struct {
		name string
		call func() error
	}{
		{"nil block", func() error { return st.ApplyBlock(ctx, nil) }},
		{"negative height", func() error { return st.ApplyBlock(ctx, &neg) }},
		{"no chain", func() error { return st.ApplyBlock(ctx, &noChain) }},
		{"rewind below -1", func() error { return st.RewindTo(ctx, chain, -2) }},
		{"history from a negative height", func() error {
			for _, err := range st.AddressHistory(ctx, chain, addrA, store.HistoryOptions{FromHeight: -1}) {
				return err
			}
			return nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, heistgraph.ErrInvalid) {
				t.Errorf("error %v, want one wrapping ErrInvalid", err)
			}
		})
	}
	if _, err := st.Tip(ctx, chain); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Errorf("after invalid calls: tip error %v, want ErrNotFound (nothing stored)", err)
	}
}
