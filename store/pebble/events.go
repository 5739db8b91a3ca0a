package pebble

import (
	"fmt"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

// receivedTxIDs finds the txids of one address's outputs for its Spent
// events (codec.go, spentRef): from the Received events already read in
// chain order, else with a point lookup of the Received event, which is
// under the same address's key prefix.
type receivedTxIDs struct {
	r      pebbledb.Reader
	prefix []byte // the address's event key prefix
	seen   map[txPlace]heistgraph.Hash
	key    []byte
}

// txPlace is a tx's height and index in its block.
type txPlace struct {
	height int64
	index  uint32
}

// maxSeenTxIDs bounds the txids remembered per address read; past it the
// memory is dropped and later Spent events look their outputs up.
const maxSeenTxIDs = 1 << 16

func newReceivedTxIDs(r pebbledb.Reader, prefix []byte) *receivedTxIDs {
	return &receivedTxIDs{r: r, prefix: prefix, seen: map[txPlace]heistgraph.Hash{}}
}

// reset makes x find the txids of the address with event key prefix
// prefix, forgetting the last one's.
func (x *receivedTxIDs) reset(prefix []byte) {
	x.prefix = prefix
	clear(x.seen)
}

// note records the txid of a Received event read at p.
func (x *receivedTxIDs) note(p eventPos, txid heistgraph.Hash) {
	if len(x.seen) >= maxSeenTxIDs {
		clear(x.seen)
	}
	x.seen[txPlace{p.Height, p.TxIndex}] = txid
}

// resolve sets ev's outpoint txid from ref, or returns an error wrapping
// errCorrupt when the Received event is not stored.
func (x *receivedTxIDs) resolve(ev *heistgraph.AddressEvent, ref spentRef) error {
	if txid, ok := x.seen[txPlace{ref.Height, ref.TxIndex}]; ok {
		ev.Outpoint.TxID = txid
		return nil
	}
	x.key = appendEventPos(append(x.key[:0], x.prefix...), eventPos{Height: ref.Height, TxIndex: ref.TxIndex, Kind: heistgraph.Received, Index: ref.Vout})
	v, found, err := lookup(x.r, x.key, nil)
	if err != nil {
		return err
	}
	if !found || len(v) < 32 {
		return fmt.Errorf("spent output's received event at %d:%d:%d: %w", ref.Height, ref.TxIndex, ref.Vout, errCorrupt)
	}
	copy(ev.Outpoint.TxID[:], v)
	x.note(eventPos{Height: ref.Height, TxIndex: ref.TxIndex}, ev.Outpoint.TxID)
	return nil
}

// event decodes the event at key and value v under x's address: a Spent
// event's outpoint is resolved, a Received event noted.
func (x *receivedTxIDs) event(key, v []byte) (heistgraph.AddressEvent, eventPos, error) {
	pos, ok := decodeEventPos(key)
	if !ok || len(key) != len(x.prefix)+eventPosLen {
		return heistgraph.AddressEvent{}, pos, fmt.Errorf("event key: %w", errCorrupt)
	}
	ev, ref, err := decodeEvent(v, pos)
	if err != nil {
		return ev, pos, err
	}
	if pos.Kind == heistgraph.Spent {
		return ev, pos, x.resolve(&ev, ref)
	}
	x.note(pos, ev.TxID)
	return ev, pos, nil
}
