package mixer

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Link confidences (methods.md §0.3), heistgraph's levels.
const (
	Strong     = heistgraph.ConfidenceStrong
	Probable   = heistgraph.ConfidenceProbable
	Hypothesis = heistgraph.ConfidenceHypothesis
)

// Heuristic ids (methods.md §4.9).
const (
	T1 = "T1" // address match
	T2 = "T2" // unique gas price
	T3 = "T3" // linked addresses
	T4 = "T4" // multi-denomination
)

// Defaults of Options.
const (
	DefaultWindow          = 24 * 60 * 60
	DefaultMinInteractions = 2
	DefaultMaxHistory      = 10_000
)

// Options configures a Linker. The zero value of a field means its default.
type Options struct {
	// Hypotheses asks for T2, T3 and T4 besides T1.
	Hypotheses bool
	// Window is T4's window in seconds: the deposits within it around the
	// deposit, the withdrawals within it after the last of them. Default
	// 24 h.
	Window int64
	// MinInteractions is T3's least number of transactions the depositor
	// and the withdrawer have, together, with the third address (at least
	// one each). Default 2.
	MinInteractions int
	// MaxHistory bounds the history read of one address (T1's and T4's
	// depositor, T3's counterparties): a busier address is read this far
	// (depositor) or taken for a service and skipped (T3). Default 10,000.
	MaxHistory int
	// Service reports whether an address is a service (labelled): T3 never
	// links through one. nil: none is.
	Service func(ctx context.Context, a heistgraph.EVMAddress) (bool, error)
}

// Evidence is why a heuristic linked a deposit and a withdrawal.
type Evidence struct {
	Heuristic string `json:"heuristic"`
	Detail    string `json:"detail"`
	// Address is T1's matched address, T3's third address, T4's
	// withdrawal address.
	Address *heistgraph.EVMAddress `json:"address,omitempty"`
	// GasPrice is T2's shared price key: "legacy:<wei>" (gas price) or
	// "1559:<wei>" (the priority fee per gas paid, the store keeps no
	// maxFee/maxPriority pair).
	GasPrice string `json:"gas_price,omitempty"`
	// Interactions is T3's transactions with the third address
	// (depositor's, withdrawer's).
	Interactions []int `json:"interactions,omitempty"`
	// Candidates is T1's count of the depositor's deposits into the pool
	// and of withdrawals to it, paired in chain order.
	Candidates []int `json:"candidates,omitempty"`
	// Deposits and Withdrawals are T4's multisets (transactions).
	Deposits    []heistgraph.EVMHash `json:"deposits,omitempty"`
	Withdrawals []heistgraph.EVMHash `json:"withdrawals,omitempty"`
}

// Link is a deposit→withdrawal link (methods.md §4.9): which heuristics
// found it, its confidence (strong with T1; probable for a single other
// heuristic's unique candidate; hypothesis when a deposit has several
// candidates), and the pool's anonymity set at the withdrawal.
type Link struct {
	Pool         heistgraph.EVMAddress `json:"pool"`
	DepositTx    heistgraph.EVMHash    `json:"deposit_tx"`
	WithdrawalTx heistgraph.EVMHash    `json:"withdrawal_tx"`
	Heuristics   []string              `json:"heuristics"`
	Confidence   heistgraph.Confidence `json:"confidence"`
	AnonymitySet int                   `json:"anonymity_set"`
	// AnonymityExact is false when the store lacks part of the pool's
	// history (Index.Exact): the set is then a lower bound's guess.
	AnonymityExact bool       `json:"anonymity_set_exact"`
	Evidence       []Evidence `json:"evidence"`
	Deposit        Deposit    `json:"deposit"`
	Withdrawal     Withdrawal `json:"withdrawal"`
}

// Linker finds Tornado deposits and their links in a store. It caches what
// it reads (pool indexes, transactions, histories): use one per question
// over a store that does not change meanwhile. Not safe for concurrent use.
type Linker struct {
	r     store.AccountReader
	t     *Table
	o     Options
	idx   map[heistgraph.EVMAddress]*Index
	txs   map[heistgraph.EVMHash]*store.AccountTxRecord
	by    map[heistgraph.EVMAddress][]Deposit
	gas   map[heistgraph.EVMHash]string
	bases map[int64]uint256.Int
}

