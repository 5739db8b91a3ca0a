package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/bitcoin"
	"github.com/heistgraph/heistgraph/ingest"
	"github.com/heistgraph/heistgraph/monitor"
	"github.com/heistgraph/heistgraph/server"
	"github.com/heistgraph/heistgraph/store"
)

// followRPCRetry is how long one call to the followed node is retried
// before the follow counts the node as unreachable (and /readyz says so);
// the follow itself keeps trying with its own backoff.
const followRPCRetry = 3 * time.Second

// followState is what /readyz says of serve's follow of a node: not ready
// until the store has caught up with the node, while it is behind, while
// the node does not answer, and after the follow stopped on an error.
type followState struct {
	mu      sync.Mutex
	rpc     string
	chain   heistgraph.Chain
	phase   string // connecting, behind, caught_up, unreachable, stopped
	height  int64  // the store's tip
	nodeTip int64
	err     string
	since   time.Time
}

func (s *followState) set(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn()
}

func (s *followState) to(phase string) {
	if s.phase != phase {
		s.phase, s.since = phase, time.Now()
	}
}

// notReady returns why the follow is not ready, "" when it has caught up.
func (s *followState) notReady() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.phase {
	case "caught_up":
		return ""
	case "behind":
		return fmt.Sprintf("following %s: behind the node (store at %d, node at %d)", s.chain, s.height, s.nodeTip)
	case "unreachable":
		return fmt.Sprintf("following %s: the node at %s does not answer: %s", s.chain, s.rpc, s.err)
	case "stopped":
		return fmt.Sprintf("following %s: stopped: %s", s.chain, s.err)
	default:
		return fmt.Sprintf("following the node at %s: not caught up yet", s.rpc)
	}
}

// detail is the follow's part of /readyz.
func (s *followState) detail() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := map[string]any{"rpc": s.rpc, "chain": s.chain, "state": s.phase, "height": s.height, "node_height": s.nodeTip,
		"since": s.since.UTC().Format(time.RFC3339)}
	if s.err != "" {
		d["error"] = s.err
	}
	return d
}

// followCollector exports the follow's state: heistgraph_follow_height
// and heistgraph_follow_node_height (the store's tip and the node's, as
// last seen) and heistgraph_follow_ready (1 when caught up).
type followCollector struct{ s *followState }

var (
	followHeightDesc = prometheus.NewDesc("heistgraph_follow_height", "Height of the followed chain's tip in the store", []string{"chain"}, nil)
	followNodeDesc   = prometheus.NewDesc("heistgraph_follow_node_height", "Height of the followed node's tip, as last seen", []string{"chain"}, nil)
	followReadyDesc  = prometheus.NewDesc("heistgraph_follow_ready", "1 when the store has caught up with the followed node, else 0 (behind, node unreachable, stopped)", []string{"chain"}, nil)
)

func (c followCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- followHeightDesc
	ch <- followNodeDesc
	ch <- followReadyDesc
}

func (c followCollector) Collect(ch chan<- prometheus.Metric) {
	c.s.mu.Lock()
	chain, h, tip, ready := string(c.s.chain), float64(c.s.height), float64(c.s.nodeTip), c.s.phase == "caught_up"
	c.s.mu.Unlock()
	if chain == "" {
		return
	}
	r := 0.0
	if ready {
		r = 1
	}
	ch <- prometheus.MustNewConstMetric(followHeightDesc, prometheus.GaugeValue, h, chain)
	ch <- prometheus.MustNewConstMetric(followNodeDesc, prometheus.GaugeValue, tip, chain)
	ch <- prometheus.MustNewConstMetric(followReadyDesc, prometheus.GaugeValue, r, chain)
}

// NotReady implements server.Readiness: serve following a node is not
// ready until it has caught up.
func (b *apiBackend) NotReady() string {
	if b.follow == nil {
		return ""
	}
	return b.follow.notReady()
}

var _ server.Readiness = (*apiBackend)(nil)

