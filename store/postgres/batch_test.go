package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/pgtest"
	"github.com/heistgraph/heistgraph/store/postgres"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// open opens the store in a new database of c.
func open(t *testing.T, c *pgtest.Cluster) (*postgres.DB, string) {
	t.Helper()
	url := c.NewDatabase(t)
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, url
}

// digestOf returns the digest and tip height (-1: nothing stored) of chain.
func digestOf(t *testing.T, db *postgres.DB, chain heistgraph.Chain) string {
	t.Helper()
	ctx := context.Background()
	d, err := db.Digest(ctx, chain)
	if err != nil {
		t.Fatal(err)
	}
	tip := int64(-1)
	if ref, err := db.Tip(ctx, chain); err == nil {
		tip = ref.Height
	} else if !errors.Is(err, heistgraph.ErrNotFound) {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s tip %d", d, tip)
}

// sequential returns the digest of bs applied one at a time with
// ApplyBlock in a new database: what ApplyBlocks must equal.
func sequential(t *testing.T, c *pgtest.Cluster, bs []*heistgraph.Block) string {
	t.Helper()
	db, _ := open(t, c)
	for _, b := range bs {
		if err := db.ApplyBlock(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	return digestOf(t, db, heistgraph.ChainBTCRegtest)
}

// testApplyBlocks: batches of random sizes, overlapping (blocks already
// stored are skipped), leave what ApplyBlock one block at a time leaves;
// a conflict in the middle of a batch applies the blocks before it and
// names the block; a malformed block writes nothing; a rewind into the
// middle of a batch is exact.
func testApplyBlocks(t *testing.T, c *pgtest.Cluster) {
	ctx := context.Background()
	chain := heistgraph.ChainBTCRegtest
	g := storetest.NewGenerator(chain, 3, 6)
	var bs []*heistgraph.Block
	for range 60 {
		bs = append(bs, g.Next())
	}

	t.Run("batches", func(t *testing.T) {
		want := sequential(t, c, bs)
		db, _ := open(t, c)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < len(bs); {
			n := 1 + rng.IntN(12)
			from := max(0, i-rng.IntN(3)) // some blocks again: no-ops
			to := min(len(bs), i+n)
			if _, err := db.ApplyBlocks(ctx, bs[from:to]); err != nil {
				t.Fatalf("blocks %d-%d: %v", from, to-1, err)
			}
			i = to
		}
		if got := digestOf(t, db, chain); got != want {
			t.Errorf("batched: %s, one at a time: %s", got, want)
		}
		// The whole chain again: nothing changes.
		if _, err := db.ApplyBlocks(ctx, bs); err != nil {
			t.Fatal(err)
		}
		if got := digestOf(t, db, chain); got != want {
			t.Errorf("after applying every block again: %s, want %s", got, want)
		}
	})

	t.Run("conflict", func(t *testing.T) {
		// Blocks 0-29 stored; a batch of 25-34 whose block 31 is another
		// block at height 28.
		db, _ := open(t, c)
		if _, err := db.ApplyBlocks(ctx, bs[:30]); err != nil {
			t.Fatal(err)
		}
		other := *bs[28]
		other.Hash[0] ^= 0xff
		batch := append(append(append([]*heistgraph.Block(nil), bs[25:31]...), &other), bs[31:35]...)
		_, err := db.ApplyBlocks(ctx, batch)
		if !errors.Is(err, heistgraph.ErrConflict) || !strings.Contains(err.Error(), "block 28 "+other.Hash.String()) {
			t.Fatalf("error %v, want a conflict naming block 28 %s", err, other.Hash)
		}
		if got, want := digestOf(t, db, chain), sequential(t, c, bs[:31]); got != want {
			t.Errorf("after the conflict: %s, want blocks 0-30: %s", got, want)
		}
		// A block stored at another height is a conflict too.
		moved := *bs[5]
		moved.Height = 31
		if _, err := db.ApplyBlocks(ctx, []*heistgraph.Block{&moved}); !errors.Is(err, heistgraph.ErrConflict) {
			t.Errorf("block 5 again at height 31: %v, want a conflict", err)
		}
	})

	t.Run("invalid", func(t *testing.T) {
		db, _ := open(t, c)
		dup := *bs[4]
		dup.Txs = append(append([]heistgraph.Tx(nil), dup.Txs...), dup.Txs[len(dup.Txs)-1])
		other := *bs[3]
		other.Chain = heistgraph.ChainBTCTestnet
		for name, batch := range map[string][]*heistgraph.Block{
			"a tx twice":  {bs[0], bs[1], bs[2], bs[3], &dup},
			"two chains":  {bs[0], bs[1], bs[2], &other},
			"a nil block": {bs[0], nil},
		} {
			if _, err := db.ApplyBlocks(ctx, batch); !errors.Is(err, heistgraph.ErrInvalid) {
				t.Errorf("%s: %v, want ErrInvalid", name, err)
			}
			if got, want := digestOf(t, db, chain), sequential(t, c, nil); got != want {
				t.Errorf("%s: store holds %s, want nothing (%s)", name, got, want)
			}
		}
	})

	t.Run("rewind", func(t *testing.T) {
		db, _ := open(t, c)
		for i := 0; i < len(bs); i += 20 {
			if _, err := db.ApplyBlocks(ctx, bs[i:i+20]); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.RewindTo(ctx, chain, 33); err != nil {
			t.Fatal(err)
		}
		if got, want := digestOf(t, db, chain), sequential(t, c, bs[:34]); got != want {
			t.Errorf("rewound to 33: %s, want blocks 0-33: %s", got, want)
		}
		// A competing branch from 34 on, batched.
		f := storetest.NewGenerator(chain, 3, 6)
		for range 34 {
			f.Next()
		}
		f = f.Fork(5)
		var branch []*heistgraph.Block
		for range 30 {
			branch = append(branch, f.Next())
		}
		if _, err := db.ApplyBlocks(ctx, branch); err != nil {
			t.Fatal(err)
		}
		if got, want := digestOf(t, db, chain), sequential(t, c, append(append([]*heistgraph.Block(nil), bs[:34]...), branch...)); got != want {
			t.Errorf("after the new branch: %s, want %s", got, want)
		}
	})
}

// testAnalyze: a bulk load leaves the chain tables analyzed (the planner
// knows their rows), without waiting for autovacuum.
func testAnalyze(t *testing.T, c *pgtest.Cluster) {
	ctx := context.Background()
	db, url := open(t, c)
	g := storetest.NewGenerator(heistgraph.ChainBTCRegtest, 4, 40)
	var bs []*heistgraph.Block
	for range 300 { // ~12,000 transactions, ~40,000 rows
		bs = append(bs, g.Next())
	}
	for i := 0; i < len(bs); i += 50 {
		if _, err := db.ApplyBlocks(ctx, bs[i:i+50]); err != nil {
			t.Fatal(err)
		}
	}
	withConn(t, url, func(ctx context.Context, conn *pgx.Conn) error {
		var n int
		var est, real float64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM outputs").Scan(&n); err != nil {
			return err
		}
		if err := conn.QueryRow(ctx, "SELECT reltuples, (SELECT count(*) FROM pg_stat_user_tables WHERE relname IN ('blocks', 'txs', 'outputs', 'inputs') AND last_analyze IS NOT NULL) FROM pg_class WHERE oid = 'outputs'::regclass").Scan(&est, &real); err != nil {
			return err
		}
		if real != 4 || est < float64(n)/2 {
			t.Errorf("after loading %d outputs: %v of 4 chain tables analyzed, outputs estimated at %v rows", n, real, est)
		}
		return nil
	})
}
