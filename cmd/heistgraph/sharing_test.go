package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/internal/btcdtest"
	"github.com/heistgraph/heistgraph/internal/webhooktest"
	"github.com/heistgraph/heistgraph/server"
	hgshare "github.com/heistgraph/heistgraph/share"
)

// TestServeSharesHeist is issue 25's scene with two real serve processes
// on loopback following one real btcd regtest node: A flags a theft (a
// watch on it), B subscribes to A's watches collection over TAXII 2.1
// with --as-watches while both run, and when the stolen coins later reach
// an exchange, B's webhook receives the alert naming A's incident, with
// nothing typed into B after the subscription. A's audit log records B's
// pulls; withdrawing A's watch withdraws B's.
func TestServeSharesHeist(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes")
	}
	node := btcdtest.Start(t, btcdtest.Options{})
	key := func(name string) *btcdtest.Key { return btcdtest.NewKey(name, btcdtest.P2WPKH) }
	victim, attacker, exchange := key("victim"), key("attacker"), key("binance-1")
	mine := func(coins []btcdtest.Coin, pay []btcdtest.Payment) *btcdtest.Tx {
		t.Helper()
		tx, err := btcdtest.Spend(coins, pay)
		if err != nil {
			t.Fatal(err)
		}
		node.SendRawTransaction(t, tx.Hex())
		node.Generate(t, 1)
		return tx
	}
	coinbase := node.Coinbase(t, node.Generate(t, 101)[0])
	funding := mine([]btcdtest.Coin{coinbase}, []btcdtest.Payment{{Key: victim, Value: 50e8 - 2000}})
	theft := mine(funding.Outs, []btcdtest.Payment{{Key: attacker, Value: 50e8 - 4000}})
	labels := writeFile(t, "labels.csv", fmt.Appendf(nil, "chain,address,entity,category,source,confidence\nbtc-regtest,%s,Binance,exchange,test,1\n", exchange.Address()))

	dataA, dataB := t.TempDir(), t.TempDir()
	for _, d := range []string{dataA, dataB} {
		mustOK(t, cli(t, "--data", d, "--quiet", "labels", "import", labels, "--format", "csv"), "labels import")
	}
	a := startServe(t, dataA, followArgs(node, node.RPCURL)...)
	b := startServe(t, dataB, append(followArgs(node, node.RPCURL), "--feeds-every", "200ms")...)
	a.waitReadyz(t, http.StatusOK, 30*time.Second)
	b.waitReadyz(t, http.StatusOK, 30*time.Second)

	// A flags the theft and gives B a viewer key cleared for amber.
	mustOK(t, cli(t, "--data", dataA, "watch", "add", "--chain", "btc-regtest", "--seed", theft.TxID().String(), "--name", "exchange-hack"), "watch add on A")
	r := cli(t, "--data", dataA, "--json", "keys", "create", "--role", "viewer", "--tlp-max", "amber")
	mustOK(t, r, "keys create on A")
	partnerKey := decode[server.NewKeyJSON](t, r.stdout)

	// B's webhook for Binance, then the subscription: the last thing typed
	// into B.
	secret := webhookSecret(t)
	hook := webhooktest.Start(t, secret, func(int, webhooktest.Request) int { return http.StatusOK })
	mustOK(t, cli(t, "--data", dataB, "webhooks", "add", hook.URL, "--secret", secret, "--entity", "Binance"), "webhooks add on B")
	mustOK(t, cli(t, "--data", dataB, "feeds", "add", a.url+"/taxii2/api/", "--collection", "heistgraph-watches",
		"--key", partnerKey.Key, "--as-watches", "--id", "partner-a"), "feeds add on B")

	// B's scheduled pull makes the watch (observed over B's API).
	var watchName, incident string
	for deadline := time.Now().Add(30 * time.Second); watchName == ""; time.Sleep(50 * time.Millisecond) {
		code, _, body := b.call(t, "GET", "/v1/watchlists", b.local, "")
		var ws server.WatchesList
		if code != 200 || json.Unmarshal(body, &ws) != nil {
			t.Fatalf("B's watch list: %d %s", code, body)
		}
		for _, w := range ws.Watches {
			if strings.HasPrefix(w.Name, "partner-a-exchange-hack-") && len(w.Seeds) == 1 && w.Seeds[0] == theft.TxID().String() {
				watchName, incident = w.Name, w.Incident
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("B made no watch from A's feed within 30 s: %s\n%s", body, b.stderr.String())
		}
	}
	if !strings.HasPrefix(incident, "partner:partner-a:exchange-hack (incident--") {
		t.Errorf("B's watch names incident %q", incident)
	}

	// The stolen coins reach the exchange.
	move := mine(theft.Outs, []btcdtest.Payment{{Key: exchange, Value: 50e8 - 6000}})
	reqs := hook.WaitFor(t, 30*time.Second, "B's alert for Binance", func(rs []webhooktest.Request) bool { return len(delivered(rs)) > 0 })
	p := reqs[0].Payload
	if !reqs[0].Verified || p["kind"] != "funds_reached_entity" || p["entity"] != "Binance" || p["watch"] != watchName ||
		p["incident"] != incident || p["txid"] != move.TxID().String() || p["amount_sat"] != float64(50e8-6000) {
		t.Errorf("B's alert: %v", p)
	}

	// A's audit log holds B's pulls, under the key A gave B.
	code, _, body := a.call(t, "GET", "/v1/audit", a.local, "")
	if code != 200 || !strings.Contains(string(body), `"key_id":"`+partnerKey.ID+`","method":"GET","path":"/taxii2/api/collections/heistgraph-watches/objects/"`) {
		t.Errorf("A's audit log lacks B's pulls: %d %.2000s", code, body)
	}

	// A withdraws its watch: B's next pull withdraws B's.
	mustOK(t, cli(t, "--data", dataA, "watch", "rm", "exchange-hack"), "watch rm on A")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, _, body := b.call(t, "GET", "/v1/watchlists", b.local, "")
		if !strings.Contains(string(body), watchName) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B kept the watch A withdrew: %s", body)
		}
	}
	// The pull removes the watch, then records the feed's counts: wait
	// for the record of that pull.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		r = cli(t, "--data", dataB, "--json", "feeds", "list")
		mustOK(t, r, "feeds list on B")
		fl := decode[feedsListJSON](t, r.stdout)
		if fl.Count != 1 || fl.Feeds[0].LastError != "" {
			t.Fatalf("B's feeds: %s", r.stdout)
		}
		if fl.Feeds[0].Watches == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B's feed still counts the withdrawn watch: %s", r.stdout)
		}
	}
}

