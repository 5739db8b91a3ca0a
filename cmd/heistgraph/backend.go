package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/incident"
	"github.com/heistgraph/heistgraph/label"
	"github.com/heistgraph/heistgraph/risk"
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
	// screening is the risk engine of POST /v1/screen (screening.go);
	// the cache's invalidate resets it.
	screening *screening
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

// ReadyDetail tells /readyz the state of each Bitcoin chain's screening
// table: {"screening": {"tables": {"btc": {"ready": true, "height": N}}}}
// (ready false while it is built; screens are answered on demand then).
func (b *apiBackend) ReadyDetail() map[string]any {
	tables := map[string]any{}
	for chain, t := range b.screening.Tables() {
		tables[string(chain)] = map[string]any{"ready": t.Ready, "height": t.Height}
	}
	return map[string]any{"screening": map[string]any{"tables": tables}}
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

// view runs fn on an app that writes --json output into a buffer, and
// returns that output.
func (b *apiBackend) view(fn func(a *app) error) (json.RawMessage, error) {
	var buf bytes.Buffer
	a := &app{stdout: &buf, stderr: io.Discard, json: true, quiet: true}
	a.setup()
	if err := fn(a); err != nil {
		return nil, err
	}
	return json.RawMessage(bytes.TrimSpace(buf.Bytes())), nil
}

func (b *apiBackend) Address(ctx context.Context, chain heistgraph.Chain, addr string) (any, error) {
	return b.view(func(a *app) error { return a.showAddress(ctx, b.reader(), string(chain), addr, addressPage{}) })
}

func (b *apiBackend) Tx(ctx context.Context, chain heistgraph.Chain, txid heistgraph.Hash) (any, error) {
	return b.view(func(a *app) error { return a.showTx(ctx, b.st, string(chain), txid) })
}

func (b *apiBackend) Block(ctx context.Context, chain heistgraph.Chain, id string) (any, error) {
	return b.view(func(a *app) error { return a.showBlock(ctx, b.st, string(chain), id) })
}

func (b *apiBackend) Cluster(ctx context.Context, chain heistgraph.Chain, id uint64) (any, error) {
	cmd := &cobra.Command{}
	cmd.SetContext(ctx)
	ch, err := clusterChain(cmd, b.st, string(chain))
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
	x, err := cluster.Explain(ctx, b.st, ch, addr, cluster.ExplainOptions{Limit: 20})
	if err != nil {
		return nil, err
	}
	return b.view(func(a *app) error {
		fresh, err := a.clusterFreshness(ctx, b.st, ch)
		if err != nil {
			return err
		}
		return a.printExplanation(x, false, fresh)
	})
}

func (b *apiBackend) Incidents(ctx context.Context) (any, error) {
	reg, prices, err := loadRegister(ctx, b.st)
	if err != nil {
		return nil, err
	}
	out := incListJSON{Incidents: []incListItem{}}
	for _, inc := range reg.Incidents() {
		v := incident.Value(inc, "", prices)
		it := incListItem{ID: inc.ID, Name: inc.Name, Victim: inc.Victim.Name, VictimType: string(inc.Victim.Type),
			StolenOn: dayText(inc.StolenOn), Chains: incidentChains(inc), Tier: inc.BestTier(""), Actors: []string{},
			USD: v.USD, USDSource: v.Source, USDAt: dayText(v.At), Origin: originOf(reg.Imported(inc.ID))}
		for _, at := range inc.Attributions {
			if !hasString(it.Actors, at.Actor) {
				it.Actors = append(it.Actors, at.Actor)
			}
		}
		out.Incidents = append(out.Incidents, it)
	}
	out.Count = len(out.Incidents)
	return out, nil
}

func (b *apiBackend) Incident(ctx context.Context, id string) (any, error) {
	reg, prices, err := loadRegister(ctx, b.st)
	if err != nil {
		return nil, err
	}
	inc, ok := reg.Incident(id)
	if !ok {
		return nil, fmt.Errorf("incident %q: %w", id, heistgraph.ErrNotFound)
	}
	tr, err := traceIncident(ctx, b.st, inc)
	if err != nil {
		return nil, err
	}
	return showIncident(reg, inc, prices, tr), nil
}

func (b *apiBackend) Labels(ctx context.Context, q server.LabelQuery) (any, error) {
	v := labelsListJSON{Labels: []labelRowJSON{}}
	add := func(l heistgraph.Label) bool {
		if !q.Match(l) || !server.TLPAllows(q.TLPMax, l.TLP) {
			return true
		}
		if q.Limit > 0 && len(v.Labels) == q.Limit {
			v.Truncated = true
			return false
		}
		v.Labels = append(v.Labels, labelRow(l))
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
		if errs[i] == nil && items[i].Outpoint == nil {
			prefix := ""
			if req.Batch {
				prefix = fmt.Sprintf("items[%d].", i)
			}
			items[i].Address, errs[i] = screenAddress(prefix, items[i].Chain, items[i].Address)
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
		ans, err := sc.Screen(ctx, items[0])
		if err != nil {
			return res, err
		}
		res.Answer, res.Risks[0] = ans, string(ans.Risk)
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
// are (label.NormalizeAddress, label.ValidateAddress), naming the field
// (prefix+"address") when it is malformed.
func screenAddress(prefix string, chain heistgraph.Chain, addr string) (string, error) {
	n := label.NormalizeAddress(chain, addr)
	if err := label.ValidateAddress(chain, n); err != nil {
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
