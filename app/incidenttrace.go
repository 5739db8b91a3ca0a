package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/incident"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
)

// The link from an incident to the chain data: its theft transactions on
// the UTXO chains the store holds, and where their money went (EVM chains:
// incidenttraceevm.go).

// Trace statuses of an IncidentTraceView.
const (
	// TraceDone: the theft transactions were traced; runs say where the
	// money is.
	TraceDone = "traced"
	// TraceNoData: the store holds none of the incident's theft
	// transactions (or the incident names none on a chain heistgraph
	// ingests).
	TraceNoData = "no_chain_data"
)

// IncidentTraceView is the trace object of `incidents show --json`.
type IncidentTraceView struct {
	Status string `json:"status"`
	Note   string `json:"note"`
	// TxsInStore are the incident's theft transactions the store holds.
	TxsInStore []string `json:"txs_in_store"`
	// Evidence is each of those transactions as the store has it.
	Evidence []TheftEvidenceView `json:"evidence"`
	// Runs has one trace per chain traced.
	Runs []TraceRunView `json:"runs"`
	// AccountEvidence and AccountRuns are the same for the theft
	// transactions on EVM chains (incidenttraceevm.go).
	AccountEvidence []AccountTheftEvidenceView `json:"account_evidence,omitempty"`
	AccountRuns     []AccountRunView           `json:"account_runs,omitempty"`
	// ByChain is where the money sits on each chain it reached: the runs'
	// sinks, with what crossed a link (a bridge or THORChain deposit
	// followed to the other chain, exact links) counted where it arrived
	// (Holdings).
	ByChain []ChainHoldings `json:"by_chain"`
}

// TheftEvidenceView is a theft transaction as the store holds it: who paid
// (addresses, or outpoints where the store lacks the spent output) and the
// outputs.
type TheftEvidenceView struct {
	Chain     heistgraph.Chain     `json:"chain"`
	TxID      string               `json:"txid"`
	Height    int64                `json:"block_height"`
	Time      int64                `json:"time"`
	From      []string             `json:"from"`
	Outputs   []EvidenceOutputView `json:"outputs"`
	AmountSat int64                `json:"amount_sat"`
}

// EvidenceOutputView is one output of a theft transaction.
type EvidenceOutputView struct {
	N         int    `json:"n"`
	Address   string `json:"address"`
	AmountSat int64  `json:"amount_sat"`
}

// TraceRunView is one chain's trace: where the seeds' value ended up,
// summed by sink kind and by entity, with the sinks themselves.
type TraceRunView struct {
	Chain         heistgraph.Chain `json:"chain"`
	Policy        string           `json:"policy"`
	Seeds         []string         `json:"seeds"`
	SeedAmountSat int64            `json:"seed_amount_sat"`
	FeesSat       int64            `json:"fees_sat"`
	ByKind        []KindTotalView  `json:"by_kind"`
	ByEntity      []EntityTotal    `json:"by_entity"`
	Sinks         []SinkView       `json:"sinks"`
	TxsVisited    int              `json:"txs_visited"`
	// Across is the trace beyond the links the run's bridge sinks crossed
	// (trace.Across).
	Across *trace.Across `json:"across,omitempty"`

	edges []incident.TraceEdge // for the HTML flow graph
}

// KindTotalView is the sinks of one kind, summed.
type KindTotalView struct {
	Kind      string `json:"kind"`
	Sinks     int    `json:"sinks"`
	AmountSat int64  `json:"amount_sat"`
}

// SinkView is one sink of an incident's trace (design.md's trace sink
// fields).
type SinkView struct {
	Kind      string `json:"kind"`
	Address   string `json:"address"`
	TxID      string `json:"txid"`
	Vout      uint32 `json:"vout"`
	Entity    string `json:"entity"`
	Category  string `json:"category"`
	AmountSat int64  `json:"amount_sat"`
	Hops      int    `json:"hops"`
	// ContinuedSat is what of a bridge sink continued across a link.
	ContinuedSat int64 `json:"continued_sat,omitempty"`
}

// StoredTheft is what the store holds of an incident's theft transactions
// on UTXO chains.
type StoredTheft struct {
	Named  int                                    // theft transactions the register names on UTXO chains
	Chains []heistgraph.Chain                     // chains with at least one stored, in the register's order
	TxIDs  map[heistgraph.Chain][]heistgraph.Hash // the stored ones by chain, in the register's order
	Txs    []heistgraph.TxRecord                  // the stored ones, in the register's order
}

