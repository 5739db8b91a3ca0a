package pebble

import (
	"hash/maphash"
	"sync/atomic"

	"github.com/heistgraph/heistgraph"
)

// Output preparation: what applyTx needs of an output's address that
// depends on the address alone (its hash for the run's ids and the
// filters, addrHash; the hash that leads its totals key, addrKeyHash; its
// packed form, packAddrInto, which the address table's entry and the
// output record's script check take) is made for the blocks of a run
// ahead of build, block after block, on a goroutine of its own. Building a
// run is the ingest's serial path (the decoder, the sorts of the runs, the
// sstable writes and the clustering all wait for it or run beside it), and
// these were a fifth of it: decoding the address strings back into their
// programs (base58 and bech32) alone was a tenth. Each block's preparation
// is a task: build waits for it, or does it itself when the goroutine has
// not reached it, so it never waits for a goroutine the scheduler has not
// started (task).

// outPrep is the preparation of one output: h and kh are its address's
// addrHash and addrKeyHash, and p its packed form when ok (the address
// packs); none of it is set for an output without an address. own is
// false when p was not made here (an output past progMax, or one whose
// human-readable part is not in its string), and applyTx packs it itself.
type outPrep struct {
	h, kh uint64
	p     packedAddr
	ok    bool
	own   bool
}

// progMax is the room an output's program takes in a run's preparation
// (the longest segwit program); a longer one is packed by applyTx.
const progMax = 40

// runPrep holds the preparation of a run's blocks (the first len(blocks)
// of the blocks handed to applyGroup): outs and progs are every block's
// outputs in order, and each block its range of them.
type runPrep struct {
	outs   []outPrep
	progs  []byte
	blocks []blockPrep
	// stopped tells the goroutine to stop taking blocks; done is closed
	// when it has returned (nil: none started).
	stopped atomic.Bool
	done    chan struct{}
}

// blockPrep is one block's task and the range of its outputs in
// runPrep.outs.
type blockPrep struct {
	t      task
	lo, hi int
}

// start prepares bs: it sizes the lists for them and, for more than one
// block, starts the goroutine that prepares them in order. seed is
// addrHash's.
func (r *runPrep) start(bs []*heistgraph.Block, seed maphash.Seed) {
	n := 0
	for _, b := range bs {
		if b != nil {
			for i := range b.Txs {
				n += len(b.Txs[i].Outputs)
			}
		}
	}
	if cap(r.outs) < n {
		r.outs = make([]outPrep, n+n/4)
		r.progs = make([]byte, (n+n/4)*progMax)
	}
	r.outs = r.outs[:n]
	r.progs = r.progs[:n*progMax]
	if cap(r.blocks) < len(bs) {
		r.blocks = make([]blockPrep, len(bs))
	}
	r.blocks = r.blocks[:len(bs)]
	at := 0
	for k, b := range bs {
		bp := &r.blocks[k]
		bp.lo = at
		if b != nil {
			for i := range b.Txs {
				at += len(b.Txs[i].Outputs)
			}
		}
		bp.hi = at
		bp.t = task{done: make(chan struct{}), f: func() { r.prepare(b, bp.lo, seed) }}
	}
	if len(bs) < 2 {
		return
	}
	r.stopped.Store(false)
	done := make(chan struct{})
	r.done = done
	go func() {
		defer close(done)
		for k := range r.blocks {
			if r.stopped.Load() {
				return
			}
			r.blocks[k].t.try()
		}
	}()
}

// of returns the preparation of block k of the run (its outputs in
// order), once it is made, making it if no one has started it.
func (r *runPrep) of(k int) []outPrep {
	bp := &r.blocks[k]
	bp.t.wait()
	return r.outs[bp.lo:bp.hi]
}

// stop stops the goroutine and waits for it: the blocks it has not
// prepared are left as they are.
func (r *runPrep) stop() {
	if r.done == nil {
		return
	}
	r.stopped.Store(true)
	<-r.done
	r.done = nil
}

// prepare prepares the outputs of b, the first at outs[lo].
func (r *runPrep) prepare(b *heistgraph.Block, lo int, seed maphash.Seed) {
	if b == nil {
		return
	}
	j := lo
	var buf progBuf
	for i := range b.Txs {
		for _, out := range b.Txs[i].Outputs {
			o := &r.outs[j]
			*o = outPrep{}
			if addr := out.Address; addr != "" {
				o.h, o.kh = maphash.String(seed, addr), addrKeyHash(addr)
				p, ok := packAddrInto(&buf, addr)
				prog := r.progs[j*progMax : j*progMax : (j+1)*progMax]
				if len(p.Prog) <= progMax && (p.HRP == "" || len(p.HRP) < len(addr) && addr[:len(p.HRP)] == p.HRP) {
					p.Prog = append(prog, p.Prog...)
					p.HRP = addr[:len(p.HRP)]
					o.p, o.ok, o.own = p, ok, true
				}
			}
			j++
		}
	}
}
