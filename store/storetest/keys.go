package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

func mkKey(id, secret, role string) store.APIKey {
	return store.APIKey{ID: id, Hash: sha256.Sum256([]byte(secret)), Role: role, TLPMax: "green", Created: 1700000000}
}

// testKeys covers PutKey, KeyByHash, APIKeys and RevokeKey: lookup by the
// hash of the secret only, id order, conflicts on a reused id or secret,
// and revocation that keeps its first time.
func testKeys(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := open(t)
	b := mkKey("b2", "secret-b", "viewer")
	b.Entity = "Exchange X"
	a := mkKey("a1", "secret-a", "admin")
	for _, k := range []store.APIKey{b, a} {
		if err := st.PutKey(ctx, k); err != nil {
			t.Fatalf("put key %s: %v", k.ID, err)
		}
	}
	got, err := st.KeyByHash(ctx, sha256.Sum256([]byte("secret-b")))
	if err != nil || got != b {
		t.Fatalf("key by hash = %+v, %v; want %+v", got, err, b)
	}
	if _, err := st.KeyByHash(ctx, sha256.Sum256([]byte("secret-c"))); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Errorf("unknown secret: err %v, want ErrNotFound", err)
	}
	if err := st.PutKey(ctx, mkKey("a1", "other", "viewer")); !errors.Is(err, heistgraph.ErrConflict) {
		t.Errorf("reused id: err %v, want ErrConflict", err)
	}
	if err := st.PutKey(ctx, mkKey("c3", "secret-a", "viewer")); !errors.Is(err, heistgraph.ErrConflict) {
		t.Errorf("reused secret: err %v, want ErrConflict", err)
	}
	if _, err := st.KeyByHash(ctx, sha256.Sum256([]byte("other"))); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Errorf("a refused key was stored: %v", err)
	}
	for _, k := range []store.APIKey{{Role: "admin", Hash: a.Hash}, {ID: "x", Hash: sha256.Sum256([]byte("x"))}, {ID: "y", Role: "admin"}} {
		if err := st.PutKey(ctx, k); !errors.Is(err, heistgraph.ErrInvalid) {
			t.Errorf("put %+v: err %v, want ErrInvalid", k, err)
		}
	}
	if err := st.RevokeKey(ctx, "a1", 1700000100); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if err := st.RevokeKey(ctx, "a1", 1700000200); err != nil {
		t.Fatalf("revoke again: %v", err)
	}
	if err := st.RevokeKey(ctx, "zz", 1); !errors.Is(err, heistgraph.ErrNotFound) {
		t.Errorf("revoke unknown: err %v, want ErrNotFound", err)
	}
	var ids []string
	for k, err := range st.APIKeys(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, k.ID)
		if k.ID == "a1" && k.Revoked != 1700000100 {
			t.Errorf("a1 revoked at %d, want the first revocation 1700000100", k.Revoked)
		}
		if k.ID == "b2" && k != b {
			t.Errorf("b2 = %+v, want %+v", k, b)
		}
	}
	if len(ids) != 2 || ids[0] != "a1" || ids[1] != "b2" {
		t.Errorf("keys = %v, want [a1 b2]", ids)
	}
	if got, err := st.KeyByHash(ctx, a.Hash); err != nil || got.Revoked == 0 {
		t.Errorf("a revoked key must still be found (revoked): %+v, %v", got, err)
	}
}

func auditLog(t *testing.T, st store.Audit, q store.AuditQuery) []store.AuditRecord {
	t.Helper()
	var out []store.AuditRecord
	for r, err := range st.AuditLog(context.Background(), q) {
		if err != nil {
			t.Fatalf("audit log %+v: %v", q, err)
		}
		out = append(out, r)
	}
	return out
}

// testAudit covers AppendAudit and AuditLog: sequence numbers in order
// across batches, all fields kept, paging with After and Limit, invalid
// records refused with nothing of their batch stored.
func testAudit(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := open(t)
	if got := auditLog(t, st, store.AuditQuery{}); len(got) != 0 {
		t.Fatalf("empty log holds %v", got)
	}
	if last, err := st.AppendAudit(ctx, nil); err != nil || last != 0 {
		t.Errorf("empty batch: %d, %v", last, err)
	}
	first := []store.AuditRecord{
		{Seq: 99, Time: 1700000000, KeyID: "k1", Method: "POST", Path: "/v1/labels", Items: 3, Status: 200},
		{Time: 1700000001, KeyID: "k2", Method: "POST", Path: "/v1/screen", Items: 1, Status: 200, Risk: "severe"},
	}
	if last, err := st.AppendAudit(ctx, first); err != nil || last != 2 {
		t.Fatalf("append: last %d, %v; want 2", last, err)
	}
	if _, err := st.AppendAudit(ctx, []store.AuditRecord{{KeyID: "k", Method: "GET", Path: "/x"}, {KeyID: "k", Method: "GET"}}); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("record without a path: err %v, want ErrInvalid", err)
	}
	if last, err := st.AppendAudit(ctx, []store.AuditRecord{{Time: 1700000002, KeyID: "k1", Method: "DELETE", Path: "/v1/keys/x", Status: 404}}); err != nil || last != 3 {
		t.Fatalf("append: last %d, %v; want 3 (the refused batch takes no numbers)", last, err)
	}
	all := auditLog(t, st, store.AuditQuery{})
	if len(all) != 3 {
		t.Fatalf("log holds %d records, want 3: %+v", len(all), all)
	}
	want := first[1]
	want.Seq = 2
	if all[1] != want {
		t.Errorf("record 2 = %+v, want %+v", all[1], want)
	}
	for i, r := range all {
		if r.Seq != uint64(i+1) {
			t.Errorf("record %d has seq %d", i, r.Seq)
		}
	}
	if got := auditLog(t, st, store.AuditQuery{After: 1, Limit: 1}); len(got) != 1 || got[0].Seq != 2 {
		t.Errorf("after 1, limit 1: %+v", got)
	}
	if got := auditLog(t, st, store.AuditQuery{After: 3}); len(got) != 0 {
		t.Errorf("after the last: %+v", got)
	}
}