// StoredTheftTxs finds the incident's theft transactions (on UTXO chains)
// that the store holds: what its trace starts from.
func StoredTheftTxs(ctx context.Context, st store.ChainReader, inc heistgraph.Incident) (StoredTheft, error) {
	out := StoredTheft{TxIDs: map[heistgraph.Chain][]heistgraph.Hash{}}
	for _, t := range inc.Txs {
		if t.Role != heistgraph.TxTheft || !t.Chain.IsUTXO() {
			continue
		}
		out.Named++
		h, err := heistgraph.ParseHash(t.TxID)
		if err != nil {
			return out, fmt.Errorf("incident %s: txid %s: %w", inc.ID, t.TxID, err)
		}
		rec, err := st.Tx(ctx, t.Chain, h)
		if errors.Is(err, heistgraph.ErrNotFound) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("incident %s: theft tx %s: %w", inc.ID, t.TxID, err)
		}
		out.Txs = append(out.Txs, rec)
		if _, ok := out.TxIDs[t.Chain]; !ok {
			out.Chains = append(out.Chains, t.Chain)
		}
		out.TxIDs[t.Chain] = append(out.TxIDs[t.Chain], h)
	}
	return out, nil
}

// TheftTrace traces txids on chain with the default options, entities
// resolved through clusters, each seed's source named source.
func TheftTrace(ctx context.Context, st store.Store, chain heistgraph.Chain, txids []heistgraph.Hash, source string) (*trace.Result, error) {
	return trace.Run(ctx, st, theftOptions(st, chain, txids, source))
}

// theftOptions are TheftTrace's options.
func theftOptions(st store.Store, chain heistgraph.Chain, txids []heistgraph.Hash, source string) trace.Options {
	opts := trace.DefaultOptions()
	opts.Chain = chain
	opts.Resolver = EntityResolver(st)
	for _, h := range txids {
		opts.Seeds = append(opts.Seeds, trace.Seed{Kind: trace.SeedTx, TxID: h, Source: source})
	}
	return opts
}

// IncidentTrace finds the incident's theft transactions in the store and
// traces them where it can, with the default options: on UTXO chains from
// their outputs, on EVM chains from what they moved (AccountRuns).
func IncidentTrace(ctx context.Context, st store.Store, inc heistgraph.Incident) (IncidentTraceView, error) {
	out := IncidentTraceView{TxsInStore: []string{}, Evidence: []TheftEvidenceView{}, Runs: []TraceRunView{}, ByChain: []ChainHoldings{}}
	stored, err := StoredTheftTxs(ctx, st, inc)
	if err != nil {
		return out, err
	}
	named, seeds, chains := stored.Named, stored.TxIDs, stored.Chains
	for _, rec := range stored.Txs {
		out.TxsInStore = append(out.TxsInStore, rec.Tx.TxID.String())
		out.Evidence = append(out.Evidence, theftEvidenceOf(rec))
	}
	var utxo []*trace.Result
	for _, ch := range chains {
		run, res, err := traceRun(ctx, st, ch, seeds[ch], inc.ID)
		if err != nil {
			return out, fmt.Errorf("incident %s: trace on %s: %w", inc.ID, ch, err)
		}
		out.Runs = append(out.Runs, run)
		utxo = append(utxo, res)
	}
	namedEVM, acct, err := accountIncidentTrace(ctx, st, inc, &out)
	if err != nil {
		return out, err
	}
	out.ByChain = Holdings(utxo, acct)
	named += namedEVM
	if len(out.TxsInStore) == 0 {
		out.Status = TraceNoData
		if named == 0 {
			out.Note = "no chain data traced: the register names no theft transaction of this incident on a chain heistgraph ingests"
		} else {
			out.Note = fmt.Sprintf("no chain data traced: the store holds none of the incident's %d theft transaction(s); ingest the blocks that hold them", named)
		}
		return out, nil
	}
	out.Status = TraceDone
	out.Note = fmt.Sprintf("traced %d of the incident's %d theft transaction(s) with the default policy; the others are not in the store",
		len(out.TxsInStore), named)
	if len(out.TxsInStore) == named {
		out.Note = fmt.Sprintf("traced the incident's %d theft transaction(s) with the default policy", named)
	}
	return out, nil
}

