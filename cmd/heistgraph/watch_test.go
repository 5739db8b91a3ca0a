package main

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/internal/webhooktest"
	"github.com/heistgraph/heistgraph/server"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/synth"
)

// entityHeist is the first heist of truth that reached an exchange without
// going through a CoinJoin, with the names (as labels.csv gives them) of
// the exchanges it reached.
func entityHeist(t *testing.T, truth *synth.Truth) (synth.Heist, map[string]bool) {
	t.Helper()
	for _, h := range truth.Heists {
		if h.UsesCoinJoin {
			continue
		}
		exchanges := map[string]bool{}
		for _, d := range h.Destinations {
			if d.Category != "exchange" || d.AmountSat == 0 {
				continue
			}
			e, ok := truth.Entity(d.Entity)
			if !ok {
				t.Fatalf("truth: heist %s names unknown entity %s", h.ID, d.Entity)
			}
			exchanges[e.Name] = true
		}
		if len(exchanges) > 0 {
			return h, exchanges
		}
	}
	t.Fatal("no heist of the small world reached an exchange without a CoinJoin")
	return synth.Heist{}, nil
}

// TestWatchAlerts: on the small synthetic world, next to a running serve,
// `watch add` with a heist's seeds raises at once one funds_reached_entity
// alert per entity sink of `trace` on the same seeds (same output, same
// amount), covering every exchange the truth says the money reached, and
// one funds_moved alert per spent seed;
// adding it again, or restarting serve (which checks every watch), raises
// nothing new; `alerts list --watch` shows them; a webhook endpoint added
// before receives each of them once, verified by the standardwebhooks npm
// package; the outputs where the watch's trace rests screen as
// stolen:<name> (on its own store, and through serve after add, not after
// rm); `watch list` and `watch rm` go through the server.
func TestWatchAlerts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes")
	}
	t.Parallel()
	_, data, truth := world(t)
	heist, exchanges := entityHeist(t, truth)
	secret := webhookSecret(t)
	rc := webhooktest.Start(t, secret, nil)
	mustOK(t, cli(t, "--data", data, "webhooks", "add", rc.URL, "--secret", secret), "webhooks add")

	// The trace the watch must agree with, on the store before serve.
	r := cli(t, "--data", data, "--json", "trace", "--chain", "btc-regtest", "--seed", strings.Join(heist.Seeds, ","))
	mustOK(t, r, "trace")
	tr := decode[traceSinks](t, r.stdout)
	want := map[string]int64{} // txid:vout@entity -> amount
	for _, s := range tr.Sinks {
		if s.Kind == "entity" && s.AmountSat > 0 {
			want[fmt.Sprintf("%s:%d@%s", s.TxID, s.Vout, s.Entity)] += s.AmountSat
		}
	}
	if len(want) == 0 {
		t.Fatalf("trace of heist %s has no entity sink", heist.ID)
	}
	resting := "" // an output where the trace's taint rests
	for _, s := range tr.Sinks {
		if resting == "" && s.Input == "" && (s.Kind == "unspent" || s.Kind == "entity") && s.AmountSat > 0 {
			resting = fmt.Sprintf("%s:%d", s.TxID, s.Vout)
		}
	}
	screen := func(data string) string {
		t.Helper()
		r := cli(t, "--data", data, "--json", "screen", "--chain", "btc-regtest", resting)
		mustOK(t, r, "screen "+resting)
		return r.stdout
	}
	if strings.Contains(screen(data), "stolen:heist-one") {
		t.Fatal("screens as stolen:heist-one before the watch exists")
	}

	// On a store of its own (no serve), add raises every alert at once.
	_, alone, _ := world(t)
	seedArgs := []string{"watch", "add", "--chain", "btc-regtest", "--name", "heist-one"}
	for _, sd := range heist.Seeds {
		seedArgs = append(seedArgs, "--seed", sd)
	}
	r = cli(t, append([]string{"--data", alone, "--json"}, seedArgs...)...)
	mustOK(t, r, "watch add on its own store")
	// The seeds the attacker spent: one funds_moved alert each.
	spent := 0
	for _, sd := range heist.Seeds {
		r := cli(t, "--data", alone, "--json", "show", "tx", strings.Split(sd, ":")[0])
		mustOK(t, r, "show tx")
		tx := decode[txOutputs](t, r.stdout)
		for _, o := range tx.Outputs {
			if fmt.Sprintf("%s:%d", strings.Split(sd, ":")[0], o.N) == sd && o.SpentBy != nil {
				spent++
			}
		}
	}
	if spent == 0 {
		t.Fatalf("none of heist %s's seeds is spent", heist.ID)
	}
	if w := decode[server.WatchJSON](t, r.stdout); w.Alerts != len(want)+spent || w.AlertsRaised != w.Alerts {
		t.Errorf("watch add without serve: %d alerts, %d raised; want %d entity and %d moved", w.Alerts, w.AlertsRaised, len(want), spent)
	}
	if out := screen(alone); !strings.Contains(out, "stolen:heist-one") {
		t.Errorf("the watch's resting output %s does not screen as stolen:heist-one: %s", resting, out)
	}

	s := startServe(t, data)
	args := append([]string{"--data", data, "--json"}, seedArgs...)
	r = cli(t, args...)
	mustOK(t, r, "watch add through the server")
	added := decode[server.WatchJSON](t, r.stdout)
	// serve's check of every watch at start may run at the same time and
	// raise some of them first: together they raise each once.
	if added.Name != "heist-one" || added.Status != "traced" || added.Alerts != len(want)+spent {
		t.Fatalf("watch add: %s; want %d alerts", r.stdout, len(want)+spent)
	}
	r = cli(t, args...)
	mustOK(t, r, "watch add again")
	if again := decode[server.WatchJSON](t, r.stdout); again.AlertsRaised != 0 {
		t.Errorf("adding the watch again raised %d alerts", again.AlertsRaised)
	}
	r = cli(t, "--data", data, "--json", "alerts", "list", "--watch", "heist-one")
	mustOK(t, r, "alerts list --watch")
	list := decode[server.AlertsList](t, r.stdout)
	if list.Count != len(want)+spent {
		t.Errorf("%d alerts listed, want %d", list.Count, len(want)+spent)
	}
	seeds := map[string]bool{}
	for _, sd := range heist.Seeds {
		seeds[sd] = true
	}
	got := map[string]int64{}
	reached := map[string]bool{}
	keys := map[string]bool{}
	moved := 0
	for _, a := range list.Alerts {
		keys[a.IdempotencyKey] = true
		if a.Watch != "heist-one" || a.Chain != heistgraph.ChainBTCRegtest {
			t.Errorf("alert %+v", a.Alert)
		}
		if a.Kind == heistgraph.AlertFundsMoved {
			moved++
			if !seeds[fmt.Sprintf("%s:%d", a.TxID, a.Vout)] || a.Share != 1 || a.AmountSat <= 0 || a.BlockHash.IsZero() || len(a.Path.TxIDs) != 2 || a.Path.TxIDs[0] != a.TxID {
				t.Errorf("funds_moved alert is not about a spent seed: %+v", a.Alert)
			}
			continue
		}
		if a.Kind != heistgraph.AlertFundsReachedEntity {
			t.Errorf("alert kind %s", a.Kind)
		}
		if a.BlockHeight <= 0 || a.BlockHash.IsZero() || a.Time == 0 || a.Share <= 0 || a.Share > 1 || a.Path.Hops < 1 || len(a.Path.TxIDs) == 0 || a.Path.TxIDs[len(a.Path.TxIDs)-1] != a.TxID {
			t.Errorf("alert lacks its block, share or path: %+v", a.Alert)
		}
		got[fmt.Sprintf("%s:%d@%s", a.TxID, a.Vout, a.Entity)] += a.AmountSat
		reached[a.Entity] = true
	}
	if moved != spent {
		t.Errorf("%d funds_moved alerts, want %d (the spent seeds)", moved, spent)
	}
	if fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(want)) {
		t.Errorf("alerts differ from the trace's entity sinks:\n got %v\nwant %v", sorted(got), sorted(want))
	}
	t.Logf("heist %s: %d alerts, entities %v; the truth's exchanges %v", heist.ID, list.Count, reached, exchanges)
	for name := range exchanges {
		if !reached[name] {
			t.Errorf("the truth says heist %s reached %s; no alert names it", heist.ID, name)
		}
	}
	reqs := rc.WaitFor(t, 30*time.Second, "every alert delivered", func(rs []webhooktest.Request) bool {
		n := map[string]bool{}
		for _, q := range rs {
			if q.Verified && q.Status == http.StatusOK {
				n[q.ID] = true
			}
		}
		return len(n) >= len(keys)
	})
	for _, q := range reqs {
		if !q.Verified || !keys[q.ID] {
			t.Errorf("request %s: verified %v (%s), an alert's key: %v", q.ID, q.Verified, q.VerifyError, keys[q.ID])
		}
	}
	r = cli(t, "--data", data, "--json", "watch", "list")
	mustOK(t, r, "watch list through the server")
	if l := decode[server.WatchesList](t, r.stdout); l.Count != 1 || l.Watches[0].Name != "heist-one" || l.Watches[0].Policy == "" {
		t.Errorf("watch list: %s", r.stdout)
	}
	if out := screen(data); !strings.Contains(out, "stolen:heist-one") {
		t.Errorf("through serve, %s does not screen as stolen:heist-one after watch add: %s", resting, out)
	}
	if r := cli(t, "--data", data, "watch", "add", "--chain", "btc-regtest", "--seed", heist.Seeds[0], "--name", "heist-one", "--policy", "poison"); r.code != 1 {
		t.Errorf("another watch under a stored name: exit %d, want 1; %s", r.code, r.stderr)
	}
	s.stop(t)

	// serve checks every watch when it starts: the same state raises nothing.
	s = startServe(t, data)
	time.Sleep(500 * time.Millisecond)
	r = cli(t, "--data", data, "--json", "alerts", "list", "--watch", "heist-one")
	mustOK(t, r, "alerts list after a restart")
	if l := decode[server.AlertsList](t, r.stdout); l.Count != list.Count {
		t.Errorf("after a restart %d alerts, want %d", l.Count, list.Count)
	}
	mustOK(t, cli(t, "--data", data, "watch", "rm", "heist-one"), "watch rm through the server")
	if out := screen(data); strings.Contains(out, "stolen:heist-one") {
		t.Errorf("through serve, %s still screens as stolen:heist-one after watch rm", resting)
	}
	if r := cli(t, "--data", data, "watch", "rm", "heist-one"); r.code != 1 {
		t.Errorf("watch rm again: exit %d, want 1", r.code)
	}
	s.stop(t)
	if n := len(rc.Requests()); n != len(keys) {
		t.Errorf("%d webhook requests for %d alerts", n, len(keys))
	}
}

