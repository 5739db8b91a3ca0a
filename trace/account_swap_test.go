package trace_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/trace"
)

// swapWorld builds random solvent ledgers of tokens, users, a router, a
// forwarder contract and three pools (two Uniswap v2 pairs, one v3 pool)
// whose transactions are single swaps (v2 order: input, output, log; v3
// order: output, input, log), multi-hop routes (a pair paying the next
// pair directly), swaps through the router (which forwards the output),
// swaps whose log does not match (unrecognised), token payments, and
// transactions in which the forwarder receives and pays several times
// (the tx-local rule with interleaved inflows and outflows).
type swapWorld struct {
	l      *ledger
	r      *rand.Rand
	bal    map[[2]string]uint64 // (holder, token) → balance
	blocks []string             // the script, a line each
	txs    []string             // names of plain payments (seed candidates)
	nTx    int
}

var (
	swapTokens = []string{"A", "B", "C"}
	swapUsers  = []string{"U1", "U2", "U3", "U4", "U5"}
	// pools: name, version, token x, token y
	swapPools = [][4]string{{"P1", "v2", "A", "B"}, {"P2", "v2", "B", "C"}, {"P3", "v3", "A", "C"}}
	// wethPool is a v3 WETH/C pool that ETH buys C from through the
	// router, which wraps the ETH inside the pool's callback.
	wethPool = [4]string{"P4", "v3", "WETH", "C"}
)

func newSwapWorld(seed uint64) *swapWorld {
	w := &swapWorld{l: newLedger(), r: rand.New(rand.NewPCG(seed, 99)), bal: map[[2]string]uint64{}}
	w.line("block 0")
	w.line("genesis WETH 1")
	for _, u := range swapUsers {
		w.line("genesis " + u + " 1000000")
		w.bal[[2]string{u, "ETH"}] = 1_000_000 * 1e6 // in micro-ETH: what ethSome draws from
	}
	w.line("block 1")
	w.line("tx mint D D 0")
	w.credit("0", wethPool[0], "C", 1_000_000)
	for _, tok := range swapTokens {
		for _, u := range swapUsers {
			w.credit("0", u, tok, 1000+uint64(w.r.IntN(1000)))
		}
		for _, p := range swapPools {
			if p[2] == tok || p[3] == tok {
				w.credit("0", p[0], tok, 1_000_000)
			}
		}
	}
	return w
}

func (w *swapWorld) line(s string) { w.blocks = append(w.blocks, s) }

// credit writes an erc20 line and moves the balances (from "0" mints).
func (w *swapWorld) credit(from, to, tok string, v uint64) {
	w.line(fmt.Sprintf("  erc20 %s %s %s %d", tok, from, to, v))
	if from != "0" {
		w.bal[[2]string{from, tok}] -= v
	}
	w.bal[[2]string{to, tok}] += v
}

func (w *swapWorld) some(who, tok string) uint64 {
	b := w.bal[[2]string{who, tok}]
	if b == 0 {
		return 0
	}
	return 1 + uint64(w.r.Int64N(int64(b)))
}

func (w *swapWorld) tx(from, to string) string {
	w.nTx++
	name := fmt.Sprintf("t%d", w.nTx)
	w.line(fmt.Sprintf("tx %s %s %s 0", name, from, to))
	return name
}

// swap has user pay in of x into pool p and the pool pay out of y to dst,
// in the pool's order, with a Swap log (off by one when bad).
func (w *swapWorld) swap(p [4]string, payer, x, dst string, in uint64, bad bool) (string, uint64) {
	y := p[3]
	if x == p[3] {
		y = p[2]
	}
	out := 1 + in/2 + uint64(w.r.IntN(int(in)+1))
	logOut := out
	if bad {
		logOut++
	}
	if p[1] == "v3" {
		w.credit(p[0], dst, y, out)
		w.credit(payer, p[0], x, in)
	} else {
		w.credit(payer, p[0], x, in)
		w.credit(p[0], dst, y, out)
	}
	w.line(fmt.Sprintf("  swap %s %s router %s %s=+%d %s=-%d", p[1], p[0], dst, x, in, y, logOut))
	return y, out
}

