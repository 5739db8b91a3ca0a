package pgtest

import (
	"context"
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
