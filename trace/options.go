package trace

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/heistgraph/heistgraph"
)

// Resolver tells which entity an address belongs to, as labels and
// clustering know it (cluster.NewResolver provides one over the store). ok
// is false for an address no label reaches. Implementations must be safe
// for use by one trace at a time and deterministic for a given store.
type Resolver interface {
	Resolve(ctx context.Context, chain heistgraph.Chain, addr string) (heistgraph.EntityRef, bool, error)
}

// ResolverScreen is an optional role of a Resolver made for the reader a
// trace reads (app's resolver over the transaction graph has it): false
// from MayResolve says that Resolve answers no entity (ok false, no
// error) for the reader's address id a (TxNumbers), which the trace then
// learns without the address's string or a lookup by it. True says
// nothing: the trace asks Resolve.
type ResolverScreen interface {
	MayResolve(chain heistgraph.Chain, a uint32) bool
}

// ResolverByID is an optional role of a ResolverScreen: ResolveID is
// Resolve of addr, which is the reader's address id a, so that the
// resolver need not look the address up by its string again.
type ResolverByID interface {
	ResolveID(ctx context.Context, chain heistgraph.Chain, a uint32, addr string) (heistgraph.EntityRef, bool, error)
}

// SeedKind says what a seed names.
type SeedKind uint8

// Seed kinds.
const (
	// SeedOutput is one output, TXID:VOUT.
	SeedOutput SeedKind = iota
	// SeedTx is every output of a transaction, TXID.
	SeedTx
	// SeedAddress is every output an address received, optionally in a
	// time window.
	SeedAddress
)

// Seed is where stolen value starts: an output, a whole transaction or an
// address (methods.md §1.1). Clusters as seeds are not built yet.
type Seed struct {
	Kind     SeedKind
	Outpoint heistgraph.Outpoint // SeedOutput
	TxID     heistgraph.Hash     // SeedTx
	Address  string              // SeedAddress
	// From and Until bound, for an address, the block times of the
	// outputs it received (Unix seconds, inclusive; 0 means unbounded).
	// Options.Until also bounds them.
	From, Until int64
	// Amount is the tainted amount of an output seed in satoshis, from
	// the start of its line (FIFO/LIFO: [0, Amount)); 0 means the whole
	// value. Only for SeedOutput.
	Amount int64
	// Source names the theft the seed belongs to. Seeds with the same
	// source are one source; "" is the source "seed". Sources are
	// propagated independently and each conserves value on its own.
	Source string
}

// ParseSeeds parses each of ss with ParseSeed.
func ParseSeeds(ss []string) ([]Seed, error) {
	out := make([]Seed, 0, len(ss))
	for _, s := range ss {
		sd, err := ParseSeed(s)
		if err != nil {
			return nil, err
		}
		out = append(out, sd)
	}
	return out, nil
}

// ParseSeed parses a seed as the command line gives it: TXID:VOUT (an
// output), TXID (64 hex digits: every output of the transaction) or an
// address (anything else without spaces). An output may carry a partial
// amount in satoshis after a slash, TXID:VOUT/SAT. Errors wrap
// heistgraph.ErrInvalid.
func ParseSeed(s string) (Seed, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s, " \t\n") {
		return Seed{}, fmt.Errorf("trace: seed %q: want TXID:VOUT, TXID or an address: %w", s, heistgraph.ErrInvalid)
	}
	if i := strings.IndexByte(s, ':'); i == 64 {
		body, amt, hasAmt := strings.Cut(s, "/")
		op, err := heistgraph.ParseOutpoint(body)
		if err != nil {
			return Seed{}, fmt.Errorf("trace: seed: %w", err)
		}
		sd := Seed{Kind: SeedOutput, Outpoint: op}
		if hasAmt {
			n, err := strconv.ParseInt(amt, 10, 64)
			if err != nil || n <= 0 {
				return Seed{}, fmt.Errorf("trace: seed %q: amount after / must be a positive number of satoshis: %w", s, heistgraph.ErrInvalid)
			}
			sd.Amount = n
		}
		return sd, nil
	}
	if len(s) == 64 {
		if h, err := heistgraph.ParseHash(s); err == nil {
			return Seed{Kind: SeedTx, TxID: h}, nil
		}
	}
	if strings.ContainsAny(s, ":/") {
		return Seed{}, fmt.Errorf("trace: seed %q: want TXID:VOUT, TXID or an address: %w", s, heistgraph.ErrInvalid)
	}
	return Seed{Kind: SeedAddress, Address: s}, nil
}