// NewLinker returns a linker over r for t's chain.
func NewLinker(r store.AccountReader, t *Table, o Options) *Linker {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.MinInteractions <= 0 {
		o.MinInteractions = DefaultMinInteractions
	}
	if o.MaxHistory <= 0 {
		o.MaxHistory = DefaultMaxHistory
	}
	return &Linker{r: r, t: t, o: o, idx: map[heistgraph.EVMAddress]*Index{}, txs: map[heistgraph.EVMHash]*store.AccountTxRecord{},
		by: map[heistgraph.EVMAddress][]Deposit{}, gas: map[heistgraph.EVMHash]string{}, bases: map[int64]uint256.Int{}}
}

// Table returns the linker's pool table.
func (k *Linker) Table() *Table { return k.t }

// Index returns the index of the pool at a (loaded once); a must be a pool
// of the table.
func (k *Linker) Index(ctx context.Context, a heistgraph.EVMAddress) (*Index, error) {
	if x, ok := k.idx[a]; ok {
		return x, nil
	}
	p, ok := k.t.Pool(a)
	if !ok {
		return nil, fmt.Errorf("mixer: %s is no Tornado pool of %s: %w", a.Hex(), k.t.chain, heistgraph.ErrInvalid)
	}
	x, err := LoadIndex(ctx, k.r, k.t.chain, p)
	if err != nil {
		return nil, err
	}
	k.idx[a] = x
	return x, nil
}

// tx returns a stored transaction, cached.
func (k *Linker) tx(ctx context.Context, h heistgraph.EVMHash) (*store.AccountTxRecord, error) {
	if r, ok := k.txs[h]; ok {
		return r, nil
	}
	r, err := k.r.AccountTx(ctx, k.t.chain, h)
	if err != nil {
		return nil, fmt.Errorf("mixer: tx %s: %w", h, err)
	}
	k.txs[h] = &r
	return &r, nil
}

// TxEvents returns the Tornado deposits and withdrawals that pools of the
// table logged in transaction h, by log index, with depositor and sender
// (the transaction's sender), height and time. A log that does not decode
// is left out.
func (k *Linker) TxEvents(ctx context.Context, h heistgraph.EVMHash) ([]Deposit, []Withdrawal, error) {
	rec, err := k.tx(ctx, h)
	if err != nil {
		return nil, nil, err
	}
	var ds []Deposit
	var ws []Withdrawal
	for i := range rec.Logs {
		l := &rec.Logs[i]
		if _, ok := k.t.Pool(l.Address); !ok {
			continue
		}
		switch l.Topic0() {
		case TopicDeposit:
			if d, err := DecodeDeposit(l); err == nil {
				d.Height, d.Time, d.Depositor = rec.Block.Height, rec.Block.Time, rec.Tx.From
				ds = append(ds, d)
			}
		case TopicWithdrawal:
			if w, err := DecodeWithdrawal(l); err == nil {
				w.Height, w.Time, w.Sender = rec.Block.Height, rec.Block.Time, rec.Tx.From
				ws = append(ws, w)
			}
		}
	}
	return ds, ws, nil
}

// Payout returns what the pool paid out in withdrawal w's transaction, in
// its asset: the transfers from the pool (the denomination when the
// store holds the transaction's internal transfers), and whether internal
// transfers are known for it.
func (k *Linker) Payout(ctx context.Context, w *Withdrawal) (uint256.Int, bool, error) {
	rec, err := k.tx(ctx, w.TxHash)
	if err != nil {
		return uint256.Int{}, false, err
	}
	p, _ := k.t.Pool(w.Pool)
	var sum uint256.Int
	for i := range rec.Transfers {
		t := &rec.Transfers[i]
		if t.From == w.Pool && t.Asset == p.Asset && t.Credits() && t.Kind != heistgraph.TransferFee {
			sum.Add(&sum, &t.Amount)
		}
	}
	return sum, rec.InternalKnown || !p.Asset.IsNative(), nil
}

