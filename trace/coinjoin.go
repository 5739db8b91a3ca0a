package trace

import (
	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/pattern"
)

// detectCoinJoin tells whether tx is a CoinJoin (methods.md §4, the
// detectors of package pattern) and describes it as an event. opts may
// number the owners the detectors compare (txTable.coinJoin).
func detectCoinJoin(tx *heistgraph.Tx, prevouts []*heistgraph.TxOut, opts pattern.CoinJoinOptions) (CoinJoinEvent, bool) {
	cj, ok := pattern.AnalyzeCoinJoin(tx, prevouts, opts)
	if !ok {
		return CoinJoinEvent{}, false
	}
	return CoinJoinEvent{Subtype: string(cj.Kind), Confidence: string(cj.Confidence), Denominations: cj.Denominations,
		Participants: cj.Participants, AnonymitySet: cj.AnonymitySet}, true
}

// Tx0Event is a Whirlpool Tx0 (premix) the tainted value went through
// (kind "whirlpool_tx0", methods.md §4.1): not a CoinJoin, the trace
// passes through it like any transaction.
type Tx0Event struct {
	Pool       int64 `json:"pool"`
	Premix     int64 `json:"premix"`
	Premixes   int   `json:"premixes"`
	HasChange  bool  `json:"has_change"`
	TaintedSat int64 `json:"tainted_sat"`
}
