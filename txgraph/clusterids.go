package txgraph

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"unsafe"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Cluster ids beside the graph: for every address id of a graph, the
// store's id of that address and of its cluster, so that resolving the
// entity of an address a trace reaches costs a lookup in the graph's
// address table and an array load instead of two Pebble reads
// (store.Clusters.AddressCluster). The file is written under the store's
// clustering stamp (store.ClusterStamps) and read only while the stamp,
// the graph's tip and its number of addresses are those it was written
// for: any write of the clustering (an update, an override, a rewind, a
// rebuild) makes it stale, and the store answers again until it is
// written anew (graph build, cluster update).
//
// Layout (little-endian): the 8-byte magic "HGCID\x00\x00\x01", the stamp
// uint64, the graph's tip height int64 and hash [32]byte, its number of
// addresses uint64, then per address id the store's address id and
// cluster id as uint32 each (0, 0: the clustering does not hold the
// address).
var cidMagic = [8]byte{'H', 'G', 'C', 'I', 'D', 0, 0, 1}

const cidHeader = 8 + 8 + 8 + 32 + 8

// ErrStale says a cluster-ids file is not for the graph and clustering at
// hand (or is absent): the store answers.
var ErrStale = errors.New("txgraph: cluster ids not current")

// ClusterIDsPath returns the file of chain's cluster ids under dir, beside
// its graph (Path).
func ClusterIDsPath(dir string, chain heistgraph.Chain) string {
	return filepath.Join(dir, string(chain)+".cid")
}

// WriteClusterIDs writes the cluster ids of g's addresses as st's
// clustering of g's chain holds them to path, unless the file there is
// current for them already, and reports whether the file is current:
// not when st has no stamps (store.ClusterStamps), the stamp is 0, the
// clustering changed while it was read (another stamp after the read), or
// an id does not fit 32 bits. A file it does not write is removed, so
// that none stale stays beside the graph.
func WriteClusterIDs(ctx context.Context, st store.Clusters, g *Graph, path string) (bool, error) {
	drop := func() (bool, error) {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return false, fmt.Errorf("txgraph: cluster ids: %w", err)
		}
		return false, nil
	}
	ss, ok := st.(store.ClusterStamps)
	if !ok {
		return drop()
	}
	chain := g.Chain()
	stamp, err := ss.ClusterStamp(ctx, chain)
	if err != nil {
		return false, fmt.Errorf("txgraph: cluster ids of %s: %w", chain, err)
	}
	if stamp == 0 {
		return drop()
	}
	if cur, err := OpenClusterIDs(path, g, stamp); err == nil {
		// Written for this clustering and graph already (a run that
		// clustered nothing new): nothing to read or write.
		return true, cur.Close()
	}
	ids := make([]uint32, 2*g.Addresses())
	for m, err := range st.Memberships(ctx, chain) {
		if err != nil {
			return false, fmt.Errorf("txgraph: cluster ids of %s: %w", chain, err)
		}
		a, ok := g.AddressID(m.Address)
		if !ok {
			continue
		}
		if m.AddrID == 0 || m.AddrID >= math.MaxUint32 || m.ClusterID == 0 || m.ClusterID >= math.MaxUint32 {
			return drop()
		}
		ids[2*a], ids[2*a+1] = uint32(m.AddrID), uint32(m.ClusterID)
	}
	if err := g.Err(); err != nil {
		return false, err // the address table is damaged: ids would be missing
	}
	if again, err := ss.ClusterStamp(ctx, chain); err != nil {
		return false, fmt.Errorf("txgraph: cluster ids of %s: %w", chain, err)
	} else if again != stamp {
		return drop()
	}
	tip := g.Tip()
	err = writeFile(path, func(_ *os.File, w *bufio.Writer) error {
		var h [cidHeader]byte
		copy(h[:8], cidMagic[:])
		binary.LittleEndian.PutUint64(h[8:], stamp)
		binary.LittleEndian.PutUint64(h[16:], uint64(tip.Height))
		copy(h[24:56], tip.Hash[:])
		binary.LittleEndian.PutUint64(h[56:], uint64(g.Addresses()))
		w.Write(h[:])
		var b [8]byte
		for i := 0; i < len(ids); i += 2 {
			binary.LittleEndian.PutUint32(b[:4], ids[i])
			binary.LittleEndian.PutUint32(b[4:], ids[i+1])
			w.Write(b[:])
		}
		return nil
	})
	return err == nil, err
}

