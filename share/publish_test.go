package share

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/incident"
	"github.com/heistgraph/heistgraph/server"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/taxii"
)

// openStore opens a store in a temporary folder (closed at the end).
func openStore(t *testing.T) *pebble.DB {
	t.Helper()
	db, err := pebble.Open(filepath.Join(t.TempDir(), "store"), pebble.Options{CacheSize: 1 << 20, MemTableSize: 1 << 20})
	if err == nil {
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	t.Fatal(err)
	return nil
}

// stixSchemas compiles the official STIX 2.1 schemas of testdata, by STIX
// type.
func stixSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	byType := map[string]string{}
	root := "testdata/stix-schemas"
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".json" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if err := c.AddResource(id, doc); err != nil {
			return err
		}
		byType[filepath.Base(path[:len(path)-len(".json")])] = id
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*jsonschema.Schema{}
	for _, typ := range []string{"incident", "indicator", "relationship", "identity", "threat-actor", "report", "marking-definition", "intrusion-set", "sighting"} {
		s, err := c.Compile(byType[typ])
		if err != nil {
			t.Fatalf("compile %s: %v", typ, err)
		}
		out[typ] = s
	}
	return out
}

// validate checks raw against the official schema of its type.
func validate(t *testing.T, schemas map[string]*jsonschema.Schema, raw []byte) {
	t.Helper()
	var h struct{ Type string }
	_ = json.Unmarshal(raw, &h)
	s, ok := schemas[h.Type]
	if !ok {
		t.Errorf("served an object of type %q, which this test has no schema for: %s", h.Type, raw)
		return
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("%s does not validate: %v", raw, err)
	}
}

// TestPublishedObjectsValidate serves every collection of a store holding
// the shipped register and a watch, and validates each object under the
// official OASIS STIX 2.1 schemas.
func TestPublishedObjectsValidate(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	w := heistgraph.Watch{Name: "heist-1", Chain: heistgraph.ChainBTCRegtest, Seeds: []string{"bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"}, Policy: "haircut", Created: 1700000000}
	if err := st.PutWatch(ctx, w); err != nil {
		t.Fatal(err)
	}
	// An alert of the watch, and a reorg's retraction of it.
	hit := heistgraph.Alert{Kind: heistgraph.AlertFundsReachedEntity, Chain: w.Chain, Watch: w.Name, TxID: heistgraph.Hash{1}, Vout: 1,
		Address: w.Seeds[0], Entity: "Exchange X", Category: "exchange", AmountSat: 5e8, BlockHeight: 7, BlockHash: heistgraph.Hash{2}, Time: 1700000500}
	hit.IdempotencyKey = hit.Key()
	retraction := heistgraph.Alert{Kind: heistgraph.AlertRetracted, Chain: w.Chain, Watch: w.Name, TxID: hit.TxID, Vout: 1, Entity: "Exchange X",
		BlockHeight: 7, BlockHash: heistgraph.Hash{2}, Time: 1700000600, Retracts: hit.IdempotencyKey, RetractedKind: hit.Kind}
	retraction.IdempotencyKey = retraction.Key()
	if _, err := st.RaiseAlerts(ctx, []heistgraph.Alert{hit}, 1700000501); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RaiseAlerts(ctx, []heistgraph.Alert{retraction}, 1700000601); err != nil {
		t.Fatal(err)
	}
	p := &Publisher{Store: st, Alerts: true}
	schemas := stixSchemas(t)
	for _, col := range []string{CollectionIncidents, CollectionIndicators, CollectionWatches, CollectionAlerts} {
		objs, err := p.Objects(ctx, col)
		if err != nil {
			t.Fatal(err)
		}
		if len(objs) == 0 {
			t.Errorf("%s: no objects", col)
		}
		types := map[string]int{}
		for _, o := range objs {
			validate(t, schemas, o.Raw)
			types[o.Type]++
		}
		t.Logf("%s: %v", col, types)
		if col == CollectionWatches && (types["incident"] != 1 || types["indicator"] != 1 || types["relationship"] != 1 || types["marking-definition"] != 1) {
			t.Errorf("watches collection: %v", types)
		}
		if col == CollectionIndicators && (types["report"] != 0 || types["threat-actor"] != 0 || types["indicator"] == 0) {
			t.Errorf("indicators collection: %v", types)
		}
		if col == CollectionAlerts {
			// The sighting in two versions, the later revoked; of the
			// watch's incident; concerning the exchange.
			if types["sighting"] != 2 || objs[0].ID != objs[1].ID || objs[0].Entity != "Exchange X" ||
				bytes.Contains(objs[0].Raw, []byte(`"revoked"`)) == bytes.Contains(objs[1].Raw, []byte(`"revoked"`)) ||
				!bytes.Contains(objs[0].Raw, []byte(incident.STIXID("incident", "watch|heist-1"))) {
				t.Errorf("alerts collection: %v %s %s", types, objs[0].Raw, objs[1].Raw)
			}
		}
	}
}

