package synth

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
)

// TraceEval scores traces of a world's heists against its truth (design.md
// `eval trace`). For heist h and entity e, delivered_e is the truth's
// amount delivered to e (the attacker's unspent stolen coins count for the
// attacker) and found_e the trace's sink amounts whose address the truth
// gives to e (its owner, not its label); then
//
//	value recall   = Σ min(found_e, delivered_e) / Σ delivered_e
//	false exposure = Σ max(0, found_e − delivered_e) / Σ found_e
//
// Fees are in neither. The overall and per-group figures pool the sums
// over the heists (a large heist weighs more).
type TraceEval struct {
	Policy          trace.Policy `json:"policy"`
	ThroughCoinJoin trace.Policy `json:"through_coinjoin,omitempty"`
	ValueRecall     float64      `json:"value_recall"`
	FalseExposure   float64      `json:"false_exposure"`
	// WithoutCoinJoin and WithCoinJoin pool the heists by the truth's
	// uses_coinjoin.
	WithoutCoinJoin EvalGroup   `json:"without_coinjoin"`
	WithCoinJoin    EvalGroup   `json:"with_coinjoin"`
	Heists          []HeistEval `json:"heists"`
}

// EvalGroup pools the heists of one group.
type EvalGroup struct {
	Heists        int     `json:"heists"`
	ValueRecall   float64 `json:"value_recall"`
	FalseExposure float64 `json:"false_exposure"`
	DeliveredSat  int64   `json:"delivered_sat"`
	FoundSat      int64   `json:"found_sat"`
	MatchedSat    int64   `json:"matched_sat"`
}

// HeistEval is one heist's score. MatchedSat is Σ min(found_e,
// delivered_e); Entities lists delivered and found per entity, largest
// delivery first.
type HeistEval struct {
	ID            string       `json:"id"`
	UsesCoinJoin  bool         `json:"uses_coinjoin"`
	ValueRecall   float64      `json:"value_recall"`
	FalseExposure float64      `json:"false_exposure"`
	AmountSat     int64        `json:"amount_sat"`
	DeliveredSat  int64        `json:"delivered_sat"`
	FoundSat      int64        `json:"found_sat"`
	MatchedSat    int64        `json:"matched_sat"`
	FeesSat       int64        `json:"fees_sat"`
	TxsVisited    int          `json:"txs_visited"`
	Entities      []EntityEval `json:"entities"`
}

// EntityEval is delivered_e and found_e of one entity ("" for sinks with
// no address, such as burned value).
type EntityEval struct {
	Entity       string `json:"entity"`
	Category     string `json:"category"`
	DeliveredSat int64  `json:"delivered_sat"`
	FoundSat     int64  `json:"found_sat"`
}

// EvalTrace traces every heist of t from its seeds (one source per heist)
// with opts (its Chain and Seeds are set here; the rest, the policy and
// the resolver included, is the caller's) and scores the sinks against
// the truth. r must hold the world's chain. Errors are trace.Run's, or
// wrap heistgraph.ErrInvalid for a truth with a bad seed.
func EvalTrace(ctx context.Context, r store.ChainReader, t *Truth, opts trace.Options) (TraceEval, error) {
	chain, err := heistgraph.ParseChain(t.Chain)
	if err != nil {
		return TraceEval{}, fmt.Errorf("synth: eval trace: truth chain: %w", err)
	}
	opts.Chain = chain
	if opts.Policy == "" {
		opts.Policy = trace.DefaultPolicy
	}
	ev := TraceEval{Policy: opts.Policy, ThroughCoinJoin: opts.ThroughCoinJoin, Heists: []HeistEval{}}
	owners := t.Owners()
	var all EvalGroup
	for _, h := range t.Heists {
		if len(h.Seeds) == 0 {
			continue
		}
		o := opts
		o.Seeds = nil
		for _, s := range h.Seeds {
			sd, err := trace.ParseSeed(s)
			if err != nil {
				return TraceEval{}, fmt.Errorf("synth: eval trace: heist %s: %w", h.ID, err)
			}
			sd.Source = h.ID
			o.Seeds = append(o.Seeds, sd)
		}
		res, err := trace.Run(ctx, r, o)
		if err != nil {
			return TraceEval{}, fmt.Errorf("synth: eval trace: heist %s: %w", h.ID, err)
		}
		he := scoreHeist(t, owners, h, res)
		ev.Heists = append(ev.Heists, he)
		g := &ev.WithoutCoinJoin
		if h.UsesCoinJoin {
			g = &ev.WithCoinJoin
		}
		for _, gg := range []*EvalGroup{g, &all} {
			gg.Heists++
			gg.DeliveredSat += he.DeliveredSat
			gg.FoundSat += he.FoundSat
			gg.MatchedSat += he.MatchedSat
		}
	}
	for _, g := range []*EvalGroup{&ev.WithoutCoinJoin, &ev.WithCoinJoin, &all} {
		g.ValueRecall, g.FalseExposure = ratios(g.MatchedSat, g.DeliveredSat, g.FoundSat)
	}
	ev.ValueRecall, ev.FalseExposure = all.ValueRecall, all.FalseExposure
	return ev, nil
}

// scoreHeist compares one trace with the heist's truth.
func scoreHeist(t *Truth, owners map[string]int, h Heist, res *trace.Result) HeistEval {
	he := HeistEval{ID: h.ID, UsesCoinJoin: h.UsesCoinJoin, AmountSat: h.AmountSat, FeesSat: res.FeesSat,
		TxsVisited: res.Stats.TxsVisited}
	at := map[string]int{}
	entry := func(id, cat string) *EntityEval {
		i, ok := at[id]
		if !ok {
			i = len(he.Entities)
			at[id] = i
			he.Entities = append(he.Entities, EntityEval{Entity: id, Category: cat})
		}
		return &he.Entities[i]
	}
	for _, d := range h.Destinations {
		entry(d.Entity, d.Category).DeliveredSat += d.AmountSat
	}
	for _, s := range res.Sinks.All() {
		id, cat := "", ""
		if i, ok := owners[s.Address]; ok && s.Address != "" {
			id, cat = t.Entities[i].ID, t.Entities[i].Category
		}
		entry(id, cat).FoundSat += s.AmountSat
	}
	for _, e := range he.Entities {
		he.DeliveredSat += e.DeliveredSat
		he.FoundSat += e.FoundSat
		he.MatchedSat += min(e.DeliveredSat, e.FoundSat)
	}
	slices.SortStableFunc(he.Entities, func(a, b EntityEval) int {
		if c := cmp.Compare(b.DeliveredSat, a.DeliveredSat); c != 0 {
			return c
		}
		if c := cmp.Compare(b.FoundSat, a.FoundSat); c != 0 {
			return c
		}
		return strings.Compare(a.Entity, b.Entity)
	})
	he.ValueRecall, he.FalseExposure = ratios(he.MatchedSat, he.DeliveredSat, he.FoundSat)
	return he
}

// ratios returns matched/delivered and (found−matched)/found; an empty
// denominator gives 1 for recall (nothing to find) and 0 for exposure.
func ratios(matched, delivered, found int64) (recall, exposure float64) {
	recall, exposure = 1, 0
	if delivered > 0 {
		recall = float64(matched) / float64(delivered)
	}
	if found > 0 {
		exposure = float64(found-matched) / float64(found)
	}
	return recall, exposure
}
