package pebble

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph/store"
)

func auditRecs(from, n int) []store.AuditRecord {
	recs := make([]store.AuditRecord, n)
	for i := range recs {
		recs[i] = store.AuditRecord{Time: int64(1700000000 + from + i), KeyID: fmt.Sprintf("k%d", from+i), Method: "POST",
			Path: "/v1/screen", Items: (from + i) % 7, Status: 200, Risk: []string{"none", "low", "severe"}[(from+i)%3]}
	}
	return recs
}

// readAudit returns the whole log of q, failing on an error.
func readAudit(t *testing.T, db *DB, q store.AuditQuery) []store.AuditRecord {
	t.Helper()
	var out []store.AuditRecord
	for r, err := range db.AuditLog(context.Background(), q) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// checkAudit checks that the log holds records 1..n as auditRecs gave
// them, whole and from every After/Limit pair of a sample.
func checkAudit(t *testing.T, db *DB, n int) {
	t.Helper()
	want := auditRecs(0, n)
	for i := range want {
		want[i].Seq = uint64(i + 1)
	}
	got := readAudit(t, db, store.AuditQuery{})
	if len(got) != n {
		t.Fatalf("log holds %d records, want %d", len(got), n)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("record %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, after := range []int{0, 1, n / 3, n / 2, n - 1, n, n + 5} {
		for _, limit := range []int{0, 1, 7, auditIndexEvery + 3} {
			got := readAudit(t, db, store.AuditQuery{After: uint64(after), Limit: limit})
			w := want[min(after, n):]
			if limit > 0 && len(w) > limit {
				w = w[:limit]
			}
			if len(got) != len(w) || len(w) > 0 && (got[0] != w[0] || got[len(got)-1] != w[len(w)-1]) {
				t.Fatalf("after %d limit %d: %d records (%v…), want %d", after, limit, len(got), got[:min(1, len(got))], len(w))
			}
		}
	}
}

// TestAuditFile appends batches of every size across reopens, past the
// index's spacing, and reads them back from every position.
func TestAuditFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	n := 0
	for round, sizes := range [][]int{{1, 2, 3}, {auditIndexEvery, 1}, {5000, 17, auditIndexEvery * 2}} {
		db, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range sizes {
			last, err := db.AppendAudit(ctx, auditRecs(n, k))
			if err != nil {
				t.Fatal(err)
			}
			n += k
			if last != uint64(n) {
				t.Fatalf("round %d: last seq %d, want %d", round, last, n)
			}
			checkAudit(t, db, n)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	checkAudit(t, ro, n)
	if _, err := ro.AppendAudit(ctx, auditRecs(0, 1)); err == nil {
		t.Fatal("a read-only store appended an audit record")
	}
}

// TestAuditFileTornTail cuts the last batch's frame at every length (a
// crash in the middle of its write): the batch is lost whole, the earlier
// ones stay, and the next append continues their numbering.
func TestAuditFileTornTail(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AppendAudit(ctx, auditRecs(0, 3)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, auditFileName)
	whole, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	// The bytes of a frame of 2 more records, as an append writes them.
	var a auditFile
	frame := func() []byte {
		var recs []byte
		for _, r := range auditRecs(3, 2) {
			recs = appendAuditRecord(recs, &r)
		}
		f := vfs.NewMem()
		file, err := f.Create("x", vfs.WriteCategoryUnspecified)
		if err != nil {
			t.Fatal(err)
		}
		a.f = file
		if err := a.append(4, 2, recs, true); err != nil {
			t.Fatal(err)
		}
		return a.buf
	}()
	for cut := 1; cut < len(frame); cut++ {
		if err := os.WriteFile(name, append(append([]byte(nil), whole...), frame[:cut]...), 0o644); err != nil {
			t.Fatal(err)
		}
		db, err := Open(dir, Options{})
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		checkAudit(t, db, 3)
		if st, err := os.Stat(name); err != nil || st.Size() != int64(len(whole)) {
			t.Fatalf("cut %d: the torn frame was not cut off (%v)", cut, err)
		}
		if last, err := db.AppendAudit(ctx, auditRecs(3, 2)); err != nil || last != 5 {
			t.Fatalf("cut %d: append after recovery: last %d, %v", cut, last, err)
		}
		checkAudit(t, db, 5)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, whole, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The whole frame is a whole batch.
	if err := os.WriteFile(name, append(append([]byte(nil), whole...), frame...), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkAudit(t, db, 5)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// A damaged header is an error naming the file, not an empty log.
	if err := os.WriteFile(name, append([]byte("xx"), whole[2:]...), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{}); err == nil || !errors.Is(err, errCorrupt) {
		t.Fatalf("open with a damaged header: %v", err)
	}
}

// TestAuditSyncsEarlierWrites holds AppendAudit to its contract on a file
// system that loses what was not synced: a write made without a sync, then
// an audit record, both survive a crash right after AppendAudit returns;
// without the record, the write is lost (so the test can fail).
func TestAuditSyncsEarlierWrites(t *testing.T) {
	ctx := context.Background()
	for _, audit := range []bool{true, false} {
		fs, db := openCrashable(t)
		b := db.db.NewBatch()
		if err := b.Set([]byte("zz-test"), []byte("v"), nil); err != nil {
			t.Fatal(err)
		}
		if err := db.commit(b); err != nil {
			t.Fatal(err)
		}
		if audit {
			if _, err := db.AppendAudit(ctx, auditRecs(0, 2)); err != nil {
				t.Fatal(err)
			}
		}
		crashed := fs.CrashClone(vfs.CrashCloneCfg{})
		_ = db.Close()
		db, err := Open("d", Options{FS: crashed})
		if err != nil {
			t.Fatal(err)
		}
		_, found, err := lookup(db.db, []byte("zz-test"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if found != audit {
			t.Errorf("audit appended %v: the write made before survived the crash: %v, want %v", audit, found, audit)
		}
		if audit {
			checkAudit(t, db, 2)
		}
		_ = db.Close()
	}
}

// TestAuditBuffered holds AppendAuditBuffered to its contract: its records
// survive the process (a reopen), not the machine (a crash of a file system
// that loses what was not synced) until SyncAudit or a synced append, which
// covers them.
func TestAuditBuffered(t *testing.T) {
	ctx := context.Background()
	for _, then := range []string{"nothing", "SyncAudit", "AppendAudit"} {
		fs, db := openCrashable(t)
		if _, err := db.AppendAudit(ctx, auditRecs(0, 2)); err != nil {
			t.Fatal(err)
		}
		if last, err := db.AppendAuditBuffered(ctx, auditRecs(2, 3)); err != nil || last != 5 {
			t.Fatalf("buffered append: last %d, %v", last, err)
		}
		checkAudit(t, db, 5)
		want := 2
		switch then {
		case "SyncAudit":
			if err := db.SyncAudit(ctx); err != nil {
				t.Fatal(err)
			}
			want = 5
		case "AppendAudit":
			if _, err := db.AppendAudit(ctx, auditRecs(5, 1)); err != nil {
				t.Fatal(err)
			}
			want = 6
		}
		crashed := fs.CrashClone(vfs.CrashCloneCfg{})
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		// The process's end (Close) kept everything.
		db, err := Open("d", Options{FS: fs})
		if err != nil {
			t.Fatal(err)
		}
		checkAudit(t, db, max(want, 5))
		_ = db.Close()
		// The machine's crash kept what was synced.
		db, err = Open("d", Options{FS: crashed})
		if err != nil {
			t.Fatal(err)
		}
		checkAudit(t, db, want)
		if last, err := db.AppendAudit(ctx, auditRecs(want, 1)); err != nil || last != uint64(want+1) {
			t.Fatalf("%s: append after the crash: last %d, %v", then, last, err)
		}
		_ = db.Close()
	}
}

// openCrashable opens a store in the folder d of a file system that a
// crash clone (CrashClone) can take back to what was synced.
func openCrashable(t *testing.T) (*vfs.MemFS, *DB) {
	t.Helper()
	fs := vfs.NewCrashableMem()
	if err := fs.MkdirAll("d", 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := Open("d", Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	return fs, db
}