// nopBackend answers no /v1 read: the TAXII routes need none.
type nopBackend struct{}

func (nopBackend) Address(context.Context, heistgraph.Chain, string) (any, error) {
	return nil, heistgraph.ErrNotFound
}
func (nopBackend) Tx(context.Context, heistgraph.Chain, heistgraph.Hash) (any, error) {
	return nil, heistgraph.ErrNotFound
}
func (nopBackend) Block(context.Context, heistgraph.Chain, string) (any, error) {
	return nil, heistgraph.ErrNotFound
}
func (nopBackend) Cluster(context.Context, heistgraph.Chain, uint64) (any, error) {
	return nil, heistgraph.ErrNotFound
}
func (nopBackend) Incidents(context.Context) (any, error)        { return nil, heistgraph.ErrNotFound }
func (nopBackend) Incident(context.Context, string) (any, error) { return nil, heistgraph.ErrNotFound }
func (nopBackend) Labels(context.Context, server.LabelQuery) (any, error) {
	return nil, heistgraph.ErrNotFound
}
func (nopBackend) PutLabels(context.Context, []heistgraph.Label) (any, error) {
	return nil, heistgraph.ErrNotFound
}
func (nopBackend) Screen(context.Context, server.ScreenRequest) (server.ScreenResult, error) {
	return server.ScreenResult{}, heistgraph.ErrNotFound
}

// partnerServer serves st's collections over TAXII with a viewer key of
// clearance tlp; it returns the API root URL and the key.
func partnerServer(t *testing.T, st *pebble.DB, watchTLP, keyTLP string) (string, string) {
	return partnerServerKey(t, st, watchTLP, server.KeyRequest{Role: "viewer", TLPMax: keyTLP})
}

// partnerServerKey is partnerServer with the key that req asks for.
func partnerServerKey(t *testing.T, st *pebble.DB, watchTLP string, req server.KeyRequest) (string, string) {
	t.Helper()
	srv, err := server.New(server.Config{Sharing: &Publisher{Store: st, WatchTLP: watchTLP}}, nopBackend{}, st, st)
	if err != nil {
		t.Fatal(err)
	}
	k, err := server.CreateKey(context.Background(), st, req, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	return hs.URL + "/taxii2/api/", k.Key
}

func feedWatches(t *testing.T, st store.Watches) []heistgraph.Watch {
	t.Helper()
	var out []heistgraph.Watch
	for w, err := range st.WatchList(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, w)
	}
	return out
}

