package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/risk"
	"github.com/heistgraph/heistgraph/server"
	"github.com/heistgraph/heistgraph/store"
)

// apiBackend answers the HTTP API's routes from the store with the
// application layer's views (package app) and screens with the risk engine
// (screening.go), so the API gives the same JSON as the CLI for the same
// question.
type apiBackend struct {
	st store.Store
	// cache, when set, is what the views read (backendcache.go); label
	// writes invalidate it.
	cache *viewCache
	// screening is the risk engine of POST /v1/screen (screening.go);
	// the cache's invalidate resets it.
	screening *screening
	// follow, when serve follows a node, is the follow's state for
	// /readyz (servefollow.go).
	follow *followState
	// graphDir, when set, is where trace jobs find the transaction graphs
	// they read while current (as trace does: DATA/txgraph).
	graphDir string
	// onLabels, when set, is called after a label write (the monitor
	// checks the watches again; it must not block).
	onLabels func()
	// labels memoizes the label count of /metrics while the store's write
	// count stays (stores with store.WriteCounter only): a scrape would
	// otherwise read every label.
	labels labelCountMemo
}

type labelCountMemo struct {
	mu     sync.Mutex
	ok     bool
	writes uint64
	n      int64
}

// newAPIBackend returns the backend for serve: views read through a cache
// that label writes invalidate, screens by one long-lived screener that
// the same writes rebuild. log (nil: none) gets the screening tables'
// progress. Call start to build the screener in the background and close
// before the store closes.
func newAPIBackend(st store.Store, log *slog.Logger) *apiBackend {
	b := &apiBackend{st: st, cache: newViewCache(st), screening: newScreening(st, log)}
	b.cache.onInvalidate = b.screening.invalidate
	return b
}

// start builds the screener and its precomputed tables in the background.
func (b *apiBackend) start() { b.screening.warm() }

// close stops the background work.
func (b *apiBackend) close() { b.screening.close() }

// ReadyDetail tells /readyz the state of each chain's screening
// table: {"screening": {"tables": {"btc": {"ready": true, "height": N}}}}
// (ready false while it is built; screens are answered on demand then).
func (b *apiBackend) ReadyDetail() map[string]any {
	tables := map[string]any{}
	for chain, t := range b.screening.Tables() {
		tables[string(chain)] = map[string]any{"ready": t.Ready, "height": t.Height}
	}
	out := map[string]any{"screening": map[string]any{"tables": tables}}
	if b.follow != nil {
		out["follow"] = b.follow.detail()
	}
	return out
}

// reader is the store the views read.
func (b *apiBackend) reader() store.Store {
	if b.cache != nil {
		return b.cache
	}
	return b.st
}

var (
	_ server.Backend       = (*apiBackend)(nil)
	_ server.StatsSource   = (*apiBackend)(nil)
	_ server.ReadyDetailer = (*apiBackend)(nil)
)

func (b *apiBackend) Address(ctx context.Context, chain heistgraph.Chain, addr string) (any, error) {
	return hgapp.Address(ctx, b.reader(), hgapp.AddressRequest{Chain: string(chain), Address: addr})
}

func (b *apiBackend) Tx(ctx context.Context, chain heistgraph.Chain, txid heistgraph.Hash) (any, error) {
	return hgapp.Tx(ctx, b.st, hgapp.TxRequest{Chain: string(chain), TxID: txid})
}

var _ server.AccountViews = (*apiBackend)(nil)

func (b *apiBackend) EVMAddress(ctx context.Context, chain heistgraph.Chain, addr heistgraph.EVMAddress) (any, error) {
	return hgapp.EVMAddress(ctx, b.st, hgapp.AddressRequest{Chain: string(chain), Address: addr.Hex()})
}

func (b *apiBackend) EVMTx(ctx context.Context, chain heistgraph.Chain, txid heistgraph.EVMHash) (any, error) {
	return hgapp.EVMTx(ctx, b.st, hgapp.EVMTxRequest{Chain: string(chain), TxID: txid})
}

