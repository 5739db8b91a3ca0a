package risk

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// acctTable is the precomputed exposure of one account (EVM) chain
// (methods.md §8.3 on accounts): the haircut state with categories as
// sources, carried forward over the chain's ledger in one pass, and what
// every transfer carried to its receiver. It is exactly what evm.go's
// on-demand walk computes for the same labels, clusters and tip: that walk
// reads each sender's history backwards up to H−1 hops and runs the same
// per-debit rules (labelled owners inject, unlabelled balances propagate
// ⌊a·tainted/balance⌋, fees take their share to nowhere), and since each
// coordinate of a balance evolves apart from the others (only the balance,
// which every event moves alike, is shared), the walk's hop-limited
// answers are the forward pass's restricted to their hops. With it, a
// screen reads only the screened addresses' own histories and looks up
// what each credit carried.
//
// Like the Bitcoin Table it holds what the Screener's labels and clusters
// said when it was built: rebuild it (with a new Screener) after they
// change. Precompute extends it with new blocks, and rebuilds it when its
// last block left the chain; screens use it only while it ends at the
// chain's tip (else they compute on demand). It lives in memory.
type acctTable struct {
	chain heistgraph.Chain
	// build serialises Precompute's extensions of this table.
	build sync.Mutex

	// mu guards what screens read (height, hash, carried, ents, keys):
	// entries of carried are never changed once written, only added.
	mu      sync.RWMutex
	height  int64 // the last block applied, -1 when none
	hash    heistgraph.EVMHash
	carried map[acctKey]aspan
	ents    []aent
	keys    []vkey
	keyID   map[vkey]uint32

	// Build state (only Precompute, under build, touches it): each
	// unlabelled address's balance of each asset, with its tainted part
	// by coordinate.
	states    map[acctBal]*acctState
	transfers int
	scratch   []aent
}

// aent is one coordinate (acctTable.keys[key]) and its base units.
type aent struct {
	key uint32
	amt uint256.Int
}

// aspan is a run of acctTable.ents.
type aspan struct{ off, n uint32 }

type acctBal struct {
	addr  heistgraph.EVMAddress
	asset heistgraph.Asset
}

// acctState is one balance: its amount and its tainted part by
// coordinate, in order of first arrival.
type acctState struct {
	balance uint256.Int
	tainted []aent
}

func newAcctTable(chain heistgraph.Chain) *acctTable {
	return &acctTable{chain: chain, height: -1, carried: map[acctKey]aspan{}, keyID: map[vkey]uint32{}, states: map[acctBal]*acctState{}}
}

// id interns k (under mu).
func (t *acctTable) id(k vkey) uint32 {
	i, ok := t.keyID[k]
	if !ok {
		i = uint32(len(t.keys))
		t.keys = append(t.keys, k)
		t.keyID[k] = i
	}
	return i
}

// covers reports whether t ends at tip (so that a screen as of tip may
// look everything up).
func (t *acctTable) covers(tip heistgraph.AccountBlockRef) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.height == tip.Height && t.hash == tip.Hash
}

// vector returns what the transfer at k carried to its receiver (nil when
// nothing), a new map.
func (t *acctTable) vector(k acctKey) avector {
	t.mu.RLock()
	defer t.mu.RUnlock()
	sp, ok := t.carried[k]
	if !ok {
		return nil
	}
	v := make(avector, sp.n)
	for _, e := range t.ents[sp.off : sp.off+sp.n] {
		v[t.keys[e.key]] = e.amt
	}
	return v
}

// stats returns the size of t.
func (t *acctTable) stats() TableStats {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return TableStats{Chain: t.chain, Height: t.height, Txs: t.transfers, Outputs: len(t.carried), Entries: len(t.ents)}
}

// precomputeAccount is Precompute on an account chain. TableStats counts
// transfers applied (Txs), transfers that carry exposure (Outputs) and
// their coordinates (Entries). A store without the AccountLedger role
// wraps errors.ErrUnsupported.
func (s *Screener) precomputeAccount(ctx context.Context, chain heistgraph.Chain) (TableStats, error) {
	ar, ok := s.st.(store.AccountReader)
	lr, ok2 := s.st.(store.AccountLedger)
	if !ok || !ok2 {
		return TableStats{}, fmt.Errorf("risk: precompute %s: the store cannot read account ledgers: %w", chain, errors.ErrUnsupported)
	}
	idx, err := s.labels(ctx, chain)
	if err != nil {
		return TableStats{}, err
	}
	s.mu.Lock()
	t := s.atables[chain]
	s.mu.Unlock()
	if t != nil {
		t.build.Lock()
		defer t.build.Unlock()
		if t.height >= 0 {
			b, err := ar.AccountBlockByHeight(ctx, chain, t.height)
			if err != nil && !errors.Is(err, heistgraph.ErrNotFound) {
				return TableStats{}, fmt.Errorf("risk: precompute: block %d of %s: %w", t.height, chain, err)
			}
			if err != nil || b.Hash != t.hash {
				t = nil // its last block left the chain: rebuild
			}
		}
	}
	if t == nil {
		t = newAcctTable(chain)
		t.build.Lock()
		defer t.build.Unlock()
	}
	tip, err := ar.AccountTip(ctx, chain)
	if errors.Is(err, heistgraph.ErrNotFound) {
		s.setAcctTable(chain, t)
		return t.stats(), nil
	}
	if err != nil {
		return TableStats{}, fmt.Errorf("risk: precompute: tip of %s: %w", chain, err)
	}
	from := t.height + 1
	if from == 0 {
		rg, err := ar.AccountStored(ctx, chain)
		if err != nil {
			return TableStats{}, fmt.Errorf("risk: precompute: stored range of %s: %w", chain, err)
		}
		from = rg.Lowest
	}
	r := &run{Screener: s, ctx: ctx, chain: chain, idx: idx, tip: tip.Height}
	for h := from; h <= tip.Height; h++ {
		bi, ledger, err := lr.AccountLedger(ctx, chain, h)
		if errors.Is(err, heistgraph.ErrNotFound) && ctx.Err() == nil {
			continue
		}
		if err != nil {
			return TableStats{}, fmt.Errorf("risk: precompute: %w", err)
		}
		if err := t.apply(r, &bi, ledger); err != nil {
			// The block is half applied: drop the table, so that
			// screens compute on demand and the next Precompute
			// rebuilds.
			s.setAcctTable(chain, nil)
			return TableStats{}, err
		}
	}
	s.setAcctTable(chain, t)
	return t.stats(), nil
}

