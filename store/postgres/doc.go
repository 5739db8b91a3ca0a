// Package postgres is the PostgreSQL backend of the store contract
// (store.Store), built on pgx v5 and pgxpool, for teams that run one
// service for many analysts on a database their other tools already query.
//
// Schema. Chain data is kept as facts only: blocks, transactions, outputs
// and inputs, each row carrying the block height it came in. Everything
// derived (spenders, resolved prevouts, fees, address totals and
// histories) is computed by the queries that read it, so that RewindTo is
// an exact undo by construction (it deletes the rows of the rewound
// blocks) and the stored content depends on the set of blocks applied,
// not on their order. Every large table carries its distribution column
// (chain plus transaction hash; outputs also an address index) for Citus
// or PostgreSQL partitioning: see docs/scaling.md.
//
// Writes. ApplyBlock loads a block with COPY (pgx CopyFrom, binary) inside
// one transaction; a transaction-scoped advisory lock per chain serializes
// writers of one chain across processes. A committed transaction is
// durable (synchronous_commit is the server's business), so Sync has
// nothing to do.
//
// Migrations. Open runs the versioned migrations of schema.go, each in one
// transaction under an advisory lock, so an interrupted migration is rolled
// back and the next Open completes it. It refuses, writing nothing, a
// database whose schema is newer than the binary and a database that holds
// tables of another application.
//
// Every store role is implemented; of the optional roles a caller checks
// for by type assertion, store.Enumerator and store.AccountLedger are
// (dump.go), store.BlockTxs and store.AccountInternals are not, and
// callers fall back to reads by block.
package postgres
