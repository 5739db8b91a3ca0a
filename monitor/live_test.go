package monitor_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"sort"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/monitor"
	"github.com/heistgraph/heistgraph/store"
)

const regtest = heistgraph.ChainBTCRegtest

func fakeHash(s string) heistgraph.Hash { return sha256.Sum256([]byte(s)) }

func payTo(addr string, v int64) heistgraph.TxOut {
	h := fakeHash(addr)
	return heistgraph.TxOut{Value: v, Script: append([]byte{0x00, 0x14}, h[:20]...), Type: heistgraph.ScriptWitnessV0KeyHash, Address: addr}
}

func tx(name string, ins []heistgraph.Outpoint, outs ...heistgraph.TxOut) heistgraph.Tx {
	t := heistgraph.Tx{TxID: fakeHash("tx/" + name), Version: 2, Outputs: outs, Size: 100, Weight: 400}
	t.WTxID = t.TxID
	if ins == nil {
		t.Inputs = []heistgraph.TxIn{{PrevOut: heistgraph.Outpoint{Vout: 0xffffffff}, Sequence: 0xffffffff, Coinbase: true}}
	}
	for _, op := range ins {
		t.Inputs = append(t.Inputs, heistgraph.TxIn{PrevOut: op, Sequence: 0xffffffff})
	}
	return t
}

func op(t heistgraph.Tx, n uint32) heistgraph.Outpoint {
	return heistgraph.Outpoint{TxID: t.TxID, Vout: n}
}

// chainOf applies blocks on st, one per call, each with a coinbase of its
// own and the given transactions.
type chainOf struct {
	t    testing.TB
	st   store.Store
	tips []*heistgraph.Block // the applied blocks by height
}

func (c *chainOf) apply(label string, txs ...heistgraph.Tx) *heistgraph.Block {
	c.t.Helper()
	h := int64(len(c.tips))
	var prev heistgraph.Hash
	if h > 0 {
		prev = c.tips[h-1].Hash
	}
	b := &heistgraph.Block{Chain: regtest, Hash: fakeHash("block/" + label), PrevHash: prev, Height: h, Time: 1_700_000_000 + 600*h, Size: 200,
		Txs: append([]heistgraph.Tx{tx("cb/"+label, nil, payTo("miner", 50e8))}, txs...)}
	if err := c.st.ApplyBlock(context.Background(), b); err != nil {
		c.t.Fatal(err)
	}
	c.tips = append(c.tips, b)
	return b
}

func (c *chainOf) rewind(to int64) {
	c.t.Helper()
	if err := c.st.RewindTo(context.Background(), regtest, to); err != nil {
		c.t.Fatal(err)
	}
	c.tips = c.tips[:to+1]
}

// lines are alerts as "kind txid-name:vout entity amount @block", sorted.
func lines(names map[heistgraph.Hash]string, as []store.StoredAlert) []string {
	var out []string
	for _, a := range as {
		out = append(out, fmt.Sprintf("%s %s:%d %s %d @%s", a.Kind, names[a.TxID], a.Vout, a.Entity, a.AmountSat, names[a.BlockHash]))
	}
	sort.Strings(out)
	return out
}

