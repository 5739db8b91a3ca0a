package trace

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/heistgraph/heistgraph"
)

// SinkKind says why tainted value stopped (design.md, methods.md §1.1).
type SinkKind string

// Sink kinds.
const (
	// SinkUnspent: still sitting in an output (as of the tip or Until).
	SinkUnspent SinkKind = "unspent"
	// SinkEntity: reached an address of a labelled service, or a CoinJoin.
	SinkEntity SinkKind = "entity"
	// SinkThreshold: below MinAmount (or, for haircut, MinShare).
	SinkThreshold SinkKind = "threshold"
	// SinkHopLimit: MaxHops away from the seeds, or left when the budget
	// ran out (Reason "budget").
	SinkHopLimit SinkKind = "hop_limit"
	// SinkUntraced: left the data (spent by a transaction the store does
	// not hold, or one whose other inputs it cannot value).
	SinkUntraced SinkKind = "untraced"
	// SinkBurned: sent to an OP_RETURN or otherwise unspendable output.
	SinkBurned SinkKind = "burned"
	// SinkOverlap: satoshis an earlier claim already holds (a seed on
	// value that is already tainted, by the same or an earlier source).
	SinkOverlap SinkKind = "overlap"
)

// Sink is tainted value at rest: where it is, why it stopped and how much
// of it (per source) is there. TxID:Vout is the output holding it, except
// for a sink at a transaction's input (a CoinJoin, or a spender whose
// other inputs are not stored), where TxID is that transaction, Vout is
// the input index and Input names the spent output (TXID:VOUT).
type Sink struct {
	Kind      SinkKind        `json:"kind"`
	Address   string          `json:"address"`
	TxID      heistgraph.Hash `json:"txid"`
	Vout      uint32          `json:"vout"`
	Input     string          `json:"input,omitempty"`
	Entity    string          `json:"entity"`
	Category  string          `json:"category"`
	AmountSat int64           `json:"amount_sat"`
	Hops      int             `json:"hops"`
	Source    string          `json:"source"`
	// Reason qualifies the kind: "budget" for a hop_limit sink left by
	// the budget, "until" for an output spent after Until.
	Reason string `json:"reason,omitempty"`
	// Compacted marks a FIFO/LIFO output whose span positions were
	// approximated (methods.md §1.5); its amount is exact.
	Compacted bool `json:"fifo_compacted,omitempty"`
	// ViaCoinJoin marks taint that went through a CoinJoin on its way
	// (only with Options.ThroughCoinJoin; methods.md §4.7).
	ViaCoinJoin bool `json:"via_coinjoin,omitempty"`
	// Spans are, for FIFO and LIFO, the tainted spans [lo, hi) of the
	// source on the output's own line (offsets in satoshis from 0 to its
	// value).
	Spans [][2]int64 `json:"spans,omitempty"`
	// Time is the block time of the output (or, for a sink at an input,
	// of the spending transaction).
	Time int64 `json:"time"`
	// ContinuedSat is, for a bridge sink, the part of AmountSat that
	// continues across an exact link (Result.Across, part confirmed):
	// counted there, where it sits now, not here.
	ContinuedSat int64 `json:"continued_sat,omitempty"`

	pos pos
}

// Edge is tainted value moving from one transaction to another: the sum,
// over sources and over the outputs of From that To spends, of the taint
// they carry. Edges aggregate per transaction pair (not per output or
// address), which keeps the graph as small as the transaction graph
// traversed and is what GraphML and DOT draw.
type Edge struct {
	From      heistgraph.Hash `json:"from"`
	To        heistgraph.Hash `json:"to"`
	AmountSat int64           `json:"amount_sat"`
	Outputs   int             `json:"outputs"`
}

// Event is a pattern seen along the trace (methods.md §4–§6): Kind, the
// transaction it is about (a peel chain's head) and the pattern's own
// fields, which JSON flattens next to kind and txid.
type Event struct {
	Kind string          `json:"kind"`
	TxID heistgraph.Hash `json:"txid"`
	// Detail holds the pattern's fields: *pattern.PeelChain,
	// *pattern.Consolidation, *pattern.Split, *CoinJoinEvent or *Entry.
	Detail any `json:"-"`

	pos pos
}