// startFollow follows the node of f.btcRPC into st in the background, as
// ingest btc --rpc --follow does (fetch-ahead, exact reorgs, retries while
// the node is down), clustering each block as it lands; after each block
// live checks the watches it touches, and after a rewind it retracts the
// removed blocks' alerts. Each time a pass has caught up, live makes the
// watches of incidents whose theft transactions just landed and, after a
// label write through the API, checks every watch again (Live.Refresh). When a pass leaves the store caught up, the
// backend's cached views and screener are dropped if a block landed since,
// so answers include it. stop cancels the follow and waits for it (before
// the store closes).
func (a *app) startFollow(ctx context.Context, f serveFlags, st store.Store, backend *apiBackend, live *monitor.Live, reg prometheus.Registerer) (stop func(), err error) {
	src, err := bitcoin.NewRPCSource(f.btcRPC, bitcoin.RPCOptions{User: f.rpcUser, Password: f.rpcPass, Logger: a.logger(), RetryFor: followRPCRetry})
	if err != nil {
		return nil, usageError{fmt.Errorf("--btc-rpc: %w", err)}
	}
	state := &followState{rpc: src.URL(), phase: "connecting", since: time.Now()}
	backend.follow = state
	if err := reg.Register(followCollector{state}); err != nil {
		return nil, fmt.Errorf("follow metrics: %w", err)
	}
	backend.onLabels = live.Relabelled
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer src.Close()
		err := a.follow(ctx, f, st, src, state, backend, live)
		if err != nil && ctx.Err() == nil {
			a.logger().Error("follow stopped", "rpc", src.URL(), "err", err)
			state.set(func() { state.err = err.Error(); state.to("stopped") })
		}
	})
	return func() {
		cancel()
		wg.Wait()
	}, nil
}

// follow runs the follow until ctx ends or it fails for good.
func (a *app) follow(ctx context.Context, f serveFlags, st store.Store, src *bitcoin.RPCSource, state *followState, backend *apiBackend, live *monitor.Live) error {
	log := a.logger()
	// The node's network, asked until it answers (or says something
	// retrying cannot fix).
	var net heistgraph.Network
	for wait := f.poll; ; wait = min(2*wait, 10*time.Second) {
		var err error
		if net, err = src.Network(ctx); err == nil {
			break
		}
		if errors.Is(err, heistgraph.ErrInvalid) || ctx.Err() != nil {
			return err
		}
		state.set(func() { state.err = err.Error(); state.to("unreachable") })
		log.Warn("follow: node not answering", "rpc", src.URL(), "wait", wait, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	state.set(func() { state.chain = net.Chain })
	if n, err := live.Start(ctx, net.Chain); err != nil {
		return fmt.Errorf("check watches: %w", err)
	} else if n > 0 {
		log.Info("watches checked", "chain", net.Chain, "alerts_raised", n)
	}
	var wake <-chan struct{}
	if f.push {
		w, stopPush, err := blockPush(f.btcRPC, f.rpcUser, f.rpcPass)
		if err != nil {
			log.Info("follow: no block push from the node, polling", "poll", f.poll, "err", err)
		} else {
			defer stopPush()
			wake = w
			log.Info("follow: the node pushes its blocks (notifyblocks)", "poll", f.poll)
		}
	}
	cl := a.ingestClusterer(st, true)
	dirty := false // a block landed since the views were last refreshed
	checked := func(what string, err error) {
		if err != nil && ctx.Err() == nil {
			log.Error("follow: check watches", "after", what, "err", err)
		}
	}
	opts := ingest.SyncOptions{
		Logger:        log,
		Confirmations: f.confirmations,
		PollInterval:  f.poll,
		Wake:          wake,
		MaxBackoff:    10 * time.Second,
		Events: ingest.Events{
			BlockApplied: func(b *heistgraph.Block) {
				state.set(func() { state.height = b.Height })
				cl.applied(ctx, b)
				_, err := live.Applied(ctx, b)
				checked(fmt.Sprintf("block %d %s", b.Height, b.Hash), err)
				dirty = true
			},
			Reorg: func(_ heistgraph.Chain, oldTip, fork int64) {
				_, err := live.Rewound(ctx, fork)
				checked(fmt.Sprintf("reorg from %d to %d", oldTip, fork), err)
				dirty = true
				state.set(func() { state.height = fork })
			},
			Behind: func(_ heistgraph.Chain, next, target int64) {
				state.set(func() { state.height, state.nodeTip = next-1, target+f.confirmations; state.to("behind") })
			},
			CaughtUp: func(_ heistgraph.Chain, height, nodeTip int64) {
				_, err := live.Refresh(ctx, dirty)
				checked("catching up", err)
				if dirty {
					dirty = false
					backend.cache.invalidate() // and the screener
				}
				state.set(func() { state.height, state.nodeTip, state.err = height, nodeTip, ""; state.to("caught_up") })
			},
			SourceFailed: func(_ heistgraph.Chain, err error, _ time.Duration) {
				state.set(func() { state.err = err.Error(); state.to("unreachable") })
			},
		},
	}
	_, err := ingest.Follow(ctx, st, src, opts)
	if _, ferr := cl.finish(context.WithoutCancel(ctx), true, net.Chain); ferr != nil && err == nil {
		err = ferr
	}
	if dirty {
		backend.cache.invalidate()
	}
	return err
}
