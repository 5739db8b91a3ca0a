package risk_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/testutil"
	"github.com/heistgraph/heistgraph/risk"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
)

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

// scriptNow is the time ownership labels are judged at in scripts.
var scriptNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// scriptEnv is the world a script builds.
type scriptEnv struct {
	chain  heistgraph.Chain
	st     store.Store
	g      *testutil.Graph
	stolen *risk.StolenSet
	next   uint64 // next cluster address id
}

// TestScripts runs the data-driven scripts in testdata: each builds a
// small chain ("build chain=C" with testutil.ParseGraph's lines), labels
// addresses ("label": ADDR ENTITY CATEGORY SOURCE [CONFIDENCE [FROM
// UNTIL]], entity underscores read as spaces), puts addresses in one
// cluster ("cluster ADDR... [change]", joined by common-input evidence or,
// with change, change evidence), prices BTC ("price day=YYYY-MM-DD
// usd=N"), marks stolen outputs ("stolen": NAME:VOUT ID AMOUNT), and
// screens ("screen address=A | transfer=NAME:VOUT [direction=sent]
// [no-dusting-cap] [no-cluster] [budget=N] [max-cluster=N]"), printing the answer's fields one a line.
// Every expected answer is derived by hand in the script's comments, and
// each screen runs twice, on demand and with the precomputed Table, which
// must agree.
func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		if !strings.HasSuffix(path, ".txt") {
			t.Skip()
		}
		env := &scriptEnv{stolen: risk.NewStolenSet(), next: 1}
		ctx := context.Background()
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "build":
				env.chain = heistgraph.ChainBTCRegtest
				if d.HasArg("chain") {
					var c string
					d.ScanArgs(t, "chain", &c)
					env.chain = heistgraph.Chain(c)
				}
				g, err := testutil.ParseGraph(env.chain, d.Input)
				if err != nil {
					d.Fatalf(t, "%v", err)
				}
				env.g, env.st, env.next = g, openMem(t), 1
				if err := g.Apply(ctx, env.st); err != nil {
					d.Fatalf(t, "%v", err)
				}
				return "ok"
			case "label":
				var ls []heistgraph.Label
				for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
					f := strings.Fields(line)
					if len(f) < 4 {
						d.Fatalf(t, "label: want ADDR ENTITY CATEGORY SOURCE [CONFIDENCE [FROM UNTIL]], have %q", line)
					}
					l := heistgraph.Label{Chain: env.chain, Address: f[0], Entity: strings.ReplaceAll(f[1], "_", " "), Category: f[2], Source: f[3], Confidence: 1}
					if len(f) > 4 {
						l.Confidence = mustFloat(t, d, f[4])
					}
					if len(f) > 6 {
						l.ValidFrom, l.ValidUntil = mustInt(t, d, f[5]), mustInt(t, d, f[6])
					}
					ls = append(ls, l)
				}
				if _, err := env.st.PutLabels(ctx, ls); err != nil {
					d.Fatalf(t, "%v", err)
				}
				return "ok"
			case "cluster":
				var b store.ClusterBatch
				var ids []uint64
				heur := heistgraph.HeuristicCommonInput
				for _, a := range d.CmdArgs {
					if a.Key == "change" {
						heur = heistgraph.HeuristicChange
						continue
					}
					b.NewAddresses = append(b.NewAddresses, a.Key)
					ids = append(ids, env.next)
					env.next++
				}
				for i, a := range b.NewAddresses {
					b.Members = append(b.Members, store.ClusterMember{AddrID: ids[i], ClusterID: ids[0], Address: a})
				}
				b.Sizes = []store.ClusterSize{{ClusterID: ids[0], Size: int64(len(ids))}}
				b.Evidence = []heistgraph.ClusterEvidence{{Height: 1, TxIndex: uint32(ids[0]), Heuristic: heur, AddrIDs: ids}}
				if err := env.st.WriteClusters(ctx, env.chain, &b); err != nil {
					d.Fatalf(t, "%v", err)
				}
				return fmt.Sprintf("cluster %d", ids[0])
			case "price":
				var day string
				var usd int64
				d.ScanArgs(t, "day", &day)
				d.ScanArgs(t, "usd", &usd)
				dt, err := time.Parse(time.DateOnly, day)
				if err != nil {
					d.Fatalf(t, "%v", err)
				}
				if err := env.st.PutPrices(ctx, []heistgraph.DayPrice{{Asset: "BTC", Day: dt, USD: heistgraph.Price(usd * heistgraph.NanoPerUSD)}}); err != nil {
					d.Fatalf(t, "%v", err)
				}
				return "ok"
			case "stolen":
				for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
					f := strings.Fields(line)
					if len(f) != 3 {
						d.Fatalf(t, "stolen: want NAME:VOUT ID AMOUNT, have %q", line)
					}
					op := env.outpoint(t, d, f[0])
					if err := env.stolen.Add(env.chain, op, risk.StolenMark{ID: f[1], AmountSat: mustInt(t, d, f[2]), Source: "test"}); err != nil {
						d.Fatalf(t, "%v", err)
					}
				}
				return "ok"
			case "screen":
				opts := risk.Options{Stolen: env.stolen, Now: func() time.Time { return scriptNow }}
				opts.Config.NoDustingCap = d.HasArg("no-dusting-cap")
				if d.HasArg("budget") {
					d.ScanArgs(t, "budget", &opts.Config.Budget)
				}
				if d.HasArg("max-cluster") {
					d.ScanArgs(t, "max-cluster", &opts.Config.MaxClusterAddresses)
				}
				sc, err := risk.NewScreener(env.st, opts)
				if err != nil {
					d.Fatalf(t, "%v", err)
				}
				it := risk.Item{Chain: env.chain, Direction: risk.Received, NoCluster: d.HasArg("no-cluster")}
				if d.HasArg("direction") {
					var dir string
					d.ScanArgs(t, "direction", &dir)
					it.Direction = risk.Direction(dir)
				}
				if d.HasArg("address") {
					d.ScanArgs(t, "address", &it.Address)
				} else {
					var tr string
					d.ScanArgs(t, "transfer", &tr)
					op := env.outpoint(t, d, tr)
					it.Outpoint = &op
				}
				a, err := sc.Screen(ctx, it)
				if err != nil {
					return "error: " + err.Error()
				}
				checkSameJSON(t, a)
				got := render(env, a)
				// The precomputed table (methods.md §8.3) must give the
				// same answer as the on-demand computation (a partial one
				// too, unless a budget made it so: the table reads less).
				pre, err := risk.NewScreener(env.st, opts)
				if err != nil {
					d.Fatalf(t, "%v", err)
				}
				if _, err := pre.Precompute(ctx, env.chain); err != nil {
					d.Fatalf(t, "precompute: %v", err)
				}
				pa, err := pre.Screen(ctx, it)
				if err != nil {
					d.Fatalf(t, "screen with the table: %v", err)
				}
				if pg := render(env, pa); pg != got && !d.HasArg("budget") {
					d.Fatalf(t, "with the precomputed table:\n%s\non demand:\n%s", pg, got)
				}
				return got
			}
			d.Fatalf(t, "unknown command %q", d.Cmd)
			return ""
		})
	})
}

