package pebble

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var _ store.ClusterStamps = (*DB)(nil)

// metaClusterStampPrefix keys a chain's clustering stamp
// (store.ClusterStamps): 8 bytes, replaced by every clustering write.
var metaClusterStampPrefix = []byte("mclusterstamp/")

// metaClusterStampKey is the key of chain c's clustering stamp.
func metaClusterStampKey(c chainCode) []byte {
	return append(append([]byte(nil), metaClusterStampPrefix...), byte(c>>8), byte(c))
}

// newClusterStamp returns a fresh stamp: random, never 0 (2⁻⁶⁴ odds of
// giving one given before).
func newClusterStamp() []byte {
	s := rand.Uint64()
	for s == 0 {
		s = rand.Uint64()
	}
	return binary.BigEndian.AppendUint64(nil, s)
}

// stampClusters adds a fresh stamp of chain c's clustering to a
// clustering write, after its other keys: 'm' sorts after every cluster
// key ('c'), so it is last in key order, as a table sink needs.
func stampClusters(b kvSink, c chainCode) error {
	return b.Set(metaClusterStampKey(c), newClusterStamp(), nil)
}

// ClusterStamp implements store.ClusterStamps. A chain nothing was stored
// for, or never clustered by a build that stamps, has stamp 0.
func (d *DB) ClusterStamp(ctx context.Context, chain heistgraph.Chain) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	c, ok, err := d.code(chain)
	if err != nil || !ok {
		return 0, err
	}
	v, found, err := lookup(d.db, metaClusterStampKey(c), nil)
	if err != nil {
		return 0, fmt.Errorf("cluster stamp of %s: %w", chain, err)
	}
	if !found {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("cluster stamp of %s: %w", chain, errCorrupt)
	}
	return binary.BigEndian.Uint64(v), nil
}
