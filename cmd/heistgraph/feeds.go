package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/label"
	"github.com/heistgraph/heistgraph/monitor"
	"github.com/heistgraph/heistgraph/server"
	hgshare "github.com/heistgraph/heistgraph/share"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/taxii"
)

// feedJSON is a feed as feeds list and feeds add print it (without its
// key).
type feedJSON struct {
	ID         string `json:"id"`
	URL        string `json:"url"`
	Collection string `json:"collection"`
	AsWatches  bool   `json:"as_watches"`
	TLPMax     string `json:"tlp_max"`
	Created    int64  `json:"created"`
	LastPull   int64  `json:"last_pull,omitempty"`
	Objects    int    `json:"objects"`
	Labels     int    `json:"labels"`
	Watches    int    `json:"watches"`
	LastError  string `json:"last_error,omitempty"`
	// AddedLast is where the next pull starts (the partner's last
	// X-TAXII-Date-Added-Last).
	AddedLast string `json:"added_last,omitempty"`
}

func feedView(f store.Feed) feedJSON {
	return feedJSON{ID: f.ID, URL: f.URL, Collection: f.Collection, AsWatches: f.AsWatches, TLPMax: f.TLPMax, Created: f.Created,
		LastPull: f.LastPull, Objects: f.Objects, Labels: f.Labels, Watches: f.Watches, LastError: f.LastError, AddedLast: f.AddedLast}
}

func (a *app) feedsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "feeds",
		Short: "Partners' TAXII 2.1 feeds: their flagged addresses become labels (and watches)",
		Long: `Partners' TAXII 2.1 collections that heistgraph pulls. Each pull fetches the objects
added since the previous one (added_after, from the partner's last
X-TAXII-Date-Added-Last, kept with the feed), keeps a local copy, drops what the
partner's manifest no longer lists, and replaces the feed's labels (source
feed:<id>) with the addresses the copy's indicators and observables give, so what a
partner withdraws or revokes goes. With --as-watches each partner incident
also becomes one watch (its alerts name the partner's incident). serve pulls every
feed each --feeds-every; feeds pull pulls now. Next to a serve on the same --data
they go through it.`,
	}
	c.AddCommand(a.feedsAddCmd(), a.feedsListCmd(), a.feedsRmCmd(), a.feedsPullCmd())
	return c
}

// feedsRemoved is what feeds rm prints.
type feedsRemoved struct {
	ID             string `json:"id"`
	LabelsRemoved  int    `json:"labels_removed"`
	WatchesRemoved int    `json:"watches_removed"`
	// IncidentsWithdrawn counts the feed's partner incidents withdrawn
	// from the register.
	IncidentsWithdrawn int `json:"incidents_withdrawn"`
}

// feedsPulled is what feeds pull prints.
type feedsPulled struct {
	Pulls []hgshare.PullResult `json:"pulls"`
}

// addFeed checks req and stores the feed (serve and the CLI alike).
func addFeed(ctx context.Context, st store.Sharing, req server.FeedRequest, now time.Time) (feedJSON, error) {
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return feedJSON{}, fmt.Errorf("feeds add: URL %q: want http(s)://host/.../ (the partner's TAXII API root): %w", req.URL, heistgraph.ErrInvalid)
	}
	if req.Collection == "" {
		return feedJSON{}, fmt.Errorf("feeds add: --collection is required: %w", heistgraph.ErrInvalid)
	}
	if req.TLPMax == "" {
		req.TLPMax = "amber"
	}
	tlp, err := label.ParseTLP(req.TLPMax)
	if err != nil {
		return feedJSON{}, fmt.Errorf("feeds add: --tlp-max: %w", err)
	}
	if tlp == label.TLPClear {
		tlp = "clear"
	}
	f := store.Feed{ID: req.ID, URL: req.URL, Collection: req.Collection, Key: req.Key, AsWatches: req.AsWatches, TLPMax: tlp, Created: now.Unix()}
	if f.ID == "" {
		h := sha256.Sum256([]byte(f.URL + "\x00" + f.Collection))
		f.ID = "feed-" + hex.EncodeToString(h[:5])
	}
	if err := store.ValidateFeedID(f.ID); err != nil {
		return feedJSON{}, fmt.Errorf("feeds add: --id: %w", err)
	}
	if err := st.PutFeed(ctx, f); err != nil {
		return feedJSON{}, fmt.Errorf("feeds add: %w", err)
	}
	return feedView(f), nil
}

// listFeeds lists the feeds.
func listFeeds(ctx context.Context, st store.Sharing) (feedsListJSON, error) {
	out := feedsListJSON{Feeds: []feedJSON{}}
	for f, err := range st.FeedList(ctx) {
		if err != nil {
			return out, err
		}
		out.Feeds = append(out.Feeds, feedView(f))
	}
	out.Count = len(out.Feeds)
	return out, nil
}

