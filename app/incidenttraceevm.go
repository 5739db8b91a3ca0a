package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/incident"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
)

// The link from an incident to EVM chain data: its theft transactions on
// the EVM chains the store holds, traced on balances (trace.RunAccounts)
// with the default policy, as the UTXO part (incidenttrace.go) traces
// outputs.

// AccountTheftEvidenceView is a theft transaction on an EVM chain as the
// store holds it: sender, callee, fee and the value it moved (its ledger
// without fees).
type AccountTheftEvidenceView struct {
	Chain     heistgraph.Chain          `json:"chain"`
	TxID      heistgraph.EVMHash        `json:"txid"`
	Height    int64                     `json:"block_height"`
	Time      int64                     `json:"time"`
	From      heistgraph.EVMAddress     `json:"from"`
	To        heistgraph.EVMAddress     `json:"to"`
	Status    uint8                     `json:"status"`
	Fee       string                    `json:"fee"`
	Transfers []AccountEvidenceTransfer `json:"transfers"`
}

// AccountEvidenceTransfer is one value movement of a theft transaction.
type AccountEvidenceTransfer struct {
	Kind   heistgraph.TransferKind `json:"kind"`
	From   heistgraph.EVMAddress   `json:"from"`
	To     heistgraph.EVMAddress   `json:"to"`
	Asset  heistgraph.Asset        `json:"asset"`
	Amount string                  `json:"amount"`
}

// AccountRunView is one EVM chain's trace of an incident: where the
// seeds' value ended up, summed by sink kind and asset and by entity and
// asset, with the sinks and the per-asset totals (for the default policy,
// per asset seed + converted == sinks + fees, exactly).
type AccountRunView struct {
	Chain            heistgraph.Chain       `json:"chain"`
	Policy           string                 `json:"policy"`
	Seeds            []string               `json:"seeds"`
	SeedAmount       string                 `json:"seed_amount,omitempty"`
	SeedAsset        string                 `json:"seed_asset,omitempty"`
	Decimals         uint8                  `json:"decimals"`
	Fees             string                 `json:"fees"`
	Conserved        bool                   `json:"conserved"`
	Assets           []trace.AssetTotal     `json:"assets"`
	ByKind           []AccountKindTotalView `json:"by_kind"`
	ByEntity         []AccountEntityTotal   `json:"by_entity"`
	Sinks            []trace.AccountSink    `json:"sinks"`
	TxsVisited       int                    `json:"txs_visited"`
	TransfersVisited int                    `json:"transfers_visited"`
	// Across is the trace beyond the links the run's bridge sinks crossed
	// (trace.Across).
	Across *trace.Across `json:"across,omitempty"`

	edges []incident.TraceEdge // for the HTML flow graph
}

// AccountKindTotalView is the sinks of one kind and asset, summed.
type AccountKindTotalView struct {
	Kind   string           `json:"kind"`
	Asset  heistgraph.Asset `json:"asset"`
	Sinks  int              `json:"sinks"`
	Amount string           `json:"amount"`
}

// AccountEntityTotal is what reached one entity in one asset.
type AccountEntityTotal struct {
	Entity   string           `json:"entity"`
	Category string           `json:"category"`
	Asset    heistgraph.Asset `json:"asset"`
	Amount   string           `json:"amount"`
}

// storedAccountTheft is what the store holds of an incident's theft
// transactions on EVM chains.
type storedAccountTheft struct {
	named  int
	chains []heistgraph.Chain
	txids  map[heistgraph.Chain][]heistgraph.EVMHash
	txs    []store.AccountTxRecord
}

// storedAccountTheftTxs finds the incident's theft transactions on EVM
// chains that the store holds.
func storedAccountTheftTxs(ctx context.Context, st store.AccountReader, inc heistgraph.Incident) (storedAccountTheft, error) {
	out := storedAccountTheft{txids: map[heistgraph.Chain][]heistgraph.EVMHash{}}
	for _, t := range inc.Txs {
		if t.Role != heistgraph.TxTheft || !t.Chain.IsEVM() {
			continue
		}
		out.named++
		h, err := heistgraph.ParseEVMHash(t.TxID)
		if err != nil {
			return out, fmt.Errorf("incident %s: txid %s: %w", inc.ID, t.TxID, err)
		}
		rec, err := st.AccountTx(ctx, t.Chain, h)
		if errors.Is(err, heistgraph.ErrNotFound) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("incident %s: theft tx %s: %w", inc.ID, t.TxID, err)
		}
		out.txs = append(out.txs, rec)
		if _, ok := out.txids[t.Chain]; !ok {
			out.chains = append(out.chains, t.Chain)
		}
		out.txids[t.Chain] = append(out.txids[t.Chain], h)
	}
	return out, nil
}

// accountIncidentTrace adds to out the incident's EVM theft transactions
// the store holds (TxsInStore, AccountEvidence) and one trace per chain
// (AccountRuns), links followed as traceRun follows them. It returns how
// many theft transactions the register names on EVM chains, and the traces.
func accountIncidentTrace(ctx context.Context, st store.Store, inc heistgraph.Incident, out *IncidentTraceView) (int, []*trace.AccountResult, error) {
	stored, err := storedAccountTheftTxs(ctx, st, inc)
	if err != nil {
		return 0, nil, err
	}
	var results []*trace.AccountResult
	for _, rec := range stored.txs {
		out.TxsInStore = append(out.TxsInStore, rec.Tx.Hash.String())
		out.AccountEvidence = append(out.AccountEvidence, accountEvidenceOf(rec))
	}
	for _, ch := range stored.chains {
		opts := trace.AccountOptions{Chain: ch, Resolver: EntityResolver(st), FollowLinks: true}
		for _, h := range stored.txids[ch] {
			opts.Seeds = append(opts.Seeds, trace.AccountSeed{Tx: h})
		}
		res, err := trace.RunAccounts(ctx, st, opts)
		if err != nil {
			return stored.named, nil, fmt.Errorf("incident %s: trace on %s: %w", inc.ID, ch, err)
		}
		out.AccountRuns = append(out.AccountRuns, accountRunOf(res))
		results = append(results, res)
	}
	return stored.named, results, nil
}

