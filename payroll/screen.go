package payroll

import (
	"context"
	"fmt"
	"slices"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/risk"
)

// Store is what a payroll screen reads: the screening engine's roles.
type Store = risk.Store

// Options bounds a payroll screen.
type Options struct {
	// MaxReceipts is how many receipts of a payee's wallets count as pay
	// when the request gives no payouts (the newest are left out beyond
	// it, with a note). Default 1,000.
	MaxReceipts int
	// MaxReach is how many outputs the walk for converging payouts may
	// visit per payee (the walk stops there, with a note). Default 20,000.
	MaxReach int
	// PrecomputeFrom, when positive, builds the risk.Screener's exposure
	// table (risk.Screener.Precompute) of each UTXO chain on which the
	// payroll has at least this many wallets before screening them: one
	// pass over the chain instead of a walk per wallet's cluster. For a
	// one-off screen of a large payroll (the CLI); a server keeps its
	// tables built and leaves it 0.
	PrecomputeFrom int
}

// DefaultOptions returns the defaults.
func DefaultOptions() Options { return Options{MaxReceipts: 1000, MaxReach: 20000} }

// Screener screens payrolls over one store with one risk.Screener (whose
// H is the payroll's H). It is safe for concurrent use.
type Screener struct {
	st   Store
	rs   *risk.Screener
	opts Options
	id   *identities
}

// NewScreener returns a Screener. Zero options take defaults.
func NewScreener(st Store, rs *risk.Screener, opts Options) (*Screener, error) {
	d := DefaultOptions()
	if opts.MaxReceipts <= 0 {
		opts.MaxReceipts = d.MaxReceipts
	}
	if opts.MaxReach <= 0 {
		opts.MaxReach = d.MaxReach
	}
	id, err := loadIdentities()
	if err != nil {
		return nil, fmt.Errorf("payroll: built-in data: %w", err)
	}
	return &Screener{st: st, rs: rs, opts: opts, id: id}, nil
}

// Config returns the configuration answers record.
func (s *Screener) Config() Config {
	return Config{H: s.rs.Config().H, NameAlgorithm: "jaro-winkler on normalised name tokens paired in any order (length-weighted), or on the tokens joined", NameThreshold: NameThreshold,
		SDNSnapshot: SDNSnapshot, SDNPrograms: DPRKPrograms, SDNEntries: len(s.id.sdn), Indicators: len(s.id.ind),
		Pay: "the payouts given, else every receipt of the wallets not paid by the payee's own wallets", Risk: s.rs.ConfigJSON()}
}

// payeeRun is the state of one payee's screen.
type payeeRun struct {
	p     *Payee
	ans   *PayeeAnswer
	pay   map[heistgraph.Chain][]heistgraph.Outpoint // hop-1 outputs, per chain
	reach map[chainAddr]*reached                     // where the pay went (converge.go)
}

// Screen screens req (checked by ParseRequest, ReadCSV or Request.Check;
// its Hops, when set, must equal the risk.Screener's H). The answer lists
// the payees in req's order. A payout the store does not hold wraps
// heistgraph.ErrNotFound; ctx's error ends the screen.
func (s *Screener) Screen(ctx context.Context, req *Request) (*Answer, error) {
	H := s.rs.Config().H
	if req.Hops != 0 && req.Hops != H {
		return nil, fmt.Errorf("payroll: hops %d, but the screener follows %d: %w", req.Hops, H, heistgraph.ErrInvalid)
	}
	a := &Answer{Payees: make([]PayeeAnswer, len(req.Payees)), Config: s.Config(), Summary: Summary{ByRisk: map[risk.Level]int{}}}
	if s.opts.PrecomputeFrom > 0 {
		perChain := map[heistgraph.Chain]int{}
		for _, p := range req.Payees {
			for _, w := range p.Wallets {
				if w.Chain.IsUTXO() {
					perChain[w.Chain]++
				}
			}
		}
		for _, c := range sortedChains(perChain) {
			if perChain[c] >= s.opts.PrecomputeFrom {
				if _, err := s.rs.Precompute(ctx, c); err != nil {
					return nil, fmt.Errorf("payroll: exposure table of %s: %w", c, err)
				}
			}
		}
	}
	runs := make([]*payeeRun, len(req.Payees))
	w := newWalker(s.st, s.opts.MaxReach, H)
	for i := range req.Payees {
		p := &req.Payees[i]
		pa := &a.Payees[i]
		*pa = PayeeAnswer{ID: p.ID, Name: p.Name, Email: p.Email, Flags: []Flag{}, Wallets: []*risk.Answer{}, Pay: []*risk.Answer{}}
		r := &payeeRun{p: p, ans: pa}
		runs[i] = r
		if err := s.screenPayee(ctx, r, w); err != nil {
			return nil, fmt.Errorf("payee %s: %w", p.ID, err)
		}
		a.Summary.Wallets += len(p.Wallets)
	}
	if err := s.acrossPayees(ctx, runs); err != nil {
		return nil, err
	}
	for i := range a.Payees {
		pa := &a.Payees[i]
		pa.Risk = risk.LevelNone
		for _, f := range pa.Flags {
			if rank(f.Level) > rank(pa.Risk) {
				pa.Risk = f.Level
			}
		}
		a.Summary.ByRisk[pa.Risk]++
		if len(pa.Flags) > 0 {
			a.Summary.Flagged++
		}
	}
	a.Summary.Payees = len(a.Payees)
	return a, nil
}

