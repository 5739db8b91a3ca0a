package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
)

// Live keeps the watches of one followed chain current as blocks land:
// the follower calls Applied after each applied block and Rewound after a
// reorg's rewind (the hooks of ingest.Events).
//
// It keeps each watch's trace current incrementally (issue 16): a
// trace.Tracer per watch holds the trace's state after the last block
// (the tainted outputs at rest unspent with their taint and hop, sinks,
// edges), and a block moves on only the tainted value it spends, through
// the trace engine's own per-transaction step (Tracer.Advance); the
// result equals a trace from the seeds on the store after the block, and
// the alerts are raised from it as Check raises them. The seed outputs'
// spends (funds_moved) are among the outputs at rest. A block that holds
// one of a watch's seed transactions or pays one of its seed addresses
// (new seed outputs), a watch none of whose seeds was stored (its seeds
// remembered), a changed watch, and a step the Tracer cannot take
// (ErrRetrace: a block out of order, the budget run out) trace again
// from the seeds. A rewind retracts the alerts of the removed blocks
// (Retract) and rewinds each watch's trace exactly (Tracer.Rewind, from
// its per-block undo, DefaultUndoDepth blocks deep); a watch it cannot
// rewind (deeper, or traced after the fork) is traced again from the
// seeds. The traces live in memory only: Start traces every watch from
// its seeds.
//
// A watch's trace can also change without a block spending its outputs:
// when a label is added (Relabelled, then Refresh, traces every watch
// again from its seeds), or when clustering merges an address the trace
// reached into a labelled cluster through another address: the Tracer
// keeps the entity answer it got for an address, so Live does not notice
// until the watch is traced again (a label write, a restart, a rewind it
// cannot undo, a seed block, or Check).
type Live struct {
	st  store.Store
	log *slog.Logger
	// notify, when set, is called after alerts were raised.
	notify func()

	mu     sync.Mutex // serialises checks, so a rewind's retraction sees every alert raised before it
	chain  heistgraph.Chain
	states map[string]*liveWatch
	// undecided: some alert's height holds no stored block (Retract's
	// waiting); each block retracts again until none is left.
	undecided bool

	relabelled atomic.Bool // set by Relabelled, cleared by Refresh
}

// liveWatch is what Live remembers of one watch.
type liveWatch struct {
	w       heistgraph.Watch
	tr      *trace.Tracer                // the kept trace; nil while w waits for its seeds
	resting map[heistgraph.Outpoint]bool // while waiting: a spend of these re-traces
	txs     map[heistgraph.Hash]bool     // seed transactions (and outpoint seeds' ones)
	addrs   map[string]bool              // address seeds
}

// NewLive returns a Live on st; Start gives it its chain. notify (nil:
// none) is called after alerts were raised (the Deliverer's Notify); log
// (nil: discarded) gets a line per raised alert batch and per retraction.
func NewLive(st store.Store, notify func(), log *slog.Logger) *Live {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Live{st: st, log: log, notify: notify, states: map[string]*liveWatch{}}
}

// Start makes Live follow chain: it makes the incidents' watches
// (IncidentWatches), retracts the alerts whose blocks the store holds
// another block in place of (a reorg followed while serve was down), and
// checks every watch of the chain. Alerts at heights the store holds no
// block at (a rewind whose retractions a crash interrupted) are decided
// as blocks land there (Applied). It returns how many alerts were new.
func (l *Live) Start(ctx context.Context, chain heistgraph.Chain) (int, error) {
	if _, err := IncidentWatches(ctx, l.st, time.Now().Unix()); err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.chain = chain
	ret, err := l.retract(ctx, math.MaxInt64)
	if err != nil {
		return 0, err
	}
	clear(l.states)
	n, err := l.sync(ctx, nil)
	n += len(ret)
	if n > 0 {
		l.raised(n)
	}
	return n, err
}

