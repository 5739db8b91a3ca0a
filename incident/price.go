package incident

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/heistgraph/heistgraph"
)

// Prices gives daily USD prices of assets. Implementations are the
// in-memory PriceTable and, in phase 2, the store. Assets are upper-case
// symbols (BTC, ETH, USDC); days are UTC.
type Prices interface {
	// USD returns the price of one whole unit of asset on day (its
	// CoinGecko-style 00:00 UTC snapshot), if known.
	USD(asset string, day time.Time) (heistgraph.Price, bool)
	// Latest returns the newest known price of asset and its day.
	Latest(asset string) (day time.Time, price heistgraph.Price, ok bool)
}

// PriceTable is an in-memory Prices. The zero value is empty and ready to
// use. It is not safe for concurrent writes; reads may run concurrently once
// writing is done.
type PriceTable struct {
	m map[string][]heistgraph.DayPrice // per asset, by day
}

// NewPriceTable returns a table holding ps (a later price for the same
// asset and day replaces an earlier one).
func NewPriceTable(ps ...heistgraph.DayPrice) *PriceTable {
	t := &PriceTable{}
	for _, p := range ps {
		t.Add(p)
	}
	return t
}

// Add records p, replacing any price for the same asset and day.
func (t *PriceTable) Add(p heistgraph.DayPrice) {
	if t.m == nil {
		t.m = map[string][]heistgraph.DayPrice{}
	}
	p.Asset = strings.ToUpper(p.Asset)
	p.Day = day(p.Day)
	list := t.m[p.Asset]
	i, found := slices.BinarySearchFunc(list, p.Day, func(e heistgraph.DayPrice, d time.Time) int { return e.Day.Compare(d) })
	if found {
		list[i] = p
		return
	}
	t.m[p.Asset] = slices.Insert(list, i, p)
}

// USD implements Prices.
func (t *PriceTable) USD(asset string, d time.Time) (heistgraph.Price, bool) {
	list := t.m[strings.ToUpper(asset)]
	i, found := slices.BinarySearchFunc(list, day(d), func(e heistgraph.DayPrice, d time.Time) int { return e.Day.Compare(d) })
	if !found {
		return 0, false
	}
	return list[i].USD, true
}

// Latest implements Prices.
func (t *PriceTable) Latest(asset string) (time.Time, heistgraph.Price, bool) {
	list := t.m[strings.ToUpper(asset)]
	if len(list) == 0 {
		return time.Time{}, 0, false
	}
	p := list[len(list)-1]
	return p.Day, p.USD, true
}

// day truncates t to its UTC day.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// PriceError reports a bad row of a price CSV: its line (1-based, the
// header is line 1), the column, and why. Err wraps heistgraph.ErrInvalid.
type PriceError struct {
	Line  int
	Field string // column name; empty when the whole row or file is at fault
	Err   error
}