// screenPayee fills r's identity flags, wallet screens, pay screens and
// exposure flags, and walks where the pay went.
func (s *Screener) screenPayee(ctx context.Context, r *payeeRun, w *walker) error {
	r.ans.Flags = append(r.ans.Flags, s.id.identityFlags(r.p)...)
	for _, wl := range r.p.Wallets {
		ans, err := s.rs.Screen(ctx, risk.Item{Chain: wl.Chain, Address: wl.Address, Direction: risk.Received})
		if err != nil {
			return fmt.Errorf("screen wallet %s %s: %w", wl.Chain, wl.Address, err)
		}
		r.ans.Wallets = append(r.ans.Wallets, ans)
		if f, ok := ownershipFlag(ans); ok {
			r.ans.Flags = append(r.ans.Flags, f)
		}
		for _, f := range exposureFlags(ans, nil) {
			f.Evidence.Chain, f.Evidence.Address = wl.Chain, wl.Address
			r.ans.Flags = append(r.ans.Flags, f)
		}
	}
	pay, err := s.payOf(ctx, r)
	if err != nil {
		return err
	}
	r.pay = pay
	for _, chain := range sortedChains(pay) {
		ops := pay[chain]
		ans, err := s.rs.ScreenPayouts(ctx, chain, ops)
		if err != nil {
			return fmt.Errorf("pay on %s: %w", chain, err)
		}
		r.ans.Pay = append(r.ans.Pay, ans)
		names := make([]string, len(ops))
		for i, op := range ops {
			names[i] = op.String()
		}
		for _, f := range exposureFlags(ans, names) {
			f.Evidence.Chain = chain
			r.ans.Flags = append(r.ans.Flags, f)
		}
		reach, partial, err := w.walk(ctx, chain, ops, r.p)
		if err != nil {
			return err
		}
		if partial {
			r.ans.Notes = append(r.ans.Notes, fmt.Sprintf("the walk of the pay on %s stopped after %d outputs: converging payouts beyond are not seen", chain, s.opts.MaxReach))
		}
		if r.reach == nil {
			r.reach = reach
		} else {
			for k, v := range reach {
				r.reach[k] = v
			}
		}
	}
	return nil
}

// payOf returns the payee's pay per chain: the payouts given, else every
// receipt of its wallets on UTXO chains that its own wallets did not pay
// (up to MaxReceipts per payee).
func (s *Screener) payOf(ctx context.Context, r *payeeRun) (map[heistgraph.Chain][]heistgraph.Outpoint, error) {
	pay := map[heistgraph.Chain][]heistgraph.Outpoint{}
	if len(r.p.Payouts) > 0 {
		for _, po := range r.p.Payouts {
			h, err := heistgraph.ParseHash(po.TxID)
			if err != nil || po.Vout == nil {
				return nil, fmt.Errorf("payout %s:%v: %w", po.TxID, po.Vout, heistgraph.ErrInvalid)
			}
			op := heistgraph.Outpoint{TxID: h, Vout: *po.Vout}
			if !slices.Contains(pay[po.Chain], op) {
				pay[po.Chain] = append(pay[po.Chain], op)
			}
		}
		return pay, nil
	}
	own := map[heistgraph.Chain]map[heistgraph.Hash]bool{} // txs the payee's wallets spent in
	type receipt struct {
		chain heistgraph.Chain
		op    heistgraph.Outpoint
		tx    heistgraph.Hash
	}
	var rs []receipt
	for _, wl := range r.p.Wallets {
		if !wl.Chain.IsUTXO() {
			continue
		}
		if own[wl.Chain] == nil {
			own[wl.Chain] = map[heistgraph.Hash]bool{}
		}
		for ev, err := range s.st.AddressHistory(ctx, wl.Chain, wl.Address, storeHistoryAll) {
			if err != nil {
				return nil, fmt.Errorf("history of %s: %w", wl.Address, err)
			}
			if ev.Kind == heistgraph.Spent {
				own[wl.Chain][ev.TxID] = true
			} else {
				rs = append(rs, receipt{wl.Chain, ev.Outpoint, ev.TxID})
			}
		}
	}
	n := 0
	for _, rc := range rs {
		if own[rc.chain][rc.tx] || slices.Contains(pay[rc.chain], rc.op) {
			continue
		}
		if n == s.opts.MaxReceipts {
			r.ans.Notes = append(r.ans.Notes, fmt.Sprintf("only the first %d receipts of the wallets count as pay", s.opts.MaxReceipts))
			break
		}
		pay[rc.chain] = append(pay[rc.chain], rc.op)
		n++
	}
	return pay, nil
}

