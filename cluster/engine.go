package cluster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/pattern"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/txgraph"
)

// Store is what clustering reads and writes: chain data, labels (for the
// guards) and the clusters themselves.
type Store interface {
	store.ChainReader
	store.Labels
	store.Clusters
}

// Stats counts what an Update did.
type Stats struct {
	Chain  heistgraph.Chain
	Blocks int64 // blocks clustered
	Txs    int64
	Inputs int64
	// Rewound is the number of clustered blocks removed because the chain
	// was reorganised; Rebuilt reports a rebuild of the memberships from
	// the evidence (after a rewind or an override).
	Rewound int64
	Rebuilt bool
	// CoinJoins counts the CoinJoins by kind; Stonewalls the transactions
	// of the Stonewall shape. Neither gets common-input ownership.
	CoinJoins  map[string]int64
	Stonewalls int64
	// CommonInput counts common-input transactions that joined clusters;
	// Change the change merges, of which ChangeDeferred waited for the
	// fingerprint votes of the outputs' spenders.
	CommonInput    int64
	Change         int64
	ChangeDeferred int64
	// Refused (G2 and analysts' splits), Held (G4) and ServiceChange (G3:
	// change inference skipped) count the guards that fired.
	Refused       int64
	Held          int64
	ServiceChange int64
	// Dropped counts change unions undone by G5 (see
	// GuardOptions.SweepRoots); ChangeNotLeaf the change decisions not
	// applied because the change address was in a cluster of several
	// addresses already (G5: soft edges attach single addresses).
	Dropped       int64
	ChangeNotLeaf int64
	// Addresses and Clusters are the totals after the run; Largest is the
	// size of the largest cluster. TipHeight is the last block clustered.
	Addresses int64
	Clusters  int64
	Largest   int64
	TipHeight int64
	Elapsed   time.Duration
	// Account chains (methods.md §7): Transfers read; Deposits, the
	// deposit addresses joined to an exchange; DepositReuse, the senders
	// joined through a shared deposit address; SharedDeposits, deposit
	// addresses with too many senders to merge any; SelfAuth, owners
	// joined to the spender that used their approval; FundedBy, the gas
	// funding hints recorded.
	Transfers      int64
	Deposits       int64
	DepositReuse   int64
	SharedDeposits int64
	SelfAuth       int64
	FundedBy       int64
}

// labelRef is what the guards need of a label.
type labelRef struct {
	entity  string
	service bool
}

// engine is the state of one chain's clustering while a run lasts.
type engine struct {
	st    Store
	chain heistgraph.Chain
	opts  Options

	h hasher
	// ids finds the id of an address from its key; nil when the
	// addresses' identity is g's (see Options.Graph).
	ids *addrTable
	// g is the chain's transaction graph, when given: gid gives the id of
	// the graph's address a (0 while it has none), extra the ids of
	// addresses the graph does not hold (blocks added after it).
	g     *txgraph.Graph
	gid   *graphIDs
	extra map[string]uint32
	m     *members
	// svc and ents are the service entities and all labelled entities of
	// each cluster that has any (sorted, distinct). labelled has the bit
	// c%labelledBits set for every cluster c in ents (svc's are too), and
	// maybe others: the guards ask about every cluster a union touches,
	// and few carry labels.
	svc, ents map[uint32][]string
	labelled  [labelledBits / 64]uint64
	// unseen holds labels of addresses not clustered yet; unseenG has the
	// bit a%unseenBits set for every graph address a among them (and
	// maybe others), so that idsOfBlock gives most new addresses their id
	// without looking for their string in unseen.
	unseen  map[string][]labelRef
	unseenG [unseenBits / 64]uint64
	// split are the addresses analysts split off: automatic evidence
	// never joins them.
	split map[uint32]bool

	tip     store.ClusterTip
	pending *ring
	// replayed reports that the candidates were restored by replaying
	// blocks (no snapshot fitted), so the run saves one.
	replayed bool
	stats    Stats
	// bs is the block being clustered.
	bs blockState
	// acct is the state of an account chain's clustering (nil on UTXO
	// chains).
	acct *acctState
	// run gathers the blocks' batches into large writes while catchUp
	// lasts, when the store has the role (nil otherwise: a write per
	// block); runStart is when the run last committed.
	run      store.ClusterRun
	runStart time.Time
	// runEv is the evidence of the blocks the run holds and has not
	// written, in order; runByAddr indexes its first runIndexed records by
	// the addresses they name (runIndex brings it up to date when the G5
	// sweep reads them with the store's, softOnly: rarely, where every
	// record named its addresses in the map).
	runEv      []heistgraph.ClusterEvidence
	runByAddr  map[uint32][]int32
	runIndexed int
	// sweepBuf and sweepOut are sweep's buffers, reused; idChunk is what
	// addrIDs cuts the evidence's ids from.
	sweepBuf []uint64
	sweepOut []uint32
	idChunk  []uint64
	// sids finds address ids by the store's ids, when the store gives
	// them (storeids.go).
	sids *storeIDs
	// soft has the bit of every address that this engine made the change
	// output of a change union (tried, joined or not); softFrom is the
	// first id this engine gave out. Every evidence record naming an
	// address from softFrom on was made by this engine, so softOnly (the
	// G5 sweep) knows without reading evidence that such an address
	// without its bit was never a change union's output.
	soft     bitset
	softFrom uint32
	// feed, when not nil, holds the records of blocks applied since
	// (Engine.Follow).
	feed *Feed
	// types names the script types of txCols' codes, the graph's codes
	// first; nullType is OP_RETURN's.
	types    []heistgraph.ScriptType
	nullType uint8
	// numbered reports that every change candidate waiting that the
	// graph holds has its number (candidate.num). A candidate made from
	// the graph's transaction gets it when made; one made otherwise
	// (restored, replayed, from a block read from the store) unsets
	// numbered, and the graph's catch-up numbers the candidates before
	// its next block. The graph's catch-up looks for a candidate only
	// where an input's spent number may be one's (ring.mayNum).
	numbered bool
}

// graphNum returns the graph's number of txid plus one; 0 when the graph
// does not hold it.
func (e *engine) graphNum(txid *heistgraph.Hash) uint32 {
	if n, ok := e.g.ClusterTxNumber(*txid); ok {
		return n + 1
	}
	return 0
}

// ranOut forgets the evidence of the run's blocks: written, or dropped.
func (e *engine) ranOut() {
	e.runEv = e.runEv[:0]
	if e.runIndexed > 0 {
		clear(e.runByAddr)
	}
	e.runIndexed = 0
}

// runIndex returns runByAddr indexing every record of runEv.
func (e *engine) runIndex() map[uint32][]int32 {
	if e.runByAddr == nil {
		e.runByAddr = map[uint32][]int32{}
	}
	for ; e.runIndexed < len(e.runEv); e.runIndexed++ {
		i := int32(e.runIndexed)
		for _, id := range e.runEv[i].AddrIDs {
			e.runByAddr[uint32(id)] = append(e.runByAddr[uint32(id)], i)
		}
	}
	return e.runByAddr
}

// runCommitEvery bounds the time between a run's commits, so that an
// interrupted run loses at most that much work.
const runCommitEvery = time.Minute

