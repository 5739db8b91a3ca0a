package monitor

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
)

// CheckResult is what Check did: the trace of the watch (nil while
// Waiting), the alerts it called for and those of them that were new.
type CheckResult struct {
	Trace   *trace.Result
	Alerts  []heistgraph.Alert
	Raised  []store.StoredAlert
	Waiting bool // none of the watch's seeds is in the store yet
}

// WatchOptions are the trace options of w: trace.DefaultOptions with w's
// chain, policy and seeds (every seed of source w.Name), the seeds the
// store does not hold yet left out. It reports false when none is held.
func WatchOptions(ctx context.Context, st store.ChainReader, w heistgraph.Watch) (trace.Options, bool, error) {
	opts := trace.DefaultOptions()
	opts.Chain = w.Chain
	if w.Policy != "" {
		p, err := trace.ParsePolicy(w.Policy)
		if err != nil {
			return opts, false, fmt.Errorf("watch %s: %w", w.Name, err)
		}
		opts.Policy = p
	}
	for _, s := range w.Seeds {
		sd, err := trace.ParseSeed(s)
		if err != nil {
			return opts, false, fmt.Errorf("watch %s: %w", w.Name, err)
		}
		sd.Source = w.Name
		switch sd.Kind {
		case trace.SeedTx:
			_, err = st.Tx(ctx, w.Chain, sd.TxID)
		case trace.SeedOutput:
			_, err = st.Output(ctx, w.Chain, sd.Outpoint)
		case trace.SeedAddress:
			_, err = st.Address(ctx, w.Chain, sd.Address)
		}
		if errors.Is(err, heistgraph.ErrNotFound) {
			continue
		}
		if err != nil {
			return opts, false, fmt.Errorf("watch %s: seed %s: %w", w.Name, s, err)
		}
		opts.Seeds = append(opts.Seeds, sd)
	}
	return opts, len(opts.Seeds) > 0, nil
}

// TraceWatch traces w's seeds that the store holds as `trace` does
// (app.Trace: the same engine, entities resolved through clusters). It
// returns nil when none of them is stored.
func TraceWatch(ctx context.Context, st store.Store, w heistgraph.Watch) (*trace.Result, error) {
	opts, ok, err := WatchOptions(ctx, st, w)
	if err != nil || !ok {
		return nil, err
	}
	v, err := hgapp.Trace(ctx, st, hgapp.TraceRequest{Chain: string(w.Chain), Options: opts})
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", w.Name, err)
	}
	return v.Result, nil
}

// Check traces w's seeds (TraceWatch) and raises, once per idempotency key
// and durably (Raise), a funds_reached_entity alert for every entity sink
// of the trace (EntityAlerts) and a funds_moved alert for every spent
// output of its seeds (MovedAlerts). Checking the same chain state again raises
// nothing new; an output reached again on another block (after a reorg) is
// a new key. A watch none of whose seeds is stored yet is Waiting and
// raises nothing.
func Check(ctx context.Context, st store.Store, w heistgraph.Watch) (CheckResult, error) {
	res, err := TraceWatch(ctx, st, w)
	if err != nil {
		return CheckResult{}, err
	}
	if res == nil {
		return CheckResult{Waiting: true}, nil
	}
	return checkTrace(ctx, st, w, res)
}

// checkTrace raises the alerts of res, w's trace on st as it is (Check).
func checkTrace(ctx context.Context, st store.Store, w heistgraph.Watch, res *trace.Result) (CheckResult, error) {
	alerts, err := EntityAlerts(ctx, st, w, res)
	if err != nil {
		return CheckResult{}, err
	}
	moved, err := MovedAlerts(ctx, st, w)
	if err != nil {
		return CheckResult{}, err
	}
	alerts = append(alerts, moved...)
	out := CheckResult{Trace: res, Alerts: alerts}
	if len(alerts) == 0 {
		return out, nil
	}
	if out.Raised, err = Raise(ctx, st, alerts...); err != nil {
		return CheckResult{}, fmt.Errorf("watch %s: %w", w.Name, err)
	}
	return out, nil
}

