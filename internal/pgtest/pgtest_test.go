package pgtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestCluster(t *testing.T) {
	c := Start(t)
	ctx := context.Background()
	urls := []string{c.NewDatabase(t), c.NewDatabase(t)}
	if urls[0] == urls[1] {
		t.Fatalf("two databases with one URL %s", urls[0])
	}
	for i, u := range urls {
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatalf("connect to database %d: %v", i, err)
		}
		if _, err := conn.Exec(ctx, "CREATE TABLE t (x int)"); err != nil {
			t.Errorf("create a table in database %d: %v", i, err)
		}
		conn.Close(ctx)
	}
	bad := c.URL("postgres")
	cfg, err := pgx.ParseConfig(bad)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Password = "wrong"
	if conn, err := pgx.ConnectConfig(ctx, cfg); err == nil {
		conn.Close(ctx)
		t.Errorf("a wrong password connected: the cluster does not check passwords")
	}
}

// TestStartN: three clusters on three ports, each with postgres_fdw, and a
// foreign table on one reads a table on another.
func TestStartN(t *testing.T) {
	cs := StartN(t, 3, "postgres_fdw")
	ctx := context.Background()
	ports := map[int]bool{}
	for _, c := range cs {
		ports[c.Port] = true
	}
	if len(ports) != 3 {
		t.Fatalf("three clusters on ports %v", ports)
	}
	remote, local := cs[1].NewDatabase(t), cs[0].NewDatabase(t)
	run := func(url string, sqls ...string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		for _, sql := range sqls {
			if _, err := conn.Exec(ctx, sql); err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
		}
	}
	run(remote, "CREATE TABLE t (x int)", "INSERT INTO t VALUES (41), (1)")
	cfg, err := pgx.ParseConfig(remote)
	if err != nil {
		t.Fatal(err)
	}
	run(local, "CREATE EXTENSION postgres_fdw",
		fmt.Sprintf("CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '%s', port '%d', dbname '%s')", cfg.Host, cfg.Port, cfg.Database),
		fmt.Sprintf("CREATE USER MAPPING FOR CURRENT_USER SERVER s OPTIONS (user '%s', password '%s')", User, Password),
		"CREATE FOREIGN TABLE ft (x int) SERVER s OPTIONS (table_name 't')")
	conn, err := pgx.Connect(ctx, local)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var sum int
	if err := conn.QueryRow(ctx, "SELECT sum(x) FROM ft").Scan(&sum); err != nil || sum != 42 {
		t.Errorf("sum over the foreign table: %d, %v; want 42", sum, err)
	}
}
