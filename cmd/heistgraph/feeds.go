package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/label"
	"github.com/heistgraph/heistgraph/monitor"
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
}

func feedView(f store.Feed) feedJSON {
	return feedJSON{ID: f.ID, URL: f.URL, Collection: f.Collection, AsWatches: f.AsWatches, TLPMax: f.TLPMax, Created: f.Created,
		LastPull: f.LastPull, Objects: f.Objects, Labels: f.Labels, Watches: f.Watches, LastError: f.LastError}
}

func (a *app) feedsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "feeds",
		Short: "Partners' TAXII 2.1 feeds: their flagged addresses become labels (and watches)",
		Long: `Partners' TAXII 2.1 collections that heistgraph pulls. Each pull replaces the feed's
labels (source feed:<id>) with the addresses its indicators and observables give, so
what a partner withdraws or revokes goes. With --as-watches each partner incident
also becomes one watch (its alerts name the partner's incident). serve pulls every
feed each --feeds-every; feeds pull pulls now. These commands open the store: stop
a serve that holds --data first.`,
	}
	c.AddCommand(a.feedsAddCmd(), a.feedsListCmd(), a.feedsRmCmd(), a.feedsPullCmd())
	return c
}

func (a *app) feedsAddCmd() *cobra.Command {
	var f store.Feed
	c := &cobra.Command{
		Use:   "add URL --collection ID --key K [--as-watches] [--tlp-max amber]",
		Short: "Subscribe to a partner's TAXII 2.1 collection (URL: its API root)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := url.Parse(args[0])
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return usageError{fmt.Errorf("feeds add: URL %q: want http(s)://host/.../ (the partner's TAXII API root): %w", args[0], heistgraph.ErrInvalid)}
			}
			if f.Collection == "" {
				return usageError{fmt.Errorf("feeds add: --collection is required: %w", heistgraph.ErrInvalid)}
			}
			tlp, err := label.ParseTLP(f.TLPMax)
			if err != nil {
				return usageError{fmt.Errorf("feeds add: --tlp-max: %w", err)}
			}
			if tlp == label.TLPClear {
				tlp = "clear"
			}
			f.URL, f.TLPMax, f.Created = args[0], tlp, time.Now().Unix()
			if f.ID == "" {
				h := sha256.Sum256([]byte(f.URL + "\x00" + f.Collection))
				f.ID = "feed-" + hex.EncodeToString(h[:5])
			}
			if err := store.ValidateFeedID(f.ID); err != nil {
				return usageError{fmt.Errorf("feeds add: --id: %w", err)}
			}
			return a.withStore(cmd.Context(), func(st store.Store) error {
				if err := st.PutFeed(cmd.Context(), f); err != nil {
					return fmt.Errorf("feeds add: %w", err)
				}
				v := feedView(f)
				return a.emit(v, func(w io.Writer) error {
					printf(w, "feed %s: %s collection %s (as watches: %v, up to TLP:%s)\n", v.ID, v.URL, v.Collection, v.AsWatches, v.TLPMax)
					return nil
				})
			})
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.Collection, "collection", "", "the partner's collection id (heistgraph-watches, heistgraph-indicators, ...)")
	fl.StringVar(&f.Key, "key", "", "the API key the partner gave (sent as Bearer)")
	fl.BoolVar(&f.AsWatches, "as-watches", false, "make each partner incident a watch whose alerts name it")
	fl.StringVar(&f.TLPMax, "tlp-max", "amber", "drop objects marked above this TLP level (clear, green, amber, amber+strict, red)")
	fl.StringVar(&f.ID, "id", "", "the feed's id (lower-case letters, digits, -; default: from URL and collection)")
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
			return a.withStore(cmd.Context(), func(st store.Store) error {
				out := feedsListJSON{Feeds: []feedJSON{}}
				for f, err := range st.FeedList(cmd.Context()) {
					if err != nil {
						return err
					}
					out.Feeds = append(out.Feeds, feedView(f))
				}
				out.Count = len(out.Feeds)
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
			ctx := cmd.Context()
			return a.withStore(ctx, func(st store.Store) error {
				f, err := st.Feed(ctx, args[0])
				if err != nil {
					return fmt.Errorf("feeds rm: %w", err)
				}
				_, removed, err := st.ReplaceLabelSet(ctx, hgshare.LabelSet(f.ID), "removed", nil)
				if err != nil {
					return fmt.Errorf("feeds rm %s: %w", f.ID, err)
				}
				var gone []string
				for w, err := range st.WatchList(ctx) {
					if err != nil {
						return err
					}
					if len(w.Incident) > len("partner:"+f.ID+":") && w.Incident[:len("partner:"+f.ID+":")] == "partner:"+f.ID+":" {
						gone = append(gone, w.Name)
					}
				}
				for _, n := range gone {
					if err := st.DeleteWatch(ctx, n); err != nil {
						return fmt.Errorf("feeds rm %s: %w", f.ID, err)
					}
				}
				if err := st.DeleteFeed(ctx, f.ID); err != nil {
					return fmt.Errorf("feeds rm: %w", err)
				}
				out := map[string]any{"id": f.ID, "labels_removed": removed, "watches_removed": len(gone)}
				return a.emit(out, func(w io.Writer) error {
					printf(w, "removed feed %s: %d labels, %d watches\n", f.ID, removed, len(gone))
					return nil
				})
			})
		},
	}
}

func (a *app) feedsPullCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "pull [ID...]",
		Short: "Pull feeds now (every feed without IDs)",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return a.withStore(ctx, func(st store.Store) error {
				res, err := pullFeeds(ctx, st, args, nil)
				if err != nil {
					return err
				}
				out := map[string]any{"pulls": res}
				return a.emit(out, func(w io.Writer) error {
					for _, r := range res {
						printf(w, "%s: %d objects, %d labels (%d new, %d withdrawn), %d watches (%d withdrawn)\n",
							r.Feed, r.Objects, r.Labels, r.Added, r.Removed, len(r.Watches), len(r.Withdrawn))
					}
					return nil
				})
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

// startFeedPulls pulls every feed now and then every interval while ctx
// lives, checking the watches each pull adds with watcher and telling
// changed (labels and watches screen) after each pull.
func (a *app) startFeedPulls(ctx context.Context, st store.Store, watcher *monitor.Watcher, interval time.Duration, changed func()) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			res, err := pullFeeds(ctx, st, nil, func(w heistgraph.Watch) {
				if _, raised, _, err := watcher.Check(ctx, w); err != nil && ctx.Err() == nil {
					a.logger().Error("check feed watch", "watch", w.Name, "err", err)
				} else if raised > 0 {
					a.logger().Info("feed watch alerts", "watch", w.Name, "raised", raised)
				}
			})
			if err != nil && ctx.Err() == nil {
				a.logger().Warn("pull feeds", "err", err)
			}
			if len(res) > 0 {
				changed()
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