// txOutputs is the part of `show tx --json` the watch tests read.
type txOutputs struct {
	Outputs []struct {
		N       int `json:"n"`
		SpentBy any `json:"spent_by"`
	} `json:"outputs"`
}

// traceSinks is the part of `trace --json` the watch tests read.
type traceSinks struct {
	Sinks []struct {
		Kind      string `json:"kind"`
		TxID      string `json:"txid"`
		Vout      uint32 `json:"vout"`
		Input     string `json:"input"`
		Entity    string `json:"entity"`
		AmountSat int64  `json:"amount_sat"`
	} `json:"sinks"`
}

func sorted(m map[string]int64) []string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(out)
	return out
}

// TestWatchCLI covers watch add, list and rm on a store they open
// themselves: bad input is exit 2 naming the field, an incident id is not a
// watch name, a generated name, seeds not in the store wait, and unknown
// names are exit 1.
func TestWatchCLI(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	txid := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		args  []string
		field string
	}{
		{[]string{"watch", "add", "--seed", txid}, "chain"},
		{[]string{"watch", "add", "--chain", "nochain!", "--seed", txid}, "chain"},
		{[]string{"watch", "add", "--chain", "btc"}, "seeds"},
		{[]string{"watch", "add", "--chain", "btc", "--seed", "xyz:1"}, "seeds[0]"},
		{[]string{"watch", "add", "--chain", "btc", "--seed", txid, "--name", "Bad_Name"}, "name"},
		{[]string{"watch", "add", "--chain", "btc", "--seed", txid, "--policy", "random"}, "policy"},
		{[]string{"watch", "add", "--chain", "btc", "--seed", txid, "--name", "bybit-2025"}, "name"},
		{[]string{"watch", "rm", "UPPER"}, "watch name"},
	} {
		r := cli(t, append([]string{"--data", data}, tc.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.field) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming %s", tc.args, r.code, r.stderr, tc.field)
		}
	}
	r := cli(t, "--data", data, "--json", "watch", "add", "--chain", "btc", "--seed", txid+":1")
	mustOK(t, r, "watch add")
	w := decode[server.WatchJSON](t, r.stdout)
	if w.Name != heistgraph.WatchName(heistgraph.ChainBTC, []string{txid + ":1"}) || w.Status != "waiting" || w.AlertsRaised != 0 || w.Created == 0 {
		t.Errorf("watch add: %s", r.stdout)
	}
	r = cli(t, "--data", data, "watch", "list")
	mustOK(t, r, "watch list")
	if !strings.Contains(r.stdout, w.Name) || !strings.Contains(r.stdout, "1 watches") {
		t.Errorf("watch list: %s", r.stdout)
	}
	mustOK(t, cli(t, "--data", data, "watch", "rm", w.Name), "watch rm")
	if r := cli(t, "--data", data, "watch", "rm", w.Name); r.code != 1 {
		t.Errorf("watch rm again: exit %d, want 1", r.code)
	}
}

