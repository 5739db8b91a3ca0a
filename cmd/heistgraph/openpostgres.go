package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/store/pebble"
	"github.com/heistgraph/heistgraph/store/postgres"
)

// openPostgres opens the PostgreSQL store at url (--store), with the
// built-in labels seeded as the embedded store has them (a no-op when the
// database holds this binary's version). A malformed URL is a usage error
// (exit 2); an unreachable database, or one the store refuses, is exit 1
// with an error naming host and port, never the password.
func openPostgres(ctx context.Context, url string) (store.Store, error) {
	db, err := postgres.Open(ctx, url)
	if err != nil {
		return nil, postgresError(err)
	}
	if err := seedBuiltin(ctx, db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	return db, nil
}

// postgresError makes a malformed --store URL a usage error.
func postgresError(err error) error {
	if errors.Is(err, heistgraph.ErrInvalid) {
		return usageError{fmt.Errorf("--store: %w", err)}
	}
	return err
}

// storeMigrateCmd is `store migrate`: the PostgreSQL schema brought to
// this binary's version (what every command does when it opens the
// database), as a step of its own for an operator upgrading heistgraph.
func (a *app) storeMigrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Bring the schema of a PostgreSQL store (--store postgres://...) to this binary's version",
		Long: `Bring the schema of a PostgreSQL store (--store postgres://...) to this binary's version, one
migration per transaction: a run that is interrupted leaves the database at its last complete
version, and running the command again completes it. A database whose schema is newer than this
binary, or that holds another application's tables, is refused and left unchanged (exit 1).
Every command migrates the database when it opens it; this runs that step alone. The embedded
store (--data) is migrated the same way by its first read-write open: a store of schema 11 gets
its table of unspent outputs built from its outputs and spend markers (a read of every output;
a store killed meanwhile is migrated again at its next open); this runs that step alone too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			backend, err := a.backend()
			if err != nil {
				return err
			}
			v := struct {
				Backend string `json:"backend"`
				From    *int   `json:"from_version,omitempty"` // PostgreSQL only
				To      *int   `json:"to_version,omitempty"`
				Applied int    `json:"applied"`
			}{Backend: backend}
			if backend == backendPebble {
				return a.migratePebble(cmd.Context())
			}
			m, err := postgres.Migrate(cmd.Context(), a.storeURL)
			if err != nil {
				return postgresError(err)
			}
			v.From, v.To, v.Applied = &m.From, &m.To, m.To-m.From
			return a.emit(v, func(w io.Writer) error {
				printf(w, "schema version %d (was %d: %d migrations applied)\n", m.To, m.From, v.Applied)
				return nil
			})
		},
	}
}

// migratePebble is store migrate for the embedded store: a --data folder
// without a store is left as it is, and a store is opened read-write,
// which migrates it (pebble.DB.MigratedFrom).
func (a *app) migratePebble(ctx context.Context) error {
	v := struct {
		Backend string `json:"backend"`
		From    *int   `json:"from_version,omitempty"`
		To      *int   `json:"to_version,omitempty"`
		Applied int    `json:"applied"`
	}{Backend: backendPebble}
	opts := pebble.DefaultOptions()
	opts.ReadOnly = true
	db, err := pebble.Open(a.dataDir, opts)
	if errors.Is(err, pebble.ErrNoStore) {
		return a.emit(v, func(w io.Writer) error {
			printf(w, "no store at %s: nothing to migrate\n", a.dataDir)
			return nil
		})
	}
	if err != nil {
		return openError(a.dataDir, err)
	}
	if err := db.Close(); err != nil {
		return err
	}
	from, to := pebble.SchemaVersion, pebble.SchemaVersion
	if err := a.withStore(ctx, func(st store.Store) error {
		if db, ok := st.(*pebble.DB); ok && db.MigratedFrom() != 0 {
			from = db.MigratedFrom()
		}
		return nil
	}); err != nil {
		return err
	}
	v.From, v.To, v.Applied = &from, &to, to-from
	return a.emit(v, func(w io.Writer) error {
		printf(w, "the embedded store at %s: schema version %d (was %d: %d migrations applied)\n", a.dataDir, to, from, v.Applied)
		return nil
	})
}
