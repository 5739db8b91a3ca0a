package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/label"
	"github.com/heistgraph/heistgraph/server"
	"github.com/heistgraph/heistgraph/store"
)

// apiBackend answers the HTTP API's routes from the store by running the
// CLI's own views and capturing their --json output, so the API gives the
// same JSON as the CLI for the same question. It is a stopgap: the
// application layer (issue 15, item 1) replaces it, and then both the CLI
// and this backend call that layer instead.
type apiBackend struct {
	st store.Store
	// cache, when set, is what the views read (backendcache.go); label
	// writes invalidate it.
	cache *viewCache
}

// newAPIBackend returns the backend for serve: views read through a cache
// that label writes invalidate.
func newAPIBackend(st store.Store) *apiBackend {
	return &apiBackend{st: st, cache: newViewCache(st)}
}

// reader is the store the views read.
func (b *apiBackend) reader() store.Store {
	if b.cache != nil {
		return b.cache
	}
	return b.st
}

var (
	_ server.Backend     = (*apiBackend)(nil)
	_ server.StatsSource = (*apiBackend)(nil)
)

func (b *apiBackend) Address(ctx context.Context, chain heistgraph.Chain, addr string) (any, error) {
	return hgapp.Address(ctx, b.reader(), hgapp.AddressRequest{Chain: string(chain), Address: addr})
}

func (b *apiBackend) Tx(ctx context.Context, chain heistgraph.Chain, txid heistgraph.Hash) (any, error) {
	return hgapp.Tx(ctx, b.st, hgapp.TxRequest{Chain: string(chain), TxID: txid})
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
	return hgapp.Incidents(ctx, b.st, hgapp.IncidentsRequest{})
}

func (b *apiBackend) Incident(ctx context.Context, id string) (any, error) {
	return hgapp.Incident(ctx, b.st, hgapp.IncidentRequest{ID: id})
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
	stats, err := b.st.LabelStats(ctx)
	if err != nil {
		return out, err
	}
	out.Labels = stats.Total
	return out, nil
}

// screenItem is one screening request item (design.md's shape).
type screenItem struct {
	Chain     string  `json:"chain"`
	Address   string  `json:"address"`
	TxID      string  `json:"txid"`
	Vout      *uint32 `json:"vout"`
	Direction string  `json:"direction"`
}

// screenStubJSON is the stub's answer for one item: design.md's fields
// from the labels alone.
type screenStubJSON struct {
	Address   string           `json:"address"`
	Chain     heistgraph.Chain `json:"chain"`
	TxID      string           `json:"txid,omitempty"`
	Vout      *uint32          `json:"vout,omitempty"`
	AmountSat *int64           `json:"amount_sat,omitempty"`
	Risk      string           `json:"risk"`
	Sanctions bool             `json:"sanctioned"`
	Direct    []screenDirect   `json:"direct"`
	Indirect  []struct{}       `json:"indirect"`
	Reasons   []string         `json:"reasons"`
	Engine    string           `json:"engine"`
}

type screenDirect struct {
	Entity   string `json:"entity"`
	Category string `json:"category"`
	Source   string `json:"source"`
}

type screenItemError struct {
	Index int    `json:"index"`
	Error string `json:"error"`
}

// Screen answers POST /v1/screen with a stub until the risk engine (package
// risk) lands: the labels on the address and on its cluster, and a risk
// level from their categories. It has no indirect exposure.
func (b *apiBackend) Screen(ctx context.Context, req server.ScreenRequest) (server.ScreenResult, error) {
	res := server.ScreenResult{Risks: make([]string, len(req.Items))}
	answers := make([]any, len(req.Items))
	for i, raw := range req.Items {
		v, err := b.screenOne(ctx, raw)
		if err != nil {
			if !req.Batch {
				return res, err
			}
			answers[i] = screenItemError{Index: i, Error: err.Error()}
			continue
		}
		answers[i], res.Risks[i] = v, v.Risk
	}
	if req.Batch {
		res.Answer = map[string]any{"results": answers}
	} else {
		res.Answer = answers[0]
	}
	return res, nil
}

