package store

import (
	"context"
	"iter"

	"github.com/heistgraph/heistgraph"
)

// Clusters persists address clustering per UTXO chain (package cluster
// computes it): the dense address ids, the cluster of every address and the
// size of every cluster, the evidence of every union, analysts' overrides,
// and the blocks processed, so that clustering resumes where it stopped and
// can be rewound to a fork.
//
// Address ids are given out by the caller in order (heistgraph.ClusterBlock
// documents them), from 1; cluster ids are address ids. Evidence is keyed
// by (height, tx index, n): writing evidence at a stored key replaces it.
//
// All methods are safe for concurrent use; writes are serialised by the
// caller (one clustering run per chain at a time). Returned values are the
// caller's. A chain that was never clustered has no tip (ErrNotFound) and
// no addresses; reads of unknown addresses, ids and clusters wrap
// heistgraph.ErrNotFound. When ctx is cancelled a scan ends with an error
// wrapping ctx.Err().
type Clusters interface {
	// ClusterTip returns the last block clustered on chain and the state of
	// the clustering. It wraps ErrNotFound when nothing was clustered.
	ClusterTip(ctx context.Context, chain heistgraph.Chain) (ClusterTip, error)
	// ClusterBlock returns the clustered block at height, or an error
	// wrapping ErrNotFound.
	ClusterBlock(ctx context.Context, chain heistgraph.Chain, height int64) (heistgraph.ClusterBlock, error)
	// WriteClusters applies b in one atomic batch. A batch with a block
	// must be for a height above the tip's (heights without a stored block
	// are skipped) and its FirstAddr must be the tip's NextAddr; otherwise
	// it wraps ErrConflict. Malformed batches
	// (a member or size of cluster 0, an address id not given out, an empty
	// new address) wrap ErrInvalid; nothing is written then.
	WriteClusters(ctx context.Context, chain heistgraph.Chain, b *ClusterBatch) error
	// RewindClusters removes what the clustered blocks above height added
	// (their block records, evidence and addresses, and the memberships of
	// those addresses) in one atomic batch, removes every cluster size,
	// and sets NeedsRebuild, since the memberships of older addresses may
	// depend on the removed evidence: the caller recomputes memberships
	// and sizes from the remaining evidence and writes them with a batch
	// that has Rebuilt set. Height -1 removes every block.
	// Overrides are kept. Rewinding to a height at or above the tip does
	// nothing.
	RewindClusters(ctx context.Context, chain heistgraph.Chain, height int64) error
	// AddressCluster returns the id of addr and of its cluster.
	AddressCluster(ctx context.Context, chain heistgraph.Chain, addr string) (ClusterMember, error)
	// ClusterAddress returns the address with id id.
	ClusterAddress(ctx context.Context, chain heistgraph.Chain, id uint64) (string, error)
	// ClusterSize returns the number of addresses in cluster id.
	ClusterSize(ctx context.Context, chain heistgraph.Chain, id uint64) (int64, error)
	// Memberships yields every address of chain with its id and cluster, in
	// id order. It streams.
	Memberships(ctx context.Context, chain heistgraph.Chain) iter.Seq2[ClusterMember, error]
	// Evidence yields evidence in key order (height, tx index, n): all of
	// chain's when q.Addr is 0, otherwise the evidence naming address id
	// q.Addr; from q.FromHeight on. It streams.
	Evidence(ctx context.Context, chain heistgraph.Chain, q EvidenceQuery) iter.Seq2[heistgraph.ClusterEvidence, error]
	// Overrides yields chain's overrides in order (Seq).
	Overrides(ctx context.Context, chain heistgraph.Chain) iter.Seq2[heistgraph.ClusterOverride, error]
	// ClusterPending returns the snapshot of pending work the clustering
	// last stored (ClusterBatch.Pending), or an error wrapping ErrNotFound
	// when there is none. The bytes are the caller's encoding.
	ClusterPending(ctx context.Context, chain heistgraph.Chain) ([]byte, error)
}

// ClusterTip is the state of a chain's clustering.
type ClusterTip struct {
	Block heistgraph.ClusterBlock // the last block clustered
	// NextAddr is the next address id to give out.
	NextAddr uint64
	// NextOverride is the next override sequence number.
	NextOverride uint64
	// NeedsRebuild is set by RewindClusters (and by a batch that sets
	// it): memberships must be recomputed from the evidence.
	NeedsRebuild bool
}