// traceRun traces every output of the theft transactions txids on chain
// with the default options (haircut; trace.DefaultOptions) and the links
// followed (exact ones as ordinary flow: where laundering crossed to
// another chain, the money is followed there), resolving entities as Trace
// does (through clusters: a label on one address of a cluster names the
// entity of all of them), so that an incident's sinks are those of `trace
// --follow-links --seed` on its theft transactions.
func traceRun(ctx context.Context, st store.Store, chain heistgraph.Chain, txids []heistgraph.Hash, source string) (TraceRunView, *trace.Result, error) {
	opts := theftOptions(st, chain, txids, source)
	opts.FollowLinks = true
	res, err := trace.Run(ctx, st, opts)
	if err != nil {
		return TraceRunView{}, nil, err
	}
	run := TraceRunView{Chain: res.Chain, Policy: string(res.Policy), Seeds: append([]string{}, res.Seeds...),
		SeedAmountSat: res.SeedAmountSat, FeesSat: res.FeesSat, ByKind: []KindTotalView{}, ByEntity: ByEntity(res.Sinks),
		Sinks: []SinkView{}, TxsVisited: res.Stats.TxsVisited, Across: acrossShown(res.Across)}
	for _, k := range res.Totals {
		run.ByKind = append(run.ByKind, KindTotalView{Kind: string(k.Kind), Sinks: k.Sinks, AmountSat: k.AmountSat})
	}
	for _, s := range res.Sinks.All() {
		run.Sinks = append(run.Sinks, SinkView{Kind: string(s.Kind), Address: s.Address, TxID: s.TxID.String(), Vout: s.Vout,
			Entity: s.Entity, Category: s.Category, AmountSat: s.AmountSat, Hops: s.Hops, ContinuedSat: s.ContinuedSat})
	}
	for _, e := range res.Edges.All() {
		run.edges = append(run.edges, incident.TraceEdge{From: e.From.String(), To: e.To.String(),
			Amount: strconv.FormatInt(e.AmountSat, 10), Asset: "sat"})
	}
	return run, res, nil
}

func theftEvidenceOf(rec heistgraph.TxRecord) TheftEvidenceView {
	ev := TheftEvidenceView{Chain: rec.Chain, TxID: rec.Tx.TxID.String(), Height: rec.Block.Height, Time: rec.Block.Time,
		From: []string{}, Outputs: []EvidenceOutputView{}}
	add := func(s string) {
		if !slices.Contains(ev.From, s) {
			ev.From = append(ev.From, s)
		}
	}
	for i, in := range rec.Tx.Inputs {
		switch {
		case in.Coinbase:
			add("coinbase")
		case i < len(rec.Prevouts) && rec.Prevouts[i] != nil && rec.Prevouts[i].Address != "":
			add(rec.Prevouts[i].Address)
		default:
			add(in.PrevOut.String())
		}
	}
	for n, o := range rec.Tx.Outputs {
		ev.Outputs = append(ev.Outputs, EvidenceOutputView{N: n, Address: o.Address, AmountSat: o.Value})
		ev.AmountSat += o.Value
	}
	return ev
}

// Summary turns the trace into what the HTML report shows; nil when there
// is nothing traced to show.
func (t IncidentTraceView) Summary(inc heistgraph.Incident) *incident.TraceSummary {
	if len(t.Runs) == 0 && len(t.AccountRuns) == 0 {
		return nil
	}
	s := &incident.TraceSummary{Incident: inc.ID}
	for _, run := range t.Runs {
		s.Policy = run.Policy
		s.Seeds = append(s.Seeds, run.Seeds...)
		for _, k := range run.Sinks {
			s.Sinks = append(s.Sinks, incident.TraceSink{Chain: run.Chain, Kind: k.Kind, Entity: k.Entity, Category: k.Category, Address: k.Address,
				TxID: k.TxID, Amount: strconv.FormatInt(k.AmountSat, 10), Asset: "sat"})
		}
		s.Edges = append(s.Edges, run.edges...)
		addAcrossSummary(s, run.Across)
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
	t.addAccountSummary(s)
	return s
}

// acrossShown is a run's Across when it found links (nil otherwise: an
// incident that crossed no chain shows as before).
func acrossShown(a *trace.Across) *trace.Across {
	if a == nil || len(a.Links) == 0 {
		return nil
	}
	return a
}

// addAcrossSummary adds the confirmed part beyond a run's links to the
// HTML report's summary: its sinks (with their chain) and edges, and one
// edge per followed link from the bridge deposit to the transaction it
// became, so that the flow graph goes on across chains.
func addAcrossSummary(s *incident.TraceSummary, a *trace.Across) {
	if a == nil {
		return
	}
	for _, l := range a.Links {
		if l.Part != trace.PartConfirmed || l.DstTainted == "0" {
			continue
		}
		s.Edges = append(s.Edges, incident.TraceEdge{From: l.Src.TxID, To: l.Dst.TxID, Amount: l.DstTainted, Asset: l.Dst.Asset + " via " + l.Method})
	}
	for _, k := range a.Sinks {
		if k.Part != trace.PartConfirmed {
			continue
		}
		s.Sinks = append(s.Sinks, incident.TraceSink{Chain: k.Chain, Kind: string(k.Kind), Entity: k.Entity, Category: k.Category, Address: k.Address,
			TxID: k.TxID, Amount: k.Amount, Asset: k.Asset})
	}
	for _, e := range a.Edges {
		if e.Part == trace.PartConfirmed {
			s.Edges = append(s.Edges, incident.TraceEdge{From: e.From, To: e.To, Amount: e.Amount, Asset: e.Asset})
		}
	}
}
