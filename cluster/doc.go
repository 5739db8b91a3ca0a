// Package cluster groups the addresses of a UTXO chain into clusters, each
// meant to be one entity, with the heuristics of methods.md §3, keeps the
// evidence of every union, lets analysts override it, and maps addresses
// to the entities their clusters' labels name (Resolver).
//
// It reads chain data and labels and writes clusters through the store's
// role interfaces (Store); CoinJoin detection comes from package pattern.
// It does not ingest blocks, import labels or trace taint.
//
// # Clustering
//
// Update clusters the blocks stored since its last run, in chain order, one
// atomic batch per block. Every address gets a dense id in order of first
// appearance, and a cluster's id is the id of its oldest address, so that
// ids are stable: a cluster that absorbs another keeps its id.
//
//   - H1, common-input ownership (§3.2): the input addresses of every
//     transaction that is not a coinbase, not a CoinJoin of any kind and
//     not of the Stonewall shape (pattern.AnalyzeCoinJoin,
//     pattern.IsStonewall) are one entity. Every such transaction with two
//     input addresses or more is stored as evidence, joining or not.
//   - Change (§3.3, §3.4): on transactions with exactly two spendable
//     outputs, each enabled heuristic votes for an output it can tell is
//     the change; an output with at least MinVotes votes while the other
//     has none (and the optimal-change veto does not point at the other)
//     joins the inputs' cluster. Fingerprint votes (locktime, version, RBF)
//     need both outputs spent: the candidate waits up to Window blocks and
//     is decided when its second output is spent; a spender that is a
//     CoinJoin or of the Stonewall shape gives no fingerprint vote (its
//     fingerprint is its coordinator's).
//   - Guards (§3.5): G1, no H1 and no change on CoinJoins; G2, a union
//     that would add a service entity to a cluster carrying another is
//     refused and logged; G3, no change inference in clusters of 1,000
//     addresses or more or carrying a service label; G4, unions of two
//     clusters of 10,000 addresses or more (1,000 for change) are held
//     unless both carry the same entity; G5, change unions are soft: they
//     only attach an address that is alone in its cluster, and one is
//     dropped when its change address is then spent together with the
//     coins of many other clusters, of a service, or of a much larger
//     cluster (GuardOptions.SweepRoots), the path by which a payee's
//     address collapses the payer's cluster into the payee's.
//
// # Account (EVM) chains
//
// The same engine clusters account chains (methods.md §7; evm.go): every
// address gets its id at its first transfer in ledger order, and the
// evidence, guards, overrides, rewinds and rebuilds are the UTXO chains'.
//
//   - Deposit-address reuse (§7.1): an EOA D whose credit (S → D, a₁, b₁)
//     it forwards itself to an exchange's hot wallet X (an address with
//     its own label of an exchange category) within DepositWindow blocks,
//     short by at most DepositSlack (native) or exactly, or as the sum of
//     its credits since the last sweep (tokens), joins X's cluster
//     (evidence exchange-deposit); the senders of what D forwards are one
//     user (deposit-reuse). Senders that are contracts, miners or labelled
//     services are not merged; a D with more than MaxDepositSenders
//     distinct senders is shared_deposit: its deposit-reuse evidence is
//     dropped and the memberships rebuilt.
//   - Self-authorization (§7.3): an ERC-20 Approval(O, P) to a spender
//     not known as a contract, then P's own transaction calling the token
//     that moves O's tokens: O and P are one (self-authorization).
//   - Gas funding (§7.4): the first native funder of a new address is
//     recorded as funded_by evidence with status hint when the address
//     sends its first transaction; never a merge.
//
// The state these need across blocks (contracts and miners seen, deposit
// candidates, approvals, funders) is saved with the tip and replayed from
// the clustered blocks when no saved state fits.
//
// # Defaults, as measured
//
// On the medium synthetic world (seed 1: 101,165 transactions, 349,518
// addresses, 6,093 entities), pairwise precision and recall over the
// truth's addresses:
//
//	configuration (--change)             precision  recall
//	H1 only (none)                       1.0000     0.0967
//	fresh, round, type, optimal          1.0000     0.0997
//	legacy-pair                          1.0000     0.0981
//	default (+ locktime, version)        1.0000     0.1093   (0 clusters mixing entities)
//	default + rbf                        1.0000     0.1108
//	default, --min-votes 1               0.9607     0.1193   (241 mixing clusters)
//	default, --min-votes 3               1.0000     0.1015
//
// Before the fingerprint votes ignored CoinJoin spenders the default made
// 54 user clusters mix two users (precision 0.9934), and before G5's leaf
// rule and sweep extension three exchange clusters swallowed attackers'
// clusters through attackers' deposits. The default is methods.md §3.4's
// set (fresh, round with d = 4, address type, locktime, version, optimal as
// a veto) with MinVotes 2; RBF stays off although it costs nothing here,
// for its 96% precision on real data. Recall is low on the synthetic world
// by design: merchants cash out each batch of invoices to an exchange with
// no change, so their batches never link, and exchanges' deposit and hot
// wallets only meet in single-output sweeps.
//
// # Incremental runs and reorgs
//
// Each block is one batch (new addresses, membership changes, cluster
// sizes, evidence, the block's hash), written atomically: alone, or, when
// the store gathers runs (store.ClusterRuns: Pebble), with the blocks
// before it in one key-sorted write committed when it passes half a
// memtable, once a minute and when the run ends, so an interrupted run
// resumes after the last block written. At the start of a run the clustered tip is compared with the
// chain's block at its height; after a reorg the clustering is rewound to
// the fork (store.Clusters.RewindClusters removes the evidence and
// addresses of the blocks above it) and every membership is rebuilt from
// the remaining evidence and the overrides — exact, and linear in the
// evidence, with no chain data read again. The change candidates waiting
// for their spenders are saved at the end of a run (a snapshot naming the
// tip and the change options); when no snapshot fits, after a rewind or
// with other options, a run replays the last Window blocks to restore
// them, deciding nothing twice.
//
// # Overrides
//
// Merge and Split record an analyst's decision with who and why. They win
// over automatic evidence and survive re-runs and reorgs: memberships are
// rebuilt from the evidence with the overrides applied in order (a split
// address takes part in no automatic evidence, nor in merges given before
// the split; later automatic evidence naming it is logged as refused).
// Repeating a decision that still stands (a merge of addresses an earlier
// merge names, none split off since; a split of an address split off and
// not merged back) records nothing and names the override that stands.
//
// # Labels
//
// A label on one address reaches its whole cluster. Resolver answers the
// tracing engine's question "which entity is this address?" from the
// labels on the address and on the rest of its cluster; several entities on
// one cluster are reported as conflicts, never silently resolved. Explain
// says why an address is in its cluster, ListMembers pages through its
// members. Evaluate scores clusters against a synthetic world's truth.
// CheckFreshness says how far the clusters are behind the stored chain (an
// interrupted update, an ingest without clustering), so that an answer
// that uses them can say so.
//
// # Cost
//
// A run keeps, per address, its cluster id and a link in its cluster's
// member ring (8 bytes), and a way to find an address's id: with the
// chain's transaction graph (Options.Graph) nothing while the graph's
// address ids and the clustering's name the addresses in the same order
// (graph address a is id a+1; a 4-byte array indexed by the graph's ids
// once they do not), otherwise a 96-bit hash of the address in a flat
// open-addressing table with a tag byte a slot (about 19.5 bytes); plus
// the change candidates of the last Window blocks and the labels' entity
// sets. Measured on the
// medium synthetic world (350,873 addresses; BenchmarkWorldLoad): about
// 11 bytes an address with the graph, 30 without. Each run starts by
// loading that state, so a process that follows a chain keeps an Engine
// open instead. Clustering reads blocks from the graph when it is current,
// otherwise once each through store.BlockRangeTxs (or BlockTxs, or Tx);
// on the medium world the engine alone runs at 1.0-2.2 million inputs per
// CPU second on the graph and about 0.2 million reading the store, and a
// whole run is bounded by writing the clustering (docs/benchmarks.md).
package cluster
