package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/label"
	"github.com/heistgraph/heistgraph/store"
)

// The functions here are shared by the routes and by the CLI's keys and
// audit commands (on a store it opened itself), so both print the same
// JSON.

// KeyJSON is a key as keys list and GET /v1/keys give it (no secret).
type KeyJSON struct {
	ID      string `json:"id"`
	Role    string `json:"role"`
	Entity  string `json:"entity,omitempty"`
	TLPMax  string `json:"tlp_max"`
	Created int64  `json:"created"`
	Revoked int64  `json:"revoked,omitempty"`
}

// NewKeyJSON is the answer of keys create and POST /v1/keys: design.md's
// id, key, role, with the key's other fields. Key is the secret, shown
// only here.
type NewKeyJSON struct {
	ID      string `json:"id"`
	Key     string `json:"key"`
	Role    string `json:"role"`
	Entity  string `json:"entity,omitempty"`
	TLPMax  string `json:"tlp_max"`
	Created int64  `json:"created"`
}

// KeysList is the answer of keys list and GET /v1/keys.
type KeysList struct {
	Count int       `json:"count"`
	Keys  []KeyJSON `json:"keys"`
}

// KeyRequest is the body of POST /v1/keys.
type KeyRequest struct {
	Role   string `json:"role"`
	Entity string `json:"entity,omitempty"`
	TLPMax string `json:"tlp_max,omitempty"`
}

func keyView(k store.APIKey) KeyJSON {
	return KeyJSON{ID: k.ID, Role: k.Role, Entity: k.Entity, TLPMax: k.TLPMax, Created: k.Created, Revoked: k.Revoked}
}

// CreateKey makes a key for req, stores it (durably) and returns it with
// its secret. A bad role or TLP wraps heistgraph.ErrInvalid (a
// *FieldError).
func CreateKey(ctx context.Context, st store.Keys, req KeyRequest, now time.Time) (NewKeyJSON, error) {
	role, err := ParseRole(strings.TrimSpace(req.Role))
	if err != nil {
		return NewKeyJSON{}, fieldErr("role", err)
	}
	if req.TLPMax != "" {
		if _, err := label.ParseTLP(req.TLPMax); err != nil {
			return NewKeyJSON{}, fieldErr("tlp_max", err)
		}
	}
	if len(req.Entity) > 200 {
		return NewKeyJSON{}, fieldErrf("entity", "longer than 200 bytes")
	}
	k, secret, err := NewKey(role, req.Entity, req.TLPMax, now)
	if err != nil {
		return NewKeyJSON{}, err
	}
	if err := st.PutKey(ctx, k); err != nil {
		return NewKeyJSON{}, fmt.Errorf("create key: %w", err)
	}
	return NewKeyJSON{ID: k.ID, Key: secret, Role: k.Role, Entity: k.Entity, TLPMax: k.TLPMax, Created: k.Created}, nil
}

// ListKeys returns every key, without secrets, in id order.
func ListKeys(ctx context.Context, st store.Keys) (KeysList, error) {
	out := KeysList{Keys: []KeyJSON{}}
	for k, err := range st.APIKeys(ctx) {
		if err != nil {
			return KeysList{}, fmt.Errorf("list keys: %w", err)
		}
		out.Keys = append(out.Keys, keyView(k))
	}
	out.Count = len(out.Keys)
	return out, nil
}

// RevokeKey revokes key id and returns it as it is now. An unknown id wraps
// heistgraph.ErrNotFound.
func RevokeKey(ctx context.Context, st store.Keys, id string, now time.Time) (KeyJSON, error) {
	id = strings.TrimSpace(id)
	if id == "" || len(id) > 64 {
		return KeyJSON{}, fieldErrf("id", "key id %.40q", id)
	}
	if err := st.RevokeKey(ctx, id, now.Unix()); err != nil {
		return KeyJSON{}, err
	}
	for k, err := range st.APIKeys(ctx) {
		if err != nil {
			return KeyJSON{}, err
		}
		if k.ID == id {
			return keyView(k), nil
		}
	}
	return KeyJSON{}, fmt.Errorf("key %s: %w", id, heistgraph.ErrNotFound)
}

// AuditJSON is one audit record as GET /v1/audit and audit list give it.
type AuditJSON struct {
	Seq    uint64 `json:"seq"`
	Time   int64  `json:"time"`
	KeyID  string `json:"key_id"`
	Method string `json:"method"`
	Path   string `json:"path"`
	Items  int    `json:"items"`
	Status int    `json:"status"`
	Risk   string `json:"risk,omitempty"`
}

// AuditList is the answer of GET /v1/audit and audit list.
type AuditList struct {
	Count   int         `json:"count"`
	Records []AuditJSON `json:"records"`
	// Next is the after= of the next page: the last seq given (or after,
	// when the page is empty).
	Next uint64 `json:"next_after"`
}

// DefaultAuditLimit is the page size of the audit log without a limit.
const DefaultAuditLimit = 1000

// ReadAudit reads one page of the audit log: the records after after, at
// most limit (0: DefaultAuditLimit).
func ReadAudit(ctx context.Context, st store.Audit, after uint64, limit int) (AuditList, error) {
	if limit == 0 {
		limit = DefaultAuditLimit
	}
	out := AuditList{Records: []AuditJSON{}, Next: after}
	for rec, err := range st.AuditLog(ctx, store.AuditQuery{After: after, Limit: limit}) {
		if err != nil {
			return AuditList{}, fmt.Errorf("audit log: %w", err)
		}
		out.Records = append(out.Records, AuditJSON{Seq: rec.Seq, Time: rec.Time, KeyID: rec.KeyID, Method: rec.Method,
			Path: rec.Path, Items: rec.Items, Status: rec.Status, Risk: rec.Risk})
		out.Next = rec.Seq
	}
	out.Count = len(out.Records)
	return out, nil
}

func getAudit(s *Server, _ http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
	v := r.URL.Query().Get("after")
	var after uint64
	if v != "" {
		var err error
		if after, err = strconv.ParseUint(v, 10, 64); err != nil {
			return nil, fieldErrf("after", "%q is not a sequence number", v)
		}
	}
	limit, err := queryInt(r, "limit", 0)
	if err != nil {
		return nil, err
	}
	return ReadAudit(r.Context(), s.auditLog, after, limit)
}

func getKeys(s *Server, _ http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
	return ListKeys(r.Context(), s.keys)
}

func postKey(s *Server, _ http.ResponseWriter, r *http.Request, info *reqInfo) (any, error) {
	var req KeyRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	info.items = 1
	return CreateKey(r.Context(), s.keys, req, s.cfg.Now())
}

func deleteKey(s *Server, _ http.ResponseWriter, r *http.Request, info *reqInfo) (any, error) {
	info.items = 1
	return RevokeKey(r.Context(), s.keys, r.PathValue("id"), s.cfg.Now())
}
