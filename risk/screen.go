package risk

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Store is what a Screener reads: chain data, labels and clusters. When it
// also implements store.Prices, dusting is judged in USD at each
// transfer's day (methods.md §8.6).
type Store interface {
	store.ChainReader
	store.Labels
	store.Clusters
}

// Options configures a Screener. Only Config is recorded in answers.
type Options struct {
	// Config holds the rules and bounds; its zero fields take defaults.
	Config Config
	// Stolen marks outputs tainted by incidents' and watches' traces; nil
	// marks none.
	Stolen Stolen
	// Normalize, when set, checks a requested address for its chain and
	// puts it in the form labels and the store key it by
	// (heistgraph.NormalizeAddress); its error should wrap
	// heistgraph.ErrInvalid.
	Normalize func(chain heistgraph.Chain, addr string) (string, error)
	// Now gives the time at which ownership labels must be valid. Default
	// time.Now.
	Now func() time.Time
}

// Screener answers screens over one store. It reads every label of a chain
// once, on first use, and keeps them: labels imported and clusters
// rebuilt after that are not seen, so make a Screener per request batch, or
// anew when labels change. It is safe for concurrent use.
type Screener struct {
	st     Store
	cfg    Config
	stolen Stolen
	opts   Options
	// cfgJSON is cfg as answers carry it, made once with its JSON
	// (read-only).
	cfgJSON ConfigJSON

	mu     sync.Mutex
	chains map[heistgraph.Chain]*labelIndex
	tables map[heistgraph.Chain]*Table
	// atables is the precomputed exposure of account chains (evmtable.go).
	atables map[heistgraph.Chain]*acctTable

	memMu     sync.Mutex
	members   map[memberKey]clusterMembers // members walks (labels.go)
	clusterOf map[chainAddr]clusterOf      // AddressCluster answers (labels.go)
	sizes     map[chainCluster]int64       // ClusterSize answers (labels.go)
}

// NewScreener returns a Screener over st. A Config out of range wraps
// heistgraph.ErrInvalid.
func NewScreener(st Store, opts Options) (*Screener, error) {
	cfg := opts.Config
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Screener{st: st, cfg: cfg, cfgJSON: cfg.json().encoded(), stolen: opts.Stolen, opts: opts, chains: map[heistgraph.Chain]*labelIndex{},
		tables: map[heistgraph.Chain]*Table{}, atables: map[heistgraph.Chain]*acctTable{}, members: map[memberKey]clusterMembers{}, clusterOf: map[chainAddr]clusterOf{}, sizes: map[chainCluster]int64{}}, nil
}

// Config returns the validated configuration.
func (s *Screener) Config() Config { return s.cfg }

func (s *Screener) labels(ctx context.Context, chain heistgraph.Chain) (*labelIndex, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ix, ok := s.chains[chain]; ok {
		return ix, nil
	}
	ix, err := loadLabels(ctx, s.st, chain)
	if err != nil {
		return nil, err
	}
	s.chains[chain] = ix
	return ix, nil
}

// ScreenBatch screens items in order. An item that cannot be screened (its
// errs entry is set, or Screen fails other than by ctx) gets a Result with
// its index and error; a cancelled ctx stops the batch with ctx's error.
func (s *Screener) ScreenBatch(ctx context.Context, items []Item, errs []error) (*Batch, error) {
	b := &Batch{Results: make([]Result, len(items))}
	for i, it := range items {
		if i < len(errs) && errs[i] != nil {
			b.Results[i] = Result{Index: i, Err: errs[i]}
			continue
		}
		a, err := s.Screen(ctx, it)
		if err != nil && ctx.Err() != nil {
			return nil, err
		}
		b.Results[i] = Result{Index: i, Answer: a, Err: err}
	}
	return b, nil
}

