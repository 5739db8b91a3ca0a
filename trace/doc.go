// Package trace follows stolen value forward from seeds and says where it
// is now (methods.md §1, §2): taint policies (poison, haircut, FIFO, LIFO,
// taint-first), stops (labelled entities, thresholds, hop limits), sinks,
// edges and fees, with exact conservation for every policy but poison. It
// reads the store only; it does not detect entities itself (a Resolver
// names them) and does not score risk (package risk does).
//
// # UTXO chains
//
// Run traces Bitcoin-family chains transaction by transaction, in chain
// order, applying the policy to each transaction's inputs and outputs
// (methods.md §1). Results are in satoshis (Result).
//
// # Account chains
//
// RunAccounts traces EVM chains (methods.md §2): the policies work on each
// (address, asset) balance, fed by the address's history in ledger order;
// inside a transaction, outflows first match the same transaction's inflows
// (the tx-local rule, §2.3); WETH wraps and unwraps and DEX swaps that
// package pattern recognises convert the taint (swap sinks, §6.6). Results are decimal strings of base units per asset,
// and conservation holds per asset (AccountResult).
package trace