// EntityAlerts turns res's entity sinks into funds_reached_entity alerts of
// watch w: the output (or, for a CoinJoin, the input) where the taint
// reached the entity, its address, entity, category and tainted amount,
// the block that holds its transaction (height, hash, time), the tainted
// share of the output's value, and the path from the seeds (hops, and the
// transactions along the largest tainted edge into each step).
func EntityAlerts(ctx context.Context, st store.ChainReader, w heistgraph.Watch, res *trace.Result) ([]heistgraph.Alert, error) {
	into := map[heistgraph.Hash]trace.Edge{} // the largest tainted edge into each tx
	for _, e := range res.Edges.All() {
		if cur, ok := into[e.To]; !ok || e.AmountSat > cur.AmountSat {
			into[e.To] = e
		}
	}
	var out []heistgraph.Alert
	for _, sk := range res.Sinks.All() {
		if sk.Kind != trace.SinkEntity || sk.AmountSat <= 0 {
			continue
		}
		rec, err := st.Tx(ctx, res.Chain, sk.TxID)
		if err != nil {
			return nil, fmt.Errorf("watch %s: sink tx %s: %w", w.Name, sk.TxID, err)
		}
		var value int64
		if sk.Input == "" {
			if int(sk.Vout) < len(rec.Tx.Outputs) {
				value = rec.Tx.Outputs[sk.Vout].Value
			}
		} else if int(sk.Vout) < len(rec.Prevouts) && rec.Prevouts[sk.Vout] != nil {
			value = rec.Prevouts[sk.Vout].Value
		}
		a := heistgraph.Alert{Kind: heistgraph.AlertFundsReachedEntity, Chain: res.Chain, Watch: w.Name,
			TxID: sk.TxID, Vout: sk.Vout, Address: sk.Address, Entity: sk.Entity, Category: sk.Category,
			AmountSat: sk.AmountSat, BlockHeight: rec.Block.Height, BlockHash: rec.Block.Hash, Time: rec.Block.Time,
			Path: heistgraph.AlertPath{Hops: sk.Hops, TxIDs: pathTo(into, sk.TxID)}, Incident: w.Incident}
		if value > 0 {
			a.Share = float64(sk.AmountSat) / float64(value)
		}
		out = append(out, a)
	}
	return out, nil
}

// MovedAlerts returns a funds_moved alert for every output of w's seeds
// (an outpoint seed's output; every output of a transaction seed) that the
// store holds as spent: the coin (txid, vout, address, its whole value as
// amount, share 1), the block of the spending transaction (so a spend
// re-mined on another block after a reorg is a new key), and the path
// (hops 1: the seed's transaction, then the spender). Address seeds raise
// none.
func MovedAlerts(ctx context.Context, st store.ChainReader, w heistgraph.Watch) ([]heistgraph.Alert, error) {
	ops, err := seedOutpoints(ctx, st, w)
	if err != nil {
		return nil, err
	}
	var out []heistgraph.Alert
	for _, op := range ops {
		o, err := st.Output(ctx, w.Chain, op)
		if errors.Is(err, heistgraph.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("watch %s: output %s: %w", w.Name, op, err)
		}
		if o.SpentBy == nil || o.Value <= 0 {
			continue
		}
		sp, err := st.Tx(ctx, w.Chain, o.SpentBy.TxID)
		if errors.Is(err, heistgraph.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("watch %s: spender of %s: %w", w.Name, op, err)
		}
		out = append(out, heistgraph.Alert{Kind: heistgraph.AlertFundsMoved, Chain: w.Chain, Watch: w.Name,
			TxID: op.TxID, Vout: op.Vout, Address: o.Address, AmountSat: o.Value, Share: 1,
			BlockHeight: sp.Block.Height, BlockHash: sp.Block.Hash, Time: sp.Block.Time,
			Path: heistgraph.AlertPath{Hops: 1, TxIDs: []heistgraph.Hash{op.TxID, o.SpentBy.TxID}}, Incident: w.Incident})
	}
	return out, nil
}