// Screen answers one item: an address (its cluster's received or sent
// value, methods.md §8.4) or a transfer (one output's own value). A
// malformed address wraps heistgraph.ErrInvalid; a transfer whose output
// the store does not hold wraps heistgraph.ErrNotFound. An address the
// store has never seen is answered from its labels alone.
func (s *Screener) Screen(ctx context.Context, it Item) (*Answer, error) {
	if it.Direction == "" {
		it.Direction = Received
	}
	if it.Direction != Received && it.Direction != Sent {
		return nil, fmt.Errorf("screen: direction %q: want received or sent: %w", short(string(it.Direction)), heistgraph.ErrInvalid)
	}
	if _, err := heistgraph.ParseChain(string(it.Chain)); err != nil {
		return nil, fmt.Errorf("screen: %w", err)
	}
	if it.Outpoint == nil && it.Tx == nil && !(it.Normalized && s.opts.Normalize != nil) {
		if err := CheckAddress(strings.TrimSpace(it.Address)); err != nil {
			return nil, fmt.Errorf("screen %s: %w", short(it.Address), err)
		}
		if s.opts.Normalize != nil {
			n, err := s.opts.Normalize(it.Chain, it.Address)
			if err != nil {
				return nil, fmt.Errorf("screen: %w", err)
			}
			it.Address = n
		}
	}
	idx, err := s.labels(ctx, it.Chain)
	if err != nil {
		return nil, err
	}
	// Owners come from the Screener's memo (r.owners stays nil).
	r := &run{Screener: s, ctx: ctx, chain: it.Chain, idx: idx, tab: s.table(it.Chain), tip: -1}
	cj := s.cfgJSON
	cj.NoCluster = it.NoCluster
	a := &Answer{Chain: it.Chain, Direction: it.Direction, Direct: []Direct{}, Indirect: []Indirect{}, Reasons: []string{}, Config: cj}
	if it.Tx != nil && it.Chain.IsUTXO() {
		return nil, fmt.Errorf("screen %s on %s: a Bitcoin transfer is TXID:VOUT: %w", it.Tx, it.Chain, heistgraph.ErrInvalid)
	}
	if !it.Chain.IsUTXO() {
		if it.Outpoint != nil {
			return nil, fmt.Errorf("screen %s on %s: transfers are Bitcoin outputs (TXID:VOUT): %w", it.Outpoint, it.Chain, heistgraph.ErrInvalid)
		}
		if err := r.screenAccount(a, it); err != nil {
			return nil, err
		}
		return a, nil
	}
	switch tip, err := s.st.Tip(ctx, it.Chain); {
	case err == nil:
		a.AsOf = &AsOf{BlockHeight: tip.Height, Time: tip.Time}
		r.tip = tip.Height
	case !errors.Is(err, heistgraph.ErrNotFound):
		return nil, fmt.Errorf("risk: tip of %s: %w", it.Chain, err)
	}
	var (
		ag       = getAgg(s.cfg.H)
		self     *owner
		payers   []*owner
		memberOf = it.Address
	)
	if it.Outpoint != nil {
		out, err := r.output(*it.Outpoint)
		if err != nil {
			return nil, fmt.Errorf("screen %s: %w", it.Outpoint, err)
		}
		a.Address = out.Address
		a.TxID, a.Vout, a.AmountSat = &it.Outpoint.TxID, &it.Outpoint.Vout, &out.Value
		memberOf = out.Address
		if self, err = r.ownerOf(out.Address); err != nil {
			return nil, err
		}
		if ids, ok := r.tabPayers(it.Outpoint.TxID); ok {
			// The table kept the distinct owners of the paying
			// transaction's inputs, in input order: no need to read it.
			for _, id := range ids {
				payers = append(payers, r.ownerByID(id))
			}
		} else if rec, err := r.tx(it.Outpoint.TxID); err != nil {
			return nil, err
		} else if rec != nil {
			seen := map[string]bool{}
			for _, p := range rec.Prevouts {
				if p == nil {
					continue
				}
				o, err := r.ownerOf(p.Address)
				if err != nil {
					return nil, err
				}
				if !seen[o.id] {
					seen[o.id] = true
					payers = append(payers, o)
				}
			}
		}
		ag.total = out.Value
		if it.Direction == Received {
			if !r.tab.addVector(ag, *it.Outpoint, out.Block.Time) {
				x, err := r.outputVector(*it.Outpoint, s.cfg.H)
				if err != nil {
					return nil, err
				}
				ag.addVector(x, out.Block.Time)
			}
		} else {
			// The payout itself is hop 1, whoever receives it.
			err := r.sentFlow("", map[heistgraph.Outpoint]int64{*it.Outpoint: out.Value}, ag.add)
			if err != nil {
				return nil, err
			}
		}
	} else {
		a.Address = it.Address
		if self, err = r.ownerOf(it.Address); err != nil {
			return nil, err
		}
		payers = []*owner{self}
		if err := r.aggregate(ag, self, it); err != nil {
			return nil, err
		}
	}
	if self.cluster != 0 {
		id := self.cluster
		a.ClusterID = &id
		if sz, err := s.clusterSize(ctx, it.Chain, id); err == nil {
			a.ClusterSize = sz
		}
	}
	if it.Direction == Received && !s.cfg.NoDustingCap {
		if err := r.markDusting(ag, self, memberOf, it.NoCluster); err != nil {
			return nil, err
		}
	}
	if err := r.priceDirect(ag); err != nil {
		return nil, err
	}
	total := ag.total
	if it.Direction == Received {
		a.ReceivedSat = &total
	} else {
		a.SentSat = &total
	}
	r.finish(a, payers, ag)
	ag.release()
	return a, nil
}

