package txgraph

import (
	"fmt"
	"sync/atomic"
)

// How a graph file's damage is met.
//
// Open reads the header and checks what does not grow with the file:
// the sections lie inside it and the arrays' lengths agree (lengths).
// The numbers inside the arrays are checked where they are read: a read
// checks every number it takes from the file before it follows it (an
// index into another array) or hands it out (a transaction number, an
// address id, a count of inputs or outputs, a script type), so that it
// neither panics nor reads outside the mapping. A number a caller passes
// back is one a read handed out (a transaction number, an address id, an
// input or output index below the count handed out); Go's bounds checks
// on it catch only a caller's bug.
//
// A read with an error result returns an error wrapping ErrFormat when it
// meets damage (Reader.Tx, Output, FirstHeight, ReadClusterCols). A read
// without one (the reads by number, Address, BlockTxs, ReadCluster…)
// answers as if the damaged number were absent (no address, no spender,
// no transaction, an unknown spent output: a zero value in its place,
// the counts it handed out kept) and records the damage on the Graph,
// where Err reports it: its caller checks Err when a unit of work is done
// (a trace, a block clustered) and discards what it computed when Err is
// not nil, as with the deferred error of an iterator.

// damage is the first damage a read met: its kind<<56 | the index of the
// damaged number; 0 none.
type damage uint64

// damage kinds: where the damaged number was read.
const (
	_           uint64 = iota
	dmgTx              // a transaction's block, inputs or outputs
	dmgInput           // an input's spent transaction or output
	dmgOutput          // an output's address, script type or spender
	dmgAddress         // an address's offsets
	dmgScript          // a script's offsets
	dmgBlock           // a block's first transaction number
	dmgTxSlot          // the txid table
	dmgAddrSlot        // the address table
	dmgBlockTxs        // a block's transactions' inputs or outputs together
)

var damageNames = [...]string{"", "transaction", "input", "output", "address", "script", "block", "txid slot", "address slot", "block's transactions"}

// set records damage of kind k at index i unless some is recorded.
func (d *damage) set(k, i uint64) {
	if *d == 0 {
		*d = damage(k<<56 | i&(1<<56-1))
	}
}

// faults is the damage reads without an error result met on a Graph: the
// first, kept.
type faults struct{ first atomic.Uint64 }

// damaged records damage d (a kind<<56 | an index, the index a place in
// an array: below 1<<56), unless some is recorded: small enough to be
// inlined into the reads, and run only on damage.
func (g *Graph) damaged(d uint64) { g.faults.first.CompareAndSwap(0, d) }

// damagedTx and damagedOutput are damaged for the hottest reads, kept out
// of line so that the reads' own code stays small.
//
//go:noinline
func (g *Graph) damagedTx(n uint32) { g.damaged(dmgTx<<56 | uint64(n)) }

//go:noinline
func (g *Graph) damagedOutput(o uint64) { g.damaged(dmgOutput<<56 | o) }

// note records d (none: nothing).
func (g *Graph) note(d damage) {
	if d != 0 {
		g.faults.first.CompareAndSwap(0, uint64(d))
	}
}

// Err returns an error wrapping ErrFormat when a read without an error
// result met damage in the file since Open (the first such damage, named
// by where it was read), nil otherwise. What such reads answered is
// wrong then: a trace or clustering that read the graph checks Err when
// done and fails with it. Safe for concurrent use.
func (g *Graph) Err() error { return g.errOf(damage(g.faults.first.Load())) }

// errOf returns the error of d, nil for none.
func (g *Graph) errOf(d damage) error {
	if d == 0 {
		return nil
	}
	k := uint64(d) >> 56
	name := "number"
	if k < uint64(len(damageNames)) {
		name = damageNames[k]
	}
	return fmt.Errorf("txgraph: %s: %s %d: a number out of bounds: %w", g.path, name, uint64(d)&(1<<56-1), ErrFormat)
}

// Verify checks every number of every array of the graph (the whole file
// read): nil, or an error wrapping ErrFormat naming the first damaged one.
// The reads do not need it (they check what they read); Update runs it
// before it extends a graph, and a caller may to check a file at once.
func (g *Graph) Verify() error {
	if err := g.t.check(len(g.types)); err != nil {
		return fmt.Errorf("txgraph: %s: %w", g.path, err)
	}
	return nil
}

// txRange returns tx n's first input and inputs, first output and
// outputs, and its block (-1: not stored); ok is false when they lie
// outside the arrays. n must be below the transactions.
func (t *tables) txRange(n uint32) (in0, nin, out0, nout uint64, b int32, ok bool) {
	in0, nin = t.txIn[n], uint64(t.txNIn[n])
	out0, nout = t.txOut[n], uint64(t.txNOut[n])
	b = t.txBlock[n]
	ok = in0 <= uint64(len(t.inPrev)) && nin <= uint64(len(t.inPrev))-in0 &&
		out0 <= uint64(len(t.outValue)) && nout <= uint64(len(t.outValue))-out0 &&
		uint64(uint32(b+1)) <= uint64(len(t.blkHash)) // -1 too: b+1 is 0
	return in0, nin, out0, nout, b, ok
}
