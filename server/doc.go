// Package server is heistgraph's HTTP API (/v1): routes over a Backend,
// API keys with roles, per-key rate limits, an append-only audit log, the
// single map from errors to status codes, Prometheus metrics and the
// OpenAPI document, which is generated from the route table so that it
// lists exactly the routes the server has.
//
// It does not compute answers (the Backend does: views, screening), open a
// store, read flags or handle signals (cmd/heistgraph's serve does).
//
// # Roles
//
// viewer reads (GET); screener also screens (POST /v1/screen); analyst also
// writes labels; admin also manages keys and reads the audit log. /healthz,
// /readyz, /metrics and /openapi.json need no key.
//
// # Errors
//
// Every error answer is {"error": "..."} (with "field" for malformed
// input): 400 for input wrapping heistgraph.ErrInvalid, 401 without a valid
// key, 403 for a role that may not, 404 for heistgraph.ErrNotFound, 409 for
// heistgraph.ErrConflict, 413 for a body over the limit or a batch over
// its maximum, 429 with Retry-After when a key is over its rate, and 500
// for anything else, which is a bug when the input caused it.
//
// # Durability
//
// Writes (labels, keys) are durable before their answer: the audit record
// of the write is appended with a sync after it (store.Audit's contract).
// Screening records are group-committed: one goroutine appends whatever is
// queued with one sync, and a screening answer does not wait for it.
package server