// aggregate sums the exposure of what self's cluster received (methods.md
// §8.4, self-transfers excluded) or sent (§8.8) into ag.
func (r *run) aggregate(ag *agg, self *owner, it Item) error {
	addrs, _, err := r.members(self, it.Address, it.NoCluster)
	if err != nil {
		return err
	}
	if it.Direction == Sent {
		start := map[heistgraph.Outpoint]int64{}
		err := r.eachSpend(addrs, 0, func(rec *heistgraph.TxRecord) error {
			var mine int64
			for _, p := range rec.Prevouts {
				if p == nil {
					continue
				}
				o, err := r.ownerOf(p.Address)
				if err != nil {
					return err
				}
				if o.id == self.id || (self.cluster == 0 && p.Address == it.Address) {
					mine += p.Value
				}
			}
			vp, f, w := value(rec)
			for j, part := range spread(mine, vp, f, w) {
				if part == 0 {
					continue
				}
				o, err := r.ownerOf(rec.Tx.Outputs[j].Address)
				if err != nil {
					return err
				}
				if o.id == self.id {
					continue // change
				}
				start[heistgraph.Outpoint{TxID: rec.Tx.TxID, Vout: uint32(j)}] += part
				ag.total += part
			}
			return nil
		})
		if err != nil {
			return err
		}
		return r.sentFlow(self.id, start, ag.add)
	}
	var from int64
	if r.tab != nil {
		// The table holds every receipt up to its height.
		for _, addr := range addrs {
			r.tab.addTo(ag, addr)
		}
		from = r.tab.height + 1
		if from > r.tip {
			return nil // the table covers the chain up to the tip: no receipt is newer
		}
	}
	for _, addr := range addrs {
		for ev, err := range r.st.AddressHistory(r.ctx, r.chain, addr, store.HistoryOptions{FromHeight: from}) {
			if err != nil {
				return fmt.Errorf("risk: history of %s: %w", addr, err)
			}
			if ev.Kind != heistgraph.Received {
				continue
			}
			selfPaid, err := r.paidBy(ev.TxID, self.id)
			if err != nil {
				return err
			}
			if r.budget {
				return nil
			}
			if selfPaid {
				continue // a self-transfer inside the cluster
			}
			ag.total += ev.Amount
			x, err := r.outputVector(ev.Outpoint, r.cfg.H)
			if err != nil {
				return err
			}
			ag.addVector(x, ev.Block.Time)
		}
	}
	return nil
}

// paidBy reports whether an input of transaction h belongs to owner id.
func (r *run) paidBy(h heistgraph.Hash, id string) (bool, error) {
	if r.tab != nil {
		if payers, ok := r.tab.payers[h]; ok {
			return slices.Contains(payers, id), nil
		}
	}
	rec, err := r.tx(h)
	if err != nil || rec == nil {
		return false, err
	}
	for _, p := range rec.Prevouts {
		if p == nil {
			continue
		}
		o, err := r.ownerOf(p.Address)
		if err != nil {
			return false, err
		}
		if o.id == id {
			return true, nil
		}
	}
	return false, nil
}

// eachSpend calls fn once for every transaction that spends an output of
// addrs in a block at height from or above, in the order first met.
func (r *run) eachSpend(addrs []string, from int64, fn func(*heistgraph.TxRecord) error) error {
	done := map[heistgraph.Hash]bool{}
	for _, addr := range addrs {
		for ev, err := range r.st.AddressHistory(r.ctx, r.chain, addr, store.HistoryOptions{FromHeight: from}) {
			if err != nil {
				return fmt.Errorf("risk: history of %s: %w", addr, err)
			}
			if ev.Kind != heistgraph.Spent || done[ev.TxID] {
				continue
			}
			done[ev.TxID] = true
			rec, err := r.tx(ev.TxID)
			if err != nil {
				return err
			}
			if rec == nil {
				if r.budget {
					return nil
				}
				continue
			}
			if err := fn(rec); err != nil {
				return err
			}
		}
	}
	return nil
}

