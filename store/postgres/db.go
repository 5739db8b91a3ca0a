package postgres

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// ErrForeign reports a database that holds another application's tables:
// Open refuses it and writes nothing.
var ErrForeign = errForeign

// DB is a heistgraph store in a PostgreSQL database. It is safe for
// concurrent use, and several processes may open one database at once.
type DB struct {
	pool    *pgxpool.Pool
	claimID string // names this DB's claims on webhook outboxes (alerts.go)
	analyze analyzer
}

var (
	_ store.Store        = (*DB)(nil)
	_ store.BlockBatcher = (*DB)(nil)
	_ store.Statser      = (*DB)(nil)
)

// Open connects to the database at url (postgres://user:password@host:port/db
// or a key=value connection string), runs the missing migrations and returns
// the store. Errors name the host and port, never the password.
func Open(ctx context.Context, url string) (*DB, error) {
	pool, _, err := connect(ctx, url, len(migrations))
	if err != nil {
		return nil, err
	}
	return &DB{pool: pool, claimID: newClaimID(), analyze: analyzer{held: -1}}, nil
}

// Migration is what Migrate did: the schema version it found (0 for an
// empty database) and the version it left.
type Migration struct {
	From, To int
}

// Migrate connects to the database at url and brings its schema to this
// binary's version, as Open does, and says what it did.
func Migrate(ctx context.Context, url string) (Migration, error) {
	pool, m, err := connect(ctx, url, len(migrations))
	if err != nil {
		return Migration{}, err
	}
	pool.Close()
	return m, nil
}

// connect opens a pool on url and migrates the schema up to version upto.
func connect(ctx context.Context, url string, upto int) (*pgxpool.Pool, Migration, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors quote no password, but the URL may be
		// malformed anywhere: say only what kind it is.
		return nil, Migration{}, fmt.Errorf("postgres: bad connection string: %w", heistgraph.ErrInvalid)
	}
	where := net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port)))
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, Migration{}, fmt.Errorf("postgres at %s: %w", where, err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		pool.Close()
		return nil, Migration{}, fmt.Errorf("postgres at %s database %s: %w", where, cfg.ConnConfig.Database, redact(err, cfg.ConnConfig.Password))
	}
	var m Migration
	m.From, m.To, err = migrate(ctx, conn.Conn(), upto)
	conn.Release()
	if err != nil {
		pool.Close()
		return nil, Migration{}, fmt.Errorf("postgres at %s database %s: %w", where, cfg.ConnConfig.Database, redact(err, cfg.ConnConfig.Password))
	}
	return pool, m, nil
}

// Sync does nothing: every write is one committed transaction, durable
// when it returns (as the server's synchronous_commit setting defines).
func (db *DB) Sync() error { return nil }

// Close releases the connections.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}