// removeFeed removes a feed with its labels and its watches.
func removeFeed(ctx context.Context, st store.Store, id string) (feedsRemoved, error) {
	f, err := st.Feed(ctx, id)
	if err != nil {
		return feedsRemoved{}, fmt.Errorf("feeds rm: %w", err)
	}
	_, removed, err := st.ReplaceLabelSet(ctx, hgshare.LabelSet(f.ID), "removed", nil)
	if err != nil {
		return feedsRemoved{}, fmt.Errorf("feeds rm %s: %w", f.ID, err)
	}
	var gone []string
	for w, err := range st.WatchList(ctx) {
		if err != nil {
			return feedsRemoved{}, err
		}
		if strings.HasPrefix(w.Incident, "partner:"+f.ID+":") {
			gone = append(gone, w.Name)
		}
	}
	for _, n := range gone {
		if err := st.DeleteWatch(ctx, n); err != nil {
			return feedsRemoved{}, fmt.Errorf("feeds rm %s: %w", f.ID, err)
		}
	}
	var copyVs []store.SharedVersion
	for so, err := range st.SharedObjects(ctx, store.FeedCollection(f.ID)) {
		if err != nil {
			return feedsRemoved{}, err
		}
		copyVs = append(copyVs, store.SharedVersion{ID: so.ID, Version: so.Version})
	}
	if err := st.DeleteSharedObjects(ctx, store.FeedCollection(f.ID), copyVs); err != nil {
		return feedsRemoved{}, fmt.Errorf("feeds rm %s: %w", f.ID, err)
	}
	// The partner's incidents leave the register (kept as withdrawn).
	b := hgshare.RegisterBatch(&hgshare.Partner{}, hgshare.LabelSet(f.ID), taxii.CollectionURL(f.URL, f.Collection), time.Now())
	b.Complete = true
	sv, err := hgapp.SavePartner(ctx, st, b)
	if err != nil {
		return feedsRemoved{}, fmt.Errorf("feeds rm %s: partner incidents: %w", f.ID, err)
	}
	if err := st.DeleteFeed(ctx, f.ID); err != nil {
		return feedsRemoved{}, fmt.Errorf("feeds rm: %w", err)
	}
	return feedsRemoved{ID: f.ID, LabelsRemoved: removed, WatchesRemoved: len(gone), IncidentsWithdrawn: len(sv.Withdrawn)}, nil
}

// feedsAPI is server.Feeds over serve's store: a pull checks the watches
// it adds and tells changed.
type feedsAPI struct {
	mu      sync.Mutex // one pull or removal at a time
	st      store.Store
	check   func(heistgraph.Watch)
	changed func()
}

func (f *feedsAPI) AddFeed(ctx context.Context, req server.FeedRequest) (any, error) {
	return addFeed(ctx, f.st, req, time.Now())
}

func (f *feedsAPI) ListFeeds(ctx context.Context) (any, error) { return listFeeds(ctx, f.st) }

func (f *feedsAPI) RemoveFeed(ctx context.Context, id string) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out, err := removeFeed(ctx, f.st, id)
	if err == nil {
		f.changed()
	}
	return out, err
}

func (f *feedsAPI) PullFeeds(ctx context.Context, ids []string) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	res, err := pullFeeds(ctx, f.st, ids, f.check)
	if len(res) > 0 {
		f.changed()
	}
	return feedsPulled{Pulls: res}, err
}

func (a *app) feedsAddCmd() *cobra.Command {
	var req server.FeedRequest
	c := &cobra.Command{
		Use:   "add URL --collection ID --key K [--as-watches] [--tlp-max amber]",
		Short: "Subscribe to a partner's TAXII 2.1 collection (URL: its API root)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.URL = args[0]
			v, err := viaServerOrStore(a, cmd.Context(), http.MethodPost, "/v1/feeds", req,
				func(st store.Store) (feedJSON, error) { return addFeed(cmd.Context(), st, req, time.Now()) })
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) error {
				printf(w, "feed %s: %s collection %s (as watches: %v, up to TLP:%s)\n", v.ID, v.URL, v.Collection, v.AsWatches, v.TLPMax)
				return nil
			})
		},
	}
	fl := c.Flags()
	fl.StringVar(&req.Collection, "collection", "", "the partner's collection id (heistgraph-watches, heistgraph-indicators, ...)")
	fl.StringVar(&req.Key, "key", "", "the API key the partner gave (sent as Bearer)")
	fl.BoolVar(&req.AsWatches, "as-watches", false, "make each partner incident a watch whose alerts name it")
	fl.StringVar(&req.TLPMax, "tlp-max", "amber", "drop objects marked above this TLP level (clear, green, amber, amber+strict, red)")
	fl.StringVar(&req.ID, "id", "", "the feed's id (lower-case letters, digits, -; default: from URL and collection)")
	return c
}

// feedsListJSON is what feeds list prints.
type feedsListJSON struct {
	Count int        `json:"count"`
	Feeds []feedJSON `json:"feeds"`
}