// TestFeedPullIncremental pulls a real serve's watches collection with
// feeds pull, each pull its own process (a restart of the puller): the
// first pull fetches everything; the second asks for what was added after
// the first pull's X-TAXII-Date-Added-Last (kept with the feed) and is
// served only the new watch's objects (counted in A's audit log); a pull
// with nothing new is served none; a watch A withdraws leaves B's copy,
// labels and watches.
func TestFeedPullIncremental(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real serve")
	}
	dataA, dataB := t.TempDir(), t.TempDir()
	a := startServe(t, dataA)
	addWatch := func(name, seed string) {
		t.Helper()
		mustOK(t, cli(t, "--data", dataA, "watch", "add", "--chain", "btc-regtest", "--seed", seed, "--name", name), "watch add "+name)
	}
	addWatch("first-hack", "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080")
	r := cli(t, "--data", dataA, "--json", "keys", "create", "--role", "viewer", "--tlp-max", "amber")
	mustOK(t, r, "keys create on A")
	partnerKey := decode[server.NewKeyJSON](t, r.stdout)
	mustOK(t, cli(t, "--data", dataB, "feeds", "add", a.url+"/taxii2/api/", "--collection", "heistgraph-watches",
		"--key", partnerKey.Key, "--as-watches", "--id", "partner-a"), "feeds add on B")

	// servedSince sums the objects A's objects endpoint served B's key in
	// the audit records after seq, and returns the last sequence number.
	objectsPath := "/taxii2/api/collections/heistgraph-watches/objects/"
	servedSince := func(seq uint64) (int, uint64) {
		t.Helper()
		time.Sleep(300 * time.Millisecond) // GETs are audited asynchronously
		code, _, body := a.call(t, "GET", fmt.Sprintf("/v1/audit?after=%d", seq), a.local, "")
		var al server.AuditList
		if code != 200 || json.Unmarshal(body, &al) != nil {
			t.Fatalf("A's audit: %d %s", code, body)
		}
		n := 0
		for _, rec := range al.Records {
			if rec.KeyID == partnerKey.ID && rec.Path == objectsPath && rec.Status == 200 {
				n += rec.Items
			}
			seq = max(seq, rec.Seq)
		}
		return n, seq
	}
	_, seq := servedSince(0)
	pull := func(what string) hgshare.PullResult {
		t.Helper()
		r := cli(t, "--data", dataB, "--json", "feeds", "pull", "partner-a")
		mustOK(t, r, what)
		p := decode[struct{ Pulls []hgshare.PullResult }](t, r.stdout)
		if len(p.Pulls) != 1 {
			t.Fatalf("%s: %s", what, r.stdout)
		}
		return p.Pulls[0]
	}

	first := pull("first pull")
	served, seq1 := servedSince(seq)
	if first.AddedAfter != "" || first.AddedLast == "" || first.Fetched == 0 || served != first.Fetched || len(first.Watches) != 1 ||
		len(first.Incidents.Added) != 1 {
		t.Fatalf("first pull %+v, A served %d objects", first, served)
	}
	fl := decode[feedsListJSON](t, cli(t, "--data", dataB, "--json", "feeds", "list").stdout)
	if fl.Count != 1 || fl.Feeds[0].AddedLast != first.AddedLast {
		t.Fatalf("B's feed after the first pull: %+v, want added_last %s", fl, first.AddedLast)
	}

	// A's watches are dated to the second: the new one is added later.
	time.Sleep(1100 * time.Millisecond)
	addWatch("second-hack", btcdtest.NewKey("second", btcdtest.P2WPKH).Address())
	second := pull("second pull")
	served, seq2 := servedSince(seq1)
	// The second watch is an incident, its indicator and their
	// relationship, like the first; the marking is not served again.
	if second.AddedAfter != first.AddedLast || second.Fetched != 3 || served != 3 || second.Deleted != 0 ||
		len(second.Watches) != 2 || second.Objects != first.Objects+3 || second.AddedLast <= first.AddedLast ||
		len(second.Incidents.Added) != 1 || len(second.Incidents.Unchanged) != 1 {
		t.Fatalf("second pull %+v (first %+v), A served %d objects", second, first, served)
	}

	third := pull("third pull")
	if served, _ := servedSince(seq2); third.Fetched != 0 || served != 0 || third.AddedAfter != second.AddedLast || len(third.Watches) != 2 {
		t.Fatalf("third pull %+v, A served %d objects", third, served)
	}

	// A withdraws the first watch: B's copy, labels and watch follow.
	mustOK(t, cli(t, "--data", dataA, "watch", "rm", "first-hack"), "watch rm on A")
	fourth := pull("fourth pull")
	if fourth.Deleted != 3 || fourth.Fetched != 0 || len(fourth.Withdrawn) != 1 || fourth.Removed != 1 || len(fourth.Watches) != 1 ||
		!strings.Contains(fourth.Watches[0], "second-hack") || fmt.Sprint(fourth.Incidents.Withdrawn) != fmt.Sprint(first.Incidents.Added) {
		t.Fatalf("after A withdrew: %+v", fourth)
	}
	// B's register lists A's remaining incident as a partner's, not the
	// withdrawn one.
	r = cli(t, "--data", dataB, "--json", "incidents", "list")
	mustOK(t, r, "incidents list on B")
	var partners []string
	for _, it := range decode[hgapp.IncidentsView](t, r.stdout).Incidents {
		if it.Partner != nil && it.Partner.Source == "feed:partner-a" && it.Status == "partner" {
			partners = append(partners, it.ID)
		}
	}
	if fmt.Sprint(partners) != fmt.Sprint(second.Incidents.Added) {
		t.Errorf("B's register holds partner incidents %v, want %v", partners, second.Incidents.Added)
	}
}
