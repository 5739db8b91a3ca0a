package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph/internal/btcdtest"
	"github.com/heistgraph/heistgraph/internal/webhooktest"
	"github.com/heistgraph/heistgraph/server"
)

// stagedHeist is a heist staged on a real btcd regtest node from signed
// transactions, each mined in a block of its own: the miner pays the
// victim; the theft pays the attacker; a peel chain peels 5 BTC into a
// Binance deposit and 4 BTC into a Kraken one; the rest is split into an
// OKX deposit (10 BTC), a Wormhole bridge deposit (8 BTC) and a coin the
// attacker keeps. labels is the CSV that labels the services' addresses
// (more deposit addresses than the heist pays yet, for later moves).
type stagedHeist struct {
	node                        *btcdtest.Node
	theft, peel1, peel2, split  *btcdtest.Tx
	kept                        btcdtest.Coin
	binance, binance2, kraken   *btcdtest.Key
	kraken2, okx, bridge, loose *btcdtest.Key
	labels                      string
}

func stageHeist(t *testing.T, node *btcdtest.Node) *stagedHeist {
	t.Helper()
	coinbase := node.Coinbase(t, node.Generate(t, 101)[0])
	key := func(name string) *btcdtest.Key { return btcdtest.NewKey(name, btcdtest.P2WPKH) }
	h := &stagedHeist{node: node, binance: key("binance-1"), binance2: key("binance-2"), kraken: key("kraken-1"),
		kraken2: key("kraken-2"), okx: key("okx-1"), bridge: key("wormhole"), loose: key("bystander")}
	victim, attacker, hop1, hop2, keep := key("victim"), key("attacker"), key("hop-1"), key("hop-2"), key("kept")
	funding := h.mine(t, []btcdtest.Coin{coinbase}, []btcdtest.Payment{{Key: victim, Value: 50e8 - 2000}})
	h.theft = h.mine(t, funding.Outs, []btcdtest.Payment{{Key: attacker, Value: 50e8 - 4000}})
	h.peel1 = h.mine(t, h.theft.Outs, []btcdtest.Payment{{Key: h.binance, Value: 5e8}, {Key: hop1, Value: 45e8 - 6000}})
	h.peel2 = h.mine(t, h.peel1.Outs[1:], []btcdtest.Payment{{Key: h.kraken, Value: 4e8}, {Key: hop2, Value: 41e8 - 8000}})
	h.split = h.mine(t, h.peel2.Outs[1:], []btcdtest.Payment{{Key: h.okx, Value: 10e8}, {Key: h.bridge, Value: 8e8}, {Key: keep, Value: 23e8 - 10000}})
	h.kept = h.split.Outs[2]
	var b strings.Builder
	b.WriteString("chain,address,entity,category,source,confidence\n")
	for _, l := range []struct {
		k             *btcdtest.Key
		entity, categ string
	}{{h.binance, "Binance", "exchange"}, {h.binance2, "Binance", "exchange"}, {h.kraken, "Kraken", "exchange"},
		{h.kraken2, "Kraken", "exchange"}, {h.okx, "OKX", "exchange"}, {h.bridge, "Wormhole", "bridge"}} {
		fmt.Fprintf(&b, "btc-regtest,%s,%s,%s,staged-heist,1\n", l.k.Address(), l.entity, l.categ)
	}
	h.labels = b.String()
	return h
}

// spend signs a transaction and sends it to the node (not mined).
func (h *stagedHeist) spend(t *testing.T, replaceable bool, coins []btcdtest.Coin, pay []btcdtest.Payment) *btcdtest.Tx {
	t.Helper()
	build := btcdtest.Spend
	if replaceable {
		build = btcdtest.SpendReplaceable
	}
	tx, err := build(coins, pay)
	if err != nil {
		t.Fatal(err)
	}
	h.node.SendRawTransaction(t, tx.Hex())
	return tx
}