func (w *swapWorld) step(h int) {
	w.line(fmt.Sprintf("block %d", h))
	u := swapUsers[w.r.IntN(len(swapUsers))]
	v := swapUsers[w.r.IntN(len(swapUsers))]
	tok := swapTokens[w.r.IntN(len(swapTokens))]
	switch k := w.r.IntN(8); k {
	case 6: // a native payment
		amt := w.some(u, "ETH")
		if amt == 0 || u == v {
			return
		}
		name := fmt.Sprintf("t%d", w.nTx+1)
		w.nTx++
		w.line(fmt.Sprintf("tx %s %s %s 0.%06d", name, u, v, amt%1_000_000))
		w.bal[[2]string{u, "ETH"}] -= amt % 1_000_000
		w.bal[[2]string{v, "ETH"}] += amt % 1_000_000
		w.txs = append(w.txs, name)
	case 7: // ETH for C through the WETH pool, wrapped in its callback
		amt := w.some(u, "ETH") % 1_000_000
		if amt == 0 {
			return
		}
		w.nTx++
		w.line(fmt.Sprintf("tx t%d %s router 0.%06d", w.nTx, u, amt))
		w.line(fmt.Sprintf("  internal router WETH 0.%06d", amt))
		w.bal[[2]string{u, "ETH"}] -= amt
		out := 1 + uint64(w.r.IntN(1000))
		w.credit(wethPool[0], v, "C", out)
		w.line(fmt.Sprintf("  deposit WETH router 0.%06d", amt))
		w.line(fmt.Sprintf("  erc20 WETH router %s 0.%06d", wethPool[0], amt))
		w.line(fmt.Sprintf("  swap v3 %s router %s WETH=+0.%06d C=-%d", wethPool[0], v, amt, out))
	case 0: // a payment
		amt := w.some(u, tok)
		if amt == 0 || u == v {
			return
		}
		w.txs = append(w.txs, w.tx(u, tok))
		w.credit(u, v, tok, amt)
	case 1, 2: // one swap, maybe through the router, maybe unrecognised
		p := swapPools[w.r.IntN(len(swapPools))]
		x := p[2+w.r.IntN(2)]
		amt := w.some(u, x)
		if amt == 0 {
			return
		}
		w.tx(u, "router")
		dst := u
		if k == 2 {
			dst = "router"
		}
		y, out := w.swap(p, u, x, dst, amt, w.r.IntN(5) == 0)
		if dst == "router" {
			w.credit("router", v, y, out)
		}
	case 3: // A → B → C through P1 and P2, the first paying the second
		amt := w.some(u, "A")
		if amt == 0 {
			return
		}
		w.tx(u, "router")
		_, mid := w.swap(swapPools[0], u, "A", "P2", amt, false)
		w.swap(swapPools[1], "P1", "B", v, mid, false)
	case 4, 5: // the forwarder receives and pays several times
		w.tx(u, "F")
		for range 2 + w.r.IntN(4) {
			if w.r.IntN(2) == 0 {
				if amt := w.some(u, tok); amt > 0 {
					w.credit(u, "F", tok, amt)
				}
			} else if amt := w.some("F", tok); amt > 0 {
				w.credit("F", swapUsers[w.r.IntN(len(swapUsers))], tok, amt)
			}
		}
	}
}

