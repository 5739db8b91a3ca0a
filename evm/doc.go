// Package evm is the EVM adapter: it turns an Ethereum-like node's JSON-RPC
// answers into the account-model domain values of package heistgraph
// (heistgraph.AccountBlock with its ordered ledger of heistgraph.Transfer),
// from a node (RPCSource) or from a dump of the same answers in files
// (FileSource, written by Dumper).
//
// It is not a node and not a validator: nothing is re-executed, signatures
// and state roots are not checked, and nothing here writes the store (an
// ingester drives an AccountSource into it).
//
// # Decoding
//
// Decode takes one block's answers (RawBlock: eth_getBlockByNumber(N, true),
// the block's receipts, debug_traceBlockByNumber with the callTracer, and
// for block 0 the genesis allocations) and builds the block's ledger in
// methods.md §0.2's order: top-level value, internal transfers from the
// call trace (Internal: DELEGATECALL, CALLCODE and STATICCALL move no value
// of their own, a reverted frame moves nothing below it, SELFDESTRUCT moves
// the balance, CREATE with value credits the new contract), ERC-20 Transfer
// and WETH Deposit/Withdrawal logs (DecodeLog), the fee and the fee
// recipient's priority fee; then rewards and beacon withdrawals. A failed
// transaction moves no value and pays its fee. Params carries what the
// answers do not say: the chain's WETH contracts and reward schedule.
//
// # Sources
//
// RPCSource speaks to a node with go-ethereum's rpc client: batched calls,
// retries with backoff while the node is unavailable, a fallback to
// per-transaction receipts, and a one-time report (and InternalKnown false)
// when the node has no debug API. Range fetches a range of blocks ahead in
// parallel from any source; CheckChain compares the node's chain id with
// the registry's.
//
// FileSource reads the files layout of design.md (blocks.jsonl,
// receipts.jsonl, traces.jsonl, tokens.jsonl, genesis.json), with errors
// naming the file and line. Dumper writes that layout from any RawSource,
// so that a node's blocks, dumped and read back, decode identically.
package evm