// String returns the seed in ParseSeed's form.
func (s Seed) String() string {
	switch s.Kind {
	case SeedOutput:
		if s.Amount > 0 {
			return s.Outpoint.String() + "/" + strconv.FormatInt(s.Amount, 10)
		}
		return s.Outpoint.String()
	case SeedTx:
		return s.TxID.String()
	default:
		return s.Address
	}
}

// DefaultStopCategories are the label categories (package label's, plus
// synth's merchant) whose addresses stop a trace with an entity sink
// (methods.md §1.9): services that hold customers' funds, can freeze, or
// end the trail. Any category in neither list stops too ("other
// services").
var DefaultStopCategories = []string{"exchange", "high_risk_exchange", "p2p_exchange", "mixer", "bridge", "gambling",
	"defi", "dex", "payment_processor", "wallet_service", "darknet", "mining", "merchant", "service"}

// DefaultPassCategories are the label categories a trace passes through:
// the thieves and other actors themselves, their victims, and labels that
// say nothing about custody.
var DefaultPassCategories = []string{"dprk", "sanctioned", "stolen", "illicit_actor", "scam", "ransomware",
	"terrorist_financing", "csam", "victim", "user", "unknown", ""}

// Defaults of Options (methods.md §9).
const (
	DefaultPolicy       = Haircut
	DefaultMaxHops      = 50
	DefaultMinAmount    = 546
	DefaultMinShare     = 0.001
	DefaultBudget       = 1_000_000
	DefaultMaxIntervals = 64
)

// Options configures a trace. The zero value of each field means its
// default; Validate fills them in.
type Options struct {
	// Chain is the chain traced.
	Chain heistgraph.Chain
	// Seeds are where the stolen value starts; at least one.
	Seeds []Seed
	// Policy is the taint policy. Default haircut.
	Policy Policy
	// MaxHops stops value at outputs this many transactions from a seed
	// (hop_limit sinks). Default 50.
	MaxHops int
	// MinAmount stops taint below this many satoshis in one output
	// (threshold sinks). Default 546; negative means no threshold.
	MinAmount int64
	// MinShare stops, for haircut only, an output whose tainted share of
	// its value is below it (threshold sinks). Default 0.001; negative
	// means none.
	MinShare float64
	// Until is a time bound (Unix seconds): outputs spent after it count
	// as unspent, and address seeds take outputs received up to it. 0
	// means the store's tip.
	Until int64
	// Budget is the number of transactions the trace may visit; what is
	// still pending when it is used up becomes hop_limit sinks with
	// reason "budget". Default 1,000,000.
	Budget int
	// Resolver names the entity of an address; nil means no entity stops.
	Resolver Resolver
	// StopCategories and PassCategories decide which resolved categories
	// stop the trace (entity sinks) and which it passes through. A
	// category in neither stops. Defaults: DefaultStopCategories and
	// DefaultPassCategories.
	StopCategories []string
	PassCategories []string
	// ThroughCoinJoin, when set, applies that policy to detected CoinJoins
	// like to any transaction (methods.md §4.7); by default a CoinJoin
	// stops each tainted input with an entity sink (category mixer,
	// entity coinjoin/<subtype>). Taint then passes between policy forms:
	// a value policy's amount on an output is read by FIFO/LIFO as the
	// span [0, amount).
	ThroughCoinJoin Policy
	// MaxIntervals caps the spans a FIFO/LIFO output carries before
	// amount-exact compaction (methods.md §1.5). Default 64.
	MaxIntervals int
	// FollowLinks continues value that reaches a bridge (an entity sink
	// of category bridge) across the stored links to the other chain, in
	// Result.Across (crosschain.go): exact links as ordinary flow, strong
	// ones in the inferred part. It needs a store with links (CrossReader);
	// on another reader it does nothing (Params.AcrossChains false).
	FollowLinks bool
	// FollowHypotheses also follows probable links (the hypotheses part).
	FollowHypotheses bool
	// NoEvents skips pattern detection (peel chains, consolidations,
	// splits, CoinJoins are still detected when they stop the trace).
	NoEvents bool
}

