// Package synth generates synthetic Bitcoin and EVM worlds with ground
// truth: a regtest chain in Bitcoin Core's blk-file format (or an EVM
// chain's JSON-RPC answers in the files layout `ingest evm --files` reads),
// truth.json (who owns every address, where every heist's stolen value
// went) and labels.csv (what an analyst would know). Worlds are how heistgraph's clustering and
// tracing are measured; see design.md for the contract and methods.md for
// the behaviours the world exercises.
//
// It does not score analyses against the truth (that is eval's job, which
// reads the truth with LoadTruth) and it does not validate scripts: the
// signatures are placeholders of realistic size, so sizes, weights and
// fees are those of real transactions.
//
// # The world
//
// Miners mine every block (a fixed 50 BTC subsidy plus fees; coinbases
// mature after 100 blocks) and pay members and exchanges in batches.
// Exchanges give each customer a deposit address, sweep deposits into hot
// wallets and pay withdrawals in batches with change. Users hold one script
// type (P2PKH, P2SH-P2WPKH, P2WPKH or P2TR; a few switch), mostly use
// fresh change and sometimes reuse addresses; each wallet software has a
// consistent nVersion, nLockTime, nSequence, signature-grinding and
// output-ordering habit (methods.md §3.3). Merchants take payments at fresh
// invoice addresses and cash out at exchanges. A custodial mixer pays
// deposits back from its pool after a delay; a bridge sweeps deposits into
// a vault where they stay. Users run Whirlpool (Tx0s, 5-in/5-out mixes with
// remixers), Wasabi 2 (rounds of 20-150 inputs, standard denominations,
// sorted) and JoinMarket (equal outputs plus makers' change) exactly as
// methods.md §4 defines them.
//
// Heists drain a victim exchange's hot wallet to attacker addresses, split
// the loot and launder the parts through peel chains (methods.md §5),
// deposits in pieces at several exchanges, the mixer, the bridge and
// CoinJoins, and leave some unspent. The first heist of a world never
// touches a CoinJoin, the second always sends part of the loot into one.
// truth.json also lists every CoinJoin and Tx0 and each heist's peel
// chains, so detectors can be scored too.
//
// # EVM worlds
//
// GenerateEVM writes chain evm-synth (chain id 424242): block 0's genesis
// allocations, then blocks of type-2 transactions with receipts and
// callTracer traces, every value movement checked against a balance book
// in the ledger order the decoder reads (value, internal calls, logs, fee,
// priority fee), so that ingested balances equal the book's. Exchanges
// give each customer a deposit address and sweep it into their hot wallet
// within 300 blocks, losing only the sweep's gas (methods.md §7.1); WETH9
// sits at mainnet's address; a Uniswap v2 pair of WETH and a 6-decimal
// stablecoin, behind a router, emits Transfer, Sync and Swap logs
// (§6.6); a Tornado-like mixer takes 10 and 100 ETH notes with Deposit and
// Withdrawal events and relayers (§4.8); users trade, wrap, swap, mix and
// pay each other. Heists (evmheist.go) drain a victim in one transaction,
// fan out to fresh addresses that pay their own gas, hop, swap, deposit
// 100 ETH notes into the mixer, deposit at fresh exchange deposit
// addresses and leave some unspent; truth.json (EVMTruth) records per heist
// its seeds, amount, destinations per entity and asset, fees and swaps, and
// the world's mixer notes and deposit addresses. EvalAccountTrace scores
// account traces against it.
//
// # Linked worlds
//
// GenerateEVM also writes, unless Options.Unlinked, the Bitcoin world
// linked to the EVM world by THORChain (evmlinked.go, linkedbtc.go): a
// router emitting the real router's Deposit events with swap memos in
// THORChain's forms, Bitcoin vaults paying the outbounds with OP_RETURN
// OUT:<inbound tx hash> (streaming swaps in several outbounds, a refund
// back on the EVM chain through the router's TransferOut, and one on
// Bitcoin, REFUND:<txid>, of a swap whose limit no pool meets), liquidity
// providers, bridge users as noise, and heists that swap ETH or the
// stablecoin to Bitcoin and peel it into the Bitcoin world's exchanges.
// Its blk*.dat sit beside the EVM files, its truth in LinkedTruthFile; the
// EVM truth marks those heists crosses_chains, with destinations on both
// chains in the seed asset's units at the swaps' rates, and lists every
// swap with its outbounds (EVMLinkedTruth). The linked part draws from
// its own generator and names its own addresses and transactions, so the
// world's other heists are those of the unlinked world, field for field.
//
// # Determinism and memory
//
// The same seed and scale give the same bytes: one PCG generator drives
// everything, no map is iterated, no clock is read. Blocks are streamed to
// disk as they are made; the generator keeps the actors' unspent coins and
// five bytes per address (owner and script type), from which scripts, keys
// and address strings are derived again when needed.
package synth