// commitRun stores the blocks the run gathered: when a catch-up ends, and
// before a rebuild reads the store's evidence.
func (e *engine) commitRun(ctx context.Context) error {
	if e.run == nil || e.run.Pending() == 0 {
		return nil
	}
	e.runStart = time.Now()
	e.ranOut()
	if err := e.run.Commit(ctx); err != nil {
		return fmt.Errorf("cluster %s: write blocks up to %d: %w", e.chain, e.tip.Block.Height, err)
	}
	return nil
}

// blockState collects one block's changes, written as one batch.
type blockState struct {
	height int64
	first  uint32 // first address id of the block
	replay bool
	// seen[id-first] marks the addresses given out in this block that a
	// transaction of it used already (a fresh address is one given out in
	// the block and not seen before); not kept in a block whose ids
	// idsOfBlock gave (freshAt).
	seen     []bool
	newAddrs []string
	// newAddrIDs[i] is the store's id of newAddrs[i] when the block's
	// records named it by one (idOfStore), 0 otherwise (or past its end:
	// newAddrID).
	newAddrIDs []uint64
	// moved and sized record the membership changes, written with the
	// block: the addresses whose cluster changed (each is written with
	// its cluster at the block's end) and the clusters whose size changed.
	moved, sized idSet
	evidence     []heistgraph.ClusterEvidence
	// n is the next evidence number at the current transaction.
	n uint32
	// txNum is the graph's number of the current transaction plus one,
	// when the graph's catch-up gives it (0 otherwise).
	txNum uint32
	// rebuild asks for the memberships to be rebuilt from the evidence
	// once the block is written (evidence of earlier blocks was dropped).
	rebuild bool
	// ins and the slices after it are tx's buffers, reused (nothing
	// keeps them: evidence and candidates copy the ids); ct is joint's
	// record of a transaction read from the graph, cj its columns.
	ins           []uint32
	roots         []uint32 // join's clusters, reused
	inCol, outCol []uint32 // idsOfBlock's or idsOfRecords's ids of the block's inputs and outputs
	touch         []int32  // touchBlock's candidates, reused
	// keys are touchNew's keys of the outputs the engine does not know
	// by their store ids, keyAt the next to look at (keyOf); touched is
	// the sum of the slots it read.
	keys    []storeKey
	keyAt   int
	touched uint32
	// whole reports that idsOfBlock gave the block's ids; given[k] is
	// then the first id it gave out at transaction k (freshAt).
	whole             bool
	given             []uint32
	inSet             idSet
	inIDs, outIDs     []uint32
	inValue, outValue []int64
	inType, outType   []uint8
	values            []int64
	ct                txgraph.ClusterTx
	cj                pattern.Cols
	// members and sizeRecs are flush's buffers for the batch, reused (the
	// store copies what it writes before WriteClusters or Add returns).
	memberRecs []store.ClusterMember
	sizeRecs   []store.ClusterSize
}