// TestAccountSwapConservation traces random worlds with swaps (among them
// ETH bought through a v3 pool whose router wraps it in the callback) from
// random token and native payments under every policy and checks per asset, from the sinks, that
// seed + converted = sinks + fees exactly for every conserving policy
// (built with -tags invariants, after every transfer too), and that every
// swap sink sits at a pool.
func TestAccountSwapConservation(t *testing.T) {
	ctx := context.Background()
	wethSwaps := 0
	for world := uint64(1); world <= 6; world++ {
		w := newSwapWorld(world)
		for h := 2; h < 60; h++ {
			w.step(h)
		}
		script := ""
		for _, s := range w.blocks {
			script += s + "\n"
		}
		if err := w.l.parse(script); err != nil {
			t.Fatalf("world %d: %v\n%s", world, err, script)
		}
		st := openMem(t)
		if err := w.l.apply(ctx, st); err != nil {
			t.Fatal(err)
		}
		pools := map[heistgraph.EVMAddress]bool{w.l.addr(wethPool[0]): true, w.l.addr("WETH"): true}
		for _, p := range swapPools {
			pools[w.l.addr(p[0])] = true
		}
		swaps := 0
		for k := 0; k < 12 && len(w.txs) > 0; k++ {
			seed := trace.AccountSeed{Tx: w.l.txHash(w.txs[w.r.IntN(len(w.txs))])}
			for _, p := range trace.Policies() {
				for _, noThreshold := range []bool{false, true} {
					name := fmt.Sprintf("world%d/seed%d/%s/nothreshold=%t", world, k, p, noThreshold)
					opts := trace.AccountOptions{Chain: evmChain, Seeds: []trace.AccountSeed{seed}, Policy: p}
					if noThreshold {
						opts.MinAmount, opts.MinShare = new(uint256.Int), -1
					}
					res, err := trace.RunAccounts(ctx, st, opts)
					if errors.Is(err, heistgraph.ErrInvalid) {
						continue
					}
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					checkAccountResult(t, name, res, opts.Seeds, w.l.blocks)
					for _, s := range res.Sinks {
						if s.Kind == trace.SinkSwap {
							swaps++
							if s.Address == w.l.addr(wethPool[0]) {
								wethSwaps++
							}
							if !pools[s.Address] {
								t.Fatalf("%s: swap sink at %s, no pool", name, w.l.name(s.Address))
							}
						}
					}
				}
			}
		}
		if swaps == 0 {
			t.Errorf("world %d: no trace crossed a swap", world)
		}
	}
	if wethSwaps == 0 {
		t.Error("no trace crossed a swap wrapped in its pool's callback")
	}
}

// TestAccountSwapRules checks the conversion against the rule computed
// here, on one swap for many random amounts and taints: the B taint is
// ⌊out × taint_A / in⌋ under haircut, and under FIFO and LIFO the lot
// layout of the output sums to exactly that taint and out.
func TestAccountSwapRules(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 5))
	for i := 0; i < 40; i++ {
		stolen, clean := 1+r.Uint64N(1e6), r.Uint64N(1e6)
		in := stolen + clean
		out := 1 + r.Uint64N(1e12)
		script := fmt.Sprintf(`token A decimals=0
token B decimals=0
block 1
tx mint D D 0
  erc20 A 0 X %d
  erc20 A 0 Y %d
  erc20 B 0 P %d
block 2
tx stolen X Z 0
  erc20 A X Z %d
block 3
tx clean Y Z 0
  erc20 A Y Z %d
block 4
tx swap Z router 0
  erc20 A Z P %d
  erc20 B P Z %d
  swap v2 P router Z A=+%d B=-%d
`, stolen, clean, out, stolen, clean, in, out, in, out)
		l := newLedger()
		if err := l.parse(script); err != nil {
			t.Fatal(err)
		}
		st := openMem(t)
		if err := l.apply(ctx, st); err != nil {
			t.Fatal(err)
		}
		for _, p := range []trace.Policy{trace.Haircut, trace.FIFO, trace.LIFO, trace.TIHO} {
			res, err := trace.RunAccounts(ctx, st, trace.AccountOptions{Chain: evmChain, Seeds: []trace.AccountSeed{{Tx: l.txHash("stolen")}},
				Policy: p, MinAmount: new(uint256.Int), MinShare: -1})
			if err != nil {
				t.Fatal(err)
			}
			// Z spends all it holds: every policy's taint_A is the stolen part.
			var want uint256.Int
			want.MulDivOverflow(uint256.NewInt(out), uint256.NewInt(stolen), uint256.NewInt(in))
			var gotB, gotSwap uint256.Int
			for _, s := range res.Sinks {
				v := s.Value()
				switch {
				case s.Kind == trace.SinkSwap:
					gotSwap.Add(&gotSwap, &v)
				case s.Asset == heistgraph.TokenAsset(l.addr("B")):
					gotB.Add(&gotB, &v)
				}
			}
			if !gotB.Eq(&want) || gotSwap.Uint64() != stolen {
				t.Fatalf("%s: in %d (%d stolen), out %d: B taint %s, want ⌊out·stolen/in⌋ = %s; swap sink %s", p, in, stolen, out, gotB.Dec(), want.Dec(), gotSwap.Dec())
			}
		}
	}
}

