package pebble

import (
	"cmp"
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var _ store.Links = (*DB)(nil)

// The link table (methods.md §6). A link's id is the SHA-256 of its method
// and its two ends' chain, lower-cased txid and index, so storing it again
// overwrites it. Both ends are indexed by transaction (side 0 = source,
// 1 = destination) and by block height, so RewindTo finds the links of a
// removed block with one prefix scan and removes them in the block's own
// batch. An open link (no destination transaction) is indexed by its
// source end only, and its record ends with the destination address and
// the memo (records of closed links written before open links existed
// end without them).
//
//	z + 'r' + id(32)                                        -> link record
//	z + 't' + chain + len(txid) + txid + side(1) + id(32)   -> (empty)
//	z + 'h' + chain + height(be64) + id(32)                 -> (empty)
const (
	prefixLinks byte = 'z'
	linksRecord byte = 'r'
	linksByTx   byte = 't'
	linksByH    byte = 'h'
)

type linkID [32]byte

func idOfLink(l *heistgraph.Link) linkID {
	var b []byte
	b = appendString(b, l.Method)
	for _, e := range []*heistgraph.LinkEnd{&l.Src, &l.Dst} {
		b = appendString(b, string(e.Chain))
		b = appendString(b, strings.ToLower(e.TxID))
		b = appendVarint(b, e.Index)
	}
	return sha256.Sum256(b)
}

func linkRecordKey(id linkID) []byte { return append([]byte{prefixLinks, linksRecord}, id[:]...) }

func appendLinkTxPrefix(dst []byte, c chainCode, txid string) []byte {
	return appendString(append(dst, prefixLinks, linksByTx, byte(c>>8), byte(c)), strings.ToLower(txid))
}

func appendLinkHeightPrefix(dst []byte, c chainCode, h int64) []byte {
	return appendU64(append(dst, prefixLinks, linksByH, byte(c>>8), byte(c)), uint64(h))
}

func appendLinkRecord(dst []byte, l *store.StoredLink) []byte {
	dst = appendString(dst, l.Method)
	dst = appendString(dst, string(l.Confidence))
	inferred := byte(0)
	if l.Inferred {
		inferred = 1
	}
	dst = append(dst, inferred)
	for i, e := range []*heistgraph.LinkEnd{&l.Src, &l.Dst} {
		dst = appendString(dst, string(e.Chain))
		dst = appendString(dst, e.TxID) // lower-cased by PutLinks
		dst = appendVarint(dst, e.Index)
		dst = appendString(dst, e.Asset)
		amt := e.Amount.Bytes()
		dst = appendBytes(dst, amt)
		dst = appendVarint(dst, [2]int64{l.SrcHeight, l.DstHeight}[i])
	}
	if l.Dst.Address != "" || l.Memo != "" {
		dst = appendString(dst, l.Dst.Address)
		dst = appendString(dst, l.Memo)
	}
	return dst
}

func decodeLinkRecord(v []byte) (store.StoredLink, error) {
	r := reader{b: v}
	var l store.StoredLink
	l.Method = r.str()
	l.Confidence = heistgraph.Confidence(r.str())
	l.Inferred = r.byte() == 1
	heights := [2]*int64{&l.SrcHeight, &l.DstHeight}
	for i, e := range []*heistgraph.LinkEnd{&l.Src, &l.Dst} {
		e.Chain = heistgraph.Chain(r.str())
		e.TxID = r.str()
		e.Index = r.varint()
		e.Asset = r.str()
		amt := r.raw()
		if len(amt) > 32 {
			r.fail()
		}
		e.Amount.SetBytes(amt)
		*heights[i] = r.varint()
	}
	if len(r.b) > 0 {
		l.Dst.Address = r.str()
		l.Memo = r.str()
	}
	if err := r.done("link record"); err != nil {
		return store.StoredLink{}, err
	}
	return l, nil
}

// linkIndexEnds returns the ends of l that are indexed: both, or the
// source of an open link.
func linkIndexEnds(l *store.StoredLink) []*heistgraph.LinkEnd {
	if l.Open() {
		return []*heistgraph.LinkEnd{&l.Src}
	}
	return []*heistgraph.LinkEnd{&l.Src, &l.Dst}
}

// linkIndexKeys returns the index keys of l (two per indexed end); codes
// maps its ends' chains to their codes.
func linkIndexKeys(l *store.StoredLink, id linkID, codes [2]chainCode) [][]byte {
	var keys [][]byte
	heights := [2]int64{l.SrcHeight, l.DstHeight}
	for i, e := range linkIndexEnds(l) {
		keys = append(keys,
			append(append(appendLinkTxPrefix(nil, codes[i], e.TxID), byte(i)), id[:]...),
			append(appendLinkHeightPrefix(nil, codes[i], heights[i]), id[:]...))
	}
	return keys
}

// validLink checks what the store needs of a link.
func validLink(l *store.StoredLink) error { return store.CheckLink(l) }

// PutLinks implements store.Links. It holds the write lock, so a link is
// never written for a block that a concurrent RewindTo is removing.
func (d *DB) PutLinks(ctx context.Context, ls []store.StoredLink) error {
	for i := range ls {
		if err := validLink(&ls[i]); err != nil {
			return fmt.Errorf("put links: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	b := d.db.NewIndexedBatch()
	defer b.Close()
	for i := range ls {
		l := ls[i]
		l.Src.TxID, l.Dst.TxID = strings.ToLower(l.Src.TxID), strings.ToLower(l.Dst.TxID)
		var codes [2]chainCode
		for j, e := range linkIndexEnds(&l) {
			c, err := d.blockCode(b, e.Chain, [2]int64{l.SrcHeight, l.DstHeight}[j])
			if err != nil {
				return fmt.Errorf("put links: link %s %s→%s: %w", l.Method, l.Src.TxID, l.Dst.TxID, err)
			}
			codes[j] = c
		}
		skip, err := d.replaceOpen(b, &l, codes[0])
		if err != nil {
			return fmt.Errorf("put links: %w", err)
		}
		if skip {
			continue
		}
		id := idOfLink(&l.Link)
		if err := d.deleteLink(b, id); err != nil {
			return fmt.Errorf("put links: %w", err)
		}
		if err := b.Set(linkRecordKey(id), appendLinkRecord(nil, &l), nil); err != nil {
			return err
		}
		for _, k := range linkIndexKeys(&l, id, codes) {
			if err := b.Set(k, nil, nil); err != nil {
				return err
			}
		}
	}
	if err := d.commit(b); err != nil {
		return fmt.Errorf("put links: commit: %w", err)
	}
	return nil
}

// replaceOpen keeps one kind of link per source end in b: before a closed
// link l is stored it deletes the open links from l's source end (chain
// code c); for an open l it reports whether a closed link from that end is
// stored (then l is not).
func (d *DB) replaceOpen(b *pebbledb.Batch, l *store.StoredLink, c chainCode) (skip bool, err error) {
	lo := append(appendLinkTxPrefix(nil, c, l.Src.TxID), 0)
	it, err := b.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return false, err
	}
	var open []linkID
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != len(lo)+32 {
			it.Close()
			return false, fmt.Errorf("link tx key: %w", errCorrupt)
		}
		v, found, err := lookup(b, linkRecordKey(linkID(k[len(lo):])), nil)
		if err == nil && !found {
			err = fmt.Errorf("link record missing: %w", errCorrupt)
		}
		var o store.StoredLink
		if err == nil {
			o, err = decodeLinkRecord(v)
		}
		if err != nil {
			it.Close()
			return false, err
		}
		switch {
		case o.Src.Index != l.Src.Index:
		case !o.Open() && l.Open():
			skip = true
		case o.Open() && !l.Open():
			open = append(open, linkID(k[len(lo):]))
		}
	}
	if err := it.Close(); err != nil {
		return false, err
	}
	for _, id := range open {
		if err := d.deleteLink(b, id); err != nil {
			return false, err
		}
	}
	return skip, nil
}

// blockCode returns the code of chain after checking that it holds a
// best-chain block at height h.
func (d *DB) blockCode(r pebbledb.Reader, chain heistgraph.Chain, h int64) (chainCode, error) {
	c, ok, err := d.code(chain)
	if err != nil {
		return 0, err
	}
	found := false
	if ok {
		at := heightAt
		if chain.IsEVM() {
			at = acctHeightAt
		}
		if _, found, err = at(r, c, h); err != nil {
			return 0, err
		}
	}
	if !found {
		return 0, fmt.Errorf("no %s block at height %d: %w", chain, h, heistgraph.ErrNotFound)
	}
	return c, nil
}

// deleteLink deletes the link id and its index keys from b, if stored.
func (d *DB) deleteLink(b *pebbledb.Batch, id linkID) error {
	v, found, err := lookup(b, linkRecordKey(id), nil)
	if err != nil || !found {
		return err
	}
	l, err := decodeLinkRecord(v)
	if err != nil {
		return err
	}
	var codes [2]chainCode
	for i, e := range linkIndexEnds(&l) {
		code, ok, err := d.code(e.Chain)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("link record names chain %s: %w", e.Chain, errCorrupt)
		}
		codes[i] = code
	}
	if err := b.Delete(linkRecordKey(id), nil); err != nil {
		return err
	}
	for _, k := range linkIndexKeys(&l, id, codes) {
		if err := b.Delete(k, nil); err != nil {
			return err
		}
	}
	return nil
}

// unlinkHeight deletes, in b, the links with an end in the block at height
// h of chain c: RewindTo calls it in the batch that removes the block.
func (d *DB) unlinkHeight(b *pebbledb.Batch, c chainCode, h int64) error {
	lo := appendLinkHeightPrefix(nil, c, h)
	it, err := b.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return err
	}
	var ids []linkID
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != len(lo)+32 {
			it.Close()
			return fmt.Errorf("link height key: %w", errCorrupt)
		}
		ids = append(ids, linkID(k[len(lo):]))
	}
	if err := it.Close(); err != nil {
		return err
	}
	for _, id := range ids {
		if err := d.deleteLink(b, id); err != nil {
			return fmt.Errorf("links at height %d: %w", h, err)
		}
	}
	return nil
}

