package store

import (
	"context"
	"iter"
	"time"

	"github.com/heistgraph/heistgraph"
)

// Prices holds daily USD prices of assets, imported from CSV files
// (`heistgraph prices import`), that value the incident register. Package
// incident reads them through incident.PricesFrom, which turns the lookups a
// report needs into an incident.Prices.
//
// Assets are symbols such as BTC, ETH or USDC, compared upper-cased: PutPrices
// stores them upper-cased and lookups upper-case their argument. Days are UTC
// days; a lookup takes any time and uses its UTC day. All methods are safe for
// concurrent use. Returned values are the caller's.
type Prices interface {
	// PutPrices stores ps in one atomic batch. A price for an asset and day
	// already stored is replaced. A price with an empty asset or one longer
	// than 20 bytes, a day that is not a UTC midnight, a day before 1970, or
	// a price that is not positive wraps heistgraph.ErrInvalid, and then
	// nothing is stored.
	PutPrices(ctx context.Context, ps []heistgraph.DayPrice) error
	// PriceOn returns the price of one whole unit of asset on day. A day
	// without a price wraps heistgraph.ErrNotFound (prices are never
	// interpolated).
	PriceOn(ctx context.Context, asset string, day time.Time) (heistgraph.Price, error)
	// LatestPrice returns the price of asset on the newest day it has one.
	// An asset never priced wraps heistgraph.ErrNotFound.
	LatestPrice(ctx context.Context, asset string) (heistgraph.DayPrice, error)
	// PriceHistory yields the prices of asset from day from to day to (both
	// inclusive; zero times mean unbounded) in day order. It streams; an
	// asset never priced yields nothing; when ctx is cancelled the sequence
	// ends with an error wrapping ctx.Err().
	PriceHistory(ctx context.Context, asset string, from, to time.Time) iter.Seq2[heistgraph.DayPrice, error]
}
