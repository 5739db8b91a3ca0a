package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// ErrNotImplemented reports a store role the PostgreSQL backend does not
// have yet.
var ErrNotImplemented = errors.New("not implemented by the PostgreSQL store yet")

// ErrForeign reports a database that holds another application's tables:
// Open refuses it and writes nothing.
var ErrForeign = errForeign

// DB is a heistgraph store in a PostgreSQL database. It is safe for
// concurrent use, and several processes may open one database at once.
type DB struct {
	pool    *pgxpool.Pool
	claimID string // names this DB's claims on webhook outboxes (alerts.go)
	unimplemented
}

var _ store.Store = (*DB)(nil)

// Open connects to the database at url (postgres://user:password@host:port/db
// or a key=value connection string), runs the missing migrations and returns
// the store. Errors name the host and port, never the password.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors quote no password, but the URL may be
		// malformed anywhere: say only what kind it is.
		return nil, fmt.Errorf("postgres: bad connection string: %w", heistgraph.ErrInvalid)
	}
	where := net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port)))
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres at %s: %w", where, err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres at %s database %s: %w", where, cfg.ConnConfig.Database, redact(err, cfg.ConnConfig.Password))
	}
	err = migrate(ctx, conn.Conn())
	conn.Release()
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres at %s database %s: %w", where, cfg.ConnConfig.Database, err)
	}
	return &DB{pool: pool, claimID: newClaimID()}, nil
}

// Sync does nothing: every write is one committed transaction, durable
// when it returns (as the server's synchronous_commit setting defines).
func (db *DB) Sync() error { return nil }

// Close releases the connections.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}
