package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/txgraph"
)

// clusterAlongside clusters a one-shot file ingest's blocks while the
// ingest goes on, instead of in a pass after it: a goroutine of its own
// brings a cluster.Engine up to the store's tip each time a run of blocks
// was applied (kick), so that clustering takes the second core while the
// ingest applies the next runs. The engine reads only committed blocks,
// runs are clustered in chain order, and each update ends at the tip it
// saw when it started, exactly as consecutive `cluster update` runs do;
// the clustering written is the one a pass after the ingest writes. When
// the store feeds the blocks it applies (store.ApplyFeeds), the engine
// clusters them from the records the ingest built (a cluster.Feed) instead
// of reading them back; the ingest waits while the feed holds more than
// its bound.
type clusterAlongside struct {
	chain  heistgraph.Chain
	kick   chan struct{}
	done   chan struct{}
	cancel context.CancelFunc
	// stop, set before kick is closed, skips the final update (the
	// ingest failed).
	stop  bool
	total cluster.Stats
	err   error
	// share is the clustering state's share of --memory (0: no bound);
	// outgrown is set when the state passed it and the clustering stopped.
	share    int64
	outgrown bool
	// perAddress is what the clustering's state takes an address on the
	// heap: clusterBytesPerAddress when spilled, clusterHeapBytesPerAddress
	// when not (another backend than the embedded store).
	perAddress int64
	// feed carries the blocks applied to the engine (nil: the store
	// feeds none); feeds is the store that feeds it.
	feed  *cluster.Feed
	feeds store.ApplyFeeds
}

// clusterWhileIngesting reports whether a file ingest of ch can cluster
// alongside: clustering is on and no transaction graph is kept for ch
// (with one, clustering reads the graph, which is extended to the store's
// tip after the ingest; ingestClustering.finish does that).
func (a *app) clusterWhileIngesting(on bool, ch heistgraph.Chain) bool {
	if !on || !ch.IsUTXO() {
		return false
	}
	if dir := a.graphDir(); dir != "" {
		if _, err := os.Stat(txgraph.Path(dir, ch)); !errors.Is(err, os.ErrNotExist) {
			return false
		}
	}
	return true
}

// startClustering starts clustering ch's blocks alongside the ingest. With
// share > 0 (bytes of --memory), the clustering stops, its blocks so far
// saved, once its state outgrows share (outgrew). feedBytes bounds the
// serialized bytes of the blocks fed to the clustering and not clustered
// yet. When the clustering's spilled arrays find the disk full, stop is
// called with that error: the ingest, which writes to the same disk,
// stops too.
func (a *app) startClustering(ctx context.Context, st store.Store, ch heistgraph.Chain, share, feedBytes int64, stop context.CancelCauseFunc) *clusterAlongside {
	ctx, cancel := context.WithCancel(ctx)
	c := &clusterAlongside{chain: ch, kick: make(chan struct{}, 1), done: make(chan struct{}), cancel: cancel, share: share}
	if fs, ok := st.(store.ApplyFeeds); ok {
		c.feed, c.feeds = cluster.NewFeed(feedBytes), fs
		fs.FeedApplied(ch, c.feed.Push)
	}
	opts := cluster.DefaultOptions()
	opts.Logger = a.logger()
	a.clusterSpill(&opts)
	c.perAddress = clusterBytesPerAddress
	if opts.SpillDir == "" {
		c.perAddress = clusterHeapBytesPerAddress
	}
	go func() {
		defer close(c.done)
		defer c.stopFeed()
		var eng *cluster.Engine
		update := func() error {
			if eng == nil {
				var err error
				if eng, err = cluster.Open(ctx, st, ch, opts); err != nil {
					return err
				}
				if c.feed != nil {
					eng.Follow(c.feed)
				}
			}
			s, err := eng.Update(ctx)
			addClusterStats(&c.total, s)
			return err
		}
		for range c.kick {
			if c.err = update(); c.err != nil {
				if full := (*cluster.SpillFullError)(nil); errors.As(c.err, &full) {
					stop(c.err)
				}
				return
			}
			if c.outgrew() {
				a.logger().Warn("the clustering outgrew its share of --memory: the ingest goes on without it",
					"addresses", c.total.Addresses, "share_mib", c.share>>20, "clustered_to", c.total.TipHeight)
				c.stopFeed()
				c.err = eng.Save(ctx)
				eng = nil          // its memory goes back to the ingest
				for range c.kick { // the ingest goes on
				}
				return
			}
		}
		if c.stop {
			return
		}
		if c.err = update(); c.err == nil {
			c.err = eng.Save(ctx)
		}
	}()
	return c
}