func (a *app) feedsListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the feeds and their last pull",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, err := viaServerOrStore(a, cmd.Context(), http.MethodGet, "/v1/feeds", nil,
				func(st store.Store) (feedsListJSON, error) { return listFeeds(cmd.Context(), st) })
			if err != nil {
				return err
			}
			return a.emit(out, func(w io.Writer) error {
				for _, f := range out.Feeds {
					last := "never pulled"
					if f.LastPull != 0 {
						last = fmt.Sprintf("pulled %s: %d objects, %d labels, %d watches", time.Unix(f.LastPull, 0).UTC().Format(time.RFC3339), f.Objects, f.Labels, f.Watches)
					}
					if f.LastError != "" {
						last += " (error: " + f.LastError + ")"
					}
					printf(w, "%s  %s  %s  %s\n", f.ID, f.URL, f.Collection, last)
				}
				printf(w, "%d feeds\n", out.Count)
				return nil
			})
		},
	}
}

func (a *app) feedsRmCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "rm ID",
		Short: "Unsubscribe: remove a feed, its labels and its watches",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := viaServerOrStore(a, cmd.Context(), http.MethodDelete, "/v1/feeds/"+url.PathEscape(args[0]), nil,
				func(st store.Store) (feedsRemoved, error) { return removeFeed(cmd.Context(), st, args[0]) })
			if err != nil {
				return err
			}
			return a.emit(out, func(w io.Writer) error {
				printf(w, "removed feed %s: %d labels, %d watches, %d partner incidents withdrawn\n", out.ID, out.LabelsRemoved, out.WatchesRemoved, out.IncidentsWithdrawn)
				return nil
			})
		},
	}
}

func (a *app) feedsPullCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "pull [ID...]",
		Short: "Pull feeds now (every feed without IDs)",
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := viaServerOrStore(a, cmd.Context(), http.MethodPost, "/v1/feeds/pull", server.FeedPullRequest{IDs: args},
				func(st store.Store) (feedsPulled, error) {
					res, err := pullFeeds(cmd.Context(), st, args, nil)
					return feedsPulled{Pulls: res}, err
				})
			if err != nil {
				return err
			}
			return a.emit(out, func(w io.Writer) error {
				for _, r := range out.Pulls {
					printf(w, "%s: %d objects fetched (added after %s), %d gone, %d kept; %d labels (%d new, %d withdrawn), %d watches (%d withdrawn); partner incidents: %d added, %d updated, %d withdrawn\n",
						r.Feed, r.Fetched, cmp.Or(r.AddedAfter, "the start"), r.Deleted, r.Objects, r.Labels, r.Added, r.Removed, len(r.Watches), len(r.Withdrawn),
						len(r.Incidents.Added), len(r.Incidents.Updated), len(r.Incidents.Withdrawn))
				}
				return nil
			})
		},
	}
}

// feedClient is the HTTP client of feed pulls.
var feedClient = &http.Client{Timeout: time.Minute}

// pullFeeds pulls the feeds named (every feed when none), checking each
// new watch with check (nil: none). It stops at the first failure of a
// named feed; with no names it pulls every feed and returns the first
// error after trying them all.
func pullFeeds(ctx context.Context, st store.Store, ids []string, check func(heistgraph.Watch)) ([]hgshare.PullResult, error) {
	var feeds []store.Feed
	if len(ids) == 0 {
		for f, err := range st.FeedList(ctx) {
			if err != nil {
				return nil, err
			}
			feeds = append(feeds, f)
		}
	}
	for _, id := range ids {
		f, err := st.Feed(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("feeds pull: %w", err)
		}
		feeds = append(feeds, f)
	}
	res := []hgshare.PullResult{}
	var first error
	for _, f := range feeds {
		r, err := hgshare.Pull(ctx, st, f, &taxii.Client{HTTP: feedClient}, time.Now())
		if err != nil {
			if first == nil {
				first = fmt.Errorf("feeds pull: %w", err)
			}
			continue
		}
		res = append(res, r)
		if check != nil {
			for _, w := range r.NewWatches {
				check(w)
			}
		}
	}
	return res, first
}

// startFeedPulls pulls every feed through api now and then every
// interval while ctx lives.
func (a *app) startFeedPulls(ctx context.Context, api *feedsAPI, interval time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if _, err := api.PullFeeds(ctx, nil); err != nil && ctx.Err() == nil {
				a.logger().Warn("pull feeds", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// newFeedsAPI is serve's feeds: the watches a pull adds are checked at
// once (their alerts raised and delivered), and screening is told.
func (a *app) newFeedsAPI(ctx context.Context, st store.Store, watcher *monitor.Watcher, changed func()) *feedsAPI {
	return &feedsAPI{st: st, changed: changed, check: func(w heistgraph.Watch) {
		if _, raised, _, err := watcher.Check(ctx, w); err != nil && ctx.Err() == nil {
			a.logger().Error("check feed watch", "watch", w.Name, "err", err)
		} else if raised > 0 {
			a.logger().Info("feed watch alerts", "watch", w.Name, "raised", raised)
		}
	}}
}
