package payroll

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"

	"github.com/heistgraph/heistgraph"
)

//go:embed itworkers.tsv
var itWorkersTSV []byte

// Indicator kinds of itworkers.tsv.
const (
	IndicatorName   = "name"
	IndicatorEmail  = "email"
	IndicatorWallet = "wallet"
)

// Indicator is one published DPRK IT-worker indicator: a name, an e-mail
// address or a wallet (Chain is its family: btc or evm), whom it concerns,
// and the public document it comes from.
type Indicator struct {
	Kind   string `json:"kind"`
	Value  string `json:"value"`
	Chain  string `json:"chain,omitempty"`
	Who    string `json:"who"`
	Source string `json:"source"`
	Date   string `json:"date"`
}

const indicatorHeader = "kind\tvalue\tchain\twho\tsource\tdate"

// parseIndicators reads itworkers.tsv. Errors wrap heistgraph.ErrInvalid
// and name the line.
func parseIndicators(data []byte) ([]Indicator, error) {
	var out []Indicator
	header := false
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !header {
			if line != indicatorHeader {
				return nil, fmt.Errorf("itworkers.tsv:%d: header %q, want %q: %w", i+1, line, indicatorHeader, heistgraph.ErrInvalid)
			}
			header = true
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 6 {
			return nil, fmt.Errorf("itworkers.tsv:%d: %d fields, want 6: %w", i+1, len(f), heistgraph.ErrInvalid)
		}
		in := Indicator{Kind: f[0], Value: f[1], Chain: f[2], Who: f[3], Source: f[4], Date: f[5]}
		switch {
		case in.Value == "" || in.Source == "":
			return nil, fmt.Errorf("itworkers.tsv:%d: value and source are required: %w", i+1, heistgraph.ErrInvalid)
		case in.Kind == IndicatorWallet && in.Chain != "btc" && in.Chain != "evm":
			return nil, fmt.Errorf("itworkers.tsv:%d: wallet chain %q, want btc or evm: %w", i+1, in.Chain, heistgraph.ErrInvalid)
		case in.Kind != IndicatorName && in.Kind != IndicatorEmail && in.Kind != IndicatorWallet:
			return nil, fmt.Errorf("itworkers.tsv:%d: kind %q, want name, email or wallet: %w", i+1, in.Kind, heistgraph.ErrInvalid)
		}
		out = append(out, in)
	}
	return out, nil
}

var builtinIndicators = sync.OnceValues(func() ([]Indicator, error) { return parseIndicators(itWorkersTSV) })

// BuiltinIndicators returns the IT-worker indicators built in. The slice
// is shared: do not modify it.
func BuiltinIndicators() ([]Indicator, error) { return builtinIndicators() }
