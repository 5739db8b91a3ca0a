package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/monitor"
	"github.com/heistgraph/heistgraph/risk"
	"github.com/heistgraph/heistgraph/server"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// cacheRig is serve's backend on a copy of the small world with two
// servers over it: one with the answer cache (as serve runs) and one
// without, so that what the cache gives can be compared with what the same
// backend computes at the same moment.
type cacheRig struct {
	st       *pebble.DB
	backend  *apiBackend
	cached   http.Handler
	uncached http.Handler
	reg      *prometheus.Registry // the cached server's
}

func newCacheRig(t *testing.T, data string) *cacheRig {
	t.Helper()
	st, err := pebble.Open(data, pebble.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	backend := newAPIBackend(st, nil)
	rig := &cacheRig{st: st, backend: backend, reg: prometheus.NewRegistry()}
	mk := func(reg *prometheus.Registry, size int64) http.Handler {
		cfg := server.Config{LocalKey: "k", Registry: reg, ScreenCache: size, Watches: st, Alerts: st, Webhooks: st}
		cfg.Watcher = &monitor.Watcher{Store: st, Changed: backend.screening.invalidate}
		srv, err := server.New(cfg, backend, st, st)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)
		return srv.Handler()
	}
	rig.cached = mk(rig.reg, 0)
	rig.uncached = mk(prometheus.NewRegistry(), -1)
	t.Cleanup(func() {
		backend.close()
		st.Close()
	})
	backend.start()
	return rig
}

