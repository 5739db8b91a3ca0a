package pebble

import (
	"fmt"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

// eventTxs derives what an event record leaves out (codec.go): the event's
// tx from its block's record, and the event's block. It keeps the last block it read, so
// an address's events (in chain order) read each block once; with a byte
// budget (cache > 0) it also keeps earlier blocks' txids, for Digest, which
// visits heights out of order.
type eventTxs struct {
	r pebbledb.Reader
	c chainCode

	ref   heistgraph.BlockRef // the block at ref.Height, when height is set
	set   bool
	txids []byte // its txids, 32 bytes each

	cache            map[int64]cachedBlock
	cached, cacheCap int // bytes of txids kept, and the budget

	key []byte
}

type cachedBlock struct {
	ref   heistgraph.BlockRef
	txids []byte
}

// newEventTxs reads from r; cacheBytes > 0 keeps up to that many bytes of
// blocks' txids.
func newEventTxs(r pebbledb.Reader, c chainCode, cacheBytes int) *eventTxs {
	e := &eventTxs{r: r, c: c, cacheCap: cacheBytes}
	if cacheBytes > 0 {
		e.cache = map[int64]cachedBlock{}
	}
	return e
}

// block makes the block at height the current one.
func (e *eventTxs) block(height int64) error {
	if e.set && e.ref.Height == height {
		return nil
	}
	if b, ok := e.cache[height]; ok {
		e.ref, e.txids, e.set = b.ref, b.txids, true
		return nil
	}
	hr, found, err := heightAt(e.r, e.c, height)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("event at height %d: no block stored there: %w", height, errCorrupt)
	}
	e.key = appendBlockKey(e.key[:0], e.c, hr.Hash)
	v, closer, err := e.r.Get(e.key)
	if err != nil {
		return fmt.Errorf("block %s at height %d: %w", hr.Hash, height, err)
	}
	txids, err := blockRecordTxIDs(v)
	if err == nil {
		txids = append(e.txids[:0:0], txids...)
	}
	if cerr := closer.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("block %s at height %d: %w", hr.Hash, height, err)
	}
	e.ref = heistgraph.BlockRef{Hash: hr.Hash, Height: height, Time: hr.Time}
	e.txids, e.set = txids, true
	if e.cache != nil {
		if e.cached += len(txids) + 64; e.cached > e.cacheCap {
			clear(e.cache) // full: start again
			e.cached = len(txids) + 64
		}
		e.cache[height] = cachedBlock{ref: e.ref, txids: txids}
	}
	return nil
}

// event decodes the event record v at position pos, with its block.
func (e *eventTxs) event(v []byte, pos eventPos) (heistgraph.AddressEvent, error) {
	op, amount, err := decodeEvent(v, pos.Kind)
	if err != nil {
		return heistgraph.AddressEvent{}, err
	}
	if err := e.block(pos.Height); err != nil {
		return heistgraph.AddressEvent{}, err
	}
	if uint64(pos.TxIndex) >= uint64(len(e.txids)/32) {
		return heistgraph.AddressEvent{}, fmt.Errorf("event at %d:%d: the block has %d txs: %w", pos.Height, pos.TxIndex, len(e.txids)/32, errCorrupt)
	}
	ev := heistgraph.AddressEvent{Kind: pos.Kind, Index: pos.Index, Outpoint: op, Amount: amount, Block: e.ref}
	copy(ev.TxID[:], e.txids[32*int(pos.TxIndex):])
	if pos.Kind != heistgraph.Spent {
		ev.Outpoint = heistgraph.Outpoint{TxID: ev.TxID, Vout: pos.Index}
	}
	return ev, nil
}
