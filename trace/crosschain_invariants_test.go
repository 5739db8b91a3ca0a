package trace_test

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/testutil"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
)

// The two-chain world of the invariant test: stolen ETH on eth split over
// deposits to a bridge, a Bitcoin chain whose payouts are spent on, and a
// bridge deposit on Bitcoin; links between them are drawn at random.
const (
	crossETH = `
block 0
genesis V 100
genesis A 1
block 1
tx stolen V A 60
block 2
tx d1 A Bridge 20 fee=0.01
tx d2 A Bridge 15 fee=0.01
tx keep A B 5 fee=0.01
block 3
tx d3 B Bridge 4 fee=0.01
tx o1 Vault2 Bridge 3
internal Bridge U 3
block 4
tx cash U KX 2
`
	crossBTC = `
block 1
coinbase c1 -> vault:50.0
block 2
coinbase c2 -> other:7.0
block 3
tx p1 c1:0 -> dest:2.0 vault:47.9999
tx p2 p1:1 -> dest2:1.0 vault:46.9998
tx mix p1:0 c2:0 -> kx:4.0 back:4.9998
block 4
tx ret mix:1 -> vault:4.9997
`
)

// TestCrossChainInvariants draws links between the deposits and payouts
// of a two-chain world at random (amounts, confidences, which payout) and
// checks, under every policy and with and without hypotheses, that each
// side accounts for what crossed once: the seed chain conserves as without
// links and what continued from its bridge sinks is what the followed
// exact links took; every link's destination taint is its Convert; per
// part, chain and asset the totals beyond the links balance and what they
// took in is what the links converted into them.
func TestCrossChainInvariants(t *testing.T) {
	seen := map[string]int{} // part/kind of the sinks beyond links, over every world
	for world := range 12 {
		crossWorldCheck(t, uint64(world), seen)
	}
	// The draws must have reached every part and both ends of a link.
	for _, k := range []string{"confirmed/entity", "confirmed/untraced", "inferred/unspent", "hypotheses/unspent"} {
		if seen[k] == 0 {
			t.Errorf("no world reached a %s sink beyond a link: %v", k, seen)
		}
	}
}

// FuzzCrossChainInvariants checks TestCrossChainInvariants's invariants on
// the links a fuzzed seed draws.
func FuzzCrossChainInvariants(f *testing.F) {
	for _, s := range []uint64{0, 3, 8, 10, 1 << 40} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s uint64) { crossWorldCheck(t, s, map[string]int{}) })
}