// markDusting marks the direct entries that methods.md §8.6 caps: an
// unsolicited receipt (self's cluster never paid that counterparty), small
// in value (below DustUSD at the day's price, or DustSat where no price is
// known) and in share (below DustShare), not of a stolen category.
func (r *run) markDusting(ag *agg, self *owner, addr string, noCluster bool) error {
	var (
		paid   map[string]bool
		tabled bool // the table answers for the blocks it covers
	)
	for _, k := range ag.directKeys() {
		d := ag.direct[k]
		if isStolen(k.cat) || r.cfg.severity(k.cat) == "" || ag.total == 0 {
			continue
		}
		if share(d.full, d.weak, ag.total) >= r.cfg.DustShare {
			continue
		}
		if paid == nil {
			paid = map[string]bool{}
			addrs, size, err := r.members(self, addr, noCluster)
			if err != nil {
				return err
			}
			from := int64(0)
			if r.tab.paysFor(self, addrs, size, noCluster) {
				tabled, from = true, r.tab.height+1
			}
			if !tabled || from <= r.tip {
				err = r.eachSpend(addrs, from, func(rec *heistgraph.TxRecord) error {
					for _, o := range rec.Tx.Outputs {
						ow, err := r.ownerOf(o.Address)
						if err != nil {
							return err
						}
						paid[ow.id] = true
					}
					return nil
				})
				if err != nil {
					return err
				}
			}
		}
		solicited := false
		for o := range d.owners {
			solicited = solicited || paid[o] || tabled && r.tab.paidRisky(self.id, o)
		}
		if !solicited {
			d.dustCandidate = true
		}
	}
	return nil
}

// priceDirect prices the direct entries at each transfer's day when the store
// has prices (Bitcoin mainnet only) and settles the dusting marks.
func (r *run) priceDirect(ag *agg) error {
	pr, ok := r.st.(store.Prices)
	for _, k := range ag.directKeys() {
		d := ag.direct[k]
		priced := ok && r.chain == heistgraph.ChainBTC && len(d.parts) > 0
		var nano *big.Int // the entry's value in nano-USD, when priced
		if priced {
			nano = new(big.Int)
			for _, p := range d.parts {
				price, err := pr.PriceOn(r.ctx, "BTC", time.Unix(p.time, 0).UTC())
				if errors.Is(err, heistgraph.ErrNotFound) {
					priced = false
					break
				}
				if err != nil {
					return fmt.Errorf("risk: BTC price: %w", err)
				}
				v := new(big.Int).Mul(big.NewInt(p.amount), big.NewInt(int64(price)))
				nano.Add(nano, v.Quo(v, big.NewInt(100_000_000)))
			}
		}
		if priced {
			cents := new(big.Int).Quo(nano, big.NewInt(heistgraph.NanoPerUSD/100))
			f, _ := new(big.Float).SetInt(cents).Float64()
			usd := f / 100
			d.usd = &usd
		}
		if d.dustCandidate {
			small := d.full+d.weak < r.cfg.DustSat
			if priced {
				small = nano.Cmp(new(big.Int).Mul(big.NewInt(r.cfg.DustUSD), big.NewInt(heistgraph.NanoPerUSD))) < 0
			}
			d.dust = small
		}
	}
	return nil
}

func isStolen(cat string) bool {
	return cat == "stolen" || len(cat) > len(StolenPrefix) && cat[:len(StolenPrefix)] == StolenPrefix
}

// share is (full + weak/2) / total as a float from integers.
func share(full, weak, total int64) float64 {
	if total <= 0 {
		return 0
	}
	return float64(2*full+weak) / float64(2*total)
}

// agg is the aggregation of methods.md §8.4: per category and hop the
// amounts (full-weight and weak), and the direct entries.
type agg struct {
	h      int
	total  int64
	cats   map[string]*catAgg
	direct map[dkey]*directAgg
	keys   []dkey // direct's keys sorted, when sorted is set
	sorted bool
	// freeCats and freeDirect are entries of earlier screens, emptied,
	// for reuse (an agg from aggPool).
	freeCats   []*catAgg
	freeDirect []*directAgg
}

type catAgg struct {
	full, weak []int64 // index: hop (1..H)
}