// depositsBy returns a's deposits into the table's pools (any), in chain
// order: the transactions in which a's value went to a pool or an entry
// point and a pool logged deposits, a being the sender.
func (k *Linker) depositsBy(ctx context.Context, a heistgraph.EVMAddress) ([]Deposit, error) {
	if ds, ok := k.by[a]; ok {
		return ds, nil
	}
	var txs []heistgraph.EVMHash
	n := 0
	for ev, err := range k.r.AccountHistory(ctx, k.t.chain, a, store.AccountHistoryOptions{}) {
		if err != nil {
			return nil, fmt.Errorf("mixer: history of %s: %w", a.Hex(), err)
		}
		if n++; n > k.o.MaxHistory {
			break
		}
		t := &ev.Transfer
		if ev.Debit && t.From == a && k.t.Known(t.To) && (len(txs) == 0 || txs[len(txs)-1] != t.TxHash) {
			txs = append(txs, t.TxHash)
		}
	}
	var out []Deposit
	for _, h := range txs {
		ds, _, err := k.TxEvents(ctx, h)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if d.Depositor == a {
				out = append(out, d)
			}
		}
	}
	k.by[a] = out
	return out, nil
}

// Links returns the links of deposit d (from TxEvents, with its
// depositor): T1 always, T2–T4 when the options ask for hypotheses, one
// link per withdrawal with every heuristic that found it, in chain order of
// the withdrawals.
func (k *Linker) Links(ctx context.Context, d Deposit) ([]Link, error) {
	x, err := k.Index(ctx, d.Pool)
	if err != nil {
		return nil, err
	}
	found := map[heistgraph.EVMHash]*Link{}
	add := func(w Withdrawal, ev Evidence) {
		l, ok := found[w.TxHash]
		if !ok {
			l = &Link{Pool: d.Pool, DepositTx: d.TxHash, WithdrawalTx: w.TxHash, Deposit: d, Withdrawal: w,
				AnonymitySet: x.AnonymitySet(w.Height, w.LogIndex), AnonymityExact: x.Exact}
			found[w.TxHash] = l
		}
		if !slices.Contains(l.Heuristics, ev.Heuristic) {
			l.Heuristics = append(l.Heuristics, ev.Heuristic)
			l.Evidence = append(l.Evidence, ev)
		}
	}
	if err := k.t1(ctx, x, d, add); err != nil {
		return nil, err
	}
	if k.o.Hypotheses {
		if err := k.t2(ctx, x, d, add); err != nil {
			return nil, err
		}
		if err := k.t3(ctx, x, d, add); err != nil {
			return nil, err
		}
		if err := k.t4(ctx, d, add); err != nil {
			return nil, err
		}
	}
	out := make([]Link, 0, len(found))
	others := 0
	for _, l := range found {
		if !slices.Contains(l.Heuristics, T1) {
			others++
		}
	}
	for _, l := range found {
		switch {
		case slices.Contains(l.Heuristics, T1):
			l.Confidence = Strong
		case others == 1:
			l.Confidence = Probable
		default:
			l.Confidence = Hypothesis // one of several candidates
		}
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b Link) int {
		return comparePos(a.Withdrawal.Height, a.Withdrawal.LogIndex, b.Withdrawal.Height, b.Withdrawal.LogIndex)
	})
	return out, nil
}

// t1 is the address match: the depositor's deposits into the pool and the
// pool's withdrawals to the depositor, paired in chain order (each
// withdrawal takes the earliest unpaired deposit before it). methods.md's
// "(any pool)" is read as: in every pool, each within its own pool (a note
// is withdrawn from the pool it was deposited in). The depositor's
// deposits are those its history shows sent to a pool or entry point of
// the table (MaxHistory events), plus d itself.
func (k *Linker) t1(ctx context.Context, x *Index, d Deposit, add func(Withdrawal, Evidence)) error {
	if d.Depositor.IsZero() {
		return nil
	}
	all, err := k.depositsBy(ctx, d.Depositor)
	if err != nil {
		return err
	}
	var mine []Deposit
	for _, o := range all {
		if o.Pool == d.Pool {
			mine = append(mine, o)
		}
	}
	if !slices.ContainsFunc(mine, func(o Deposit) bool { return o.TxHash == d.TxHash && o.LogIndex == d.LogIndex }) {
		mine = append(mine, d) // made through a contract of its own
		slices.SortFunc(mine, func(a, b Deposit) int { return comparePos(a.Height, a.LogIndex, b.Height, b.LogIndex) })
	}
	var to []Withdrawal
	for _, w := range x.Withdrawals {
		if w.To == d.Depositor {
			to = append(to, w)
		}
	}
	queue, i := []Deposit{}, 0
	for _, w := range to {
		for i < len(mine) && comparePos(mine[i].Height, mine[i].LogIndex, w.Height, w.LogIndex) < 0 {
			queue = append(queue, mine[i])
			i++
		}
		if len(queue) == 0 {
			continue
		}
		p := queue[0]
		queue = queue[1:]
		if p.TxHash == d.TxHash && p.LogIndex == d.LogIndex {
			a := d.Depositor
			add(w, Evidence{Heuristic: T1, Address: &a, Candidates: []int{len(mine), len(to)},
				Detail: fmt.Sprintf("the depositor %s is the withdrawal's recipient (its deposits into the pool and withdrawals to it paired in order: %d and %d)",
					a.Hex(), len(mine), len(to))})
			return nil
		}
	}
	return nil
}

