// Package pebble is the embedded storage backend of heistgraph: a store.Store
// on a Pebble LSM key-value store (github.com/cockroachdb/pebble/v2) in one
// data directory that one process opens at a time.
//
// It is not an analysis package and knows nothing of file formats or RPC;
// it persists the domain values of package heistgraph in the key layout
// documented in schema.go, with the value encodings of codec.go.
//
// # Writes
//
// ApplyBlock writes a block and everything derived from it in one Pebble
// batch, committed atomically (by default without an fsync per block; Sync
// and Close make everything applied durable). Spent outputs are resolved
// with one point lookup per input (outputs created earlier in the same
// block come from a block-local map); inputs whose outputs are not stored
// stay unresolved and are recorded as pending, and when the missing output
// is applied later its spend is resolved then. The stored state therefore
// depends only on the set of blocks applied, not on their order.
//
// # Rewinds
//
// RewindTo removes blocks newest height first, each in one batch, by
// deriving the exact inverse of the block's effect from its stored records
// (outputs, spends, address events and totals), in whatever order the
// blocks were applied. Only keys a block overwrote rather than created (the
// records of a txid already stored: BIP30 duplicates, or a transaction of a
// stale block stored beside the block that mined it again) have their
// previous values kept, in the block's undo record; rewinding those is exact
// when blocks are removed in the reverse of the order they were applied in.
//
// # Performance
//
// Applying a block reads one key per transaction (is its txid stored?) and
// one per input whose output was not created in the same block (and one
// per output while the chain has pending spends); spend
// markers carry the spender in their key and address totals are written as
// merge operands, so neither needs a read. Bloom filters on every level make
// the lookups of absent keys cheap.
//
// # Durability and faults
//
// Writes commit without an fsync; every commit marks the store dirty, and
// Sync (one fsync of the write-ahead log, nothing when clean) makes all of
// them durable. A caller syncs before it tells anyone that a write happened
// (cmd/heistgraph does it before any output of a writing command).
//
// Pebble cannot continue after some storage faults: a write-ahead log write
// that fails makes it call Fatalf (or panic, or throw while rotating the
// log), and a flush that hits a full disk is retried forever. The store
// turns them into one state, failed (ErrFailed, DB.Failed, DB.Err,
// Options.OnFail): a full disk is caught by a file system wrapper before
// Pebble sees the error, and the write that hit it waits for good; a Fatalf
// on a call through the store is an error of that call, on a background
// goroutine it parks that goroutine; background I/O errors and corruption
// fail the store. A failed store's Close returns at once. A checksum that
// does not match is an error of the read that found it, and the file is
// named (DB.CorruptFiles); Check verifies the whole store.
//
// # Locking
//
// One writer or any number of read-only opens (Options.ReadOnly) hold a
// directory at a time, through POSIX locks on its LOCK file (exclusive for
// the writer, shared for readers; a read-only store on a read-only file
// system needs no lock). Open of a held directory returns an *InUseError
// naming the holder's process id.
//
// # Concurrency
//
// Reads are safe for concurrent use with each other and with writes; writes
// (ApplyBlock, RewindTo) are serialized. Close must not run concurrently
// with anything else.
package pebble
