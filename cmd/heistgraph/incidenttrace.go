package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/incident"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
)

// The link from an incident to the chain data: its theft transactions on
// the UTXO chains the store holds, and where their money went.

// Trace statuses of `incidents show`.
const (
	// traceDone: the theft transactions were traced; runs say where the
	// money is.
	traceDone = "traced"
	// traceNoData: the store holds none of the incident's theft
	// transactions (or the incident names none on a UTXO chain).
	traceNoData = "no_chain_data"
)

// incidentTrace is the trace object of `incidents show --json`.
type incidentTrace struct {
	Status string `json:"status"`
	Note   string `json:"note"`
	// TxsInStore are the incident's theft transactions the store holds.
	TxsInStore []string `json:"txs_in_store"`
	// Evidence is each of those transactions as the store has it.
	Evidence []traceEvidenceJSON `json:"evidence"`
	// Runs has one trace per chain traced.
	Runs []traceRun `json:"runs"`
}

type traceEvidenceJSON struct {
	Chain     heistgraph.Chain `json:"chain"`
	TxID      string           `json:"txid"`
	Height    int64            `json:"block_height"`
	Time      int64            `json:"time"`
	From      []string         `json:"from"`
	Outputs   []evidenceOutput `json:"outputs"`
	AmountSat int64            `json:"amount_sat"`
}

type evidenceOutput struct {
	N         int    `json:"n"`
	Address   string `json:"address"`
	AmountSat int64  `json:"amount_sat"`
}

// traceRun is one chain's trace: where the seeds' value ended up, summed by
// sink kind and by entity, with the sinks themselves.
type traceRun struct {
	Chain         heistgraph.Chain `json:"chain"`
	Policy        string           `json:"policy"`
	Seeds         []string         `json:"seeds"`
	SeedAmountSat int64            `json:"seed_amount_sat"`
	FeesSat       int64            `json:"fees_sat"`
	ByKind        []kindTotalJSON  `json:"by_kind"`
	ByEntity      []entityJSON     `json:"by_entity"`
	Sinks         []sinkJSON       `json:"sinks"`
	TxsVisited    int              `json:"txs_visited"`

	edges []incident.TraceEdge // for the HTML flow graph
}

type kindTotalJSON struct {
	Kind      string `json:"kind"`
	Sinks     int    `json:"sinks"`
	AmountSat int64  `json:"amount_sat"`
}

type entityJSON struct {
	Entity    string `json:"entity"`
	Category  string `json:"category"`
	AmountSat int64  `json:"amount_sat"`
}

type sinkJSON struct {
	Kind      string `json:"kind"`
	Address   string `json:"address"`
	TxID      string `json:"txid"`
	Vout      uint32 `json:"vout"`
	Entity    string `json:"entity"`
	Category  string `json:"category"`
	AmountSat int64  `json:"amount_sat"`
	Hops      int    `json:"hops"`
}

// traceIncident finds the incident's theft transactions in the store and
// traces them where it can.
func traceIncident(ctx context.Context, r store.Store, inc heistgraph.Incident) (incidentTrace, error) {
	out := incidentTrace{TxsInStore: []string{}, Evidence: []traceEvidenceJSON{}, Runs: []traceRun{}}
	seeds := map[heistgraph.Chain][]heistgraph.Hash{}
	var chains []heistgraph.Chain
	named := 0
	for _, t := range inc.Txs {
		if t.Role != heistgraph.TxTheft || !t.Chain.IsUTXO() {
			continue
		}
		named++
		h, err := heistgraph.ParseHash(t.TxID)
		if err != nil {
			return out, fmt.Errorf("incident %s: txid %s: %w", inc.ID, t.TxID, err)
		}
		rec, err := r.Tx(ctx, t.Chain, h)
		if isNotFoundErr(err) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("incident %s: theft tx %s: %w", inc.ID, t.TxID, err)
		}
		out.TxsInStore = append(out.TxsInStore, t.TxID)
		out.Evidence = append(out.Evidence, evidenceOf(rec))
		if _, ok := seeds[t.Chain]; !ok {
			chains = append(chains, t.Chain)
		}
		seeds[t.Chain] = append(seeds[t.Chain], h)
	}
	if len(out.TxsInStore) == 0 {
		out.Status = traceNoData
		if named == 0 {
			out.Note = "no chain data traced: the register names no theft transaction of this incident on a UTXO chain"
		} else {
			out.Note = fmt.Sprintf("no chain data traced: the store holds none of the incident's %d theft transaction(s); ingest the blocks that hold them", named)
		}
		return out, nil
	}
	for _, ch := range chains {
		run, err := runTrace(ctx, r, ch, seeds[ch], inc.ID)
		if err != nil {
			return out, fmt.Errorf("incident %s: trace on %s: %w", inc.ID, ch, err)
		}
		out.Runs = append(out.Runs, *run)
	}
	out.Status = traceDone
	out.Note = fmt.Sprintf("traced %d of the incident's %d theft transaction(s) with the default policy; the others are not in the store",
		len(out.TxsInStore), named)
	if len(out.TxsInStore) == named {
		out.Note = fmt.Sprintf("traced the incident's %d theft transaction(s) with the default policy", named)
	}
	return out, nil
}

