package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// Prices near DMM Bitcoin's theft (CoinGecko's BTC snapshots of 2024-05-30
// and 2024-05-31, in nano-USD) and two assets whose names share a prefix.
var pricesFixture = []heistgraph.DayPrice{
	{Asset: "BTC", Day: day(2024, 5, 31), USD: 68_372_490_000_000},
	{Asset: "BTC", Day: day(2024, 5, 30), USD: 68_500_120_000_000},
	{Asset: "ETH", Day: day(2024, 5, 31), USD: 3_760_880_000_000},
	{Asset: "ETHW", Day: day(2024, 6, 1), USD: 3_120_000_000},
	{Asset: "BTC", Day: day(2009, 1, 12), USD: 1},
}

func testPrices(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := open(t)
	if err := st.PutPrices(ctx, pricesFixture); err != nil {
		t.Fatalf("put prices: %v", err)
	}
	t.Run("PriceOn", func(t *testing.T) {
		tests := []struct {
			name  string
			asset string
			at    time.Time
			want  heistgraph.Price
		}{
			{"the day", "BTC", day(2024, 5, 31), 68_372_490_000_000},
			{"the day before", "BTC", day(2024, 5, 30), 68_500_120_000_000},
			{"a time within the day", "BTC", day(2024, 5, 31).Add(23*time.Hour + 59*time.Minute), 68_372_490_000_000},
			{"a time in another zone counts for its UTC day", "BTC", time.Date(2024, 5, 31, 1, 0, 0, 0, time.FixedZone("JST", 9*3600)), 68_500_120_000_000},
			{"lower-case asset", "eth", day(2024, 5, 31), 3_760_880_000_000},
			{"an asset whose name extends another's", "ETHW", day(2024, 6, 1), 3_120_000_000},
			{"one nano-dollar, early days", "BTC", day(2009, 1, 12), 1},
		}
		for _, tc := range tests {
			got, err := st.PriceOn(ctx, tc.asset, tc.at)
			if err != nil || got != tc.want {
				t.Errorf("%s: PriceOn(%s, %s) = %d, %v; want %d", tc.name, tc.asset, tc.at, got, err, tc.want)
			}
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		tests := []struct {
			name  string
			asset string
			at    time.Time
		}{
			{"a day without a price is not interpolated", "BTC", day(2024, 5, 29)},
			{"an asset never priced", "DOGE", day(2024, 5, 31)},
			{"the prefix of a priced asset", "ET", day(2024, 5, 31)},
			{"ETH's day is not ETHW's", "ETHW", day(2024, 5, 31)},
		}
		for _, tc := range tests {
			_, err := st.PriceOn(ctx, tc.asset, tc.at)
			wantNotFound(t, tc.name, err)
		}
		_, err := st.LatestPrice(ctx, "DOGE")
		wantNotFound(t, "latest price of an asset never priced", err)
	})
	t.Run("LatestPrice", func(t *testing.T) {
		tests := []struct {
			asset string
			want  heistgraph.DayPrice
		}{
			{"BTC", heistgraph.DayPrice{Asset: "BTC", Day: day(2024, 5, 31), USD: 68_372_490_000_000}},
			{"ETH", heistgraph.DayPrice{Asset: "ETH", Day: day(2024, 5, 31), USD: 3_760_880_000_000}},
			{"ethw", heistgraph.DayPrice{Asset: "ETHW", Day: day(2024, 6, 1), USD: 3_120_000_000}},
		}
		for _, tc := range tests {
			got, err := st.LatestPrice(ctx, tc.asset)
			if err != nil || !sameDayPrice(got, tc.want) {
				t.Errorf("LatestPrice(%s) = %+v, %v; want %+v", tc.asset, got, err, tc.want)
			}
		}
	})
	t.Run("PriceHistory", func(t *testing.T) {
		tests := []struct {
			name     string
			asset    string
			from, to time.Time
			want     []time.Time
		}{
			{"everything, in day order", "BTC", time.Time{}, time.Time{}, []time.Time{day(2009, 1, 12), day(2024, 5, 30), day(2024, 5, 31)}},
			{"from a day, inclusive", "BTC", day(2024, 5, 30), time.Time{}, []time.Time{day(2024, 5, 30), day(2024, 5, 31)}},
			{"to a day, inclusive, whatever its time", "BTC", time.Time{}, day(2024, 5, 30).Add(time.Hour), []time.Time{day(2009, 1, 12), day(2024, 5, 30)}},
			{"one day", "BTC", day(2024, 5, 31), day(2024, 5, 31), []time.Time{day(2024, 5, 31)}},
			{"not another asset's days", "ETH", time.Time{}, time.Time{}, []time.Time{day(2024, 5, 31)}},
			{"an asset never priced", "DOGE", time.Time{}, time.Time{}, nil},
		}
		for _, tc := range tests {
			var got []time.Time
			for p, err := range st.PriceHistory(ctx, tc.asset, tc.from, tc.to) {
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				if p.Asset != tc.asset {
					t.Errorf("%s: asset %q, want %q", tc.name, p.Asset, tc.asset)
				}
				got = append(got, p.Day)
			}
			if len(got) != len(tc.want) {
				t.Errorf("%s: days %v, want %v", tc.name, got, tc.want)
				continue
			}
			for i := range got {
				if !got[i].Equal(tc.want[i]) || got[i].Location() != time.UTC {
					t.Errorf("%s: day %d is %v, want %v in UTC", tc.name, i, got[i], tc.want[i])
				}
			}
		}
	})
	t.Run("Replace", func(t *testing.T) {
		st := open(t)
		put := func(ps ...heistgraph.DayPrice) {
			t.Helper()
			if err := st.PutPrices(ctx, ps); err != nil {
				t.Fatalf("put: %v", err)
			}
		}
		put(heistgraph.DayPrice{Asset: "btc", Day: day(2024, 5, 31), USD: 5})
		put(heistgraph.DayPrice{Asset: "BTC", Day: day(2024, 5, 31), USD: 7})
		if p, err := st.PriceOn(ctx, "BTC", day(2024, 5, 31)); err != nil || p != 7 {
			t.Errorf("after a second import of the day: %d, %v; want the later price 7", p, err)
		}
		n := 0
		for _, err := range st.PriceHistory(ctx, "BTC", time.Time{}, time.Time{}) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n != 1 {
			t.Errorf("%d prices for one asset and day, want 1 (lower-case imports are the same asset)", n)
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		tests := []struct {
			name string
			p    heistgraph.DayPrice
		}{
			{"empty asset", heistgraph.DayPrice{Day: day(2024, 5, 31), USD: 1}},
			{"asset too long", heistgraph.DayPrice{Asset: "ABCDEFGHIJKLMNOPQRSTU", Day: day(2024, 5, 31), USD: 1}},
			{"not a midnight", heistgraph.DayPrice{Asset: "BTC", Day: day(2024, 5, 31).Add(time.Hour), USD: 1}},
			{"midnight in another zone", heistgraph.DayPrice{Asset: "BTC", Day: time.Date(2024, 5, 31, 0, 0, 0, 0, time.FixedZone("JST", 9*3600)), USD: 1}},
			{"before 1970", heistgraph.DayPrice{Asset: "BTC", Day: day(1969, 12, 31), USD: 1}},
			{"zero price", heistgraph.DayPrice{Asset: "BTC", Day: day(2024, 5, 31)}},
			{"negative price", heistgraph.DayPrice{Asset: "BTC", Day: day(2024, 5, 31), USD: -1}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				st := open(t)
				good := heistgraph.DayPrice{Asset: "ETH", Day: day(2024, 1, 1), USD: 9}
				err := st.PutPrices(ctx, []heistgraph.DayPrice{good, tc.p})
				if !errors.Is(err, heistgraph.ErrInvalid) {
					t.Fatalf("error %v, want one wrapping ErrInvalid", err)
				}
				if _, err := st.LatestPrice(ctx, "ETH"); !errors.Is(err, heistgraph.ErrNotFound) {
					t.Errorf("the good price of a refused batch was stored (err %v): PutPrices must be atomic", err)
				}
			})
		}
	})
	t.Run("HistoryCancel", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		var last error
		for _, err := range st.PriceHistory(cctx, "BTC", time.Time{}, time.Time{}) {
			last = err
		}
		if !errors.Is(last, context.Canceled) {
			t.Errorf("history on a cancelled context ended with %v, want context.Canceled", last)
		}
	})
}

func sameDayPrice(a, b heistgraph.DayPrice) bool {
	return a.Asset == b.Asset && a.Day.Equal(b.Day) && a.USD == b.USD
}
