package trace

import (
	"encoding/json"
	"iter"

	"github.com/heistgraph/heistgraph"
)

// SinkList is a result's sinks, in the order Result documents. A trace
// keeps its sinks as compact records without pointers (about 48 bytes a
// sink, where a Sink is 232 and holds seven strings) and writes a Sink
// only when one is read (At, All): a trace of hundreds of thousands of
// sinks neither allocates nor zeroes a Sink for each, and the collector
// has nothing in them to scan. A list made of Sink values (NewSinkList)
// holds them as they are.
//
// It encodes to JSON as the slice of its sinks does ("null" for the zero
// list, as for a nil slice). The zero value is an empty list. A list
// read from several goroutines at once must not be changed meanwhile
// (Slice changes it).
type SinkList struct {
	s   []Sink     // the sinks as values: given, or written by Slice
	tab *sinkTable // a trace's sinks as records; nil when s holds them
}

// NewSinkList returns the list of the sinks s, in that order; the list
// holds s itself (nil encodes as "null", an empty slice as "[]").
func NewSinkList(s []Sink) SinkList { return SinkList{s: s} }

// IsNil reports whether l is the zero list (or holds a nil slice): the
// one that encodes as null.
func (l SinkList) IsNil() bool { return l.s == nil && l.tab == nil }

// Len returns the number of sinks.
func (l SinkList) Len() int {
	if l.tab != nil {
		return len(l.tab.recs)
	}
	return len(l.s)
}

// At returns sink i (0 ≤ i < Len). A sink's Spans are the list's own:
// read them, do not change them.
func (l SinkList) At(i int) Sink {
	if l.tab != nil {
		return l.tab.sink(i)
	}
	return l.s[i]
}

// All yields the sinks with their index, in order, each written as At
// writes it.
func (l SinkList) All() iter.Seq2[int, Sink] { return indexed(l.Len(), l.At) }

// Slice returns the sinks as a slice that the list then holds: changes
// made through it are the list's. The first call on a trace's list
// writes every sink (232 bytes each); later calls return the same slice.
func (l *SinkList) Slice() []Sink {
	if l.tab != nil {
		s := make([]Sink, len(l.tab.recs))
		for i := range s {
			s[i] = l.tab.sink(i)
		}
		l.s, l.tab = s, nil
	}
	return l.s
}

// MarshalJSON writes the list as encoding/json writes a []Sink. The
// sinks are written without HTML escaping: encoding/json compacts a
// Marshaler's text, escaping <, > and & there when its encoder does, so
// that the bytes are a []Sink's under either setting.
func (l SinkList) MarshalJSON() ([]byte, error) {
	return appendListJSON(make([]byte, 0, 2+l.Len()*256), l.IsNil(), l.Len(), func(b []byte, i int) []byte {
		return l.AppendJSON(b, i, 0, false)
	}), nil
}

// UnmarshalJSON reads a JSON array of sinks (or null).
func (l *SinkList) UnmarshalJSON(b []byte) error {
	var s []Sink
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*l = SinkList{s: s}
	return nil
}

// addContinued adds x to sink i's ContinuedSat.
func (l *SinkList) addContinued(i int, x int64) {
	if l.tab == nil {
		l.s[i].ContinuedSat += x
		return
	}
	if l.tab.continued == nil {
		l.tab.continued = map[int32]int64{}
	}
	l.tab.continued[int32(i)] += x
}

// sinkTable is a trace's sinks as finish leaves them: records in result
// order and, once each, the strings and transactions they name. Nothing
// in it refers back to the engine or the reader.
type sinkTable struct {
	recs    []sinkRec
	txs     []sinkTx
	addrs   []string
	inputs  []string // Sink.Input of the sinks at an input
	labs    []heistgraph.EntityRef
	sources []string
	spans   [][][2]int64
	// continued is ContinuedSat by sink index (bridge sinks followed
	// across a link; most sinks have none).
	continued map[int32]int64
	hex       hexIDs // txs' ids' text, for JSON
}

// hexID returns the text of txs[k]'s id (Hash.String).
func (t *sinkTable) hexID(k int32) []byte {
	return t.hex.of(int(k), len(t.txs), func(i int) *heistgraph.Hash { return &t.txs[i].id })
}

