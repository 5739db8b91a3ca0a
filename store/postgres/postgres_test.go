package postgres_test

import (
	"context"
	"testing"

	"github.com/heistgraph/heistgraph/internal/pgtest"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/postgres"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// openFunc returns a storetest open function: each call opens the store
// in a new database of cluster c and closes it when the test ends.
func openFunc(c *pgtest.Cluster) func(t *testing.T) store.Store {
	return func(t *testing.T) store.Store {
		t.Helper()
		db, err := postgres.Open(context.Background(), c.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
}

func TestConformance(t *testing.T) {
	c := pgtest.Start(t)
	storetest.Run(t, openFunc(c))
}
