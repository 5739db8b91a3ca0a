package cluster

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/testutil"
	"github.com/heistgraph/heistgraph/store"
)

const ethChain heistgraph.Chain = "eth"

// TestAccountScripts runs the data-driven scripts in testdata/accounts:
// each builds an account chain ("world"), labels addresses ("label NAME
// CATEGORY ENTITY"), clusters it ("cluster", with key=value options) and
// prints clusters ("show NAME": the address's cluster with its members
// and evidence; "clusters": every cluster of several addresses), and
// records analysts' decisions ("merge A B", "split A"). Regenerate the
// expected output with -rewrite.
func TestAccountScripts(t *testing.T) {
	datadriven.Walk(t, "testdata/accounts", func(t *testing.T, path string) {
		ctx := context.Background()
		var w *testutil.Accounts
		var st store.Store
		opts := DefaultOptions()
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "world":
				w = testutil.NewAccounts()
				if err := w.Parse(ethChain, d.Input); err != nil {
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
					if len(f) != 3 {
						d.Fatalf(t, "label: want NAME CATEGORY ENTITY, have %q", line)
					}
					ls = append(ls, heistgraph.Label{Chain: ethChain, Address: w.Addr(f[0]).Lower(), Category: f[1],
						Entity: strings.ReplaceAll(f[2], "_", " "), Source: "test", Confidence: 1})
				}
				if _, err := st.PutLabels(ctx, ls); err != nil {
					d.Fatalf(t, "%v", err)
				}
				return "ok"
			case "cluster":
				opts = DefaultOptions()
				for _, a := range d.CmdArgs {
					v := ""
					if len(a.Vals) > 0 {
						v = a.Vals[0]
					}
					switch a.Key {
					case "deposit":
						opts.Account.DepositReuse = v == "on"
					case "selfauth":
						opts.Account.SelfAuth = v == "on"
					case "max-senders":
						opts.Account.MaxDepositSenders, _ = strconv.Atoi(v)
					default:
						d.Fatalf(t, "cluster: unknown option %s", a.Key)
					}
				}
				s, err := Update(ctx, st, ethChain, opts)
				if err != nil {
					return "error: " + err.Error()
				}
				return fmt.Sprintf("deposits=%d deposit-reuse=%d shared=%d self-auth=%d funded-by=%d",
					s.Deposits, s.DepositReuse, s.SharedDeposits, s.SelfAuth, s.FundedBy)
			case "show":
				return showCluster(t, ctx, st, w, strings.TrimSpace(d.CmdArgs[0].Key))
			case "clusters":
				return allClusters(t, ctx, st, w)
			case "merge", "split":
				var addrs []string
				for _, a := range d.CmdArgs {
					addrs = append(addrs, w.Addr(a.Key).Lower())
				}
				now := time.Unix(1_800_000_000, 0)
				var err error
				if d.Cmd == "merge" {
					_, err = Merge(ctx, st, ethChain, addrs, "analyst", "script", now, opts)
				} else {
					_, err = Split(ctx, st, ethChain, addrs[0], "analyst", "script", now, opts)
				}
				if err != nil {
					return "error: " + err.Error()
				}
				return allClusters(t, ctx, st, w)
			}
			d.Fatalf(t, "unknown command %s", d.Cmd)
			return ""
		})
	})
}

// showCluster prints the cluster of the address called name: its entity,
// members and evidence (joining, then the rest).
func showCluster(t *testing.T, ctx context.Context, st store.Store, w *testutil.Accounts, name string) string {
	t.Helper()
	x, err := Explain(ctx, st, ethChain, w.Addr(name).Lower(), ExplainOptions{Limit: 100})
	if err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	ref, ok, err := NewResolver(st).Resolve(ctx, ethChain, w.Addr(name).Lower())
	if err != nil {
		t.Fatal(err)
	}
	entity := "-"
	if ok {
		entity = ref.Name + " (" + ref.Category + ")"
	}
	p, err := ListMembers(ctx, st, ethChain, w.Addr(name).Lower(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var members []string
	for _, m := range p.Members {
		members = append(members, w.Name(m.Address))
	}
	slices.Sort(members)
	fmt.Fprintf(&b, "%s: entity %s; members %s\n", name, entity, strings.Join(members, " "))
	pr := func(e Evidence) {
		var as []string
		for _, a := range e.Addresses {
			as = append(as, w.Name(a))
		}
		reason := ""
		if e.Reason != "" {
			reason = ": " + e.Reason
		}
		reason = w.Names(reason)
		fmt.Fprintf(&b, "  %d %s %s %s%s\n", e.Height, e.Heuristic, e.Status, strings.Join(as, " "), reason)
	}
	for _, e := range x.Evidence {
		pr(e)
	}
	for _, e := range x.Reviews {
		pr(e)
	}
	return b.String()
}

// allClusters prints every cluster of several addresses, by member names.
func allClusters(t *testing.T, ctx context.Context, st store.Store, w *testutil.Accounts) string {
	t.Helper()
	byCluster := map[uint64][]string{}
	for m, err := range st.Memberships(ctx, ethChain) {
		if err != nil {
			t.Fatal(err)
		}
		byCluster[m.ClusterID] = append(byCluster[m.ClusterID], w.Name(m.Address))
	}
	var lines []string
	for _, c := range slices.Sorted(maps.Keys(byCluster)) {
		if ms := byCluster[c]; len(ms) > 1 {
			slices.Sort(ms)
			lines = append(lines, strings.Join(ms, " "))
		}
	}
	slices.Sort(lines)
	if len(lines) == 0 {
		return "none"
	}
	return strings.Join(lines, "\n")
}