// Error implements error: "prices: line N: column: why".
func (e *PriceError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("prices: line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("prices: line %d: %s: %v", e.Line, e.Field, e.Err)
}

// Unwrap returns the underlying error, which wraps heistgraph.ErrInvalid.
func (e *PriceError) Unwrap() error { return e.Err }

// maxPriceErrors bounds how many bad rows ParsePrices reports.
const maxPriceErrors = 20

var (
	priceAssetRE = regexp.MustCompile(`^[A-Z0-9][A-Z0-9.]{0,19}$`)
	// priceRE admits plain decimals and small exponents (CoinGecko writes
	// 1.2e-05 for tiny prices), never fractions, hex or huge exponents.
	priceRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]{1,2})?$`)
)

// ParsePrices reads daily USD prices in one of two CSV forms, told apart by
// the header:
//
//   - date,asset,usd: one price a row, e.g. "2024-05-31,BTC,68372.49";
//     asset, if not empty, must match every row's asset.
//   - CoinGecko's export, snapped_at,price,market_cap,total_volume with
//     snapped_at like "2024-05-31 00:00:00 UTC" (a snapshot taken at another
//     time of day counts for its UTC day): asset names the coin and is
//     required.
//
// Prices are positive decimals (exponents allowed), kept to the nano-dollar.
// Assets are upper-cased. A day may appear once per asset. Bad rows are
// reported by line: the error joins up to 20 *PriceError values, each
// wrapping heistgraph.ErrInvalid. The returned prices are in file order.
func ParsePrices(r io.Reader, asset string) ([]heistgraph.DayPrice, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("prices: read: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	asset = strings.ToUpper(strings.TrimSpace(asset))
	if asset != "" && !priceAssetRE.MatchString(asset) {
		return nil, fmt.Errorf("prices: asset %q: want a symbol such as BTC: %w", asset, heistgraph.ErrInvalid)
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.ReuseRecord = true
	header, err := cr.Read()
	header = slices.Clone(header)
	if err != nil {
		return nil, &PriceError{Line: 1, Err: fmt.Errorf("no header (want date,asset,usd or snapped_at,price,...): %w", heistgraph.ErrInvalid)}
	}
	var coingecko bool
	switch h := strings.Join(header, ","); {
	case h == "date,asset,usd":
	case strings.HasPrefix(h, "snapped_at,price"):
		coingecko = true
		if asset == "" {
			return nil, fmt.Errorf("prices: a CoinGecko export needs the asset it prices (--asset): %w", heistgraph.ErrInvalid)
		}
	default:
		return nil, &PriceError{Line: 1, Err: fmt.Errorf("header %q: want date,asset,usd or snapped_at,price,market_cap,total_volume: %w", h, heistgraph.ErrInvalid)}
	}

	cr.FieldsPerRecord = len(header)
	var out []heistgraph.DayPrice
	var errs []error
	bad := func(line int, field, format string, args ...any) {
		if len(errs) < maxPriceErrors {
			errs = append(errs, &PriceError{Line: line, Field: field, Err: fmt.Errorf(format+": %w", append(args, heistgraph.ErrInvalid)...)})
		}
	}
	seen := map[string]int{} // asset|day -> line
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, fmt.Errorf("prices: read: %w", err)
			}
			if errors.Is(pe.Err, csv.ErrFieldCount) {
				bad(pe.Line, "", "want %d fields, have %d", len(header), len(rec))
				continue
			}
			bad(pe.Line, "", "%v", pe.Err)
			break // the reader cannot resynchronise after a quoting error
		}
		line, _ := cr.FieldPos(0)
		var p heistgraph.DayPrice
		var dateText, priceText string
		if coingecko {
			dateText, priceText, p.Asset = rec[0], rec[1], asset
			// Snapshots are taken at 00:00 UTC, a few late or early ones
			// (2017-06-06 23:29:55 UTC); each stands for its UTC day.
			ts, err := time.Parse("2006-01-02 15:04:05 UTC", strings.TrimSpace(dateText))
			if err != nil {
				bad(line, "snapped_at", "%q: want YYYY-MM-DD HH:MM:SS UTC", rec[0])
				continue
			}
			dateText = ts.Format(dateLayout)
		} else {
			dateText, p.Asset, priceText = rec[0], strings.ToUpper(strings.TrimSpace(rec[1])), rec[2]
			if !priceAssetRE.MatchString(p.Asset) {
				bad(line, "asset", "%q: want a symbol such as BTC", rec[1])
				continue
			}
			if asset != "" && p.Asset != asset {
				bad(line, "asset", "%s, but the import is for %s", p.Asset, asset)
				continue
			}
		}
		d, err := time.Parse(dateLayout, strings.TrimSpace(dateText))
		if err != nil {
			bad(line, header[0], "%q: want YYYY-MM-DD", dateText)
			continue
		}
		p.Day = d
		v, err := parsePrice(priceText)
		if err != nil {
			bad(line, header[1+btoi(!coingecko)], "%q: %v", priceText, err)
			continue
		}
		p.USD = v
		key := p.Asset + "|" + dateText
		if first, dup := seen[key]; dup {
			bad(line, header[0], "%s %s already priced on line %d", p.Asset, dateText, first)
			continue
		}
		seen[key] = line
		out = append(out, p)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// parsePrice reads a positive decimal dollar price into nano-dollars,
// rounding half up below a nano-dollar.
func parsePrice(s string) (heistgraph.Price, error) {
	s = strings.TrimSpace(s)
	if len(s) > 64 || !priceRE.MatchString(s) {
		return 0, errors.New("want a positive decimal price")
	}
	var r big.Rat
	if _, ok := r.SetString(s); !ok {
		return 0, errors.New("want a positive decimal price")
	}
	if r.Sign() <= 0 {
		return 0, errors.New("price must be positive")
	}
	r.Mul(&r, new(big.Rat).SetInt64(heistgraph.NanoPerUSD))
	n := new(big.Int).Quo(new(big.Int).Add(new(big.Int).Mul(r.Num(), big.NewInt(2)), r.Denom()), new(big.Int).Mul(r.Denom(), big.NewInt(2)))
	if !n.IsInt64() || n.Sign() <= 0 {
		return 0, errors.New("price out of range (1e-9 .. 9.2e9 USD)")
	}
	return heistgraph.Price(n.Int64()), nil
}

// SortPrices orders ps by asset, then day.
func SortPrices(ps []heistgraph.DayPrice) {
	slices.SortFunc(ps, func(a, b heistgraph.DayPrice) int {
		return cmp.Or(cmp.Compare(a.Asset, b.Asset), a.Day.Compare(b.Day))
	})
}
