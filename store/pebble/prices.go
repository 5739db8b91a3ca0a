package pebble

import (
	"context"
	"encoding/binary"
	"fmt"
	"iter"
	"strings"
	"time"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

var _ store.Prices = (*DB)(nil)

// maxAssetLen bounds an asset symbol (incident.ParsePrices admits 20 bytes).
const maxAssetLen = 20

// priceDayKey is the day part of a price key: Unix seconds of the day's UTC
// midnight with the sign bit flipped, so that byte order is day order.
func priceDayKey(day time.Time) uint64 { return uint64(day.Unix()) ^ 1<<63 }

func priceDay(v uint64) time.Time { return time.Unix(int64(v^1<<63), 0).UTC() }

// appendPricePrefix is the prefix of every price key of asset.
func appendPricePrefix(dst []byte, asset string) []byte {
	return appendAddr(append(dst, prefixPrice), asset)
}

func appendPriceKey(dst []byte, asset string, day time.Time) []byte {
	return appendU64(appendPricePrefix(dst, asset), priceDayKey(day))
}

// utcDay truncates t to its UTC day.
func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// open reports errClosed once the store is closed. Reads and the small
// register writes (prices, incidents) call it first.
func (d *DB) open() error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return errClosed
	}
	return nil
}

// PutPrices implements store.Prices.
func (d *DB) PutPrices(ctx context.Context, ps []heistgraph.DayPrice) error {
	if err := d.open(); err != nil {
		return err
	}
	b := d.db.NewBatch()
	defer b.Close()
	for i, p := range ps {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("put prices: %w", err)
		}
		asset := strings.ToUpper(p.Asset)
		switch {
		case asset == "" || len(asset) > maxAssetLen:
			return fmt.Errorf("put prices: price %d: asset %q: want 1 to %d bytes: %w", i, p.Asset, maxAssetLen, heistgraph.ErrInvalid)
		case !p.Day.Equal(utcDay(p.Day)) || p.Day.Unix() < 0:
			return fmt.Errorf("put prices: price %d (%s): day %s: want a UTC midnight from 1970 on: %w", i, asset, p.Day, heistgraph.ErrInvalid)
		case p.USD <= 0:
			return fmt.Errorf("put prices: price %d (%s %s): %d nano-USD: want a positive price: %w", i, asset, p.Day.Format(time.DateOnly), p.USD, heistgraph.ErrInvalid)
		}
		if err := b.Set(appendPriceKey(nil, asset, p.Day), appendU64(nil, uint64(p.USD)), nil); err != nil {
			return fmt.Errorf("put prices: %w", err)
		}
	}
	if err := d.commit(b); err != nil {
		return fmt.Errorf("put prices: %w", err)
	}
	return nil
}

// PriceOn implements store.Prices.
func (d *DB) PriceOn(ctx context.Context, asset string, day time.Time) (heistgraph.Price, error) {
	asset = strings.ToUpper(asset)
	if err := d.open(); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	v, found, err := lookup(d.db, appendPriceKey(nil, asset, utcDay(day)), nil)
	if err != nil {
		return 0, fmt.Errorf("price of %s on %s: %w", asset, utcDay(day).Format(time.DateOnly), err)
	}
	if !found {
		return 0, fmt.Errorf("price of %s on %s: %w", asset, utcDay(day).Format(time.DateOnly), heistgraph.ErrNotFound)
	}
	p, err := decodePrice(v)
	if err != nil {
		return 0, fmt.Errorf("price of %s on %s: %w", asset, utcDay(day).Format(time.DateOnly), err)
	}
	return p, nil
}

// LatestPrice implements store.Prices.
func (d *DB) LatestPrice(ctx context.Context, asset string) (heistgraph.DayPrice, error) {
	asset = strings.ToUpper(asset)
	if err := d.open(); err != nil {
		return heistgraph.DayPrice{}, err
	}
	if err := ctx.Err(); err != nil {
		return heistgraph.DayPrice{}, err
	}
	prefix := appendPricePrefix(nil, asset)
	it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return heistgraph.DayPrice{}, fmt.Errorf("latest price of %s: %w", asset, err)
	}
	defer it.Close()
	if !it.Last() {
		if err := it.Error(); err != nil {
			return heistgraph.DayPrice{}, fmt.Errorf("latest price of %s: %w", asset, err)
		}
		return heistgraph.DayPrice{}, fmt.Errorf("latest price of %s: %w", asset, heistgraph.ErrNotFound)
	}
	dp, err := decodeDayPrice(asset, len(prefix), it.Key(), it.Value())
	if err != nil {
		return heistgraph.DayPrice{}, fmt.Errorf("latest price of %s: %w", asset, err)
	}
	return dp, nil
}

// PriceHistory implements store.Prices.
func (d *DB) PriceHistory(ctx context.Context, asset string, from, to time.Time) iter.Seq2[heistgraph.DayPrice, error] {
	asset = strings.ToUpper(asset)
	return func(yield func(heistgraph.DayPrice, error) bool) {
		fail := func(err error) { yield(heistgraph.DayPrice{}, fmt.Errorf("price history of %s: %w", asset, err)) }
		if err := d.open(); err != nil {
			fail(err)
			return
		}
		prefix := appendPricePrefix(nil, asset)
		lo, hi := prefix, prefixEnd(prefix)
		if !from.IsZero() {
			lo = appendU64(append([]byte(nil), prefix...), priceDayKey(utcDay(from)))
		}
		if !to.IsZero() {
			hi = appendU64(append([]byte(nil), prefix...), priceDayKey(utcDay(to))+1)
		}
		it, err := d.db.NewIter(&pebbledb.IterOptions{LowerBound: lo, UpperBound: hi})
		if err != nil {
			fail(err)
			return
		}
		defer it.Close()
		for valid := it.First(); valid; valid = it.Next() {
			if err := ctx.Err(); err != nil {
				fail(err)
				return
			}
			dp, err := decodeDayPrice(asset, len(prefix), it.Key(), it.Value())
			if err != nil {
				fail(err)
				return
			}
			if !yield(dp, nil) {
				return
			}
		}
		if err := it.Error(); err != nil {
			fail(err)
		}
	}
}

func decodePrice(v []byte) (heistgraph.Price, error) {
	if len(v) != 8 {
		return 0, fmt.Errorf("price value of %d bytes: %w", len(v), errCorrupt)
	}
	return heistgraph.Price(binary.BigEndian.Uint64(v)), nil
}

// decodeDayPrice reads a price record whose key has a prefix of prefixLen
// bytes before the day.
func decodeDayPrice(asset string, prefixLen int, k, v []byte) (heistgraph.DayPrice, error) {
	if len(k) != prefixLen+8 {
		return heistgraph.DayPrice{}, fmt.Errorf("price key of %d bytes: %w", len(k), errCorrupt)
	}
	p, err := decodePrice(v)
	if err != nil {
		return heistgraph.DayPrice{}, err
	}
	return heistgraph.DayPrice{Asset: asset, Day: priceDay(binary.BigEndian.Uint64(k[prefixLen:])), USD: p}, nil
}
