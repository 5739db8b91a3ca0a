package server

import (
	"context"
	"encoding/json"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Views answers the read routes. Each method returns a JSON-encodable value
// (the same value the CLI prints for the same question) or an error: one
// wrapping heistgraph.ErrNotFound for an unknown object (404), one wrapping
// heistgraph.ErrInvalid (or a *FieldError) for malformed input (400).
// Methods are called concurrently.
type Views interface {
	// Address answers GET /v1/addresses/{chain}/{address}; addr is
	// validated and normalised.
	Address(ctx context.Context, chain heistgraph.Chain, addr string) (any, error)
	// Tx answers GET /v1/txs/{chain}/{txid}.
	Tx(ctx context.Context, chain heistgraph.Chain, txid heistgraph.Hash) (any, error)
	// Block answers GET /v1/blocks/{chain}/{id}: id is a height or a block
	// hash.
	Block(ctx context.Context, chain heistgraph.Chain, id string) (any, error)
	// Cluster answers GET /v1/clusters/{id}; chain is "" when the request
	// names none (the backend picks the Bitcoin chain the store holds).
	Cluster(ctx context.Context, chain heistgraph.Chain, id uint64) (any, error)
	// Incidents answers GET /v1/incidents.
	Incidents(ctx context.Context) (any, error)
	// Incident answers GET /v1/incidents/{id}.
	Incident(ctx context.Context, id string) (any, error)
	// Labels answers GET /v1/labels.
	Labels(ctx context.Context, q LabelQuery) (any, error)
}

// AccountViews answers the read routes for EVM chains (account-model
// views: balances per asset, transfers). A backend without it answers those
// routes 404.
type AccountViews interface {
	// EVMAddress answers GET /v1/addresses/{chain}/{address} on an EVM
	// chain.
	EVMAddress(ctx context.Context, chain heistgraph.Chain, addr heistgraph.EVMAddress) (any, error)
	// EVMTx answers GET /v1/txs/{chain}/{txid} on an EVM chain.
	EVMTx(ctx context.Context, chain heistgraph.Chain, txid heistgraph.EVMHash) (any, error)
	// EVMBlock answers GET /v1/blocks/{chain}/{id} on an EVM chain: id is a
	// height or a 0x block hash.
	EVMBlock(ctx context.Context, chain heistgraph.Chain, id string) (any, error)
}

// LabelQuery is GET /v1/labels's query: the store's filters, an address
// (with Query.Chain), at most Limit labels (0: all), and the caller's TLP
// clearance (labels marked above it are left out).
type LabelQuery struct {
	store.LabelQuery
	Address string
	Limit   int
	TLPMax  string
}

// LabelWriter takes the writes of POST /v1/labels.
type LabelWriter interface {
	// PutLabels stores labels (validated and normalised by the server) and
	// answers with what it did. The server makes the write durable (an
	// audit record synced after it) before it answers.
	PutLabels(ctx context.Context, labels []heistgraph.Label) (any, error)
}

// Screener answers POST /v1/screen. The server checks the envelope (a JSON
// object; a batch of 1 to MaxScreenItems items) and leaves the items to
// the screening engine, so that engine can change its request shape
// without touching the server.
type Screener interface {
	Screen(ctx context.Context, req ScreenRequest) (ScreenResult, error)
}

// ScreenRequest is a screening request: one item (Batch false, one element
// in Items) or a batch ({"items": [...]}, answered {"results": [...]} in
// order). Items are the request's JSON objects as sent; Body is the whole
// request body (a batch's own fields, such as a chain or direction its
// items inherit, are there).
type ScreenRequest struct {
	Items []json.RawMessage
	Batch bool
	Body  json.RawMessage
}

// ScreenResult is a screening answer: the JSON body, and the risk level of
// each item (for the audit log; "" for an item that could not be screened).
type ScreenResult struct {
	Answer any
	Risks  []string
	// Until, for a single item, is the time (Unix seconds, the clock of
	// ScreenCacher) before which the answer holds while the epoch read
	// before it was asked for does not move; 0 keeps it out of the answer
	// cache.
	Until int64
}

// Backend is everything the routes call.
type Backend interface {
	Views
	LabelWriter
	Screener
}

// StoreStats are the gauges /metrics exports about the store.
type StoreStats struct {
	Tips   map[heistgraph.Chain]int64 // best-chain tip height per chain
	Labels int64                      // labels stored
}

// StatsSource is implemented by backends that export store gauges.
type StatsSource interface {
	StoreStats(ctx context.Context) (StoreStats, error)
}

// ReadyDetailer is implemented by backends that say more in /readyz than
// the store's state: for example which screening tables are still being
// built (screens are answered meanwhile, more slowly). The detail does not
// change the status code.
type ReadyDetailer interface {
	ReadyDetail() map[string]any
}

// Readiness is implemented by backends that can be not ready while the
// store answers: serve following a node is not ready until it has caught
// up with it. NotReady returns why ("" when ready); /readyz then answers
// 503 with it as the error.
type Readiness interface {
	NotReady() string
}
