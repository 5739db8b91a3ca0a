package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/heistgraph/heistgraph/internal/pgtest"
	"github.com/heistgraph/heistgraph/store/postgres"
)

// testLinksMigration checks the migration that added open links (15): a
// link stored by schema 14 reads back unchanged, with no address and no
// memo.
func testLinksMigration(t *testing.T, c *pgtest.Cluster) {
	ctx := context.Background()
	url := c.NewDatabase(t)
	if err := postgres.MigrateTo(ctx, url, 14); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO links VALUES ('thorchain', 'btc', 'aa', 0, 'BTC', 100, 1,
		'eth', '0xbb', 3, 'native', 1500, 2, 'exact', false)`); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ls, err := db.LinksOfTx(ctx, "eth", "0xBB")
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 1 || ls[0].Open() || ls[0].Dst.Address != "" || ls[0].Memo != "" || ls[0].Src.TxID != "aa" ||
		ls[0].Dst.Amount.Uint64() != 1500 || ls[0].DstHeight != 2 {
		t.Errorf("the link of schema 14 after the migration: %+v", ls)
	}
}
