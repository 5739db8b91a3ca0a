package pebble

import (
	"fmt"
	"unsafe"

	pebbledb "github.com/cockroachdb/pebble/v2"
)

// Read-ahead of a run's reused addresses' ids. An output whose address
// the chain's filter holds (used before, or a false positive) and that
// neither the run nor the ids cache holds is looked up in the store: its
// totals by the address's hash, then the address table by the id they
// name (storedID), each a seek that, under a small block cache (the full
// chain's share of memory), reads and decompresses a data block. A
// goroutine of the run (idAhead) makes these ahead, as readAhead does the
// spent outputs': at each block the applier queues the next block's
// outputs that the filter holds and neither the run nor the cache does
// (and, for the run's first block, its own that stageAddrs found so), and
// takes each result where it would have read the store. The answers stay
// what the applier's own reads would find: the store's tables do not
// change while a run is built, the cache takes nothing until the run is
// built (cacheIDs), and the run's ids are asked before the result is
// taken, so an address given its id since it was queued never takes one.
// An output the filter did not hold when queued (it gained the bits
// since) is read by the applier as before. A run reads ahead only when
// the one before read a share of its outputs' ids from the store
// (aheadWorth).

// idJob is an output's address to look up, with its addrKeyHash.
type idJob struct {
	addr string
	kh   uint64
}

// idRead is the stored id of an address (found false: it has none) or
// the error that reading it met.
type idRead struct {
	id    uint64
	found bool
	err   error
}

// idAhead is the read-ahead of a run's reused addresses' ids.
type idAhead = aheadReads[idJob, idRead]

// idReadWindow is how many results may wait for the applier,
// idReadBytes what they take at most (the addresses are the blocks').
const (
	idReadWindow = 256
	idReadBytes  = idReadWindow * int64(unsafe.Sizeof(aheadResult[idRead]{})+unsafe.Sizeof(aheadJob[idJob]{}))
)

// startIDs starts ra's goroutine, which looks up ahead the addresses of
// the outputs of up to blocks blocks of chain c in db.
func startIDs(ra *idAhead, db pebbledb.Reader, c chainCode, blocks int) {
	ra.start(blocks, idReadWindow, func() (func(idJob) idRead, func()) {
		var rr runReads
		ys := newAddrIter(db, c)
		read := func(j idJob) idRead {
			var r idRead
			r.id, r.found, r.err = storedID(db, &rr, ys, c, j.addr, j.kh)
			return r
		}
		return read, func() {
			_ = rr.close() // nothing it read is used after stop
			_ = ys.Close()
		}
	})
}

// storedID returns the id of addr (whose addrKeyHash is kh) from its
// totals stored in db, read through rr's iterator and ys (found false:
// it has none).
func storedID(db pebbledb.Reader, rr *runReads, ys *addrReader, c chainCode, addr string, kh uint64) (id uint64, found bool, err error) {
	it, err := rr.totalsIter(db, c)
	if err != nil {
		return 0, false, err
	}
	t, found, err := seekTotals(it, ys, c, addr, kh, nil)
	if err != nil || !found {
		return 0, false, err
	}
	if t.ID == 0 {
		return 0, false, fmt.Errorf("address %q: totals without an id: %w", addr, errCorrupt)
	}
	return t.ID, true, nil
}

// readIDsAhead starts the run's ids read-ahead at its first block and
// queues what block a.runK (chain c, its outputs staged) needs that was
// not queued, then the next block's outputs.
func (a *applier) readIDsAhead(db pebbledb.Reader, c chainCode) {
	k := a.runK
	if !a.idAheadOn || a.noAhead || k >= len(a.run) {
		return
	}
	if a.idAhead.done == nil {
		startIDs(&a.idAhead, db, c, len(a.run))
		a.idRuns++
	}
	if a.idQueuedTo < k {
		a.queueIDs(k, a.outs, c, true)
	}
	if next := k + 1; next < len(a.run) && next < len(a.prep.blocks) && a.run[next] != nil {
		a.queueIDs(next, a.prep.of(next), c, false)
		a.idQueuedTo = next
	}
}

// queueIDs queues the addresses of the outputs of the run's block k
// (chain c, prepared as outs) that the store would be asked for: with
// staged, what stageAddrs found of them (k is the block built); without,
// what the filter, the run's ids and the cache hold now.
func (a *applier) queueIDs(k int, outs []outPrep, c chainCode, staged bool) {
	f := a.filters[c]
	var js []aheadJob[idJob]
	j := 0
	for _, tx := range a.run[k].Txs {
		for _, out := range tx.Outputs {
			pr := &outs[j]
			if out.Address != "" && pr.own && a.storeAsked(pr, f, out.Address, c, staged, j) {
				js = append(js, aheadJob[idJob]{seq: spendSeq(k, j), j: idJob{addr: out.Address, kh: pr.kh}})
			}
			j++
		}
	}
	a.idAhead.queue(js)
}

// storeAsked reports whether hashedAddrID would ask the store for the id
// of addr, the address of output j (prepared as pr) of a block of chain c
// whose filter is f, as far as the run knows it now: with staged, by what
// stageAddrs found.
func (a *applier) storeAsked(pr *outPrep, f *addrFilter, addr string, c chainCode, staged bool, j int) bool {
	if staged {
		st := &a.staged[j]
		if !st.held || !st.asked || st.ok {
			return false
		}
	} else if f != nil && !f.has(pr.kh) {
		return false
	}
	if _, ok := a.ids.ids.find(pr.h, &addrKey{c, addr}); ok {
		return false
	}
	if staged {
		return true
	}
	a.form = appendAddrForm(a.form[:0], addr, &pr.p, pr.ok)
	_, _, ok := a.idCache.get(pr.h, c, a.form)
	return !ok
}