// sortedChains returns m's chains in order.
func sortedChains[V any](m map[heistgraph.Chain]V) []heistgraph.Chain {
	out := make([]heistgraph.Chain, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// ownershipFlag returns a sanctioned_wallet flag when the wallet's owner
// (its cluster) carries a sanctioned or dprk label.
func ownershipFlag(a *risk.Answer) (Flag, bool) {
	var labels []risk.Direct
	for _, d := range a.Direct {
		if d.Kind == risk.KindOwnership && (d.Category == "sanctioned" || d.Category == "dprk") {
			labels = append(labels, d)
		}
	}
	if len(labels) == 0 && !a.Sanctioned {
		return Flag{}, false
	}
	who := ""
	if len(labels) > 0 {
		who = fmt.Sprintf(": %s (%s, %s)", labels[0].Entity, labels[0].Category, labels[0].Source)
	}
	return Flag{Kind: KindSanctionedWallet, Level: risk.LevelSevere, Detail: fmt.Sprintf("wallet %s is held by a sanctioned owner%s", a.Address, who),
		Evidence: Evidence{Chain: a.Chain, Address: a.Address, Labels: labels}}, true
}

// exposureCats are the categories whose exposure payroll flags, with the
// flag kind of each.
var exposureCats = []struct{ cat, kind string }{{"dprk", KindDPRKExposure}, {"sanctioned", KindSanctionedExposure}}

// exposureFlags returns a's dprk_exposure and sanctioned_exposure flags:
// for each category, the exposed amount per hop (counterparties at hop 1,
// indirect beyond) over the answer's received or sent value, at the level
// methods.md §8.5 gives that category in a (low when only the dusting cap
// or nothing fired). payouts name the pay for sent answers.
func exposureFlags(a *risk.Answer, payouts []string) []Flag {
	total := a.ReceivedSat
	if a.Direction == risk.Sent {
		total = a.SentSat
	}
	if total == nil || *total <= 0 {
		return nil
	}
	var flags []Flag
	for _, c := range exposureCats {
		byHop := map[int]int64{}
		var cps []risk.Direct
		for _, d := range a.Direct {
			if d.Kind == risk.KindCounterparty && d.Category == c.cat {
				byHop[1] += d.AmountSat
				cps = append(cps, d)
			}
		}
		for _, in := range a.Indirect {
			if in.Category == c.cat {
				byHop[in.Hops] += in.AmountSat
			}
		}
		var amt int64
		var hops []HopAmount
		for h := 1; h <= a.Config.H; h++ {
			if v := byHop[h]; v > 0 {
				amt += v
				hops = append(hops, HopAmount{Hops: h, AmountSat: v, Share: float64(v) / float64(*total)})
			}
		}
		if amt == 0 {
			continue
		}
		level := a.Levels[c.cat]
		if rank(level) < rank(risk.LevelLow) {
			level = risk.LevelLow
		}
		share := float64(amt) / float64(*total)
		what := "of the value the wallet received came from"
		if a.Direction == risk.Sent {
			what = "of the pay reached"
		}
		ev := Evidence{Direction: a.Direction, Category: c.cat, Share: &share, AmountSat: &amt, TotalSat: total, Hops: hops[0].Hops,
			ByHop: hops, Counterparties: cps, Payouts: payouts}
		flags = append(flags, Flag{Kind: c.kind, Level: level, Evidence: ev,
			Detail: fmt.Sprintf("%s %s %s within %d hops (nearest at hop %d): %s", risk.Percent(share), what, c.cat, hops[len(hops)-1].Hops, hops[0].Hops, level)})
	}
	return flags
}

// rank orders levels: none 0 … severe 4.
func rank(l risk.Level) int {
	return slices.Index([]risk.Level{risk.LevelNone, risk.LevelLow, risk.LevelMedium, risk.LevelHigh, risk.LevelSevere}, l)
}
