package trace

import (
	"context"
	"fmt"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/pattern"
	"github.com/heistgraph/heistgraph/store"
)

// This file resolves an account trace's seeds (AccountSeed).

// seed resolves the seeds: transaction seeds to claims applied when the
// walk reaches their transaction, address seeds to windows on streams that
// start at their first credit in the window.
func (e *acctEngine) seed(ctx context.Context) error {
	seen := map[string]bool{}
	for _, s := range e.o.Seeds {
		if seen[s.String()] {
			continue // the same seed twice taints once
		}
		seen[s.String()] = true
		e.res.Seeds = append(e.res.Seeds, s.String())
		if s.IsTx() {
			if err := e.seedTx(ctx, s); err != nil {
				return err
			}
			continue
		}
		if err := e.seedAddress(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// seedTx claims the positive net per (address, asset) of a transaction's
// transfers (fees and block-level credits left out), a conversion inside
// it counted once, as its output: a WETH wrap's native value is the WETH
// contract's debit, a recognised swap's input the pool's.
func (e *acctEngine) seedTx(ctx context.Context, s AccountSeed) error {
	rec, err := e.r.AccountTx(ctx, e.o.Chain, s.Tx)
	if err != nil {
		return fmt.Errorf("trace: seed %s: %w", s, err)
	}
	type key struct {
		addr  heistgraph.EVMAddress
		asset heistgraph.Asset
	}
	in, out := map[key]*uint256.Int{}, map[key]*uint256.Int{}
	var order []key
	add := func(m map[key]*uint256.Int, k key, v *uint256.Int) {
		_, seenIn := in[k]
		_, seenOut := out[k]
		if !seenIn && !seenOut {
			order = append(order, k)
		}
		x, ok := m[k]
		if !ok {
			x = new(uint256.Int)
			m[k] = x
		}
		addSat(x, v)
	}
	for i := range rec.Transfers {
		t := &rec.Transfers[i]
		switch t.Kind {
		case heistgraph.TransferFee, heistgraph.TransferPriorityFee, heistgraph.TransferReward,
			heistgraph.TransferWithdrawal, heistgraph.TransferGenesis:
			continue
		}
		if t.From == t.To {
			continue
		}
		// A wrap turns the native value the WETH contract received into
		// the WETH it credits: that value is counted once, as WETH.
		if t.Kind == heistgraph.TransferWETHDeposit && (s.Asset == nil || s.Asset.IsNative()) {
			add(out, key{heistgraph.EVMAddress(t.Asset), heistgraph.NativeAsset}, &t.Amount)
		}
		if s.Asset != nil && t.Asset != *s.Asset {
			continue
		}
		if t.Credits() {
			add(in, key{t.To, t.Asset}, &t.Amount)
		}
		if t.Debits() {
			add(out, key{t.From, t.Asset}, &t.Amount)
		}
	}
	// A swap turns what its pool took into what it paid out: the input is
	// counted once, as the output.
	for _, sw := range pattern.Swaps(e.o.Chain, rec.Transfers, rec.Logs) {
		if s.Asset == nil || *s.Asset == sw.AssetIn {
			add(out, key{sw.Pool, sw.AssetIn}, &sw.AmountIn)
		}
	}
	g := acctGroup{rec.Block.Height, rec.Tx.Index}
	claimed := false
	for _, k := range order {
		got, ok := in[k]
		if !ok {
			continue
		}
		net := *got
		if o, ok := out[k]; ok {
			if !o.Lt(got) {
				continue
			}
			net.Sub(got, o)
		}
		n, err := e.follow(ctx, k.addr, acctPos{rec.Block.Height, -1})
		if err != nil {
			return err
		}
		n.claims++
		e.claims[g] = append(e.claims[g], txClaim{node: n, asset: k.asset, amount: net, tx: s.Tx, time: rec.Block.Time})
		claimed = true
	}
	if !claimed {
		what := "value"
		if s.Asset != nil {
			what = s.Asset.String()
		}
		return fmt.Errorf("trace: seed %s: the transaction moved no %s to anyone: %w", s, what, heistgraph.ErrInvalid)
	}
	return nil
}

// seedAddress follows an address from its first credit of the asset in
// the seed's window.
func (e *acctEngine) seedAddress(ctx context.Context, s AccountSeed) error {
	w := &seedWindow{asset: s.asset(), from: s.From, until: s.Until}
	if e.o.Until > 0 && (w.until == 0 || e.o.Until < w.until) {
		w.until = e.o.Until
	}
	asset := w.asset
	first := acctPos{-1, -1}
	for ev, err := range e.r.AccountHistory(ctx, e.o.Chain, s.Address, store.AccountHistoryOptions{Asset: &asset}) {
		if err != nil {
			return fmt.Errorf("trace: seed %s: %w", s, err)
		}
		if w.until > 0 && ev.Block.Time > w.until {
			break
		}
		if ev.Credit && !ev.Debit && ev.Block.Time >= w.from && !ev.Transfer.Amount.IsZero() {
			first = posOf(&ev)
			break
		}
	}
	if first.h < 0 {
		return fmt.Errorf("trace: seed %s: the address received no %s in the window: %w", s, asset, heistgraph.ErrNotFound)
	}
	n, err := e.follow(ctx, s.Address, acctPos{first.h, first.seq - 1})
	if err != nil {
		return err
	}
	n.window = w
	return nil
}
