package share

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/taxii"
)

// FeedStore is what a pull writes: the feed's labels (one label set), its
// watches and the feed's record.
type FeedStore interface {
	store.Labels
	store.Watches
	store.Sharing
}

// LabelSet is the label set holding a feed's labels.
func LabelSet(feedID string) string { return "feed:" + feedID }

// PullResult is what one pull of a feed did.
type PullResult struct {
	Feed    string `json:"feed"`
	Objects int    `json:"objects"`
	Labels  int    `json:"labels"`
	Added   int    `json:"labels_added"`
	Removed int    `json:"labels_removed"`
	// Watches are the feed's watches after the pull; NewWatches those it
	// added and Withdrawn those it removed (the partner withdrew or
	// revoked the incident).
	Watches    []string           `json:"watches"`
	NewWatches []heistgraph.Watch `json:"-"`
	Withdrawn  []string           `json:"withdrawn"`
	Revoked    int                `json:"revoked"`
	Dropped    int                `json:"dropped_tlp"`
	Unknown    map[string]int     `json:"unknown"`
}

// FeedWatchName is the name of the watch a feed keeps for a partner
// incident: the feed id, the incident's name made a watch name, and a
// short hash of its STIX id (so two incidents of one name differ).
func FeedWatchName(feedID string, inc Incident) string {
	h := sha256.Sum256([]byte(inc.ID))
	var slug strings.Builder
	for _, r := range strings.ToLower(inc.Name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			slug.WriteRune(r)
		case slug.Len() > 0 && !strings.HasSuffix(slug.String(), "-"):
			slug.WriteByte('-')
		}
	}
	s := strings.Trim(slug.String(), "-")
	room := heistgraph.MaxWatchName - len(feedID) - 2 - 8
	if len(s) > room {
		s = strings.Trim(s[:max(room, 0)], "-")
	}
	if s == "" {
		return feedID + "-" + hex.EncodeToString(h[:4])
	}
	return feedID + "-" + s + "-" + hex.EncodeToString(h[:4])
}

// PartnerIncidentRef is what a feed's watch records as its incident (and
// its alerts carry): the feed, the partner incident's name and STIX id.
func PartnerIncidentRef(feedID string, inc Incident) string {
	return "partner:" + feedID + ":" + inc.Name + " (" + inc.ID + ")"
}

// Pull fetches, with c and f's key, every object of f's collection (the latest version of
// each), reads them as Read does and replaces the feed's labels with what
// they give (label set LabelSet(f.ID): labels the partner withdrew or
// revoked go). With f.AsWatches each partner incident with addresses
// becomes one watch (the incident's own seeds when a heistgraph partner
// publishes them, else its addresses), and the feed's watches of
// incidents no longer published are removed. The feed's record keeps the
// outcome (and the error of a failed pull).
func Pull(ctx context.Context, st FeedStore, f store.Feed, c *taxii.Client, now time.Time) (PullResult, error) {
	res, err := pull(ctx, st, f, c, now)
	f.LastPull = now.Unix()
	f.LastError = ""
	if err != nil {
		f.LastError = err.Error()
	} else {
		f.Objects, f.Labels, f.Watches = res.Objects, res.Labels, len(res.Watches)
	}
	if perr := st.PutFeed(ctx, f); perr != nil && err == nil {
		err = perr
	}
	return res, err
}

func pull(ctx context.Context, st FeedStore, f store.Feed, c *taxii.Client, now time.Time) (PullResult, error) {
	res := PullResult{Feed: f.ID, Watches: []string{}, Withdrawn: []string{}}
	cl := *c
	cl.Key = f.Key
	raws, err := cl.Objects(ctx, taxii.CollectionURL(f.URL, f.Collection), nil)
	if err != nil {
		return res, fmt.Errorf("feed %s: %w", f.ID, err)
	}
	p, err := Read(bundleReader(raws), ReadOptions{Source: LabelSet(f.ID), TLPMax: f.TLPMax})
	if err != nil {
		return res, fmt.Errorf("feed %s: %w", f.ID, err)
	}
	res.Objects, res.Labels, res.Revoked, res.Dropped, res.Unknown = p.Objects, len(p.Labels), len(p.Revoked), p.Dropped, p.Unknown
	res.Added, res.Removed, err = st.ReplaceLabelSet(ctx, LabelSet(f.ID), now.UTC().Format(time.RFC3339Nano), p.Labels)
	if err != nil {
		return res, fmt.Errorf("feed %s: labels: %w", f.ID, err)
	}
	if !f.AsWatches {
		return res, nil
	}
	want := map[string]heistgraph.Watch{}
	for _, inc := range p.Incidents {
		if w, ok := feedWatch(f.ID, inc, now); ok {
			want[w.Name] = w
		}
	}
	prefix := f.ID + "-"
	var have []heistgraph.Watch
	for w, err := range st.WatchList(ctx) {
		if err != nil {
			return res, err
		}
		if strings.HasPrefix(w.Name, prefix) && strings.HasPrefix(w.Incident, "partner:"+f.ID+":") {
			have = append(have, w)
		}
	}
	for _, w := range have {
		nw, ok := want[w.Name]
		if ok && nw.Chain == w.Chain && slices.Equal(nw.Seeds, w.Seeds) {
			delete(want, w.Name)
			res.Watches = append(res.Watches, w.Name)
			continue
		}
		// Withdrawn, revoked or changed: remove (a changed one is added
		// again below with its new seeds).
		if err := st.DeleteWatch(ctx, w.Name); err != nil && !errors.Is(err, heistgraph.ErrNotFound) {
			return res, err
		}
		if !ok {
			res.Withdrawn = append(res.Withdrawn, w.Name)
		}
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		w := want[n]
		if err := st.PutWatch(ctx, w); err != nil {
			return res, fmt.Errorf("feed %s: watch %s: %w", f.ID, n, err)
		}
		res.Watches = append(res.Watches, n)
		res.NewWatches = append(res.NewWatches, w)
	}
	slices.Sort(res.Watches)
	return res, nil
}

// feedWatch is the watch of a partner incident: its own chain and seeds
// when published (x_heistgraph_chain, x_heistgraph_seeds), else its
// addresses on the one chain they share.
func feedWatch(feedID string, inc Incident, now time.Time) (heistgraph.Watch, bool) {
	w := heistgraph.Watch{Name: FeedWatchName(feedID, inc), Policy: "haircut", Created: now.Unix(), Incident: PartnerIncidentRef(feedID, inc)}
	if inc.Chain != "" && len(inc.Seeds) > 0 {
		c, err := heistgraph.ParseChain(inc.Chain)
		if err == nil {
			w.Chain, w.Seeds = c, slices.Clone(inc.Seeds)
			return w, true
		}
	}
	for _, a := range inc.Addresses {
		chain, addr, _ := strings.Cut(a, ":")
		c := heistgraph.Chain(chain)
		if c == heistgraph.ChainEVM {
			continue // an EVM address needs its chain to be watched
		}
		if w.Chain == "" {
			w.Chain = c
		}
		if c == w.Chain {
			w.Seeds = append(w.Seeds, addr)
		}
	}
	return w, len(w.Seeds) > 0
}

// bundleReader streams raws as one bundle.
func bundleReader(raws []json.RawMessage) io.Reader {
	rs := []io.Reader{strings.NewReader(`{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000000","objects":[`)}
	for i, r := range raws {
		if i > 0 {
			rs = append(rs, strings.NewReader(","))
		}
		rs = append(rs, bytes.NewReader(r))
	}
	return io.MultiReader(append(rs, strings.NewReader("]}"))...)
}
