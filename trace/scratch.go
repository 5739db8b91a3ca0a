package trace

import (
	"sync"

	"github.com/heistgraph/heistgraph"
)

// scratch is the memory a Run's engine fills and drops when the trace
// ends, kept for the next Run: the pages of its sinks, transactions,
// arrivals, edges and segments, the order finish sorts the sinks in, the
// edge and pending tables by transaction number and the work queue. None
// of it outlives a Run in its result (finish copies out what the result
// keeps), and none of it holds pointers.
//
// Reusing it is what a warm process needs: memory the runtime hands out
// again after a collection freed it is cleared first (fresh memory from
// the operating system already is), so a process that had run a trace
// paid for clearing every such buffer of the next one, as large as the
// trace. A reused page is written before it is read (chunks.add,
// segPool.put); the tables are kept valid instead (edgeTo and edgeIDs are
// cleared where the trace set them, every pending entry is 0 when a
// trace ends, the queue is empty; engine.edgeFrom and
// edgeTableBuilder.id still check what an entry names).
type scratch struct {
	sinks    []*[1 << chunkBits]sink
	txs      []*[1 << chunkBits]txEntry
	ids      []*[1 << chunkBits]heistgraph.Hash
	arrivals []*[1 << chunkBits]arrival
	edges    []*[1 << chunkBits]edge
	segs     [][]seg
	order    []sinkOrder
	edgeTo   []int32
	edgeIDs  []int32
	edgeOf   []int32
	pending  []int32
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
	e.tx.ids.reuse(s.ids)
	e.arrivals.reuse(s.arrivals)
	e.edgeBuf.reuse(s.edges)
	e.segs.spare = s.segs
	e.order = s.order[:0]
	e.edgeTo = s.edgeTo
	e.edgeIDs, e.edgeOf = s.edgeIDs, s.edgeOf
	e.pending = s.pending
	e.queue = s.queue
	e.queue.reset()
	*s = scratch{}
}

// freeScratch returns e's memory that the result does not hold, for the
// next Run; e is not used after it. The work queue is empty and every
// pending entry 0 once a trace has run to its end (run, drain), which
// is when Run calls it.
//
// The scratch is this trace's size: the pages it was given and did not
// fill are dropped, and so are tables more than twice as long as it
// needed, so that a small trace after a large one does not keep (nor
// walk) the large one's memory. The entries of edgeTo and edgeIDs this
// trace set are cleared (one sequential pass over what it used): an
// entry a trace before left names nothing, rather than an edge or a txid
// the next trace must read to reject (a random read each).
func (e *engine) freeScratch() *scratch {
	ntx := e.tx.len()
	fit := func(s []int32) []int32 {
		if cap(s) > 2*ntx+1024 {
			return nil
		}
		clear(s[:min(len(s), ntx+1)])
		return s
	}
	pending := e.pending
	if cap(pending) > 2*ntx+1024 {
		pending = nil
	}
	order := e.order[:0]
	if cap(order) > 2*e.sinks.len()+1024 {
		order = nil
	}
	return &scratch{
		sinks:    e.sinks.used(),
		txs:      e.tx.txs.used(),
		ids:      e.tx.ids.used(),
		arrivals: e.arrivals.used(),
		edges:    e.edgeBuf.used(),
		segs:     e.segs.used(),
		order:    order,
		edgeTo:   fit(e.edgeTo),
		edgeIDs:  fit(e.edgeIDs),
		edgeOf:   e.edgeOf[:0],
		pending:  pending,
		queue:    e.queue,
	}
}
