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
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/incident"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/taxii"
)

// FeedStore is what a pull writes: the feed's labels (one label set), its
// watches, its local copy and record, and the partner's incidents.
type FeedStore interface {
	store.Labels
	store.Watches
	store.Sharing
	store.Incidents
}

// LabelSet is the label set holding a feed's labels.
func LabelSet(feedID string) string { return "feed:" + feedID }

// PullResult is what one pull of a feed did.
type PullResult struct {
	Feed string `json:"feed"`
	// Objects counts the objects of the feed's local copy (what its labels
	// and watches come from); Fetched those this pull fetched (the objects
	// added after the previous pull, and any the partner's manifest lists
	// that the copy lacked); Deleted those the partner no longer has.
	Objects int `json:"objects"`
	Fetched int `json:"fetched"`
	Deleted int `json:"deleted"`
	// AddedAfter is where this pull started (the previous pull's last
	// X-TAXII-Date-Added-Last; "" for everything) and AddedLast where the
	// next one starts.
	AddedAfter string `json:"added_after,omitempty"`
	AddedLast  string `json:"added_last,omitempty"`
	Labels     int    `json:"labels"`
	Added      int    `json:"labels_added"`
	Removed    int    `json:"labels_removed"`
	// Watches are the feed's watches after the pull; NewWatches those it
	// added and Withdrawn those it removed (the partner withdrew or
	// revoked the incident).
	Watches    []string           `json:"watches"`
	NewWatches []heistgraph.Watch `json:"-"`
	Withdrawn  []string           `json:"withdrawn"`
	Revoked    int                `json:"revoked"`
	Dropped    int                `json:"dropped_tlp"`
	Unknown    map[string]int     `json:"unknown"`
	// Incidents says what the pull did to the partner's incidents in the
	// register.
	Incidents incident.PartnerSaved `json:"incidents"`
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

// Pull pulls f's collection with c and f's key, incrementally: the
// objects added after the previous pull's X-TAXII-Date-Added-Last
// (f.AddedLast), following the partner's paging, join the feed's local
// copy (store.FeedCollection); the partner's manifest then tells which
// objects it no longer has (they leave the copy: withdrawn) and which
// versions the copy lacks (fetched by id). The copy is read as Read does
// (the latest version of each object) and replaces the feed's labels
// (label set LabelSet(f.ID): labels the partner withdrew or revoked go).
// With f.AsWatches each partner incident with addresses becomes one watch
// (the incident's own seeds when a heistgraph partner publishes them, else
// its addresses), and the feed's watches of incidents no longer published
// are removed. The feed's record keeps the outcome, where the next pull
// starts, and the error of a failed pull (which starts the next pull where
// it started).
func Pull(ctx context.Context, st FeedStore, f store.Feed, c *taxii.Client, now time.Time) (PullResult, error) {
	res, err := pull(ctx, st, f, c, now)
	f.LastPull = now.Unix()
	f.LastError = ""
	if err != nil {
		f.LastError = err.Error()
	} else {
		f.Objects, f.Labels, f.Watches, f.AddedLast = res.Objects, res.Labels, len(res.Watches), res.AddedLast
	}
	if perr := st.PutFeed(ctx, f); perr != nil && err == nil {
		err = perr
	}
	return res, err
}

// fetchIDs is how many ids one match[id] request names.
const fetchIDs = 50

// syncCopy brings the feed's local copy up to date with the partner's
// collection and returns the copy's objects.
func syncCopy(ctx context.Context, st FeedStore, f store.Feed, c *taxii.Client, now time.Time, res *PullResult) ([]json.RawMessage, error) {
	coll := taxii.CollectionURL(f.URL, f.Collection)
	local := store.FeedCollection(f.ID)
	raws, last, err := c.ObjectsAfter(ctx, coll, f.AddedLast, nil)
	if err != nil {
		return nil, err
	}
	res.AddedAfter, res.AddedLast = f.AddedLast, last
	if err := putCopy(ctx, st, local, raws, now); err != nil {
		return nil, err
	}
	res.Fetched = len(raws)
	man, err := c.Manifest(ctx, coll)
	hasManifest := true
	var he *taxii.HTTPError
	switch {
	case errors.As(err, &he) && (he.Status == 404 || he.Status == 405 || he.Status == 501):
		hasManifest = false // nothing to reconcile with
	case err != nil:
		return nil, err
	}
	have := map[string][]int64{}
	for so, err := range st.SharedObjects(ctx, local) {
		if err != nil {
			return nil, err
		}
		have[so.ID] = append(have[so.ID], so.Version)
	}
	if hasManifest {
		listed := map[string]bool{}
		var missing []string
		for _, m := range man {
			listed[m.ID] = true
			v, err := taxii.ParseTimestamp(m.Version)
			if err != nil {
				return nil, fmt.Errorf("manifest of %s: object %s: version %q: %w", coll, m.ID, m.Version, heistgraph.ErrInvalid)
			}
			if !slices.ContainsFunc(have[m.ID], func(h int64) bool {
				return time.Unix(0, h).Truncate(time.Millisecond).Equal(v.Truncate(time.Millisecond))
			}) && !slices.Contains(missing, m.ID) {
				missing = append(missing, m.ID)
			}
		}
		var gone []store.SharedVersion
		for id, vs := range have {
			if !listed[id] {
				for _, v := range vs {
					gone = append(gone, store.SharedVersion{ID: id, Version: v})
				}
				res.Deleted++
			}
		}
		if err := st.DeleteSharedObjects(ctx, local, gone); err != nil {
			return nil, err
		}
		for len(missing) > 0 {
			n := min(len(missing), fetchIDs)
			got, err := c.Objects(ctx, coll, url.Values{"match[id]": {strings.Join(missing[:n], ",")}})
			if err != nil {
				return nil, err
			}
			if err := putCopy(ctx, st, local, got, now); err != nil {
				return nil, err
			}
			res.Fetched += len(got)
			missing = missing[n:]
		}
	}
	var out []json.RawMessage
	for so, err := range st.SharedObjects(ctx, local) {
		if err != nil {
			return nil, err
		}
		out = append(out, so.Raw)
	}
	return out, nil
}

// putCopy adds raws to the feed's local copy; an object that is no STIX
// object is refused with the pull.
func putCopy(ctx context.Context, st FeedStore, local string, raws []json.RawMessage, now time.Time) error {
	objs := make([]store.SharedObject, 0, len(raws))
	for i, raw := range raws {
		o, err := taxii.ObjectOf(raw, now)
		if err != nil {
			return fmt.Errorf("object %d: %w", i, err)
		}
		objs = append(objs, store.SharedObject{ID: o.ID, Version: o.Version.UnixNano(), DateAdded: now.UnixNano(), Raw: compact(raw)})
	}
	return st.PutSharedObjects(ctx, local, objs)
}

func pull(ctx context.Context, st FeedStore, f store.Feed, c *taxii.Client, now time.Time) (PullResult, error) {
	res := PullResult{Feed: f.ID, Watches: []string{}, Withdrawn: []string{}}
	cl := *c
	cl.Key = f.Key
	raws, err := syncCopy(ctx, st, f, &cl, now, &res)
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
	if f.AsWatches {
		if err := syncWatches(ctx, st, f, p, now, &res); err != nil {
			return res, err
		}
	}
	// The partner's incidents join the register (status partner); those
	// it no longer publishes, or revoked, are withdrawn.
	b := RegisterBatch(p, LabelSet(f.ID), taxii.CollectionURL(f.URL, f.Collection), now)
	b.Complete = true
	if res.Incidents, err = app.SavePartner(ctx, st, b); err != nil {
		return res, fmt.Errorf("feed %s: partner incidents: %w", f.ID, err)
	}
	return res, nil
}

// syncWatches makes the feed's watches those of the partner incidents of
// p: new ones added, withdrawn or changed ones removed.
func syncWatches(ctx context.Context, st FeedStore, f store.Feed, p *Partner, now time.Time, res *PullResult) error {
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
			return err
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
			return err
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
			return fmt.Errorf("feed %s: watch %s: %w", f.ID, n, err)
		}
		res.Watches = append(res.Watches, n)
		res.NewWatches = append(res.NewWatches, w)
	}
	slices.Sort(res.Watches)
	return nil
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