func (b *apiBackend) EVMBlock(ctx context.Context, chain heistgraph.Chain, id string) (any, error) {
	return hgapp.EVMBlock(ctx, b.st, hgapp.BlockRequest{Chain: string(chain), ID: id})
}

func (b *apiBackend) Block(ctx context.Context, chain heistgraph.Chain, id string) (any, error) {
	return hgapp.Block(ctx, b.st, hgapp.BlockRequest{Chain: string(chain), ID: id})
}

func (b *apiBackend) Cluster(ctx context.Context, chain heistgraph.Chain, id uint64) (any, error) {
	ch, err := hgapp.ClusterChain(ctx, b.st, string(chain))
	if err != nil {
		return nil, err
	}
	addr, err := b.st.ClusterAddress(ctx, ch, id)
	if err != nil {
		return nil, err
	}
	if m, err := b.st.AddressCluster(ctx, ch, addr); err != nil {
		return nil, err
	} else if m.ClusterID != id {
		return nil, fmt.Errorf("cluster %d on %s: address %d is in cluster %d: %w", id, ch, id, m.ClusterID, heistgraph.ErrNotFound)
	}
	return hgapp.Cluster(ctx, b.st, hgapp.ClusterRequest{Chain: ch, Address: addr, Limit: 20})
}

func (b *apiBackend) Incidents(ctx context.Context) (any, error) {
	v, err := hgapp.Incidents(ctx, b.st, hgapp.IncidentsRequest{})
	if err != nil {
		return nil, err
	}
	c, ok := server.CallerFrom(ctx)
	if !ok {
		return v, nil
	}
	reg, _, err := hgapp.Register(ctx, b.st)
	if err != nil {
		return nil, err
	}
	kept := v.Incidents[:0]
	for _, it := range v.Incidents {
		if inc, ok := reg.Incident(it.ID); !ok || server.TLPAllows(c.TLPMax, inc.TLP) {
			kept = append(kept, it)
		}
	}
	v.Incidents, v.Count = kept, len(kept)
	return v, nil
}

func (b *apiBackend) Incident(ctx context.Context, id string) (any, error) {
	if err := b.incidentVisible(ctx, id); err != nil {
		return nil, err
	}
	return hgapp.Incident(ctx, b.st, hgapp.IncidentRequest{ID: id})
}

// incidentVisible refuses, as not found (its existence is not confirmed),
// an incident marked above the calling key's TLP clearance: an incident the
// key may not see never leaves through the incident routes or their
// exports (issue 25's TLP rule, as TAXII collections apply it).
func (b *apiBackend) incidentVisible(ctx context.Context, id string) error {
	c, ok := server.CallerFrom(ctx)
	if !ok {
		return nil
	}
	reg, _, err := hgapp.Register(ctx, b.st)
	if err != nil {
		return err
	}
	if inc, ok := reg.Incident(id); ok && !server.TLPAllows(c.TLPMax, inc.TLP) {
		return fmt.Errorf("incident %q: %w", id, heistgraph.ErrNotFound)
	}
	return nil
}

func (b *apiBackend) Labels(ctx context.Context, q server.LabelQuery) (any, error) {
	v := hgapp.LabelListView{Labels: []hgapp.LabelRowView{}}
	add := func(l heistgraph.Label) bool {
		if !q.Match(l) || !server.TLPAllows(q.TLPMax, l.TLP) {
			return true
		}
		if q.Limit > 0 && len(v.Labels) == q.Limit {
			v.Truncated = true
			return false
		}
		v.Labels = append(v.Labels, hgapp.LabelRowOf(l))
		return true
	}
	if q.Address != "" {
		ls, err := b.st.AddressLabels(ctx, q.Chain, q.Address)
		if err != nil {
			return nil, err
		}
		for _, l := range ls {
			if !add(l) {
				break
			}
		}
	} else {
		for l, err := range b.st.Labels(ctx, q.LabelQuery) {
			if err != nil {
				return nil, err
			}
			if !add(l) {
				break
			}
		}
	}
	v.Count = len(v.Labels)
	return v, nil
}