// gasKey returns a transaction's gas price key for T2: the gas price of a
// legacy or access-list transaction, the priority fee per gas it paid for a
// dynamic-fee one.
func (k *Linker) gasKey(ctx context.Context, h heistgraph.EVMHash) (string, error) {
	if g, ok := k.gas[h]; ok {
		return g, nil
	}
	rec, err := k.tx(ctx, h)
	if err != nil {
		return "", err
	}
	g := "legacy:" + rec.Tx.EffectiveGasPrice.Dec()
	if rec.Tx.Type >= 2 {
		base, ok := k.bases[rec.Block.Height]
		if !ok {
			b, err := k.r.AccountBlockByHeight(ctx, k.t.chain, rec.Block.Height)
			if err != nil {
				return "", fmt.Errorf("mixer: block %d: %w", rec.Block.Height, err)
			}
			base = b.BaseFee
			k.bases[rec.Block.Height] = base
		}
		var tip uint256.Int
		if !rec.Tx.EffectiveGasPrice.Lt(&base) {
			tip.Sub(&rec.Tx.EffectiveGasPrice, &base)
		}
		g = "1559:" + tip.Dec()
	}
	k.gas[h] = g
	return g, nil
}

// t2 is the unique gas price: a withdrawal after d without a relayer (its
// sender is its recipient) whose gas price key equals d's, d being the only
// deposit into the pool before the withdrawal with that key.
func (k *Linker) t2(ctx context.Context, x *Index, d Deposit, add func(Withdrawal, Evidence)) error {
	key, err := k.gasKey(ctx, d.TxHash)
	if err != nil {
		return err
	}
	var same []Deposit // the pool's deposits with d's key, in order
	for _, o := range x.Deposits {
		g, err := k.gasKey(ctx, o.TxHash)
		if err != nil {
			return err
		}
		if g == key {
			same = append(same, o)
		}
	}
	for _, w := range x.withdrawalsAfter(d.Height, d.LogIndex) {
		before := 0
		for _, o := range same {
			if comparePos(o.Height, o.LogIndex, w.Height, w.LogIndex) < 0 {
				before++
			}
		}
		if before != 1 {
			continue
		}
		rec, err := k.tx(ctx, w.TxHash)
		if err != nil {
			return err
		}
		if rec.Tx.From != w.To {
			continue // through a relayer: its gas price is the relayer's
		}
		g, err := k.gasKey(ctx, w.TxHash)
		if err != nil {
			return err
		}
		if g == key {
			add(w, Evidence{Heuristic: T2, GasPrice: key,
				Detail: fmt.Sprintf("withdrawn without a relayer at gas price %s, which only this deposit into the pool used before", key)})
		}
	}
	return nil
}

