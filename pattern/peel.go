package pattern

import (
	"cmp"
	"slices"

	"github.com/heistgraph/heistgraph"
)

// PeelOptions are the parameters of peel-chain detection (methods.md
// §5.1, defaults in §9).
type PeelOptions struct {
	// MaxRatio is the largest peel ratio ρ = peel / (input − fee) of a
	// step. Default 0.30.
	MaxRatio float64
	// MaxGap is the longest time between consecutive steps, in seconds.
	// Default 24 h.
	MaxGap int64
	// MinLength is the fewest steps of a chain. Default 4.
	MinLength int
	// MaxInputs is the most inputs of a step. Default 1.
	MaxInputs int
	// FreshHigh is the share of steps with a fresh remainder address at
	// or above which a chain's confidence is high. Default 0.75.
	FreshHigh float64
}

// DefaultPeelOptions returns the defaults of methods.md §9.
func DefaultPeelOptions() PeelOptions {
	return PeelOptions{MaxRatio: 0.30, MaxGap: 24 * 3600, MinLength: 4, MaxInputs: 1, FreshHigh: 0.75}
}

func (o *PeelOptions) defaults() {
	d := DefaultPeelOptions()
	if o.MaxRatio <= 0 {
		o.MaxRatio = d.MaxRatio
	}
	if o.MaxGap <= 0 {
		o.MaxGap = d.MaxGap
	}
	if o.MinLength <= 0 {
		o.MinLength = d.MinLength
	}
	if o.MaxInputs <= 0 {
		o.MaxInputs = d.MaxInputs
	}
	if o.FreshHigh <= 0 {
		o.FreshHigh = d.FreshHigh
	}
}

// PeelTx is one transaction as the peel-chain detector sees it. The
// shape fields come from the transaction (PeelCandidate fills them); the
// caller adds Fresh, Entity and Category on the outputs and CoinJoin and
// Service.
type PeelTx struct {
	TxID       heistgraph.Hash
	Time       int64 // block time, Unix seconds
	InputValue int64 // Σ of the spent outputs
	Fee        int64
	Outputs    []PeelOutput // the spendable outputs with value
	Inputs     int
	// CoinJoin marks a detected CoinJoin, never a step.
	CoinJoin bool
	// Service marks a transaction whose input belongs to a labelled
	// service: an exchange paying one customer per transaction from a big
	// UTXO looks exactly like a peel chain and is excluded (methods.md
	// §5.4).
	Service bool
}

// PeelOutput is one spendable output of a PeelTx.
type PeelOutput struct {
	Vout    uint32
	Value   int64
	Address string
	// Fresh is true when the address is first seen in this transaction.
	Fresh bool
	// SpentBy is the spending transaction, zero while unspent.
	SpentBy heistgraph.Hash
	// Entity and Category name the labelled entity the output pays, if
	// known.
	Entity, Category string
}

// PeelCandidate returns rec as a PeelTx when it has a step's shape: not a
// coinbase, at most opts.MaxInputs inputs all of whose spent outputs are
// known, and exactly two spendable outputs with value (OP_RETURN and
// zero-value outputs are ignored).
func PeelCandidate(rec *heistgraph.TxRecord, opts PeelOptions) (PeelTx, bool) {
	opts.defaults()
	tx := &rec.Tx
	if tx.IsCoinbase() || len(tx.Inputs) == 0 || len(tx.Inputs) > opts.MaxInputs || !rec.FeeKnown {
		return PeelTx{}, false
	}
	p := PeelTx{TxID: tx.TxID, Time: rec.Block.Time, Fee: rec.Fee, Inputs: len(tx.Inputs)}
	for _, po := range rec.Prevouts {
		if po == nil {
			return PeelTx{}, false
		}
		p.InputValue += po.Value
	}
	for n, o := range tx.Outputs {
		if o.Value == 0 || o.Type == heistgraph.ScriptNullData {
			continue
		}
		po := PeelOutput{Vout: uint32(n), Value: o.Value, Address: o.Address}
		if n < len(rec.SpentBy) && rec.SpentBy[n] != nil {
			po.SpentBy = rec.SpentBy[n].TxID
		}
		p.Outputs = append(p.Outputs, po)
	}
	if len(p.Outputs) != 2 {
		return PeelTx{}, false
	}
	return p, true
}

