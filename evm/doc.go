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
//
// # Limits
//
// What the answers cannot say is not guessed. Without a debug API a block
// has no internal transfers (InternalKnown false) and, before Byzantium,
// no way to tell a failed transaction (its status is taken as success).
// Block rewards are known for Ethereum mainnet only (ParamsFor); other
// proof-of-work chains get none. L2 specifics are partial: an OP-stack
// receipt's l1Fee is part of the sender's fee, but the fee vaults' credits
// and the value a deposit transaction mints are not in the ledger. Before
// Cancun a contract that self-destructs to itself burns its balance; the
// ledger shows that as a transfer to itself.
package evm