// TestLive follows a small chain block by block: a block that does not
// touch the watch raises nothing; the block spending the stolen coin into
// an exchange raises funds_moved and funds_reached_entity for that block;
// a rewind retracts both (alert_retracted naming each key, once); the
// replacing block raises them again under new keys when the money still
// arrives, and only funds_moved when it goes elsewhere; alerts at heights
// with no stored block wait (a crash between a rewind and its
// retractions) and are retracted once another block lands there.
func TestLive(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	c := &chainOf{t: t, st: st}
	names := map[heistgraph.Hash]string{}
	name := func(n string, h heistgraph.Hash) { names[h] = n }

	funding := tx("funding", nil, payTo("victim", 50e8))
	c.apply("b0", funding)
	theft := tx("theft", []heistgraph.Outpoint{op(funding, 0)}, payTo("attacker", 50e8-1000))
	c.apply("b1", theft)
	name("theft", theft.TxID)
	if _, err := st.PutLabels(ctx, []heistgraph.Label{{Chain: regtest, Address: "deposit", Entity: "Exchange X", Category: "exchange", Source: "test", Confidence: 1}}); err != nil {
		t.Fatal(err)
	}
	w := heistgraph.Watch{Name: "live", Chain: regtest, Seeds: []string{theft.TxID.String()}, Created: 1}
	if err := st.PutWatch(ctx, w); err != nil {
		t.Fatal(err)
	}
	notified := 0
	live := monitor.NewLive(st, func() { notified++ }, nil)
	if n, err := live.Start(ctx, regtest); err != nil || n != 0 {
		t.Fatalf("start: %d alerts, %v; want none (the stolen coin has not moved)", n, err)
	}
	applied := func(b *heistgraph.Block, want int) {
		t.Helper()
		n, err := live.Applied(ctx, b)
		if err != nil || n != want {
			t.Fatalf("block %s: %d alerts, %v; want %d", names[b.Hash], n, err, want)
		}
	}
	other := tx("other", []heistgraph.Outpoint{op(c.tips[0].Txs[0], 0)}, payTo("bystander", 50e8-500))
	b2 := c.apply("b2", other)
	name("b2", b2.Hash)
	applied(b2, 0)

	deposit := tx("deposit", []heistgraph.Outpoint{op(theft, 0)}, payTo("deposit", 30e8), payTo("kept", 20e8-2000))
	name("deposit", deposit.TxID)
	b3 := c.apply("b3", deposit)
	name("b3", b3.Hash)
	applied(b3, 2)
	all := func(q store.AlertQuery) []store.StoredAlert {
		t.Helper()
		var out []store.StoredAlert
		for a, err := range st.AlertList(ctx, q) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, a)
		}
		return out
	}
	want := []string{
		"funds_moved theft:0  4999999000 @b3",
		"funds_reached_entity deposit:0 Exchange X 3000000000 @b3",
	}
	if got := lines(names, all(store.AlertQuery{})); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after b3:\n got %v\nwant %v", got, want)
	}
	first := all(store.AlertQuery{})
	if notified == 0 {
		t.Error("alerts raised without Notify")
	}

	// A reorg replaces b3 by b3a, which carries the same deposit.
	c.rewind(2)
	if n, err := live.Rewound(ctx, 2); err != nil || n != 2 {
		t.Fatalf("rewound: %d alerts, %v; want the 2 retractions", n, err)
	}
	if n, err := live.Rewound(ctx, 2); err != nil || n != 0 {
		t.Fatalf("rewound again: %d alerts, %v; want none", n, err)
	}
	retracted := map[string]heistgraph.AlertKind{}
	for _, r := range all(store.AlertQuery{Kind: heistgraph.AlertRetracted}) {
		retracted[r.Retracts] = r.RetractedKind
		if r.IdempotencyKey == r.Retracts || r.BlockHash != b3.Hash {
			t.Errorf("retraction %+v", r.Alert)
		}
	}
	for _, a := range first {
		if k, ok := retracted[a.IdempotencyKey]; !ok {
			t.Errorf("%s %s not retracted", a.Kind, a.IdempotencyKey)
		} else if k != a.Kind {
			t.Errorf("retraction of %s %s says retracted_kind %q", a.Kind, a.IdempotencyKey, k)
		}
	}
	b3a := c.apply("b3a", deposit)
	name("b3a", b3a.Hash)
	applied(b3a, 2)

	// Another reorg: b3b spends the stolen coin to an unlabelled address.
	c.rewind(2)
	if n, err := live.Rewound(ctx, 2); err != nil || n != 2 {
		t.Fatalf("second rewind: %d alerts, %v; want 2 retractions", n, err)
	}
	away := tx("away", []heistgraph.Outpoint{op(theft, 0)}, payTo("elsewhere", 50e8-3000))
	b3b := c.apply("b3b", away)
	name("b3b", b3b.Hash)
	applied(b3b, 1)
	want = []string{
		"funds_moved theft:0  4999999000 @b3",
		"funds_moved theft:0  4999999000 @b3a",
		"funds_moved theft:0  4999999000 @b3b",
		"funds_reached_entity deposit:0 Exchange X 3000000000 @b3",
		"funds_reached_entity deposit:0 Exchange X 3000000000 @b3a",
	}
	got := lines(names, append(all(store.AlertQuery{Kind: heistgraph.AlertFundsMoved}), all(store.AlertQuery{Kind: heistgraph.AlertFundsReachedEntity})...))
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after the second reorg:\n got %v\nwant %v", got, want)
	}

	// A crash between a rewind and its retractions: b3b's alert waits
	// while height 3 holds no block, and is retracted once b3c lands.
	c.rewind(2)
	if ret, waiting, err := monitor.Retract(ctx, st, regtest, math.MaxInt64); err != nil || len(ret) != 0 || waiting != 1 {
		t.Fatalf("retract with height 3 empty: %d retractions, %d waiting, %v; want 0 and 1", len(ret), waiting, err)
	}
	live = monitor.NewLive(st, nil, nil)
	if n, err := live.Start(ctx, regtest); err != nil || n != 0 {
		t.Fatalf("restart: %d alerts, %v; want none", n, err)
	}
	b3c := c.apply("b3c")
	applied(b3c, 1)
	if n := len(all(store.AlertQuery{Kind: heistgraph.AlertRetracted})); n != 5 {
		t.Errorf("%d retractions, want 5 (b3's 2, b3a's 2, b3b's 1)", n)
	}
}
