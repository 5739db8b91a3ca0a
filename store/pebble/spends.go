package pebble

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"slices"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

// Spend markers (schema.go) name the spent outpoint and the spender by
// transaction number (txnum.go): s + chain + the outpoint's tx number +
// vout + the spender's number + vin. A spend whose output is not stored
// when it is written (its input unresolved, a pending marker beside it)
// names the outpoint by txid instead, after a 0x00 byte, which no number
// (appendOrdered, from 1) starts with: s + chain + 0x00 + txid + vout + spender number +
// vin. ApplyBlock moves such a marker to the numbered form when it stores
// the output (backfill), RewindTo moves it back when it removes the output
// (unresolve), so a marker is numbered exactly when its input is resolved.

// spendPendingTag starts the outpoint of a marker whose output is not
// stored.
const spendPendingTag = 0x00

// appendSpendsOfKey is the prefix of the markers of the outputs of the tx
// with number num (and of its output vout when withVout).
func appendSpendsOfKey(dst []byte, c chainCode, num uint64, vout uint32, withVout bool) []byte {
	dst = appendOrdered(appendTable(dst, prefixSpend, c), num)
	if withVout {
		dst = appendU32(dst, vout)
	}
	return dst
}

// appendPendingSpendsOfKey is the prefix of the markers of op, an output
// not stored.
func appendPendingSpendsOfKey(dst []byte, c chainCode, op heistgraph.Outpoint) []byte {
	dst = append(appendTable(dst, prefixSpend, c), spendPendingTag)
	return appendU32(append(dst, op.TxID[:]...), op.Vout)
}

// appendSpender appends the spender part of a marker key.
func appendSpender(dst []byte, num uint64, vin uint32) []byte {
	return appendU32(binary.AppendUvarint(dst, num), vin)
}

// spenderRef is the spender part of a marker: its tx's number and input.
type spenderRef struct {
	Num uint64
	Vin uint32
}

// decodeSpender decodes the spender part of a marker key (the bytes after
// the outpoint).
func decodeSpender(b []byte) (spenderRef, bool) {
	num, w := binary.Uvarint(b)
	if w <= 0 || num == 0 || len(b) != w+4 {
		return spenderRef{}, false
	}
	return spenderRef{Num: num, Vin: binary.BigEndian.Uint32(b[w:])}, true
}

// decodeNumberedSpend splits the part of a numbered marker key after its
// table and chain into the outpoint's tx number, vout and spender.
func decodeNumberedSpend(b []byte) (num uint64, vout uint32, sp spenderRef, ok bool) {
	num, w := decodeOrdered(b)
	if w <= 0 || num == 0 || len(b) < w+4 {
		return 0, 0, spenderRef{}, false
	}
	sp, ok = decodeSpender(b[w+4:])
	return num, binary.BigEndian.Uint32(b[w:]), sp, ok
}

// scanSpenders calls fn with the key and spender of each marker under lo,
// the prefix of one outpoint's markers, in key order.
func scanSpenders(r pebbledb.Reader, lo []byte, fn func(k []byte, sp spenderRef) error) error {
	it, err := r.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		sp, ok := decodeSpender(it.Key()[len(lo):])
		if !ok {
			it.Close()
			return fmt.Errorf("spend key %x: %w", it.Key(), errCorrupt)
		}
		if err := fn(it.Key(), sp); err != nil {
			it.Close()
			return err
		}
	}
	return errors.Join(it.Error(), it.Close())
}

// spendersOfNum returns the spenders of output vout of the tx with number
// num, as numbers, in key order.
func spendersOfNum(r pebbledb.Reader, c chainCode, num uint64, vout uint32) ([]spenderRef, error) {
	var sps []spenderRef
	err := scanSpenders(r, appendSpendsOfKey(nil, c, num, vout, true), func(_ []byte, sp spenderRef) error {
		sps = append(sps, sp)
		return nil
	})
	return sps, err
}

// pendingSpendersOf returns the spenders of op, an output not stored, in
// key order.
func pendingSpendersOf(r pebbledb.Reader, c chainCode, op heistgraph.Outpoint) ([]spenderRef, error) {
	var sps []spenderRef
	err := scanSpenders(r, appendPendingSpendsOfKey(nil, c, op), func(_ []byte, sp spenderRef) error {
		sps = append(sps, sp)
		return nil
	})
	return sps, err
}