// Applied checks the watches that block b (just applied) touches, and
// every watch added since the last call. It returns how many alerts were
// new.
func (l *Live) Applied(ctx context.Context, b *heistgraph.Block) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b.Chain != l.chain {
		return 0, nil
	}
	var ret []store.StoredAlert
	if l.undecided {
		var err error
		if ret, err = l.retract(ctx, math.MaxInt64); err != nil {
			return 0, err
		}
	}
	n, err := l.sync(ctx, b)
	n += len(ret)
	if n > 0 {
		l.raised(n)
	}
	return n, err
}

// Rewound retracts the alerts whose blocks the rewind to height fork
// removed (Retract) and checks every watch of the chain again on the
// rewound store. It returns how many alerts (retractions included) were
// new.
func (l *Live) Rewound(ctx context.Context, fork int64) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.chain == "" {
		return 0, nil
	}
	ret, err := l.retract(ctx, fork)
	if err != nil {
		return 0, err
	}
	n := len(ret)
	var errs []error
	for name, s := range l.states {
		if s.tr == nil || !s.tr.Rewind(fork) {
			delete(l.states, name) // traced again from the seeds (sync)
			continue
		}
		// The rewound trace's alerts were raised as its blocks landed;
		// raising them again adds what a failure may have lost.
		r, err := checkTracer(ctx, l.st, s.w, s.tr)
		if err != nil {
			delete(l.states, name)
			errs = append(errs, err)
			continue
		}
		n += len(r.Raised)
	}
	m, err := l.sync(ctx, nil)
	n += m
	err = errors.Join(append(errs, err)...)
	if n > 0 {
		l.raised(n)
	}
	return n, err
}

// Relabelled tells Live that labels changed: the next Refresh checks
// every watch again (an output a trace left unspent may now be an
// entity's). It never blocks.
func (l *Live) Relabelled() { l.relabelled.Store(true) }