// resize returns s with length n, reusing its array when it has room.
func resize[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

func (e *engine) key(addr string) addrKey { return e.h.key(addr) }

// lookup returns the id of addr; false when it has none.
func (e *engine) lookup(addr string) (uint32, bool) {
	if e.g == nil {
		id := e.ids.get(e.key(addr))
		return id, id != 0
	}
	if a, ok := e.g.AddressID(addr); ok {
		id := e.gid.get(a)
		return id, id != 0
	}
	id, ok := e.extra[addr]
	return id, ok
}

// remember records that addr has id.
func (e *engine) remember(addr string, id uint32) {
	if e.g == nil {
		e.ids.add(e.key(addr))
		return
	}
	if a, ok := e.g.AddressID(addr); ok {
		e.gid.set(a, id)
		return
	}
	e.extra[strings.Clone(addr)] = id
}

// Update clusters chain's blocks stored since the last run, up to the
// chain's tip, and returns what it did. It first checks that the blocks
// clustered are still the chain's (after a reorg it rewinds the
// clustering to the fork and rebuilds the memberships from the remaining
// evidence), and rebuilds when an override asks for it. Each block's
// batch is written atomically, alone or with the blocks before it in a
// run (store.ClusterRuns), so an interrupted run resumes after the last
// block written. Errors: opts invalid (heistgraph.ErrInvalid), the store's
// errors, ctx.Err() between blocks.
func Update(ctx context.Context, st Store, chain heistgraph.Chain, opts Options) (Stats, error) {
	start := time.Now()
	e, err := open(ctx, st, chain, opts)
	if err != nil {
		return Stats{}, err
	}
	if err := e.catchUp(ctx); err != nil {
		return e.finish(start), err
	}
	if e.stats.Blocks > 0 || e.replayed {
		if err := e.savePending(ctx); err != nil {
			return e.finish(start), err
		}
	}
	return e.finish(start), nil
}

// Recluster clusters chain again from its first stored block: the
// clustering's evidence and memberships are removed (overrides are kept)
// and Update runs. Heuristics that read labels (EVM deposit-address reuse
// needs the exchanges' hot wallets) see the labels as they are now, where
// Update only applies them to the blocks it has not clustered yet.
func Recluster(ctx context.Context, st Store, chain heistgraph.Chain, opts Options) (Stats, error) {
	if err := st.RewindClusters(ctx, chain, -1); err != nil {
		return Stats{}, fmt.Errorf("cluster %s: %w", chain, err)
	}
	return Update(ctx, st, chain, opts)
}

// Engine keeps one chain's clustering state in memory between updates, for
// a process that follows a chain block by block (ingest --follow): Update
// then costs only the new blocks, where the package-level Update loads the
// whole state first. It assumes it is the only writer of the chain's
// clustering while it lives (overrides given and labels imported by
// another process are seen after Reload). It is not safe for concurrent
// use.
type Engine struct {
	st    Store
	chain heistgraph.Chain
	opts  Options
	e     *engine
	feed  *Feed
}

// Open loads chain's clustering state (as Update does before clustering).
func Open(ctx context.Context, st Store, chain heistgraph.Chain, opts Options) (*Engine, error) {
	e, err := open(ctx, st, chain, opts)
	if err != nil {
		return nil, err
	}
	return &Engine{st: st, chain: chain, opts: e.opts, e: e}, nil
}

// Update clusters the blocks stored since the last update. When the chain
// was reorganised under the clustering it reloads the state first (which
// rewinds and rebuilds, as Update does). Stats count this update only.
func (x *Engine) Update(ctx context.Context) (Stats, error) {
	start := time.Now()
	e := x.e
	e.stats = Stats{CoinJoins: map[string]int64{}}
	if h := e.tip.Block.Height; h >= 0 {
		hash, err := e.blockHash(ctx, h)
		if err != nil && !errors.Is(err, heistgraph.ErrNotFound) {
			return Stats{}, fmt.Errorf("cluster %s: %w", x.chain, err)
		}
		if err != nil || hash != e.tip.Block.Hash {
			if err := x.Reload(ctx); err != nil {
				return Stats{}, err
			}
			e = x.e
		}
	}
	err := e.catchUp(ctx)
	return e.finish(start), err
}

// Save stores the change candidates waiting for their spenders, so that
// the next run (or Open) starts from them instead of replaying the last
// Window blocks. Call it when done following; Update does not save.
func (x *Engine) Save(ctx context.Context) error { return x.e.savePending(ctx) }

// Reload loads the state again from the store (after a reorg, or to see
// overrides given by another process).
func (x *Engine) Reload(ctx context.Context) error {
	e, err := open(ctx, x.st, x.chain, x.opts)
	if err != nil {
		return err
	}
	e.feed = x.feed
	x.e = e
	return nil
}

func (e *engine) finish(start time.Time) Stats {
	s := e.stats
	s.Chain = e.chain
	s.Addresses = int64(e.m.len() - 1)
	var largest uint32
	s.Clusters, largest = e.m.count()
	s.Largest = int64(largest)
	s.TipHeight = e.tip.Block.Height
	s.Elapsed = time.Since(start)
	return s
}

// open loads the clustering state of chain: it rewinds clustered blocks
// that are no longer on the chain, loads the address ids and memberships,
// rebuilds them from the evidence when needed, loads labels and
// overrides, and replays the last Window blocks to restore the change
// candidates that wait for their outputs' spenders.
func open(ctx context.Context, st Store, chain heistgraph.Chain, opts Options) (*engine, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	e := &engine{st: st, chain: chain, opts: opts, h: newHasher(),
		svc: map[uint32][]string{}, ents: map[uint32][]string{},
		unseen: map[string][]labelRef{}, split: map[uint32]bool{}, pending: newRing(),
		stats: Stats{CoinJoins: map[string]int64{}}}
	if !chain.IsUTXO() {
		acct, ok := st.(store.AccountReader)
		if !ok {
			return nil, fmt.Errorf("cluster %s: the store keeps no account chains: %w", chain, heistgraph.ErrInvalid)
		}
		e.acct = newAcctState(acct)
	}
	if g := opts.Graph; g != nil && chain.IsUTXO() && g.Chain() == chain {
		e.g, e.extra = g, map[string]uint32{}
		e.types = slices.Clone(g.ScriptTypes())
	}
	e.nullType = e.typeCode(heistgraph.ScriptNullData)
	e.tip = store.ClusterTip{Block: heistgraph.ClusterBlock{Height: -1}, NextAddr: 1, NextOverride: 1}
	tip, err := st.ClusterTip(ctx, chain)
	switch {
	case err == nil:
		e.tip = tip
		if err := e.checkFork(ctx); err != nil {
			return nil, err
		}
	case !errors.Is(err, heistgraph.ErrNotFound):
		return nil, fmt.Errorf("cluster %s: %w", chain, err)
	}
	if err := e.loadMembers(ctx); err != nil {
		return nil, err
	}
	if e.tip.NeedsRebuild {
		if err := e.rebuild(ctx); err != nil {
			return nil, err
		}
	} else if err := e.loadSplits(ctx); err != nil {
		return nil, err
	}
	if err := e.loadLabels(ctx); err != nil {
		return nil, err
	}
	if e.acct != nil {
		return e, e.openAccount(ctx)
	}
	if ok, err := e.loadPending(ctx); err != nil {
		return nil, err
	} else if !ok {
		if err := e.replay(ctx); err != nil {
			return nil, err
		}
		e.replayed = true
	}
	return e, nil
}

// checkFork rewinds the clustering to the highest clustered block that is
// still the chain's block at its height.
func (e *engine) checkFork(ctx context.Context) error {
	h := e.tip.Block.Height
	if h < 0 {
		return nil
	}
	fork := h
	for ; fork >= 0; fork-- {
		if err := ctx.Err(); err != nil {
			return err
		}
		cb, err := e.st.ClusterBlock(ctx, e.chain, fork)
		if errors.Is(err, heistgraph.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("cluster %s: %w", e.chain, err)
		}
		hash, err := e.blockHash(ctx, fork)
		if err == nil && hash == cb.Hash {
			break
		}
		if err != nil && !errors.Is(err, heistgraph.ErrNotFound) {
			return fmt.Errorf("cluster %s: %w", e.chain, err)
		}
	}
	if fork == h {
		return nil
	}
	e.opts.Logger.Info("cluster: the chain changed under the clustering; rewinding", "chain", e.chain, "from", h, "to", fork)
	if err := e.st.RewindClusters(ctx, e.chain, fork); err != nil {
		return fmt.Errorf("cluster %s: rewind to %d: %w", e.chain, fork, err)
	}
	e.stats.Rewound = h - fork
	tip, err := e.st.ClusterTip(ctx, e.chain)
	if err != nil {
		return fmt.Errorf("cluster %s: %w", e.chain, err)
	}
	e.tip = tip
	return nil
}

// loadMembers reads every address id and membership.
func (e *engine) loadMembers(ctx context.Context) error {
	n := int(e.tip.NextAddr)
	if e.g != nil {
		// Every address of the graph gets an id once its blocks are
		// clustered: the arrays are allocated once.
		n = max(n, e.g.Addresses())
	}
	var err error
	if e.m, err = newMembers(n, e.opts.SpillDir); err != nil {
		return err
	}
	e.sids = newStoreIDs(e.opts.SpillDir)
	if e.g != nil {
		e.gid = newGraphIDs(e.g.Addresses())
		clear(e.extra)
	} else if e.ids, err = newAddrTable(int(e.tip.NextAddr), e.opts.SpillDir); err != nil {
		return err
	}
	for mb, err := range e.st.Memberships(ctx, e.chain) {
		if err != nil {
			return fmt.Errorf("cluster %s: load: %w", e.chain, err)
		}
		if err := e.reserve(1); err != nil { // more rows than the tip's count: the check below fails
			return err
		}
		id := e.m.add()
		if uint64(id) != mb.AddrID || mb.ClusterID > mb.AddrID || mb.ClusterID == 0 {
			return fmt.Errorf("cluster %s: load: address %d in cluster %d at position %d: %w", e.chain, mb.AddrID, mb.ClusterID, id, heistgraph.ErrConflict)
		}
		e.m.assign(id, uint32(mb.ClusterID))
		e.remember(mb.Address, id)
	}
	if uint64(e.m.len()) != e.tip.NextAddr {
		return fmt.Errorf("cluster %s: load: %d addresses, the next id is %d: %w", e.chain, e.m.len()-1, e.tip.NextAddr, heistgraph.ErrConflict)
	}
	e.m.setRings()
	e.soft, e.softFrom = e.soft[:0], e.m.nextID()
	return nil
}

// loadLabels reads the chain's labels into the clusters' entity sets.
func (e *engine) loadLabels(ctx context.Context) error {
	clear(e.svc)
	clear(e.ents)
	clear(e.labelled[:])
	clear(e.unseen)
	clear(e.unseenG[:])
	for l, err := range e.st.Labels(ctx, store.LabelQuery{Chain: e.chain}) {
		if err != nil {
			return fmt.Errorf("cluster %s: labels: %w", e.chain, err)
		}
		if l.Entity == "" {
			continue
		}
		ref := labelRef{entity: l.Entity, service: e.opts.Guards.isService(l.Category)}
		if id, ok := e.lookup(l.Address); ok {
			e.attach(e.m.of(id), ref)
		} else {
			e.unseen[l.Address] = append(e.unseen[l.Address], ref)
			if e.g != nil {
				if a, ok := e.g.AddressID(l.Address); ok {
					e.unseenG[a/64%uint32(len(e.unseenG))] |= 1 << (a % 64)
				}
			}
		}
	}
	return nil
}

// unseenBits is the size of engine.unseenG: 8 KiB of bits.
const unseenBits = 1 << 16

// mayBeUnseen reports whether graph address a may have labels in unseen;
// false is certain.
func (e *engine) mayBeUnseen(a uint32) bool {
	return e.unseenG[a/64%uint32(len(e.unseenG))]&(1<<(a%64)) != 0
}

// attach adds a label's entity to cluster c's sets.
func (e *engine) attach(c uint32, ref labelRef) {
	e.markLabelled(c)
	e.ents[c] = insertSorted(e.ents[c], ref.entity)
	if ref.service {
		e.svc[c] = insertSorted(e.svc[c], ref.entity)
	}
}

// labelledBits is the size of engine.labelled: 8 KiB of bits.
const labelledBits = 1 << 16

// markLabelled records that cluster c may carry labels.
func (e *engine) markLabelled(c uint32) { e.labelled[c/64%uint32(len(e.labelled))] |= 1 << (c % 64) }

// mayBeLabelled reports whether cluster c may carry labels; false is
// certain.
func (e *engine) mayBeLabelled(c uint32) bool {
	return e.labelled[c/64%uint32(len(e.labelled))]&(1<<(c%64)) != 0
}

// svcOf returns the service entities of cluster c (sorted; not to be
// modified).
func (e *engine) svcOf(c uint32) []string {
	if !e.mayBeLabelled(c) {
		return nil
	}
	return e.svc[c]
}

// entsOf returns the entities of cluster c's labels (sorted; not to be
// modified).
func (e *engine) entsOf(c uint32) []string {
	if !e.mayBeLabelled(c) {
		return nil
	}
	return e.ents[c]
}

func insertSorted(s []string, v string) []string {
	i, found := slices.BinarySearch(s, v)
	if found {
		return s
	}
	return slices.Insert(s, i, v)
}

// union returns the sorted union of sorted sets a and b.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, v := range b {
		out = insertSorted(out, v)
	}
	return out
}

