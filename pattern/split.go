package pattern

import (
	"slices"

	"github.com/heistgraph/heistgraph"
)

// Split parameters: at least MinSplitOutputs outputs whose values lie
// within SplitTolerancePct percent of the smallest of them, each above
// the detectors' dust threshold (methods.md §0.4).
const (
	MinSplitOutputs   = 5
	SplitTolerancePct = 1
	DustThreshold     = 2730
)

// Split is one owner's value split into many outputs of about the same
// amount at distinct addresses: the first layering step after large
// thefts (methods.md §5.3), and what a Whirlpool Tx0 does.
type Split struct {
	EqualOutputs int   `json:"equal_outputs"`
	OtherOutputs int   `json:"other_outputs"`
	AmountSat    int64 `json:"amount_sat"` // the smallest of the equal outputs
	EqualSat     int64 `json:"equal_sat"`  // Σ of the equal outputs
}

// DetectSplit fires when the largest group of outputs whose values lie
// within SplitTolerancePct of the group's smallest value has at least
// MinSplitOutputs members, each above DustThreshold and at its own
// address, making up at least half of the spendable outputs, and the
// inputs come from fewer distinct addresses than the group has members.
// The last rule keeps CoinJoins out: in every CoinJoin of methods.md §4
// each equal output has a participant of its own behind it. A batched
// exchange withdrawal (many distinct amounts) does not fire. prevouts[i]
// is the output input i spends, or nil when unknown (counted as a
// distinct address, so unknown inputs never make a split).
func DetectSplit(tx *heistgraph.Tx, prevouts []*heistgraph.TxOut) (Split, bool) {
	if tx.IsCoinbase() {
		return Split{}, false
	}
	type out struct {
		v    int64
		addr string
	}
	var outs []out
	for _, o := range tx.Outputs {
		if o.Value > 0 && o.Type != heistgraph.ScriptNullData {
			outs = append(outs, out{o.Value, o.Address})
		}
	}
	if len(outs) < MinSplitOutputs {
		return Split{}, false
	}
	slices.SortFunc(outs, func(a, b out) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	best, bi := splitWindow(len(outs), func(i int) int64 { return outs[i].v })
	if best < MinSplitOutputs || 2*best < len(outs) {
		return Split{}, false
	}
	group := outs[bi : bi+best]
	addrs := make(map[string]struct{}, best)
	var sum int64
	for _, o := range group {
		if o.addr == "" {
			return Split{}, false
		}
		addrs[o.addr] = struct{}{}
		sum += o.v
	}
	if len(addrs) != best {
		return Split{}, false
	}
	in := distinctAddresses(prevouts)
	for _, p := range prevouts {
		if p == nil || p.Address == "" {
			in++
		}
	}
	if len(prevouts) < len(tx.Inputs) {
		in += len(tx.Inputs) - len(prevouts)
	}
	if in >= best {
		return Split{}, false
	}
	return Split{EqualOutputs: best, OtherOutputs: len(outs) - best, AmountSat: group[0].v, EqualSat: sum}, true
}

// splitWindow returns the largest window [bi, bi+best) of n values in
// increasing order (v gives the i-th) whose last is at most its first
// plus SplitTolerancePct, its first above DustThreshold.
func splitWindow(n int, v func(int) int64) (best, bi int) {
	j := 0
	for i := range n {
		if v(i) <= DustThreshold {
			continue
		}
		if j < i {
			j = i
		}
		for j < n && v(j)*100 <= v(i)*(100+SplitTolerancePct) {
			j++
		}
		if j-i > best {
			best, bi = j-i, i
		}
	}
	return best, bi
}

// MaySplit reports whether a transaction whose spendable outputs with
// value (OP_RETURN and zero-value outputs aside) have the values sorted,
// in increasing order, passes DetectSplit's test of amounts: a group of at
// least MinSplitOutputs outputs within SplitTolerancePct, making up half
// of them. When it does not, DetectSplit does not fire, whatever the
// addresses; a caller can skip building the transaction.
func MaySplit(sorted []int64) bool {
	best, _ := splitWindow(len(sorted), func(i int) int64 { return sorted[i] })
	return best >= MinSplitOutputs && 2*best >= len(sorted)
}