// crossWorldCheck builds the two-chain world with links drawn from seed
// and checks the invariants of every trace on it, counting in seen the
// part and kind of the sinks beyond the links.
func crossWorldCheck(t *testing.T, seed uint64, seen map[string]int) {
	ctx := context.Background()
	eth := newLedger()
	eth.chain = "eth"
	if err := eth.parse(crossETH); err != nil {
		t.Fatal(err)
	}
	g, err := testutil.ParseGraph(chain, crossBTC)
	if err != nil {
		t.Fatal(err)
	}
	labels := mapResolver{"vault": {Name: "THORChain", Category: "bridge"}, "kx": {Name: "Kestrel", Category: "exchange"},
		eth.addr("Bridge").Lower(): {Name: "THORChain", Category: "bridge"}, eth.addr("KX").Lower(): {Name: "Kestrel", Category: "exchange"}}
	type end struct {
		tx     string
		idx    int64
		amount string // whole units
		height int64
	}
	ethEnds := []end{{"d1", 0, "20", 2}, {"d2", 0, "15", 2}, {"d3", 0, "4", 3}}
	ethDsts := []end{{"o1", 0, "3", 3}, {"ghost", 0, "1", 4}}
	btcDsts := []end{{"p1", 0, "2.0", 3}, {"p2", 0, "1.0", 3}, {"nowhere", 0, "0.5", 4}}
	btcSrcs := []end{{"ret", 0, "4.9997", 4}, {"p1", 1, "47.9999", 3}}
	confs := []heistgraph.Confidence{heistgraph.ConfidenceExact, heistgraph.ConfidenceExact, heistgraph.ConfidenceStrong,
		heistgraph.ConfidenceProbable, heistgraph.ConfidenceHypothesis}
	outputs := map[string]*big.Int{}
	for _, d := range btcDsts[:2] { // nowhere: not in the store
		v, _ := testutil.ParseAmount(d.amount)
		outputs[fmt.Sprintf("%s:%d", testutil.TxID(d.tx), d.idx)] = big.NewInt(v)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	st := openMem(t)
	if err := eth.apply(ctx, st); err != nil {
		t.Fatal(err)
	}
	if err := g.Apply(ctx, st); err != nil {
		t.Fatal(err)
	}
	scale := func(s string, num int64) string { // s × num/100, as a decimal of whole units
		r, _ := new(big.Rat).SetString(s)
		return r.Mul(r, big.NewRat(num, 100)).FloatString(8)
	}
	var ls []store.StoredLink
	for _, src := range ethEnds {
		for range rng.IntN(3) {
			d := btcDsts[rng.IntN(len(btcDsts))]
			ls = append(ls, crossLink(t, eth, confs[rng.IntN(len(confs))], "eth", src.tx, src.idx, src.amount, src.height,
				"btc", d.tx, d.idx, scale(d.amount, 50+rng.Int64N(60)), d.height))
		}
	}
	for _, src := range btcSrcs {
		if rng.IntN(2) == 0 {
			d := ethDsts[rng.IntN(len(ethDsts))]
			amount := d.amount
			if rng.IntN(2) == 0 {
				amount = scale(d.amount, 90)
			}
			ls = append(ls, crossLink(t, eth, confs[rng.IntN(len(confs))], "btc", src.tx, src.idx, src.amount, src.height,
				"eth", d.tx, d.idx, amount, d.height))
		}
	}
	if len(ls) > 0 {
		if err := st.(store.Links).PutLinks(ctx, ls); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []trace.Policy{trace.Poison, trace.Haircut, trace.FIFO, trace.LIFO, trace.TIHO} {
		for _, hyp := range []bool{false, true} {
			name := fmt.Sprintf("world%d/%s/hyp=%t", seed, p, hyp)
			res, err := trace.RunAccounts(ctx, st, trace.AccountOptions{Chain: "eth", Policy: p, Resolver: labels,
				Seeds: []trace.AccountSeed{{Tx: eth.txHash("stolen")}}, FollowLinks: true, FollowHypotheses: hyp})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var sinks []crossSide
			for _, s := range res.Sinks {
				sinks = append(sinks, crossSide{res.Chain, s.TxID.String(), s.Value(), s.Continued})
			}
			checkAcross(t, name, res.Across, sinks, p.Conserving(), outputs)
			for _, s := range res.Across.Sinks {
				seen[s.Part+"/"+string(s.Kind)]++
			}
			// Bitcoin seeds cross the other way.
			bres, err := trace.Run(ctx, st, trace.Options{Chain: chain, Policy: p, Resolver: labels, FollowLinks: true, FollowHypotheses: hyp,
				Seeds: []trace.Seed{{Kind: trace.SeedOutput, Outpoint: heistgraph.Outpoint{TxID: testutil.TxID("c2")}}}})
			if err != nil {
				t.Fatalf("%s btc: %v", name, err)
			}
			sinks = sinks[:0]
			for _, s := range bres.Sinks.All() {
				var v uint256.Int
				v.SetUint64(uint64(s.AmountSat))
				c := ""
				if s.ContinuedSat != 0 {
					c = fmt.Sprint(s.ContinuedSat)
				}
				sinks = append(sinks, crossSide{bres.Chain, s.TxID.String(), v, c})
			}
			checkAcross(t, name+" btc", bres.Across, sinks, p.Conserving(), outputs)
			for _, s := range bres.Across.Sinks {
				seen[s.Part+"/"+string(s.Kind)]++
			}
		}
	}
}

// crossSide is a sink of the seed chain as checkAcross needs it.
type crossSide struct {
	chain     heistgraph.Chain
	txid      string
	amount    uint256.Int
	continued string
}

func crossLink(t *testing.T, eth *ledger, conf heistgraph.Confidence, sc, stx string, sidx int64, samt string, sh int64,
	dc, dtx string, didx int64, damt string, dh int64) store.StoredLink {
	t.Helper()
	mk := func(c, tx string, idx int64, amt string) heistgraph.LinkEnd {
		if c == "btc" {
			v, err := testutil.ParseAmount(strings.TrimRight(strings.TrimRight(amt, "0"), "."))
			if err != nil {
				t.Fatalf("%s: %v", amt, err)
			}
			e := heistgraph.LinkEnd{Chain: chain, TxID: testutil.TxID(tx).String(), Index: idx, Asset: "BTC"}
			e.Amount.SetUint64(uint64(v))
			return e
		}
		v, err := eth.amount("ETH", amt)
		if err != nil {
			t.Fatal(err)
		}
		return heistgraph.LinkEnd{Chain: "eth", TxID: eth.txHash(tx).String(), Index: idx, Asset: "native", Amount: v}
	}
	return store.StoredLink{Link: heistgraph.Link{Method: "test", Src: mk(sc, stx, sidx, samt), Dst: mk(dc, dtx, didx, damt), Confidence: conf,
		Inferred: conf != heistgraph.ConfidenceExact}, SrcHeight: sh, DstHeight: dh}
}

// checkAcross checks the invariants of TestCrossChainInvariants on one
// result's seed-chain sinks and its part beyond the links.
func checkAcross(t *testing.T, name string, a *trace.Across, sinks []crossSide, conserving bool, outputs map[string]*big.Int) {
	t.Helper()
	if a == nil {
		t.Fatalf("%s: FollowLinks on a store with links gave no Across", name)
	}
	big10 := func(s string) *big.Int {
		v, ok := new(big.Int).SetString(s, 10)
		if !ok {
			t.Fatalf("%s: amount %q", name, s)
		}
		return v
	}
	// Continued on the sinks of each side == what the confirmed exact
	// links from that side's sinks took, and never more than the sink.
	continued := map[string]*big.Int{} // chain/txid → continued
	add := func(m map[string]*big.Int, k string, v *big.Int) {
		if m[k] == nil {
			m[k] = new(big.Int)
		}
		m[k].Add(m[k], v)
	}
	for _, s := range sinks {
		if s.continued == "" {
			continue
		}
		c := big10(s.continued)
		if c.Cmp(s.amount.ToBig()) > 0 {
			t.Errorf("%s: sink %s continued %s of %s", name, s.txid, c, s.amount.Dec())
		}
		add(continued, string(s.chain)+"/"+s.txid, c)
	}
	for _, s := range a.Sinks {
		if s.Continued != "" {
			v := s.Value()
			if big10(s.Continued).Cmp(v.ToBig()) > 0 {
				t.Errorf("%s: across sink %s continued %s of %s", name, s.TxID, s.Continued, s.Amount)
			}
			add(continued, string(s.Chain)+"/"+strings.ToLower(s.TxID)+"#"+s.Part, big10(s.Continued))
		}
	}
	took := map[string]*big.Int{}
	tookSrc := map[string]bool{}
	linkedIn := map[[3]string]*big.Int{}
	for _, l := range a.Links {
		st, dt := big10(l.SrcTainted), big10(l.DstTainted)
		if st.Cmp(l.Src.Amount.ToBig()) > 0 {
			t.Errorf("%s: link %s→%s src tainted %s > amount %s", name, l.Src.TxID, l.Dst.TxID, st, l.Src.Amount.Dec())
		}
		if l.Part == "" {
			if dt.Sign() != 0 {
				t.Errorf("%s: a link not followed converted %s", name, dt)
			}
			continue
		}
		want := new(big.Int).Mul(l.Dst.Amount.ToBig(), st)
		want.Quo(want, l.Src.Amount.ToBig())
		// What a Bitcoin output holds bounds what a link converts into it.
		if v, ok := outputs[fmt.Sprintf("%s:%d", l.Dst.TxID, l.Dst.Index)]; ok && want.Cmp(v) > 0 {
			want = v
		}
		if dt.Cmp(want) != 0 {
			t.Errorf("%s: link %s→%s dst tainted %s, Convert gives %s", name, l.Src.TxID, l.Dst.TxID, dt, want)
		}
		asset := l.Dst.Asset
		if a, err := heistgraph.ParseAsset(asset); err == nil && l.Dst.Chain.IsEVM() {
			asset = a.String()
		}
		k3 := [3]string{l.Part, string(l.Dst.Chain), asset}
		if linkedIn[k3] == nil {
			linkedIn[k3] = new(big.Int)
		}
		linkedIn[k3].Add(linkedIn[k3], dt)
		// A source continues once, however many exact links it has.
		srcKey := fmt.Sprintf("%s/%s/%d/%s", l.Src.Chain, l.Src.TxID, l.Src.Index, l.Part)
		if l.Confidence == heistgraph.ConfidenceExact && !tookSrc[srcKey] {
			tookSrc[srcKey] = true
			k := string(l.Src.Chain) + "/" + strings.ToLower(l.Src.TxID)
			if _, onSeedSide := continued[k]; !onSeedSide {
				k += "#" + l.Part
			}
			add(took, k, st)
		}
	}
	for k, v := range took {
		if c := continued[k]; c == nil || c.Cmp(v) != 0 {
			t.Errorf("%s: %s: exact links took %s, sinks say %v continued", name, k, v, c)
		}
	}
	for k, c := range continued {
		if v := took[k]; v == nil || v.Cmp(c) != 0 {
			t.Errorf("%s: %s: sinks say %s continued, exact links took %v", name, k, c, v)
		}
	}
	seen := map[[3]string]bool{}
	for _, tot := range a.Totals {
		k := [3]string{tot.Part, string(tot.Chain), tot.Asset}
		seen[k] = true
		if conserving && !tot.Balanced() {
			t.Errorf("%s: %v not balanced: %+v", name, k, tot)
		}
		in := linkedIn[k]
		if in == nil {
			in = new(big.Int)
		}
		if big10(tot.LinkedIn).Cmp(in) != 0 {
			t.Errorf("%s: %v linked in %s, links converted %s into it", name, k, tot.LinkedIn, in)
		}
	}
	for k, v := range linkedIn {
		if !seen[k] && v.Sign() != 0 {
			t.Errorf("%s: links converted %s into %v, which has no total", name, v, k)
		}
	}
}
