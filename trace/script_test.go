package trace_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/testutil"
	"github.com/heistgraph/heistgraph/pattern"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/trace"
)

const chain = heistgraph.ChainBTCRegtest

// mapResolver is a Resolver test double: labels by address.
type mapResolver map[string]heistgraph.EntityRef

func (m mapResolver) Resolve(_ context.Context, _ heistgraph.Chain, addr string) (heistgraph.EntityRef, bool, error) {
	r, ok := m[addr]
	return r, ok, nil
}

var _ trace.Resolver = mapResolver(nil)

// openMem opens an in-memory store closed at the end of the test.
func openMem(tb testing.TB) store.Store {
	tb.Helper()
	opts := pebble.DefaultOptions()
	opts.FS = vfs.NewMem()
	opts.CacheSize = 8 << 20
	opts.MemTableSize = 4 << 20
	db, err := pebble.Open("db", opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// scriptEnv is the world a script builds.
type scriptEnv struct {
	st     store.Store
	g      *testutil.Graph
	labels mapResolver
}

// TestScripts runs the data-driven scripts in testdata/scripts: each builds
// a small transaction graph ("build"), labels addresses ("label") and runs
// traces ("trace policy=... seed=..."), printing sinks, fees and events in
// satoshis. Regenerate the expected output with -rewrite.
func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata/scripts", func(t *testing.T, path string) {
		env := &scriptEnv{labels: mapResolver{}}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "build":
				g, err := testutil.ParseGraph(chain, d.Input)
				if err != nil {
					d.Fatalf(t, "%v", err)
				}
				env.g = g
				env.st = openMem(t)
				if err := g.Apply(context.Background(), env.st); err != nil {
					d.Fatalf(t, "%v", err)
				}
				return "ok"
			case "label":
				for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
					f := strings.Fields(line)
					if len(f) != 3 {
						d.Fatalf(t, "label: want ADDR ENTITY CATEGORY, have %q", line)
					}
					env.labels[f[0]] = heistgraph.EntityRef{Name: strings.ReplaceAll(f[1], "_", " "), Category: f[2]}
				}
				return "ok"
			case "trace":
				opts := scriptOptions(t, d)
				if !d.HasArg("no-labels") {
					opts.Resolver = env.labels
				}
				res, err := trace.Run(context.Background(), env.st, opts)
				if err != nil {
					return "error: " + err.Error()
				}
				return render(env.g, res, d.HasArg("edges"))
			}
			d.Fatalf(t, "unknown command %q", d.Cmd)
			return ""
		})
	})
}

// scriptOptions reads a trace directive's arguments: policy, seed (NAME:VOUT,
// NAME:VOUT/AMOUNT, tx:NAME, addr:ADDR, each optionally @SOURCE),
// max-hops, min-amount, min-share, until, budget, through-coinjoin.
func scriptOptions(t *testing.T, d *datadriven.TestData) trace.Options {
	opts := trace.Options{Chain: chain}
	for _, a := range d.CmdArgs {
		v := ""
		if len(a.Vals) > 0 {
			v = a.Vals[0]
		}
		num := func() int64 {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				d.Fatalf(t, "%s: %v", a.Key, err)
			}
			return n
		}
		switch a.Key {
		case "policy":
			opts.Policy = trace.Policy(v)
		case "seed":
			for _, s := range a.Vals {
				opts.Seeds = append(opts.Seeds, scriptSeed(t, d, s))
			}
		case "max-hops":
			opts.MaxHops = int(num())
		case "min-amount":
			opts.MinAmount = num()
		case "min-share":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				d.Fatalf(t, "min-share: %v", err)
			}
			opts.MinShare = f
		case "until":
			opts.Until = num()
		case "budget":
			opts.Budget = int(num())
		case "through-coinjoin":
			opts.ThroughCoinJoin = trace.Policy(v)
		case "follow-links":
			opts.FollowLinks = true
		case "follow-hypotheses":
			opts.FollowHypotheses = true
		case "no-labels", "edges", "chain":
		default:
			d.Fatalf(t, "unknown argument %s", a.Key)
		}
	}
	return opts
}

func scriptSeed(t *testing.T, d *datadriven.TestData, s string) trace.Seed {
	s, src, _ := strings.Cut(s, "@")
	var sd trace.Seed
	switch {
	case strings.HasPrefix(s, "tx:"):
		sd = trace.Seed{Kind: trace.SeedTx, TxID: testutil.TxID(strings.TrimPrefix(s, "tx:"))}
	case strings.HasPrefix(s, "addr:"):
		sd = trace.Seed{Kind: trace.SeedAddress, Address: strings.TrimPrefix(s, "addr:")}
	default:
		body, amt, hasAmt := strings.Cut(s, "/")
		name, vout, ok := strings.Cut(body, ":")
		n, err := strconv.ParseUint(vout, 10, 32)
		if !ok || err != nil {
			d.Fatalf(t, "seed %q: want NAME:VOUT", s)
		}
		sd = trace.Seed{Kind: trace.SeedOutput, Outpoint: heistgraph.Outpoint{TxID: testutil.TxID(name), Vout: uint32(n)}}
		if hasAmt {
			a, err := testutil.ParseAmount(amt)
			if err != nil {
				d.Fatalf(t, "seed %q: %v", s, err)
			}
			sd.Amount = a
		}
	}
	sd.Source = src
	return sd
}