// PeelChain is one detected peel chain (methods.md §5.2). StartAmount =
// TotalPeeled + TotalFees + EndRemainder, exactly.
type PeelChain struct {
	Head          heistgraph.Hash `json:"head_txid"`
	Tail          heistgraph.Hash `json:"tail_txid"`
	Length        int             `json:"length"`
	StartAmount   int64           `json:"start_amount"`
	EndRemainder  int64           `json:"end_remainder"`
	TotalPeeled   int64           `json:"total_peeled"`
	TotalFees     int64           `json:"total_fees"`
	PeelsByEntity []PeelDest      `json:"peels_by_entity"`
	FirstTime     int64           `json:"first_time"`
	LastTime      int64           `json:"last_time"`
	MedianGap     int64           `json:"median_gap_s"`
	// Confidence is "high" when the remainder address is fresh in at
	// least FreshHigh of the steps, else "medium".
	Confidence string `json:"confidence"`
	// Remainder is the tail's remainder output (TXID:VOUT) and End how
	// it ended: "unspent", "spent" (by a transaction that is not a step)
	// or, when its Entity is known, "entity".
	Remainder string `json:"remainder"`
	End       string `json:"end"`
	// Steps are the chain's transactions in order, head first.
	Steps []heistgraph.Hash `json:"steps"`
}

// PeelDest sums the peels that went to one entity ("" when unknown).
type PeelDest struct {
	Entity   string `json:"entity"`
	Category string `json:"category"`
	Amount   int64  `json:"amount"`
	Count    int    `json:"count"`
}

// step is a PeelTx that passed the step rules, with its remainder chosen.
type step struct {
	tx        *PeelTx
	rem, peel int // indices into tx.Outputs
}

// PeelChains links the steps among txs into chains (methods.md §5.1): a
// step is a PeelTx of two outputs, not a CoinJoin nor a service's, with
// ρ ≤ MaxRatio, whose remainder is the output spent by another step (if
// neither or both are, the larger; equal values, the lower vout) and whose
// peel is the other. Consecutive steps are at most MaxGap apart; a chain
// has at least MinLength steps. When both outputs of a step start chains,
// two chains share that head. Chains are returned in the order of their
// heads in txs, which should be chain order; txs is not modified.
func PeelChains(txs []PeelTx, opts PeelOptions) []PeelChain {
	opts.defaults()
	byID := make(map[heistgraph.Hash]int, len(txs))
	for i := range txs {
		if okShape(&txs[i], opts) {
			byID[txs[i].TxID] = i
		}
	}
	steps := make([]*step, len(txs))
	for i := range txs {
		t := &txs[i]
		if _, ok := byID[t.TxID]; !ok {
			continue
		}
		s := &step{tx: t, rem: 0, peel: 1}
		_, s0 := byID[t.Outputs[0].SpentBy]
		_, s1 := byID[t.Outputs[1].SpentBy]
		s0 = s0 && !t.Outputs[0].SpentBy.IsZero()
		s1 = s1 && !t.Outputs[1].SpentBy.IsZero()
		switch {
		case s1 && !s0:
			s.rem, s.peel = 1, 0
		case s0 == s1 && t.Outputs[1].Value > t.Outputs[0].Value:
			s.rem, s.peel = 1, 0
		}
		in := t.InputValue - t.Fee
		if in <= 0 || float64(t.Outputs[s.peel].Value) > opts.MaxRatio*float64(in) {
			continue
		}
		steps[i] = s
	}
	// next follows output k of step i to the step spending it, in time.
	next := func(i, k int) int {
		s := steps[i]
		o := s.tx.Outputs[k]
		if o.SpentBy.IsZero() {
			return -1
		}
		j, ok := byID[o.SpentBy]
		if !ok || steps[j] == nil || steps[j].tx.Time-s.tx.Time > opts.MaxGap {
			return -1
		}
		return j
	}
	hasPred := make([]bool, len(txs))
	for i, s := range steps {
		if s == nil {
			continue
		}
		for k := range 2 {
			if j := next(i, k); j >= 0 {
				hasPred[j] = true
			}
		}
	}
	var out []PeelChain
	var walk func(prefix []int, j int)
	walk = func(prefix []int, j int) {
		path := prefix
		for ; j >= 0; j = next(j, steps[j].rem) {
			path = append(path, j)
		}
		if len(path) >= opts.MinLength {
			out = append(out, chainOf(steps, path, opts))
		}
		// Branches: a step whose peel starts a chain of its own heads a
		// second chain.
		for _, i := range path[len(prefix):] {
			if p := next(i, steps[i].peel); p >= 0 {
				walk([]int{i}, p)
			}
		}
	}
	for i, s := range steps {
		if s != nil && !hasPred[i] {
			walk(nil, i)
		}
	}
	return out
}

