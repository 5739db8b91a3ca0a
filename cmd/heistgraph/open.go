package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// openStore opens the backend the global flags select: PostgreSQL for a
// postgres:// --store URL, otherwise the embedded store at --data.
func (a *app) openStore(ctx context.Context) (store.Store, error) {
	scheme := ""
	if a.storeURL != "" {
		u, err := url.Parse(a.storeURL)
		if err != nil {
			return nil, usageError{fmt.Errorf("--store %q: %w", a.storeURL, err)}
		}
		scheme = strings.ToLower(u.Scheme)
	}
	switch scheme {
	case "":
		opts := pebble.DefaultOptions()
		opts.Logger = a.logger()
		db, err := pebble.Open(a.dataDir, opts)
		if err != nil {
			return nil, fmt.Errorf("open store %s: %w", a.dataDir, err)
		}
		if err := seedBuiltin(ctx, db); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("open store %s: %w", a.dataDir, err)
		}
		return db, nil
	case "postgres", "postgresql":
		return nil, usageError{fmt.Errorf("--store %s: the PostgreSQL backend is not built yet (use the embedded store with --data): %w", scheme, heistgraph.ErrInvalid)}
	default:
		return nil, usageError{fmt.Errorf("--store: unknown scheme %q (want postgres://, or no --store for the embedded store): %w", scheme, heistgraph.ErrInvalid)}
	}
}

// withStore opens the store, runs fn and closes it, reporting the first error.
func (a *app) withStore(ctx context.Context, fn func(store.Store) error) (err error) {
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close store: %w", cerr)
		}
	}()
	return fn(st)
}

// withReader is withStore for read-only commands.
func (a *app) withReader(ctx context.Context, fn func(store.ChainReader) error) error {
	return a.withStore(ctx, func(st store.Store) error { return fn(st) })
}
