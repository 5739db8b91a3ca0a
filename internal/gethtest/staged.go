package gethtest

import (
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Staged is what a staged scene (RunHeist, RunUnwrap) sent and made: its
// transactions' receipts and its addresses, by the names the scene's
// documentation gives them.
type Staged struct {
	Txs      map[string]*types.Receipt
	Accounts map[string]common.Address
}

// newStaged returns an empty Staged with the externally owned accounts
// named by the keys NewKey(prefix + " " + name).
func newStaged(prefix string, eoas ...string) Staged {
	s := Staged{Txs: map[string]*types.Receipt{}, Accounts: map[string]common.Address{}}
	for _, name := range eoas {
		s.Accounts[name] = AddressOf(NewKey(prefix + " " + name))
	}
	return s
}

// to returns the address called name, as a transaction's recipient.
func (s Staged) to(name string) *common.Address { a := s.Accounts[name]; return &a }

// ok records r as the transaction called name, failing tb unless it
// succeeded.
func (s Staged) ok(tb testing.TB, name string, r *types.Receipt) {
	tb.Helper()
	if r.Status != types.ReceiptStatusSuccessful {
		tb.Fatalf("gethtest: %s (tx %s) failed", name, r.TxHash)
	}
	s.Txs[name] = r
}
