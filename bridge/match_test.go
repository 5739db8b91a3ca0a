package bridge_test

import (
	"math/big"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/bridge"
)

// TestWorkedExample3 is methods.md §6.7 example 3: 10 ETH at 12:00 with
// ETH at $3,000 and BTC at $60,000 ⇒ ŷ = 50,000,000 sat, band
// [49,480,000; 50,250,000]; of the payouts the 12:07 one is probable; a
// 12:08 payout 2 bps and a minute from it makes both hypotheses.
func TestWorkedExample3(t *testing.T) {
	at := func(hm string) time.Time {
		tm, err := time.Parse("15:04", hm)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tenETH, _ := new(big.Int).SetString("10000000000000000000", 10)
	d := bridge.Deposit{Amount: tenETH, Decimals: 18, PriceUSD: big.NewRat(3000, 1), Time: at("12:00")}
	o := bridge.MatchOptions{Decimals: 8, PriceUSD: big.NewRat(60000, 1)}
	payouts := []bridge.Payout{
		{ID: "12:03", Amount: big.NewInt(20_000_000), Time: at("12:03")},
		{ID: "12:07", Amount: big.NewInt(49_640_000), Time: at("12:07")},
		{ID: "12:40", Amount: big.NewInt(49_700_000), Time: at("12:40")},
		{ID: "14:10", Amount: big.NewInt(50_000_000), Time: at("14:10")}, // outside the 2 h window
		{ID: "11:59", Amount: big.NewInt(50_000_000), Time: at("11:59")}, // before the deposit
	}
	m, err := bridge.MatchAmountTime(d, payouts, o)
	if err != nil {
		t.Fatal(err)
	}
	if m.Expected.Int64() != 50_000_000 || m.Low.Int64() != 49_480_000 || m.High.Int64() != 50_250_000 {
		t.Errorf("ŷ %s band [%s; %s], want 50000000 [49480000; 50250000]", m.Expected, m.Low, m.High)
	}
	if len(m.Chosen) != 1 || m.Chosen[0].Payout.ID != "12:07" || m.Chosen[0].Confidence != heistgraph.ConfidenceProbable {
		t.Fatalf("chosen %+v, want the 12:07 payout, probable", m.Chosen)
	}
	if g := m.Chosen[0].GapBps; g.Cmp(big.NewRat(72, 1)) != 0 {
		t.Errorf("gap %s bps, want 72", g.FloatString(2))
	}
	m, err = bridge.MatchAmountTime(d, append(payouts, bridge.Payout{ID: "12:08", Amount: big.NewInt(49_650_000), Time: at("12:08")}), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Chosen) != 2 || m.Chosen[0].Payout.ID != "12:08" || m.Chosen[1].Payout.ID != "12:07" {
		t.Fatalf("chosen %+v, want 12:08 and 12:07", m.Chosen)
	}
	for _, c := range m.Chosen {
		if c.Confidence != heistgraph.ConfidenceHypothesis {
			t.Errorf("%s: %s, want hypothesis", c.Payout.ID, c.Confidence)
		}
	}
	// No payout in the band: nothing chosen.
	m, err = bridge.MatchAmountTime(d, payouts[:1], o)
	if err != nil || len(m.Chosen) != 0 {
		t.Errorf("only an out-of-band payout: %+v %v", m.Chosen, err)
	}
	if _, err := bridge.MatchAmountTime(bridge.Deposit{Amount: big.NewInt(0)}, payouts, o); err == nil {
		t.Error("a zero deposit was matched")
	}
}
