package mixer

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Index is a pool's deposits and withdrawals as the store holds them, in
// chain order (height, then log index). Malformed counts the pool's logs
// with a Tornado topic that did not decode (they count in no anonymity
// set). Exact is true when the deposits are the pool's whole history: the
// i-th stored deposit has leaf index i (the contract numbers its deposits
// from 0), so the store missed none.
type Index struct {
	Pool        Pool
	Deposits    []Deposit
	Withdrawals []Withdrawal
	Malformed   int
	Exact       bool
}

// LoadIndex reads pool p's events on chain from r (AccountLogs). Errors
// are r's, wrapped; a cancelled ctx ends it with an error wrapping
// ctx.Err().
func LoadIndex(ctx context.Context, r store.AccountReader, chain heistgraph.Chain, p Pool) (*Index, error) {
	x := &Index{Pool: p, Exact: true}
	for lg, err := range r.AccountLogs(ctx, chain, p.Address, store.AccountHistoryOptions{}) {
		if err != nil {
			if errors.Is(err, heistgraph.ErrNotFound) {
				break
			}
			return nil, fmt.Errorf("mixer: events of pool %s: %w", p.Address.Hex(), err)
		}
		switch lg.Log.Topic0() {
		case TopicDeposit:
			d, err := DecodeDeposit(&lg.Log)
			if err != nil {
				x.Malformed++
				continue
			}
			d.Height, d.Time = lg.Block.Height, lg.Block.Time
			if int(d.LeafIndex) != len(x.Deposits) {
				x.Exact = false
			}
			x.Deposits = append(x.Deposits, d)
		case TopicWithdrawal:
			w, err := DecodeWithdrawal(&lg.Log)
			if err != nil {
				x.Malformed++
				continue
			}
			w.Height, w.Time = lg.Block.Height, lg.Block.Time
			x.Withdrawals = append(x.Withdrawals, w)
		}
	}
	return x, nil
}

// AnonymitySet returns the pool's anonymity set at a point of the chain
// (height, log index): the deposits before it minus the withdrawals before
// it (methods.md §4.8), never below zero.
func (x *Index) AnonymitySet(height int64, logIndex int32) int {
	d := sort.Search(len(x.Deposits), func(i int) bool {
		return comparePos(x.Deposits[i].Height, x.Deposits[i].LogIndex, height, logIndex) >= 0
	})
	w := sort.Search(len(x.Withdrawals), func(i int) bool {
		return comparePos(x.Withdrawals[i].Height, x.Withdrawals[i].LogIndex, height, logIndex) >= 0
	})
	return max(d-w, 0)
}

// AfterDeposit returns the anonymity set a deposit joins: the deposits up to
// and including it minus the withdrawals before it.
func (x *Index) AfterDeposit(d *Deposit) int { return x.AnonymitySet(d.Height, d.LogIndex+1) }

// withdrawalsAfter returns the withdrawals after position (height, log
// index).
func (x *Index) withdrawalsAfter(height int64, logIndex int32) []Withdrawal {
	i := sort.Search(len(x.Withdrawals), func(i int) bool {
		return comparePos(x.Withdrawals[i].Height, x.Withdrawals[i].LogIndex, height, logIndex) > 0
	})
	return x.Withdrawals[i:]
}
