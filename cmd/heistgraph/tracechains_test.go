package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
	lft "github.com/heistgraph/heistgraph/linkfind/linkfindtest"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// crossWorld writes linkfindtest's traced world (a heist whose laundering
// crosses from eth to Bitcoin through THORChain, and a theft on Bitcoin)
// to a fresh data directory, with its labels, and finds its links with
// links build.
func crossWorld(t *testing.T) (string, *lft.TracedWorld) {
	t.Helper()
	ctx := context.Background()
	data := t.TempDir()
	w := lft.NewTracedWorld()
	db, err := pebble.Open(data, pebble.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range w.BTC {
		if err := db.ApplyBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range w.ETH {
		if err := db.ApplyAccountBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.PutLabels(ctx, []heistgraph.Label{lft.VaultLabel, lft.KXLabel, lft.RouterLabel}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	r := cli(t, "--data", data, "--json", "links", "build", "--chain", string(lft.BTC), "--chain", string(lft.ETH))
	mustOK(t, r, "links build")
	if n := decode[struct {
		Links int `json:"links"`
	}](t, r.stdout).Links; n != 1 {
		t.Fatalf("links build found %d links, want 1: %s", n, r.stdout)
	}
	return data, w
}

// crossView is the part of a trace's JSON the cross-chain tests read.
type crossView struct {
	Sinks []struct {
		Kind      string `json:"kind"`
		Address   string `json:"address"`
		Category  string `json:"category"`
		Amount    string `json:"amount"`
		Continued string `json:"continued"`
	} `json:"sinks"`
	Across *struct {
		Links []struct {
			Method     string `json:"method"`
			Part       string `json:"part"`
			SrcTainted string `json:"src_tainted"`
			DstTainted string `json:"dst_tainted"`
		} `json:"links"`
		Sinks []struct {
			Part    string `json:"part"`
			Chain   string `json:"chain"`
			Kind    string `json:"kind"`
			Address string `json:"address"`
			Entity  string `json:"entity"`
			Amount  string `json:"amount"`
			Asset   string `json:"asset"`
			Via     struct {
				Method     string `json:"method"`
				Src        string `json:"src"`
				Dst        string `json:"dst"`
				Confidence string `json:"confidence"`
			} `json:"via"`
			Origin struct {
				Chain  string `json:"chain"`
				Asset  string `json:"asset"`
				Amount string `json:"amount"`
			} `json:"origin"`
		} `json:"sinks"`
	} `json:"across"`
	ByChain []holdingsView `json:"by_chain"`
}

type holdingsView struct {
	Chain  string `json:"chain"`
	Assets []struct {
		Asset  string `json:"asset"`
		Amount string `json:"amount"`
		Sinks  []struct {
			Kind   string `json:"kind"`
			Entity string `json:"entity"`
			Amount string `json:"amount"`
			Origin string `json:"origin_amount"`
		} `json:"sinks"`
	} `json:"assets"`
}

// entityAmount returns what by_chain says sits with entity on chain.
func entityAmount(by []holdingsView, chain, entity string) string {
	for _, c := range by {
		if c.Chain != chain {
			continue
		}
		for _, a := range c.Assets {
			for _, s := range a.Sinks {
				if s.Entity == entity {
					return s.Amount
				}
			}
		}
	}
	return ""
}

// TestTraceAcrossChains: trace --follow-links on eth follows the THORChain
// deposit to its Bitcoin outbound (the link links build found) and on to
// the exchange: the deposit's 10 ETH continue as the 0.49 BTC payout, of
// which 0.4 BTC reach Kestrel Exchange (8.163… ETH in the seed asset's
// units); without the flag the deposit is a bridge sink as before.
func TestTraceAcrossChains(t *testing.T) {
	data, w := crossWorld(t)
	r := cli(t, "--data", data, "--json", "trace", "--chain", "eth", "--seed", w.Stolen.String())
	mustOK(t, r, "trace")
	plain := decode[crossView](t, r.stdout)
	if plain.Across != nil || plain.ByChain != nil {
		t.Errorf("trace without --follow-links crossed: %s", r.stdout)
	}
	r = cli(t, "--data", data, "--json", "trace", "--chain", "eth", "--seed", w.Stolen.String(), "--follow-links")
	mustOK(t, r, "trace --follow-links")
	v := decode[crossView](t, r.stdout)
	bridge := false
	for _, s := range v.Sinks {
		if s.Category == "bridge" {
			bridge = true
			if s.Amount != "10000000000000000000" || s.Continued != s.Amount {
				t.Errorf("bridge sink %+v: want 10 ETH, all of it continued", s)
			}
		}
	}
	if !bridge || v.Across == nil || len(v.Across.Links) != 1 {
		t.Fatalf("trace --follow-links: %s", r.stdout)
	}
	if l := v.Across.Links[0]; l.Method != "thorchain" || l.Part != "confirmed" || l.SrcTainted != "10000000000000000000" || l.DstTainted != "49000000" {
		t.Errorf("link %+v", l)
	}
	var kx bool
	for _, s := range v.Across.Sinks {
		if s.Chain != string(lft.BTC) || s.Via.Method != "thorchain" || s.Via.Confidence != "exact" ||
			!strings.HasPrefix(s.Via.Src, "eth:"+w.Dep.String()) || s.Origin.Chain != "eth" || s.Origin.Asset != "native" {
			t.Errorf("across sink %+v", s)
		}
		if s.Address == lft.KX {
			kx = true
			// 0.4 BTC of the 0.49 the 10 ETH became: 10·0.4/0.49 ETH.
			if s.Kind != "entity" || s.Entity != "Kestrel Exchange" || s.Amount != "40000000" || s.Asset != "BTC" ||
				s.Origin.Amount != "8163265306122448979" {
				t.Errorf("exchange sink %+v", s)
			}
		}
	}
	if !kx {
		t.Errorf("no sink at the exchange beyond the link: %s", r.stdout)
	}
	if got := entityAmount(v.ByChain, string(lft.BTC), "Kestrel Exchange"); got != "40000000" {
		t.Errorf("by_chain: Kestrel Exchange on btc-regtest %q, want 40000000", got)
	}
	if got := entityAmount(v.ByChain, "eth", "THORChain"); got != "" {
		t.Errorf("by_chain counts the continued deposit on eth too: %q", got)
	}

	// The human output names the link and the chains.
	r = cli(t, "--data", data, "trace", "--chain", "eth", "--seed", w.Stolen.String(), "--follow-links")
	mustOK(t, r, "trace --follow-links (human)")
	for _, want := range []string{"across chains: 1 link(s)", "thorchain", "where the money sits, by chain", string(lft.BTC), "Kestrel Exchange"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("human output lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestTraceSeedsOnSeveralChains: seeds with chain prefixes on eth and
// btc-regtest are traced together, one run per chain, and by_chain sums
// what reached the exchange from both (9.9998 BTC of the Bitcoin theft,
// 0.4 BTC across the link).
func TestTraceSeedsOnSeveralChains(t *testing.T) {
	data, w := crossWorld(t)
	r := cli(t, "--data", data, "--json", "trace", "--seed", "eth:"+w.Stolen.String(), "--seed", string(lft.BTC)+":"+w.BTheft.TxID.String(), "--follow-links")
	mustOK(t, r, "trace over two chains")
	v := decode[struct {
		Chains []string `json:"chains"`
		Seeds  []string `json:"seeds"`
		Runs   []struct {
			Chain   string         `json:"chain"`
			UTXO    map[string]any `json:"utxo"`
			Account map[string]any `json:"account"`
		} `json:"runs"`
		ByChain []holdingsView `json:"by_chain"`
	}](t, r.stdout)
	if len(v.Runs) != 2 || v.Runs[0].Chain != "eth" || v.Runs[0].Account == nil || v.Runs[1].Chain != string(lft.BTC) || v.Runs[1].UTXO == nil {
		t.Fatalf("runs: %s", r.stdout)
	}
	if got := entityAmount(v.ByChain, string(lft.BTC), "Kestrel Exchange"); got != "1039980000" {
		t.Errorf("by_chain: Kestrel Exchange on btc-regtest %q, want 1039980000 (999980000 + 40000000)", got)
	}
	// The same seeds without prefixes but --chain eth: the Bitcoin txid is
	// not an EVM seed.
	r = cli(t, "--data", data, "trace", "--chain", "eth", "--seed", w.BTheft.TxID.String())
	if r.code != 2 {
		t.Errorf("a Bitcoin txid as an eth seed: exit %d, want 2", r.code)
	}
}

// TestIncidentAcrossChains: an incident whose theft was on eth and on
// Bitcoin and whose laundering crossed from eth to Bitcoin shows where the
// money sits on both chains, the same over HTTP (GET /v1/incidents/{id})
// as from incidents show, and the HTML report lists the sinks beyond the
// link with their chain.
func TestIncidentAcrossChains(t *testing.T) {
	data, w := crossWorld(t)
	stix := crossIncident(t, map[heistgraph.Chain][]string{"eth": {w.Stolen.String()}, lft.BTC: {w.BTheft.TxID.String()}})
	mustOK(t, cli(t, "--data", data, "--quiet", "import", "stix", stix), "import the incident")
	r := cli(t, "--data", data, "--json", "incidents", "show", "cross-heist-2026")
	mustOK(t, r, "incidents show")
	v := decode[struct {
		Trace struct {
			Status  string         `json:"status"`
			ByChain []holdingsView `json:"by_chain"`
		} `json:"trace"`
	}](t, r.stdout)
	if v.Trace.Status != "traced" || len(v.Trace.ByChain) != 2 {
		t.Fatalf("incidents show: %s", r.stdout)
	}
	if got := entityAmount(v.Trace.ByChain, string(lft.BTC), "Kestrel Exchange"); got != "1039980000" {
		t.Errorf("by_chain: Kestrel Exchange on btc-regtest %q, want 1039980000", got)
	}
	// The 50 ETH the attacker kept sit on eth.
	var eth bool
	for _, c := range v.Trace.ByChain {
		if c.Chain == "eth" && len(c.Assets) == 1 && c.Assets[0].Amount == "50000000000000000000" {
			eth = true
		}
	}
	if !eth {
		t.Errorf("by_chain on eth: %+v, want the 50 ETH kept", v.Trace.ByChain)
	}
	human := cli(t, "--data", data, "incidents", "show", "cross-heist-2026")
	mustOK(t, human, "incidents show (human)")
	if !strings.Contains(human.stdout, "where the money sits, by chain") {
		t.Errorf("incidents show lacks the per-chain holdings:\n%s", human.stdout)
	}

	html := filepath.Join(t.TempDir(), "report.html")
	mustOK(t, cli(t, "--data", data, "incidents", "report", "--incident", "cross-heist-2026", "--html", html), "incidents report --html")
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), "<td>"+string(lft.BTC)+"</td><td>entity</td><td>Kestrel Exchange</td>") {
		t.Errorf("the HTML report lists no Bitcoin sink of the exchange")
	}
	// The report's flow graph draws both chains: the Bitcoin sink of the
	// exchange, named with its chain, and the link that carried the value
	// across, labelled with its method.
	svg := string(page)
	if i := strings.Index(svg, `<svg id="flowgraph"`); i >= 0 {
		svg = svg[i:]
		svg = svg[:strings.Index(svg, "</svg>")]
	} else {
		t.Fatal("the HTML report draws no flow graph")
	}
	for _, want := range []string{string(lft.BTC) + " · entity · Kestrel Exchange", " via thorchain"} {
		if !strings.Contains(svg, want) {
			t.Errorf("the flow graph lacks %q", want)
		}
	}

	s := startServe(t, data)
	defer s.stop(t)
	_, key := createKey(t, data, "viewer")
	code, _, body := s.call(t, "GET", "/v1/incidents/cross-heist-2026", key, "")
	if code != 200 {
		t.Fatalf("GET /v1/incidents/cross-heist-2026: %d %s", code, body)
	}
	if compactJSON(t, body) != compactJSON(t, []byte(r.stdout)) {
		t.Errorf("GET /v1/incidents/{id} differs from incidents show --json:\n%s\n%s", body, r.stdout)
	}
}

// crossIncident writes a STIX bundle of one incident whose theft
// transactions are txids by chain.
func crossIncident(t *testing.T, txids map[heistgraph.Chain][]string) string {
	t.Helper()
	dir := t.TempDir()
	var txs strings.Builder
	for c, ids := range txids {
		for _, id := range ids {
			txs.WriteString("  - {chain: " + string(c) + ", txid: \"" + id + "\", role: theft, source: test-cert}\n")
		}
	}
	files := map[string]string{
		"sources.yaml": `sources:
  - id: test-cert
    publisher: Test CERT
    title: "Fixture: a heist across chains"
    date: 2026-01-02
    url: https://example.org/cross
    tier: official
`,
		"cross-heist-2026.yaml": `id: cross-heist-2026
name: Heist across chains (fixture)
victim: {name: "Cross Exchange", type: exchange}
stolen_on: 2026-01-01
vectors: [private-key-compromise]
thefts:
  - {chain: eth, asset: ETH, decimals: 18, amount: "60000000000000000000", source: test-cert}
figures:
  - {source: test-cert, usd: "1000000"}
txs:
` + txs.String() + `attributions:
  - {actor: dprk, tier: official, on: 2026-01-02, sources: [test-cert]}
tlp: green
`,
	}
	return registerBundle(t, dir, files, "cross")
}

// TestTraceJobAcrossChains: POST /v1/traces with follow_links answers what
// trace --follow-links --json prints (the links crossed included).
func TestTraceJobAcrossChains(t *testing.T) {
	data, w := crossWorld(t)
	r := cli(t, "--data", data, "--json", "trace", "--chain", "eth", "--seed", w.Stolen.String(), "--follow-links")
	mustOK(t, r, "trace --follow-links")
	var want any
	if err := json.Unmarshal([]byte(r.stdout), &want); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.stdout, `"across"`) {
		t.Fatalf("the CLI trace crossed no link: %s", r.stdout)
	}
	_, key := createKey(t, data, "analyst")
	srv := startServe(t, data)
	if _, got := runTraceJob(t, srv, key, map[string]any{"chain": "eth", "seeds": []string{w.Stolen.String()}, "follow_links": true}); !reflect.DeepEqual(got, withoutMS(want)) {
		t.Errorf("the trace job with follow_links differs from trace --follow-links --json:\n%v\n%v", got, withoutMS(want))
	}
	_, plain := runTraceJob(t, srv, key, map[string]any{"chain": "eth", "seeds": []string{w.Stolen.String()}})
	if b, _ := json.Marshal(plain); strings.Contains(string(b), `"across"`) {
		t.Errorf("a trace job without follow_links crossed a link")
	}
}
