package synth

import (
	"cmp"
	"context"
	"fmt"
	"math/big"
	"slices"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
)

// AccountTraceEval scores account traces of an EVM world's heists against
// its truth with TraceEval's value recall and false exposure, taken per
// entity and asset: delivered is the truth's destination in the seed
// asset's units (EVMDestination.SeedAmount), found the trace's sinks of
// the asset at addresses the truth gives to the entity, converted to the
// seed asset's units as the truth converts (a swapped-into asset at the
// heist's swaps' rate, any other at the truth's reference rates). Fees and
// swap sinks (value a conversion carried on into another asset) are in
// neither. The groups pool the sums over their heists in wei (a token
// heist's sums at the reference rate).
type AccountTraceEval struct {
	Chain         heistgraph.Chain `json:"chain"`
	Policy        trace.Policy     `json:"policy"`
	ValueRecall   float64          `json:"value_recall"`
	FalseExposure float64          `json:"false_exposure"`
	// WithoutMixer and WithMixer pool the heists by the truth's
	// uses_mixer; Plain pools those with neither mixer nor swap.
	WithoutMixer AccountEvalGroup `json:"without_mixer"`
	WithMixer    AccountEvalGroup `json:"with_mixer"`
	Plain        AccountEvalGroup `json:"without_mixer_or_swap"`
	// CrossChain pools the heists that cross to the linked chain
	// without a mixer (crosses_chains in the truth).
	CrossChain AccountEvalGroup   `json:"crosses_chains_without_mixer"`
	Heists     []AccountHeistEval `json:"heists"`
}

// AccountEvalGroup pools the heists of one group; amounts in wei.
type AccountEvalGroup struct {
	Heists        int     `json:"heists"`
	ValueRecall   float64 `json:"value_recall"`
	FalseExposure float64 `json:"false_exposure"`
	DeliveredWei  string  `json:"delivered_wei"`
	FoundWei      string  `json:"found_wei"`
	MatchedWei    string  `json:"matched_wei"`

	delivered, found, matched big.Int
}

// AccountHeistEval is one heist's score. Amounts are in the seed asset's
// base units; Fees (the trace's, ETH) in wei.
type AccountHeistEval struct {
	ID               string                 `json:"id"`
	Kind             string                 `json:"kind"`
	UsesMixer        bool                   `json:"uses_mixer"`
	UsesSwap         bool                   `json:"uses_swap"`
	CrossesChains    bool                   `json:"crosses_chains,omitempty"`
	ValueRecall      float64                `json:"value_recall"`
	FalseExposure    float64                `json:"false_exposure"`
	Asset            heistgraph.Asset       `json:"asset"`
	Decimals         uint8                  `json:"decimals"`
	Amount           string                 `json:"amount"`
	Delivered        string                 `json:"delivered"`
	Found            string                 `json:"found"`
	Matched          string                 `json:"matched"`
	Fees             string                 `json:"fees"`
	Conserved        bool                   `json:"conserved"`
	TxsVisited       int                    `json:"txs_visited"`
	TransfersVisited int                    `json:"transfers_visited"`
	Entities         []AccountEntityEval    `json:"entities"`
	SinksByKind      map[trace.SinkKind]int `json:"sinks_by_kind"`
}

// AccountEntityEval is delivered and found of one entity and asset, in
// the seed asset's units ("" entity: sinks at addresses the truth does not
// know).
type AccountEntityEval struct {
	// Chain is the linked chain for an entity there (empty: the world's).
	Chain     heistgraph.Chain `json:"chain,omitempty"`
	Entity    string           `json:"entity"`
	Category  string           `json:"category"`
	Asset     heistgraph.Asset `json:"asset"`
	Delivered string           `json:"delivered"`
	Found     string           `json:"found"`

	delivered, found big.Int
}

