// Package mixer recognises Tornado Cash on EVM chains (methods.md §4.8) and
// links its deposits to its withdrawals (§4.9).
//
// # Pools
//
// A Table lists a chain's Tornado pools (contract, asset, denomination) and
// entry points (router, proxies). Builtin gives the four Ethereum mainnet
// ETH pools and the three entry points of §4.8; token pools come from
// labels of category mixer whose Etherscan name tag names a denomination
// ("Tornado.Cash: 1,000 DAI", Table.AddLabels).
//
// # Events
//
// DecodeDeposit and DecodeWithdrawal read the two events of tornado-core's
// Tornado.sol from a kept log (heistgraph.EventLog) with strict ABI checks:
// exact topic count, exact data length, zero padding. The event has no
// depositor: it is the transaction's sender.
//
// # Links
//
// A Linker reads a pool's events once (store.AccountReader.AccountLogs) and
// answers the anonymity set at a point of the chain (deposits before it
// minus withdrawals before it) and the links of a deposit: T1 (address
// match, strong) always, T2 (unique gas price), T3 (linked addresses) and T4
// (multi-denomination) when hypotheses are asked for (probable). Every link
// carries its evidence.
//
// The package reads the store only and knows nothing of taint: the trace
// (package trace) makes a deposit a sink and follows links on request.
package mixer
