package trace

import (
	"context"
	"fmt"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// nonCustodial are the stopping categories whose contracts hold nobody's
// funds: value they pass on inside the transaction that brought it (a DEX
// router wrapping ETH and paying a pool, a DeFi zap) is an intermediary's,
// not a deposit with a service.
var nonCustodial = map[string]bool{"dex": true, "defi": true}

// passesOn reports whether to, labelled with a non-custodial category cat,
// passes value on later in ev's transaction (a debit of to after ev in the
// transaction's ledger). Such an address does not stop the trace: under
// the tx-local rule (methods.md §2.3) the value moves on with the
// transaction, and a swap it takes part in converts it (§6.6). Value the
// contract keeps past its transaction still stops there.
func (e *acctEngine) passesOn(ctx context.Context, ev *store.AccountEvent, to heistgraph.EVMAddress, cat string) (bool, error) {
	if !nonCustodial[cat] || ev.Transfer.TxIndex < 0 {
		return false, nil
	}
	rec, err := e.r.AccountTx(ctx, e.o.Chain, ev.Transfer.TxHash)
	if err != nil {
		return false, fmt.Errorf("trace: %w", err)
	}
	after := false
	for i := range rec.Transfers {
		t := &rec.Transfers[i]
		if !after {
			after = sameTransfer(t, &ev.Transfer)
			continue
		}
		if t.From == to && t.Debits() {
			return true, nil
		}
	}
	return false, nil
}

func sameTransfer(a, b *heistgraph.Transfer) bool {
	return a.Kind == b.Kind && a.From == b.From && a.To == b.To && a.Asset == b.Asset &&
		a.Amount == b.Amount && a.LogIndex == b.LogIndex && a.TracePath == b.TracePath
}