type dkey struct{ entity, cat, source string }

type directAgg struct {
	full, weak    int64
	conf          float64
	owners        map[string]bool
	parts         []part
	dustCandidate bool
	dust          bool
	usd           *float64
}

type part struct{ amount, time int64 }

func newAgg(h int) *agg {
	return &agg{h: h, cats: map[string]*catAgg{}, direct: map[dkey]*directAgg{}}
}

// aggPool holds aggregations for reuse: its maps and entries were most of
// what an address screen allocated.
var aggPool = sync.Pool{New: func() any { return newAgg(0) }}

// Bounds of what release keeps: an aggregation larger than this (a rare
// screen of a big cluster) is left to the garbage collector.
const (
	maxPooledCats   = 64
	maxPooledDirect = 256
)

// getAgg returns an empty aggregation for hops 1..h from aggPool.
func getAgg(h int) *agg {
	g := aggPool.Get().(*agg)
	g.h = h
	return g
}

// release empties g and puts it back in aggPool. Nothing may use g, or
// anything it held, after: an answer keeps none of it (finish copies what
// it reads).
func (g *agg) release() {
	if len(g.cats) > maxPooledCats || len(g.direct) > maxPooledDirect {
		return
	}
	for _, c := range g.cats {
		g.freeCats = append(g.freeCats, c)
	}
	clear(g.cats)
	for _, d := range g.direct {
		clear(d.owners)
		*d = directAgg{owners: d.owners, parts: d.parts[:0]}
		g.freeDirect = append(g.freeDirect, d)
	}
	clear(g.direct)
	g.total, g.keys, g.sorted = 0, g.keys[:0], false
	aggPool.Put(g)
}

// newCat returns an empty catAgg, reused when g has one.
func (g *agg) newCat() *catAgg {
	if n := len(g.freeCats); n > 0 {
		c := g.freeCats[n-1]
		g.freeCats = g.freeCats[:n-1]
		if len(c.full) == g.h+1 {
			clear(c.full)
			clear(c.weak)
			return c
		}
	}
	return &catAgg{full: make([]int64, g.h+1), weak: make([]int64, g.h+1)}
}

// newDirect returns an empty directAgg, reused when g has one.
func (g *agg) newDirect() *directAgg {
	if n := len(g.freeDirect); n > 0 {
		d := g.freeDirect[n-1]
		g.freeDirect = g.freeDirect[:n-1]
		return d
	}
	return &directAgg{owners: map[string]bool{}}
}

// add counts amount a of coordinate k, received (or sent) at time t.
func (g *agg) add(k vkey, a, t int64) {
	if a <= 0 || k.hop < 1 || k.hop > g.h {
		return
	}
	c := g.cats[k.cat]
	if c == nil {
		c = g.newCat()
		g.cats[k.cat] = c
	}
	if k.weak {
		c.weak[k.hop] += a
	} else {
		c.full[k.hop] += a
	}
	if k.hop != 1 {
		return
	}
	dk := dkey{k.entity, k.cat, k.source}
	d := g.direct[dk]
	if d == nil {
		d = g.newDirect()
		g.direct[dk] = d
		g.sorted = false
	}
	if k.weak {
		d.weak += a
	} else {
		d.full += a
	}
	d.conf = max(d.conf, k.conf)
	d.owners[k.owner] = true
	d.parts = append(d.parts, part{a, t})
}

func (g *agg) addVector(x vector, t int64) {
	keys := slices.SortedFunc(maps.Keys(x), func(a, b vkey) int {
		return cmp.Or(cmp.Compare(a.cat, b.cat), cmp.Compare(a.hop, b.hop), cmp.Compare(a.entity, b.entity),
			cmp.Compare(a.source, b.source), cmp.Compare(a.owner, b.owner))
	})
	for _, k := range keys {
		g.add(k, x[k], t)
	}
}

// directKeys returns the keys of the direct entries in order (the
// caller must not modify it; it is kept until a new entry is added).
func (g *agg) directKeys() []dkey {
	if !g.sorted {
		g.keys = slices.AppendSeq(g.keys[:0], maps.Keys(g.direct))
		slices.SortFunc(g.keys, func(a, b dkey) int {
			return cmp.Or(cmp.Compare(a.cat, b.cat), cmp.Compare(a.entity, b.entity), cmp.Compare(a.source, b.source))
		})
		g.sorted = true
	}
	return g.keys
}
