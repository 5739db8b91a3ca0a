package risk_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/internal/testutil"
	"github.com/heistgraph/heistgraph/risk"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
)

const evmChain heistgraph.Chain = "eth"

// TestEVMScripts runs the data-driven scripts in testdata/evm (*.evm):
// each builds an account chain ("world", internal/testutil.Accounts'
// lines), labels addresses ("label": NAME ENTITY CATEGORY [CONFIDENCE]),
// clusters it ("cluster"), marks what a trace moved as stolen ("stolen
// id=ID block=H tx=I") and screens ("screen address=NAME [no-cluster]",
// or a transfer: "screen block=H tx=I"), printing the answer's fields one a line with the
// world's names. Every expected answer is derived by hand in the script's
// comments.
func TestEVMScripts(t *testing.T) {
	datadriven.Walk(t, "testdata/evm", func(t *testing.T, path string) {
		ctx := context.Background()
		var w *testutil.Accounts
		var st store.Store
		stolen := risk.NewStolenSet()
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "world":
				w = testutil.NewAccounts()
				if err := w.Parse(evmChain, d.Input); err != nil {
					d.Fatalf(t, "%v", err)
				}
				st = openMem(t)
				if err := w.Apply(ctx, st); err != nil {
					d.Fatalf(t, "%v", err)
				}
				return "ok"
			case "label":
				var ls []heistgraph.Label
				for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
					f := strings.Fields(line)
					if len(f) < 3 {
						d.Fatalf(t, "label: want NAME ENTITY CATEGORY [CONFIDENCE], have %q", line)
					}
					conf := 1.0
					if len(f) > 3 {
						fmt.Sscan(f[3], &conf)
					}
					ls = append(ls, heistgraph.Label{Chain: evmChain, Address: w.Addr(f[0]).Lower(), Entity: strings.ReplaceAll(f[1], "_", " "),
						Category: f[2], Source: "test", Confidence: conf})
				}
				if _, err := st.PutLabels(ctx, ls); err != nil {
					d.Fatalf(t, "%v", err)
				}
				return "ok"
			case "stolen":
				// stolen id=ID block=H tx=I: the haircut trace of block H's
				// I-th transaction marks what it moved as stolen:ID.
				var id string
				var h, i int
				d.ScanArgs(t, "id", &id)
				d.ScanArgs(t, "block", &h)
				d.ScanArgs(t, "tx", &i)
				seed := heistgraph.EVMHash(sha256.Sum256(fmt.Appendf(nil, "tx/%d/%d", h, i))) // testutil's transaction hashes
				res, err := trace.RunAccounts(ctx, st, trace.AccountOptions{Chain: evmChain, Policy: trace.Haircut, Seeds: []trace.AccountSeed{{Tx: seed}}})
				if err != nil {
					d.Fatalf(t, "%v", err)
				}
				if err := stolen.AddAccountTrace(id, res); err != nil {
					d.Fatalf(t, "%v", err)
				}
				return "ok"
			case "cluster":
				if _, err := cluster.Update(ctx, st, evmChain, cluster.DefaultOptions()); err != nil {
					d.Fatalf(t, "%v", err)
				}
				return "ok"
			case "screen":
				it := risk.Item{Chain: evmChain, NoCluster: d.HasArg("no-cluster")}
				if d.HasArg("address") {
					var name string
					d.ScanArgs(t, "address", &name)
					it.Address = w.Addr(name).Hex()
				} else {
					var h, i int
					d.ScanArgs(t, "block", &h)
					d.ScanArgs(t, "tx", &i)
					tx := heistgraph.EVMHash(sha256.Sum256(fmt.Appendf(nil, "tx/%d/%d", h, i)))
					it.Tx = &tx
				}
				sc, err := risk.NewScreener(st, risk.Options{Now: func() time.Time { return scriptNow }, Stolen: stolen})
				if err != nil {
					d.Fatalf(t, "%v", err)
				}
				a, err := sc.Screen(ctx, it)
				// The same screen with the precomputed table: the same
				// answer, or the same error.
				pre, perr := risk.NewScreener(st, risk.Options{Now: func() time.Time { return scriptNow }, Stolen: stolen})
				if perr != nil {
					d.Fatalf(t, "%v", perr)
				}
				if _, perr := pre.Precompute(ctx, evmChain); perr != nil {
					d.Fatalf(t, "precompute: %v", perr)
				}
				pa, perr := pre.Screen(ctx, it)
				if fmt.Sprint(err) != fmt.Sprint(perr) {
					d.Fatalf(t, "on demand: %v; with the table: %v", err, perr)
				}
				if err != nil {
					return "error: " + err.Error()
				}
				if !reflect.DeepEqual(a, pa) {
					d.Fatalf(t, "the table's answer differs:\non demand %s\ntable     %s", evmAnswer(w, a), evmAnswer(w, pa))
				}
				return evmAnswer(w, a)
			}
			d.Fatalf(t, "unknown command %s", d.Cmd)
			return ""
		})
	})
}

// evmAnswer prints an EVM answer's fields one a line, with names.
func evmAnswer(w *testutil.Accounts, a *risk.Answer) string {
	var b strings.Builder
	fmt.Fprintf(&b, "address %s risk %s sanctioned %v score %d partial %v\n", w.Names(a.Address), a.Risk, a.Sanctioned, a.Score, a.Partial)
	for _, r := range a.Received {
		fmt.Fprintf(&b, "received %s %s\n", w.Names(r.Asset), r.Amount)
	}
	for _, d := range a.Direct {
		if d.Kind == risk.KindOwnership {
			fmt.Fprintf(&b, "ownership %s %s\n", d.Entity, d.Category)
			continue
		}
		fmt.Fprintf(&b, "direct %s %s %s %s share %.4f hops %d\n", d.Entity, d.Category, w.Names(d.Asset), d.Amount, d.Share, d.Hops)
	}
	for _, in := range a.Indirect {
		fmt.Fprintf(&b, "indirect %s %s %s share %.4f hops %d\n", in.Category, w.Names(in.Asset), in.Amount, in.Share, in.Hops)
	}
	for _, r := range a.Reasons {
		fmt.Fprintf(&b, "reason %s\n", w.Names(r))
	}
	for _, n := range a.Notes {
		fmt.Fprintf(&b, "note %s\n", w.Names(n))
	}
	return b.String()
}