// counterparties returns the addresses a transacted with directly (native
// value and token transfers, either way) and how many transactions with
// each, and whether a is a contract (it sent an internal transfer) or too
// busy to read (more than MaxHistory events).
func (k *Linker) counterparties(ctx context.Context, a heistgraph.EVMAddress) (map[heistgraph.EVMAddress]int, bool, error) {
	out := map[heistgraph.EVMAddress]int{}
	last := map[heistgraph.EVMAddress]heistgraph.EVMHash{}
	n := 0
	for ev, err := range k.r.AccountHistory(ctx, k.t.chain, a, store.AccountHistoryOptions{}) {
		if err != nil {
			return nil, false, fmt.Errorf("mixer: history of %s: %w", a.Hex(), err)
		}
		if n++; n > k.o.MaxHistory {
			return nil, true, nil
		}
		t := &ev.Transfer
		if t.Kind == heistgraph.TransferInternal && t.From == a {
			return nil, true, nil // a contract
		}
		if t.Kind != heistgraph.TransferNative && t.Kind != heistgraph.TransferERC20 {
			continue
		}
		other := t.To
		if t.To == a {
			other = t.From
		}
		if other == a || other.IsZero() || last[other] == t.TxHash {
			continue
		}
		last[other] = t.TxHash
		out[other]++
	}
	return out, false, nil
}

// t3 is linked addresses: the depositor and a withdrawal's recipient both
// transacted directly with a third address that is no service, contract,
// token or Tornado address, at least MinInteractions times together.
func (k *Linker) t3(ctx context.Context, x *Index, d Deposit, add func(Withdrawal, Evidence)) error {
	if d.Depositor.IsZero() {
		return nil
	}
	after := x.withdrawalsAfter(d.Height, d.LogIndex)
	byTo := map[heistgraph.EVMAddress][]Withdrawal{}
	for _, w := range after {
		if w.To != d.Depositor {
			byTo[w.To] = append(byTo[w.To], w)
		}
	}
	mine, skip, err := k.counterparties(ctx, d.Depositor)
	if err != nil || skip {
		return err
	}
	thirds := make([]heistgraph.EVMAddress, 0, len(mine))
	for a := range mine {
		thirds = append(thirds, a)
	}
	slices.SortFunc(thirds, func(a, b heistgraph.EVMAddress) int { return slices.Compare(a[:], b[:]) })
	for _, third := range thirds {
		if k.t.Known(third) {
			continue
		}
		if _, ok := byTo[third]; ok {
			continue // the third address itself withdrew: not a third party
		}
		if k.o.Service != nil {
			svc, err := k.o.Service(ctx, third)
			if err != nil {
				return err
			}
			if svc {
				continue
			}
		}
		theirs, skip, err := k.counterparties(ctx, third)
		if err != nil {
			return err
		}
		if skip {
			continue
		}
		recipients := make([]heistgraph.EVMAddress, 0)
		for r := range byTo {
			if theirs[r] > 0 {
				recipients = append(recipients, r)
			}
		}
		slices.SortFunc(recipients, func(a, b heistgraph.EVMAddress) int { return slices.Compare(a[:], b[:]) })
		for _, r := range recipients {
			a, b := mine[third], theirs[r]
			if a+b < k.o.MinInteractions {
				continue
			}
			via := third
			for _, w := range byTo[r] {
				add(w, Evidence{Heuristic: T3, Address: &via, Interactions: []int{a, b},
					Detail: fmt.Sprintf("the depositor and the recipient %s both transacted with %s (%d and %d transactions)", r.Hex(), third.Hex(), a, b)})
			}
		}
	}
	return nil
}

