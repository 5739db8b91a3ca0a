package payroll_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/payroll"
	"github.com/heistgraph/heistgraph/risk"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// benchPayees returns n payees with two wallets each, taken evenly from
// the addresses of the synthetic world's entities (truth.json in world),
// and writes them as payroll CSV to csvOut when set.
func benchPayees(b *testing.B, world string, n int, csvOut string) []payroll.Payee {
	raw, err := os.ReadFile(filepath.Join(world, "truth.json"))
	if err != nil {
		b.Fatal(err)
	}
	var truth struct {
		Chain    heistgraph.Chain `json:"chain"`
		Entities []struct {
			Addresses []string `json:"addresses"`
		} `json:"entities"`
	}
	if err := json.Unmarshal(raw, &truth); err != nil {
		b.Fatal(err)
	}
	var all []string
	for _, e := range truth.Entities {
		all = append(all, e.Addresses...)
	}
	if len(all) < 2*n {
		b.Fatalf("the world has %d entity addresses, want %d", len(all), 2*n)
	}
	step := len(all) / (2 * n)
	var csv strings.Builder
	csv.WriteString("id,name,email,chain,address\n")
	ps := make([]payroll.Payee, n)
	for i := range ps {
		ps[i] = payroll.Payee{ID: fmt.Sprintf("p%04d", i), Name: fmt.Sprintf("Contractor %04d Example", i)}
		for k := range 2 {
			a := all[(2*i+k)*step]
			ps[i].Wallets = append(ps[i].Wallets, payroll.Wallet{Chain: truth.Chain, Address: a})
			fmt.Fprintf(&csv, "%s,%s,,%s,%s\n", ps[i].ID, ps[i].Name, truth.Chain, a)
		}
	}
	if csvOut != "" {
		if err := os.WriteFile(csvOut, []byte(csv.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return ps
}

// BenchmarkPayrollWorld screens a payroll of 1,000 payees with 2 wallets
// each on a synthetic world's store (docs/benchmarks.md, "Payroll (issue
// 20)"), and, in the same run, the reference: the 2,000 wallets' plain
// received screens (risk.Screener.ScreenBatch), which the payroll screen
// contains. Skipped unless HEISTGRAPH_PAYROLL_DATA names the store's
// --data folder and HEISTGRAPH_PAYROLL_WORLD the world's folder;
// HEISTGRAPH_PAYROLL_CSV, when set, receives the payroll as CSV (for
// timing `heistgraph screen payroll`).
func BenchmarkPayrollWorld(b *testing.B) {
	dir, world := os.Getenv("HEISTGRAPH_PAYROLL_DATA"), os.Getenv("HEISTGRAPH_PAYROLL_WORLD")
	if dir == "" || world == "" {
		b.Skip("set HEISTGRAPH_PAYROLL_DATA and HEISTGRAPH_PAYROLL_WORLD")
	}
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("HEISTGRAPH_PAYROLL_N")); err == nil && v > 0 {
		n = v
	}
	payees := benchPayees(b, world, n, os.Getenv("HEISTGRAPH_PAYROLL_CSV"))
	st, err := pebble.Open(dir, pebble.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	b.Run("wallets-only", func(b *testing.B) {
		for b.Loop() {
			rs, err := risk.NewScreener(st, risk.Options{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := rs.Precompute(ctx, payees[0].Wallets[0].Chain); err != nil {
				b.Fatal(err)
			}
			var items []risk.Item
			for _, p := range payees {
				for _, w := range p.Wallets {
					items = append(items, risk.Item{Chain: w.Chain, Address: w.Address})
				}
			}
			if _, err := rs.ScreenBatch(ctx, items, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("payroll", func(b *testing.B) {
		for b.Loop() {
			start := time.Now()
			rs, err := risk.NewScreener(st, risk.Options{})
			if err != nil {
				b.Fatal(err)
			}
			ps, err := payroll.NewScreener(st, rs, payroll.Options{PrecomputeFrom: 50})
			if err != nil {
				b.Fatal(err)
			}
			req := &payroll.Request{Payees: payees}
			if err := req.Check(); err != nil {
				b.Fatal(err)
			}
			a, err := ps.Screen(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			kinds := map[string]int{}
			for _, p := range a.Payees {
				for _, f := range p.Flags {
					kinds[f.Kind]++
				}
			}
			b.Logf("%d payees in %v: by risk %v, flags %v", len(a.Payees), time.Since(start).Round(time.Millisecond), a.Summary.ByRisk, kinds)
		}
	})
}
