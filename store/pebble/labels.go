package pebble

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var _ store.Labels = (*DB)(nil)

// Label flags, the first byte of a label record.
const (
	// labelDirect marks a label stored by PutLabels (not only through a
	// label set), which ReplaceLabelSet must keep.
	labelDirect byte = 1
)

// appendLabelTail appends the part of a label key after the table prefix:
// chain, address, entity, category and source, each length-prefixed.
func appendLabelTail(dst []byte, l *heistgraph.Label) []byte {
	dst = appendAddr(dst, string(l.Chain))
	dst = appendAddr(dst, l.Address)
	dst = appendAddr(dst, l.Entity)
	dst = appendAddr(dst, l.Category)
	return appendAddr(dst, l.Source)
}

func appendLabelKey(dst []byte, l *heistgraph.Label) []byte {
	return appendLabelTail(append(dst, prefixLabel), l)
}

// appendLabelAddrPrefix is the prefix of every label key of addr on chain.
func appendLabelAddrPrefix(dst []byte, chain heistgraph.Chain, addr string) []byte {
	return appendAddr(appendAddr(append(dst, prefixLabel), string(chain)), addr)
}

func appendLabelSetPrefix(dst []byte, set string) []byte {
	return appendAddr(append(dst, prefixLabelSet), set)
}

func metaLabelSetKey(set string) []byte {
	return append(append([]byte(nil), metaLabelSetPrefix...), set...)
}

// appendLabelRecord encodes a label's value: flags, confidence (IEEE 754
// bits, be64), TLP, validity and note.
func appendLabelRecord(dst []byte, flags byte, l *heistgraph.Label) []byte {
	dst = append(dst, flags)
	dst = appendU64(dst, math.Float64bits(l.Confidence))
	dst = appendString(dst, l.TLP)
	dst = appendVarint(dst, l.ValidFrom)
	dst = appendVarint(dst, l.ValidUntil)
	return appendString(dst, l.Note)
}

// decodeLabel decodes a label key (from its table prefix on) and value.
func decodeLabel(k, v []byte) (heistgraph.Label, byte, error) {
	if len(k) < 1 {
		return heistgraph.Label{}, 0, errCorrupt
	}
	kr := reader{b: k[1:]}
	l := heistgraph.Label{Chain: heistgraph.Chain(kr.str()), Address: kr.str(), Entity: kr.str(), Category: kr.str(), Source: kr.str()}
	if err := kr.done("label key"); err != nil {
		return heistgraph.Label{}, 0, err
	}
	if len(v) < 9 {
		return heistgraph.Label{}, 0, fmt.Errorf("label record: %w", errCorrupt)
	}
	flags := v[0]
	l.Confidence = math.Float64frombits(binary.BigEndian.Uint64(v[1:]))
	vr := reader{b: v[9:]}
	l.TLP = vr.str()
	l.ValidFrom = vr.varint()
	l.ValidUntil = vr.varint()
	l.Note = vr.str()
	if err := vr.done("label record"); err != nil {
		return heistgraph.Label{}, 0, err
	}
	return l, flags, nil
}

// checkLabel validates what the store needs of a label.
func checkLabel(l *heistgraph.Label) error { return store.CheckLabel(l) }

// PutLabels implements store.Labels.
func (d *DB) PutLabels(ctx context.Context, labels []heistgraph.Label) (int, error) {
	added, _, err := d.writeLabels(ctx, "", "", labels)
	if err != nil {
		return 0, fmt.Errorf("put labels: %w", err)
	}
	return added, nil
}

// ReplaceLabelSet implements store.Labels.
func (d *DB) ReplaceLabelSet(ctx context.Context, set, version string, labels []heistgraph.Label) (added, removed int, err error) {
	if set == "" {
		return 0, 0, fmt.Errorf("replace label set: empty set name: %w", heistgraph.ErrInvalid)
	}
	added, removed, err = d.writeLabels(ctx, set, version, labels)
	if err != nil {
		return 0, 0, fmt.Errorf("replace label set %s: %w", set, err)
	}
	return added, removed, nil
}

