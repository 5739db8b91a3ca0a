package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/risk"
	"github.com/heistgraph/heistgraph/store"
)

// screening holds serve's one long-lived risk.Screener (newScreener) and
// brings each chain's precomputed exposure table up in the
// background: until a chain's table is ready, its screens are answered on
// demand (the same answers, slower). A label write calls invalidate: the
// screener and its tables are dropped, and a new one (with the new labels
// and the stolen marks traced again) is built in the background.
type screening struct {
	st  store.Store
	log *slog.Logger

	mu  sync.Mutex
	gen uint64 // bumped by invalidate
	// epoch is gen for readers without mu (apiBackend.ScreenEpoch): bumped by
	// invalidate after cur is dropped.
	epoch  atomic.Uint64
	cur    atomic.Pointer[risk.Screener] // nil until built, and after invalidate
	cancel context.CancelFunc
	tables map[heistgraph.Chain]tableState
	wg     sync.WaitGroup
	closed bool
	base   context.Context // cancelled by close
	stop   context.CancelFunc
}

// tableState is the state of one chain's table: building or ready.
type tableState struct {
	Ready  bool
	Height int64
}

func newScreening(st store.Store, log *slog.Logger) *screening {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base, stop := context.WithCancel(context.Background())
	return &screening{st: st, log: log, tables: map[heistgraph.Chain]tableState{}, base: base, stop: stop}
}

// screener returns the current screener, building it (and starting its
// tables' precomputation) if there is none.
func (s *screening) screener(ctx context.Context) (*risk.Screener, error) {
	if sc := s.cur.Load(); sc != nil {
		return sc, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc := s.cur.Load(); sc != nil {
		return sc, nil
	}
	if s.closed {
		return nil, errors.New("screening: closed")
	}
	sc, err := newScreener(ctx, s.st)
	if err != nil {
		return nil, err
	}
	s.cur.Store(sc)
	bg, cancel := context.WithCancel(s.base)
	s.cancel = cancel
	s.wg.Add(1)
	go s.precompute(bg, s.gen, sc)
	return sc, nil
}

// warm builds the screener in the background (at start and after an
// invalidation), so that the first screen does not wait for it.
func (s *screening) warm() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if _, err := s.screener(s.base); err != nil && s.base.Err() == nil {
			s.log.Error("screening: build the screener", "err", err)
		}
	}()
}

// precompute builds the table of every Bitcoin chain, then of every EVM
// chain, the store holds, one after the other, for sc (of generation gen).
// An EVM chain's table is used only while it ends at the chain's tip.
func (s *screening) precompute(ctx context.Context, gen uint64, sc *risk.Screener) {
	defer s.wg.Done()
	var chains []heistgraph.Chain
	for _, n := range heistgraph.Networks() {
		if _, err := s.st.Tip(ctx, n.Chain); err != nil {
			if !errors.Is(err, heistgraph.ErrNotFound) && ctx.Err() == nil {
				s.log.Error("screening: tip", "chain", n.Chain, "err", err)
			}
			continue
		}
		chains = append(chains, n.Chain)
	}
	// EVM tables need the AccountLedger role (without it, screens compute
	// on demand).
	if ar, ok := s.st.(interface {
		store.AccountReader
		store.AccountLedger
	}); ok {
		for _, c := range heistgraph.EVMChains() {
			if _, err := ar.AccountTip(ctx, c.Chain); err != nil {
				if !errors.Is(err, heistgraph.ErrNotFound) && ctx.Err() == nil {
					s.log.Error("screening: tip", "chain", c.Chain, "err", err)
				}
				continue
			}
			chains = append(chains, c.Chain)
		}
	}
	for _, chain := range chains {
		s.setTable(gen, chain, tableState{Height: -1})
		start := time.Now()
		stats, err := sc.Precompute(ctx, chain)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("screening: precompute", "chain", chain, "err", err)
			}
			return
		}
		took := time.Since(start)
		if s.setTable(gen, chain, tableState{Ready: true, Height: stats.Height}) {
			s.log.Info("screening table ready", "chain", chain, "height", stats.Height, "outputs", stats.Outputs, "clustered", stats.Clustered, "took", took.Round(time.Millisecond))
		}
	}
}

// setTable records a table's state if gen is still current.
func (s *screening) setTable(gen uint64, chain heistgraph.Chain, t tableState) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen != s.gen {
		return false
	}
	s.tables[chain] = t
	return true
}

// Tables returns the state of each chain's table.
func (s *screening) Tables() map[heistgraph.Chain]tableState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[heistgraph.Chain]tableState, len(s.tables))
	for k, v := range s.tables {
		out[k] = v
	}
	return out
}

// invalidate drops the screener and its tables (labels changed) and
// builds a new one in the background.
func (s *screening) invalidate() {
	s.mu.Lock()
	s.gen++
	s.cur.Store(nil)
	s.epoch.Add(1) // after cur: whoever reads the new epoch gets a new screener
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	clear(s.tables)
	s.mu.Unlock()
	s.warm()
}

// close stops the background work and waits for it (before the store
// closes).
func (s *screening) close() {
	s.stop()
	s.mu.Lock()
	s.closed = true
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// serveGCPercent is the GOGC serve runs with unless the environment sets
// GOGC: the screening table is pointer-free (the collector barely scans
// it), so the live heap is small and a screen's garbage is what drives
// collections; letting the heap grow to 5 times the live one (about
// 0.5 GB on the medium world) makes them a quarter as frequent.
const serveGCPercent = 400

// tuneGC sets serve's GOGC (see serveGCPercent) unless GOGC is set.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
}