func accountEvidenceOf(rec store.AccountTxRecord) AccountTheftEvidenceView {
	ev := AccountTheftEvidenceView{Chain: rec.Chain, TxID: rec.Tx.Hash, Height: rec.Block.Height, Time: rec.Block.Time,
		From: rec.Tx.From, To: rec.Tx.To, Status: rec.Tx.Status, Fee: rec.Tx.Fee.Dec(), Transfers: []AccountEvidenceTransfer{}}
	for _, t := range rec.Transfers {
		if t.Kind == heistgraph.TransferFee || t.Kind == heistgraph.TransferPriorityFee {
			continue
		}
		ev.Transfers = append(ev.Transfers, AccountEvidenceTransfer{Kind: t.Kind, From: t.From, To: t.To, Asset: t.Asset, Amount: t.Amount.Dec()})
	}
	return ev
}

// accountRunOf sums an account trace by kind and by entity, per asset.
func accountRunOf(res *trace.AccountResult) AccountRunView {
	run := AccountRunView{Chain: res.Chain, Policy: string(res.Policy), Seeds: slices.Clone(res.Seeds), SeedAmount: res.SeedAmount,
		SeedAsset: res.SeedAsset, Decimals: res.Decimals, Fees: res.Fees, Conserved: res.Conserved, Assets: res.Assets,
		ByKind: []AccountKindTotalView{}, ByEntity: []AccountEntityTotal{}, Sinks: res.Sinks, TxsVisited: res.Stats.TxsVisited,
		TransfersVisited: res.Stats.TransfersVisited, Across: acrossShown(res.Across)}
	type kindKey struct {
		kind  string
		asset heistgraph.Asset
	}
	type entKey struct {
		entity, category string
		asset            heistgraph.Asset
	}
	kinds, ents := map[kindKey]*uint256.Int{}, map[entKey]*uint256.Int{}
	counts := map[kindKey]int{}
	var kindOrder []kindKey
	var entOrder []entKey
	for i := range res.Sinks {
		s := &res.Sinks[i]
		v := s.Value()
		k := kindKey{string(s.Kind), s.Asset}
		if kinds[k] == nil {
			kinds[k] = new(uint256.Int)
			kindOrder = append(kindOrder, k)
		}
		kinds[k].Add(kinds[k], &v)
		counts[k]++
		if s.Entity == "" || s.Kind == trace.SinkSwap {
			continue
		}
		e := entKey{s.Entity, s.Category, s.Asset}
		if ents[e] == nil {
			ents[e] = new(uint256.Int)
			entOrder = append(entOrder, e)
		}
		ents[e].Add(ents[e], &v)
	}
	slices.SortStableFunc(kindOrder, func(a, b kindKey) int {
		return cmp.Or(cmp.Compare(a.asset.Key(), b.asset.Key()), kinds[b].Cmp(kinds[a]), cmp.Compare(a.kind, b.kind))
	})
	slices.SortStableFunc(entOrder, func(a, b entKey) int {
		return cmp.Or(cmp.Compare(a.asset.Key(), b.asset.Key()), ents[b].Cmp(ents[a]), cmp.Compare(a.entity, b.entity))
	})
	for _, k := range kindOrder {
		run.ByKind = append(run.ByKind, AccountKindTotalView{Kind: k.kind, Asset: k.asset, Sinks: counts[k], Amount: kinds[k].Dec()})
	}
	for _, e := range entOrder {
		run.ByEntity = append(run.ByEntity, AccountEntityTotal{Entity: e.entity, Category: e.category, Asset: e.asset, Amount: ents[e].Dec()})
	}
	for _, e := range res.Edges {
		run.edges = append(run.edges, incident.TraceEdge{From: e.From.Hex(), To: e.To.Hex(), Amount: e.Amount, Asset: e.Asset.String()})
	}
	return run
}

// addAccountSummary adds the EVM runs and evidence to the HTML report's
// summary.
func (t IncidentTraceView) addAccountSummary(s *incident.TraceSummary) {
	for _, run := range t.AccountRuns {
		s.Policy = run.Policy
		s.Seeds = append(s.Seeds, run.Seeds...)
		for _, k := range run.Sinks {
			s.Sinks = append(s.Sinks, incident.TraceSink{Chain: run.Chain, Kind: string(k.Kind), Entity: k.Entity, Category: k.Category, Address: k.Address.Hex(),
				TxID: k.TxID.String(), Amount: k.Amount, Asset: k.Asset.String()})
		}
		s.Edges = append(s.Edges, run.edges...)
		addAcrossSummary(s, run.Across)
	}
	for _, ev := range t.AccountEvidence {
		for _, tr := range ev.Transfers {
			s.Evidence = append(s.Evidence, incident.TraceEvidence{Chain: ev.Chain, TxID: ev.TxID.String(), Time: time.Unix(ev.Time, 0).UTC(),
				From: tr.From.Hex(), To: tr.To.Hex(), Amount: tr.Amount, Asset: tr.Asset.String(),
				Note: fmt.Sprintf("theft tx %s transfer, block %d", tr.Kind, ev.Height)})
		}
	}
}