// outgrew reports whether the clustering's state, at about
// c.perAddress an address, passed its share, and records it.
func (c *clusterAlongside) outgrew() bool {
	c.outgrown = c.share > 0 && c.total.Addresses*c.perAddress > c.share
	return c.outgrown
}

// stopFeed stops feeding the clustering: the store feeds it no more and
// the ingest no longer waits for it.
func (c *clusterAlongside) stopFeed() {
	if c.feed != nil {
		c.feeds.FeedApplied(c.chain, nil)
		c.feed.Close()
	}
}

// applied tells the clustering that more blocks are stored: kicks given
// while an update runs fold into one. It waits while the feed holds more
// than its bound (the update the kick asks for takes its blocks).
func (c *clusterAlongside) applied() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
	if c.feed != nil {
		c.feed.Wait()
	}
}

// finish waits for the clustering. ok is whether the ingest succeeded:
// then the clustering catches up to the tip and saves its state; if not,
// it stops after the blocks it is clustering (each clustered block is
// whole, and the next run resumes after it).
func (c *clusterAlongside) finish(ok bool) (*clusterStatsJSON, error) {
	if !ok {
		c.stop = true
		c.cancel()
	}
	close(c.kick)
	<-c.done
	c.cancel()
	if c.err != nil {
		return nil, c.err
	}
	if c.outgrown {
		return nil, c.outgrownError()
	}
	v := hgapp.ClusterStatsOf(c.total)
	v.Chain = c.chain
	return &v, nil
}

// outgrownError says that --memory was too small for the clustering, what
// is done and how to finish.
func (c *clusterAlongside) outgrownError() error {
	return usageError{fmt.Errorf("--memory: the clustering of %s needs more than its share, %d MiB, for %d addresses "+
		"(about %d bytes each): the blocks are ingested and clustered up to height %d; "+
		"run cluster update with a larger --memory, or ingest with --cluster=false and cluster apart: %w",
		c.chain, c.share>>20, c.total.Addresses, c.perAddress, c.total.TipHeight, heistgraph.ErrInvalid)}
}

// addClusterStats adds one update's statistics s to t: counts add up, the
// totals (addresses, clusters, the largest, the tip) are s's.
func addClusterStats(t *cluster.Stats, s cluster.Stats) {
	counts := [...][2]*int64{{&t.Blocks, &s.Blocks}, {&t.Txs, &s.Txs}, {&t.Inputs, &s.Inputs},
		{&t.Rewound, &s.Rewound}, {&t.Stonewalls, &s.Stonewalls}, {&t.CommonInput, &s.CommonInput},
		{&t.Change, &s.Change}, {&t.ChangeDeferred, &s.ChangeDeferred}, {&t.Refused, &s.Refused},
		{&t.Held, &s.Held}, {&t.ServiceChange, &s.ServiceChange}, {&t.Dropped, &s.Dropped},
		{&t.ChangeNotLeaf, &s.ChangeNotLeaf}, {&t.Transfers, &s.Transfers}, {&t.Deposits, &s.Deposits},
		{&t.DepositReuse, &s.DepositReuse}, {&t.SharedDeposits, &s.SharedDeposits},
		{&t.SelfAuth, &s.SelfAuth}, {&t.FundedBy, &s.FundedBy}}
	for _, c := range counts {
		*c[0] += *c[1]
	}
	if len(s.CoinJoins) > 0 && t.CoinJoins == nil {
		t.CoinJoins = map[string]int64{}
	}
	for k, n := range s.CoinJoins {
		t.CoinJoins[k] += n
	}
	t.Chain = s.Chain
	t.Rebuilt = t.Rebuilt || s.Rebuilt
	t.Addresses, t.Clusters, t.Largest, t.TipHeight = s.Addresses, s.Clusters, s.Largest, s.TipHeight
	t.Elapsed += s.Elapsed
}