// ClusterMember is an address with its id and its cluster's id.
type ClusterMember struct {
	AddrID    uint64
	ClusterID uint64
	Address   string // filled by Memberships and AddressCluster
}

// ClusterSize is the size of a cluster; 0 removes the cluster's record.
type ClusterSize struct {
	ClusterID uint64
	Size      int64
}

// EvidenceQuery selects evidence.
type EvidenceQuery struct {
	Addr       uint64 // 0: every address
	FromHeight int64
}

// ClusterBatch is one atomic step of clustering: a block processed, a
// rebuild, or an analyst's override.
type ClusterBatch struct {
	// Block, when set, is the block this batch clusters; it becomes the
	// tip.
	Block *heistgraph.ClusterBlock
	// NewAddresses are given the ids NextAddr, NextAddr+1, ... in order.
	NewAddresses []string
	// NewAddressIDs, when not nil, holds for each of NewAddresses, index
	// by index, the store's own id of the address (BlockRecords.AddrIDs)
	// as the block records the caller clustered named it; 0 (or past its
	// end) where none did. It changes nothing the store reads back: a
	// store that names addresses by dense ids may use it to skip looking
	// up which new addresses keep their own id (store/pebble,
	// clusteraddr.go). A wrong id makes such a store's clustering name the
	// wrong address: give only ids read from the store's records.
	NewAddressIDs []uint64
	// Members sets the cluster of addresses (new or old).
	Members []ClusterMember
	// Sizes sets cluster sizes; a size of 0 removes the cluster.
	Sizes []ClusterSize
	// Evidence is stored (replacing evidence at the same key).
	Evidence []heistgraph.ClusterEvidence
	// Overrides are stored; their Seq must be NextOverride, NextOverride+1,
	// ... in order.
	Overrides []heistgraph.ClusterOverride
	// Rebuilt clears NeedsRebuild; NeedsRebuild sets it.
	Rebuilt, NeedsRebuild bool
	// Pending, when not nil, replaces the snapshot ClusterPending returns
	// (the change candidates waiting for spenders, in package cluster's
	// encoding). RewindClusters removes it.
	Pending []byte
}

// ClusterRuns is an optional role of a store's Clusters: clustering's
// per-block batches gathered into large atomic writes (a key-sorted batch
// that a store can write without inserting each key into its write
// buffer). Package cluster uses it when the store has it and falls back to
// WriteClusters per block.
type ClusterRuns interface {
	// ClusterRun starts a run of chain's clustering batches at the
	// clustering's stored state. One run per chain at a time.
	ClusterRun(ctx context.Context, chain heistgraph.Chain) (ClusterRun, error)
}

// ClusterRun is a run of clustering batches (ClusterRuns). Nothing added is
// stored, nor seen by the store's reads, before a commit; a batch that
// WriteClusters would refuse is refused by Add with the same error and
// nothing of it added.
type ClusterRun interface {
	// Add validates b against the state of the batches added before and
	// adds it (b is the caller's again when Add returns). When the run has
	// grown past the store's bound it commits everything added, in one
	// atomic batch, and reports committed.
	Add(ctx context.Context, b *ClusterBatch) (committed bool, err error)
	// Commit stores what was added since the last commit in one atomic
	// batch. When the chain's clustering was changed by another writer
	// since the run began (or last committed) it wraps ErrConflict and
	// stores nothing.
	Commit(ctx context.Context) error
	// Pending is the number of batches added and not committed.
	Pending() int
}

// ClusterStamps is an optional role of a store's Clusters: a stamp of a
// chain's clustering that every write of it (WriteClusters, a ClusterRun's
// commit, RewindClusters) replaces, in the same atomic batch, by a value
// not given before. A copy of the memberships read between two equal
// stamps is the clustering as it stood under that stamp, and stays current
// while the stamp does (txgraph keeps cluster ids beside the graph this
// way). Stamp 0 says no write was stamped yet (a store clustered by a
// build without stamps): nothing is known to be current then.
type ClusterStamps interface {
	ClusterStamp(ctx context.Context, chain heistgraph.Chain) (uint64, error)
}
