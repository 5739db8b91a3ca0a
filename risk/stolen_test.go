package risk_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/testutil"
	"github.com/heistgraph/heistgraph/risk"
	"github.com/heistgraph/heistgraph/trace"
)

// TestStolenFromTrace wires a real haircut trace into the Stolen hook: the
// thief splits 5.0 BTC (seed hack:0) into 2.0 to x and 3.0 to y, and x
// pays 1.0 on to z (fee 0). The trace's sinks are the unspent outputs x
// still holds (1.0), y (3.0) and z (1.0); marked stolen:inc1, they make z's
// receipt direct stolen exposure of share 1.
func TestStolenFromTrace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, err := testutil.ParseGraph(heistgraph.ChainBTCRegtest, `
block 1
coinbase cb -> victim:5.0
block 2
tx hack cb:0 -> thief:5.0
block 3
tx split hack:0 -> x:2.0 y:3.0
block 4
tx pay split:0 -> z:1.0 x:1.0
`)
	if err != nil {
		t.Fatal(err)
	}
	st := openMem(t)
	if err := g.Apply(ctx, st); err != nil {
		t.Fatal(err)
	}
	res, err := trace.Run(ctx, st, trace.Options{Chain: heistgraph.ChainBTCRegtest, MinAmount: -1, MinShare: -1,
		Seeds: []trace.Seed{{Kind: trace.SeedOutput, Outpoint: heistgraph.Outpoint{TxID: testutil.TxID("hack")}}}})
	if err != nil {
		t.Fatal(err)
	}
	set := risk.NewStolenSet()
	if err := set.AddTrace("inc1", res); err != nil {
		t.Fatal(err)
	}
	if set.Len() != 3 {
		t.Fatalf("marked %d outputs, want 3 (the unspent sinks): %+v", set.Len(), res.Sinks)
	}
	marks, _ := set.StolenOutput(ctx, heistgraph.ChainBTCRegtest, heistgraph.Outpoint{TxID: testutil.TxID("pay"), Vout: 0})
	if len(marks) != 1 || marks[0].ID != "inc1" || marks[0].AmountSat != 100_000_000 || marks[0].Source != "trace:haircut" {
		t.Fatalf("marks on pay:0 = %+v", marks)
	}
	sc, err := risk.NewScreener(st, risk.Options{Stolen: set, Now: func() time.Time { return scriptNow }})
	if err != nil {
		t.Fatal(err)
	}
	a, err := sc.Screen(ctx, risk.Item{Chain: heistgraph.ChainBTCRegtest, Address: "z"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Risk != risk.LevelSevere || len(a.Direct) != 1 || a.Direct[0].Category != "stolen:inc1" || a.Direct[0].Share != 1 || a.Direct[0].AmountSat != 100_000_000 {
		t.Errorf("screen z = %+v", a)
	}
	// Bad marks are refused.
	if err := set.Add(heistgraph.ChainBTCRegtest, heistgraph.Outpoint{}, risk.StolenMark{ID: "", AmountSat: 1}); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("empty id: %v", err)
	}
	if err := set.Add(heistgraph.ChainBTCRegtest, heistgraph.Outpoint{}, risk.StolenMark{ID: "x", AmountSat: -1}); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("negative amount: %v", err)
	}
}

// TestScreenItemErrors checks the errors Screen gives for items that
// bypassed Request.Plan.
func TestScreenItemErrors(t *testing.T) {
	t.Parallel()
	sc, err := risk.NewScreener(openMem(t), risk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	op := heistgraph.Outpoint{Vout: 1}
	for _, tc := range []struct {
		name string
		it   risk.Item
		want error
	}{
		{"no chain", risk.Item{Address: "a"}, heistgraph.ErrInvalid},
		{"bad direction", risk.Item{Chain: "btc", Address: "a", Direction: "up"}, heistgraph.ErrInvalid},
		{"bad address", risk.Item{Chain: "btc", Address: "a b"}, heistgraph.ErrInvalid},
		{"EVM transfer", risk.Item{Chain: "eth", Outpoint: &op}, heistgraph.ErrInvalid},
		{"unknown output", risk.Item{Chain: "btc", Outpoint: &op}, heistgraph.ErrNotFound},
	} {
		if _, err := sc.Screen(ctx, tc.it); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// An EVM address the store never saw: nothing received, no risk, and
	// nothing left out (testdata/scripts/evm_screen.txt screens real ones).
	a, err := sc.Screen(ctx, risk.Item{Chain: "eth", Address: "0x098b716b8aaf21512996dc57eb0615e2383e2f96"})
	if err != nil || a.Partial || a.Risk != risk.LevelNone || len(a.Received) != 0 {
		t.Errorf("EVM address: %+v, %v", a, err)
	}
	if _, err := risk.NewScreener(openMem(t), risk.Options{Config: risk.Config{H: 99}}); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("H 99: %v", err)
	}
}

// TestScreenNormalized checks that Screen puts an address in the form
// Options.Normalize gives, and refuses one it refuses, unless the item
// says its caller did that already (Item.Normalized).
func TestScreenNormalized(t *testing.T) {
	t.Parallel()
	sc, err := risk.NewScreener(openMem(t), risk.Options{Normalize: heistgraph.NormalizeAddress})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const lower = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
	a, err := sc.Screen(ctx, risk.Item{Chain: "btc", Address: " " + strings.ToUpper(lower)})
	if err != nil || a.Address != lower {
		t.Errorf("upper-case bech32: address %q, %v; want %q", a.Address, err, lower)
	}
	if _, err := sc.Screen(ctx, risk.Item{Chain: "btc", Address: lower[:len(lower)-1] + "5"}); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("bad checksum: %v, want ErrInvalid", err)
	}
	a, err = sc.Screen(ctx, risk.Item{Chain: "btc", Address: lower, Normalized: true})
	if err != nil || a.Address != lower {
		t.Errorf("normalised by the caller: address %q, %v", a.Address, err)
	}
}
