package store

import (
	"context"
	"iter"
)

// Keys stores the API keys of the HTTP service (package server): who may
// call it, in which role. A key's secret is never stored: only its SHA-256
// hash, which KeyByHash looks the key up by.
//
// Every write is durable before it returns (the key the operator was just
// shown must survive a crash). All methods are safe for concurrent use;
// returned values are the caller's. A key with an empty id or role, or an
// all-zero hash, wraps heistgraph.ErrInvalid; reads of an unknown id or
// hash wrap heistgraph.ErrNotFound.
type Keys interface {
	// PutKey stores a new key. An id or a hash already stored wraps
	// heistgraph.ErrConflict, and nothing is written.
	PutKey(ctx context.Context, k APIKey) error
	// KeyByHash returns the key whose secret hashes to hash, revoked or
	// not (the caller checks Revoked).
	KeyByHash(ctx context.Context, hash [32]byte) (APIKey, error)
	// APIKeys yields every stored key, revoked ones too, in id order. It
	// streams.
	APIKeys(ctx context.Context) iter.Seq2[APIKey, error]
	// RevokeKey marks key id revoked at time at (Unix seconds). Revoking a
	// revoked key keeps its first revocation time and returns nil.
	RevokeKey(ctx context.Context, id string, at int64) error
}

// APIKey is one API key: its id (public, named in the audit log), the
// SHA-256 of its secret, its role (admin, analyst, screener or viewer; the
// server decides what each may do), the entity it is scoped to ("" for
// none), its TLP clearance, and its creation and revocation times (Unix
// seconds; Revoked is 0 while the key is valid).
type APIKey struct {
	ID      string
	Hash    [32]byte
	Role    string
	Entity  string
	TLPMax  string
	Created int64
	Revoked int64
}