// seedOutpoints returns the outputs of w's seeds, each once: an outpoint
// seed's output, and every output of a transaction seed the store holds.
// Address seeds have none.
func seedOutpoints(ctx context.Context, st store.ChainReader, w heistgraph.Watch) ([]heistgraph.Outpoint, error) {
	var ops []heistgraph.Outpoint
	seen := map[heistgraph.Outpoint]bool{}
	add := func(op heistgraph.Outpoint) {
		if !seen[op] {
			seen[op] = true
			ops = append(ops, op)
		}
	}
	seeds, err := parseSeeds(w)
	if err != nil {
		return nil, err
	}
	for _, sd := range seeds {
		switch sd.Kind {
		case trace.SeedOutput:
			add(sd.Outpoint)
		case trace.SeedTx:
			rec, err := st.Tx(ctx, w.Chain, sd.TxID)
			if errors.Is(err, heistgraph.ErrNotFound) {
				continue
			} else if err != nil {
				return nil, fmt.Errorf("watch %s: seed %s: %w", w.Name, sd.TxID, err)
			}
			for i := range rec.Tx.Outputs {
				add(heistgraph.Outpoint{TxID: sd.TxID, Vout: uint32(i)})
			}
		}
	}
	return ops, nil
}

// parseSeeds parses w's seeds.
func parseSeeds(w heistgraph.Watch) ([]trace.Seed, error) {
	out, err := trace.ParseSeeds(w.Seeds)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", w.Name, err)
	}
	return out, nil
}

// pathTo walks the largest tainted edges back from tx to a transaction no
// tainted edge enters (a seed's), and returns the transactions seed side
// first, tx last.
func pathTo(into map[heistgraph.Hash]trace.Edge, tx heistgraph.Hash) []heistgraph.Hash {
	path := []heistgraph.Hash{tx}
	seen := map[heistgraph.Hash]bool{tx: true}
	for {
		e, ok := into[path[len(path)-1]]
		if !ok || seen[e.From] {
			break
		}
		seen[e.From] = true
		path = append(path, e.From)
	}
	for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
		path[i], path[j] = path[j], path[i]
	}
	return path
}

// Watcher is the server.Watcher of a store: it checks new watches against
// the incident register and the chain, and checks them at once.
type Watcher struct {
	Store store.Store
	// Notify, when set, is called after alerts were raised (the
	// Deliverer's Notify).
	Notify func()
	// Changed, when set, is called after a watch was checked or removed
	// (serve rebuilds its screener: a watch's outputs screen as
	// stolen:<name>).
	Changed func()
	// Live, when set, checks the watches (so it remembers what those of
	// its chain rest on, and a check never races a rewind's retraction).
	Live *Live
}

// Prepare implements server.Watcher: a name that is an incident id of the
// register, or an address seed not valid on the watch's chain, wraps
// heistgraph.ErrInvalid; address seeds are normalised.
func (x *Watcher) Prepare(ctx context.Context, w *heistgraph.Watch) error {
	reg, _, err := hgapp.Register(ctx, x.Store)
	if err != nil {
		return fmt.Errorf("watch %s: %w", w.Name, err)
	}
	if _, ok := reg.Incident(w.Name); ok {
		return fmt.Errorf("name: %q is an incident id (its watch is made for it): %w", w.Name, heistgraph.ErrInvalid)
	}
	for i, s := range w.Seeds {
		sd, err := trace.ParseSeed(s)
		if err != nil {
			return fmt.Errorf("seeds[%d]: %w", i, err)
		}
		if sd.Kind != trace.SeedAddress {
			continue
		}
		n, err := hgapp.ValidAddress(w.Chain, sd.Address)
		if err != nil {
			return fmt.Errorf("seeds[%d]: %w", i, err)
		}
		w.Seeds[i] = n
	}
	return nil
}