// sinkRec is one sink of a sinkTable: indexes into the table for what
// is not a number.
type sinkRec struct {
	amount int64
	tx     int32 // index in txs
	vout   uint32
	src    int32 // index in sources
	hops   int32
	addr   int32 // index in addrs
	lab    int32 // index in labs, -1: none
	spans  int32 // index in spans, -1: none
	input  int32 // index in inputs, -1: the sink is at an output
	kind   uint8 // index in sinkKinds
	reason uint8 // index in sinkReasons
	compct bool
	via    bool
}

// sinkTx is what a Sink says of its transaction.
type sinkTx struct {
	id   heistgraph.Hash
	time int64
	pos  pos
}

// sink writes record i.
func (t *sinkTable) sink(i int) Sink {
	r := &t.recs[i]
	x := &t.txs[r.tx]
	s := Sink{Kind: sinkKinds[r.kind], Address: t.addrs[r.addr], TxID: x.id, Vout: r.vout, AmountSat: r.amount,
		Hops: int(r.hops), Source: t.sources[r.src], Reason: sinkReasons[r.reason], Compacted: r.compct,
		ViaCoinJoin: r.via, Time: x.time, pos: x.pos}
	if r.input >= 0 {
		s.Input = t.inputs[r.input]
	}
	if r.lab >= 0 {
		s.Entity, s.Category = t.labs[r.lab].Name, t.labs[r.lab].Category
	}
	if r.spans >= 0 {
		s.Spans = t.spans[r.spans]
	}
	if t.continued != nil {
		s.ContinuedSat = t.continued[int32(i)]
	}
	return s
}

// sinkTableBuilder builds a sinkTable from the engine's sinks added in
// result order, keeping each transaction, address string, input and
// entity once for a run of sinks that share it (sinks in result order
// come grouped by transaction, and by output within it).
type sinkTableBuilder struct {
	e      *engine
	t      *sinkTable
	labIdx []int32 // engine.labs index → t.labs index + 1, 0: not yet
	lastTx int32
	addr   addrRef
	inTx   int32
	inVin  uint32
	inSet  bool
}

func newSinkTableBuilder(e *engine, n int) *sinkTableBuilder {
	return &sinkTableBuilder{
		e: e,
		// Sized up front as the edge table is (newEdgeTableBuilder): n
		// sinks name at most n transactions and addresses.
		t: &sinkTable{recs: make([]sinkRec, 0, n), txs: make([]sinkTx, 0, min(n, e.tx.len())),
			addrs: make([]string, 0, n), sources: e.sources},
		labIdx: make([]int32, len(e.labs)),
		lastTx: -1,
		addr:   -1,
	}
}

// add appends the engine's sink s.
func (b *sinkTableBuilder) add(s *sink) {
	e, t := b.e, b.t
	if s.tx != b.lastTx {
		x := e.tx.at(s.tx)
		t.txs = appendDoubling(t.txs, sinkTx{id: e.tx.id(s.tx), time: x.time, pos: x.pos})
		b.lastTx = s.tx
	}
	if s.addr != b.addr || len(t.addrs) == 0 {
		t.addrs = appendDoubling(t.addrs, e.tx.address(s.addr))
		b.addr = s.addr
	}
	r := sinkRec{amount: s.amount, tx: int32(len(t.txs) - 1), vout: s.vout, src: s.src, hops: s.hops,
		addr: int32(len(t.addrs) - 1), lab: -1, spans: -1, input: -1, kind: s.kind, reason: s.reason,
		compct: s.compct, via: s.via}
	if s.input {
		if !b.inSet || b.inTx != s.tx || b.inVin != s.vout {
			b.inSet, b.inTx, b.inVin = true, s.tx, s.vout
			t.inputs = append(t.inputs, e.tx.prevOutpoint(s.tx, int(s.vout)).String())
		}
		r.input = int32(len(t.inputs) - 1)
	}
	if s.lab >= 0 {
		if b.labIdx[s.lab] == 0 {
			t.labs = append(t.labs, e.labs[s.lab])
			b.labIdx[s.lab] = int32(len(t.labs))
		}
		r.lab = b.labIdx[s.lab] - 1
	}
	if s.spans >= 0 {
		t.spans = append(t.spans, e.spans[s.spans])
		r.spans = int32(len(t.spans) - 1)
	}
	t.recs = append(t.recs, r)
}