func okShape(t *PeelTx, opts PeelOptions) bool {
	return len(t.Outputs) == 2 && !t.CoinJoin && !t.Service && t.Inputs >= 1 && t.Inputs <= opts.MaxInputs
}

// chainOf summarises the steps at path. Each step's continuing output is
// the one the next step spends (for a branch's head, its peel), the other
// is what it peeled; the tail's remainder is its chosen remainder.
func chainOf(steps []*step, path []int, opts PeelOptions) PeelChain {
	head, tail := steps[path[0]], steps[path[len(path)-1]]
	c := PeelChain{
		Head: head.tx.TxID, Tail: tail.tx.TxID, Length: len(path),
		StartAmount: head.tx.InputValue, FirstTime: head.tx.Time, LastTime: tail.tx.Time,
	}
	fresh := 0
	var gaps []int64
	for n, i := range path {
		s := steps[i]
		cont := s.rem
		if n+1 < len(path) {
			nx := steps[path[n+1]].tx.TxID
			switch {
			case s.tx.Outputs[s.rem].SpentBy == nx:
			case s.tx.Outputs[s.peel].SpentBy == nx:
				cont = s.peel
			}
		}
		c.Steps = append(c.Steps, s.tx.TxID)
		c.TotalFees += s.tx.Fee
		peel := s.tx.Outputs[1-cont]
		c.TotalPeeled += peel.Value
		if s.tx.Outputs[cont].Fresh {
			fresh++
		}
		if n > 0 {
			gaps = append(gaps, s.tx.Time-steps[path[n-1]].tx.Time)
		}
		k := slices.IndexFunc(c.PeelsByEntity, func(d PeelDest) bool { return d.Entity == peel.Entity && d.Category == peel.Category })
		if k < 0 {
			c.PeelsByEntity = append(c.PeelsByEntity, PeelDest{Entity: peel.Entity, Category: peel.Category})
			k = len(c.PeelsByEntity) - 1
		}
		c.PeelsByEntity[k].Amount += peel.Value
		c.PeelsByEntity[k].Count++
	}
	rem := tail.tx.Outputs[tail.rem]
	c.EndRemainder = rem.Value
	c.Remainder = heistgraph.Outpoint{TxID: tail.tx.TxID, Vout: rem.Vout}.String()
	switch {
	case rem.Entity != "":
		c.End = "entity"
	case rem.SpentBy.IsZero():
		c.End = "unspent"
	default:
		c.End = "spent"
	}
	slices.SortStableFunc(c.PeelsByEntity, func(a, b PeelDest) int {
		if x := cmp.Compare(b.Amount, a.Amount); x != 0 {
			return x
		}
		return cmp.Compare(a.Entity, b.Entity)
	})
	c.MedianGap = median(gaps)
	c.Confidence = "medium"
	if float64(fresh) >= opts.FreshHigh*float64(len(path)) {
		c.Confidence = "high"
	}
	return c
}

// median returns the median of xs (the mean of the two middle values,
// rounded down, for an even count); 0 for none.
func median(xs []int64) int64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
