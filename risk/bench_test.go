package risk_test

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/testutil"
	"github.com/heistgraph/heistgraph/risk"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// benchWorld builds a mixing world of blocks·perBlock 2-in/3-out
// transactions over a pool of addrs reused addresses (each receives many
// times), with labels on a few: 40 exchange hot wallets, 5 dprk and 5
// mixer addresses. It returns the store and a deposit outpoint of the last
// block, every outpoint the world's transactions created, and the graph.
func benchWorld(b testing.TB, blocks, perBlock, addrs int) (store.Store, heistgraph.Outpoint, []heistgraph.Outpoint, *testutil.Graph) {
	rng := rand.New(rand.NewPCG(7, 11))
	g := testutil.NewGraph(heistgraph.ChainBTCRegtest)
	g.Block(1, 0)
	var pool []heistgraph.Outpoint
	var vals []int64
	for i := range 256 {
		id := g.Tx(fmt.Sprintf("cb%d", i), nil, testutil.Out{Address: fmt.Sprintf("a%d", i%addrs), Value: 50_0000_0000})
		pool, vals = append(pool, heistgraph.Outpoint{TxID: id}), append(vals, 50_0000_0000)
	}
	var last heistgraph.Outpoint
	all := slices.Clone(pool)
	n := 0
	for h := int64(2); h < int64(2+blocks); h++ {
		g.Block(h, 0)
		for range perBlock {
			var ins []heistgraph.Outpoint
			var in int64
			for range 2 {
				j := rng.IntN(len(pool))
				ins, in = append(ins, pool[j]), in+vals[j]
				pool[j], vals[j] = pool[len(pool)-1], vals[len(vals)-1]
				pool, vals = pool[:len(pool)-1], vals[:len(vals)-1]
			}
			fee := int64(1000)
			a := (in - fee) / 3
			n++
			out := func(v int64) testutil.Out {
				return testutil.Out{Address: fmt.Sprintf("a%d", rng.IntN(addrs)), Value: v}
			}
			id := g.Tx(fmt.Sprintf("t%d", n), ins, out(a), out(a), out(in-fee-2*a))
			for k := range 3 {
				pool = append(pool, heistgraph.Outpoint{TxID: id, Vout: uint32(k)})
			}
			vals = append(vals, a, a, in-fee-2*a)
			all = append(all, pool[len(pool)-3:]...)
			last = heistgraph.Outpoint{TxID: id, Vout: 0}
		}
	}
	st := openMem(b)
	ctx := context.Background()
	if err := g.Apply(ctx, st); err != nil {
		b.Fatal(err)
	}
	var ls []heistgraph.Label
	for i := range 50 {
		cat, ent := "exchange", fmt.Sprintf("Exchange %d", i%8)
		switch {
		case i >= 45:
			cat, ent = "mixer", "Mixer"
		case i >= 40:
			cat, ent = "dprk", "Lazarus"
		}
		ls = append(ls, heistgraph.Label{Chain: heistgraph.ChainBTCRegtest, Address: fmt.Sprintf("a%d", 100+i*37), Entity: ent, Category: cat, Source: "bench", Confidence: 1})
	}
	if _, err := st.PutLabels(ctx, ls); err != nil {
		b.Fatal(err)
	}
	return st, last, all, g
}

