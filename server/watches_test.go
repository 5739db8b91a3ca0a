package server

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
)

// fakeWatcher refuses the name "incident-1" as an incident id and
// "checks" a watch by counting.
type fakeWatcher struct{ checked, removed int }

func (f *fakeWatcher) Prepare(_ context.Context, w *heistgraph.Watch) error {
	if w.Name == "incident-1" {
		return fmt.Errorf("name: %q is an incident id: %w", w.Name, heistgraph.ErrInvalid)
	}
	return nil
}

func (f *fakeWatcher) Check(context.Context, heistgraph.Watch) (int, int, bool, error) {
	f.checked++
	if f.checked == 1 {
		return 3, 3, false, nil
	}
	return 3, 0, false, nil
}

func (f *fakeWatcher) Removed(context.Context, heistgraph.Watch) { f.removed++ }

func TestWatchRoutes(t *testing.T) {
	fw := &fakeWatcher{}
	ts := newTestServer(t, Config{Watcher: fw})
	txid := strings.Repeat("ab", 32)
	body := func(extra string) string {
		return `{"chain":"btc-regtest","seeds":["` + txid + `:1"]` + extra + `}`
	}
	tests := []struct {
		name, method, path, role, body string
		status                         int
		field                          string
	}{
		{"viewer reads", "GET", "/v1/watchlists", "viewer", "", 200, ""},
		{"no key", "GET", "/v1/watchlists", "", "", 401, ""},
		{"viewer may not add", "POST", "/v1/watchlists", "viewer", body(""), 403, ""},
		{"screener may not add", "POST", "/v1/watchlists", "screener", body(""), 403, ""},
		{"no body", "POST", "/v1/watchlists", "analyst", "", 400, "body"},
		{"no chain", "POST", "/v1/watchlists", "analyst", `{"seeds":["` + txid + `"]}`, 400, "chain"},
		{"evm chain", "POST", "/v1/watchlists", "analyst", `{"chain":"eth","seeds":["` + txid + `"]}`, 400, "chain"},
		{"no seeds", "POST", "/v1/watchlists", "analyst", `{"chain":"btc"}`, 400, "seeds"},
		{"bad seed", "POST", "/v1/watchlists", "analyst", `{"chain":"btc","seeds":["` + txid + `","x:y"]}`, 400, "seeds[1]"},
		{"bad name", "POST", "/v1/watchlists", "analyst", body(`,"name":"Not OK"`), 400, "name"},
		{"long name", "POST", "/v1/watchlists", "analyst", body(`,"name":"` + strings.Repeat("a", 65) + `"`), 400, "name"},
		{"incident id", "POST", "/v1/watchlists", "analyst", body(`,"name":"incident-1"`), 400, "name"},
		{"bad policy", "POST", "/v1/watchlists", "analyst", body(`,"policy":"dice"`), 400, "policy"},
		{"add", "POST", "/v1/watchlists", "analyst", body(`,"name":"lazarus-1","policy":"poison"`), 200, ""},
		{"add again", "POST", "/v1/watchlists", "analyst", body(`,"name":"lazarus-1","policy":"poison"`), 200, ""},
		{"another under the name", "POST", "/v1/watchlists", "analyst", body(`,"name":"lazarus-1"`), 409, ""},
		{"generated name", "POST", "/v1/watchlists", "analyst", body(""), 200, ""},
		{"viewer may not rm", "DELETE", "/v1/watchlists/lazarus-1", "viewer", "", 403, ""},
		{"rm unknown", "DELETE", "/v1/watchlists/nope", "analyst", "", 404, ""},
		{"rm", "DELETE", "/v1/watchlists/lazarus-1", "analyst", "", 200, ""},
		{"rm again", "DELETE", "/v1/watchlists/lazarus-1", "analyst", "", 404, ""},
	}
	for _, tc := range tests {
		w := ts.do(t, tc.method, tc.path, tc.role, tc.body)
		if w.Code != tc.status {
			t.Fatalf("%s: %s %s: %d %s, want %d", tc.name, tc.method, tc.path, w.Code, w.Body, tc.status)
		}
		var e errorBody
		_ = json.Unmarshal(w.Body.Bytes(), &e)
		if e.Field != tc.field {
			t.Errorf("%s: field %q, want %q (%s)", tc.name, e.Field, tc.field, e.Error)
		}
		if tc.name == "add" || tc.name == "add again" {
			var got WatchJSON
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			raised := map[string]int{"add": 3, "add again": 0}[tc.name]
			if got.Name != "lazarus-1" || got.Policy != "poison" || got.Status != "traced" || got.Alerts != 3 || got.AlertsRaised != raised || got.Created == 0 {
				t.Errorf("%s: %s", tc.name, w.Body)
			}
		}
	}
	if fw.checked != 3 || fw.removed != 1 {
		t.Errorf("watcher checked %d and was told of %d removals; want 3 and 1", fw.checked, fw.removed)
	}
	var l WatchesList
	if err := json.Unmarshal(ts.do(t, "GET", "/v1/watchlists", "viewer", "").Body.Bytes(), &l); err != nil {
		t.Fatal(err)
	}
	want := heistgraph.WatchName(heistgraph.ChainBTCRegtest, []string{txid + ":1"})
	if l.Count != 1 || l.Watches[0].Name != want || l.Watches[0].Policy == "" {
		t.Errorf("list %+v, want the one watch %s", l, want)
	}
}

// FuzzPostWatchlists: no body answers 500.
func FuzzPostWatchlists(f *testing.F) {
	txid := strings.Repeat("cd", 32)
	fuzzNo500(f, "/v1/watchlists", "analyst",
		`{"chain":"btc-regtest","seeds":["`+txid+`:0"],"name":"a-1","policy":"fifo"}`,
		`{"chain":"btc","seeds":["bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"]}`,
		`{"chain":"eth","seeds":[]}`, `{"seeds":[null]}`, `{"name":5}`, `[]`, `null`, ``)
}
