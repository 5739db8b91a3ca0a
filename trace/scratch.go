package trace

import "sync"

// scratch is the memory a Run's engine fills and drops when the trace
// ends, kept for the next Run: the pages of its sinks, transactions,
// arrivals, edges and segments, the order finish sorts the sinks in, the
// edge and pending tables by transaction number and the work queue. None
// of it outlives a Run in its result (finish copies out what the result
// keeps), and all but the pending table and the queue hold no pointers.
//
// Reusing it is what a warm process needs: memory the runtime hands out
// again after a collection freed it is cleared first (fresh memory from
// the operating system already is), so a process that had run a trace
// paid for clearing every such buffer of the next one, as large as the
// trace. A reused page is written before it is read (chunks.add,
// segPool.put); the tables are kept valid instead (engine.edgeFrom
// checks what edgeTo names and edgeTableBuilder.id what edgeIDs names,
// every pending entry is nil when a trace ends, the queue is empty).
type scratch struct {
	sinks    [][]sink
	txs      [][]txEntry
	arrivals [][]arrival
	edges    [][]edge
	segs     [][]seg
	order    []sinkOrder
	edgeTo   []int32
	edgeIDs  []int32
	edgeOf   []int32
	pending  []*work
	queue    workQueue
}

// scratchPool holds the scratch of finished Runs. Run takes one (or a
// new, empty one) and puts it back when its trace succeeded; runs in
// parallel take one each.
var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// useScratch makes e fill s's memory before it allocates its own.
func (e *engine) useScratch(s *scratch) {
	e.sinks.reuse(s.sinks)
	e.tx.txs.reuse(s.txs)
	e.arrivals.reuse(s.arrivals)
	e.edgeBuf.reuse(s.edges)
	e.segs.spare = s.segs
	e.order = s.order[:0]
	e.edgeTo = s.edgeTo
	e.edgeIDs, e.edgeOf = s.edgeIDs, s.edgeOf
	e.pending = s.pending
	e.queue = s.queue[:0]
	*s = scratch{}
}

// freeScratch returns e's memory that the result does not hold, for the
// next Run; e is not used after it. The work queue is empty and every
// pending entry nil once a trace has run to its end (run, drain), which
// is when Run calls it.
func (e *engine) freeScratch() *scratch {
	return &scratch{
		sinks:    e.sinks.free(),
		txs:      e.tx.txs.free(),
		arrivals: e.arrivals.free(),
		edges:    e.edgeBuf.free(),
		segs:     e.segs.free(),
		order:    e.order[:0],
		edgeTo:   e.edgeTo,
		edgeIDs:  e.edgeIDs,
		edgeOf:   e.edgeOf[:0],
		pending:  e.pending,
		queue:    e.queue[:0],
	}
}
