package payroll

import (
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/risk"
)

// TestExposureFlags turns screening answers into flags: amounts per hop
// over the answer's denominator, the level risk gave the category, and
// nothing for categories payroll does not flag.
func TestExposureFlags(t *testing.T) {
	t.Parallel()
	recv, sent := int64(1_000_000), int64(400_000)
	tests := []struct {
		name  string
		ans   risk.Answer
		kind  string // "" : no flag
		level risk.Level
		share float64
		hops  int
	}{
		{"sanctioned received directly and at hop 2",
			risk.Answer{Direction: risk.Received, ReceivedSat: &recv, Levels: map[string]risk.Level{"sanctioned": risk.LevelSevere},
				Direct:   []risk.Direct{{Kind: risk.KindCounterparty, Category: "sanctioned", Entity: "X", AmountSat: 10_000, Hops: 1}},
				Indirect: []risk.Indirect{{Category: "sanctioned", AmountSat: 20_000, Hops: 2}}},
			KindSanctionedExposure, risk.LevelSevere, 0.03, 1},
		{"dprk reached by the pay at hop 3",
			risk.Answer{Direction: risk.Sent, SentSat: &sent, Levels: map[string]risk.Level{"dprk": risk.LevelHigh},
				Indirect: []risk.Indirect{{Category: "dprk", AmountSat: 100_000, Hops: 3}}},
			KindDPRKExposure, risk.LevelHigh, 0.25, 3},
		{"dusting capped: still flagged, at low",
			risk.Answer{Direction: risk.Received, ReceivedSat: &recv, Levels: map[string]risk.Level{},
				Direct: []risk.Direct{{Kind: risk.KindCounterparty, Category: "dprk", AmountSat: 5, Hops: 1, Dusting: true}}},
			KindDPRKExposure, risk.LevelLow, 5e-6, 1},
		{"mixer is not a payroll flag",
			risk.Answer{Direction: risk.Received, ReceivedSat: &recv, Levels: map[string]risk.Level{"mixer": risk.LevelHigh},
				Indirect: []risk.Indirect{{Category: "mixer", AmountSat: 500_000, Hops: 2}}},
			"", "", 0, 0},
		{"ownership alone is no exposure",
			risk.Answer{Direction: risk.Received, ReceivedSat: &recv, Sanctioned: true, Levels: map[string]risk.Level{"sanctioned": risk.LevelSevere},
				Direct: []risk.Direct{{Kind: risk.KindOwnership, Category: "sanctioned"}}},
			"", "", 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.ans.Config.H = 3
			fs := exposureFlags(&tc.ans, nil)
			if tc.kind == "" {
				if len(fs) != 0 {
					t.Fatalf("flags %+v, want none", fs)
				}
				return
			}
			if len(fs) != 1 {
				t.Fatalf("flags %+v, want one %s", fs, tc.kind)
			}
			f := fs[0]
			if f.Kind != tc.kind || f.Level != tc.level || *f.Evidence.Share != tc.share || f.Evidence.Hops != tc.hops || f.Evidence.Direction != tc.ans.Direction {
				t.Errorf("flag %s %s share %v hops %d, want %s %s %v %d", f.Kind, f.Level, *f.Evidence.Share, f.Evidence.Hops, tc.kind, tc.level, tc.share, tc.hops)
			}
		})
	}
	owned := risk.Answer{Address: "a", Sanctioned: true, Direct: []risk.Direct{{Kind: risk.KindOwnership, Category: "sanctioned", Entity: "E", Source: "ofac-sdn:1"}}}
	if f, ok := ownershipFlag(&owned); !ok || f.Kind != KindSanctionedWallet || f.Level != risk.LevelSevere || len(f.Evidence.Labels) != 1 {
		t.Errorf("ownershipFlag = %+v, %v", f, ok)
	}
	if _, ok := ownershipFlag(&risk.Answer{Direct: []risk.Direct{{Kind: risk.KindOwnership, Category: "exchange"}}}); ok {
		t.Error("an exchange-owned wallet is flagged sanctioned_wallet")
	}
}

// TestHaircut checks the spread of §8.3 on the walk's transactions: the
// fee's share rounds down, the rest is apportioned exactly.
func TestHaircut(t *testing.T) {
	t.Parallel()
	in := func(v int64) *heistgraph.TxOut { return &heistgraph.TxOut{Value: v} }
	rec := &heistgraph.TxRecord{Prevouts: []*heistgraph.TxOut{in(99_000_000)},
		Tx: heistgraph.Tx{Outputs: []heistgraph.TxOut{{Value: 50_000_000}, {Value: 48_000_000}}}}
	tests := []struct {
		a    int64
		want []int64
	}{
		{99_000_000, []int64{50_000_000, 48_000_000}}, // all of it: the fee takes 1,000,000
		{49_500_000, []int64{25_000_000, 24_000_000}}, // half
		{1, []int64{1, 0}},                            // the fee's ⌊1·1e6/99e6⌋ = 0
		{0, nil},
	}
	for _, tc := range tests {
		got := haircut(rec, tc.a)
		if len(got) != len(tc.want) {
			t.Errorf("haircut(%d) = %v, want %v", tc.a, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("haircut(%d) = %v, want %v", tc.a, got, tc.want)
			}
		}
	}
}