// LinksOfTx implements store.Links.
func (d *DB) LinksOfTx(ctx context.Context, chain heistgraph.Chain, txid string) ([]store.StoredLink, error) {
	c, ok, err := d.code(chain)
	if err != nil || !ok {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	snap := d.db.NewSnapshot()
	defer snap.Close()
	lo := appendLinkTxPrefix(nil, c, txid)
	it, err := snap.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	type found struct {
		side byte
		l    store.StoredLink
	}
	var out []found
	seen := map[linkID]bool{} // a link from one tx to itself is indexed twice
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != len(lo)+1+32 {
			return nil, fmt.Errorf("links of %s %s: index key: %w", chain, txid, errCorrupt)
		}
		id := linkID(k[len(lo)+1:])
		if seen[id] {
			continue
		}
		seen[id] = true
		v, ok, err := lookup(snap, linkRecordKey(id), nil)
		if err != nil {
			return nil, fmt.Errorf("links of %s %s: %w", chain, txid, err)
		}
		if !ok {
			return nil, fmt.Errorf("links of %s %s: record missing: %w", chain, txid, errCorrupt)
		}
		l, err := decodeLinkRecord(v)
		if err != nil {
			return nil, fmt.Errorf("links of %s %s: %w", chain, txid, err)
		}
		out = append(out, found{k[len(lo)], l})
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("links of %s %s: %w", chain, txid, err)
	}
	slices.SortFunc(out, func(a, b found) int {
		if a.side != b.side {
			return cmp.Compare(a.side, b.side)
		}
		return compareLinks(&a.l, &b.l)
	})
	ls := make([]store.StoredLink, len(out))
	for i := range out {
		ls[i] = out[i].l
	}
	return ls, nil
}

// compareLinks orders links by method, then source end, then destination
// end.
func compareLinks(a, b *store.StoredLink) int {
	return cmp.Or(cmp.Compare(a.Method, b.Method),
		compareEnds(&a.Src, &b.Src), compareEnds(&a.Dst, &b.Dst))
}

func compareEnds(a, b *heistgraph.LinkEnd) int {
	return cmp.Or(cmp.Compare(a.Chain, b.Chain), cmp.Compare(a.TxID, b.TxID), cmp.Compare(a.Index, b.Index))
}