// EvalAccountTrace traces every heist of t from its seed transactions
// (restricted to the seed asset) with opts (Chain and Seeds are set here;
// the policy, resolver and the rest are the caller's) and scores the sinks
// against the truth. r must hold the world's chain. Errors are
// trace.RunAccounts's, or wrap heistgraph.ErrInvalid for a malformed
// truth (an amount that is not a decimal, a heist that does not conserve).
func EvalAccountTrace(ctx context.Context, r store.AccountReader, t *EVMTruth, opts trace.AccountOptions) (AccountTraceEval, error) {
	if err := t.check(); err != nil {
		return AccountTraceEval{}, err
	}
	opts.Chain = t.Chain
	if opts.Policy == "" {
		opts.Policy = trace.DefaultPolicy
	}
	ev := AccountTraceEval{Chain: t.Chain, Policy: opts.Policy, Heists: []AccountHeistEval{}}
	owners := t.Owners()
	var all AccountEvalGroup
	for _, h := range t.Heists {
		if len(h.Seeds) == 0 {
			continue
		}
		o := opts
		o.Seeds = nil
		for _, s := range h.Seeds {
			asset := h.Asset
			o.Seeds = append(o.Seeds, trace.AccountSeed{Tx: s, Asset: &asset})
		}
		res, err := trace.RunAccounts(ctx, r, o)
		if err != nil {
			return AccountTraceEval{}, fmt.Errorf("synth: eval trace: heist %s: %w", h.ID, err)
		}
		he, err := scoreAccountHeist(t, owners, h, res)
		if err != nil {
			return AccountTraceEval{}, err
		}
		ev.Heists = append(ev.Heists, he)
		groups := []*AccountEvalGroup{&all, &ev.WithoutMixer}
		if h.UsesMixer {
			groups[1] = &ev.WithMixer
		}
		if !h.UsesMixer && !h.UsesSwap {
			groups = append(groups, &ev.Plain)
		}
		if !h.UsesMixer && h.CrossesChains {
			groups = append(groups, &ev.CrossChain)
		}
		rate := func(s string) *big.Int {
			v, _ := new(big.Int).SetString(s, 10)
			return t.toWei(h.Asset, v)
		}
		for _, g := range groups {
			g.Heists++
			g.delivered.Add(&g.delivered, rate(he.Delivered))
			g.found.Add(&g.found, rate(he.Found))
			g.matched.Add(&g.matched, rate(he.Matched))
		}
	}
	for _, g := range []*AccountEvalGroup{&all, &ev.WithoutMixer, &ev.WithMixer, &ev.Plain, &ev.CrossChain} {
		g.ValueRecall, g.FalseExposure = bigRatios(&g.matched, &g.delivered, &g.found)
		g.DeliveredWei, g.FoundWei, g.MatchedWei = g.delivered.String(), g.found.String(), g.matched.String()
	}
	ev.ValueRecall, ev.FalseExposure = all.ValueRecall, all.FalseExposure
	return ev, nil
}

// scoreAccountHeist compares one trace with the heist's truth.
func scoreAccountHeist(t *EVMTruth, owners map[heistgraph.EVMAddress]int, h EVMHeist, res *trace.AccountResult) (AccountHeistEval, error) {
	he := AccountHeistEval{ID: h.ID, Kind: h.Kind, UsesMixer: h.UsesMixer, UsesSwap: h.UsesSwap, CrossesChains: h.CrossesChains, Asset: h.Asset, Decimals: h.Decimals,
		Amount: h.Amount, Fees: res.Fees, Conserved: res.Conserved, TxsVisited: res.Stats.TxsVisited,
		TransfersVisited: res.Stats.TransfersVisited, SinksByKind: map[trace.SinkKind]int{}}
	type key struct {
		chain  heistgraph.Chain
		entity string
		asset  heistgraph.Asset
	}
	at := map[key]int{}
	entry := func(c heistgraph.Chain, id, cat string, a heistgraph.Asset) *AccountEntityEval {
		k := key{c, id, a}
		i, ok := at[k]
		if !ok {
			i = len(he.Entities)
			at[k] = i
			he.Entities = append(he.Entities, AccountEntityEval{Chain: c, Entity: id, Category: cat, Asset: a})
		}
		return &he.Entities[i]
	}
	for _, d := range h.Destinations {
		v, err := bigOf(d.SeedAmount, "seed_amount")
		if err != nil {
			return he, err
		}
		e := entry(d.Chain, d.Entity, d.Category, d.Asset)
		e.delivered.Add(&e.delivered, v)
	}
	for i := range res.Sinks {
		s := &res.Sinks[i]
		he.SinksByKind[s.Kind]++
		if s.Kind == trace.SinkSwap {
			continue
		}
		id, cat := "", ""
		if j, ok := owners[s.Address]; ok {
			id, cat = t.Entities[j].ID, t.Entities[j].Category
		}
		v, err := stays(s.Value(), s.Continued)
		if err != nil {
			return he, err
		}
		e := entry("", id, cat, s.Asset)
		e.found.Add(&e.found, t.inSeedUnits(h, s.Asset, v))
	}
	if err := t.scoreAcross(&he, owners, h, res.Across, entry); err != nil {
		return he, err
	}
	var delivered, found, matched big.Int
	for i := range he.Entities {
		e := &he.Entities[i]
		delivered.Add(&delivered, &e.delivered)
		found.Add(&found, &e.found)
		if e.found.Cmp(&e.delivered) < 0 {
			matched.Add(&matched, &e.found)
		} else {
			matched.Add(&matched, &e.delivered)
		}
		e.Delivered, e.Found = e.delivered.String(), e.found.String()
	}
	slices.SortStableFunc(he.Entities, func(a, b AccountEntityEval) int {
		if c := b.delivered.Cmp(&a.delivered); c != 0 {
			return c
		}
		if c := b.found.Cmp(&a.found); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.Entity, b.Entity), cmp.Compare(a.Asset.Key(), b.Asset.Key()))
	})
	he.Delivered, he.Found, he.Matched = delivered.String(), found.String(), matched.String()
	he.ValueRecall, he.FalseExposure = bigRatios(&matched, &delivered, &found)
	return he, nil
}

