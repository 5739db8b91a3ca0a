package pebble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
)

// TestRunReads: a run's lookups through its reused iterators (runReads,
// seekTotals) answer what the one-shot lookups (findTotals, storedTxNum,
// a Get of the output) answer, asked in an order that seeks back and
// forth, with the store's entries spread over level 0 files and the
// memtable and every address sharing its totals' hash with about half the
// others; and a run's reads opened again after close see what was written
// in between.
func TestRunReads(t *testing.T) {
	collide(t)
	opts := DefaultOptions()
	opts.FS, opts.BulkLoad = vfs.NewMem(), true
	d, err := Open("db", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	const c = chainCode(1)
	const n = 24
	addr := func(i int) string { return fmt.Sprintf("bcrt1q-run-%d", i) }
	txid := func(i int) heistgraph.Hash { return heistgraph.Hash{byte(i), 0xa5, byte(i * 7)} }
	// store writes entries i in [lo, hi): the totals and the address table
	// entry of address i, the index entry of tx i and its output 0.
	store := func(lo, hi int, flush bool) {
		t.Helper()
		b := d.db.NewBatch()
		for i := lo; i < hi; i++ {
			id, num := uint64(i+1), uint64(100+i)
			sets := [][2][]byte{
				{appendAddressKey(nil, c, addr(i), id), appendTotals(nil, &totals{ID: id, TxCount: int64(i)})},
				{appendAddrByIDKey(nil, c, id), appendAddrValue(nil, addr(i))},
				{appendTxKey(nil, c, txid(i)), binary.AppendUvarint(nil, num)},
				{appendOutputKey(nil, c, num, 0), []byte(fmt.Sprintf("output-%d", i))},
			}
			for _, kv := range sets {
				if err := b.Set(kv[0], kv[1], nil); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := b.Commit(nil); err != nil {
			t.Fatal(err)
		}
		if flush {
			if err := d.db.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for lo := 0; lo < n-4; lo += 5 {
		store(lo, lo+5, true) // four files in level 0
	}
	store(n-4, n, false) // the memtable

	var r runReads
	ys := newAddrIter(d.db, c)
	check := func(asked []int) {
		t.Helper()
		for _, i := range asked {
			wantT, wantFound, wantErr := findTotals(d.db, c, addr(i), nil)
			gotT, gotFound, gotErr := func() (totals, bool, error) {
				it, err := r.totalsIter(d.db, c)
				if err != nil {
					return totals{}, false, err
				}
				return seekTotals(it, ys, c, addr(i), addrKeyHash(addr(i)), nil)
			}()
			if gotT != wantT || gotFound != wantFound || (gotErr == nil) != (wantErr == nil) {
				t.Errorf("totals of %s: run %+v %v %v, one-shot %+v %v %v", addr(i), gotT, gotFound, gotErr, wantT, wantFound, wantErr)
			}
			// The txid before tx i's is never stored.
			for _, id := range []heistgraph.Hash{txid(i), {byte(i), 0x01}} {
				wantNum, wantFound, wantErr := storedTxNum(d.db, c, id)
				gotNum, gotFound, gotErr := r.txNum(d.db, c, id)
				if gotNum != wantNum || gotFound != wantFound || (gotErr == nil) != (wantErr == nil) {
					t.Errorf("tx %s: run %d %v %v, one-shot %d %v %v", id, gotNum, gotFound, gotErr, wantNum, wantFound, wantErr)
				}
			}
			// Output 1 is never stored.
			for vout := range uint32(2) {
				num := uint64(100 + i)
				want, wantFound, wantErr := lookup(d.db, appendOutputKey(nil, c, num, vout), nil)
				got, gotFound, gotErr := r.output(d.db, c, num, vout)
				if string(got) != string(want) || gotFound != wantFound || (gotErr == nil) != (wantErr == nil) {
					t.Errorf("output %d:%d: run %q %v %v, one-shot %q %v %v", num, vout, got, gotFound, gotErr, want, wantFound, wantErr)
				}
			}
		}
	}
	// Entries past n are absent; the order seeks forward, back and to the
	// same key again.
	check([]int{3, 17, 0, 23, 23, 9, n + 3, 4, 22, n, 11, 1, 19})
	if err := errors.Join(r.close(), ys.Close()); err != nil {
		t.Fatal(err)
	}
	store(n, n+4, false)
	check([]int{n + 3, 2, n, n + 1, 20, n + 2})
	if err := errors.Join(r.close(), ys.Close()); err != nil {
		t.Fatal(err)
	}
	if r.totals != nil || r.txids != nil || r.outputs != nil {
		t.Error("an iterator left open after close")
	}
}
