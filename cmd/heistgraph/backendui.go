package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/incident"
	"github.com/heistgraph/heistgraph/server"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
)

// The routes the web UI needs beyond the views: trace jobs (POST
// /v1/traces) and the incident report (GET /v1/incidents/report), answered
// by the application layer as trace --json and incidents report --json are.

var (
	_ server.Tracer   = (*apiBackend)(nil)
	_ server.Reporter = (*apiBackend)(nil)
)

// Report answers GET /v1/incidents/report: incidents report --json's
// object for q.
func (b *apiBackend) Report(ctx context.Context, q incident.Query) (any, error) {
	if c, ok := server.CallerFrom(ctx); ok {
		q.Visible = func(inc heistgraph.Incident) bool { return server.TLPAllows(c.TLPMax, inc.TLP) }
	}
	v, err := hgapp.Report(ctx, b.st, hgapp.ReportRequest{Query: q})
	if err != nil {
		return nil, err
	}
	return v.Report, nil
}

// traceFlagsOf is the trace command's flags for req: its fields where
// given, trace's flag defaults elsewhere.
func traceFlagsOf(req server.TraceRequest) *traceFlags {
	f := &traceFlags{chain: req.Chain, seeds: req.Seeds, policy: string(trace.DefaultPolicy), maxHops: trace.DefaultMaxHops,
		minAmount: trace.DefaultMinAmount, minShare: trace.DefaultMinShare, budget: trace.DefaultBudget,
		until: req.Until, through: req.ThroughCoinJoin, compare: req.Compare,
		followLinks: req.FollowLinks || req.FollowHypotheses, followHypotheses: req.FollowHypotheses}
	if p := strings.TrimSpace(req.Policy); p != "" {
		f.policy = p
	}
	if req.MaxHops > 0 {
		f.maxHops = req.MaxHops
	}
	if req.MinAmount != nil {
		f.minAmount, f.minAmountSet = *req.MinAmount, true
	}
	return f
}

// CheckTrace validates req's options and seeds as trace checks its flags.
func (b *apiBackend) CheckTrace(_ context.Context, req server.TraceRequest) error {
	f := traceFlagsOf(req)
	if hgapp.IsAccountChain(req.Chain) {
		_, err := f.accountOptions()
		return apiTraceError(err)
	}
	r, err := f.request()
	if err != nil {
		return apiTraceError(err)
	}
	if req.Chain == "" {
		return nil // the store's one Bitcoin chain: seeds are checked when it runs
	}
	chain, err := heistgraph.ParseChain(req.Chain)
	if err != nil {
		return &server.FieldError{Field: "chain", Err: err}
	}
	if err := hgapp.CheckSeeds(chain, r.Options.Seeds); err != nil {
		return &server.FieldError{Field: "seeds", Err: err}
	}
	return nil
}

// apiTraceError turns trace's usage errors (naming flags) into 400s.
func apiTraceError(err error) error {
	if err == nil {
		return nil
	}
	msg := strings.NewReplacer("--seed", "seeds", "--max-hops", "max_hops", "--min-amount", "min_amount", "--until", "until",
		"--through-coinjoin", "through_coinjoin", "--policy", "policy", "--compare", "compare").Replace(err.Error())
	return &server.FieldError{Field: "body", Err: fmt.Errorf("%s: %w", msg, heistgraph.ErrInvalid)}
}

// Trace runs req as trace --json (--compare --json) does on the store,
// reporting the transactions read as progress.
func (b *apiBackend) Trace(ctx context.Context, req server.TraceRequest, progress func(int64)) (server.TraceAnswer, error) {
	f := traceFlagsOf(req)
	st := &countingStore{Store: b.st, progress: progress}
	if hgapp.IsAccountChain(req.Chain) {
		opts, err := f.accountOptions()
		if err != nil {
			return server.TraceAnswer{}, apiTraceError(err)
		}
		v, err := hgapp.TraceAccounts(ctx, st, opts)
		return server.TraceAnswer{Result: v}, err
	}
	r, err := f.request()
	if err != nil {
		return server.TraceAnswer{}, apiTraceError(err)
	}
	r.GraphDir, r.GraphProgress = b.graphDir, progress
	if f.compare {
		v, err := hgapp.Compare(ctx, st, r)
		if err != nil {
			return server.TraceAnswer{}, err
		}
		return server.TraceAnswer{Result: v, GraphML: v.Result.WriteGraphML}, nil
	}
	v, err := hgapp.Trace(ctx, st, r)
	if err != nil {
		return server.TraceAnswer{}, err
	}
	return server.TraceAnswer{Result: v, GraphML: v.Result.WriteGraphML}, nil
}