// mine sends a transaction and mines it in a block of its own.
func (h *stagedHeist) mine(t *testing.T, coins []btcdtest.Coin, pay []btcdtest.Payment) *btcdtest.Tx {
	t.Helper()
	tx := h.spend(t, false, coins, pay)
	h.node.Generate(t, 1)
	return tx
}

// followArgs are the serve flags that follow node through proxy URL u.
func followArgs(node *btcdtest.Node, u string) []string {
	return []string{"--btc-rpc", u, "--rpc-user", node.User, "--rpc-pass", node.Pass, "--poll", "100ms"}
}

// readyz returns /readyz's status and body.
func (s *served) readyz(t *testing.T) (int, map[string]any) {
	t.Helper()
	code, _, body := s.call(t, "GET", "/readyz", "", "")
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("/readyz: %v: %s", err, body)
	}
	return code, m
}

// waitReadyz waits until /readyz answers code, and returns its body.
func (s *served) waitReadyz(t *testing.T, code int, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, m := s.readyz(t)
		if c == code {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz answers %d, not %d, after %s: %v\n%s", c, code, timeout, m, s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// delivered returns, per webhook-id, the verified requests answered 200.
func delivered(reqs []webhooktest.Request) map[string]int {
	m := map[string]int{}
	for _, r := range reqs {
		if r.Verified && r.Status == http.StatusOK {
			m[r.ID]++
		}
	}
	return m
}

// alertOf is an alert as its webhook payload tells it, in one line.
func alertOf(p map[string]any) string {
	return fmt.Sprintf("%v %v:%v %v %.0f", p["kind"], p["txid"], p["vout"], p["entity"], p["amount_sat"])
}

// TestServeFollowsHeist is the live monitor end to end on a real btcd
// regtest node: serve follows the node (through a proxy that the test takes
// down: /readyz says so), a watch on the theft raises an alert for each
// exchange and the bridge with the exact amounts, delivered and verified by
// the standardwebhooks npm package (once per key, also across a SIGKILL of
// serve with deliveries pending); a receiver answering 500 gets the alert
// on retry, one answering 410 is disabled; the kept coin moving in a new
// block raises its alert; a reorg (invalidateblock) retracts the alerts of
// the removed block, and the replacing block raises again only the one
// whose money still arrives; a label written through serve afterwards
// raises the alert it calls for.
func TestServeFollowsHeist(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes")
	}
	start := time.Now()
	node := btcdtest.Start(t, btcdtest.Options{})
	proxy := btcdtest.NewProxy(t, strings.TrimPrefix(node.RPCURL, "http://"))
	h := stageHeist(t, node)
	data := t.TempDir()
	mustOK(t, cli(t, "--data", data, "--quiet", "labels", "import", writeFile(t, "labels.csv", []byte(h.labels)), "--format", "csv"), "labels import")

	s := startServe(t, data, followArgs(node, proxy.URL)...)
	ready := s.waitReadyz(t, http.StatusOK, 30*time.Second)
	if f, _ := ready["follow"].(map[string]any); f["state"] != "caught_up" || f["height"] != float64(node.Height(t)) {
		t.Errorf("/readyz caught up: %v, want height %d", ready, node.Height(t))
	}
	if code, _, body := s.call(t, "GET", "/metrics", "", ""); code != 200 || !strings.Contains(string(body), fmt.Sprintf(`heistgraph_follow_height{chain="btc-regtest"} %d`, node.Height(t))) ||
		!strings.Contains(string(body), `heistgraph_follow_ready{chain="btc-regtest"} 1`) {
		t.Errorf("/metrics lacks the follow's height and readiness")
	}
	proxy.Down()
	down := s.waitReadyz(t, http.StatusServiceUnavailable, 20*time.Second)
	if msg, _ := down["error"].(string); !strings.Contains(msg, "does not answer") {
		t.Errorf("/readyz with the node unreachable: %v", down)
	}
	proxy.Up(t)
	s.waitReadyz(t, http.StatusOK, 30*time.Second)
	t.Logf("%s: /readyz said %q while the node was down, and is ready again", time.Since(start).Round(time.Millisecond), down["error"])

	// Three endpoints: one for everything, which hangs until serve is
	// killed (its deliveries are then pending); Kraken's, which answers
	// 500 once; OKX's, which answers 410.
	secret := webhookSecret(t)
	killed := make(chan struct{})
	var killOnce sync.Once
	all := webhooktest.Start(t, secret, func(n int, _ webhooktest.Request) int {
		select {
		case <-killed:
			return http.StatusOK
		default:
		}
		<-killed
		return http.StatusServiceUnavailable // to a dead server: never recorded
	})
	t.Cleanup(func() { killOnce.Do(func() { close(killed) }) })
	kraken := webhooktest.Start(t, secret, func(n int, _ webhooktest.Request) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	okx := webhooktest.Start(t, secret, func(int, webhooktest.Request) int { return http.StatusGone })
	mustOK(t, cli(t, "--data", data, "webhooks", "add", all.URL, "--secret", secret), "webhooks add")
	mustOK(t, cli(t, "--data", data, "webhooks", "add", kraken.URL, "--secret", secret, "--entity", "Kraken"), "webhooks add --entity Kraken")
	mustOK(t, cli(t, "--data", data, "webhooks", "add", okx.URL, "--secret", secret, "--entity", "OKX"), "webhooks add --entity OKX")

	r := cli(t, "--data", data, "--json", "watch", "add", "--chain", "btc-regtest", "--seed", h.theft.TxID().String(), "--name", "staged")
	mustOK(t, r, "watch add through serve")
	want := map[string]bool{ // kind txid:vout entity amount
		fmt.Sprintf("funds_moved %s:0 %s %d", h.theft.TxID(), "", int64(50e8-4000)):      true,
		fmt.Sprintf("funds_reached_entity %s:0 Binance %d", h.peel1.TxID(), int64(5e8)):  true,
		fmt.Sprintf("funds_reached_entity %s:0 Kraken %d", h.peel2.TxID(), int64(4e8)):   true,
		fmt.Sprintf("funds_reached_entity %s:0 OKX %d", h.split.TxID(), int64(10e8)):     true,
		fmt.Sprintf("funds_reached_entity %s:1 Wormhole %d", h.split.TxID(), int64(8e8)): true,
	}
	if w := decode[server.WatchJSON](t, r.stdout); w.Alerts != len(want) || w.AlertsRaised != len(want) {
		t.Fatalf("watch add: %s; want %d alerts raised", r.stdout, len(want))
	}
	for deadline := time.Now().Add(20 * time.Second); all.Arrived() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no delivery arrived within 20 s\n%s", s.stderr.String())
		}
	}
	// Kill serve once it has recorded Kraken's 500 (its retry is due 5 s
	// later, on the specification's schedule) and OKX's 410.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		r := cli(t, "--data", data, "--json", "webhooks", "list")
		mustOK(t, r, "webhooks list")
		recorded := 0
		for _, w := range decode[server.WebhooksList](t, r.stdout).Webhooks {
			if w.URL == kraken.URL && w.LastStatus == 500 && w.Pending == 1 || w.URL == okx.URL && w.Disabled {
				recorded++
			}
		}
		if recorded == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Kraken's 500 and OKX's 410 not recorded within 20 s: %s", r.stdout)
		}
	}
	s.kill(t)
	killOnce.Do(func() { close(killed) })

	s = startServe(t, data, followArgs(node, proxy.URL)...)
	s.waitReadyz(t, http.StatusOK, 30*time.Second)
	reqs := all.WaitFor(t, 30*time.Second, "every alert after the restart", func(rs []webhooktest.Request) bool { return len(delivered(rs)) >= len(want) })
	got := map[string]bool{}
	keys := map[string]string{} // alert line -> webhook-id
	for id, n := range delivered(reqs) {
		var p map[string]any
		for _, q := range reqs {
			if q.ID == id {
				p = q.Payload
			}
		}
		line := alertOf(p)
		got[line] = true
		keys[line] = id
		if n != 1 || p["idempotency_key"] != id || p["watch"] != "staged" {
			t.Errorf("alert %s (%s): delivered %d times, payload %v", line, id, n, p)
		}
	}
	if fmt.Sprint(sortedKeys(got)) != fmt.Sprint(sortedKeys(want)) {
		t.Errorf("alerts delivered:\n got %v\nwant %v", sortedKeys(got), sortedKeys(want))
	}
	for _, q := range reqs {
		if !q.Verified {
			t.Errorf("request %s not verified: %s", q.ID, q.VerifyError)
		}
	}
	if len(reqs) != len(want)+1 {
		t.Errorf("%d requests to the hanging endpoint for %d alerts; want one more (the one in flight at the kill)", len(reqs), len(want))
	}
	kr := kraken.WaitFor(t, 20*time.Second, "Kraken's retry", func(rs []webhooktest.Request) bool { return len(delivered(rs)) == 1 })
	if len(kr) != 2 || kr[0].ID != kr[1].ID || kr[0].Status != 500 || alertOf(kr[1].Payload) != fmt.Sprintf("funds_reached_entity %s:0 Kraken %d", h.peel2.TxID(), int64(4e8)) {
		t.Errorf("Kraken's endpoint: want its alert answered 500 then retried with the same id: %d requests", len(kr))
	} else {
		t.Logf("%s: Kraken's endpoint answered 500, got the retry %s later", time.Since(start).Round(time.Millisecond), kr[1].At.Sub(kr[0].At).Round(time.Millisecond))
	}
	r = cli(t, "--data", data, "--json", "webhooks", "list")
	mustOK(t, r, "webhooks list")
	for _, w := range decode[server.WebhooksList](t, r.stdout).Webhooks {
		if gone := w.URL == okx.URL; w.Disabled != gone {
			t.Errorf("endpoint %s (%v): disabled %v (%s)", w.URL, w.Entities, w.Disabled, w.DisabledReason)
		}
	}
	if n := len(okx.Requests()); n != 1 {
		t.Errorf("OKX's endpoint got %d requests, want 1 (410 disables it)", n)
	}

	// The kept coin moves in a new block: part of it to a Binance deposit.
	move := h.spend(t, false, []btcdtest.Coin{h.kept}, []btcdtest.Payment{{Key: h.binance2, Value: 1e8}, {Key: btcdtest.NewKey("k2", btcdtest.P2WPKH), Value: 3e8}, {Key: btcdtest.NewKey("k3", btcdtest.P2WPKH), Value: h.kept.Value - 4e8 - 2000}})
	moved := fmt.Sprintf("funds_reached_entity %s:0 Binance %d", move.TxID(), int64(1e8))
	t0 := time.Now()
	node.Generate(t, 1)
	all.WaitFor(t, 20*time.Second, "the moved coin's alert", func(rs []webhooktest.Request) bool {
		for _, q := range rs {
			if q.Status == 200 && alertOf(q.Payload) == moved {
				return true
			}
		}
		return false
	})
	t.Logf("a new block's alert arrived %s after the block was mined", time.Since(t0).Round(time.Millisecond))

	// A block R spends both new coins: k2 into a Kraken deposit (replaceable),
	// k3 into Binance's first deposit address. invalidateblock removes R;
	// a conflicting spend replaces k2's payment in the mempool with one to
	// an unlabelled address, and the block replacing R carries it and k3's
	// payment (back from the mempool, or sent again).
	k2, k3 := move.Outs[1], move.Outs[2]
	m1 := h.spend(t, true, []btcdtest.Coin{k2}, []btcdtest.Payment{{Key: h.kraken2, Value: k2.Value - 2000}})
	m2 := h.spend(t, false, []btcdtest.Coin{k3}, []btcdtest.Payment{{Key: h.binance, Value: k3.Value - 2000}})
	alertM1 := fmt.Sprintf("funds_reached_entity %s:0 Kraken %d", m1.TxID(), k2.Value-2000)
	alertM2 := fmt.Sprintf("funds_reached_entity %s:0 Binance %d", m2.TxID(), k3.Value-2000)
	blockR := node.Generate(t, 1)[0]
	reqs = all.WaitFor(t, 20*time.Second, "block R's alerts", func(rs []webhooktest.Request) bool {
		n := 0
		for _, q := range rs {
			if a := alertOf(q.Payload); q.Status == 200 && (a == alertM1 || a == alertM2) {
				n++
			}
		}
		return n == 2
	})
	retractKeys := map[string]bool{}
	for _, q := range reqs {
		if a := alertOf(q.Payload); a == alertM1 || a == alertM2 {
			retractKeys[q.ID] = true
			if q.Payload["block_hash"] != blockR {
				t.Errorf("alert %s on block %v, want R %s", a, q.Payload["block_hash"], blockR)
			}
		}
	}
	node.InvalidateBlock(t, blockR)
	var pool []string
	node.MustCall(t, &pool, "getrawmempool")
	if !slices.Contains(pool, m2.TxID().String()) {
		node.SendRawTransaction(t, m2.Hex())
	}
	replace := h.spend(t, false, []btcdtest.Coin{k2}, []btcdtest.Payment{{Key: h.loose, Value: k2.Value - 20000}})
	blockR2 := node.Generate(t, 1)[0]
	reqs = all.WaitFor(t, 20*time.Second, "the retractions and block R2's alert", func(rs []webhooktest.Request) bool {
		for _, q := range rs {
			if q.Status == 200 && alertOf(q.Payload) == alertM2 && q.Payload["block_hash"] == blockR2 {
				return true
			}
		}
		return false
	})
	retracted, reraised := map[string]bool{}, -1
	for i, q := range reqs {
		if q.Status != 200 {
			continue
		}
		switch p := q.Payload; {
		case p["kind"] == "alert_retracted":
			k, _ := p["retracts"].(string)
			if !retractKeys[k] || p["block_hash"] != blockR || q.ID == k {
				t.Errorf("retraction %s of %s (block %v): not one of block R's alerts", q.ID, k, p["block_hash"])
			}
			retracted[k] = true
			if reraised >= 0 {
				t.Errorf("retraction %s delivered after the re-raised alert", q.ID)
			}
		case p["block_hash"] == blockR2:
			if alertOf(p) != alertM2 || retractKeys[q.ID] {
				t.Errorf("block R2 raised %s (%s); want only %s under a new key", alertOf(p), q.ID, alertM2)
			}
			reraised = i
		}
	}
	if len(retracted) != 2 {
		t.Errorf("%d of block R's 2 alerts retracted", len(retracted))
	}
	// Every alert of R2 was raised in the batch that raised alertM2: the
	// store holds none about m1 or its replacement on R2.
	r = cli(t, "--data", data, "--json", "alerts", "list", "--watch", "staged")
	mustOK(t, r, "alerts list")
	for _, a := range decode[server.AlertsList](t, r.stdout).Alerts {
		if a.BlockHash.String() == blockR2 && a.TxID.String() != m2.TxID().String() {
			t.Errorf("block R2 raised an alert about %s (%s): only m2's money arrives at a service", a.TxID, a.Kind)
		}
		if a.TxID.String() == replace.TxID().String() {
			t.Errorf("the replacement to an unlabelled address raised %s", a.Kind)
		}
	}
	// A label written through serve for the address the replacement paid
	// makes that money an entity's: the watch is checked again at once.
	relabel := fmt.Sprintf("funds_reached_entity %s:0 Bitstamp %d", replace.TxID(), k2.Value-20000)
	mustOK(t, cli(t, "--data", data, "labels", "import", writeFile(t, "more.csv", []byte("chain,address,entity,category,source,confidence\nbtc-regtest,"+h.loose.Address()+",Bitstamp,exchange,staged-heist,1\n")), "--format", "csv"), "labels import through serve")
	all.WaitFor(t, 20*time.Second, "the alert a new label calls for", func(rs []webhooktest.Request) bool {
		for _, q := range rs {
			if q.Status == 200 && alertOf(q.Payload) == relabel && q.Payload["block_hash"] == blockR2 {
				return true
			}
		}
		return false
	})
	s.stop(t)
	t.Logf("end to end in %s", time.Since(start).Round(time.Millisecond))
}

