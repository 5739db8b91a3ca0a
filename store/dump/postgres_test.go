package dump_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/heistgraph/heistgraph/internal/pgtest"
	"github.com/heistgraph/heistgraph/store/dump"
	"github.com/heistgraph/heistgraph/store/postgres"
)

// pgStore is a PostgreSQL store and its database.
type pgStore struct {
	*postgres.DB
	url string
}

func openPostgres(t testing.TB, c *pgtest.Cluster) pgStore {
	t.Helper()
	url := c.NewDatabase(t)
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return pgStore{db, url}
}

// analyzed returns st after ANALYZE, as autovacuum would leave it: on
// tables just loaded the planner has no statistics and reads an address's
// totals (Address) by scanning every input of the chain.
func analyzed(t testing.TB, st pgStore) pgStore {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), st.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestCrossBackend: the same random histories (reorgs on both chains,
// clustering between them, labels, tokens, overrides) written to Pebble
// and to a real PostgreSQL give byte-identical dumps, equal to the dump of
// a fresh PostgreSQL store fed only the surviving chains; the golden world
// dumps as pinned on both; and a dump restricted to one chain is that
// chain's part of the whole dump on both.
func TestCrossBackend(t *testing.T) {
	c := pgtest.Start(t)
	t.Run("golden", func(t *testing.T) {
		st := openPostgres(t, c)
		run(t, st, newWorld(smallWorld).history)
		want := dumpOf(t, openPebbleWith(t, newWorld(smallWorld).history), dump.Options{})
		if got := dumpOf(t, analyzed(t, st), dump.Options{}); !bytes.Equal(got, want) {
			t.Errorf("PostgreSQL and Pebble differ:\n%s", firstDiff(got, want))
		}
	})
	for seed := uint64(20); seed < 21; seed++ {
		w := newWorld(worldParams{seed: seed, blocks: 10, txsPerBlock: 8, reorgs: 3, evmBlocks: 8})
		pg, fresh := openPostgres(t, c), openPostgres(t, c)
		run(t, pg, w.history)
		run(t, fresh, w.final)
		analyzed(t, pg)
		analyzed(t, fresh)
		want := dumpOf(t, openPebbleWith(t, w.history), dump.Options{})
		if got := dumpOf(t, pg, dump.Options{}); !bytes.Equal(got, want) {
			t.Errorf("seed %d: PostgreSQL and Pebble differ:\n%s", seed, firstDiff(got, want))
		}
		if got := dumpOf(t, fresh, dump.Options{}); !bytes.Equal(got, want) {
			t.Errorf("seed %d: a fresh PostgreSQL store of the surviving chains differs:\n%s", seed, firstDiff(got, want))
		}
		for _, ch := range []string{string(utxoChain), string(evmChain), "evm"} {
			got := dumpOf(t, pg, dump.Options{Chain: chainOf(ch)})
			if want := linesOf(want, ch); !bytes.Equal(got, want) {
				t.Errorf("seed %d: dump of chain %s differs from its lines in the whole dump:\n%s", seed, ch, firstDiff(got, want))
			}
		}
	}
}
