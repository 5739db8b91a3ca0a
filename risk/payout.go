package risk

import (
	"context"
	"errors"
	"fmt"

	"github.com/heistgraph/heistgraph"
)

// ScreenPayouts answers where a set of payouts on chain went (methods.md
// §8.8): each payout output is hop 1 whoever receives it, and a haircut
// flow with labelled stops follows it up to H hops. The answer's direction
// is sent, SentSat the payouts' total value (the denominator of every
// share) and its ownership is empty: the payer's own labels do not concern
// where the pay went. An outpoint the store does not hold wraps
// heistgraph.ErrNotFound; a chain that is not a UTXO chain, or no payouts,
// wraps heistgraph.ErrInvalid.
func (s *Screener) ScreenPayouts(ctx context.Context, chain heistgraph.Chain, payouts []heistgraph.Outpoint) (*Answer, error) {
	if !chain.IsUTXO() {
		return nil, fmt.Errorf("screen payouts on %s: payouts are Bitcoin outputs: %w", chain, heistgraph.ErrInvalid)
	}
	if len(payouts) == 0 {
		return nil, fmt.Errorf("screen payouts: none given: %w", heistgraph.ErrInvalid)
	}
	idx, err := s.labels(ctx, chain)
	if err != nil {
		return nil, err
	}
	r := &run{Screener: s, ctx: ctx, chain: chain, idx: idx, txs: map[heistgraph.Hash]*heistgraph.TxRecord{},
		owners: map[string]*owner{}, vecs: map[txHop][]vector{}, tab: s.table(chain), tip: -1}
	a := &Answer{Chain: chain, Direction: Sent, Direct: []Direct{}, Indirect: []Indirect{}, Reasons: []string{}, Config: s.cfgJSON}
	switch tip, err := s.st.Tip(ctx, chain); {
	case err == nil:
		a.AsOf = &AsOf{BlockHeight: tip.Height, Time: tip.Time}
		r.tip = tip.Height
	case !errors.Is(err, heistgraph.ErrNotFound):
		return nil, fmt.Errorf("risk: tip of %s: %w", chain, err)
	}
	ag := newAgg(s.cfg.H)
	start := make(map[heistgraph.Outpoint]int64, len(payouts))
	for _, op := range payouts {
		if _, dup := start[op]; dup {
			continue
		}
		out, err := r.output(op)
		if err != nil {
			return nil, fmt.Errorf("screen payout %s: %w", op, err)
		}
		start[op] = out.Value
		ag.total += out.Value
		if len(payouts) == 1 {
			a.Address, a.TxID, a.Vout, a.AmountSat = out.Address, &payouts[0].TxID, &payouts[0].Vout, &out.Value
		}
	}
	if err := r.sentFlow("", start, ag.add); err != nil {
		return nil, err
	}
	if err := r.priceDirect(ag); err != nil {
		return nil, err
	}
	a.SentSat = &ag.total
	r.finish(a, nil, ag)
	return a, nil
}

// ConfigJSON returns the configuration as answers record it.
func (s *Screener) ConfigJSON() ConfigJSON { return s.cfgJSON }