func call(t *testing.T, h http.Handler, method, path, body string) (int, []byte) {
	t.Helper()
	req := httptest.NewRequestWithContext(context.Background(), method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer k")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code, w.Body.Bytes()
}

// hits returns the cached server's count of answers given from the cache.
func (rig *cacheRig) hits(t *testing.T) float64 {
	t.Helper()
	mfs, err := rig.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "heistgraph_screen_cache_hits_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("no heistgraph_screen_cache_hits_total")
	return 0
}

// screen asks the cached server twice (the second answer comes from the
// cache when the first was kept) and the uncached one once; all three must
// be the same bytes. It returns the status and the answer.
func (rig *cacheRig) screen(t *testing.T, when, body string) (int, string) {
	t.Helper()
	c1, a1 := call(t, rig.cached, "POST", "/v1/screen", body)
	c2, a2 := call(t, rig.cached, "POST", "/v1/screen", body)
	cu, au := call(t, rig.uncached, "POST", "/v1/screen", body)
	if c1 != cu || c2 != cu || !bytes.Equal(a1, au) || !bytes.Equal(a2, au) {
		t.Fatalf("%s, %s: the cached server answered\n%d %s\nthen\n%d %s\nthe same backend without the cache\n%d %s", when, body, c1, a1, c2, a2, cu, au)
	}
	return cu, string(au)
}

// TestServeScreenCache checks serve's answer cache against the same
// backend without it, and against a new backend (what a restarted serve
// answers), after every kind of write that changes answers while serve
// runs: a label written through the API, a watch added and removed
// through the API, a reorg (blocks rewound in the store, as following a
// node does), and a label that becomes valid while its answer is kept.
// Each write is checked to change an answer, so a missing invalidation
// shows as a kept answer that differs from the computed one.
func TestServeScreenCache(t *testing.T) {
	dir, data, truth := world(t)
	_ = dir
	rig := newCacheRig(t, data)
	ctx := context.Background()
	chain := heistgraph.ChainBTCRegtest
	var exchange, user string
	for _, e := range truth.Entities {
		switch {
		case e.Category == "exchange" && exchange == "" && len(e.Addresses) > 0:
			exchange = e.Addresses[0]
		case e.Category == "user" && user == "" && len(e.Addresses) > 0:
			user = e.Addresses[0]
		}
	}
	var deposit heistgraph.Outpoint
	var payer string
	for ev, err := range rig.st.AddressHistory(ctx, chain, exchange, store.HistoryOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == heistgraph.Received && deposit.TxID == (heistgraph.Hash{}) {
			deposit = ev.Outpoint
		}
	}
	rec, err := rig.st.Tx(ctx, chain, deposit.TxID)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rec.Prevouts {
		if p != nil && p.Address != exchange {
			payer = p.Address
		}
	}
	if exchange == "" || user == "" || payer == "" {
		t.Fatalf("world: exchange %q, user %q, payer of %s %q", exchange, user, deposit, payer)
	}
	bodies := map[string]string{
		"exchange": fmt.Sprintf(`{"chain":%q,"address":%q}`, chain, exchange),
		"user":     fmt.Sprintf(`{"chain":%q,"address":%q}`, chain, user),
		"sent":     fmt.Sprintf(`{"chain":%q,"address":%q,"direction":"sent"}`, chain, payer),
		"deposit":  fmt.Sprintf(`{"chain":%q,"txid":"%s","vout":%d}`, chain, deposit.TxID, deposit.Vout),
	}
	names := []string{"exchange", "user", "sent", "deposit"}
	check := func(when string) map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, n := range names {
			code, a := rig.screen(t, when, bodies[n])
			out[n] = fmt.Sprint(code, " ", a)
		}
		return out
	}
	// fresh is what a new backend on the store answers now.
	fresh := func(when string, got map[string]string) {
		t.Helper()
		b := newAPIBackend(rig.st, nil)
		defer b.close()
		srv, err := server.New(server.Config{LocalKey: "k", ScreenCache: -1}, b, rig.st, rig.st)
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		for _, n := range names {
			code, a := call(t, srv.Handler(), "POST", "/v1/screen", bodies[n])
			if s := fmt.Sprint(code, " ", string(a)); s != got[n] {
				t.Errorf("%s, %s: serve answers\n%s\na new backend\n%s", when, n, got[n], s)
			}
		}
	}
	changed := func(when string, before, after map[string]string, want ...string) {
		t.Helper()
		for _, n := range want {
			if before[n] == after[n] {
				t.Errorf("%s: the answer to %s did not change (the test needs it to):\n%s", when, n, after[n])
			}
		}
	}
	h0 := rig.hits(t)
	a0 := check("first")
	if rig.hits(t)-h0 < float64(len(names)) {
		t.Fatalf("%v answers from the cache for %d repeated screens", rig.hits(t)-h0, len(names))
	}
	fresh("first", a0)

	// A label written through the API.
	code, b := call(t, rig.cached, "POST", "/v1/labels", fmt.Sprintf(`{"labels":[{"chain":%q,"address":%q,"entity":"Test Mixer","category":"mixer","source":"test","confidence":1}]}`, chain, user))
	if code != 200 {
		t.Fatalf("POST /v1/labels: %d %s", code, b)
	}
	a1 := check("after a label")
	changed("after a label", a0, a1, "user")
	fresh("after a label", a1)

	// The moment between a label's write and the screener's replacement
	// (the backend writes, then replaces): an answer computed meanwhile
	// by the old screener is kept under the new store count, and must not
	// outlive the replacement.
	if _, err := rig.st.PutLabels(ctx, []heistgraph.Label{{Chain: chain, Address: user, Entity: "Test Gambler", Category: "gambling", Source: "test", Confidence: 1}}); err != nil {
		t.Fatal(err)
	}
	check("between a label's write and the screener's replacement")
	rig.backend.cache.invalidate()
	a1b := check("after the screener's replacement")
	changed("after the screener's replacement", a1, a1b, "user")
	fresh("after the screener's replacement", a1b)
	a1 = a1b

	// A watch on the deposit's payer, added then removed through the API:
	// its trace marks what the payer paid as stolen:<watch>.
	code, b = call(t, rig.cached, "POST", "/v1/watchlists", fmt.Sprintf(`{"name":"cache-test","chain":%q,"seeds":[%q]}`, chain, payer))
	if code != 200 {
		t.Fatalf("POST /v1/watchlists: %d %s", code, b)
	}
	a2 := check("after a watch")
	changed("after a watch", a1, a2, "deposit")
	if !strings.Contains(a2["deposit"], "stolen:cache-test") {
		t.Errorf("after a watch on %s, the deposit it paid is not stolen:cache-test: %s", payer, a2["deposit"])
	}
	fresh("after a watch", a2)
	if code, b := call(t, rig.cached, "DELETE", "/v1/watchlists/cache-test", ""); code != 200 {
		t.Fatalf("DELETE /v1/watchlists: %d %s", code, b)
	}
	a3 := check("after the watch is removed")
	changed("after the watch is removed", a2, a3, "deposit")
	fresh("after the watch is removed", a3)

	// A reorg: the tip block rewound in the store (serve following a node
	// does it through the same store call); no screener is replaced.
	tip, err := rig.st.Tip(ctx, chain)
	if err != nil {
		t.Fatal(err)
	}
	if err := rig.st.RewindTo(ctx, chain, tip.Height-1); err != nil {
		t.Fatal(err)
	}
	a4 := check("after a rewind")
	changed("after a rewind", a3, a4, names...) // as_of at least

	// A label valid from a few seconds on: the answer kept before it is
	// valid must not be given after. The answers before must all be given
	// before that time (on a slow machine the label is put further off).
	var from int64
	var late string // the label's entity
	var a5 map[string]string
	exch := bodies["exchange"]
	for off := int64(2); a5 == nil; off *= 2 {
		if off > 64 {
			t.Fatal("could not screen twice within 64 seconds")
		}
		from, late = time.Now().Unix()+off, fmt.Sprintf("Late %d", off)
		code, b = call(t, rig.cached, "POST", "/v1/labels", fmt.Sprintf(`{"labels":[{"chain":%q,"address":%q,"entity":%q,"category":"scam","source":"test","confidence":1,"valid_from":%d}]}`, chain, exchange, late, from))
		if code != 200 {
			t.Fatalf("POST /v1/labels: %d %s", code, b)
		}
		call(t, rig.uncached, "POST", "/v1/screen", exch) // the new screener is built
		_, kept := call(t, rig.cached, "POST", "/v1/screen", exch)
		_, again := call(t, rig.cached, "POST", "/v1/screen", exch)
		_, now := call(t, rig.uncached, "POST", "/v1/screen", exch)
		if time.Now().Unix() < from {
			if !bytes.Equal(kept, now) || !bytes.Equal(again, now) {
				t.Fatalf("before the label is valid: the cached server answered\n%s\nthen\n%s\nthe backend\n%s", kept, again, now)
			}
			a5 = map[string]string{"exchange": "200 " + string(now)}
		}
	}
	if strings.Contains(a5["exchange"], `"entity":"`+late+`"`) {
		t.Fatalf("a label valid from %d is in an answer given before: %s", from, a5["exchange"])
	}
	for time.Now().Unix() < from {
		time.Sleep(100 * time.Millisecond)
	}
	a6 := check("once the label is valid")
	if !strings.Contains(a6["exchange"], `"entity":"`+late+`"`) {
		t.Errorf("once valid, the label is not in the answer: %s", a6["exchange"])
	}
	changed("once the label is valid", a5, a6, "exchange")
}

// TestServeScreenCacheOtherWriters checks that nothing is kept over a
// store that is not a store.WriteCounter (PostgreSQL, which other
// processes write): the backend has no epoch to give.
func TestServeScreenCacheOtherWriters(t *testing.T) {
	st, err := pebble.Open(t.TempDir(), pebble.Options{CacheSize: 1 << 20, MemTableSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	own := newAPIBackend(st, nil)
	defer own.close()
	if _, _, ok := own.ScreenEpoch(); !ok {
		t.Fatal("no epoch over the embedded store")
	}
	other := struct{ store.Store }{st} // the store's roles, without Writes
	b := newAPIBackend(other, nil)
	defer b.close()
	if _, _, ok := b.ScreenEpoch(); ok {
		t.Error("an epoch over a store other processes may write")
	}
	if u := b.answerUntil(context.Background(), nil, &risk.Answer{}, heistgraph.ChainBTCRegtest, 0); u != 0 {
		t.Errorf("an answer over a store other processes may write is kept until %d", u)
	}
}
