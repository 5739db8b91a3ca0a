package cluster

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// The change candidates waiting for their outputs' spenders are saved at
// the end of a run (store.ClusterBatch.Pending), so that the next run
// starts from them instead of replaying the last Window blocks. A snapshot
// names the tip it was taken at and the change options it was made with;
// when either differs (a block was clustered since by a run that did not
// save, a rewind, other options) the run replays instead.

const pendingVersion = 1

// optionsPrint identifies the change options a snapshot depends on.
func optionsPrint(c *ChangeOptions) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%+v", *c)
	return h.Sum64()
}

func appendFP(dst []byte, f txFingerprint) []byte {
	b := byte(0)
	if f.lockUse {
		b |= 1
	}
	if f.rbf {
		b |= 2
	}
	return binary.AppendVarint(append(dst, b), int64(f.version))
}

// pendingSize is about the bytes a candidate takes in a snapshot (its txid,
// height and six ids, votes and three fingerprints), which encodePending
// reserves ahead.
const pendingSize = 32 + 4 + 6*4 + 3 + 3*3 + 2

// encodePending encodes the ring of waiting candidates.
func (e *engine) encodePending() []byte {
	dst := []byte{pendingVersion}
	dst = binary.AppendVarint(dst, e.tip.Block.Height)
	dst = append(dst, e.tip.Block.Hash[:]...)
	dst = binary.BigEndian.AppendUint64(dst, optionsPrint(&e.opts.Change))
	n := 0
	for range e.pending.waiting {
		n++
	}
	dst = slices.Grow(dst, n*pendingSize)
	dst = binary.AppendUvarint(dst, uint64(n))
	for c := range e.pending.waiting {
		dst = append(dst, c.txid[:]...)
		dst = binary.AppendVarint(dst, c.height)
		for _, v := range [...]uint32{c.txIndex, c.in, c.out[0], c.out[1], c.vout[0], c.vout[1]} {
			dst = binary.AppendUvarint(dst, uint64(v))
		}
		dst = append(dst, c.votes[0], c.votes[1], byte(c.optimal+1))
		dst = appendFP(dst, c.fp)
		for j := range 2 {
			flags := byte(0)
			if c.spent[j] {
				flags |= 1
			}
			if c.known[j] {
				flags |= 2
			}
			dst = appendFP(append(dst, flags), c.spender[j])
		}
	}
	return dst
}

// pendingReader decodes a snapshot.
type pendingReader struct {
	b   []byte
	bad bool
}

func (r *pendingReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *pendingReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *pendingReader) bytes(n int) []byte {
	if len(r.b) < n {
		r.bad, r.b = true, nil
		return make([]byte, n)
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *pendingReader) fp() txFingerprint {
	b := r.bytes(1)[0]
	return txFingerprint{lockUse: b&1 != 0, rbf: b&2 != 0, version: int32(r.varint())}
}

// loadPending restores the ring from the stored snapshot. It reports
// false when there is none or it does not fit the current tip and
// options.
func (e *engine) loadPending(ctx context.Context) (bool, error) {
	v, err := e.st.ClusterPending(ctx, e.chain)
	if errors.Is(err, heistgraph.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cluster %s: %w", e.chain, err)
	}
	r := &pendingReader{b: v}
	if r.bytes(1)[0] != pendingVersion {
		return false, nil
	}
	var hash heistgraph.Hash
	height := r.varint()
	copy(hash[:], r.bytes(32))
	opts := binary.BigEndian.Uint64(r.bytes(8))
	if r.bad || height != e.tip.Block.Height || hash != e.tip.Block.Hash || opts != optionsPrint(&e.opts.Change) {
		return false, nil
	}
	n := r.uvarint()
	ring := newRing()
	for i := uint64(0); i < n && !r.bad; i++ {
		c := &candidate{}
		copy(c.txid[:], r.bytes(32))
		c.height = r.varint()
		var u [6]uint32
		for k := range u {
			u[k] = uint32(r.uvarint())
		}
		c.txIndex, c.in, c.out[0], c.out[1], c.vout[0], c.vout[1] = u[0], u[1], u[2], u[3], u[4], u[5]
		vb := r.bytes(3)
		c.votes[0], c.votes[1], c.optimal = vb[0], vb[1], int8(vb[2])-1
		c.fp = r.fp()
		for j := range 2 {
			flags := r.bytes(1)[0]
			c.spent[j], c.known[j] = flags&1 != 0, flags&2 != 0
			c.spender[j] = r.fp()
		}
		ring.add(c)
	}
	if r.bad || len(r.b) != 0 {
		return false, nil // a broken snapshot: replay instead
	}
	e.pending = ring
	return true, nil
}

// savePending stores the ring for the next run.
func (e *engine) savePending(ctx context.Context) error {
	if e.acct != nil {
		return e.saveAccount(ctx)
	}
	if !e.opts.Change.enabled() || !e.opts.Change.fingerprints() || e.tip.Block.Height < 0 {
		return nil
	}
	if err := e.st.WriteClusters(ctx, e.chain, &store.ClusterBatch{Pending: e.encodePending()}); err != nil {
		return fmt.Errorf("cluster %s: save pending: %w", e.chain, err)
	}
	return nil
}
