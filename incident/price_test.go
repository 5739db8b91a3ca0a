package incident

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/heistgraph/heistgraph"
)

func TestParsePricesCoinGecko(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/prices/btc-usd-coingecko.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ps, err := ParsePrices(f, "btc")
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 35 {
		t.Fatalf("%d prices, want 35", len(ps))
	}
	table := NewPriceTable(ps...)
	p, ok := table.USD("BTC", time.Date(2024, 5, 31, 13, 0, 0, 0, time.UTC))
	if !ok || p != 68_372_492_884_341 { // 68372.49288434093 USD, to the nano-dollar
		t.Errorf("BTC on 2024-05-31 = %d (%v)", p, ok)
	}
	if _, ok := table.USD("BTC", time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)); ok {
		t.Error("a price for a day not in the file")
	}
	day, _, ok := table.Latest("btc")
	if !ok || day.Format(dateLayout) != "2026-01-31" {
		t.Errorf("latest = %v %v", day, ok)
	}
}

func TestParsePricesGeneric(t *testing.T) {
	t.Parallel()
	in := "date,asset,usd\n2024-05-31,btc,68372.49\n2024-05-31,ETH,3760.5\n2019-11-27,ETH,1.475e2\n"
	ps, err := ParsePrices(strings.NewReader(in), "")
	if err != nil {
		t.Fatal(err)
	}
	want := []heistgraph.DayPrice{
		{Asset: "BTC", Day: time.Date(2024, 5, 31, 0, 0, 0, 0, time.UTC), USD: 68_372_490_000_000},
		{Asset: "ETH", Day: time.Date(2024, 5, 31, 0, 0, 0, 0, time.UTC), USD: 3_760_500_000_000},
		{Asset: "ETH", Day: time.Date(2019, 11, 27, 0, 0, 0, 0, time.UTC), USD: 147_500_000_000},
	}
	if len(ps) != len(want) {
		t.Fatalf("got %v", ps)
	}
	for i := range want {
		if ps[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, ps[i], want[i])
		}
	}
}

// TestParsePricesRejects checks that bad rows are named by line and column.
func TestParsePricesRejects(t *testing.T) {
	t.Parallel()
	const cg = "snapped_at,price,market_cap,total_volume\n"
	tests := []struct {
		name, in, asset string
		line            int
		field           string
	}{
		{"no header", "", "BTC", 1, ""},
		{"unknown header", "day,price\n2024-05-31,1\n", "BTC", 1, ""},
		{"bad date", "date,asset,usd\n2024-05-31,BTC,1\n2024-02-30,BTC,1\n", "", 3, "date"},
		{"bad price", "date,asset,usd\n2024-05-31,BTC,abc\n", "", 2, "usd"},
		{"negative price", "date,asset,usd\n2024-05-31,BTC,-5\n", "", 2, "usd"},
		{"zero price", "date,asset,usd\n2024-05-31,BTC,0\n", "", 2, "usd"},
		{"huge exponent", "date,asset,usd\n2024-05-31,BTC,1e999999999\n", "", 2, "usd"},
		{"bad asset", "date,asset,usd\n2024-05-31,bit coin,1\n", "", 2, "asset"},
		{"other asset", "date,asset,usd\n2024-05-31,ETH,1\n", "BTC", 2, "asset"},
		{"duplicate day", "date,asset,usd\n2024-05-31,BTC,1\n2024-05-31,btc,2\n", "", 3, "date"},
		{"missing field", "date,asset,usd\n2024-05-31,BTC\n", "", 2, ""},
		{"coingecko bad snapped_at", cg + "2024-05-31,1,2,3\n", "BTC", 2, "snapped_at"},
		{"coingecko bad price", cg + "2024-05-31 00:00:00 UTC,1,2,3\n2024-06-01 00:00:00 UTC,NaN,2,3\n", "BTC", 3, "price"},
		{"bare quote", "date,asset,usd\n2024-05-31,B\"TC,1\n", "", 2, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParsePrices(strings.NewReader(tc.in), tc.asset)
			if !errors.Is(err, heistgraph.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			var pe *PriceError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a PriceError", err)
			}
			if pe.Line != tc.line || pe.Field != tc.field {
				t.Errorf("error names line %d field %q, want line %d field %q: %v", pe.Line, pe.Field, tc.line, tc.field, err)
			}
		})
	}
	if _, err := ParsePrices(strings.NewReader("snapped_at,price,market_cap,total_volume\n"), ""); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("a CoinGecko file without an asset: err = %v", err)
	}
}

func TestPriceValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		amount   uint64
		decimals uint8
		price    heistgraph.Price
		want     heistgraph.USD
	}{
		{"one BTC", 100_000_000, 8, 68_372_492_884_341, 68_372_49},
		{"half a cent rounds up", 1, 0, 5_000_000, 1},
		{"below half a cent", 1, 0, 4_999_999, 0},
		{"USDC", 25_500_000_000_000, 6, 1_000_000_000, 25_500_000_00},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var a = new(heistgraph.Theft).Amount
			a.SetUint64(tc.amount)
			if got := tc.price.Value(&a, tc.decimals); got != tc.want {
				t.Errorf("value = %s, want %s", got, tc.want)
			}
		})
	}
}