// loadSplits reads the addresses analysts split off.
func (e *engine) loadSplits(ctx context.Context) error {
	clear(e.split)
	for o, err := range e.st.Overrides(ctx, e.chain) {
		if err != nil {
			return fmt.Errorf("cluster %s: overrides: %w", e.chain, err)
		}
		if o.Kind != heistgraph.OverrideSplit {
			continue
		}
		for _, a := range o.Addresses {
			if id, ok := e.lookup(a); ok {
				e.split[id] = true
			}
		}
	}
	return nil
}

// replay re-reads the last Window clustered blocks to restore the change
// candidates still waiting for their outputs to be spent. Nothing is
// written: those blocks' decisions are stored already.
func (e *engine) replay(ctx context.Context) error {
	if !e.opts.Change.enabled() || !e.opts.Change.fingerprints() || e.tip.Block.Height < 0 {
		return nil
	}
	from := max(0, e.tip.Block.Height-e.opts.Change.Window)
	for h := from; h <= e.tip.Block.Height; h++ {
		cb, err := e.st.ClusterBlock(ctx, e.chain, h)
		if errors.Is(err, heistgraph.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("cluster %s: replay: %w", e.chain, err)
		}
		bi, err := e.st.BlockByHeight(ctx, e.chain, h)
		if err != nil {
			return fmt.Errorf("cluster %s: replay block %d: %w", e.chain, h, err)
		}
		if err := e.block(ctx, bi, uint32(cb.FirstAddr), true); err != nil {
			return err
		}
	}
	return nil
}

// catchUp clusters the chain's blocks above the clustering's tip. On a
// UTXO chain, when the store gathers batches in runs (store.ClusterRuns),
// the blocks are written in runs, all of them before it returns without
// error; when ctx is cancelled the blocks clustered so far are written
// before ctx's error is returned; after another error, blocks clustered but
// not written are clustered again by the next run.
func (e *engine) catchUp(ctx context.Context) error {
	if rs, ok := e.st.(store.ClusterRuns); ok && e.acct == nil {
		run, err := rs.ClusterRun(ctx, e.chain)
		if err != nil {
			return fmt.Errorf("cluster %s: %w", e.chain, err)
		}
		e.run, e.runStart = run, time.Now()
		defer func() { e.run = nil; e.ranOut() }()
		if err := e.catchUpBlocks(ctx); err != nil {
			if ctx.Err() != nil {
				// Interrupted (a SIGINT): keep the whole blocks clustered
				// so far, as writing a batch per block did.
				if cerr := e.commitRun(context.WithoutCancel(ctx)); cerr != nil {
					return errors.Join(err, cerr)
				}
			}
			return err
		}
		return e.commitRun(ctx)
	}
	return e.catchUpBlocks(ctx)
}

// catchUpBlocks is catchUp's loop over the blocks.
func (e *engine) catchUpBlocks(ctx context.Context) error {
	lo, hi, err := e.chainRange(ctx)
	if errors.Is(err, heistgraph.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cluster %s: %w", e.chain, err)
	}
	from := max(lo, e.tip.Block.Height+1)
	if e.g != nil && e.acct == nil {
		cur, err := e.g.Current(ctx, e.st)
		if err != nil {
			return fmt.Errorf("cluster %s: %w", e.chain, err)
		}
		if cur {
			return e.catchUpGraph(ctx, from, hi)
		}
	}
	if br, ok := e.st.(store.BlockRangeTxs); ok && e.acct == nil {
		if e.feed != nil {
			return e.catchUpFed(ctx, br, from, hi)
		}
		return e.catchUpRange(ctx, br, from, hi)
	}
	last := time.Now()
	for h := from; h <= hi; h++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		var hash heistgraph.Hash
		if e.acct != nil {
			hash, err = e.accountBlock(ctx, h, e.m.nextID(), false)
		} else {
			var bi heistgraph.BlockInfo
			if bi, err = e.st.BlockByHeight(ctx, e.chain, h); err == nil {
				hash, err = bi.Hash, e.block(ctx, bi, e.m.nextID(), false)
			}
		}
		if errors.Is(err, heistgraph.ErrNotFound) {
			continue // a gap: blocks stored without their parents
		}
		if err != nil {
			return fmt.Errorf("cluster %s: block %d: %w", e.chain, h, err)
		}
		if err := e.done(ctx, h, hi, hash, &last); err != nil {
			return err
		}
	}
	return nil
}