// render prints a result with transaction names and amounts in satoshis.
func render(g *testutil.Graph, r *trace.Result, edges bool) string {
	var b strings.Builder
	multi := len(r.Sources) > 1
	fmt.Fprintf(&b, "policy %s seed %d\n", r.Policy, r.SeedAmountSat)
	for _, s := range r.Sinks.All() {
		at := fmt.Sprintf("%s:%d", g.Name(s.TxID), s.Vout)
		if s.Input != "" {
			at = fmt.Sprintf("%s/in%d", g.Name(s.TxID), s.Vout)
		}
		fmt.Fprintf(&b, "sink %-9s %-10s %-8s %12d hops=%d", s.Kind, at, s.Address, s.AmountSat, s.Hops)
		if s.Entity != "" {
			fmt.Fprintf(&b, " entity=%q/%s", s.Entity, s.Category)
		}
		if s.Reason != "" {
			fmt.Fprintf(&b, " reason=%s", s.Reason)
		}
		if s.Compacted {
			b.WriteString(" compacted")
		}
		if s.ViaCoinJoin {
			b.WriteString(" via-coinjoin")
		}
		for _, sp := range s.Spans {
			fmt.Fprintf(&b, " [%s,%s)", btc(sp[0]), btc(sp[1]))
		}
		if multi {
			fmt.Fprintf(&b, " source=%s", s.Source)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "fees %d\n", r.FeesSat)
	if multi {
		for _, s := range r.Sources {
			fmt.Fprintf(&b, "source %s seeds=%d seed=%d sinks=%d fees=%d\n", s.Source, s.Seeds, s.SeedAmountSat, s.SinksSat, s.FeesSat)
		}
	}
	if edges {
		for _, e := range r.Edges.All() {
			fmt.Fprintf(&b, "edge %s -> %s %d (%d outputs)\n", g.Name(e.From), g.Name(e.To), e.AmountSat, e.Outputs)
		}
	}
	for _, e := range r.Events {
		fmt.Fprintf(&b, "event %s %s%s\n", e.Kind, g.Name(e.TxID), eventDetail(g, e))
	}
	if r.Conserved {
		fmt.Fprintf(&b, "conserved %d + %d = %d\n", r.SinksSat(), r.FeesSat, r.SinksSat()+r.FeesSat)
	} else {
		fmt.Fprintf(&b, "not conserved: sinks %d fees %d\n", r.SinksSat(), r.FeesSat)
	}
	fmt.Fprintf(&b, "visited %d max-hop %d budget-exhausted %t\n", r.Stats.TxsVisited, r.Stats.MaxHop, r.Stats.Budget)
	return b.String()
}

func eventDetail(g *testutil.Graph, e trace.Event) string {
	switch d := e.Detail.(type) {
	case *pattern.PeelChain:
		var steps []string
		for _, s := range d.Steps {
			steps = append(steps, g.Name(s))
		}
		var peels []string
		for _, p := range d.PeelsByEntity {
			peels = append(peels, fmt.Sprintf("%q/%s %d x%d", p.Entity, p.Category, p.Amount, p.Count))
		}
		return fmt.Sprintf(" length=%d steps=%s start=%d peeled=%d fees=%d end_remainder=%d end=%s median_gap=%d confidence=%s\n  peels: %s",
			d.Length, strings.Join(steps, ","), d.StartAmount, d.TotalPeeled, d.TotalFees, d.EndRemainder, d.End, d.MedianGap, d.Confidence,
			strings.Join(peels, "; "))
	case *trace.Entry:
		return fmt.Sprintf(" vout=%d %s entity=%q amount=%d hops=%d", d.Vout, d.Address, d.Entity, d.AmountSat, d.Hops)
	case *trace.ConsolidationEvent:
		return fmt.Sprintf(" inputs=%d tainted_inputs=%d amount=%d tainted=%d", d.Inputs, d.TaintedInputs, d.AmountSat, d.TaintedSat)
	case *trace.SplitEvent:
		return fmt.Sprintf(" equal_outputs=%d amount=%d other=%d tainted=%d", d.EqualOutputs, d.AmountSat, d.OtherOutputs, d.TaintedSat)
	case *trace.CoinJoinEvent:
		return fmt.Sprintf(" subtype=%s tainted=%d through=%t", d.Subtype, d.TaintedSat, d.Through)
	}
	return ""
}

// btc formats satoshis as BTC without trailing zeros (2.9, 0.7, 3).
func btc(sat int64) string {
	s := strings.TrimRight(fmt.Sprintf("%d.%08d", sat/100_000_000, sat%100_000_000), "0")
	return strings.TrimSuffix(s, ".")
}