// runTrace traces every output of the theft transactions txids on chain
// with the default options (haircut; trace.DefaultOptions), resolving
// entities with the labels in the store.
//
// TODO(cluster): resolve through clusters (cluster.NewResolver) once
// package cluster provides it; labels on the addresses themselves stop the
// trace until then.
func runTrace(ctx context.Context, st store.Store, chain heistgraph.Chain, txids []heistgraph.Hash, source string) (*traceRun, error) {
	opts := trace.DefaultOptions()
	opts.Chain = chain
	opts.Resolver = labelResolver{st}
	for _, h := range txids {
		opts.Seeds = append(opts.Seeds, trace.Seed{Kind: trace.SeedTx, TxID: h, Source: source})
	}
	res, err := trace.Run(ctx, st, opts)
	if err != nil {
		return nil, err
	}
	run := &traceRun{Chain: res.Chain, Policy: string(res.Policy), Seeds: append([]string{}, res.Seeds...),
		SeedAmountSat: res.SeedAmountSat, FeesSat: res.FeesSat, ByKind: []kindTotalJSON{}, ByEntity: []entityJSON{},
		Sinks: []sinkJSON{}, TxsVisited: res.Stats.TxsVisited}
	for _, k := range res.Totals {
		run.ByKind = append(run.ByKind, kindTotalJSON{Kind: string(k.Kind), Sinks: k.Sinks, AmountSat: k.AmountSat})
	}
	entity := map[[2]string]int{}
	for _, s := range res.Sinks {
		run.Sinks = append(run.Sinks, sinkJSON{Kind: string(s.Kind), Address: s.Address, TxID: s.TxID.String(), Vout: s.Vout,
			Entity: s.Entity, Category: s.Category, AmountSat: s.AmountSat, Hops: s.Hops})
		if s.Entity == "" {
			continue
		}
		k := [2]string{s.Entity, s.Category}
		i, ok := entity[k]
		if !ok {
			i = len(run.ByEntity)
			entity[k] = i
			run.ByEntity = append(run.ByEntity, entityJSON{Entity: s.Entity, Category: s.Category})
		}
		run.ByEntity[i].AmountSat += s.AmountSat
	}
	slices.SortStableFunc(run.ByEntity, func(a, b entityJSON) int {
		return cmp.Or(cmp.Compare(b.AmountSat, a.AmountSat), cmp.Compare(a.Entity, b.Entity))
	})
	for _, e := range res.Edges {
		run.edges = append(run.edges, incident.TraceEdge{From: e.From.String(), To: e.To.String(),
			Amount: strconv.FormatInt(e.AmountSat, 10), Asset: "sat"})
	}
	return run, nil
}

// labelResolver names the entity of an address from the labels stored on
// it: the most confident label (the first of equals, in the store's
// order), the other entity names as conflicts.
type labelResolver struct{ st store.Labels }

