package pebble

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Kept event logs (heistgraph.EventLog) of account chains live in two
// sub-tables of prefixAccount, each key holding the whole log record (logs
// are small, and neither read then needs a second lookup):
//
//	x + chain + g + height(be64) + log index(be32)                -> log record   the block's kept logs, by index
//	x + chain + o + contract(20) + height(be64) + log index(be32) -> log record   the logs a contract emitted
//
// A transaction's kept logs are contiguous in g (log indices follow
// transaction order); its tx record ends with their count and first index.
const (
	acctLog         byte = 'g'
	acctContractLog byte = 'o'
)

// maxLogTopics is the most topics a log has (LOG0..LOG4).
const maxLogTopics = 4

func appendBlockLogKey(dst []byte, c chainCode, h int64, logIndex int32) []byte {
	return appendU32(appendU64(appendAcctKey(dst, c, acctLog), uint64(h)), uint32(logIndex))
}

func appendContractLogPrefix(dst []byte, c chainCode, a heistgraph.EVMAddress) []byte {
	return append(appendAcctKey(dst, c, acctContractLog), a[:]...)
}

func appendContractLogKey(dst []byte, c chainCode, a heistgraph.EVMAddress, h int64, logIndex int32) []byte {
	return appendU32(appendU64(appendContractLogPrefix(dst, c, a), uint64(h)), uint32(logIndex))
}

// appendLogRecord encodes a kept log without its block position (the key
// has it) or its tx hash (the block record lists the txs).
func appendLogRecord(dst []byte, l *heistgraph.EventLog) []byte {
	dst = appendUvarint(dst, uint64(l.TxIndex))
	dst = append(dst, l.Address[:]...)
	dst = append(dst, byte(len(l.Topics)))
	for i := range l.Topics {
		dst = append(dst, l.Topics[i][:]...)
	}
	return appendBytes(dst, l.Data)
}

func decodeLogRecord(v []byte, l *heistgraph.EventLog) error {
	r := reader{b: v}
	*l = heistgraph.EventLog{TxIndex: int32(r.u32())}
	l.Address = r.evmAddress()
	n := int(r.byte())
	if n > maxLogTopics {
		r.fail()
	}
	if !r.bad && n > 0 {
		l.Topics = make([]heistgraph.EVMHash, n)
		for i := range l.Topics {
			l.Topics[i] = r.evmHash()
		}
	}
	l.Data = r.bytes()
	return r.done("log record")
}

// txLogRanges returns, per transaction of b, the number of its kept logs
// and the log index of the first.
func txLogRanges(b *heistgraph.AccountBlock) (count, first []int32) {
	count = make([]int32, len(b.Txs))
	first = make([]int32, len(b.Txs))
	for i := range b.Logs {
		l := &b.Logs[i]
		if count[l.TxIndex] == 0 {
			first[l.TxIndex] = l.LogIndex
		}
		count[l.TxIndex]++
	}
	return count, first
}

// writeLogs adds b's kept logs to both log tables.
func writeLogs(w pebbledb.Writer, c chainCode, b *heistgraph.AccountBlock) error {
	var key, val []byte
	for i := range b.Logs {
		l := &b.Logs[i]
		val = appendLogRecord(val[:0], l)
		key = appendBlockLogKey(key[:0], c, b.Height, l.LogIndex)
		if err := w.Set(key, val, nil); err != nil {
			return err
		}
		key = appendContractLogKey(key[:0], c, l.Address, b.Height, l.LogIndex)
		if err := w.Set(key, val, nil); err != nil {
			return err
		}
	}
	return nil
}

// undoLogs deletes the kept logs of the block at height h from both
// tables, reading them from r.
func undoLogs(r pebbledb.Reader, w pebbledb.Writer, c chainCode, h int64) error {
	lo := appendBlockLogKey(nil, c, h, 0)
	hi := appendBlockLogKey(nil, c, h+1, 0)
	it, err := r.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	var l heistgraph.EventLog
	var key []byte
	for ok := it.First(); ok; ok = it.Next() {
		if err := decodeLogRecord(it.Value(), &l); err != nil {
			it.Close()
			return err
		}
		k := it.Key()
		idx := int32(binary.BigEndian.Uint32(k[len(k)-4:]))
		key = appendContractLogKey(key[:0], c, l.Address, h, idx)
		if err := errors.Join(w.Delete(key, nil), w.Delete(k, nil)); err != nil {
			it.Close()
			return err
		}
	}
	return errors.Join(it.Error(), it.Close())
}

// txLogs reads the kept logs of the transaction at block height h whose
// first kept log has index first, count of them.
func txLogs(r pebbledb.Reader, c chainCode, h int64, hash heistgraph.EVMHash, first, count int32) ([]heistgraph.EventLog, error) {
	if count == 0 {
		return nil, nil
	}
	lo := appendBlockLogKey(nil, c, h, first)
	hi := appendBlockLogKey(nil, c, h+1, 0)
	it, err := r.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, err
	}
	out := make([]heistgraph.EventLog, 0, count)
	for ok := it.First(); ok && len(out) < int(count); ok = it.Next() {
		var l heistgraph.EventLog
		if err := decodeLogRecord(it.Value(), &l); err != nil {
			it.Close()
			return nil, err
		}
		k := it.Key()
		l.LogIndex = int32(binary.BigEndian.Uint32(k[len(k)-4:]))
		l.TxHash = hash
		out = append(out, l)
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return nil, err
	}
	if len(out) != int(count) {
		return nil, fmt.Errorf("%d of its %d kept logs stored: %w", len(out), count, errCorrupt)
	}
	return out, nil
}

// AccountLogs yields the kept logs the contract at addr emitted, in chain
// order, from one consistent snapshot (store.AccountReader).
func (d *DB) AccountLogs(ctx context.Context, chain heistgraph.Chain, addr heistgraph.EVMAddress, opts store.AccountHistoryOptions) iter.Seq2[store.AccountLog, error] {
	return func(yield func(store.AccountLog, error) bool) {
		err := d.scanAccount(ctx, chain, opts, func(c chainCode) []byte { return appendContractLogPrefix(nil, c, addr) },
			func(s *acctScan, h int64, idx int32, v []byte) (bool, error) {
				var out store.AccountLog
				if err := decodeLogRecord(v, &out.Log); err != nil {
					return false, err
				}
				out.Log.LogIndex = idx
				var err error
				if out.Block, err = s.ref(h); err != nil {
					return false, err
				}
				if out.Log.TxHash, err = s.txHash(h, out.Log.TxIndex); err != nil {
					return false, fmt.Errorf("log %d: %w", idx, err)
				}
				return yield(out, nil), nil
			})
		if err != nil {
			yield(store.AccountLog{}, fmt.Errorf("logs of contract %s on %s: %w", addr.Hex(), chain, err))
		}
	}
}
