// Package bridge links value that leaves one chain through a bridge or a
// custodial swap service to the value that arrives on another (methods.md
// §6.2–6.5): by the protocol's identifiers where it has them, by amount and
// time where it has none.
package bridge

import (
	"cmp"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/heistgraph/heistgraph"
)

// Deposit is value sent to a service on one chain: Amount in the base
// units of an asset with Decimals, worth PriceUSD a whole unit at Time.
type Deposit struct {
	Amount   *big.Int
	Decimals uint8
	PriceUSD *big.Rat
	Time     time.Time
}

// Payout is a candidate payment by the service on the other chain, in the
// base units of the payout asset.
type Payout struct {
	ID     string
	Amount *big.Int
	Time   time.Time
}

// MatchOptions are the rules of methods.md §6.5. The zero value of each
// field but the payout asset's takes the default.
type MatchOptions struct {
	Decimals uint8    // the payout asset's decimals
	PriceUSD *big.Rat // a whole unit of the payout asset, at the deposit's time
	FeeMax   *big.Rat // the service's largest fee share; default 1%
	FeeFixed *big.Int // a network fee in payout base units (default 20,000 sat; 0.002 ETH is 2e15 wei)
	Epsilon  *big.Rat // price uncertainty above ŷ; default 0.5% (use 3% with daily prices)
	Window   time.Duration
	Tier     time.Duration // the first ranking tier; default 10 minutes
	TieBps   *big.Rat      // competitors this close in fee gap ...
	TieTime  time.Duration // ... and in time make the best ambiguous
}

func (o *MatchOptions) defaults() {
	if o.FeeMax == nil {
		o.FeeMax = big.NewRat(1, 100)
	}
	if o.FeeFixed == nil {
		o.FeeFixed = big.NewInt(20_000)
	}
	if o.Epsilon == nil {
		o.Epsilon = big.NewRat(5, 1000)
	}
	if o.Window == 0 {
		o.Window = 2 * time.Hour
	}
	if o.Tier == 0 {
		o.Tier = 10 * time.Minute
	}
	if o.TieBps == nil {
		o.TieBps = big.NewRat(10, 1)
	}
	if o.TieTime == 0 {
		o.TieTime = time.Minute
	}
}

// Candidate is a payout in the band, with what ranked it.
type Candidate struct {
	Payout     Payout
	Tier       int      // 1 within Tier of the deposit, else 2
	GapBps     *big.Rat // (ŷ − y)/ŷ in basis points (negative above ŷ)
	Delay      time.Duration
	Confidence heistgraph.Confidence
}

// Match is the answer of MatchAmountTime: the expected payout ŷ, the band
// [Low, High] a payout must fall in, and the chosen candidates: one
// `probable` when the best has no close competitor, else the best and its
// close competitors as `hypothesis`; none when no payout is in the band
// and window.
type Match struct {
	Expected  *big.Int
	Low, High *big.Int
	Chosen    []Candidate
}

// MatchAmountTime applies methods.md §6.5: ŷ = x × P_a / P_b converted to
// the payout asset's base units; a payout y at t_w is a candidate when
// 0 ≤ t_w − t_d ≤ Window and ŷ(1 − FeeMax) − FeeFixed ≤ y ≤ ŷ(1 + Epsilon);
// candidates rank by tier (within Tier first), then fee gap, then delay;
// the best is accepted as probable unless another candidate is within
// TieBps and TieTime of it, in which case those are all hypotheses. Amounts
// are rounded down to base units; the comparisons are exact.
func MatchAmountTime(d Deposit, payouts []Payout, o MatchOptions) (Match, error) {
	o.defaults()
	if d.Amount == nil || d.Amount.Sign() <= 0 || d.PriceUSD == nil || d.PriceUSD.Sign() <= 0 || o.PriceUSD == nil || o.PriceUSD.Sign() <= 0 {
		return Match{}, fmt.Errorf("amount/time match: want a positive deposit and both prices: %w", heistgraph.ErrInvalid)
	}
	// ŷ = x / 10^da × Pa / Pb × 10^db
	y := new(big.Rat).SetFrac(d.Amount, pow10(d.Decimals))
	y.Mul(y, d.PriceUSD)
	y.Quo(y, o.PriceUSD)
	y.Mul(y, new(big.Rat).SetInt(pow10(o.Decimals)))
	one := big.NewRat(1, 1)
	low := new(big.Rat).Mul(y, new(big.Rat).Sub(one, o.FeeMax))
	low.Sub(low, new(big.Rat).SetInt(o.FeeFixed))
	high := new(big.Rat).Mul(y, new(big.Rat).Add(one, o.Epsilon))
	m := Match{Expected: floor(y), Low: ceil(low), High: floor(high)}
	var cs []Candidate
	for _, p := range payouts {
		dt := p.Time.Sub(d.Time)
		if dt < 0 || dt > o.Window || p.Amount == nil {
			continue
		}
		py := new(big.Rat).SetInt(p.Amount)
		if py.Cmp(low) < 0 || py.Cmp(high) > 0 {
			continue
		}
		gap := new(big.Rat).Sub(y, py)
		gap.Quo(gap, y)
		gap.Mul(gap, big.NewRat(10_000, 1))
		tier := 2
		if dt <= o.Tier {
			tier = 1
		}
		cs = append(cs, Candidate{Payout: p, Tier: tier, GapBps: gap, Delay: dt})
	}
	if len(cs) == 0 {
		return m, nil
	}
	slices.SortStableFunc(cs, func(a, b Candidate) int {
		return cmp.Or(cmp.Compare(a.Tier, b.Tier), a.GapBps.Cmp(b.GapBps), cmp.Compare(a.Delay, b.Delay))
	})
	best := cs[0]
	chosen := []Candidate{best}
	for _, c := range cs[1:] {
		gapDiff := new(big.Rat).Sub(c.GapBps, best.GapBps)
		dt := c.Payout.Time.Sub(best.Payout.Time)
		if gapDiff.Abs(gapDiff).Cmp(o.TieBps) <= 0 && dt.Abs() <= o.TieTime {
			chosen = append(chosen, c)
		}
	}
	conf := heistgraph.ConfidenceProbable
	if len(chosen) > 1 {
		conf = heistgraph.ConfidenceHypothesis
	}
	for i := range chosen {
		chosen[i].Confidence = conf
	}
	m.Chosen = chosen
	return m, nil
}

func pow10(n uint8) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

func floor(r *big.Rat) *big.Int {
	q := new(big.Int).Quo(r.Num(), r.Denom()) // truncates toward zero
	if r.Sign() < 0 && new(big.Int).Mul(q, r.Denom()).Cmp(r.Num()) != 0 {
		q.Sub(q, big.NewInt(1))
	}
	return q
}

func ceil(r *big.Rat) *big.Int {
	q := floor(r)
	if new(big.Int).Mul(q, r.Denom()).Cmp(r.Num()) != 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}