// countingStore is the store a trace job reads, counting the transactions
// it reads for the job's progress.
type countingStore struct {
	store.Store
	n        atomic.Int64
	progress func(int64)
}

// LinksOfTx passes the store's links through (a trace that follows links
// reads them), none when the store keeps no links.
func (c *countingStore) LinksOfTx(ctx context.Context, chain heistgraph.Chain, txid string) ([]store.StoredLink, error) {
	if l, ok := c.Store.(store.Links); ok {
		return l.LinksOfTx(ctx, chain, txid)
	}
	return nil, nil
}

func (c *countingStore) Tx(ctx context.Context, chain heistgraph.Chain, txid heistgraph.Hash) (heistgraph.TxRecord, error) {
	c.progress(c.n.Add(1))
	return c.Store.Tx(ctx, chain, txid)
}

func (c *countingStore) AccountTx(ctx context.Context, chain heistgraph.Chain, txid heistgraph.EVMHash) (store.AccountTxRecord, error) {
	c.progress(c.n.Add(1))
	return c.Store.AccountTx(ctx, chain, txid)
}

var _ server.IncidentExporter = (*apiBackend)(nil)

// IncidentSTIX answers GET /v1/incidents/{id}/stix: export stix --incident
// id's bundle.
func (b *apiBackend) IncidentSTIX(ctx context.Context, id string) ([]byte, error) {
	if err := b.incidentVisible(ctx, id); err != nil {
		return nil, err
	}
	x, err := hgapp.STIX(ctx, b.st, hgapp.STIXRequest{Incident: id})
	if err != nil {
		return nil, err
	}
	return x.Bundle, nil
}

// IncidentReportHTML answers GET /v1/incidents/{id}/report.html: incidents
// report --incident id --include-suspected --html -.
func (b *apiBackend) IncidentReportHTML(ctx context.Context, id string) ([]byte, error) {
	if err := b.incidentVisible(ctx, id); err != nil {
		return nil, err
	}
	reg, _, err := hgapp.Register(ctx, b.st)
	if err != nil {
		return nil, err
	}
	if _, ok := reg.Incident(id); !ok {
		return nil, fmt.Errorf("incident %q: %w", id, heistgraph.ErrNotFound)
	}
	q := incident.Query{By: incident.ByStolen, Tier: incident.Any, Actor: incident.Any, Incident: id, IncludeSuspected: true}
	v, err := hgapp.Report(ctx, b.st, hgapp.ReportRequest{Query: q, HTML: true})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := incident.WriteHTML(&buf, *v.Page); err != nil {
		return nil, fmt.Errorf("incident %s: HTML report: %w", id, err)
	}
	return buf.Bytes(), nil
}

// IncidentGraphML answers GET /v1/incidents/{id}/graph.graphml: the graph
// of trace --chain C --seed S... --policy P --graphml - for the seeds and
// policy of the incident's trace run on chain (the first run when chain is
// ""), traced as POST /v1/traces traces.
func (b *apiBackend) IncidentGraphML(ctx context.Context, id, chain string) ([]byte, error) {
	if err := b.incidentVisible(ctx, id); err != nil {
		return nil, err
	}
	inc, err := hgapp.Incident(ctx, b.st, hgapp.IncidentRequest{ID: id})
	if err != nil {
		return nil, err
	}
	var run *hgapp.TraceRunView
	for i, r := range inc.Trace.Runs {
		if chain == "" || string(r.Chain) == chain {
			run = &inc.Trace.Runs[i]
			break
		}
	}
	if run == nil {
		where := "on a UTXO chain (GraphML is written for Bitcoin traces)"
		if chain != "" {
			where = "on " + chain
		}
		return nil, fmt.Errorf("incident %s has no trace %s: %w", id, where, heistgraph.ErrNotFound)
	}
	ans, err := b.Trace(ctx, server.TraceRequest{Chain: string(run.Chain), Seeds: run.Seeds, Policy: run.Policy}, func(int64) {})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := ans.GraphML(&buf); err != nil {
		return nil, fmt.Errorf("incident %s: GraphML: %w", id, err)
	}
	return buf.Bytes(), nil
}