// labelsPutJSON is the answer of POST /v1/labels.
type labelsPutJSON struct {
	Received int   `json:"received"`
	Added    int   `json:"added"`
	Total    int64 `json:"labels_in_store"`
}

func (b *apiBackend) PutLabels(ctx context.Context, ls []heistgraph.Label) (any, error) {
	n, err := b.st.PutLabels(ctx, ls)
	if b.cache != nil {
		b.cache.invalidate() // also after an error: part of the batch may be stored
	}
	if b.onLabels != nil {
		b.onLabels()
	}
	if err != nil {
		return nil, err
	}
	out := labelsPutJSON{Received: len(ls), Added: n}
	if stats, err := b.st.LabelStats(ctx); err == nil {
		out.Total = stats.Total
	}
	return out, nil
}

func (b *apiBackend) StoreStats(ctx context.Context) (server.StoreStats, error) {
	out := server.StoreStats{Tips: map[heistgraph.Chain]int64{}}
	for _, n := range heistgraph.Networks() {
		tip, err := b.st.Tip(ctx, n.Chain)
		if err == nil {
			out.Tips[n.Chain] = tip.Height
		} else if !errors.Is(err, heistgraph.ErrNotFound) {
			return out, err
		}
	}
	wc, counted := b.st.(store.WriteCounter)
	var writes uint64
	if counted {
		writes = wc.Writes()
		b.labels.mu.Lock()
		n, ok := b.labels.n, b.labels.ok && b.labels.writes == writes
		b.labels.mu.Unlock()
		if ok {
			out.Labels = n
			return out, nil
		}
	}
	stats, err := b.st.LabelStats(ctx)
	if err != nil {
		return out, err
	}
	out.Labels = stats.Total
	if counted {
		b.labels.mu.Lock()
		b.labels.ok, b.labels.writes, b.labels.n = true, writes, stats.Total
		b.labels.mu.Unlock()
	}
	return out, nil
}

// Screen answers POST /v1/screen with the risk engine: the same answer as
// `heistgraph screen --json` for the same question (one *risk.Answer, or
// a *risk.Batch {"results": [...]} with {"index", "error"} in place of an
// item that cannot be screened). A malformed single item is a
// *server.FieldError naming the field (400); an outpoint the store does not
// hold wraps heistgraph.ErrNotFound (404).
func (b *apiBackend) Screen(ctx context.Context, req server.ScreenRequest) (server.ScreenResult, error) {
	res := server.ScreenResult{Risks: make([]string, len(req.Items))}
	r, parseErrs, err := parseScreenRequest(req)
	if err != nil {
		return res, err
	}
	items, errs := r.Plan()
	for i := range items {
		if parseErrs != nil && parseErrs[i] != nil {
			errs[i] = parseErrs[i]
		}
		if errs[i] == nil && items[i].Outpoint == nil && items[i].Tx == nil {
			prefix := ""
			if req.Batch {
				prefix = fmt.Sprintf("items[%d].", i)
			}
			items[i].Address, errs[i] = screenAddress(prefix, items[i].Chain, items[i].Address)
			items[i].Normalized = true // the Screener normalizes with the same function
		}
	}
	sc, err := b.screening.screener(ctx)
	if err != nil {
		return res, err
	}
	if !req.Batch {
		if errs[0] != nil {
			return res, apiFieldError(errs[0])
		}
		at := time.Now().Unix() // no later than the screen's own clock
		ans, err := sc.Screen(ctx, items[0])
		if err != nil {
			return res, err
		}
		res.Answer, res.Risks[0] = ans, string(ans.Risk)
		res.Until = b.answerUntil(ctx, sc, ans, items[0].Chain, at) // servecache.go
		return res, nil
	}
	batch, err := sc.ScreenBatch(ctx, items, errs)
	if err != nil {
		return res, err
	}
	for i, r := range batch.Results {
		if r.Answer != nil && r.Err == nil {
			res.Risks[i] = string(r.Answer.Risk)
		}
	}
	res.Answer = batch
	return res, nil
}