// TestIncidentWatch: an incident of the register (here imported) whose
// theft transactions are in the store is watched under its incident id
// when serve starts, and its alerts carry the incident; the watch's name
// is then not available to watch add.
func TestIncidentWatch(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes")
	}
	t.Parallel()
	_, data, truth := world(t)
	heist, exchanges := entityHeist(t, truth)
	withStore(t, data, func(st *pebble.DB) {
		reg, _, err := hgapp.Register(context.Background(), st)
		if err != nil {
			t.Fatal(err)
		}
		inc, ok := reg.Incident("dmm-bitcoin-2024")
		if !ok {
			t.Fatal("the shipped register lacks dmm-bitcoin-2024")
		}
		inc.ID, inc.Name = "synth-heist-2024", "Synthetic heist"
		src := inc.Txs[0].Source
		inc.Txs = nil
		for _, txid := range heist.TheftTxids {
			inc.Txs = append(inc.Txs, heistgraph.IncidentTx{Chain: heistgraph.ChainBTCRegtest, TxID: txid, Role: heistgraph.TxTheft, Source: src})
		}
		if err := st.PutIncidents(context.Background(), []heistgraph.Incident{inc}, nil); err != nil {
			t.Fatal(err)
		}
	})
	s := startServe(t, data)
	var l server.AlertsList
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r := cli(t, "--data", data, "--json", "alerts", "list", "--watch", "synth-heist-2024")
		mustOK(t, r, "alerts list --watch <incident>")
		if l = decode[server.AlertsList](t, r.stdout); l.Count > 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	reached := map[string]bool{}
	for _, a := range l.Alerts {
		reached[a.Entity] = true
		if a.Incident != "synth-heist-2024" {
			t.Errorf("alert %s of the incident's watch names incident %q", a.ID, a.Incident)
		}
	}
	for name := range exchanges {
		if !reached[name] {
			t.Errorf("no alert of the incident's watch names %s (the truth says the heist reached it); %d alerts", name, l.Count)
		}
	}
	r := cli(t, "--data", data, "--json", "watch", "list")
	mustOK(t, r, "watch list")
	if w := decode[server.WatchesList](t, r.stdout); w.Count != 1 || w.Watches[0].Name != "synth-heist-2024" || w.Watches[0].Incident != "synth-heist-2024" {
		t.Errorf("watch list: %s", r.stdout)
	}
	if r := cli(t, "--data", data, "watch", "add", "--chain", "btc-regtest", "--seed", heist.Seeds[0], "--name", "synth-heist-2024"); r.code != 2 || !strings.Contains(r.stderr, "incident id") {
		t.Errorf("watch add under an incident id: exit %d, %s; want 2", r.code, r.stderr)
	}
	s.stop(t)
}
