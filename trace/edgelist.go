package trace

import (
	"encoding/json"
	"iter"
	"slices"

	"github.com/heistgraph/heistgraph"
)

// EdgeList is a result's edges, in the order Result documents. A trace
// keeps its edges as compact records without pointers (24 bytes an edge,
// where an Edge is 80 and holds two txids), each transaction's txid once
// in a table the records index, and writes an Edge only when one is read
// (At, All): a trace of hundreds of thousands of edges neither allocates
// nor zeroes an Edge for each. A list made of Edge values (NewEdgeList)
// holds them as they are.
//
// It encodes to JSON as the slice of its edges does ("null" for the zero
// list, as for a nil slice). The zero value is an empty list. A list
// read from several goroutines at once must not be changed meanwhile
// (Slice changes it).
type EdgeList struct {
	s   []Edge     // the edges as values: given, or written by Slice
	tab *edgeTable // a trace's edges as records; nil when s holds them
}

// edgeTable is a trace's edges as finish leaves them: records in result
// order and the txids they name, each once. Nothing in it refers back to
// the engine or the reader.
type edgeTable struct {
	recs []edgeRec
	ids  []heistgraph.Hash
	hex  hexIDs // ids' text, for JSON
}

// hexID returns the text of ids[k] (Hash.String).
func (t *edgeTable) hexID(k int32) []byte {
	return t.hex.of(int(k), len(t.ids), func(i int) *heistgraph.Hash { return &t.ids[i] })
}

// edgeRec is an Edge with its ends as indexes in edgeTable.ids.
type edgeRec struct {
	from, to int32
	outputs  int32
	amount   int64
}

// NewEdgeList returns the list of the edges s, in that order; the list
// holds s itself (nil encodes as "null", an empty slice as "[]").
func NewEdgeList(s []Edge) EdgeList { return EdgeList{s: s} }

// IsNil reports whether l is the zero list (or holds a nil slice): the
// one that encodes as null.
func (l EdgeList) IsNil() bool { return l.s == nil && l.tab == nil }

// Len returns the number of edges.
func (l EdgeList) Len() int {
	if l.tab != nil {
		return len(l.tab.recs)
	}
	return len(l.s)
}

// At returns edge i (0 ≤ i < Len).
func (l EdgeList) At(i int) Edge {
	if t := l.tab; t != nil {
		r := &t.recs[i]
		return Edge{From: t.ids[r.from], To: t.ids[r.to], AmountSat: r.amount, Outputs: int(r.outputs)}
	}
	return l.s[i]
}

// All yields the edges with their index, in order, each written as At
// writes it.
func (l EdgeList) All() iter.Seq2[int, Edge] { return indexed(l.Len(), l.At) }

// indexed yields at(i) for i from 0 to n-1, with i.
func indexed[T any](n int, at func(int) T) iter.Seq2[int, T] {
	return func(yield func(int, T) bool) {
		for i := range n {
			if !yield(i, at(i)) {
				return
			}
		}
	}
}

// Slice returns the edges as a slice that the list then holds: changes
// made through it are the list's. The first call on a trace's list
// writes every edge (80 bytes each); later calls return the same slice.
func (l *EdgeList) Slice() []Edge {
	if l.tab != nil {
		s := make([]Edge, len(l.tab.recs))
		for i := range s {
			s[i] = l.At(i)
		}
		l.s, l.tab = s, nil
	}
	return l.s
}

// MarshalJSON writes the list as encoding/json writes a []Edge (the
// text has nothing for HTML escaping to change).
func (l EdgeList) MarshalJSON() ([]byte, error) {
	return appendListJSON(make([]byte, 0, 2+l.Len()*200), l.IsNil(), l.Len(), func(b []byte, i int) []byte {
		return l.AppendJSON(b, i, 0, false)
	}), nil
}

// UnmarshalJSON reads a JSON array of edges (or null).
func (l *EdgeList) UnmarshalJSON(b []byte) error {
	var s []Edge
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*l = EdgeList{s: s}
	return nil
}

// edgeTableBuilder writes an engine's edges into an edgeTable, giving
// each transaction an index in its ids the first time an edge names it.
type edgeTableBuilder struct {
	e *engine
	t *edgeTable
	// of is, by index in t.ids, the tx number whose txid it is: what
	// makes an entry of engine.edgeIDs this table's.
	of []int32
}

func newEdgeTableBuilder(e *engine, n int) *edgeTableBuilder {
	if len(e.edgeIDs) < e.tx.len() {
		e.edgeIDs = append(e.edgeIDs, make([]int32, e.tx.len()-len(e.edgeIDs))...)
	}
	// n edges name at most 2n txids, and no more than the trace read:
	// sized up front, the tables are neither copied as they grow nor
	// left behind at each doubling (fresh memory, faulted in, of a
	// large trace), and what they do not fill is never touched.
	ids := min(2*n, e.tx.len())
	return &edgeTableBuilder{e: e, t: &edgeTable{recs: make([]edgeRec, 0, n), ids: make([]heistgraph.Hash, 0, ids)},
		of: slices.Grow(e.edgeOf[:0], ids)}
}

// id returns the index in ids of tx n's txid, adding it the first time.
// engine.edgeIDs holds it by tx number + 1; an entry a trace before this
// one left (scratch), or one not set yet, names an index that is not
// tx n's in of.
func (b *edgeTableBuilder) id(n int32) int32 {
	if k := b.e.edgeIDs[n] - 1; k >= 0 && int(k) < len(b.of) && b.of[k] == n {
		return k
	}
	k := int32(len(b.t.ids))
	b.t.ids = appendDoubling(b.t.ids, b.e.tx.id(n))
	b.of = append(b.of, n)
	b.e.edgeIDs[n] = k + 1
	return k
}

// add appends the engine's edge ed.
func (b *edgeTableBuilder) add(ed *edge) {
	b.t.recs = append(b.t.recs, edgeRec{from: b.id(ed.from), to: b.id(ed.to), outputs: int32(ed.outputs), amount: ed.amount})
}

// list returns the edges added; the builder is not used after it.
func (b *edgeTableBuilder) list() EdgeList {
	b.e.edgeOf = b.of
	return EdgeList{tab: b.t}
}