func (b *apiBackend) screenOne(ctx context.Context, raw json.RawMessage) (*screenStubJSON, error) {
	var it screenItem
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&it); err != nil {
		return nil, &server.FieldError{Field: "body", Err: fmt.Errorf("screening item: %v: %w", err, heistgraph.ErrInvalid)}
	}
	chain, err := heistgraph.ParseChain(it.Chain)
	if err != nil {
		return nil, &server.FieldError{Field: "chain", Err: err}
	}
	if it.Direction != "" && it.Direction != "received" && it.Direction != "sent" {
		return nil, &server.FieldError{Field: "direction", Err: fmt.Errorf("%q (want received or sent): %w", it.Direction, heistgraph.ErrInvalid)}
	}
	out := &screenStubJSON{Chain: chain, Direct: []screenDirect{}, Indirect: []struct{}{}, Reasons: []string{}, Risk: "none",
		Engine: "stub: labels of the address and its cluster only, until the risk engine lands"}
	switch {
	case it.TxID != "" && it.Address != "":
		return nil, &server.FieldError{Field: "address", Err: fmt.Errorf("give an address or txid and vout, not both: %w", heistgraph.ErrInvalid)}
	case it.TxID != "":
		txid, err := heistgraph.ParseHash(it.TxID)
		if err != nil {
			return nil, &server.FieldError{Field: "txid", Err: err}
		}
		if it.Vout == nil {
			return nil, &server.FieldError{Field: "vout", Err: fmt.Errorf("missing: %w", heistgraph.ErrInvalid)}
		}
		o, err := b.st.Output(ctx, chain, heistgraph.Outpoint{TxID: txid, Vout: *it.Vout})
		if err != nil {
			return nil, err
		}
		if o.Address == "" {
			return nil, fmt.Errorf("output %s:%d has no address: %w", txid, *it.Vout, heistgraph.ErrNotFound)
		}
		out.TxID, out.Vout, out.Address = txid.String(), it.Vout, o.Address
		amt := o.Value
		out.AmountSat = &amt
	default:
		addr := label.NormalizeAddress(chain, it.Address)
		if err := label.ValidateAddress(chain, addr); err != nil {
			return nil, &server.FieldError{Field: "address", Err: err}
		}
		out.Address = addr
	}
	own, err := b.st.AddressLabels(ctx, chain, out.Address)
	if err != nil {
		return nil, err
	}
	ls := own
	if chain.IsUTXO() {
		cv, err := cluster.NewResolver(b.reader()).View(ctx, chain, out.Address)
		if err != nil {
			return nil, err
		}
		ls = append(append([]heistgraph.Label{}, cv.Own...), cv.Reached...)
	}
	seen := map[screenDirect]bool{}
	for _, l := range ls {
		d := screenDirect{Entity: l.Entity, Category: l.Category, Source: l.Source}
		if seen[d] {
			continue
		}
		seen[d] = true
		out.Direct = append(out.Direct, d)
		level := categoryRisk(l.Category)
		if rank(level) > rank(out.Risk) {
			out.Risk = level
		}
		if level != "none" {
			out.Reasons = append(out.Reasons, fmt.Sprintf("labelled %s (%s) by %s", l.Category, l.Entity, l.Source))
		}
		if l.Category == "sanctioned" || l.Category == "dprk" {
			out.Sanctions = true
		}
	}
	return out, nil
}

// categoryRisk is the stub's risk of owning an address of a category.
func categoryRisk(cat string) string {
	switch {
	case cat == "sanctioned" || cat == "dprk" || strings.HasPrefix(cat, "stolen"):
		return "severe"
	case cat == "mixer" || cat == "darknet" || cat == "ransomware" || cat == "scam":
		return "high"
	}
	return "none"
}

func rank(risk string) int {
	for i, r := range []string{"none", "low", "medium", "high", "severe"} {
		if r == risk {
			return i
		}
	}
	return -1
}
