package pebble

import (
	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var _ store.ApplyFeeds = (*DB)(nil)

// FeedApplied implements store.ApplyFeeds.
func (d *DB) FeedApplied(chain heistgraph.Chain, f func(store.BlockRecords)) {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	if f == nil {
		delete(d.feeds, chain)
		return
	}
	if d.feeds == nil {
		d.feeds = map[heistgraph.Chain]func(store.BlockRecords){}
	}
	d.feeds[chain] = f
}

// feeder builds the records of the blocks of a run for a feed
// (store.ApplyFeeds) while the applier builds their writes: the block's
// own transactions and, for each input, the output it spends as the
// applier resolved it, which is what BlockRangeTxs reads back, and the
// address ids BlockRangeIDs would name them by (store.BlockRecords.AddrIDs).
type feeder struct {
	// on reports that the run's chain is fed.
	on bool
	// blocks are the run's fed blocks, handed to the feed once the run is
	// committed.
	blocks []store.BlockRecords
	// cur is the block being built; ok false once it cannot be fed.
	cur  store.BlockRecords
	ok   bool
	outs []heistgraph.TxOut
	ptrs []*heistgraph.TxOut
}

// startBlock starts the records of b, whose transactions are b.Txs.
func (f *feeder) startBlock(b *heistgraph.Block) {
	if !f.on {
		return
	}
	n, m := 0, 0
	for i := range b.Txs {
		n += len(b.Txs[i].Inputs)
		m += len(b.Txs[i].Outputs)
	}
	// One array of prevouts and one of pointers a block, cut per tx.
	f.outs, f.ptrs = make([]heistgraph.TxOut, 0, n), make([]*heistgraph.TxOut, 0, n)
	bi := heistgraph.BlockInfo{Chain: b.Chain, Hash: b.Hash, PrevHash: b.PrevHash, MerkleRoot: b.MerkleRoot,
		Height: b.Height, Time: b.Time, Version: b.Version, Bits: b.Bits, Nonce: b.Nonce, Size: b.Size,
		TxIDs: make([]heistgraph.Hash, len(b.Txs))}
	for i := range b.Txs {
		bi.TxIDs[i] = b.Txs[i].TxID
	}
	f.cur = store.BlockRecords{Block: bi, Txs: make([]heistgraph.TxRecord, len(b.Txs)), AddrIDs: make([]uint64, 0, n+m)}
	f.ok = true
}

// tx records the tx at index i of b, stored as rec, whose outputs have
// the address ids outIDs: the same record as newBlockTxRecord and
// resolveBlockTxInputs make of it. A collided tx (its txid stored already)
// or an unresolved input stops the block's feed.
func (f *feeder) tx(b *heistgraph.Block, i uint32, rec *txRecord, collided bool, outIDs []uint64) {
	if !f.on || !f.ok {
		return
	}
	if collided {
		f.ok = false
		return
	}
	tx := &b.Txs[i]
	base := len(f.ptrs)
	for j := range rec.Inputs {
		ir := &rec.Inputs[j]
		switch {
		case ir.Coinbase:
			f.ptrs = append(f.ptrs, nil)
			f.cur.AddrIDs = append(f.cur.AddrIDs, 0)
		case ir.Resolved:
			f.outs = append(f.outs, heistgraph.TxOut{Value: ir.Value, Type: ir.Type, Address: ir.Address})
			f.ptrs = append(f.ptrs, &f.outs[len(f.outs)-1])
			f.cur.AddrIDs = append(f.cur.AddrIDs, ir.AddrID)
		default:
			f.ok = false
			return
		}
	}
	f.cur.AddrIDs = append(f.cur.AddrIDs, outIDs...)
	f.cur.Txs[i] = heistgraph.TxRecord{
		Chain:    b.Chain,
		Tx:       *tx,
		Block:    heistgraph.BlockRef{Hash: b.Hash, Height: b.Height, Time: b.Time},
		Index:    int(i),
		Prevouts: f.ptrs[base:len(f.ptrs):len(f.ptrs)],
		Fee:      rec.Fee,
		FeeKnown: rec.FeeKnown,
	}
}

// endBlock adds the block built to the run's fed blocks when it can be
// fed.
func (f *feeder) endBlock() {
	if f.on && f.ok {
		f.blocks = append(f.blocks, f.cur)
	}
	f.cur, f.ok = store.BlockRecords{}, false
	f.outs, f.ptrs = nil, nil
}

// reset forgets the run's blocks; on says whether the next run is fed.
func (f *feeder) reset(on bool) {
	clear(f.blocks)
	f.blocks = f.blocks[:0]
	f.on = on
	f.cur, f.ok = store.BlockRecords{}, false
}
