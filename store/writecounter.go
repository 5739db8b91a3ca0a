package store

// WriteCounter is an optional role for a store that only its own process
// writes (the embedded store, which its process holds locked): a count of
// the committed writes that can change what a reader of chain data, labels,
// clusters, incidents, links, prices or watches is answered. It lets a
// caller keep an answer computed from those reads for as long as the count
// has not moved. Writes of the audit log, API keys, alerts, webhooks and
// shared (TAXII) objects need not move it.
//
// The count moves after the write is visible to reads: a caller that reads
// the count, then computes from the store, and keeps the result under the
// count it read, never keeps a result older than a write whose count it
// saw. A store that other processes may write (PostgreSQL) does not
// implement it.
type WriteCounter interface {
	Writes() uint64
}