// txidOf returns the txid of number num by a point lookup.
func txidOf(r pebbledb.Reader, c chainCode, num uint64) (heistgraph.Hash, error) {
	v, closer, err := r.Get(appendTxNumKey(nil, c, num))
	if errors.Is(err, pebbledb.ErrNotFound) {
		return heistgraph.Hash{}, fmt.Errorf("transaction number %d: not stored: %w", num, errCorrupt)
	}
	if err != nil {
		return heistgraph.Hash{}, err
	}
	var h heistgraph.Hash
	ok := len(v) == 32
	copy(h[:], v)
	if err := closer.Close(); err != nil {
		return heistgraph.Hash{}, err
	}
	if !ok {
		return heistgraph.Hash{}, fmt.Errorf("transaction number %d: %w", num, errCorrupt)
	}
	return h, nil
}

// pointTxids resolves transaction numbers by point lookups in r.
func pointTxids(r pebbledb.Reader, c chainCode) func(uint64) (heistgraph.Hash, error) {
	return func(num uint64) (heistgraph.Hash, error) { return txidOf(r, c, num) }
}

// inpoints resolves spenders to inpoints with txid, ordered as markers
// keyed by txid were: by txid, then input.
func inpoints(sps []spenderRef, txid func(uint64) (heistgraph.Hash, error)) ([]heistgraph.Inpoint, error) {
	ins := make([]heistgraph.Inpoint, 0, len(sps))
	for _, sp := range sps {
		id, err := txid(sp.Num)
		if err != nil {
			return nil, err
		}
		ins = append(ins, heistgraph.Inpoint{TxID: id, Vin: sp.Vin})
	}
	slices.SortFunc(ins, compareInpoints)
	return ins, nil
}

func compareInpoints(a, b heistgraph.Inpoint) int {
	if c := bytes.Compare(a.TxID[:], b.TxID[:]); c != 0 {
		return c
	}
	return cmp.Compare(a.Vin, b.Vin)
}

// v4Spend is a spend marker as schema 4 keyed it: outpoint and spender by
// txid.
type v4Spend struct {
	op heistgraph.Outpoint
	in heistgraph.Inpoint
}

func compareV4Spends(a, b v4Spend) int {
	if c := bytes.Compare(a.op.TxID[:], b.op.TxID[:]); c != 0 {
		return c
	}
	if c := cmp.Compare(a.op.Vout, b.op.Vout); c != 0 {
		return c
	}
	return compareInpoints(a.in, b.in)
}

// digestSpends hashes chain c's spend markers into h as Digest does, in
// the order and form schema 4 keyed them in (txids, not numbers): it walks
// the tx records in txid order, and beside them the markers of outputs
// not stored (in txid order too), and hashes each txid's markers sorted.
func digestSpends(ctx context.Context, r pebbledb.Reader, c chainCode, h hash.Hash) error {
	tlo, thi := tableBounds(prefixTx, c)
	txs, err := r.NewIter(&pebbledb.IterOptions{LowerBound: tlo, UpperBound: thi})
	if err != nil {
		return err
	}
	defer txs.Close()
	plo := append(appendTable(nil, prefixSpend, c), spendPendingTag)
	pend, err := r.NewIter(&pebbledb.IterOptions{LowerBound: plo, UpperBound: prefixEnd(plo)})
	if err != nil {
		return err
	}
	defer pend.Close()
	slo, shi := tableBounds(prefixSpend, c)
	numbered, err := r.NewIter(&pebbledb.IterOptions{LowerBound: slo, UpperBound: shi})
	if err != nil {
		return err
	}
	defer numbered.Close()
	spenders, err := newNumReader(r, c)
	if err != nil {
		return err
	}
	defer spenders.Close()

	var group []v4Spend
	var buf, prefix []byte
	tok, pok := txs.First(), pend.First()
	n := 0
	for tok || pok {
		if n++; n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if pok && len(pend.Key()) < len(plo)+36 {
			return fmt.Errorf("spend key %x: %w", pend.Key(), errCorrupt)
		}
		var txid heistgraph.Hash
		fromT, fromP := false, false
		switch {
		case !pok:
			fromT = true
		case !tok:
			fromP = true
		default:
			switch c := bytes.Compare(txs.Key()[len(tlo):], pend.Key()[len(plo):len(plo)+32]); {
			case c < 0:
				fromT = true
			case c > 0:
				fromP = true
			default:
				fromT, fromP = true, true
			}
		}
		group = group[:0]
		if fromT {
			if len(txs.Key()) != len(tlo)+32 {
				return fmt.Errorf("tx key %x: %w", txs.Key(), errCorrupt)
			}
			txid = heistgraph.Hash(txs.Key()[len(tlo):])
			num, w := binary.Uvarint(txs.Value())
			if w <= 0 || num == 0 {
				return fmt.Errorf("tx %s: %w", txid, errCorrupt)
			}
			prefix = appendSpendsOfKey(prefix[:0], c, num, 0, false)
			for ok := numbered.SeekGE(prefix); ok && bytes.HasPrefix(numbered.Key(), prefix); ok = numbered.Next() {
				k := numbered.Key()[len(slo):]
				_, vout, sp, ok := decodeNumberedSpend(k)
				if !ok {
					return fmt.Errorf("spend key %x: %w", numbered.Key(), errCorrupt)
				}
				in, err := spenders.txid(sp.Num)
				if err != nil {
					return err
				}
				group = append(group, v4Spend{heistgraph.Outpoint{TxID: txid, Vout: vout}, heistgraph.Inpoint{TxID: in, Vin: sp.Vin}})
			}
			if err := numbered.Error(); err != nil {
				return err
			}
			tok = txs.Next()
		}
		if fromP {
			txid = heistgraph.Hash(pend.Key()[len(plo):])
			for ; pok && bytes.Equal(pend.Key()[len(plo):len(plo)+32], txid[:]); pok = pend.Next() {
				k := pend.Key()[len(plo):]
				if len(k) < 36 {
					return fmt.Errorf("spend key %x: %w", pend.Key(), errCorrupt)
				}
				sp, ok := decodeSpender(k[36:])
				if !ok {
					return fmt.Errorf("spend key %x: %w", pend.Key(), errCorrupt)
				}
				in, err := spenders.txid(sp.Num)
				if err != nil {
					return err
				}
				group = append(group, v4Spend{heistgraph.Outpoint{TxID: txid, Vout: binary.BigEndian.Uint32(k[32:])}, heistgraph.Inpoint{TxID: in, Vin: sp.Vin}})
			}
			if err := pend.Error(); err != nil {
				return err
			}
		}
		slices.SortFunc(group, compareV4Spends)
		for _, s := range group {
			buf = append(buf[:0], prefixSpend)
			buf = appendUvarint(buf, 72)
			buf = append(buf, s.op.TxID[:]...)
			buf = appendU32(buf, s.op.Vout)
			buf = append(buf, s.in.TxID[:]...)
			buf = appendU32(buf, s.in.Vin)
			buf = appendUvarint(buf, 0)
			h.Write(buf)
		}
	}
	return errors.Join(txs.Error(), pend.Error())
}