// apply runs block bi's ledger through t's balances and records what each
// transfer carried.
func (t *acctTable) apply(r *run, bi *store.AccountBlockInfo, ledger []heistgraph.Transfer) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for seq := range ledger {
		tr := &ledger[seq]
		t.transfers++
		credits, debits := tr.Credits(), tr.Debits()
		if credits && debits && tr.From == tr.To {
			continue // a self-transfer moves nothing
		}
		v := t.scratch[:0]
		if debits && !tr.From.IsZero() {
			o, err := r.ownerOf(tr.From.Lower())
			if err != nil {
				return err
			}
			if len(o.labels) > 0 {
				if tr.Kind != heistgraph.TransferFee {
					for _, c := range o.cats(bi.Time, r.cfg.WeakConfidence) {
						v = append(v, aent{key: t.id(vkey{cat: c.cat, hop: 1, entity: c.entity, source: c.source, owner: o.id, conf: c.conf, weak: c.weak}), amt: tr.Amount})
					}
				}
			} else {
				v = t.debit(r.cfg.H, t.state(tr.From, tr.Asset), tr, v)
			}
			if len(v) > 0 {
				t.carried[acctKey{bi.Height, int32(seq)}] = aspan{off: uint32(len(t.ents)), n: uint32(len(v))}
				t.ents = append(t.ents, v...)
			}
		}
		if credits {
			o, err := r.ownerOf(tr.To.Lower())
			if err != nil {
				return err
			}
			if len(o.labels) == 0 {
				s := t.state(tr.To, tr.Asset)
				s.balance.Add(&s.balance, &tr.Amount)
				for _, e := range v {
					s.add(e)
				}
			}
		}
		t.scratch = v[:0]
	}
	t.height, t.hash = bi.Height, bi.Hash
	return nil
}

// state returns the balance of (addr, asset), made empty when new.
func (t *acctTable) state(addr heistgraph.EVMAddress, asset heistgraph.Asset) *acctState {
	k := acctBal{addr, asset}
	s := t.states[k]
	if s == nil {
		s = &acctState{}
		t.states[k] = s
	}
	return s
}

// add adds e to s's tainted part.
func (s *acctState) add(e aent) {
	for i := range s.tainted {
		if s.tainted[i].key == e.key {
			s.tainted[i].amt.Add(&s.tainted[i].amt, &e.amt)
			return
		}
	}
	s.tainted = append(s.tainted, e)
}

// debit takes tr out of s (an unlabelled balance) and appends to v what it
// carries: each coordinate's ⌊a·tainted/balance⌋ one hop further, up to
// hop h (evm.go's carried, on one debit).
func (t *acctTable) debit(h int, s *acctState, tr *heistgraph.Transfer, v []aent) []aent {
	if s.balance.Lt(&tr.Amount) {
		s.balance = tr.Amount
	}
	for i := range s.tainted {
		e := &s.tainted[i]
		var c uint256.Int
		c.MulDivOverflow(&tr.Amount, &e.amt, &s.balance)
		if c.IsZero() {
			continue
		}
		e.amt.Sub(&e.amt, &c)
		vk := t.keys[e.key]
		if tr.Kind == heistgraph.TransferFee || vk.hop+1 > h {
			continue
		}
		nk := t.id(vkey{cat: vk.cat, hop: vk.hop + 1, weak: vk.weak})
		j := 0
		for j < len(v) && v[j].key != nk {
			j++
		}
		if j == len(v) {
			v = append(v, aent{key: nk})
		}
		v[j].amt.Add(&v[j].amt, &c)
	}
	s.balance.Sub(&s.balance, &tr.Amount)
	return v
}

func (s *Screener) setAcctTable(chain heistgraph.Chain, t *acctTable) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t == nil {
		delete(s.atables, chain)
		return
	}
	s.atables[chain] = t
}

// acctTableAt returns the table of chain when it ends at tip, else nil.
func (s *Screener) acctTableAt(chain heistgraph.Chain, tip heistgraph.AccountBlockRef) *acctTable {
	s.mu.Lock()
	t := s.atables[chain]
	s.mu.Unlock()
	if t == nil || !t.covers(tip) {
		return nil
	}
	return t
}
