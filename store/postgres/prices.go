package postgres

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heistgraph/heistgraph"
)

// maxAssetLen bounds an asset symbol, as store/pebble does.
const maxAssetLen = 20

// utcDay truncates t to its UTC day.
func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// checkPrice returns the upper-cased asset of p, or an error wrapping
// ErrInvalid naming price i.
func checkPrice(i int, p heistgraph.DayPrice) (string, error) {
	asset := strings.ToUpper(p.Asset)
	if asset == "" || len(asset) > maxAssetLen {
		return "", fmt.Errorf("price %d: asset %q: want 1 to %d bytes: %w", i, p.Asset, maxAssetLen, heistgraph.ErrInvalid)
	}
	if !p.Day.Equal(utcDay(p.Day)) || p.Day.Unix() < 0 {
		return "", fmt.Errorf("price %d (%s): day %s: want a UTC midnight from 1970 on: %w", i, asset, p.Day, heistgraph.ErrInvalid)
	}
	if p.USD <= 0 {
		return "", fmt.Errorf("price %d (%s %s): %d nano-USD: want a positive price: %w", i, asset, p.Day.Format(time.DateOnly), p.USD, heistgraph.ErrInvalid)
	}
	return asset, nil
}

// PutPrices stores ps in one transaction, replacing stored prices of the
// same asset and day. See store.Prices.
func (db *DB) PutPrices(ctx context.Context, ps []heistgraph.DayPrice) error {
	batch := &pgx.Batch{}
	for i, p := range ps {
		asset, err := checkPrice(i, p)
		if err != nil {
			return fmt.Errorf("put prices: %w", err)
		}
		batch.Queue(`INSERT INTO prices (asset, day, usd) VALUES ($1, $2, $3)
			ON CONFLICT (asset, day) DO UPDATE SET usd = excluded.usd`, asset, p.Day.Unix(), int64(p.USD))
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, batch).Close() })
	if err != nil {
		return fmt.Errorf("put prices: %w", err)
	}
	return nil
}

// PriceOn returns the price of asset on day's UTC day.
func (db *DB) PriceOn(ctx context.Context, asset string, day time.Time) (heistgraph.Price, error) {
	asset, day = strings.ToUpper(asset), utcDay(day)
	var usd int64
	err := db.pool.QueryRow(ctx, "SELECT usd FROM prices WHERE asset = $1 AND day = $2", asset, day.Unix()).Scan(&usd)
	if err != nil {
		return 0, notFound(err, "price of %s on %s", asset, day.Format(time.DateOnly))
	}
	return heistgraph.Price(usd), nil
}

// LatestPrice returns the price of asset on its newest priced day.
func (db *DB) LatestPrice(ctx context.Context, asset string) (heistgraph.DayPrice, error) {
	asset = strings.ToUpper(asset)
	p := heistgraph.DayPrice{Asset: asset}
	var day, usd int64
	err := db.pool.QueryRow(ctx, "SELECT day, usd FROM prices WHERE asset = $1 ORDER BY day DESC LIMIT 1", asset).Scan(&day, &usd)
	if err != nil {
		return heistgraph.DayPrice{}, notFound(err, "latest price of %s", asset)
	}
	p.Day, p.USD = time.Unix(day, 0).UTC(), heistgraph.Price(usd)
	return p, nil
}

// PriceHistory streams the prices of asset from from to to, in day order.
func (db *DB) PriceHistory(ctx context.Context, asset string, from, to time.Time) iter.Seq2[heistgraph.DayPrice, error] {
	return func(yield func(heistgraph.DayPrice, error) bool) {
		asset := strings.ToUpper(asset)
		lo, hi := int64(-1)<<62, int64(1)<<62
		if !from.IsZero() {
			lo = utcDay(from).Unix()
		}
		if !to.IsZero() {
			hi = utcDay(to).Unix()
		}
		rows, err := db.pool.Query(ctx, "SELECT day, usd FROM prices WHERE asset = $1 AND day BETWEEN $2 AND $3 ORDER BY day", asset, lo, hi)
		if err != nil {
			yield(heistgraph.DayPrice{}, fmt.Errorf("price history of %s: %w", asset, err))
			return
		}
		stream(ctx, rows, func(p heistgraph.DayPrice, err error) bool {
			if err != nil {
				err = fmt.Errorf("price history of %s: %w", asset, err)
			}
			return yield(p, err)
		}, func(rows pgx.Rows) (heistgraph.DayPrice, error) {
			var day, usd int64
			err := rows.Scan(&day, &usd)
			return heistgraph.DayPrice{Asset: asset, Day: time.Unix(day, 0).UTC(), USD: heistgraph.Price(usd)}, err
		})
	}
}