// TestMonitorLatency measures, on a real btcd regtest node, how long a
// new block takes to become a webhook request at a receiver. Two serve
// processes follow the node with --poll 100ms, one with btcd's block push
// (the default) and one without (--btc-push=false), each on its own store
// with its own receiver and a watch on the staged heist; each round mines
// a block in which a watched coin pays a Binance deposit. Per round and
// server it times, from just before the generate call, (a) serve answering
// GET /v1/blocks/btc-regtest/HEIGHT (the block followed and stored: the
// reference) and (b) the alert's request arriving at the receiver. It
// only runs with HEISTGRAPH_MONITOR_BENCH=N (rounds) and asserts no
// timing; docs/benchmarks.md records its output.
func TestMonitorLatency(t *testing.T) {
	rounds, _ := strconv.Atoi(os.Getenv("HEISTGRAPH_MONITOR_BENCH"))
	if rounds <= 0 {
		t.Skip("a benchmark: run with HEISTGRAPH_MONITOR_BENCH=N (rounds)")
	}
	node := btcdtest.Start(t, btcdtest.Options{})
	h := stageHeist(t, node)
	secret := webhookSecret(t)
	type server struct {
		name           string
		s              *served
		rc             *webhooktest.Receiver
		stored, hooked []time.Duration
	}
	var servers []*server
	for _, mode := range []struct{ name, flag string }{{"push", "--btc-push=true"}, {"poll", "--btc-push=false"}} {
		data := t.TempDir()
		mustOK(t, cli(t, "--data", data, "--quiet", "labels", "import", writeFile(t, "labels.csv", []byte(h.labels)), "--format", "csv"), "labels import")
		s := startServe(t, data, append(followArgs(node, node.RPCURL), mode.flag)...)
		s.waitReadyz(t, http.StatusOK, 30*time.Second)
		rc := webhooktest.Start(t, secret, nil)
		mustOK(t, cli(t, "--data", data, "webhooks", "add", rc.URL, "--secret", secret), "webhooks add")
		mustOK(t, cli(t, "--data", data, "watch", "add", "--chain", "btc-regtest", "--seed", h.theft.TxID().String(), "--name", "bench"), "watch add")
		rc.WaitFor(t, 30*time.Second, "the watch's first alerts", func(rs []webhooktest.Request) bool { return len(rs) >= 5 })
		servers = append(servers, &server{name: mode.name, s: s, rc: rc})
	}
	// The kept coin is first split into one coin per round (so every
	// round's payment is as many hops from the theft, well within the
	// trace's hop limit); the split's block is not timed.
	fan := make([]btcdtest.Payment, rounds)
	for i := range fan {
		fan[i] = btcdtest.Payment{Key: btcdtest.NewKey("fan", btcdtest.P2WPKH), Value: (h.kept.Value - 10000) / int64(rounds)}
	}
	coins := h.mine(t, []btcdtest.Coin{h.kept}, fan).Outs
	for _, sv := range servers {
		height := strconv.FormatInt(node.Height(t), 10)
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if code, _, _ := sv.s.call(t, "GET", "/v1/blocks/btc-regtest/"+height, sv.s.local, ""); code == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the split's block not stored within 20 s", sv.name)
			}
		}
	}
	for i := 0; i < rounds; i++ {
		coin := coins[i]
		tx := h.spend(t, false, []btcdtest.Coin{coin}, []btcdtest.Payment{{Key: h.binance2, Value: 1e6}, {Key: btcdtest.NewKey("change", btcdtest.P2WPKH), Value: coin.Value - 1e6 - 2000}})
		txid := tx.TxID().String()
		path := "/v1/blocks/btc-regtest/" + strconv.FormatInt(node.Height(t)+1, 10)
		time.Sleep(time.Duration(i%10) * 37 * time.Millisecond) // spread the blocks over the poll's phase
		t0 := time.Now()
		node.Generate(t, 1)
		stored := make([]time.Duration, len(servers))
		for left := len(servers); left > 0; {
			for k, sv := range servers {
				if stored[k] == 0 {
					if code, _, _ := sv.s.call(t, "GET", path, sv.s.local, ""); code == http.StatusOK {
						stored[k] = time.Since(t0)
						left--
					}
				}
			}
			if time.Since(t0) > 20*time.Second {
				t.Fatalf("round %d: a serve did not store the block within 20 s", i)
			}
		}
		for k, sv := range servers {
			sv.stored = append(sv.stored, stored[k])
			reqs := sv.rc.WaitFor(t, 20*time.Second, "round "+strconv.Itoa(i)+"'s alert", func(rs []webhooktest.Request) bool {
				return slices.ContainsFunc(rs, func(q webhooktest.Request) bool { return q.Payload["txid"] == txid })
			})
			q := reqs[slices.IndexFunc(reqs, func(q webhooktest.Request) bool { return q.Payload["txid"] == txid })]
			sv.hooked = append(sv.hooked, q.At.Sub(t0))
		}
	}
	q := func(ds []time.Duration) string {
		ds = slices.Clone(ds)
		slices.Sort(ds)
		return fmt.Sprintf("p50 %s  p90 %s  max %s", ds[len(ds)/2].Round(time.Millisecond), ds[len(ds)*9/10].Round(time.Millisecond), ds[len(ds)-1].Round(time.Millisecond))
	}
	var b strings.Builder
	for _, sv := range servers {
		fmt.Fprintf(&b, "\n  %s: block mined -> served by GET /v1/blocks/{height}: %s\n  %s: block mined -> webhook request received:         %s", sv.name, q(sv.stored), sv.name, q(sv.hooked))
	}
	t.Logf("%d blocks, serve --poll 100ms, with btcd's block push and without:%s", rounds, b.String())
}

