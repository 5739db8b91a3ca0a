package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	osexec "os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heistgraph/heistgraph"
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

// unimplemented are the conformance subtests of roles the PostgreSQL store
// does not have yet: none (kept so that a role added to storetest before
// this backend implements it is skipped here by name, with a reason).
var unimplemented = map[string]string{}

// One cluster serves every test of the package (initdb is slow).
func TestPostgres(t *testing.T) {
	c := pgtest.Start(t)
	t.Run("Conformance", func(t *testing.T) { storetest.RunExcept(t, openFunc(c), unimplemented) })
	t.Run("ConcurrentOverrides", func(t *testing.T) { testConcurrentOverrides(t, c) })
	t.Run("ConcurrentOutbox", func(t *testing.T) { testConcurrentOutbox(t, c) })
	t.Run("ConcurrentLabels", func(t *testing.T) { testConcurrentLabels(t, c) })
	t.Run("Reopen", func(t *testing.T) { testReopen(t, c) })
	t.Run("ApplyBlocks", func(t *testing.T) { testApplyBlocks(t, c) })
	t.Run("Analyze", func(t *testing.T) { testAnalyze(t, c) })
	t.Run("InterruptedMigration", func(t *testing.T) { testInterruptedMigration(t, c) })
	t.Run("LinksMigration", func(t *testing.T) { testLinksMigration(t, c) })
	t.Run("Newer", func(t *testing.T) { testNewer(t, c) })
	t.Run("Foreign", func(t *testing.T) { testForeign(t, c) })
	t.Run("Unreachable", testUnreachable)
	t.Run("WrongPassword", func(t *testing.T) { testWrongPassword(t, c) })
}

// withConn runs fn on a connection to url.
func withConn(t *testing.T, url string, fn func(ctx context.Context, conn *pgx.Conn) error) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := fn(ctx, conn); err != nil {
		t.Fatal(err)
	}
}

func exec(t *testing.T, url string, sql string) {
	t.Helper()
	withConn(t, url, func(ctx context.Context, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, sql)
		return err
	})
}

func tables(t *testing.T, url string) (names []string) {
	t.Helper()
	withConn(t, url, func(ctx context.Context, conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")
		if err != nil {
			return err
		}
		names, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return names
}

// testReopen opens a store twice: the second open finds the schema current
// and keeps the data.
func testReopen(t *testing.T, c *pgtest.Cluster) {
	url := c.NewDatabase(t)
	ctx := context.Background()
	g := storetest.NewGenerator(heistgraph.ChainBTCRegtest, 1, 5)
	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	b := g.Next()
	if err := db.ApplyBlock(ctx, b); err != nil {
		t.Fatal(err)
	}
	want, err := db.Digest(ctx, b.Chain)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = postgres.Open(ctx, url)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	if got, err := db.Digest(ctx, b.Chain); err != nil || got != want {
		t.Errorf("after reopening: digest %s, %v; want %s", got, err, want)
	}
}

func testNewer(t *testing.T, c *pgtest.Cluster) {
	url := c.NewDatabase(t)
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	newer := strconv.Itoa(postgres.SchemaVersion() + 1)
	exec(t, url, "UPDATE heistgraph_meta SET value = '"+newer+"' WHERE key = 'schema_version'")
	_, err = postgres.Open(context.Background(), url)
	if err == nil || !strings.Contains(err.Error(), "schema version "+newer+" is newer") {
		t.Errorf("open of a newer schema: error %v, want a refusal naming version %s", err, newer)
	}
}

func testForeign(t *testing.T, c *pgtest.Cluster) {
	tests := []struct{ name, sql string }{
		{"tables of another application", "CREATE TABLE invoices (id int)"},
		{"a meta table naming another application", "CREATE TABLE heistgraph_meta (key text PRIMARY KEY, value text NOT NULL); INSERT INTO heistgraph_meta VALUES ('application', 'other'), ('schema_version', '1')"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url := c.NewDatabase(t)
			exec(t, url, tc.sql)
			before := tables(t, url)
			_, err := postgres.Open(context.Background(), url)
			if !errors.Is(err, postgres.ErrForeign) {
				t.Fatalf("error %v, want one wrapping ErrForeign", err)
			}
			if after := tables(t, url); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("refused database changed: tables %v, were %v", after, before)
			}
		})
	}
}

func testUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	url := fmt.Sprintf("postgres://analyst:s3cret-pw@127.0.0.1:%d/heist?sslmode=disable&connect_timeout=5", port)
	_, err = postgres.Open(ctx, url)
	if err == nil {
		t.Fatal("open of a closed port succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, fmt.Sprintf("127.0.0.1:%d", port)) || strings.Contains(msg, "s3cret-pw") {
		t.Errorf("error %q: want host and port named, password never", msg)
	}
}

func testWrongPassword(t *testing.T, c *pgtest.Cluster) {
	url := strings.Replace(c.NewDatabase(t), pgtest.Password, "not-the-password-42", 1)
	_, err := postgres.Open(context.Background(), url)
	if err == nil {
		t.Fatal("open with a wrong password succeeded")
	}
	if strings.Contains(err.Error(), "not-the-password-42") {
		t.Errorf("error %q prints the password", err)
	}
}

// migrateChildEnv names the database TestMigrateChild migrates when it runs
// as the child process of testInterruptedMigration.
const migrateChildEnv = "HEISTGRAPH_PGTEST_MIGRATE_URL"

// TestMigrateChild is the process testInterruptedMigration kills: it
// migrates the database named by $HEISTGRAPH_PGTEST_MIGRATE_URL. It does
// nothing in a normal test run.
func TestMigrateChild(t *testing.T) {
	url := os.Getenv(migrateChildEnv)
	if url == "" {
		t.Skip("run by testInterruptedMigration only")
	}
	if _, err := postgres.Migrate(context.Background(), url); err != nil {
		t.Fatal(err)
	}
}

// testInterruptedMigration kills (SIGKILL) a process in the middle of a
// migration, held there by a table lock the test takes, and checks that
// the migration left nothing behind and that running it again completes.
func testInterruptedMigration(t *testing.T, c *pgtest.Cluster) {
	ctx := context.Background()
	url := c.NewDatabase(t)
	if err := postgres.MigrateTo(ctx, url, 2); err != nil {
		t.Fatal(err)
	}
	// Migration 3 creates chains, then reads blocks: it waits there.
	lock, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close(ctx)
	held, err := lock.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := held.Exec(ctx, "LOCK TABLE blocks IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	watch, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close(ctx)
	child := osexec.Command(os.Args[0], "-test.run=^TestMigrateChild$", "-test.count=1")
	child.Env = append(os.Environ(), migrateChildEnv+"="+url)
	var out strings.Builder
	child.Stdout, child.Stderr = &out, &out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	waiting := false
	for deadline := time.Now().Add(30 * time.Second); !waiting && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		// A separate connection: pg_stat_activity is a snapshot per transaction.
		if err := watch.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%CREATE TABLE chains%')`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	if !waiting {
		rows, _ := watch.Query(ctx, "SELECT coalesce(wait_event_type, ''), coalesce(wait_event, ''), state, left(query, 60) FROM pg_stat_activity WHERE datname = current_database()")
		dump, _ := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ A, B, C, D string }])
		t.Fatalf("the migrating process never reached migration 3: %+v\n%s", dump, out.String())
	}
	if err := held.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var version string
	if err := lock.QueryRow(ctx, "SELECT value FROM heistgraph_meta WHERE key = 'schema_version'").Scan(&version); err != nil || version != "2" {
		t.Fatalf("after the kill: schema version %q, %v; want 2 (migration 3 rolled back)", version, err)
	}
	var chains bool
	if err := lock.QueryRow(ctx, "SELECT to_regclass('chains') IS NOT NULL").Scan(&chains); err != nil || chains {
		t.Fatalf("after the kill the table migration 3 was creating exists (%v)", err)
	}
	m, err := postgres.Migrate(ctx, url)
	if err != nil {
		t.Fatalf("migrate again: %v", err)
	}
	if m != (postgres.Migration{From: 2, To: postgres.SchemaVersion()}) {
		t.Errorf("migrate again: %+v, want from 2 to %d", m, postgres.SchemaVersion())
	}
	if err := lock.QueryRow(ctx, "SELECT to_regclass('chains') IS NOT NULL").Scan(&chains); err != nil || !chains {
		t.Errorf("after migrating again the table of migration 3 is missing (%v)", err)
	}
}

// BenchmarkStore runs the store benchmarks on a throwaway PostgreSQL
// (pgtest: loopback, fsync off), each in a new database.
func BenchmarkStore(b *testing.B) {
	c := pgtest.Start(b)
	storetest.Bench(b, func(b *testing.B) store.Store {
		db, err := postgres.Open(context.Background(), c.NewDatabase(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		return db
	})
}
