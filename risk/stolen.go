package risk

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/trace"
)

// Stolen tells which outputs carry stolen value: the outputs that an
// incident's or a watch's trace taints (methods.md §8.3 "Incidents and
// watches"). Whoever receives such an output holds stolen value directly
// (hop 1, category stolen:<ID>, for the marked amount), however far it is
// from the theft; hops count onward from there, and propagation never adds
// stolen:<ID> to an output the hook marks for that ID. Implementations must
// be safe for concurrent use; a nil Stolen marks nothing.
type Stolen interface {
	// StolenOutput returns the marks on output op of chain (none: an empty
	// slice and a nil error). The slice is the caller's.
	StolenOutput(ctx context.Context, chain heistgraph.Chain, op heistgraph.Outpoint) ([]StolenMark, error)
}

// StolenMark is stolen value on one output: the incident id or watch name,
// the tainted amount in satoshis (at most the output's value) and where the
// mark comes from (e.g. "trace:haircut").
type StolenMark struct {
	ID        string
	AmountSat int64
	Source    string
}

// StolenSet is a Stolen held in memory, built with Add. It is safe for
// concurrent reads once built.
type StolenSet struct {
	m map[heistgraph.Chain]map[heistgraph.Outpoint][]StolenMark
	// acct holds the marks of account chains, by receiver
	// (AddAccountTrace).
	acct map[heistgraph.Chain]map[heistgraph.EVMAddress][]AccountStolenMark
}

// NewStolenSet returns an empty set.
func NewStolenSet() *StolenSet {
	return &StolenSet{m: map[heistgraph.Chain]map[heistgraph.Outpoint][]StolenMark{}}
}

// Add marks op of chain with m; marks of one ID on one output add up. An
// empty ID or a negative amount wraps heistgraph.ErrInvalid.
func (s *StolenSet) Add(chain heistgraph.Chain, op heistgraph.Outpoint, m StolenMark) error {
	if m.ID == "" || m.AmountSat < 0 {
		return fmt.Errorf("risk: stolen mark %q of %d sat on %s: %w", m.ID, m.AmountSat, op, heistgraph.ErrInvalid)
	}
	if m.AmountSat == 0 {
		return nil
	}
	byOp := s.m[chain]
	if byOp == nil {
		byOp = map[heistgraph.Outpoint][]StolenMark{}
		s.m[chain] = byOp
	}
	marks := byOp[op]
	for i := range marks {
		if marks[i].ID == m.ID {
			marks[i].AmountSat += m.AmountSat
			return nil
		}
	}
	marks = append(marks, m)
	slices.SortFunc(marks, func(a, b StolenMark) int { return cmp.Compare(a.ID, b.ID) })
	byOp[op] = marks
	return nil
}

// StolenOutput implements Stolen.
func (s *StolenSet) StolenOutput(_ context.Context, chain heistgraph.Chain, op heistgraph.Outpoint) ([]StolenMark, error) {
	if s == nil {
		return nil, nil
	}
	return slices.Clone(s.m[chain][op]), nil
}

// Len returns the number of outputs marked.
func (s *StolenSet) Len() int {
	n := 0
	for _, m := range s.m {
		n += len(m)
	}
	return n
}

// AddTrace marks, as stolen:<id>, the outputs at which a trace's taint came
// to rest: each sink at an output (not at an input) for its amount, summed
// per output. A trace.Result does not list the outputs its taint passed
// through on the way, so only resting places are marked; a caller with
// per-output taint adds it with Add.
func (s *StolenSet) AddTrace(id string, res *trace.Result) error {
	for _, sk := range res.Sinks.All() {
		if sk.Input != "" || sk.AmountSat <= 0 {
			continue
		}
		op := heistgraph.Outpoint{TxID: sk.TxID, Vout: sk.Vout}
		if err := s.Add(res.Chain, op, StolenMark{ID: id, AmountSat: sk.AmountSat, Source: "trace:" + string(res.Policy)}); err != nil {
			return err
		}
	}
	return nil
}

var _ Stolen = (*StolenSet)(nil)