// BenchmarkScreen measures one screen on a 20,000-transaction world of
// 5,000 reused addresses (each receives about 12 outputs) in an in-memory
// Pebble store, with the Screener's labels already loaded (a server keeps
// one Screener per label version), on demand and with the precomputed
// Table (Precompute's time is logged). Per op: one screen.
//
//	go test ./risk -run XXX -bench Screen -benchtime 2s -v
func BenchmarkScreen(b *testing.B) {
	st, deposit, _, _ := benchWorld(b, 400, 50, 5000)
	ctx := context.Background()
	sc, err := risk.NewScreener(st, risk.Options{Now: func() time.Time { return time.Unix(1_800_000_000, 0) }})
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		it   risk.Item
	}{
		{"labelled-address", risk.Item{Address: "a1580"}}, // dprk
		{"unlabelled-address", risk.Item{Address: "a4321"}},
		{"deposit-outpoint", risk.Item{Outpoint: &deposit}},
		{"unlabelled-address-sent", risk.Item{Address: "a4321", Direction: risk.Sent}},
	}
	pre, err := risk.NewScreener(st, risk.Options{Now: func() time.Time { return time.Unix(1_800_000_000, 0) }})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	stats, err := pre.Precompute(ctx, heistgraph.ChainBTCRegtest)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("precompute: %+v in %v", stats, time.Since(start))
	for _, mode := range []struct {
		name string
		sc   *risk.Screener
	}{{"on-demand", sc}, {"table", pre}} {
		for _, tc := range cases {
			tc.it.Chain = heistgraph.ChainBTCRegtest
			if tc.it.Direction == "" {
				tc.it.Direction = risk.Received
			}
			a, err := mode.sc.Screen(ctx, tc.it)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%s/%s: risk %s, %d direct, %d indirect, received %v sent %v, partial %t", mode.name, tc.name, a.Risk, len(a.Direct), len(a.Indirect),
				deref(a.ReceivedSat), deref(a.SentSat), a.Partial)
			b.Run(mode.name+"/"+tc.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := mode.sc.Screen(ctx, tc.it); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func deref(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}

// BenchmarkScreenWorld screens given items on a store built by the CLI
// (e.g. a synth medium world ingested with its labels.csv), on demand and
// with the precomputed Table. It is skipped unless HEISTGRAPH_SCREEN_DATA
// names the store's --data folder and HEISTGRAPH_SCREEN_ITEMS lists the
// items (addresses or TXID:VOUT, comma-separated); HEISTGRAPH_SCREEN_CHAIN
// is the chain (default btc-regtest).
func BenchmarkScreenWorld(b *testing.B) {
	dir, list := os.Getenv("HEISTGRAPH_SCREEN_DATA"), os.Getenv("HEISTGRAPH_SCREEN_ITEMS")
	if dir == "" || list == "" {
		b.Skip("set HEISTGRAPH_SCREEN_DATA and HEISTGRAPH_SCREEN_ITEMS")
	}
	chain, st := worldStore(b, dir)
	ctx := context.Background()
	sc, err := risk.NewScreener(st, risk.Options{})
	if err != nil {
		b.Fatal(err)
	}
	pre, err := risk.NewScreener(st, risk.Options{})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	stats, err := pre.Precompute(ctx, chain)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("precompute: %+v in %v", stats, time.Since(start))
	for _, mode := range []struct {
		name string
		sc   *risk.Screener
	}{{"on-demand", sc}, {"table", pre}} {
		for i, s := range strings.Split(list, ",") {
			it := risk.Item{Chain: chain, Direction: risk.Received}
			if op, err := heistgraph.ParseOutpoint(s); err == nil {
				it.Outpoint = &op
			} else {
				it.Address = s
			}
			a, err := mode.sc.Screen(ctx, it)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%s/item%d %s: risk %s, %d direct, %d indirect, partial %t", mode.name, i, s, a.Risk, len(a.Direct), len(a.Indirect), a.Partial)
			if mode.sc == pre && !a.Partial {
				// The table must give the on-demand answer.
				want, err := sc.Screen(ctx, it)
				if err != nil {
					b.Fatal(err)
				}
				if j1, j2 := mustJSON(b, a), mustJSON(b, want); !want.Partial && j1 != j2 {
					b.Errorf("item %s: table answer\n%s\non demand\n%s", s, j1, j2)
				}
			}
			b.Run(fmt.Sprintf("%s/item%d", mode.name, i), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := mode.sc.Screen(ctx, it); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkScreenDistinct screens addresses it has not screened before, one
// after another, with the precomputed Table (what a stream of new deposit
// addresses costs). It is skipped unless HEISTGRAPH_SCREEN_DATA names a
// store's --data folder and HEISTGRAPH_SCREEN_LIST a file of addresses, one
// a line; HEISTGRAPH_SCREEN_CHAIN is the chain (default btc-regtest). Each
// iteration screens the next address of the list (b.N at most its length).
func BenchmarkScreenDistinct(b *testing.B) {
	dir, list := os.Getenv("HEISTGRAPH_SCREEN_DATA"), os.Getenv("HEISTGRAPH_SCREEN_LIST")
	if dir == "" || list == "" {
		b.Skip("set HEISTGRAPH_SCREEN_DATA and HEISTGRAPH_SCREEN_LIST")
	}
	f, err := os.Open(list)
	if err != nil {
		b.Fatal(err)
	}
	var addrs []string
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if sc.Text() != "" {
			addrs = append(addrs, sc.Text())
		}
	}
	f.Close()
	chain, st := worldStore(b, dir)
	ctx := context.Background()
	sc, err := risk.NewScreener(st, risk.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := sc.Precompute(ctx, chain); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == len(addrs) {
			b.Fatalf("the list has %d addresses, fewer than b.N", len(addrs))
		}
		if _, err := sc.Screen(ctx, risk.Item{Chain: chain, Direction: risk.Received, Address: addrs[i]}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// worldStore opens the store of BenchmarkScreenWorld and
// BenchmarkScreenDistinct (closed when b ends) and returns it with the
// chain they screen.
func worldStore(b *testing.B, dir string) (heistgraph.Chain, *pebble.DB) {
	st, err := pebble.Open(dir, pebble.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return heistgraph.Chain(cmp.Or(os.Getenv("HEISTGRAPH_SCREEN_CHAIN"), "btc-regtest")), st
}

// mustJSON returns v's JSON; an answer's hand-written encoding is checked
// against encoding/json's on the way (every screen of the table and
// benchmark tests).
func mustJSON(b testing.TB, v any) string {
	out, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	if a, ok := v.(appender); ok {
		checkSameJSON(b, a)
	}
	return string(out)
}
