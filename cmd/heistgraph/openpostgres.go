package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/postgres"
)

// openPostgres opens the PostgreSQL store at url (--store). A malformed URL
// is a usage error (exit 2); an unreachable database, or one the store
// refuses, is exit 1 with an error naming host and port, never the
// password.
func openPostgres(ctx context.Context, url string) (store.Store, error) {
	db, err := postgres.Open(ctx, url)
	if errors.Is(err, heistgraph.ErrInvalid) {
		return nil, usageError{fmt.Errorf("--store: %w", err)}
	}
	if err != nil {
		return nil, err
	}
	return db, nil
}