// ClusterIDs are the cluster ids of a graph's addresses, read from a file
// WriteClusterIDs wrote (OpenClusterIDs). Valid until Close; the graph
// must stay open as long.
type ClusterIDs struct {
	g     *Graph
	ids   []uint32 // address id and cluster id per graph address id
	unmap func() error
}

// OpenClusterIDs maps the cluster ids at path for g when they were written
// for g's tip and number of addresses under the clustering stamp stamp;
// otherwise (also for a missing file or stamp 0) it returns an error
// wrapping ErrStale, or ErrFormat for a file that is not one.
func OpenClusterIDs(path string, g *Graph, stamp uint64) (*ClusterIDs, error) {
	if stamp == 0 {
		return nil, fmt.Errorf("txgraph: %s: no clustering stamp: %w", path, ErrStale)
	}
	b, unmap, err := mapFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("txgraph: %s: %w", path, ErrStale)
	}
	if err != nil {
		return nil, fmt.Errorf("txgraph: cluster ids: %w", err)
	}
	fail := func(err error) (*ClusterIDs, error) {
		unmap()
		return nil, err
	}
	if len(b) < cidHeader || [8]byte(b[:8]) != cidMagic {
		return fail(fmt.Errorf("txgraph: %s: not a cluster-ids file: %w", path, ErrFormat))
	}
	n := binary.LittleEndian.Uint64(b[56:])
	if n > uint64(len(b)-cidHeader)/8 || uint64(len(b)-cidHeader) != 8*n {
		return fail(fmt.Errorf("txgraph: %s: %d addresses in %d bytes: %w", path, n, len(b), ErrFormat))
	}
	tip := g.Tip()
	if binary.LittleEndian.Uint64(b[8:]) != stamp || int64(binary.LittleEndian.Uint64(b[16:])) != tip.Height ||
		[32]byte(b[24:56]) != [32]byte(tip.Hash) || n != uint64(g.Addresses()) {
		return fail(fmt.Errorf("txgraph: %s: written for another clustering or graph: %w", path, ErrStale))
	}
	c := &ClusterIDs{g: g, unmap: unmap}
	if n > 0 {
		c.ids = unsafe.Slice((*uint32)(unsafe.Pointer(&b[cidHeader])), 2*n)
	}
	return c, nil
}

// Close unmaps the file.
func (c *ClusterIDs) Close() error {
	if c.unmap == nil {
		return nil
	}
	err := c.unmap()
	c.unmap, c.ids = nil, nil
	return err
}

// Chain is the chain of the graph the ids are for.
func (c *ClusterIDs) Chain() heistgraph.Chain { return c.g.Chain() }

// Member returns addr's ids as the clustering held them when the file was
// written (Address is addr). held is false when the graph does not hold
// addr (ask the store); ok is false when the clustering does not (the
// store's AddressCluster wraps heistgraph.ErrNotFound then).
func (c *ClusterIDs) Member(addr string) (m store.ClusterMember, ok, held bool) {
	a, held := c.g.AddressID(addr)
	if !held {
		return store.ClusterMember{}, false, false
	}
	id, cl := c.ids[2*a], c.ids[2*a+1]
	if id == 0 {
		return store.ClusterMember{}, false, true
	}
	return store.ClusterMember{AddrID: uint64(id), ClusterID: uint64(cl), Address: addr}, true, true
}

// MemberByID is Member by the graph's address id a (below Addresses):
// the store's address id and cluster id, ok false when the clustering
// does not hold the address.
func (c *ClusterIDs) MemberByID(a uint32) (addrID, clusterID uint32, ok bool) {
	id, cl := c.ids[2*a], c.ids[2*a+1]
	return id, cl, id != 0
}
