package store

import (
	"context"

	"github.com/heistgraph/heistgraph"
)

// AccountLedger is an optional role for readers that walk an account chain
// block by block (the EVM screening table, risk.Screener.Precompute): a
// block's whole ledger in one read, cheaper than AccountTx per transaction,
// and with the block-level transfers (rewards, withdrawals) that no
// transaction holds. Consumers check for it with a type assertion.
type AccountLedger interface {
	// AccountLedger returns the stored block at height and its ledger in
	// ledger order: the transfer at index i is the one AccountHistory
	// yields with Seq i, with its TxHash set (zero for a block-level
	// transfer). A height without a stored block wraps
	// heistgraph.ErrNotFound.
	AccountLedger(ctx context.Context, chain heistgraph.Chain, height int64) (AccountBlockInfo, []heistgraph.Transfer, error)
}

// AccountInternals is an optional role for the account trace's hot path:
// whether a stored block was stored with its internal transfers, asked
// once per height a trace reaches. Consumers check for it with a type
// assertion and fall back to AccountReader.AccountBlockByHash.
type AccountInternals interface {
	// InternalKnown returns AccountBlockInfo.InternalKnown of the stored
	// block hash (a store may keep the answers). A block not stored wraps
	// heistgraph.ErrNotFound.
	InternalKnown(ctx context.Context, chain heistgraph.Chain, hash heistgraph.EVMHash) (bool, error)
}
