package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/payroll"
	"github.com/heistgraph/heistgraph/risk"
	"github.com/heistgraph/heistgraph/store"
)

func (a *app) screenPayrollCmd() *cobra.Command {
	var format string
	var hops int
	c := &cobra.Command{
		Use:   "payroll FILE.csv",
		Short: "Screen a payroll: payees' wallets, where their pay went, OFAC DPRK names, IT-worker indicators, links between payees",
		Long: `screen payroll reads a payroll as CSV (header id,name,email,chain,address; one wallet a
row, several rows per payee; a payee without wallets is screened on its name and e-mail alone)
and answers, per payee, its flags with their evidence and a risk level (design.md):
sanctioned_wallet, dprk_exposure and sanctioned_exposure (received, and sent: where the pay went
within --hops hops, methods.md §8.8), sdn_match (name similar to an OFAC SDN entry of the DPRK
programs, aliases included, or its e-mail or listed address), it_worker_indicator (published
DPRK IT-worker indicators), and across payees shared_wallet, shared_cluster and
converging_payouts. Every receipt of a payee's wallets counts as pay. JSON by default;
--format csv writes one row per flag for a spreadsheet. A malformed row is exit 2 with its
line and field.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runScreenPayroll(cmd.Context(), args[0], format, hops)
		},
	}
	fl := c.Flags()
	fl.StringVar(&format, "format", "json", "output: json or csv")
	fl.IntVar(&hops, "hops", 3, fmt.Sprintf("hops H the pay is followed and exposure reaches (1..%d)", payroll.MaxHops))
	return c
}

func (a *app) runScreenPayroll(ctx context.Context, file, format string, hops int) error {
	if format != "json" && format != "csv" {
		return usageError{fmt.Errorf("--format %q: want json or csv", format)}
	}
	if hops < 1 || hops > payroll.MaxHops {
		return usageError{fmt.Errorf("--hops %d: want 1..%d", hops, payroll.MaxHops)}
	}
	f, err := os.Open(file)
	if err != nil {
		return usageError{fmt.Errorf("screen payroll: %w", err)}
	}
	defer f.Close()
	req, err := payroll.ReadCSV(f, file)
	if err != nil {
		return usageError{fmt.Errorf("screen payroll: %w", err)}
	}
	req.Hops = hops
	return a.withStore(ctx, func(st store.Store) error {
		rs, err := payrollRiskScreener(ctx, st, nil, hops)
		if err != nil {
			return err
		}
		ans, err := screenPayroll(ctx, st, rs, req, payroll.Options{PrecomputeFrom: payrollPrecomputeFrom})
		if err != nil {
			return err
		}
		if format == "csv" {
			return payroll.WriteCSV(a.stdout, ans)
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(ans)
	})
}

// payrollPrecomputeFrom is the number of wallets on a chain from which the
// CLI builds that chain's exposure table before screening a payroll
// (docs/benchmarks.md, "Payroll (issue 20)": on the medium world a wallet
// of a large cluster costs about 0.5 s on demand, the table about 25 s).
const payrollPrecomputeFrom = 50

// payrollRiskScreener returns the risk screener a payroll of H hops uses:
// base when its H is hops, else one made as newScreener makes it with H set.
func payrollRiskScreener(ctx context.Context, st store.Store, base *risk.Screener, hops int) (*risk.Screener, error) {
	if base != nil && (hops == 0 || base.Config().H == hops) {
		return base, nil
	}
	stolen, err := stolenMarks(ctx, st)
	if err != nil {
		return nil, err
	}
	cfg := risk.DefaultConfig()
	if hops != 0 {
		cfg.H = hops
	}
	rs, err := risk.NewScreener(st, risk.Options{Config: cfg, Stolen: stolen, Normalize: heistgraph.NormalizeAddress})
	if err != nil {
		return nil, fmt.Errorf("screener: %w", err)
	}
	return rs, nil
}

// screenPayroll screens req with package payroll over rs.
func screenPayroll(ctx context.Context, st store.Store, rs *risk.Screener, req *payroll.Request, opts payroll.Options) (*payroll.Answer, error) {
	ps, err := payroll.NewScreener(st, rs, opts)
	if err != nil {
		return nil, err
	}
	req.Hops = rs.Config().H
	return ps.Screen(ctx, req)
}

// ScreenPayroll answers POST /v1/screen/payroll with package payroll over
// serve's screener (or one with the request's hops): the same answer as
// `heistgraph screen payroll` for the same payees.
func (b *apiBackend) ScreenPayroll(ctx context.Context, req *payroll.Request) (*payroll.Answer, error) {
	base, err := b.screening.screener(ctx)
	if err != nil {
		return nil, err
	}
	rs, err := payrollRiskScreener(ctx, b.st, base, req.Hops)
	if err != nil {
		return nil, err
	}
	return screenPayroll(ctx, b.st, rs, req, payroll.Options{})
}