// writeLabels stores labels in one batch: directly (set empty) or as the
// new content of a label set.
func (d *DB) writeLabels(ctx context.Context, set, version string, labels []heistgraph.Label) (added, removed int, err error) {
	for i := range labels {
		if err := checkLabel(&labels[i]); err != nil {
			return 0, 0, err
		}
	}
	if _, _, err := d.code(""); err != nil {
		return 0, 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	d.labelMu.Lock()
	defer d.labelMu.Unlock()
	b := d.db.NewIndexedBatch()
	defer b.Close()
	var key, val []byte
	seen := make(map[string]bool, len(labels))
	for i := range labels {
		l := &labels[i]
		key = appendLabelKey(key[:0], l)
		old, found, err := lookup(b, key, val[:0])
		if err != nil {
			return 0, 0, err
		}
		flags := byte(0)
		if found && len(old) > 0 {
			flags = old[0]
		}
		if set == "" {
			flags |= labelDirect
		}
		if !found && !seen[string(key)] {
			added++
		}
		seen[string(key)] = true
		val = appendLabelRecord(old[:0], flags, l)
		if err := b.Set(key, val, nil); err != nil {
			return 0, 0, err
		}
		if set != "" {
			mk := appendLabelTail(appendLabelSetPrefix(nil, set), l)
			if err := b.Set(mk, nil, nil); err != nil {
				return 0, 0, err
			}
		}
	}
	if set != "" {
		if removed, err = d.dropStaleMembers(ctx, b, set, seen); err != nil {
			return 0, 0, err
		}
		if err := b.Set(metaLabelSetKey(set), []byte(version), nil); err != nil {
			return 0, 0, err
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	if err := d.commit(b); err != nil {
		return 0, 0, fmt.Errorf("commit: %w", err)
	}
	return added, removed, nil
}

// dropStaleMembers removes from the set every member whose label key is not
// in keep, and the label itself unless it was stored directly.
func (d *DB) dropStaleMembers(ctx context.Context, b *pebbledb.Batch, set string, keep map[string]bool) (int, error) {
	prefix := appendLabelSetPrefix(nil, set)
	it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	removed := 0
	var key []byte
	for valid := it.First(); valid; valid = it.Next() {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		key = append(append(key[:0], prefixLabel), it.Key()[len(prefix):]...)
		if keep[string(key)] {
			continue
		}
		if err := b.Delete(it.Key(), nil); err != nil {
			return 0, err
		}
		v, found, err := lookup(b, key, nil)
		if err != nil {
			return 0, err
		}
		if found && (len(v) == 0 || v[0]&labelDirect == 0) {
			if err := b.Delete(key, nil); err != nil {
				return 0, err
			}
			removed++
		}
	}
	return removed, it.Error()
}

// LabelSetVersion implements store.Labels.
func (d *DB) LabelSetVersion(ctx context.Context, set string) (string, error) {
	if _, _, err := d.code(""); err != nil {
		return "", err
	}
	v, found, err := lookup(d.db, metaLabelSetKey(set), nil)
	if err != nil {
		return "", fmt.Errorf("label set %s: %w", set, err)
	}
	if !found {
		return "", fmt.Errorf("label set %s: %w", set, heistgraph.ErrNotFound)
	}
	return string(v), nil
}

// AddressLabels implements store.Labels.
func (d *DB) AddressLabels(ctx context.Context, chain heistgraph.Chain, addr string) ([]heistgraph.Label, error) {
	out := []heistgraph.Label{}
	for _, c := range chain.LabelChains() { // an EVM chain's, then the shared EVM key's
		prefix := appendLabelAddrPrefix(nil, c, addr)
		for l, err := range d.scanLabels(ctx, prefix, store.LabelQuery{}) {
			if err != nil {
				return nil, fmt.Errorf("labels of %s on %s: %w", addr, chain, err)
			}
			out = append(out, l)
		}
	}
	return out, nil
}

// Labels implements store.Labels.
func (d *DB) Labels(ctx context.Context, q store.LabelQuery) iter.Seq2[heistgraph.Label, error] {
	prefixes := [][]byte{{prefixLabel}}
	if q.Chain != "" {
		prefixes = prefixes[:0]
		for _, c := range q.Chain.LabelChains() { // an EVM chain's, then the shared EVM key's
			prefixes = append(prefixes, appendAddr([]byte{prefixLabel}, string(c)))
		}
	}
	return func(yield func(heistgraph.Label, error) bool) {
		for _, prefix := range prefixes {
			for l, err := range d.scanLabels(ctx, prefix, q) {
				if err != nil {
					yield(heistgraph.Label{}, fmt.Errorf("labels: %w", err))
					return
				}
				if !yield(l, nil) {
					return
				}
			}
		}
	}
}

// LabelStats implements store.Labels.
func (d *DB) LabelStats(ctx context.Context) (store.LabelStats, error) {
	st := store.LabelStats{ByCategory: map[string]int64{}, ByChain: map[heistgraph.Chain]int64{}}
	for l, err := range d.scanLabels(ctx, []byte{prefixLabel}, store.LabelQuery{}) {
		if err != nil {
			return store.LabelStats{}, fmt.Errorf("label stats: %w", err)
		}
		st.Total++
		st.ByCategory[l.Category]++
		st.ByChain[l.Chain]++
	}
	return st, nil
}

// scanLabels yields the labels under prefix that match q.
func (d *DB) scanLabels(ctx context.Context, prefix []byte, q store.LabelQuery) iter.Seq2[heistgraph.Label, error] {
	return func(yield func(heistgraph.Label, error) bool) {
		if _, _, err := d.code(""); err != nil {
			yield(heistgraph.Label{}, err)
			return
		}
		it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
		if err != nil {
			yield(heistgraph.Label{}, err)
			return
		}
		defer it.Close()
		n := 0
		for valid := it.First(); valid; valid = it.Next() {
			if n++; n&255 == 0 {
				if err := ctx.Err(); err != nil {
					yield(heistgraph.Label{}, err)
					return
				}
			}
			l, _, err := decodeLabel(it.Key(), it.Value())
			if err != nil {
				yield(heistgraph.Label{}, err)
				return
			}
			if !q.Match(l) {
				continue
			}
			if !yield(l, nil) {
				return
			}
		}
		if err := errors.Join(it.Error(), ctx.Err()); err != nil {
			yield(heistgraph.Label{}, err)
		}
	}
}
