package trace

import (
	"fmt"
	"slices"
	"strings"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/mixer"
)

// This file holds the account-model (EVM) trace's options, seeds and
// result (methods.md §2, design.md's EVM trace shape). The engine is in
// account_engine.go, the policies on a balance in account_policy.go.

// SinkSwap is value a conversion inside a transaction took out of its asset
// (a WETH wrap or unwrap, or a recognised DEX swap at its pool, methods.md
// §6.6): the taint continues in the output asset, so per asset the sinks
// still add up.
const SinkSwap SinkKind = "swap"

// Defaults of AccountOptions.
const (
	// DefaultAccountBudget is the number of transactions an account
	// trace may visit.
	DefaultAccountBudget = 1_000_000
	// DefaultMaxLots caps the lots a FIFO/LIFO balance keeps before
	// amount-exact compaction (methods.md §2.2).
	DefaultMaxLots = 256
)

// AccountSeed is where stolen value starts on an EVM chain (design.md:
// --seed 0xTXHASH, or --seed ADDRESS with --asset and --from).
//
// A transaction seed taints what the transaction moved: for each address
// and asset, the net of its transfers in the transaction (fees, priority
// fees and block-level credits left out) where that net is positive, as
// value resting at the address once the transaction is done. A transfer
// through an intermediary inside the transaction (A → C → B) is counted
// once, at B.
//
// An address seed taints every credit of Asset to Address whose block
// time is within [From, Until] (0: unbounded), like a Bitcoin address seed
// taints the outputs it received.
type AccountSeed struct {
	Tx      heistgraph.EVMHash    // a transaction seed when not zero
	Address heistgraph.EVMAddress // an address seed when Tx is zero
	// Asset restricts a transaction seed to one asset, and names an
	// address seed's asset (nil: every asset for a transaction, native
	// for an address).
	Asset       *heistgraph.Asset
	From, Until int64
}

// ParseAccountSeed parses a seed as the command line gives it on an EVM
// chain: 0x and 64 hex digits (a transaction) or 0x and 40 (an address).
// Errors wrap heistgraph.ErrInvalid.
func ParseAccountSeed(s string) (AccountSeed, error) {
	s = strings.TrimSpace(s)
	switch len(s) {
	case 66:
		h, err := heistgraph.ParseEVMHash(s)
		if err != nil {
			return AccountSeed{}, fmt.Errorf("trace: seed: %w", err)
		}
		if h.IsZero() {
			return AccountSeed{}, fmt.Errorf("trace: seed %s: the zero hash names no transaction: %w", s, heistgraph.ErrInvalid)
		}
		return AccountSeed{Tx: h}, nil
	case 42:
		a, err := heistgraph.ParseEVMAddress(s)
		if err != nil {
			return AccountSeed{}, fmt.Errorf("trace: seed: %w", err)
		}
		if a.IsZero() {
			return AccountSeed{}, fmt.Errorf("trace: seed %s: the zero address holds nothing: %w", s, heistgraph.ErrInvalid)
		}
		return AccountSeed{Address: a}, nil
	}
	return AccountSeed{}, fmt.Errorf("trace: seed %q: on an EVM chain want 0x and a 64-digit transaction hash or a 40-digit address: %w",
		shortSeed(s), heistgraph.ErrInvalid)
}

