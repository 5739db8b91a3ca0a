package pattern

import "github.com/heistgraph/heistgraph"

// MinConsolidationInputs is the fewest inputs of a consolidation.
const MinConsolidationInputs = 3

// Consolidation is many inputs paid into one output: a wallet sweeping
// its coins together (exchange deposit sweeps, a thief gathering split
// loot before cashing out).
type Consolidation struct {
	Inputs         int    `json:"inputs"`
	InputAddresses int    `json:"input_addresses"`
	Vout           uint32 `json:"vout"`
	Address        string `json:"address"`
	AmountSat      int64  `json:"amount_sat"`
}

// DetectConsolidation fires on a transaction that is not a coinbase, has
// at least MinConsolidationInputs inputs and exactly one spendable output
// with value (OP_RETURN and zero-value outputs aside). A payment with
// change (two outputs) and a CoinJoin (many outputs) never fire.
// prevouts[i] is the output input i spends, or nil when unknown; it is
// used only to count distinct input addresses.
func DetectConsolidation(tx *heistgraph.Tx, prevouts []*heistgraph.TxOut) (Consolidation, bool) {
	if tx.IsCoinbase() || len(tx.Inputs) < MinConsolidationInputs {
		return Consolidation{}, false
	}
	c := Consolidation{Inputs: len(tx.Inputs)}
	n := 0
	for i, o := range tx.Outputs {
		if o.Value == 0 || o.Type == heistgraph.ScriptNullData {
			continue
		}
		n++
		c.Vout, c.Address, c.AmountSat = uint32(i), o.Address, o.Value
	}
	if n != 1 {
		return Consolidation{}, false
	}
	c.InputAddresses = distinctAddresses(prevouts)
	return c, true
}

// distinctAddresses counts the distinct non-empty addresses of outs.
func distinctAddresses(outs []*heistgraph.TxOut) int {
	seen := make(map[string]struct{}, len(outs))
	for _, o := range outs {
		if o != nil && o.Address != "" {
			seen[o.Address] = struct{}{}
		}
	}
	return len(seen)
}