// Check implements server.Watcher (Check, then Notify when alerts were
// raised).
func (x *Watcher) Check(ctx context.Context, w heistgraph.Watch) (alerts, raised int, waiting bool, err error) {
	var r CheckResult
	if x.Live != nil {
		r, err = x.Live.Check(ctx, w)
	} else {
		r, err = Check(ctx, x.Store, w)
	}
	if err != nil {
		return 0, 0, false, err
	}
	if len(r.Raised) > 0 && x.Notify != nil {
		x.Notify()
	}
	if x.Changed != nil {
		x.Changed()
	}
	return len(r.Alerts), len(r.Raised), r.Waiting, nil
}

// Removed implements server.Watcher: it calls Changed.
func (x *Watcher) Removed(context.Context, heistgraph.Watch) {
	if x.Changed != nil {
		x.Changed()
	}
}

// IncidentWatches makes sure every incident of the register whose theft
// transactions the store holds (on a UTXO chain) is watched, under the
// name of its incident id (and, for an incident on several chains, id-chain
// for the other chains), with its theft transactions as seeds and the
// default policy; watches already stored are kept as they are. It returns
// the incidents' watches, stored or made now.
func IncidentWatches(ctx context.Context, st store.Store, now int64) ([]heistgraph.Watch, error) {
	reg, _, err := hgapp.Register(ctx, st)
	if err != nil {
		return nil, err
	}
	var out []heistgraph.Watch
	for _, inc := range reg.Incidents() {
		stored, err := hgapp.StoredTheftTxs(ctx, st, inc)
		if err != nil {
			return nil, err
		}
		for i, ch := range stored.Chains {
			seeds := make([]string, len(stored.TxIDs[ch]))
			for j, h := range stored.TxIDs[ch] {
				seeds[j] = h.String()
			}
			name := inc.ID
			if i > 0 {
				name = inc.ID + "-" + strings.ReplaceAll(string(ch), "_", "-")
			}
			if heistgraph.ValidateWatchName(name) != nil {
				continue // an id that is no watch name (imported registers)
			}
			w, err := st.Watch(ctx, name)
			if errors.Is(err, heistgraph.ErrNotFound) {
				w = heistgraph.Watch{Name: name, Chain: ch, Seeds: seeds, Policy: string(trace.DefaultPolicy), Created: now, Incident: inc.ID}
				if err = st.PutWatch(ctx, w); errors.Is(err, heistgraph.ErrConflict) {
					w, err = st.Watch(ctx, name)
				}
			}
			if err != nil {
				return nil, fmt.Errorf("incident %s: watch: %w", inc.ID, err)
			}
			out = append(out, w)
		}
	}
	return out, nil
}

// CheckAll retracts the alerts whose blocks the store holds another block
// in place of (Retract, on every UTXO chain: a reorg followed while serve
// was not running) and checks every stored watch (after IncidentWatches has made
// the incidents' ones). It returns how many alerts were new. serve runs it
// at start when it does not follow a node.
func CheckAll(ctx context.Context, st store.Store, now int64) (int, error) {
	if _, err := IncidentWatches(ctx, st, now); err != nil {
		return 0, err
	}
	n := 0
	for _, net := range heistgraph.Networks() {
		if !net.Chain.IsUTXO() {
			continue
		}
		r, _, err := Retract(ctx, st, net.Chain, math.MaxInt64)
		if err != nil {
			return n, err
		}
		n += len(r)
	}
	var ws []heistgraph.Watch
	for w, err := range st.WatchList(ctx) {
		if err != nil {
			return 0, err
		}
		ws = append(ws, w)
	}
	for _, w := range ws {
		r, err := Check(ctx, st, w)
		if err != nil {
			return n, err
		}
		n += len(r.Raised)
	}
	return n, nil
}