// screenEnvelope is a batch's own fields: what its items inherit (chain,
// direction, no_cluster), and what it must not carry.
type screenEnvelope struct {
	Chain     heistgraph.Chain  `json:"chain"`
	Direction string            `json:"direction"`
	NoCluster bool              `json:"no_cluster"`
	Address   string            `json:"address"`
	TxID      string            `json:"txid"`
	Vout      *uint32           `json:"vout"`
	Items     []json.RawMessage `json:"items"`
}

// parseScreenRequest reads a screening request with risk's request types:
// one item as risk.ParseRequest reads it, or a batch whose items are read
// one by one, so that a malformed item (parseErrs[i]) is answered in its
// place. err is an error of the whole request (400).
func parseScreenRequest(req server.ScreenRequest) (r *risk.Request, parseErrs []error, err error) {
	if !req.Batch {
		if len(req.Items) != 1 {
			return nil, nil, fmt.Errorf("screen: %d items in a single request: %w", len(req.Items), heistgraph.ErrInvalid)
		}
		r, err := risk.ParseRequest(req.Items[0])
		if err != nil {
			return nil, nil, apiFieldError(err)
		}
		return r, nil, nil
	}
	var env screenEnvelope
	body := req.Body
	if body == nil {
		body = []byte(`{}`)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return nil, nil, &server.FieldError{Field: "body", Err: fmt.Errorf("screen request: %v: %w", err, heistgraph.ErrInvalid)}
	}
	if env.Address != "" || env.TxID != "" || env.Vout != nil {
		return nil, nil, &server.FieldError{Field: "items", Err: fmt.Errorf("a batch carries no address, txid or vout of its own: %w", heistgraph.ErrInvalid)}
	}
	if _, err := risk.ParseDirection(env.Direction); err != nil {
		return nil, nil, &server.FieldError{Field: "direction", Err: err}
	}
	r = &risk.Request{Chain: env.Chain, Direction: env.Direction, NoCluster: env.NoCluster, Items: make([]risk.Request, len(req.Items))}
	parseErrs = make([]error, len(req.Items))
	for i, raw := range req.Items {
		sub, err := risk.ParseRequest(raw)
		switch {
		case err != nil:
			var fe *risk.FieldError
			if errors.As(err, &fe) {
				parseErrs[i] = &risk.FieldError{Field: fmt.Sprintf("items[%d].%s", i, fe.Field), Msg: fe.Msg}
			} else {
				parseErrs[i] = fmt.Errorf("items[%d]: %w", i, err)
			}
		case sub.IsBatch():
			parseErrs[i] = &risk.FieldError{Field: fmt.Sprintf("items[%d].items", i), Msg: "batches do not nest"}
		default:
			r.Items[i] = *sub
		}
	}
	return r, parseErrs, nil
}

// screenAddress normalises and validates an address to screen as labels
// are (heistgraph.NormalizeAddress), naming the field (prefix+"address")
// when it is malformed.
func screenAddress(prefix string, chain heistgraph.Chain, addr string) (string, error) {
	n, err := heistgraph.NormalizeAddress(chain, addr)
	if err != nil {
		return "", &risk.FieldError{Field: prefix + "address", Msg: err.Error()}
	}
	return n, nil
}

// apiFieldError turns a *risk.FieldError into the server's, so that the
// 400 answer names the field; other errors are returned as they are.
func apiFieldError(err error) error {
	var fe *risk.FieldError
	if errors.As(err, &fe) {
		return &server.FieldError{Field: fe.Field, Err: fmt.Errorf("%s: %w", fe.Msg, heistgraph.ErrInvalid)}
	}
	if errors.Is(err, heistgraph.ErrInvalid) {
		return &server.FieldError{Field: "body", Err: err}
	}
	return err
}