// MarshalJSON writes kind, txid and then the detail's fields.
func (e Event) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"kind":`)
	k, _ := json.Marshal(e.Kind)
	b.Write(k)
	fmt.Fprintf(&b, `,"txid":"%s"`, e.TxID)
	if e.Detail != nil {
		d, err := json.Marshal(e.Detail)
		if err != nil {
			return nil, err
		}
		if len(d) > 2 && d[0] == '{' {
			b.WriteByte(',')
			b.Write(d[1:])
			return b.Bytes(), nil
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Entry is the event of tainted value entering a labelled mixer or bridge
// (kinds "mixer_entry", "bridge_entry"): the output that paid it.
type Entry struct {
	Vout      uint32 `json:"vout"`
	Address   string `json:"address"`
	Entity    string `json:"entity"`
	Category  string `json:"category"`
	AmountSat int64  `json:"amount_sat"`
	Hops      int    `json:"hops"`
}

// CoinJoinEvent is the event of tainted value reaching a CoinJoin (kind
// "coinjoin", methods.md §4): its subtype, confidence and the tainted
// amount that entered it; Through tells whether the trace went on.
type CoinJoinEvent struct {
	Subtype       string  `json:"subtype"`
	Confidence    string  `json:"confidence,omitempty"`
	Denominations []int64 `json:"denominations,omitempty"`
	Participants  int     `json:"participants,omitempty"`
	AnonymitySet  int     `json:"anonymity_set,omitempty"`
	TaintedSat    int64   `json:"tainted_sat"`
	Through       bool    `json:"through"`
}

// SourceTotal is one source's account: what its seeds hold, where it went
// in total and what fees took, so that for a conserving policy
// SeedAmountSat == SinksSat + FeesSat.
type SourceTotal struct {
	Source        string `json:"source"`
	Seeds         int    `json:"seeds"`
	SeedAmountSat int64  `json:"seed_amount_sat"`
	SinksSat      int64  `json:"sinks_sat"`
	FeesSat       int64  `json:"fees_sat"`
}

// KindTotal sums the sinks of one kind.
type KindTotal struct {
	Kind      SinkKind `json:"kind"`
	Sinks     int      `json:"sinks"`
	AmountSat int64    `json:"amount_sat"`
}

// Stats describes the work a trace did. MS is the only field that differs
// between two runs of the same trace.
type Stats struct {
	TxsVisited int   `json:"txs_visited"`
	MaxHop     int   `json:"max_hop"`
	Budget     bool  `json:"budget_exhausted"`
	MS         int64 `json:"ms"`
}

// Params records the options a result was computed with.
type Params struct {
	MaxHops         int     `json:"max_hops"`
	MinAmount       int64   `json:"min_amount"`
	MinShare        float64 `json:"min_share"`
	Until           int64   `json:"until"`
	Budget          int     `json:"budget"`
	ThroughCoinJoin Policy  `json:"through_coinjoin,omitempty"`
	Resolver        bool    `json:"entity_stops"`
	// FollowLinks and FollowHypotheses as asked; AcrossChains tells
	// whether links were followed (the store holds links).
	FollowLinks      bool `json:"follow_links,omitempty"`
	FollowHypotheses bool `json:"follow_hypotheses,omitempty"`
	AcrossChains     bool `json:"across_chains,omitempty"`
}

// Result is a trace: its seeds, where the value went (sinks), how it
// moved (edges), what fees took, the patterns seen (events) and stats.
// Sinks are ordered by the chain position of their transaction (height,
// position in block), then output index, kind and source; edges by the
// positions of their ends; events by the position of their transaction.
// For every policy but poison Σ Sinks.AmountSat + FeesSat ==
// SeedAmountSat, exactly, and so per source (Sources).
type Result struct {
	Chain         heistgraph.Chain `json:"chain"`
	Policy        Policy           `json:"policy"`
	Conserved     bool             `json:"conserved"`
	Seeds         []string         `json:"seeds"`
	SeedAmountSat int64            `json:"seed_amount_sat"`
	Sinks         SinkList         `json:"sinks"`
	Edges         EdgeList         `json:"edges"`
	FeesSat       int64            `json:"fees_sat"`
	Events        []Event          `json:"events"`
	Sources       []SourceTotal    `json:"sources"`
	Totals        []KindTotal      `json:"totals"`
	Params        Params           `json:"params"`
	Stats         Stats            `json:"stats"`
	// Across is the trace beyond the links its bridge sinks crossed
	// (Options.FollowLinks; crosschain.go).
	Across *Across `json:"across,omitempty"`

	// seedTxs are the transactions that created seed outputs, for the
	// graph exports.
	seedTxs map[heistgraph.Hash]bool
	// places places every transaction of the result (txPos makes the
	// map the graph exports read).
	places []txPlace
}

// txPlace is a transaction's place in its chain.
type txPlace struct {
	id  heistgraph.Hash
	pos pos
}

// txPos returns the positions of the result's transactions by txid.
func (r *Result) txPos() map[heistgraph.Hash]pos {
	m := make(map[heistgraph.Hash]pos, len(r.places))
	for _, p := range r.places {
		m[p.id] = p.pos
	}
	return m
}

// SinksSat returns Σ Sinks.AmountSat.
func (r *Result) SinksSat() int64 {
	var n int64
	if t := r.Sinks.tab; t != nil {
		for i := range t.recs {
			n += t.recs[i].amount
		}
		return n
	}
	for _, s := range r.Sinks.s {
		n += s.AmountSat
	}
	return n
}

// pos places a transaction in its chain: block height, then position in
// the block (methods.md §0.2); the order of processing.
type pos struct {
	height int64
	index  int
}

func (p pos) cmp(q pos) int {
	switch {
	case p.height < q.height:
		return -1
	case p.height > q.height:
		return 1
	case p.index < q.index:
		return -1
	case p.index > q.index:
		return 1
	}
	return 0
}
