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
package pattern
