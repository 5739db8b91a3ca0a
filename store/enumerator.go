package store

import (
	"context"
	"iter"

	"github.com/heistgraph/heistgraph"
)

// Enumerator is an optional role for readers of a whole store (package
// store/dump): the keys that no other read lists. Consumers check for it
// with a type assertion. Every sequence streams (nothing is loaded whole),
// yields nothing for a chain with nothing stored, and ends with an error
// wrapping ctx.Err() when ctx is cancelled.
type Enumerator interface {
	// BlockHeights yields the heights of chain's stored blocks in
	// ascending order: the best-chain heights of a UTXO chain, the stored
	// heights of an account chain.
	BlockHeights(ctx context.Context, chain heistgraph.Chain) iter.Seq2[int64, error]
	// Addresses yields every address of a UTXO chain that
	// ChainReader.Address finds, each once, in no particular order.
	Addresses(ctx context.Context, chain heistgraph.Chain) iter.Seq2[string, error]
	// Accounts yields every address of an account chain that
	// AccountReader.AccountSummary finds, each once, in no particular
	// order.
	Accounts(ctx context.Context, chain heistgraph.Chain) iter.Seq2[heistgraph.EVMAddress, error]
	// Tokens yields the metadata of every token stored for chain
	// (AccountWriter.PutToken), each once, in no particular order.
	Tokens(ctx context.Context, chain heistgraph.Chain) iter.Seq2[heistgraph.TokenInfo, error]
}
