package pgtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heistgraph/heistgraph/internal/btcdtest"
)

// StartN starts n independent clusters, each as Start does (its own
// temporary directory and loopback port, stopped when tb ends), for tests
// that spread one schema over several servers. Every extension named must
// be available on the clusters (postgres_fdw comes with Debian's
// postgresql package); when one is not, tb skips, or fails when real
// components are required.
func StartN(tb testing.TB, n int, extensions ...string) []*Cluster {
	tb.Helper()
	cs := make([]*Cluster, n)
	for i := range cs {
		cs[i] = Start(tb)
	}
	if len(cs) == 0 {
		return cs
	}
	for _, ext := range extensions {
		if err := cs[0].available(ext); err != nil {
			if btcdtest.Required() {
				tb.Fatalf("%v; real components are required here (CI or HEISTGRAPH_REQUIRE_NODES=1)", err)
			}
			tb.Skipf("%v", err)
		}
	}
	return cs
}

// available reports whether extension ext can be created on c. Every
// cluster pgtest starts uses one installation, so one answers for all.
func (c *Cluster) available(ext string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("pgtest: connect: %w", err)
	}
	defer conn.Close(ctx)
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT count(*) > 0 FROM pg_available_extensions WHERE name = $1", ext).Scan(&ok); err != nil {
		return fmt.Errorf("pgtest: available extensions: %w", err)
	}
	if !ok {
		return fmt.Errorf("postgresql: extension %s is not installed in %s (run %s)", ext, c.bin, SetupScript)
	}
	return nil
}

// Log returns the server log of c so far (what auto_explain writes, for
// one).
func (c *Cluster) Log() ([]byte, error) {
	return os.ReadFile(filepath.Join(c.dir, "log"))
}