// scoreAcross adds the confirmed sinks of a trace across chains to the
// found amounts: on the world's chain (after a refund) by the truth's
// owners, on the linked chain by the linked world's truth, converted into
// the seed asset at the heist's swaps' rate as the truth converts its
// destinations there. What a sink passed on across a further link is
// counted where it went, not at the sink.
func (t *EVMTruth) scoreAcross(he *AccountHeistEval, owners map[heistgraph.EVMAddress]int, h EVMHeist, across *trace.Across,
	entry func(heistgraph.Chain, string, string, heistgraph.Asset) *AccountEntityEval) error {
	if across == nil {
		return nil
	}
	var linked map[string]int
	if t.linked != nil {
		linked = t.linked.Owners()
	}
	for i := range across.Sinks {
		s := &across.Sinks[i]
		if s.Part != trace.PartConfirmed {
			continue
		}
		he.SinksByKind[s.Kind]++
		if s.Kind == trace.SinkSwap {
			continue
		}
		v, err := stays(s.Value(), s.Continued)
		if err != nil {
			return err
		}
		switch s.Chain {
		case t.Chain:
			asset, err := heistgraph.ParseAsset(s.Asset)
			if err != nil {
				return fmt.Errorf("synth: eval trace: heist %s: sink asset %q: %w", h.ID, s.Asset, err)
			}
			id, cat := "", ""
			if a, err := heistgraph.ParseEVMAddress(s.Address); err == nil {
				if j, ok := owners[a]; ok {
					id, cat = t.Entities[j].ID, t.Entities[j].Category
				}
			}
			e := entry("", id, cat, asset)
			e.found.Add(&e.found, t.inSeedUnits(h, asset, v))
		default:
			id, cat := "", ""
			if j, ok := linked[s.Address]; ok && s.Chain == t.linkedChain() {
				id, cat = t.linked.Entities[j].ID, t.linked.Entities[j].Category
			}
			e := entry(s.Chain, id, cat, heistgraph.NativeAsset)
			e.found.Add(&e.found, crossRate(h.Conversions, h.Asset, s.Chain, v))
		}
	}
	return nil
}

// stays is a sink's amount less what continued across a link from it.
func stays(v uint256.Int, continued string) (*big.Int, error) {
	out := v.ToBig()
	if continued == "" {
		return out, nil
	}
	c, err := bigOf(continued, "continued")
	if err != nil {
		return nil, err
	}
	if c.Cmp(out) > 0 {
		return nil, fmt.Errorf("synth: eval trace: a sink of %s continued %s: %w", out, c, heistgraph.ErrInvalid)
	}
	return out.Sub(out, c), nil
}

// inSeedUnits converts v of asset into h's seed asset: at the heist's
// swaps' rate where it swapped into asset, else at the reference rates.
func (t *EVMTruth) inSeedUnits(h EVMHeist, asset heistgraph.Asset, v *big.Int) *big.Int {
	if asset == h.Asset {
		return v
	}
	if r, ok := swapRate(h.Conversions, h.Asset, asset, v); ok {
		return r
	}
	return t.fromWei(h.Asset, t.toWei(asset, v))
}

// rateOf returns the reference rate of asset: wei per base unit as
// num/den (1/1 for ETH and for an asset the truth does not list).
func (t *EVMTruth) rateOf(asset heistgraph.Asset) (num, den *big.Int) {
	num, den = big.NewInt(1), big.NewInt(1)
	for _, tk := range t.Tokens {
		if heistgraph.TokenAsset(tk.Address) == asset {
			n, ok1 := new(big.Int).SetString(tk.RateNum, 10)
			d, ok2 := new(big.Int).SetString(tk.RateDen, 10)
			if ok1 && ok2 && n.Sign() > 0 && d.Sign() > 0 {
				num, den = n, d
			}
		}
	}
	return num, den
}

func (t *EVMTruth) toWei(asset heistgraph.Asset, v *big.Int) *big.Int {
	num, den := t.rateOf(asset)
	r := new(big.Int).Mul(v, num)
	return r.Quo(r, den)
}

func (t *EVMTruth) fromWei(asset heistgraph.Asset, v *big.Int) *big.Int {
	num, den := t.rateOf(asset)
	r := new(big.Int).Mul(v, den)
	return r.Quo(r, num)
}

// bigRatios is ratios on big amounts.
func bigRatios(matched, delivered, found *big.Int) (recall, exposure float64) {
	recall, exposure = 1, 0
	if delivered.Sign() > 0 {
		recall, _ = new(big.Rat).SetFrac(matched, delivered).Float64()
	}
	if found.Sign() > 0 {
		exposure, _ = new(big.Rat).SetFrac(new(big.Int).Sub(found, matched), found).Float64()
	}
	return recall, exposure
}