// TestServeFollowFlags: serve's follow flags are checked (exit 2 naming
// the flag), and serve pointed at a node that does not answer still
// serves, with /readyz 503 saying why.
func TestServeFollowFlags(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--confirmations", "1"}, "--btc-rpc"},
		{[]string{"--rpc-user", "u"}, "--btc-rpc"},
		{[]string{"--btc-rpc", "http://127.0.0.1:1", "--poll", "0s"}, "--poll"},
		{[]string{"--btc-rpc", "http://127.0.0.1:1", "--confirmations", "-1"}, "--confirmations"},
		{[]string{"--btc-rpc", "ftp://127.0.0.1:1"}, "--btc-rpc"},
	} {
		r := cli(t, append([]string{"--data", data, "serve", "--addr", "127.0.0.1:0"}, c.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("serve %v: exit %d, want 2 naming %s: %s", c.args, r.code, c.want, r.stderr)
		}
	}
	s := startServe(t, data, "--btc-rpc", "http://127.0.0.1:1", "--poll", "50ms")
	m := s.waitReadyz(t, http.StatusServiceUnavailable, 10*time.Second)
	if msg, _ := m["error"].(string); !strings.Contains(msg, "127.0.0.1:1") {
		t.Errorf("/readyz with no node: %v", m)
	}
	if code, _, body := s.call(t, "GET", "/v1/watchlists", s.local, ""); code != http.StatusOK {
		t.Errorf("GET /v1/watchlists while the node is down: %d %s", code, body)
	}
}