// Refresh does what waits for the follow to catch up: after blocks landed
// (landed), it makes the watches of incidents whose theft transactions
// the store now holds (IncidentWatches) and checks them; after
// Relabelled, it checks every watch of the chain again. Otherwise it does
// nothing. It returns how many alerts were new.
func (l *Live) Refresh(ctx context.Context, landed bool) (int, error) {
	relabelled := l.relabelled.Swap(false)
	if !landed && !relabelled {
		return 0, nil
	}
	if landed {
		if _, err := IncidentWatches(ctx, l.st, time.Now().Unix()); err != nil {
			return 0, err
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.chain == "" {
		return 0, nil
	}
	if relabelled {
		clear(l.states)
	}
	n, err := l.sync(ctx, nil)
	if n > 0 {
		l.raised(n)
	}
	return n, err
}

// Check checks w (a watch just added or changed) now, under Live's lock,
// and remembers what it rests on when it is on Live's chain.
func (l *Live) Check(ctx context.Context, w heistgraph.Watch) (CheckResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, err := l.check(ctx, w)
	if err != nil {
		return r, err
	}
	if len(r.Raised) > 0 {
		l.raised(len(r.Raised))
	}
	return r, nil
}

// retract runs Retract on Live's chain, logs each retraction and
// remembers whether alerts are left undecided. The caller holds mu.
func (l *Live) retract(ctx context.Context, removedAbove int64) ([]store.StoredAlert, error) {
	ret, waiting, err := Retract(ctx, l.st, l.chain, removedAbove)
	if err != nil {
		return nil, err
	}
	l.undecided = waiting > 0
	for _, r := range ret {
		l.log.Info("alert retracted", "alert", r.Retracts, "retraction", r.ID, "watch", r.Watch, "block", r.BlockHeight, "hash", r.BlockHash)
	}
	return ret, nil
}

func (l *Live) raised(n int) {
	l.log.Info("alerts raised", "chain", l.chain, "alerts", n)
	if l.notify != nil {
		l.notify()
	}
}

// sync brings the remembered watches level with the stored ones (new or
// changed watches are checked, removed ones forgotten) and checks those b
// touches (b nil: none but the new ones). The caller holds mu.
func (l *Live) sync(ctx context.Context, b *heistgraph.Block) (int, error) {
	seen := map[string]bool{}
	var todo []heistgraph.Watch
	var advance []*liveWatch
	for w, err := range l.st.WatchList(ctx) {
		if err != nil {
			return 0, fmt.Errorf("live %s: watches: %w", l.chain, err)
		}
		if w.Chain != l.chain {
			continue
		}
		seen[w.Name] = true
		s, ok := l.states[w.Name]
		switch {
		case !ok || !sameWatch(s.w, w) || (b != nil && s.touchedBy(b)):
			todo = append(todo, w)
		case b != nil && s.tr != nil:
			advance = append(advance, s)
		}
	}
	for name := range l.states {
		if !seen[name] {
			delete(l.states, name)
		}
	}
	// A watch that fails is forgotten (check), so the next block checks
	// it again; the others are checked all the same.
	n := 0
	var errs []error
	for _, s := range advance {
		m, err := l.advance(ctx, s, b)
		if err != nil {
			if ctx.Err() != nil {
				return n, ctx.Err()
			}
			errs = append(errs, err)
			continue
		}
		n += m
	}
	for _, w := range todo {
		r, err := l.check(ctx, w)
		if err != nil {
			if ctx.Err() != nil {
				return n, ctx.Err()
			}
			errs = append(errs, err)
			continue
		}
		n += len(r.Raised)
	}
	return n, errors.Join(errs...)
}

// advance moves s's trace over block b and raises the alerts it calls
// for when b spent tainted value; a step the Tracer cannot take traces
// again from the seeds. It returns how many alerts were new. The caller
// holds mu.
func (l *Live) advance(ctx context.Context, s *liveWatch, b *heistgraph.Block) (int, error) {
	changed, err := s.tr.Advance(ctx, b)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		l.log.Info("watch traced again from its seeds", "watch", s.w.Name, "block", b.Height, "err", err)
		r, err := l.check(ctx, s.w)
		return len(r.Raised), err
	}
	if !changed {
		return 0, nil
	}
	r, err := checkTracer(ctx, l.st, s.w, s.tr)
	if err != nil {
		delete(l.states, s.w.Name) // traced again on the next block
		return 0, err
	}
	return len(r.Raised), nil
}

// check traces w from its seeds (StartWatch), raises its alerts (Check)
// and remembers its trace. The caller holds mu.
func (l *Live) check(ctx context.Context, w heistgraph.Watch) (CheckResult, error) {
	if w.Chain != l.chain {
		return Check(ctx, l.st, w)
	}
	fail := func(err error) (CheckResult, error) {
		delete(l.states, w.Name) // checked again on the next block
		return CheckResult{}, err
	}
	tr, err := StartWatch(ctx, l.st, w)
	if err != nil {
		return fail(err)
	}
	r := CheckResult{Waiting: true}
	if tr != nil {
		if r, err = checkTracer(ctx, l.st, w, tr); err != nil {
			return fail(err)
		}
	}
	s, err := restingOf(ctx, l.st, w, tr == nil)
	if err != nil {
		return fail(err)
	}
	s.tr = tr
	l.states[w.Name] = s
	return r, nil
}

// sameWatch reports whether a and b are the same watch definition.
func sameWatch(a, b heistgraph.Watch) bool {
	return a.Name == b.Name && a.Chain == b.Chain && a.Policy == b.Policy && a.Created == b.Created && slices.Equal(a.Seeds, b.Seeds)
}

// restingOf is what in a block traces w again from its seeds: its seed
// transactions and addresses, and, while w is waiting, its seed outputs.
func restingOf(ctx context.Context, st store.ChainReader, w heistgraph.Watch, waiting bool) (*liveWatch, error) {
	s := &liveWatch{w: w, resting: map[heistgraph.Outpoint]bool{}, txs: map[heistgraph.Hash]bool{}, addrs: map[string]bool{}}
	seeds, err := parseSeeds(w)
	if err != nil {
		return nil, err
	}
	for _, sd := range seeds {
		switch sd.Kind {
		case trace.SeedTx:
			s.txs[sd.TxID] = true
		case trace.SeedOutput:
			s.txs[sd.Outpoint.TxID] = true
		case trace.SeedAddress:
			s.addrs[sd.Address] = true
		}
	}
	if !waiting {
		return s, nil
	}
	ops, err := seedOutpoints(ctx, st, w)
	if err != nil {
		return nil, err
	}
	for _, op := range ops {
		s.resting[op] = true
	}
	return s, nil
}

// touchedBy reports whether block b holds one of s's seed transactions,
// pays one of its seed addresses, or spends one of its resting outputs.
func (s *liveWatch) touchedBy(b *heistgraph.Block) bool {
	for i := range b.Txs {
		tx := &b.Txs[i]
		if s.txs[tx.TxID] {
			return true
		}
		for _, in := range tx.Inputs {
			if !in.Coinbase && s.resting[in.PrevOut] {
				return true
			}
		}
		if len(s.addrs) > 0 {
			for _, o := range tx.Outputs {
				if o.Address != "" && s.addrs[o.Address] {
					return true
				}
			}
		}
	}
	return false
}

// Retract raises an alert_retracted for every alert of chain whose block
// the store no longer holds, and that no retraction names yet: the
// retracted alert's fields, kind alert_retracted, and Retracts its
// idempotency key (so the retraction's own key differs from it and from
// every other's). An alert's block is no longer held when the store holds
// another block at its height, or, for a height above removedAbove (the
// fork height of a rewind that just happened), none. An alert at a height
// where the store holds no block and that is not above removedAbove (a
// rewind whose retractions a crash interrupted, its branch not yet
// replaced) is undecided: it is counted in waiting and decided once a block
// lands at its height. It returns the retractions it stored.
func Retract(ctx context.Context, st store.Store, chain heistgraph.Chain, removedAbove int64) (retractions []store.StoredAlert, waiting int, err error) {
	retracted := map[string]bool{}
	var live []heistgraph.Alert
	for a, err := range st.AlertList(ctx, store.AlertQuery{}) {
		if err != nil {
			return nil, 0, fmt.Errorf("retract %s: alerts: %w", chain, err)
		}
		if a.Chain != chain {
			continue
		}
		if a.Kind == heistgraph.AlertRetracted {
			retracted[a.Retracts] = true
			continue
		}
		live = append(live, a.Alert)
	}
	type held struct {
		hash heistgraph.Hash
		ok   bool
	}
	blocks := map[int64]held{}
	var out []heistgraph.Alert
	for _, a := range live {
		if retracted[a.IdempotencyKey] {
			continue
		}
		b, ok := blocks[a.BlockHeight]
		if !ok {
			ref, err := st.BlockByHeight(ctx, chain, a.BlockHeight)
			switch {
			case errors.Is(err, heistgraph.ErrNotFound):
			case err != nil:
				return nil, 0, fmt.Errorf("retract %s: block %d: %w", chain, a.BlockHeight, err)
			default:
				b = held{hash: ref.Hash, ok: true}
			}
			blocks[a.BlockHeight] = b
		}
		switch {
		case b.ok && b.hash == a.BlockHash:
			continue
		case !b.ok && a.BlockHeight <= removedAbove:
			waiting++
			continue
		}
		r := a
		r.ID, r.Kind, r.Retracts, r.RetractedKind = "", heistgraph.AlertRetracted, a.IdempotencyKey, a.Kind
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, waiting, nil
	}
	raised, err := Raise(ctx, st, out...)
	return raised, waiting, err
}
