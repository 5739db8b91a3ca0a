package cluster

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// An account chain's clustering state (contracts, miners, deposit
// candidates, approvals, funders) spans the whole chain, not a window: it
// is saved as a snapshot (store.ClusterBatch.Pending) naming the tip and
// the options, and when none fits (after a rewind, with other options) it
// is restored by replaying every clustered block without writing.

// acctSnapshotVersion tells account snapshots from UTXO ones (whose first
// byte is package cluster's pendingVersion) and from older layouts.
const acctSnapshotVersion = 0xa1

type acctSnapshot struct {
	Height     int64
	Hash       heistgraph.Hash
	Options    string
	Contracts  []uint32
	Miners     []uint32
	Deposits   []depositEntry
	Approvals  [][3]uint32
	Authorized [][2]uint32
	Funders    [][2]uint32
}

type depositEntry struct {
	ID uint32
	D  deposit
}

func (o *AccountOptions) print() string {
	return fmt.Sprintf("%v/%v/%v/%d/%s/%d/%v", o.DepositReuse, o.SelfAuth, o.FundedBy, o.DepositWindow,
		o.DepositSlack.Dec(), o.MaxDepositSenders, o.ExchangeCategories)
}

// openAccount loads the own labels that the account heuristics read, then
// the saved state, or replays the clustered blocks to restore it.
func (e *engine) openAccount(ctx context.Context) error {
	a, o := e.acct, &e.opts.Account
	for l, err := range e.st.Labels(ctx, store.LabelQuery{Chain: e.chain}) {
		if err != nil {
			return fmt.Errorf("cluster %s: labels: %w", e.chain, err)
		}
		k := e.key(l.Address)
		if o.isExchange(l.Category) && l.Entity != "" {
			a.hot[k] = l.Entity
		}
		if e.opts.Guards.isService(l.Category) {
			a.service[k] = true
		}
	}
	if e.tip.Block.Height < 0 {
		return nil
	}
	if ok, err := e.loadAccount(ctx); err != nil || ok {
		return err
	}
	lo, _, err := e.chainRange(ctx)
	if err != nil && !errors.Is(err, heistgraph.ErrNotFound) {
		return fmt.Errorf("cluster %s: replay: %w", e.chain, err)
	}
	for h := lo; h <= e.tip.Block.Height; h++ {
		cb, err := e.st.ClusterBlock(ctx, e.chain, h)
		if errors.Is(err, heistgraph.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("cluster %s: replay: %w", e.chain, err)
		}
		if _, err := e.accountBlock(ctx, h, uint32(cb.FirstAddr), true); err != nil {
			return fmt.Errorf("cluster %s: replay block %d: %w", e.chain, h, err)
		}
	}
	e.replayed = true
	return nil
}

// loadAccount restores the saved state when it names the tip and the
// options.
func (e *engine) loadAccount(ctx context.Context) (bool, error) {
	v, err := e.st.ClusterPending(ctx, e.chain)
	if errors.Is(err, heistgraph.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cluster %s: %w", e.chain, err)
	}
	if len(v) == 0 || v[0] != acctSnapshotVersion {
		return false, nil
	}
	var s acctSnapshot
	if err := gob.NewDecoder(bytes.NewReader(v[1:])).Decode(&s); err != nil {
		return false, nil // an unreadable snapshot: replay instead
	}
	if s.Height != e.tip.Block.Height || s.Hash != e.tip.Block.Hash || s.Options != e.opts.Account.print() {
		return false, nil
	}
	a := e.acct
	for _, id := range s.Contracts {
		a.contract[id] = true
	}
	for _, id := range s.Miners {
		a.miner[id] = true
	}
	for _, d := range s.Deposits {
		a.deposits[d.ID] = &d.D
	}
	for _, k := range s.Approvals {
		a.approvals[k] = true
	}
	for _, k := range s.Authorized {
		a.authorized[k] = true
	}
	for _, f := range s.Funders {
		a.funder[f[0]] = f[1]
	}
	return true, nil
}

// saveAccount stores the state as the snapshot of the tip.
func (e *engine) saveAccount(ctx context.Context) error {
	if e.tip.Block.Height < 0 {
		return nil
	}
	a := e.acct
	s := acctSnapshot{Height: e.tip.Block.Height, Hash: e.tip.Block.Hash, Options: e.opts.Account.print(),
		Contracts: slices.Sorted(maps.Keys(a.contract)), Miners: slices.Sorted(maps.Keys(a.miner)),
		Approvals:  slices.SortedFunc(maps.Keys(a.approvals), func(x, y [3]uint32) int { return slices.Compare(x[:], y[:]) }),
		Authorized: slices.SortedFunc(maps.Keys(a.authorized), func(x, y [2]uint32) int { return slices.Compare(x[:], y[:]) })}
	for _, id := range slices.Sorted(maps.Keys(a.deposits)) {
		s.Deposits = append(s.Deposits, depositEntry{id, *a.deposits[id]})
	}
	for _, id := range slices.Sorted(maps.Keys(a.funder)) {
		s.Funders = append(s.Funders, [2]uint32{id, a.funder[id]})
	}
	var buf bytes.Buffer
	buf.WriteByte(acctSnapshotVersion)
	if err := gob.NewEncoder(&buf).Encode(&s); err != nil {
		return fmt.Errorf("cluster %s: save state: %w", e.chain, err)
	}
	if err := e.st.WriteClusters(ctx, e.chain, &store.ClusterBatch{Pending: buf.Bytes()}); err != nil {
		return fmt.Errorf("cluster %s: save state: %w", e.chain, err)
	}
	return nil
}
