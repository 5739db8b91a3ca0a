// Package pattern holds pure detectors of laundering patterns on
// transactions (methods.md §4–§6): CoinJoins by kind, peel chains,
// consolidations, splits into many equal amounts, and entry into a
// labelled mixer or bridge. Detectors take domain values (heistgraph.Tx,
// the outputs its inputs spend, or small views built from them) and return
// the pattern's evidence; they do no I/O and know nothing of the store, of
// labels or of taint. The trace and clustering packages call them and add
// what they know (entities, tainted amounts).
//
// # Peel chains
//
// PeelCandidate turns a stored transaction into a PeelTx when it has a
// step's shape (methods.md §5.1); the caller adds what the detector cannot
// know from the transaction alone (fresh addresses, entities, whether the
// input belongs to a labelled service). PeelChains links the steps into
// chains and reports each as one PeelChain: its length, what it started
// with, peeled and kept, and where the peels went.
//
// # Consolidations and splits
//
// DetectConsolidation fires on many inputs paid into one output;
// DetectSplit on one owner's value split into many outputs of about the
// same amount. Neither fires on a CoinJoin by construction (see each).
//
// # DEX swaps
//
// Swaps recognises the Uniswap v2 and v3 swaps (and their forks') inside
// one EVM transaction (methods.md §6.6) from its kept Swap logs and its
// ERC-20 Transfers: a Swap log names neither its tokens nor its factory, so
// each is paired with the one Transfer into the pool and the one out of it
// that match its amounts exactly, which name the tokens. The factory is
// checked without a node: on a chain with an allow-list (SwapFactories) the
// pool's address must be the CREATE2 address a listed factory derives for
// those tokens. This is chosen over asking the pool for token0() and
// token1() by eth_call: it needs no archive node at trace time, works on a
// store built from files, and a contract that merely logs a Swap cannot
// pass it. Swaps that do not match exactly (fee-on-transfer tokens, input
// or output on both sides) are left out: the trace passes value through
// their pools by the tx-local rule (§2.3), under-tracing rather than
// inventing taint.
package pattern