func (env *scriptEnv) outpoint(t *testing.T, d *datadriven.TestData, s string) heistgraph.Outpoint {
	name, vout, ok := strings.Cut(s, ":")
	if !ok {
		d.Fatalf(t, "want NAME:VOUT, have %q", s)
	}
	return heistgraph.Outpoint{TxID: testutil.TxID(name), Vout: uint32(mustInt(t, d, vout))}
}

func mustInt(t *testing.T, d *datadriven.TestData, s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		d.Fatalf(t, "%v", err)
	}
	return n
}

func mustFloat(t *testing.T, d *datadriven.TestData, s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		d.Fatalf(t, "%v", err)
	}
	return f
}

// render prints an answer's fields one a line: shares with six decimals,
// amounts in satoshis, transactions by their script names.
func render(env *scriptEnv, a *risk.Answer) string {
	var b strings.Builder
	fmt.Fprintf(&b, "risk %s sanctioned=%t score=%d direction=%s\n", a.Risk, a.Sanctioned, a.Score, a.Direction)
	if a.TxID != nil {
		fmt.Fprintf(&b, "transfer %s:%d amount=%d address=%s\n", env.g.Name(*a.TxID), *a.Vout, *a.AmountSat, a.Address)
	} else {
		fmt.Fprintf(&b, "address %s\n", a.Address)
	}
	if a.ClusterID != nil {
		fmt.Fprintf(&b, "cluster %d size=%d", *a.ClusterID, a.ClusterSize)
		if a.ClusterConfidence != nil {
			fmt.Fprintf(&b, " confidence=%.2f", *a.ClusterConfidence)
		}
		b.WriteString("\n")
	}
	if a.ReceivedSat != nil {
		fmt.Fprintf(&b, "received %d\n", *a.ReceivedSat)
	}
	if a.SentSat != nil {
		fmt.Fprintf(&b, "sent %d\n", *a.SentSat)
	}
	for _, d := range a.Direct {
		if d.Kind == risk.KindOwnership {
			fmt.Fprintf(&b, "ownership %s %q source=%s confidence=%g\n", d.Category, d.Entity, d.Source, d.Confidence)
			continue
		}
		fmt.Fprintf(&b, "direct %s %q source=%s share=%.6f amount=%d hops=%d", d.Category, d.Entity, d.Source, d.Share, d.AmountSat, d.Hops)
		if d.USD != nil {
			fmt.Fprintf(&b, " usd=%.2f", *d.USD)
		}
		if d.Dusting {
			b.WriteString(" possible_dusting")
		}
		b.WriteString("\n")
	}
	for _, in := range a.Indirect {
		fmt.Fprintf(&b, "indirect %s share=%.6f amount=%d hops=%d\n", in.Category, in.Share, in.AmountSat, in.Hops)
	}
	for _, r := range a.Reasons {
		fmt.Fprintf(&b, "reason %s\n", r)
	}
	for _, n := range a.Notes {
		fmt.Fprintf(&b, "note %s\n", n)
	}
	return b.String()
}