func (r labelResolver) Resolve(ctx context.Context, chain heistgraph.Chain, addr string) (heistgraph.EntityRef, bool, error) {
	ls, err := r.st.AddressLabels(ctx, chain, addr)
	if err != nil || len(ls) == 0 {
		return heistgraph.EntityRef{}, false, err
	}
	best := 0
	for i, l := range ls {
		if l.Confidence > ls[best].Confidence {
			best = i
		}
	}
	l := ls[best]
	ref := heistgraph.EntityRef{Name: l.Entity, Category: l.Category, Source: l.Source, Confidence: l.Confidence}
	for _, o := range ls {
		if o.Entity != l.Entity && !hasString(ref.Conflicts, o.Entity) {
			ref.Conflicts = append(ref.Conflicts, o.Entity)
		}
	}
	return ref, true, nil
}

func isNotFoundErr(err error) bool { return err != nil && errors.Is(err, heistgraph.ErrNotFound) }

func evidenceOf(rec heistgraph.TxRecord) traceEvidenceJSON {
	ev := traceEvidenceJSON{Chain: rec.Chain, TxID: rec.Tx.TxID.String(), Height: rec.Block.Height, Time: rec.Block.Time,
		From: []string{}, Outputs: []evidenceOutput{}}
	for i, in := range rec.Tx.Inputs {
		if in.Coinbase {
			ev.From = appendUnique(ev.From, "coinbase")
			continue
		}
		if i < len(rec.Prevouts) && rec.Prevouts[i] != nil && rec.Prevouts[i].Address != "" {
			ev.From = appendUnique(ev.From, rec.Prevouts[i].Address)
		} else {
			ev.From = appendUnique(ev.From, in.PrevOut.String())
		}
	}
	for n, o := range rec.Tx.Outputs {
		ev.Outputs = append(ev.Outputs, evidenceOutput{N: n, Address: o.Address, AmountSat: o.Value})
		ev.AmountSat += o.Value
	}
	return ev
}

func appendUnique(list []string, s string) []string {
	if hasString(list, s) {
		return list
	}
	return append(list, s)
}

// summary turns the trace into what the HTML report shows; nil when there
// is nothing traced to show.
func (t incidentTrace) summary(inc heistgraph.Incident) *incident.TraceSummary {
	if len(t.Runs) == 0 {
		return nil
	}
	s := &incident.TraceSummary{Incident: inc.ID}
	for _, run := range t.Runs {
		s.Policy = run.Policy
		s.Seeds = append(s.Seeds, run.Seeds...)
		for _, k := range run.Sinks {
			s.Sinks = append(s.Sinks, incident.TraceSink{Kind: k.Kind, Entity: k.Entity, Category: k.Category, Address: k.Address,
				TxID: k.TxID, Amount: strconv.FormatInt(k.AmountSat, 10), Asset: "sat"})
		}
		s.Edges = append(s.Edges, run.edges...)
	}
	for _, ev := range t.Evidence {
		for _, o := range ev.Outputs {
			from := ""
			if len(ev.From) > 0 {
				from = ev.From[0]
				if len(ev.From) > 1 {
					from += fmt.Sprintf(" (+%d)", len(ev.From)-1)
				}
			}
			s.Evidence = append(s.Evidence, incident.TraceEvidence{Chain: ev.Chain, TxID: ev.TxID, Time: time.Unix(ev.Time, 0).UTC(),
				From: from, To: o.Address, Amount: strconv.FormatInt(o.AmountSat, 10), Asset: "sat",
				Note: fmt.Sprintf("theft tx output %d, block %d", o.N, ev.Height)})
		}
	}
	return s
}

func writeTrace(w io.Writer, t incidentTrace) {
	printf(w, "  %s\n", t.Note)
	for _, ev := range t.Evidence {
		printf(w, "  theft tx %s (block %d, %s): %s sat\n", ev.TxID, ev.Height, unixUTC(ev.Time), strconv.FormatInt(ev.AmountSat, 10))
	}
	for _, run := range t.Runs {
		printf(w, "  %s, %s policy, %d sat from %d seed(s), %d sat in fees, %d txs visited\n", run.Chain, run.Policy,
			run.SeedAmountSat, len(run.Seeds), run.FeesSat, run.TxsVisited)
		for _, k := range run.ByKind {
			printf(w, "    %-10s %16d sat in %d sink(s)\n", k.Kind, k.AmountSat, k.Sinks)
		}
		for _, e := range run.ByEntity {
			printf(w, "    entity %s (%s): %d sat\n", e.Entity, e.Category, e.AmountSat)
		}
	}
}
