package pebble

import (
	"context"
	"testing"

	"github.com/heistgraph/heistgraph/store"
)

// TestAuditSeqAcrossReopen checks that the audit log's sequence numbers
// continue after a reopen instead of starting at 1 again (which would
// overwrite the first records of an append-only log).
func TestAuditSeqAcrossReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	rec := store.AuditRecord{Time: 1, KeyID: "k", Method: "POST", Path: "/v1/labels"}
	for round := range 3 {
		db, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		last, err := db.AppendAudit(ctx, []store.AuditRecord{rec, rec})
		if err != nil {
			t.Fatal(err)
		}
		if want := uint64(2 * (round + 1)); last != want {
			t.Fatalf("round %d: last seq %d, want %d", round, last, want)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