// DefaultOptions returns Options with every default filled in and no
// seeds.
func DefaultOptions() Options {
	return Options{
		Policy:         DefaultPolicy,
		MaxHops:        DefaultMaxHops,
		MinAmount:      DefaultMinAmount,
		MinShare:       DefaultMinShare,
		Budget:         DefaultBudget,
		StopCategories: slices.Clone(DefaultStopCategories),
		PassCategories: slices.Clone(DefaultPassCategories),
		MaxIntervals:   DefaultMaxIntervals,
	}
}

// Validate checks o and fills in defaults for zero fields. It returns an
// error wrapping heistgraph.ErrInvalid for no seeds, an unknown policy, a
// seed that does not fit its kind, or a value out of range.
func (o *Options) Validate() error {
	if o.Chain == "" {
		return fmt.Errorf("trace: no chain: %w", heistgraph.ErrInvalid)
	}
	if !o.Chain.IsUTXO() {
		return fmt.Errorf("trace: chain %s: only UTXO chains are traced so far: %w", o.Chain, heistgraph.ErrInvalid)
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
	if o.ThroughCoinJoin != "" {
		if _, err := ParsePolicy(string(o.ThroughCoinJoin)); err != nil {
			return err
		}
	}
	switch {
	case o.MaxHops < 0:
		return fmt.Errorf("trace: max hops %d < 0: %w", o.MaxHops, heistgraph.ErrInvalid)
	case o.Budget < 0:
		return fmt.Errorf("trace: budget %d < 0: %w", o.Budget, heistgraph.ErrInvalid)
	case o.MaxIntervals < 0:
		return fmt.Errorf("trace: max intervals %d < 0: %w", o.MaxIntervals, heistgraph.ErrInvalid)
	case o.Until < 0:
		return fmt.Errorf("trace: until %d < 0: %w", o.Until, heistgraph.ErrInvalid)
	case o.MinShare >= 1:
		return fmt.Errorf("trace: min share %g ≥ 1: %w", o.MinShare, heistgraph.ErrInvalid)
	}
	for _, s := range o.Seeds {
		switch s.Kind {
		case SeedOutput:
			if s.Amount < 0 {
				return fmt.Errorf("trace: seed %s: negative amount: %w", s, heistgraph.ErrInvalid)
			}
		case SeedTx:
			if s.TxID.IsZero() {
				return fmt.Errorf("trace: seed: zero txid: %w", heistgraph.ErrInvalid)
			}
		case SeedAddress:
			if s.Address == "" {
				return fmt.Errorf("trace: seed: empty address: %w", heistgraph.ErrInvalid)
			}
			if s.From < 0 || s.Until < 0 || (s.Until > 0 && s.From > s.Until) {
				return fmt.Errorf("trace: seed %s: bad time window [%d, %d]: %w", s, s.From, s.Until, heistgraph.ErrInvalid)
			}
		default:
			return fmt.Errorf("trace: seed of unknown kind %d: %w", s.Kind, heistgraph.ErrInvalid)
		}
	}
	if o.MaxHops == 0 {
		o.MaxHops = DefaultMaxHops
	}
	if o.MinAmount == 0 {
		o.MinAmount = DefaultMinAmount
	}
	if o.MinShare == 0 {
		o.MinShare = DefaultMinShare
	}
	if o.Budget == 0 {
		o.Budget = DefaultBudget
	}
	if o.MaxIntervals == 0 {
		o.MaxIntervals = DefaultMaxIntervals
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
func (o *Options) stops(cat string) bool {
	return stopsAt(o.StopCategories, o.PassCategories, cat)
}

// stopsAt reports whether category cat stops a trace with these stop and
// pass lists: a listed stop does, a listed pass does not, and a category
// in neither list does.
func stopsAt(stop, pass []string, cat string) bool {
	c := strings.ToLower(cat)
	if slices.Contains(stop, c) {
		return true
	}
	return !slices.Contains(pass, c)
}
