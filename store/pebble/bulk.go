package pebble

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

// The bulk-load path (Options.BulkLoad). A group of blocks that
// ApplyBlocks built (applyGroup) is written as sorted runs instead of a
// batch: its writes, sorted by key, are collapsed to one write per key
// (tableSink: the last Set or Delete wins, Merge operands of the address
// totals are combined) and written as one sstable per table and chain
// (prefix byte and chain code), and all the files of the group go to
// Pebble in one Ingest: atomic (one version edit), and durable when it
// returns (the files and the manifest are synced). The writes skip the
// write-ahead log, the memtable and its flush. A table whose keys arrive in
// order (the height index h, the tx numbers d, the address table y, the
// undo records u, the outputs o) overlaps nothing stored and lands in the
// bottom level, never compacted again (no stored file spans two tables:
// tablesplit.go), and so does the part of the other tables past their last
// stored key (inOrder: the new tx records v, nearly all); the rest (txids, addresses, the spends of older
// outputs, the events of older addresses) overlaps what is stored and
// enters level 0 as a flush would, then compacts as before.
//
// What the group means does not change: the same writes are built, by the
// same code, in the same groups; only how they reach Pebble differs. So
// everything ApplyBlocks handles (blocks stored already, collisions, spends
// waiting for their output, rewinds in between) the bulk path handles, and
// a group whose writes are under bulkMin (a follower's block, the end of a
// file) is committed as a batch.

// bulkMin is the size of a group's writes from which Options.BulkLoad
// ingests them: below it an ingestion's few files, fsyncs and manifest
// write cost more than a batch. A variable so that tests can take the
// ingesting path with small worlds.
var bulkMin = 1 << 20

// bulkPrefix names the files a bulk-loaded group writes in the store's
// directory before Pebble takes them; Open removes those a killed process
// left.
const bulkPrefix = "bulkload-"

// bulkSplit is the key prefix that names a file's table: the table's
// prefix byte and the chain code.
const bulkSplit = 3

// inOrder reports whether the keys of a table (prefix byte and chain
// code) arrive in order, group after group: heights, transaction numbers
// and address ids, big-endian, and outputs by their transaction's number
// (appendOrdered). The tx records (v) arrive in order too, except the
// records a group overwrites (a txid stored again, a spender whose output
// arrived): they are cut like the tables below. A group's file of such a table overlaps nothing stored
// and goes to the bottom level. Of the other tables, the part of a group's
// writes past the table's last stored key (the spends of the group's own
// outputs, the events of the addresses it gives ids to) is cut into a
// file of its own that goes there too (lastKey, tableSink.tail).
func inOrder(table []byte) bool {
	switch table[0] {
	case prefixHeight, prefixTxNum, prefixAddrByID, prefixUndo, prefixOutput:
		return true
	}
	return false
}

// lastKey returns the last key stored in table, a key prefix (nil when
// none is).
func (d *DB) lastKey(table []byte) ([]byte, error) {
	it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: table, UpperBound: prefixEnd(table)})
	if err != nil {
		return nil, err
	}
	var last []byte
	if it.Last() {
		last = slices.Clone(it.Key())
	}
	return last, it.Close()
}

// ingestGroup writes the applier's writes as sstables and ingests them;
// first and last are the group's first and last blocks (for errors). The
// writes that reached Pebble before it by batch (an earlier group under
// bulkMin, the clustering beside the ingest) are synced first, so that a
// crash never keeps a group and loses one before it. The caller holds
// writeMu.
func (d *DB) ingestGroup(ctx context.Context, first, last *heistgraph.Block) error {
	t := d.newSink(bulkPrefix, bulkSplit)
	t.bottom = inOrder
	t.tail = func(table []byte) ([]byte, error) {
		if table[0] == prefixUnspent {
			// Keyed by txid: past the first group, a group's keys past the
			// table's last are few, and a file of them with the bottom
			// level's options (no filter) landed in level 0 whenever a
			// compaction of the table was under way.
			return prefixEnd(table), nil
		}
		return d.lastKey(table)
	}
	if err := d.ap.w.sinkTo(t); err != nil {
		t.discard()
		return fmt.Errorf("apply block %d %s on %s: %w", last.Height, last.Hash, last.Chain, err)
	}
	if d.beforeCommit != nil {
		d.beforeCommit()
	}
	if err := ctx.Err(); err != nil {
		t.discard()
		return fmt.Errorf("apply block %d %s on %s: %w", first.Height, first.Hash, first.Chain, err)
	}
	if err := d.sync(); err != nil {
		t.discard()
		return fmt.Errorf("apply block %d %s on %s: %w", last.Height, last.Hash, last.Chain, err)
	}
	// From here the ingestion is all or nothing, whatever ctx does.
	if err := t.ingest(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("apply block %d %s on %s: ingest: %w", last.Height, last.Hash, last.Chain, err)
	}
	return nil
}

// commitBatch writes the applier's writes as one batch and commits it.
func (d *DB) commitBatch(ctx context.Context, first, last *heistgraph.Block) error {
	batch := d.db.NewBatch() // writeTo sets its bytes
	defer batch.Close()
	if err := d.ap.w.writeTo(batch); err != nil {
		return err
	}
	if d.beforeCommit != nil {
		d.beforeCommit()
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("apply block %d %s on %s: %w", first.Height, first.Hash, first.Chain, err)
	}
	if err := d.commit(batch); err != nil {
		return fmt.Errorf("apply block %d %s on %s: commit: %w", last.Height, last.Hash, last.Chain, err)
	}
	return nil
}

// ingestStats logs where an ingestion's bytes went (debug level); what
// names the files' writer.
func (d *DB) ingestStats(what string, st pebbledb.IngestOperationStats, files int) {
	d.opts.Logger.Debug("sstables ingested", "what", what, "files", files, "bytes", st.Bytes,
		"l0_bytes", st.ApproxIngestedIntoL0Bytes, "memtable_overlaps", st.MemtableOverlappingFiles)
}

// BulkTables returns how many of the store's sstables hold writes of
// ApplyBlock that the bulk path (Options.BulkLoad) ingested and that stand
// as they were ingested: files of the block tables whose keys, two or
// more, all carry one sequence number, as an ingested file's do (a flush
// or a compaction gives each write its own, or zero in the bottom level).
// The in-order tables' files of a bulk-loaded store land in the bottom
// level and stay there as they are; a store loaded by batches has none.
// For tests and measurements.
func (d *DB) BulkTables() (int, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return 0, errClosed
	}
	levels, err := d.db.SSTables()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, files := range levels {
		for _, f := range files {
			lo, hi := f.Smallest.UserKey, f.Largest.UserKey
			if len(lo) > 0 && blockTable(lo[0]) && !bytes.Equal(lo, hi) &&
				f.SmallestSeqNum == f.LargestSeqNum && f.SmallestSeqNum != 0 {
				n++
			}
		}
	}
	return n, nil
}