// digestOutputs hashes chain c's output records into h as Digest does, in
// the order and form schema 4 kept them in (keyed by txid, every script,
// the address as a string): it walks the tx records in txid order and
// reads each one's outputs by its number.
func digestOutputs(ctx context.Context, r pebbledb.Reader, c chainCode, h hash.Hash) error {
	tlo, thi := tableBounds(prefixTx, c)
	txs, err := r.NewIter(&pebbledb.IterOptions{LowerBound: tlo, UpperBound: thi})
	if err != nil {
		return err
	}
	defer txs.Close()
	olo, ohi := tableBounds(prefixOutput, c)
	outs, err := r.NewIter(&pebbledb.IterOptions{LowerBound: olo, UpperBound: ohi})
	if err != nil {
		return err
	}
	defer outs.Close()
	addrs := newAddrIter(r, c)
	defer addrs.Close()
	var buf, key, val, prefix []byte
	n := 0
	for ok := txs.First(); ok; ok = txs.Next() {
		if n++; n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if len(txs.Key()) != len(tlo)+32 {
			return fmt.Errorf("tx key %x: %w", txs.Key(), errCorrupt)
		}
		txid := txs.Key()[len(tlo):]
		num, w := binary.Uvarint(txs.Value())
		if w <= 0 || num == 0 {
			return fmt.Errorf("tx %x: %w", txid, errCorrupt)
		}
		prefix = appendOutputsKey(prefix[:0], c, num)
		for ok := outs.SeekGE(prefix); ok && bytes.HasPrefix(outs.Key(), prefix); ok = outs.Next() {
			k := outs.Key()
			if len(k) != len(prefix)+4 {
				return fmt.Errorf("output key %x: %w", k, errCorrupt)
			}
			out, height, err := decodeOutputRecord(outs.Value(), addrs)
			if err != nil {
				return fmt.Errorf("output %x: %w", k, err)
			}
			val = appendOutputRecordV2(val[:0], &out, height)
			key = append(append(key[:0], txid...), k[len(prefix):]...)
			buf = append(buf[:0], prefixOutput)
			buf = appendBytes(buf, key)
			buf = appendBytes(buf, val)
			h.Write(buf)
		}
		if err := outs.Error(); err != nil {
			return err
		}
	}
	return txs.Error()
}