// catchUpRange is catchUp reading the blocks from..hi in bulk.
func (e *engine) catchUpRange(ctx context.Context, br store.BlockRangeTxs, from, hi int64) error {
	last := time.Now()
	blocks := br.BlockRangeTxs
	if bi, ok := br.(store.BlockRangeIDs); ok {
		blocks = bi.BlockRangeIDs
	}
	for b, err := range blocks(ctx, e.chain, from, hi) {
		if err != nil {
			return fmt.Errorf("cluster %s: %w", e.chain, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := e.blockRecords(ctx, &b, hi, &last); err != nil {
			return err
		}
	}
	return nil
}

// blockRecords clusters the block b of the catch-up to hi (read, or
// fed: its records hold the addresses' strings as well as their ids, but
// for spent outputs' it may leave out) and writes it.
func (e *engine) blockRecords(ctx context.Context, b *store.BlockRecords, hi int64, last *time.Time) error {
	h := b.Block.Height
	e.bs.start(h, e.m.nextID(), false)
	if b.AddrIDs != nil {
		if err := e.blockIDs(ctx, b); err != nil {
			return err
		}
		return e.done(ctx, h, hi, b.Block.Hash, last)
	}
	if err := e.txs(ctx, h, func(yield func(heistgraph.TxRecord, error) bool) {
		for _, rec := range b.Txs {
			if !yield(rec, nil) {
				return
			}
		}
	}); err != nil {
		return err
	}
	return e.done(ctx, h, hi, b.Block.Hash, last)
}

// catchUpGraph is catchUp reading the blocks from..hi from the graph
// (current: its blocks are the store's). A block or transaction the graph
// cannot answer is read from the store.
func (e *engine) catchUpGraph(ctx context.Context, from, hi int64) error {
	g := e.g
	last := time.Now()
	var nums []uint32
	// A block's transactions are read together, a column at a time
	// (ReadClusterCols), and clustered from the columns.
	var cols txgraph.ClusterCols
	var v txCols
	i := sort.Search(g.Blocks(), func(i int) bool { return g.Block(i).Height >= from })
	for ; i < g.Blocks(); i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		ref := g.Block(i)
		h := ref.Height
		if h > hi {
			break
		}
		var ok bool
		if nums, ok = g.BlockTxs(i, nums[:0]); !ok {
			bi, err := e.st.BlockByHeight(ctx, e.chain, h)
			if err == nil {
				err = e.block(ctx, bi, e.m.nextID(), false)
			}
			if err != nil {
				return fmt.Errorf("cluster %s: block %d: %w", e.chain, h, err)
			}
		} else {
			if !e.numbered {
				e.pending.number(e.graphNum)
				e.numbered = true
			}
			// The graph's reader finds candidates by number only.
			e.pending.numbersOnly()
			e.bs.start(h, e.m.nextID(), false)
			if err := g.ReadClusterCols(nums, &cols); err != nil {
				return fmt.Errorf("cluster %s: block %d: %w", e.chain, h, err)
			}
			// The block's addresses get their ids in one pass when the
			// graph answers for every transaction (nearly every block).
			whole := !slices.Contains(cols.Read, false)
			if whole {
				if err := e.idsOfBlock(&cols); err != nil {
					return fmt.Errorf("cluster %s: block %d: %w", e.chain, h, err)
				}
				e.touchBlock(&cols)
			}
			for k, n := range nums {
				if k&255 == 255 {
					if err := ctx.Err(); err != nil {
						return err
					}
				}
				var err error
				e.bs.txNum = n + 1
				if cols.Read[k] {
					if err = e.graphCols(&cols, k, n, &v, whole); err == nil {
						e.tx(ctx, &v, uint32(k))
					}
				} else {
					var rec heistgraph.TxRecord
					if rec, err = e.st.Tx(ctx, e.chain, g.TxID(n)); err == nil {
						err = e.txRecord(ctx, &rec, uint32(k))
					}
				}
				if err != nil {
					return fmt.Errorf("cluster %s: block %d tx %s: %w", e.chain, h, g.TxID(n), err)
				}
			}
			e.bs.txNum = 0
			e.pending.expire(h - e.opts.Change.Window)
		}
		if err := e.done(ctx, h, hi, ref.Hash, &last); err != nil {
			return err
		}
	}
	return nil
}

// done writes block h (of hi) with hash and reports progress, logging it
// when 5 seconds have passed since *last.
func (e *engine) done(ctx context.Context, h, hi int64, hash heistgraph.Hash, last *time.Time) error {
	if e.g != nil {
		// Damage a read of the graph met without an error result
		// (txgraph.Graph.Err): the block's clustering is not written.
		if err := e.g.Err(); err != nil {
			return fmt.Errorf("cluster %s: block %d: %w", e.chain, h, err)
		}
	}
	if err := e.flush(ctx, h, hash); err != nil {
		return err
	}
	if e.opts.Progress != nil {
		e.opts.Progress(h)
	}
	if now := time.Now(); now.Sub(*last) >= 5*time.Second {
		*last = now
		e.opts.Logger.Info("cluster progress", "chain", e.chain, "height", h, "of", hi,
			"addresses", e.m.len()-1, "inputs", e.stats.Inputs, "transfers", e.stats.Transfers)
	}
	return nil
}

// nextID returns the id the next new address gets.
func (m *members) nextID() uint32 { return uint32(len(m.c)) }

// block clusters (or, with replay, replays) the block bi whose first new
// address id is first.
func (e *engine) block(ctx context.Context, bi heistgraph.BlockInfo, first uint32, replay bool) error {
	e.bs.start(bi.Height, first, replay)
	if bt, ok := e.st.(store.BlockTxs); ok {
		return e.txs(ctx, bi.Height, bt.BlockTxs(ctx, e.chain, bi.Height))
	}
	return e.txs(ctx, bi.Height, func(yield func(heistgraph.TxRecord, error) bool) {
		for i, txid := range bi.TxIDs {
			if i&63 == 0 {
				if err := ctx.Err(); err != nil {
					yield(heistgraph.TxRecord{}, err)
					return
				}
			}
			rec, err := e.st.Tx(ctx, e.chain, txid)
			if err != nil {
				err = fmt.Errorf("tx %s: %w", txid, err)
			}
			if !yield(rec, err) || err != nil {
				return
			}
		}
	})
}

// txs clusters the transactions of the block at height (bs started), in
// block order, then expires the candidates that waited too long.
func (e *engine) txs(ctx context.Context, height int64, recs iter.Seq2[heistgraph.TxRecord, error]) error {
	i := 0
	for rec, err := range recs {
		if err != nil {
			return fmt.Errorf("cluster %s: block %d: %w", e.chain, height, err)
		}
		if err := e.txRecord(ctx, &rec, uint32(i)); err != nil {
			return fmt.Errorf("cluster %s: block %d tx %s: %w", e.chain, height, rec.Tx.TxID, err)
		}
		i++
	}
	e.pending.expire(height - e.opts.Change.Window)
	return nil
}

// start empties bs for the block at height whose first new address id is
// first.
func (bs *blockState) start(height int64, first uint32, replay bool) {
	bs.height, bs.first, bs.replay = height, first, replay
	bs.seen = bs.seen[:0]
	bs.moved.reset()
	bs.sized.reset()
	bs.newAddrs, bs.newAddrIDs = bs.newAddrs[:0], bs.newAddrIDs[:0]
	bs.evidence = bs.evidence[:0]
	bs.rebuild = false
	bs.txNum = 0
	bs.whole = false
}

// move records that address id is in cluster c now (m's cluster of id
// at the block's end is its last move's).
func (bs *blockState) move(id, _ uint32) { bs.moved.add(id) }

// members appends the block's membership changes to dst: each address
// whose cluster changed, with its cluster in m now, in no particular order
// (a store.ClusterBatch's members are keyed by address: the stores order
// them as they write them, pebble's run sorting a run's together).
func (bs *blockState) members(dst []store.ClusterMember, m *members) []store.ClusterMember {
	for _, id := range bs.moved.list {
		dst = append(dst, store.ClusterMember{AddrID: uint64(id), ClusterID: uint64(m.of(id))})
	}
	return dst
}

// bitset is a set of ids as bits; it grows as ids are added.
type bitset []uint64

// add adds id to the set.
func (b *bitset) add(id uint32) {
	w := int(id / 64)
	if w >= len(*b) {
		*b = slices.Grow(*b, w+1-len(*b))
		*b = (*b)[:cap(*b)]
	}
	(*b)[w] |= 1 << (id % 64)
}

// has reports whether id is in the set.
func (b bitset) has(id uint32) bool {
	w := int(id / 64)
	return w < len(b) && b[w]&(1<<(id%64)) != 0
}

// idSet is a set of ids, as a list in the order added and an
// open-addressing table of the ids (linear probing) sized to the list,
// not to the ids: a block's sets (the addresses moved, the clusters
// sized) and a transaction's hold hundreds or thousands of ids, far apart
// among a large chain's millions. A bit an id (a megabyte for 8M ids)
// put nearly every add on a cache miss; the table's few kilobytes stay in
// the caches. Adding an id it holds costs a probe (a block's merges name
// the same clusters and addresses many times).
type idSet struct {
	list []uint32
	// slots hold id+1 of the ids of list (0: empty), at least twice as
	// many slots as ids; each was placed after those before it in list.
	slots []uint64
}

// idHome returns the first slot of id in a table of n slots: a
// multiplicative hash of it scaled to the table.
func idHome(id uint32, n int) int { return int(uint64(id*0x9e3779b1) * uint64(n) >> 32) }

// add adds id to the set: a probe when the set holds it, one more slot
// written and an append when not.
func (s *idSet) add(id uint32) {
	if 2*(len(s.list)+1) > len(s.slots) {
		s.grow()
	}
	v, n := uint64(id)+1, len(s.slots)
	for i := idHome(id, n); ; {
		switch s.slots[i] {
		case v:
			return
		case 0:
			s.slots[i] = v
			s.list = append(s.list, id)
			return
		}
		if i++; i == n {
			i = 0
		}
	}
}

// has reports whether id is in the set.
func (s *idSet) has(id uint32) bool {
	n := len(s.slots)
	if n == 0 {
		return false
	}
	v := uint64(id) + 1
	for i := idHome(id, n); s.slots[i] != 0; {
		if s.slots[i] == v {
			return true
		}
		if i++; i == n {
			i = 0
		}
	}
	return false
}

// grow doubles the table (64 slots at first) and places the ids again, in
// list's order.
func (s *idSet) grow() {
	n := max(64, 2*len(s.slots))
	s.slots = make([]uint64, n)
	for _, id := range s.list {
		i := idHome(id, n)
		for s.slots[i] != 0 {
			if i++; i == n {
				i = 0
			}
		}
		s.slots[i] = uint64(id) + 1
	}
}

// reset empties the set. With few ids in a large table it empties their
// slots alone, each found by probing from its home (past slots emptied
// before it).
func (s *idSet) reset() {
	if len(s.list)*8 >= len(s.slots) {
		clear(s.slots)
		s.list = s.list[:0]
		return
	}
	n := len(s.slots)
	for _, id := range s.list {
		v := uint64(id) + 1
		i := idHome(id, n)
		for s.slots[i] != v {
			if i++; i == n {
				i = 0
			}
		}
		s.slots[i] = 0
	}
	s.list = s.list[:0]
}

// see records that a transaction of the block used address id (room
// made for it).
func (bs *blockState) see(id uint32) {
	if id >= bs.first { // older than the block: never fresh
		bs.seen[id-bs.first] = true
	}
}

// room makes seen long enough for every id below next+n (next the next
// id to give out, n the most that the transaction about to be clustered
// can give out), so that see never grows it.
func (bs *blockState) room(next uint32, n int) {
	if need := int(next-bs.first) + n; need > len(bs.seen) {
		// Grown by half at least: a block's transactions ask for a
		// little more each.
		old := len(bs.seen)
		need = max(need, old+old/2, 64)
		bs.seen = slices.Grow(bs.seen, need-old)[:need]
		clear(bs.seen[old:])
	}
}

// freshAt is fresh for the transaction at txIndex, which has not marked
// its addresses seen. In a block whose ids idsOfBlock gave (whole), they
// were given in the order the transactions meet them, and the seen marks
// are not kept: an address is fresh exactly when the transaction itself
// was given its id.
func (bs *blockState) freshAt(id, txIndex uint32) bool {
	if bs.whole {
		return id != 0 && id >= bs.given[txIndex]
	}
	return bs.fresh(id)
}

// fresh reports whether address id was given out in this block and no
// transaction of it used the address before.
func (bs *blockState) fresh(id uint32) bool {
	if id == 0 || id < bs.first {
		return false
	}
	i := int(id - bs.first)
	return i >= len(bs.seen) || !bs.seen[i]
}

// chainRange returns the lowest and highest stored heights of the chain;
// ErrNotFound when it holds none.
func (e *engine) chainRange(ctx context.Context) (int64, int64, error) {
	if e.acct != nil {
		r, err := e.acct.r.AccountStored(ctx, e.chain)
		return r.Lowest, r.Highest, err
	}
	tip, err := e.st.Tip(ctx, e.chain)
	return 0, tip.Height, err
}

// blockHash returns the hash of the chain's stored block at height, in
// the form clustered blocks keep it.
func (e *engine) blockHash(ctx context.Context, height int64) (heistgraph.Hash, error) {
	if e.acct != nil {
		b, err := e.acct.r.AccountBlockByHeight(ctx, e.chain, height)
		return heistgraph.Hash(b.Hash), err
	}
	if hs, ok := e.st.(blockHashes); ok {
		return hs.BlockHashAt(ctx, e.chain, height)
	}
	bi, err := e.st.BlockByHeight(ctx, e.chain, height)
	return bi.Hash, err
}

// blockHashes is a store that reads a block's hash without its record
// (pebble).
type blockHashes interface {
	BlockHashAt(ctx context.Context, chain heistgraph.Chain, height int64) (heistgraph.Hash, error)
}

// flush writes the block's batch and makes it the tip.
func (e *engine) flush(ctx context.Context, height int64, hash heistgraph.Hash) error {
	bs := &e.bs
	blk := heistgraph.ClusterBlock{Height: height, Hash: hash, FirstAddr: uint64(bs.first)}
	b := &store.ClusterBatch{Block: &blk, NewAddresses: bs.newAddrs, NewAddressIDs: bs.newAddrIDs, Evidence: bs.evidence, NeedsRebuild: bs.rebuild}
	b.Members = bs.members(bs.memberRecs[:0], e.m)
	bs.memberRecs = b.Members
	b.Sizes = bs.sizeRecs[:0]
	for _, c := range bs.sized.list { // in no particular order, as the members
		n := int64(e.m.sizeOf(c))
		if n < 2 {
			n = 0
		}
		b.Sizes = append(b.Sizes, store.ClusterSize{ClusterID: uint64(c), Size: n})
	}
	bs.sizeRecs = b.Sizes
	if e.run != nil {
		e.runEv = append(e.runEv, b.Evidence...)
		committed, err := e.run.Add(ctx, b)
		if err != nil {
			return fmt.Errorf("cluster %s: write block %d: %w", e.chain, height, err)
		}
		if committed {
			e.runStart = time.Now()
			e.ranOut()
		} else if time.Since(e.runStart) >= runCommitEvery {
			if err := e.commitRun(ctx); err != nil {
				return err
			}
		}
	} else if err := e.st.WriteClusters(ctx, e.chain, b); err != nil {
		return fmt.Errorf("cluster %s: write block %d: %w", e.chain, height, err)
	}
	e.tip.Block = blk
	e.tip.NextAddr = uint64(e.m.nextID())
	e.stats.Blocks++
	if bs.rebuild {
		if err := e.commitRun(ctx); err != nil {
			return err
		}
		// Evidence of this block was dropped (a shared deposit address):
		// memberships follow the remaining evidence.
		if err := e.rebuild(ctx); err != nil {
			return err
		}
		return e.loadLabels(ctx)
	}
	return nil
}

// reserve makes room for n more addresses in the spilled arrays (a full
// disk is an error here, not a fault when a page is first written): the
// most that the transaction or block about to be clustered can add.
func (e *engine) reserve(n int) error {
	if err := e.m.reserve(n); err != nil {
		return err
	}
	if e.ids != nil {
		return e.ids.reserve(n)
	}
	return nil
}

// idOf returns the id of addr, giving it one (as a new cluster) when it
// has none. While replaying, every address has one already; a missing one
// gets 0.
func (e *engine) idOf(addr string) uint32 {
	if e.g == nil {
		// The address table's key is hashed once, for the lookup and
		// the add.
		return e.idOfKey(e.key(addr), addr)
	}
	if id, ok := e.lookup(addr); ok {
		return id
	}
	if e.bs.replay {
		return 0
	}
	id := e.m.add()
	e.remember(addr, id)
	e.added(id, addr)
	return id
}

// idOfKey is idOf off the graph for addr, whose key is k.
func (e *engine) idOfKey(k addrKey, addr string) uint32 {
	if e.bs.replay {
		return e.ids.get(k)
	}
	id, added := e.ids.getOrAdd(k)
	if added {
		e.m.add()
		e.added(id, addr)
	}
	return id
}

// idsOfGraph sets ids[i] to the id of the graph's address gs[i], as idOf
// does for a string (NoAddress: none, id 0), in order. An address met
// before costs a comparison while the graph's ids are the engine's
// (graphIDs.get, inlined).
func (e *engine) idsOfGraph(gs, ids []uint32) {
	gid := e.gid
	ids = ids[:len(gs)]
	for i, a := range gs {
		id := gid.get(a)
		if id == 0 {
			id = e.newGraphID(a)
		}
		ids[i] = id
	}
}

// idsOfBlock sets bs.inCol and bs.outCol to the engine's ids of the
// addresses of c's inputs and outputs (c a block read whole: Read[k] true
// for every k), given in the order idsOfGraph gives them a transaction at
// a time (a transaction's inputs', then its outputs'), with room made for
// all of them at once (in the spilled arrays; the seen marks are not kept:
// freshAt). The graph numbers the addresses in the order they
// first appear as outputs, as the engine does: a new address is nearly
// always the graph's next (graphIDs.known), given its id here without a
// call.
func (e *engine) idsOfBlock(c *txgraph.ClusterCols) error {
	bs := &e.bs
	n := len(c.InAddr) + len(c.OutAddr)
	if err := e.reserve(n); err != nil {
		return err
	}
	ins, outs := resize(bs.inCol, len(c.InAddr)), resize(bs.outCol, len(c.OutAddr))
	bs.inCol, bs.outCol = ins, outs
	bs.whole, bs.given = true, resize(bs.given, len(c.InEnd))
	gid, m := e.gid, e.m
	// Graph addresses below known have the id a+1 (graphIDs.get without
	// its array; 0 once it has one). The new addresses given in the loop
	// are the graph's from fresh to known, consecutive: their strings are
	// appended together (AppendAddresses), before any other new address
	// is given (idOfGraph appends its own).
	known := gid.prefix()
	fresh := known
	var i0, o0 uint32
	for k, i1 := range c.InEnd {
		bs.given[k] = m.nextID()
		for i := i0; i < i1; i++ {
			a := c.InAddr[i]
			if a < known {
				ins[i] = a + 1
				continue
			}
			e.newStrings(fresh, known)
			ins[i] = e.idOfGraph(a)
			known = gid.prefix()
			fresh = known
		}
		o1 := c.OutEnd[k]
		for j := o0; j < o1; j++ {
			a := c.OutAddr[j]
			switch {
			case a < known:
				outs[j] = a + 1
			case a == known && gid.dense == nil && m.nextID() == a+1 && !e.mayBeUnseen(a) && !bs.replay:
				// The graph's next address (not NoAddress: known is
				// below it), as newGraphID gives it.
				outs[j] = m.add()
				gid.known++
				known++
			default:
				e.newStrings(fresh, known)
				outs[j] = e.idOfGraph(a)
				known = gid.prefix()
				fresh = known
			}
		}
		i0, o0 = i1, o1
	}
	e.newStrings(fresh, known)
	return nil
}

// touchBlock reads, before the block's transactions are clustered, what
// they will read at random: the candidates their inputs spend (spends;
// both ends of the fields a spend and the decision read), the cells of
// those candidates' addresses (decide), and the cells of the input
// addresses and of their clusters (join, sameCluster, a union's sizes and
// ring splice), each a loop of independent loads whose cache misses the
// processor overlaps, where the transactions meet them one at a time
// behind the work between. It
// changes nothing (the sum of what it read goes to bs.touched); c is a
// block idsOfBlock gave the ids of.
func (e *engine) touchBlock(c *txgraph.ClusterCols) {
	bs := &e.bs
	r := e.pending
	at := bs.touch[:0]
	for _, p := range c.Spent {
		if p != txgraph.NoTx && r.mayNum(p) {
			if i := r.findNum(p + 1); i >= 0 {
				at = append(at, number(r.byNum[i]))
			}
		}
	}
	bs.touch = at
	var sum uint32
	for _, i := range at {
		c := r.at(i)
		sum += c.vout[0] + c.out[1]
	}
	cells := e.m.c
	for _, i := range at {
		c := r.at(i)
		sum += cells[c.in].cid + cells[c.out[0]].cid + cells[c.out[1]].cid
	}
	// An address's cluster is min(cid, id) (members.of without its
	// branch): the cluster's own cell holds its size and ring link.
	for _, id := range bs.inCol {
		sum += cells[min(cells[id].cid, id)].next
	}
	bs.touched += sum
}

// newStrings appends the strings of the graph's addresses from to to-1,
// given their ids in order, to the block's new addresses.
func (e *engine) newStrings(from, to uint32) {
	if from < to {
		e.bs.newAddrs = e.g.AppendAddresses(e.bs.newAddrs, from, to)
	}
}

// idOfGraph returns the id of graph address a, giving it one when it has
// none (idsOfGraph for one address).
func (e *engine) idOfGraph(a uint32) uint32 {
	if id := e.gid.get(a); id != 0 {
		return id
	}
	return e.newGraphID(a)
}

// newGraphID is idsOfGraph for an address without an id yet.
func (e *engine) newGraphID(a uint32) uint32 {
	if a == txgraph.NoAddress || e.bs.replay {
		return 0
	}
	id := e.m.add()
	e.gid.set(a, id)
	// Not copied: the batch that writes it is built while the graph is
	// open (Options.Graph).
	e.added(id, e.g.Address(a))
	return id
}

// added records the new address addr with id: written with the block,
// and the labels waiting for it attached.
func (e *engine) added(id uint32, addr string) {
	e.bs.newAddrs = append(e.bs.newAddrs, addr)
	if len(e.unseen) == 0 {
		return
	}
	if refs, ok := e.unseen[addr]; ok {
		for _, r := range refs {
			e.attach(id, r)
		}
		delete(e.unseen, addr)
	}
}

// join puts the clusters of ids in one cluster, unless a guard refuses or
// holds the union, and records the evidence ev (its AddrIDs are set from
// ids) when record is true or the union joined anything. change marks a
// change union (G4's stricter bound). It returns the evidence status and
// whether clusters were joined.
func (e *engine) join(ctx context.Context, ids []uint32, ev heistgraph.ClusterEvidence, change, record bool) (heistgraph.EvidenceStatus, bool) {
	ev.AddrIDs = e.addrIDs(len(ids))
	for i, id := range ids {
		ev.AddrIDs[i] = uint64(id)
	}
	bs := &e.bs
	roots := bs.roots[:0]
	split := len(e.split) > 0
	if len(ids) > manyInputs {
		// As tx finds the distinct inputs: by a set above manyInputs
		// (a consolidation's hundreds of clusters).
		for _, id := range ids {
			if split && e.split[id] {
				continue
			}
			if c := e.m.of(id); !bs.inSet.has(c) {
				bs.inSet.add(c)
				roots = append(roots, c)
			}
		}
		bs.inSet.reset()
	} else {
		for _, id := range ids {
			if split && e.split[id] {
				continue
			}
			if c := e.m.of(id); !slices.Contains(roots, c) {
				roots = append(roots, c)
			}
		}
	}
	bs.roots = roots
	if !change && len(roots) >= 2 {
		roots = e.sweep(ctx, ids, roots)
	}
	status, reason := heistgraph.EvidenceApplied, ""
	if len(roots) >= 2 {
		status, reason = e.guard(roots, change)
	} else if split && len(ids) >= 2 && e.anySplit(ids) {
		status, reason = heistgraph.EvidenceRefused, "an address was split off by an analyst"
	}
	if reason != "" {
		ev.Reason = reason // a refusal's reason replaces the heuristic's explanation
	}
	joined := false
	switch status {
	case heistgraph.EvidenceApplied:
		if len(roots) >= 2 {
			joined = true
			if len(roots) == 2 { // most unions: ordered without a call
				roots[0], roots[1] = min(roots[0], roots[1]), max(roots[0], roots[1])
			} else {
				slices.Sort(roots)
			}
			for _, r := range roots[1:] {
				e.merge(roots[0], r)
			}
		}
	case heistgraph.EvidenceRefused:
		e.stats.Refused++
	case heistgraph.EvidenceHeld:
		e.stats.Held++
	}
	ev.Status = status
	if record || joined || status != heistgraph.EvidenceApplied {
		e.bs.evidence = append(e.bs.evidence, ev)
	}
	return status, joined
}

// addrIDs returns a slice of n ids for an evidence record, cut from a
// larger allocation (an allocation a few hundred records instead of one
// each); never reused, so a record keeps its ids for as long as it lives.
func (e *engine) addrIDs(n int) []uint64 {
	if len(e.idChunk)+n > cap(e.idChunk) {
		e.idChunk = make([]uint64, 0, max(idChunk, n))
	}
	k := len(e.idChunk)
	e.idChunk = e.idChunk[:k+n]
	return e.idChunk[k : k+n : k+n]
}

// idChunk is the number of ids addrIDs allocates at a time.
const idChunk = 2048

// isSplit reports whether analysts split address id off (a map lookup
// only when they split any).
func (e *engine) isSplit(id uint32) bool {
	return len(e.split) > 0 && e.split[id]
}

func (e *engine) anySplit(ids []uint32) bool {
	for _, id := range ids {
		if e.isSplit(id) {
			return true
		}
	}
	return false
}

// merge joins clusters a and b (ids), moving the entity sets along and
// recording the membership changes.
func (e *engine) merge(a, b uint32) uint32 {
	bs := &e.bs
	lostSize := e.m.sizeOf(max(a, b)) // the larger id is the one lost
	c := e.m.merge(a, b, &bs.moved)
	lost := a
	if c == a {
		lost = b
	}
	bs.sized.add(c)
	if lostSize >= 2 {
		// Its size is stored (or was changed in this block: in sized
		// already), and goes. A cluster of one has none stored (sizes
		// below 2 are not), and a single address absorbed (most unions)
		// writes no deletion.
		bs.sized.add(lost)
	}
	if !e.mayBeLabelled(lost) {
		return c
	}
	if s, ok := e.svc[lost]; ok {
		e.svc[c] = union(e.svc[c], s)
		delete(e.svc, lost)
	}
	if s, ok := e.ents[lost]; ok {
		e.markLabelled(c)
		e.ents[c] = union(e.ents[c], s)
		delete(e.ents, lost)
	}
	return c
}

// guard applies G2 (label conflict) and G4 (growth alarm) to a union of
// the clusters roots.
func (e *engine) guard(roots []uint32, change bool) (heistgraph.EvidenceStatus, string) {
	g := &e.opts.Guards
	// G4 holds a union when its second largest cluster has hold addresses
	// or more: when two of the clusters have.
	hold := g.HoldBoth
	if change {
		hold = min(hold, g.HoldChange)
	}
	var all []string
	most, large := 0, 0
	for _, r := range roots {
		if s := e.svcOf(r); len(s) > 0 {
			all = union(all, s)
			most = max(most, len(s))
		}
		if int(e.m.sizeOf(r)) >= hold {
			large++
		}
	}
	if len(all) > most {
		return heistgraph.EvidenceRefused, fmt.Sprintf("G2: would join service entities %q", all)
	}
	if large < 2 {
		return heistgraph.EvidenceApplied, ""
	}
	a, b := e.largest2(roots)
	big, second := e.m.sizeOf(a), e.m.sizeOf(b)
	held := int(second) >= g.HoldBoth || change && int(min(big, second)) >= g.HoldChange
	if held && !e.shareEntity(a, b) {
		return heistgraph.EvidenceHeld, fmt.Sprintf("G4: union of clusters of %d and %d addresses", big, second)
	}
	return heistgraph.EvidenceApplied, ""
}

// largest2 returns the first two of roots (two or more clusters) ordered
// by size, largest first, as slices.SortFunc orders them: stably for up to
// 12 (its insertion sort; no allocation), by sorting a copy above.
func (e *engine) largest2(roots []uint32) (uint32, uint32) {
	if len(roots) > 12 {
		order := slices.Clone(roots)
		slices.SortFunc(order, func(a, b uint32) int { return cmp.Compare(e.m.sizeOf(b), e.m.sizeOf(a)) })
		return order[0], order[1]
	}
	i0 := 0
	for i := 1; i < len(roots); i++ {
		if e.m.sizeOf(roots[i]) > e.m.sizeOf(roots[i0]) {
			i0 = i
		}
	}
	i1 := -1
	for i := range roots {
		if i != i0 && (i1 < 0 || e.m.sizeOf(roots[i]) > e.m.sizeOf(roots[i1])) {
			i1 = i
		}
	}
	return roots[i0], roots[i1]
}

// shareEntity reports whether clusters a and b carry a label of the same
// entity.
func (e *engine) shareEntity(a, b uint32) bool {
	for _, x := range e.entsOf(a) {
		if _, found := slices.BinarySearch(e.entsOf(b), x); found {
			return true
		}
	}
	return false
}