// TestPullFeedAsWatches: partner A publishes a watch; B pulls A's watches
// collection as watches and gets one watch with A's seeds naming A's
// incident, and labels; when A withdraws the watch, B's next pull
// withdraws B's watch and labels. A key without the clearance of A's
// marking gets nothing.
func TestPullFeedAsWatches(t *testing.T) {
	ctx := context.Background()
	a, b := openStore(t), openStore(t)
	seed := "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
	wa := heistgraph.Watch{Name: "exchange-x-hack", Chain: heistgraph.ChainBTCRegtest, Seeds: []string{seed}, Policy: "haircut", Created: 1700000000}
	if err := a.PutWatch(ctx, wa); err != nil {
		t.Fatal(err)
	}
	url, key := partnerServer(t, a, "amber", "amber")
	f := store.Feed{ID: "partner-a", URL: url, Collection: CollectionWatches, Key: key, AsWatches: true, TLPMax: "amber"}
	res, err := Pull(ctx, b, f, &taxii.Client{}, time.Unix(1700000100, 0))
	if err != nil {
		t.Fatal(err)
	}
	ws := feedWatches(t, b)
	if len(ws) != 1 || !slices.Equal(ws[0].Seeds, []string{seed}) || ws[0].Chain != heistgraph.ChainBTCRegtest ||
		ws[0].Incident != "partner:partner-a:exchange-x-hack (incident--"+ws[0].Incident[len("partner:partner-a:exchange-x-hack (incident--"):] {
		t.Fatalf("B's watches %+v", ws)
	}
	if res.Labels != 1 || res.Added != 1 || len(res.NewWatches) != 1 {
		t.Errorf("pull %+v", res)
	}
	ls, err := b.AddressLabels(ctx, heistgraph.ChainBTCRegtest, seed)
	if err != nil || len(ls) != 1 || ls[0].Entity != "exchange-x-hack" || ls[0].Category != "stolen" || ls[0].TLP != "amber" || ls[0].Source != "feed:partner-a" {
		t.Errorf("B's labels %+v %v", ls, err)
	}
	stored, err := b.Feed(ctx, "partner-a")
	if err != nil || stored.LastPull != 1700000100 || stored.Watches != 1 || stored.LastError != "" {
		t.Errorf("feed record %+v %v", stored, err)
	}
	// A second pull changes nothing.
	if res, err = Pull(ctx, b, f, &taxii.Client{}, time.Unix(1700000200, 0)); err != nil || len(res.NewWatches) != 0 || res.Added != 0 {
		t.Errorf("second pull %+v %v", res, err)
	}
	// A withdraws its watch: B withdraws its own and the label.
	if err := a.DeleteWatch(ctx, wa.Name); err != nil {
		t.Fatal(err)
	}
	res, err = Pull(ctx, b, f, &taxii.Client{}, time.Unix(1700000300, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(feedWatches(t, b)) != 0 || res.Removed != 1 || len(res.Withdrawn) != 1 {
		t.Errorf("after A withdrew: watches %+v, pull %+v", feedWatches(t, b), res)
	}

	// A green key never sees A's amber objects.
	if err := a.PutWatch(ctx, wa); err != nil {
		t.Fatal(err)
	}
	c := openStore(t)
	urlG, keyG := partnerServer(t, a, "amber", "green")
	res, err = Pull(ctx, c, store.Feed{ID: "green", URL: urlG, Collection: CollectionWatches, Key: keyG, AsWatches: true}, &taxii.Client{}, time.Now())
	if err != nil || res.Objects != 1 || res.Labels != 0 || len(feedWatches(t, c)) != 0 {
		t.Errorf("green key: pull %+v (want only the marking definition), %v", res, err)
	}
	// A wrong key: the pull fails and the feed records why.
	_, err = Pull(ctx, c, store.Feed{ID: "bad", URL: urlG, Collection: CollectionWatches, Key: "hg_wrong"}, &taxii.Client{}, time.Now())
	bad, ferr := c.Feed(ctx, "bad")
	if err == nil || ferr != nil || bad.LastError == "" {
		t.Errorf("wrong key: %v, feed %+v %v", err, bad, ferr)
	}
}

// TestWithObservables adds OpenCTI's wallet observables to an export of
// the register: one per address, each with a based-on relationship from
// its indicator, all valid under the official schemas where there is one,
// the same bytes twice, and read back as the same addresses.
func TestWithObservables(t *testing.T) {
	ctx := context.Background()
	reg, _, err := app.Register(ctx, openStore(t))
	if err != nil {
		t.Fatal(err)
	}
	inc, ok := reg.Incident("ronin-bridge-2022")
	if !ok {
		t.Fatal("the shipped register lacks ronin-bridge-2022")
	}
	b, err := incident.Export([]heistgraph.Incident{inc}, reg.Sources(), incident.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := WithObservables(b)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := WithObservables(b)
	if !bytes.Equal(out, again) {
		t.Error("two runs differ")
	}
	var bundle struct {
		ID      string
		Objects []json.RawMessage
	}
	if err := json.Unmarshal(out, &bundle); err != nil {
		t.Fatal(err)
	}
	schemas := stixSchemas(t)
	wallets, basedOn, indicators := map[string]string{}, 0, 0
	for _, raw := range bundle.Objects {
		var o struct {
			Type, ID, Value  string
			RelationshipType string `json:"relationship_type"`
		}
		_ = json.Unmarshal(raw, &o)
		switch {
		case o.Type == "cryptocurrency-wallet":
			wallets[o.ID] = o.Value
		case o.Type == "relationship" && o.RelationshipType == "based-on":
			basedOn++
			validate(t, schemas, raw)
		case o.Type == "indicator":
			indicators++
		}
	}
	if len(wallets) == 0 || basedOn != indicators || len(wallets) > indicators {
		t.Errorf("%d wallets, %d based-on, %d indicators", len(wallets), basedOn, indicators)
	}
	plain, err := Read(bytes.NewReader(b), ReadOptions{Source: "x"})
	if err != nil {
		t.Fatal(err)
	}
	with, err := Read(bytes.NewReader(out), ReadOptions{Source: "x"})
	if err != nil {
		t.Fatal(err)
	}
	addrs := func(p *Partner) string {
		var s []string
		for _, l := range p.Labels {
			s = append(s, string(l.Chain)+":"+l.Address)
		}
		return strings.Join(slices.Compact(s), " ")
	}
	if addrs(plain) == "" || addrs(plain) != addrs(with) {
		t.Errorf("addresses without observables %q, with %q", addrs(plain), addrs(with))
	}
}

// TestEntityScope: a key scoped to an incident's victim reads, of the
// incidents collection, that incident and what concerns it (its victim,
// indicators, relationships) and the shared context (actors, producer,
// markings), and nothing of other incidents; watches concern no victim.
func TestEntityScope(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	if err := st.PutWatch(ctx, heistgraph.Watch{Name: "w", Chain: heistgraph.ChainBTCRegtest, Seeds: []string{"bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"}, Policy: "haircut", Created: 1}); err != nil {
		t.Fatal(err)
	}
	all, err := (&Publisher{Store: st}).Objects(ctx, CollectionIncidents)
	if err != nil {
		t.Fatal(err)
	}
	victim := ""
	for _, o := range all {
		if o.Type == "incident" && bytes.Contains(o.Raw, []byte(`"x_heistgraph_id":"ronin-bridge-2022"`)) {
			victim = o.Entity
		}
	}
	if victim == "" || victim == taxii.AnyEntity {
		t.Fatalf("ronin-bridge-2022 concerns %q", victim)
	}
	url, key := partnerServerKey(t, st, "green", server.KeyRequest{Role: "viewer", Entity: victim, TLPMax: "red"})
	c := &taxii.Client{Key: key}
	got, err := c.Objects(ctx, taxii.CollectionURL(url, CollectionIncidents), nil)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	for _, raw := range got {
		var o struct {
			Type string
			XID  string `json:"x_heistgraph_id"`
		}
		_ = json.Unmarshal(raw, &o)
		types[o.Type]++
		if o.Type == "incident" && o.XID != "ronin-bridge-2022" {
			t.Errorf("a key scoped to %s read incident %s", victim, o.XID)
		}
		if o.Type == "report" {
			t.Errorf("a scoped key read a report spanning incidents")
		}
	}
	if types["incident"] != 1 || types["indicator"] == 0 || types["threat-actor"] == 0 || len(got) >= len(all) {
		t.Errorf("scoped key read %v of %d objects", types, len(all))
	}
	w, err := c.Objects(ctx, taxii.CollectionURL(url, CollectionWatches), nil)
	if err != nil || len(w) != 1 {
		t.Errorf("scoped key read %d objects of the watches collection (want only the marking), %v", len(w), err)
	}
}

// TestPullFetchesWhatTheManifestLists: objects the partner added with a
// date before the point the feed resumes from (a clock set back, a
// register import of old incidents) are not in the incremental page, but
// the partner's manifest lists them: the pull fetches them by id.
func TestPullFetchesWhatTheManifestLists(t *testing.T) {
	ctx := context.Background()
	a, b := openStore(t), openStore(t)
	seed := "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
	if err := a.PutWatch(ctx, heistgraph.Watch{Name: "old-hack", Chain: heistgraph.ChainBTCRegtest, Seeds: []string{seed}, Policy: "haircut", Created: 1600000000}); err != nil {
		t.Fatal(err)
	}
	url, key := partnerServer(t, a, "green", "green")
	f := store.Feed{ID: "partner-a", URL: url, Collection: CollectionWatches, Key: key, AsWatches: true, TLPMax: "amber",
		AddedLast: "2100-01-01T00:00:00.000000Z"}
	res, err := Pull(ctx, b, f, &taxii.Client{}, time.Unix(1700000100, 0))
	if err != nil {
		t.Fatal(err)
	}
	if res.Fetched != 4 || res.Objects != 4 || res.Labels != 1 || len(res.Watches) != 1 || res.AddedLast != f.AddedLast {
		t.Errorf("pull %+v", res)
	}
	// Again: the copy has every listed version, nothing is fetched.
	if res, err = Pull(ctx, b, f, &taxii.Client{}, time.Unix(1700000200, 0)); err != nil || res.Fetched != 0 || res.Objects != 4 {
		t.Errorf("second pull %+v, %v", res, err)
	}
}

// TestInboxPostAndDelete: a partner posts two versions of an indicator to
// the inbox over HTTP and deletes one, then the other: the store keeps
// exactly what is left, and a deleted version is not served again.
func TestInboxPostAndDelete(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	root, key := partnerServerKey(t, st, "green", server.KeyRequest{Role: "analyst", TLPMax: "amber"})
	do := func(method, path, body string) int {
		t.Helper()
		req, err := http.NewRequest(method, root+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Accept", taxii.MediaType)
		if body != "" {
			req.Header.Set("Content-Type", taxii.MediaType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	const id = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
	obj := func(modified string) string {
		return `{"type":"indicator","spec_version":"2.1","id":"` + id + `","created":"2024-01-01T00:00:00.000Z","modified":"` + modified +
			`","pattern":"[cryptocurrency-wallet:value = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`
	}
	if code := do("POST", "collections/heistgraph-inbox/objects/", `{"objects":[`+obj("2024-01-01T00:00:00.000Z")+`,`+obj("2024-02-01T00:00:00.000Z")+`]}`); code != 202 {
		t.Fatalf("post: %d", code)
	}
	stored := func() []int64 {
		var vs []int64
		for so, err := range st.SharedObjects(ctx, CollectionInbox) {
			if err != nil {
				t.Fatal(err)
			}
			vs = append(vs, so.Version)
		}
		return vs
	}
	if got := stored(); len(got) != 2 {
		t.Fatalf("stored %v", got)
	}
	if code := do("DELETE", "collections/heistgraph-inbox/objects/"+id+"/?match[version]=first", ""); code != 200 {
		t.Fatalf("delete the first version: %d", code)
	}
	if got := stored(); len(got) != 1 || got[0] != time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC).UnixNano() {
		t.Errorf("after deleting the first version: %v", got)
	}
	if code := do("DELETE", "collections/heistgraph-incidents/objects/"+id+"/", ""); code != 403 {
		t.Errorf("delete from a generated collection: %d, want 403", code)
	}
	if code := do("DELETE", "collections/heistgraph-inbox/objects/"+id+"/", ""); code != 200 {
		t.Fatalf("delete the rest: %d", code)
	}
	if got := stored(); len(got) != 0 {
		t.Errorf("after deleting every version: %v", got)
	}
	if code := do("GET", "collections/heistgraph-inbox/objects/"+id+"/", ""); code != 404 {
		t.Errorf("get a deleted object: %d", code)
	}
}