// t4 is the multi-denomination match: the depositor's deposits within
// Window around d, into at least two pools, and exactly one other address
// that received withdrawals of exactly the same pools (as a multiset)
// within Window after the last of them. Each deposit pairs with that
// address's withdrawal of its pool, in order.
func (k *Linker) t4(ctx context.Context, d Deposit, add func(Withdrawal, Evidence)) error {
	if d.Depositor.IsZero() {
		return nil
	}
	all, err := k.depositsBy(ctx, d.Depositor)
	if err != nil {
		return err
	}
	var set []Deposit
	pools := map[heistgraph.EVMAddress]int{}
	last := d.Time
	for _, o := range all {
		if o.Time >= d.Time-k.o.Window && o.Time <= d.Time+k.o.Window {
			set = append(set, o)
			pools[o.Pool]++
			last = max(last, o.Time)
		}
	}
	if len(pools) < 2 {
		return nil
	}
	got := map[heistgraph.EVMAddress]map[heistgraph.EVMAddress][]Withdrawal{} // recipient → pool → withdrawals
	for _, p := range k.t.Pools() {
		x, err := k.Index(ctx, p.Address)
		if err != nil {
			return err
		}
		for _, w := range x.Withdrawals {
			if w.Time > last && w.Time <= last+k.o.Window && w.To != d.Depositor {
				if got[w.To] == nil {
					got[w.To] = map[heistgraph.EVMAddress][]Withdrawal{}
				}
				got[w.To][w.Pool] = append(got[w.To][w.Pool], w)
			}
		}
	}
	var match []heistgraph.EVMAddress
	for r, ws := range got {
		if len(ws) != len(pools) {
			continue
		}
		same := true
		for p, n := range pools {
			same = same && len(ws[p]) == n
		}
		if same {
			match = append(match, r)
		}
	}
	if len(match) != 1 {
		return nil // none, or not unique
	}
	r := match[0]
	var dtx, wtx []heistgraph.EVMHash
	var mine Withdrawal
	for _, p := range slices.SortedFunc(func(yield func(heistgraph.EVMAddress) bool) {
		for p := range pools {
			if !yield(p) {
				return
			}
		}
	}, func(a, b heistgraph.EVMAddress) int { return slices.Compare(a[:], b[:]) }) {
		ws := got[r][p]
		j := 0
		for _, o := range set {
			if o.Pool != p {
				continue
			}
			dtx = append(dtx, o.TxHash)
			wtx = append(wtx, ws[j].TxHash)
			if o.TxHash == d.TxHash && o.LogIndex == d.LogIndex {
				mine = ws[j]
			}
			j++
		}
	}
	if mine.TxHash.IsZero() {
		return nil
	}
	add(mine, Evidence{Heuristic: T4, Address: &r, Deposits: dtx, Withdrawals: wtx,
		Detail: fmt.Sprintf("the depositor's %d deposits into %d pools within %ds, and only %s received withdrawals of the same pools within %ds after",
			len(set), len(pools), k.o.Window, r.Hex(), k.o.Window)})
	return nil
}

// TxLinks returns the links of transaction h: those of each of its
// deposits, and for each of its withdrawals the links that end there
// (found from the deposits of its recipient and, with hypotheses, of every
// depositor the pool saw before it). Ordered by deposit, then withdrawal.
func (k *Linker) TxLinks(ctx context.Context, h heistgraph.EVMHash) ([]Link, error) {
	ds, ws, err := k.TxEvents(ctx, h)
	if err != nil {
		return nil, err
	}
	var out []Link
	for _, d := range ds {
		ls, err := k.Links(ctx, d)
		if err != nil {
			return nil, err
		}
		out = append(out, ls...)
	}
	for _, w := range ws {
		cands, err := k.depositsBy(ctx, w.To)
		if err != nil {
			return nil, err
		}
		if k.o.Hypotheses {
			x, err := k.Index(ctx, w.Pool)
			if err != nil {
				return nil, err
			}
			cands = nil
			for _, d := range x.Deposits {
				if comparePos(d.Height, d.LogIndex, w.Height, w.LogIndex) < 0 {
					rec, err := k.tx(ctx, d.TxHash)
					if err != nil {
						return nil, err
					}
					d.Depositor = rec.Tx.From
					cands = append(cands, d)
				}
			}
		}
		for _, d := range cands {
			if d.Pool != w.Pool || comparePos(d.Height, d.LogIndex, w.Height, w.LogIndex) >= 0 {
				continue
			}
			ls, err := k.Links(ctx, d)
			if err != nil {
				return nil, err
			}
			for _, l := range ls {
				if l.WithdrawalTx == w.TxHash && l.Withdrawal.LogIndex == w.LogIndex {
					out = append(out, l)
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Link) int {
		return cmp.Or(comparePos(a.Deposit.Height, a.Deposit.LogIndex, b.Deposit.Height, b.Deposit.LogIndex),
			comparePos(a.Withdrawal.Height, a.Withdrawal.LogIndex, b.Withdrawal.Height, b.Withdrawal.LogIndex))
	})
	return slices.CompactFunc(out, func(a, b Link) bool {
		return a.DepositTx == b.DepositTx && a.Deposit.LogIndex == b.Deposit.LogIndex && a.WithdrawalTx == b.WithdrawalTx
	}), nil
}
