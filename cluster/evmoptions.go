package cluster

import (
	"fmt"
	"slices"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
)

// AccountOptions configures the clustering of account (EVM) chains
// (methods.md §7). Zero numeric fields take their defaults in Validate.
type AccountOptions struct {
	// DepositReuse turns on deposit-address reuse (§7.1). Default on.
	DepositReuse bool
	// SelfAuth turns on self-authorization (§7.3). Default on.
	SelfAuth bool
	// FundedBy records gas funding as funded_by hints (§7.4), never a
	// merge. Default on.
	FundedBy bool
	// DepositWindow is t_max: the most blocks between a credit to a
	// deposit address and its forward to the exchange. Default 3,200.
	DepositWindow int64
	// DepositSlack is a_max: the most a native forward may fall short of
	// the credit it forwards (the sweep's gas), in wei. Default 0.01 ETH.
	DepositSlack uint256.Int
	// MaxDepositSenders: a deposit address with more distinct senders is
	// shared_deposit and merges none. Default 50.
	MaxDepositSenders int
	// ExchangeCategories are the label categories of exchanges' hot
	// wallets (an address's own label). Default exchange,
	// high_risk_exchange, p2p_exchange.
	ExchangeCategories []string
}

// Defaults of AccountOptions.
const (
	DefaultDepositWindow     = 3200
	DefaultMaxDepositSenders = 50
)

// DefaultDepositSlack returns a_max, 0.01 ETH in wei.
func DefaultDepositSlack() uint256.Int { return *uint256.NewInt(10_000_000_000_000_000) }

// DefaultAccountOptions returns the documented defaults.
func DefaultAccountOptions() AccountOptions {
	return AccountOptions{DepositReuse: true, SelfAuth: true, FundedBy: true,
		DepositWindow: DefaultDepositWindow, DepositSlack: DefaultDepositSlack(), MaxDepositSenders: DefaultMaxDepositSenders,
		ExchangeCategories: []string{"exchange", "high_risk_exchange", "p2p_exchange"}}
}

func (a *AccountOptions) validate() error {
	if a.DepositWindow < 0 || a.MaxDepositSenders < 0 {
		return fmt.Errorf("cluster: deposit window %d or max senders %d < 0: %w", a.DepositWindow, a.MaxDepositSenders, heistgraph.ErrInvalid)
	}
	if a.DepositWindow == 0 {
		a.DepositWindow = DefaultDepositWindow
	}
	if a.MaxDepositSenders == 0 {
		a.MaxDepositSenders = DefaultMaxDepositSenders
	}
	if a.ExchangeCategories == nil {
		a.ExchangeCategories = DefaultAccountOptions().ExchangeCategories
	}
	return nil
}

func (a *AccountOptions) isExchange(cat string) bool {
	return slices.Contains(a.ExchangeCategories, cat)
}
