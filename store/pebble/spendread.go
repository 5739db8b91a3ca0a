package pebble

import (
	"fmt"
	"unsafe"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

// Read-ahead of a run's spent outputs. An input whose output neither the
// output cache nor the run holds is resolved from the store: its entry in
// the unspent outputs (unspent.go) or, without one, its tx's number by
// txid, its output by number, the output's address by id (readSpent),
// each a seek that, under a small block cache (the full
// chain's share of memory), reads and decompresses a data block. The
// applier did these one after the other on the ingest's serial path. Now
// a goroutine of the run (readAhead) makes them ahead, in the order the
// applier needs them: at each block, the applier queues the next block's
// inputs that the output cache does not hold (and, for the run's first
// block, its own that neither the cache nor the run holds), and takes
// each result where it would have read the store. The store's block
// tables do not change while a run is built (runReads), so a result read
// ahead is what the applier's own read would have found; an input it
// needs that was not queued (one the cache held when queued but an input
// took since) it reads itself, and a result it does not need (an output
// of the run) is dropped. At most spendReadWindow results wait, and their
// bytes (spendReadBytes) come out of the output cache's bound. A run reads
// ahead only when the one before read a share of its spends from the
// store (aheadWorth).

// spendJob is an input to read ahead: seq orders the run's inputs (the
// block's place in the run, then the input's in the block: spendSeq).
type spendJob struct {
	seq uint64
	op  heistgraph.Outpoint
}

// spendSeq is the order of input j of the run's block k.
func spendSeq(k, j int) uint64 { return uint64(k)<<32 | uint64(uint32(j)) }

// spendRead is what the store holds of an input's output: its tx's number
// (txFound), the output's head and address (outFound), or the error that
// reading them met. An output the unspent outputs table held (unspent)
// comes with its address's addrKeyHash (kh) and without the address's
// string: nothing the applier writes needs it (the address's totals are
// keyed by kh and id, its events by id), and the feed hands the id
// (store.ApplyFeeds).
type spendRead struct {
	seq      uint64
	num      uint64
	txFound  bool
	outFound bool
	unspent  bool
	head     outputHead
	kh       uint64
	addr     string
	err      error
}

// spendReadWindow is how many results may wait for the applier;
// spendReadBytes what they take at most (an address string at
// outAddrBytes, as the output cache counts it).
const (
	spendReadWindow = 256
	spendReadBytes  = spendReadWindow * (int64(unsafe.Sizeof(spendRead{})) + outAddrBytes)
)

// readSpent reads what the store holds of the output op of chain c
// through rr and ys (the reads applyInput makes when no cache holds it):
// its entry in the unspent outputs, or else the output's tx number,
// record and address.
func readSpent(db pebbledb.Reader, rr *runReads, ys *addrReader, c chainCode, op heistgraph.Outpoint) spendRead {
	var r spendRead
	u, found, err := rr.unspent(db, c, op)
	if err != nil || found {
		r.err = err
		r.num, r.txFound, r.outFound, r.unspent = u.Num, found, found, found
		r.head = outputHead{Value: u.Value, Type: u.Type, AddrID: u.ID}
		r.kh = u.KH
		return r
	}
	r.num, r.txFound, r.err = rr.txNum(db, c, op.TxID)
	if r.err != nil || !r.txFound {
		return r
	}
	v, found, err := rr.output(db, c, r.num, op.Vout)
	if err != nil || !found {
		r.err = err
		return r
	}
	if r.head, err = decodeOutputHead(v); err != nil {
		r.err = fmt.Errorf("output %s: %w", op, err)
		return r
	}
	if r.addr, err = ys.addr(r.head.AddrID); err != nil {
		r.err = fmt.Errorf("output %s: %w", op, err)
		return r
	}
	r.outFound = true
	return r
}

// readAhead is a run's read-ahead (nil done: none started).
type readAhead struct {
	jobs chan []spendJob
	res  chan spendRead
	stop chan struct{}
	done chan struct{}
	// last is the greatest seq queued (any: one was); head is a result
	// taken from res that the applier has not reached (held).
	last uint64
	any  bool
	head spendRead
	held bool
}

// start starts the goroutine that reads ahead the inputs of up to blocks
// blocks of chain c from db.
func (ra *readAhead) start(db pebbledb.Reader, c chainCode, blocks int) {
	ra.stopReads()
	ra.jobs = make(chan []spendJob, blocks+1) // queue never waits
	ra.res = make(chan spendRead, spendReadWindow)
	ra.stop = make(chan struct{})
	ra.done = make(chan struct{})
	ra.any, ra.held = false, false
	jobs, res, stop, done := ra.jobs, ra.res, ra.stop, ra.done
	go func() {
		defer close(done)
		var rr runReads
		// ys remembers the addresses it read as the applier's reader did
		// when it made these reads (the applier's now reads few).
		ys := newAddrIter(db, c)
		defer func() {
			_ = rr.close() // nothing it read is used after stop
			_ = ys.Close()
		}()
		for {
			select {
			case <-stop:
				return
			case js := <-jobs:
				for _, j := range js {
					r := readSpent(db, &rr, ys, c, j.op)
					r.seq = j.seq
					select {
					case res <- r:
					case <-stop:
						return
					}
				}
			}
		}
	}()
}

// queue hands the goroutine js, in seq order after what was queued.
func (ra *readAhead) queue(js []spendJob) {
	if ra.done == nil || len(js) == 0 {
		return
	}
	select {
	case ra.jobs <- js:
		ra.last, ra.any = js[len(js)-1].seq, true
	default: // more blocks than the run was started for: the applier reads them
	}
}

// take returns the result of seq when it was queued (ok false: it was not,
// and the caller reads it). The goroutine answers every job in order, so
// the wait ends.
func (ra *readAhead) take(seq uint64) (spendRead, bool) {
	if ra.done == nil || !ra.any || seq > ra.last {
		return spendRead{}, false
	}
	for {
		if !ra.held {
			ra.head, ra.held = <-ra.res, true
		}
		switch {
		case ra.head.seq < seq: // an input the applier did not need to read
			ra.held = false
		case ra.head.seq == seq:
			ra.held = false
			return ra.head, true
		default:
			return spendRead{}, false
		}
	}
}

// stopReads stops the goroutine and waits for it (its iterators closed).
func (ra *readAhead) stopReads() {
	if ra.done == nil {
		return
	}
	close(ra.stop)
	<-ra.done
	*ra = readAhead{}
}

// queueSpends queues block b's inputs (the run's block k, chain c) that
// neither the output cache nor the run's earlier blocks hold; with
// prepped, a.spends is b's prespend. Without, b is the block after the
// one being built: its inputs that spend a tx of either (a.aheadTxs) are
// left out too.
func (a *applier) queueSpends(b *heistgraph.Block, k int, c chainCode, prepped bool) {
	var js []spendJob
	j := 0
	for i := range b.Txs {
		for v := range b.Txs[i].Inputs {
			in := &b.Txs[i].Inputs[v]
			if !in.Coinbase {
				uk := utxoKey{c, in.PrevOut}
				var miss bool
				if prepped {
					sp := &a.spends[j]
					miss = sp.place < 0 && a.grp.outHashed(sp.h, &uk) == nil
				} else {
					h := outKeyHash(&uk)
					_, near := a.aheadTxs[in.PrevOut.TxID]
					miss = !near && a.utxo.find(h, &uk) < 0 && a.grp.outHashed(h, &uk) == nil
				}
				if miss {
					js = append(js, spendJob{seq: spendSeq(k, j), op: in.PrevOut})
				}
			}
			j++
		}
	}
	a.ahead.queue(js)
}

// readAhead starts the run's read-ahead at its first block and queues what
// block b (the run's block a.runK, chain c, prespend made) needs that was
// not queued, then the next block's inputs.
func (a *applier) readAhead(db pebbledb.Reader, b *heistgraph.Block, c chainCode) {
	k := a.runK
	if !a.aheadOn || a.noAhead || k >= len(a.run) {
		return // past the blocks the run was started for: read as they come
	}
	if a.ahead.done == nil {
		a.ahead.start(db, c, len(a.run))
		a.aheadRuns++
	}
	if a.queuedTo < k {
		a.queueSpends(b, k, c, true)
	}
	if next := k + 1; next < len(a.run) && a.run[next] != nil {
		if a.aheadTxs == nil {
			a.aheadTxs = map[heistgraph.Hash]struct{}{}
		}
		clear(a.aheadTxs)
		for _, bb := range []*heistgraph.Block{b, a.run[next]} {
			for i := range bb.Txs {
				a.aheadTxs[bb.Txs[i].TxID] = struct{}{}
			}
		}
		a.queueSpends(a.run[next], next, c, false)
		a.queuedTo = next
	}
}

// aheadWorth reports whether a run reads ahead after one that read reads
// of its inputs' outputs from the store out of inputs: when at least one
// in aheadShare did. With the output cache holding nearly every spent
// output (an ingest with the machine's memory), queuing each block's
// inputs costs more than the few reads it would overlap.
func aheadWorth(reads, inputs int) bool {
	return reads > 0 && reads*aheadShare >= inputs
}

// aheadShare: see aheadWorth.
const aheadShare = 16

// aheadCacheBytes is the output cache's bound out of cacheBytes once the
// read-ahead's results take theirs (a bound too small to give them is
// left whole: the window is then a few tens of KB past it).
func aheadCacheBytes(cacheBytes int64) int64 {
	if cacheBytes > 4*spendReadBytes {
		return cacheBytes - spendReadBytes
	}
	return cacheBytes
}