// BenchmarkAccountTraceSwaps measures the trace through swaps on a random
// swap world (newSwapWorld: every transaction a swap, a route, a payment or
// a forwarder's several payments; HEISTGRAPH_BENCH_BLOCKS blocks, default
// 5,000) in a Pebble store on disk, seeded with its first payment, the
// threshold off. Paired in the same run with the same ledger stored
// without its Swap logs (pools are then ordinary contracts: what the swap
// recognition costs) and with the floor, an AccountHistory scan of every
// address.
func BenchmarkAccountTraceSwaps(b *testing.B) {
	blocks := 5_000
	if s := os.Getenv("HEISTGRAPH_BENCH_BLOCKS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		blocks = n
	}
	ctx := context.Background()
	w := newSwapWorld(7)
	for h := 2; h < blocks; h++ {
		w.step(h)
	}
	if err := w.l.parse(strings.Join(w.blocks, "\n")); err != nil {
		b.Fatal(err)
	}
	open := func() *pebble.DB {
		st, err := pebble.Open(b.TempDir(), pebble.DefaultOptions())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = st.Close() })
		if err := w.l.apply(ctx, st); err != nil {
			b.Fatal(err)
		}
		return st
	}
	withLogs := open()
	for _, blk := range w.l.blocks {
		blk.Logs = nil
	}
	noLogs := open()
	seed := trace.AccountSeed{Tx: w.l.txHash(w.txs[0])}
	b.Run("floor=history-scan", func(b *testing.B) {
		events := 0
		start := time.Now()
		for b.Loop() {
			for a := range w.l.names {
				for _, err := range withLogs.AccountHistory(ctx, evmChain, a, store.AccountHistoryOptions{}) {
					if err != nil {
						b.Fatal(err)
					}
					events++
				}
			}
		}
		b.ReportMetric(float64(events)/time.Since(start).Seconds(), "events/s")
	})
	for _, p := range []trace.Policy{trace.Haircut, trace.Poison} {
		for _, c := range []struct {
			name string
			st   *pebble.DB
		}{{"swaps", withLogs}, {"no-swap-logs", noLogs}} {
			b.Run("policy="+string(p)+"/"+c.name, func(b *testing.B) {
				opts := trace.AccountOptions{Chain: evmChain, Seeds: []trace.AccountSeed{seed}, Policy: p,
					MinAmount: new(uint256.Int), MinShare: -1, MaxHops: 1_000_000}
				visited, swaps := 0, 0
				start := time.Now()
				for b.Loop() {
					res, err := trace.RunAccounts(ctx, c.st, opts)
					if err != nil {
						b.Fatal(err)
					}
					visited, swaps = res.Stats.TransfersVisited, 0
					for _, s := range res.Sinks {
						if s.Kind == trace.SinkSwap {
							swaps++
						}
					}
				}
				b.ReportMetric(float64(visited*b.N)/time.Since(start).Seconds(), "transfers/s")
				b.ReportMetric(float64(visited), "transfers/op")
				b.ReportMetric(float64(swaps), "swap-sinks/op")
			})
		}
	}
}