func shortSeed(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// IsTx reports whether s is a transaction seed.
func (s AccountSeed) IsTx() bool { return !s.Tx.IsZero() }

// String returns the seed as given: the hash, or the address with its
// asset and window.
func (s AccountSeed) String() string {
	if s.IsTx() {
		if s.Asset != nil {
			return s.Tx.String() + "/" + s.Asset.String()
		}
		return s.Tx.String()
	}
	out := s.Address.Hex() + "/" + s.asset().String()
	if s.From > 0 || s.Until > 0 {
		out += fmt.Sprintf("@%d..%d", s.From, s.Until)
	}
	return out
}

func (s AccountSeed) asset() heistgraph.Asset {
	if s.Asset == nil {
		return heistgraph.NativeAsset
	}
	return *s.Asset
}

// AccountOptions configures an account-model trace (methods.md §2). The
// zero value of each field means its default; Validate fills them in. All
// seeds are one source.
type AccountOptions struct {
	// Chain is the EVM chain traced (an account chain of the registry).
	Chain heistgraph.Chain
	// Seeds are where the stolen value starts; at least one.
	Seeds []AccountSeed
	// Policy is the taint policy on balances. Default haircut.
	Policy Policy
	// MaxHops stops taint this many transactions from a seed (hop_limit
	// sinks). Default 50.
	MaxHops int
	// MinAmount stops taint below this many base units in one transfer
	// or at rest at one address (threshold sinks), in every asset. nil
	// means per asset 10^(decimals−6) base units, at least 1 (10¹² wei
	// for ETH, 1 unit of a 6-decimal token); zero means no threshold.
	MinAmount *uint256.Int
	// MinShare stops, for haircut only, a balance whose tainted share is
	// below it (threshold sinks). Default 0.001; negative means none.
	MinShare float64
	// Until is a time bound (Unix seconds): transfers after it are not
	// followed (the taint then rests where it is: unspent sinks, reason
	// "until"); address seeds take credits up to it. 0 means the tip.
	Until int64
	// Budget is the number of transactions the trace may visit; taint
	// still held when it is used up becomes hop_limit sinks (reason
	// "budget"). Default 1,000,000.
	Budget int
	// MaxLots caps the lots a FIFO/LIFO balance carries before adjacent
	// lots are compacted (amount-exact). Default 256.
	MaxLots int
	// NoTxLocal turns the tx-local rule (methods.md §2.3) off: every
	// inflow joins its balance at once and every outflow draws on the
	// balance by the policy, contracts included. For comparison only
	// (methods.md §2.5 E3 "without it").
	NoTxLocal bool
	// Resolver names the entity of an address (lower-case hex); nil
	// means no entity stops.
	Resolver Resolver
	// StopCategories and PassCategories as in Options.
	StopCategories []string
	PassCategories []string
	// Mixers is the Tornado Cash pool table (methods.md §4.8): value
	// credited to a pool or entry point is an entity sink (category mixer)
	// listing its deposits. nil means mixer.Builtin(Chain).
	Mixers *mixer.Table
	// FollowLinks follows strong (T1) deposit→withdrawal links on from the
	// withdrawal, in AccountResult.Inferred (methods.md §4.9).
	FollowLinks bool
	// FollowLinks also continues value that reaches a bridge across the
	// stored links to the other chain, in AccountResult.Across
	// (crosschain.go), when the reader holds links (CrossReader).
	//
	// FollowHypotheses looks for T2–T4 links too and follows the probable
	// ones, in AccountResult.Hypotheses (and probable cross-chain links).
	FollowHypotheses bool
}

// Validate checks o and fills in defaults for zero fields. Errors wrap
// heistgraph.ErrInvalid.
func (o *AccountOptions) Validate() error {
	if !o.Chain.IsEVM() {
		return fmt.Errorf("trace: chain %q is not an EVM chain of the registry: %w", o.Chain, heistgraph.ErrInvalid)
	}
	if len(o.Seeds) == 0 {
		return fmt.Errorf("trace: no seeds: %w", heistgraph.ErrInvalid)
	}
	if o.Policy == "" {
		o.Policy = DefaultPolicy
	}
	if _, err := ParsePolicy(string(o.Policy)); err != nil {
		return err
	}
	switch {
	case o.MaxHops < 0:
		return fmt.Errorf("trace: max hops %d < 0: %w", o.MaxHops, heistgraph.ErrInvalid)
	case o.Budget < 0:
		return fmt.Errorf("trace: budget %d < 0: %w", o.Budget, heistgraph.ErrInvalid)
	case o.MaxLots < 0 || o.MaxLots == 1:
		return fmt.Errorf("trace: max lots %d: want 2 or more: %w", o.MaxLots, heistgraph.ErrInvalid)
	case o.Until < 0:
		return fmt.Errorf("trace: until %d < 0: %w", o.Until, heistgraph.ErrInvalid)
	case o.MinShare >= 1:
		return fmt.Errorf("trace: min share %g ≥ 1: %w", o.MinShare, heistgraph.ErrInvalid)
	}
	for _, s := range o.Seeds {
		if !s.IsTx() && s.Address.IsZero() {
			return fmt.Errorf("trace: seed names neither a transaction nor an address: %w", heistgraph.ErrInvalid)
		}
		if s.From < 0 || s.Until < 0 || (s.Until > 0 && s.From > s.Until) {
			return fmt.Errorf("trace: seed %s: bad time window [%d, %d]: %w", s, s.From, s.Until, heistgraph.ErrInvalid)
		}
	}
	if o.MaxHops == 0 {
		o.MaxHops = DefaultMaxHops
	}
	if o.MinShare == 0 {
		o.MinShare = DefaultMinShare
	}
	if o.Budget == 0 {
		o.Budget = DefaultAccountBudget
	}
	if o.MaxLots == 0 {
		o.MaxLots = DefaultMaxLots
	}
	if o.StopCategories == nil {
		o.StopCategories = slices.Clone(DefaultStopCategories)
	}
	if o.PassCategories == nil {
		o.PassCategories = slices.Clone(DefaultPassCategories)
	}
	return nil
}

// stops reports whether category cat stops the trace.
func (o *AccountOptions) stops(cat string) bool {
	return stopsAt(o.StopCategories, o.PassCategories, cat)
}

// AccountSink is tainted value at rest on an EVM chain (design.md): where
// (Address; TxID the transaction that brought it there, or for a swap the
// converting transaction), why it stopped (Kind, Reason), how much
// (Amount, a decimal string of base units of Asset) and how far from the
// seeds (Hops, in transactions).
type AccountSink struct {
	Kind     SinkKind              `json:"kind"`
	Address  heistgraph.EVMAddress `json:"address"`
	TxID     heistgraph.EVMHash    `json:"txid"`
	Entity   string                `json:"entity"`
	Category string                `json:"category"`
	Amount   string                `json:"amount"`
	Asset    heistgraph.Asset      `json:"asset"`
	Decimals uint8                 `json:"decimals"`
	Hops     int                   `json:"hops"`
	Chain    heistgraph.Chain      `json:"chain"`
	// Reason qualifies the kind: "budget" or "until", or for an
	// untraced sink ReasonInternalUnknown.
	Reason string `json:"reason,omitempty"`
	// Time is the block time of TxID.
	Time int64 `json:"time"`
	// Mixer lists the Tornado deposits of a mixer sink (account_mixer.go).
	Mixer []MixerDeposit `json:"mixer,omitempty"`
	// Via is the link a sink of Inferred or Hypotheses was reached by.
	Via *Via `json:"via,omitempty"`
	// Continued is, for a bridge sink, the part of Amount that continues
	// across an exact link (AccountResult.Across, part confirmed): counted
	// there, where it sits now, not here.
	Continued string `json:"continued,omitempty"`

	amt uint256.Int
	at  acctPos
}

// Value returns the sink's amount.
func (s *AccountSink) Value() uint256.Int { return s.amt }

// AccountEdge is tainted value moving from one address to another in one
// asset, summed over the trace's transfers (a conversion is an edge from
// the converting contract to whoever it credits, in the output asset).
type AccountEdge struct {
	From      heistgraph.EVMAddress `json:"from"`
	To        heistgraph.EVMAddress `json:"to"`
	Amount    string                `json:"amount"`
	Asset     heistgraph.Asset      `json:"asset"`
	Chain     heistgraph.Chain      `json:"chain"`
	Transfers int                   `json:"transfers"`

	amt   uint256.Int
	first acctPos
}

// Value returns the edge's amount.
func (e *AccountEdge) Value() uint256.Int { return e.amt }

// AssetTotal is one asset's account of a trace: what the seeds tainted,
// what conversions brought in (Converted) and took out (the swap sinks are
// among Sinks), what the sinks and (native only) fees hold, so that for a
// conserving policy Seed + Converted == Sinks + Fees, exactly.
type AssetTotal struct {
	Asset     heistgraph.Asset `json:"asset"`
	Decimals  uint8            `json:"decimals"`
	Seed      string           `json:"seed"`
	Converted string           `json:"converted"`
	Sinks     string           `json:"sinks"`
	Fees      string           `json:"fees"`

	seed, conv, sinks, fees uint256.Int
}

// Balanced reports whether Seed + Converted == Sinks + Fees.
func (a *AssetTotal) Balanced() bool {
	var in, out uint256.Int
	_, o1 := in.AddOverflow(&a.seed, &a.conv)
	_, o2 := out.AddOverflow(&a.sinks, &a.fees)
	return !o1 && !o2 && in.Eq(&out)
}

// AccountStats describes the work an account trace did.
type AccountStats struct {
	TxsVisited       int   `json:"txs_visited"`
	TransfersVisited int   `json:"transfers_visited"`
	Addresses        int   `json:"addresses"`      // addresses followed (that held taint, or a seed's)
	OpeningEvents    int   `json:"opening_events"` // history events read for opening balances
	MaxHop           int   `json:"max_hop"`
	Budget           bool  `json:"budget_exhausted"`
	MS               int64 `json:"ms"`
}

// AccountParams records the options an account result was computed with.
type AccountParams struct {
	MaxHops   int     `json:"max_hops"`
	MinAmount string  `json:"min_amount"` // "" means per asset (AccountOptions.MinAmount)
	MinShare  float64 `json:"min_share"`
	Until     int64   `json:"until"`
	Budget    int     `json:"budget"`
	Resolver  bool    `json:"entity_stops"`
	// FollowLinks and FollowHypotheses: which mixer links were followed.
	FollowLinks      bool `json:"follow_links"`
	FollowHypotheses bool `json:"follow_hypotheses"`
	// AcrossChains tells whether bridge sinks were followed across links
	// (FollowLinks on a store with links).
	AcrossChains bool `json:"across_chains,omitempty"`
}

// AccountResult is a trace on an EVM chain (design.md): seeds, where the
// value went (sinks, each with its asset and chain), how it moved (edges
// between addresses), what fees took (native, wei) and per asset totals.
// SeedAmount and SeedAsset are set when the seeds hold one asset (else
// Assets says it per asset). Sinks are ordered by the ledger position of
// their transaction, then address, asset and kind; edges by their first
// transfer. For every policy but poison, per asset Seed + Converted ==
// Sinks + Fees exactly (Assets), and Σ sinks (native) + Fees == SeedAmount
// when the seeds are native and nothing was converted.
type AccountResult struct {
	Chain      heistgraph.Chain `json:"chain"`
	Policy     Policy           `json:"policy"`
	Conserved  bool             `json:"conserved"`
	Seeds      []string         `json:"seeds"`
	SeedAmount string           `json:"seed_amount,omitempty"`
	SeedAsset  string           `json:"seed_asset,omitempty"`
	Decimals   uint8            `json:"decimals"`
	Sinks      []AccountSink    `json:"sinks"`
	Edges      []AccountEdge    `json:"edges"`
	Fees       string           `json:"fees"`
	Assets     []AssetTotal     `json:"assets"`
	Params     AccountParams    `json:"params"`
	Stats      AccountStats     `json:"stats"`
	// Links are the links of the mixer sinks' deposits (T1; T2–T4 with
	// FollowHypotheses), followed or not; Inferred and Hypotheses are the
	// traces through the followed ones, beside the confirmed trace.
	Links      []mixer.Link `json:"links,omitempty"`
	Inferred   *LinkedTrace `json:"inferred,omitempty"`
	Hypotheses *LinkedTrace `json:"hypotheses,omitempty"`
	// Across is the trace beyond the links its bridge sinks crossed
	// (FollowLinks; crosschain.go).
	Across *Across `json:"across,omitempty"`
}

// acctPos places a transfer in its chain's ledger: block height, then
// position in the block's ledger (methods.md §0.2).
type acctPos struct {
	h   int64
	seq int32
}

func (p acctPos) less(q acctPos) bool { return p.h < q.h || p.h == q.h && p.seq < q.seq }

// FormatUnits writes base units v of an asset with the given decimals as a
// decimal number of whole units without trailing zeros ("4.99975", "3").
func FormatUnits(v *uint256.Int, decimals uint8) string {
	s := v.Dec()
	if decimals == 0 {
		return s
	}
	d := int(decimals)
	if len(s) <= d {
		s = strings.Repeat("0", d-len(s)+1) + s
	}
	return strings.TrimSuffix(strings.TrimRight(s[:len(s)-d]+"."+s[len(s)-d:], "0"), ".")
}
