package cluster

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/txgraph"
)

// Options configures clustering. The zero value is not useful: start from
// DefaultOptions. Every heuristic is a switch; the defaults were chosen by
// the pairwise precision they measure on synthetic worlds (see doc.go).
type Options struct {
	// CommonInput turns on H1, common-input ownership (methods.md §3.2).
	// Default on.
	CommonInput bool
	// Change configures the change heuristics (§3.3, §3.4).
	Change ChangeOptions
	// Guards configures the guards against cluster collapse (§3.5).
	Guards GuardOptions
	// Account configures the heuristics of account (EVM) chains (§7).
	Account AccountOptions
	// Logger receives progress lines; nil discards them.
	Logger *slog.Logger
	// Progress, when set, is called after each block is clustered.
	Progress func(height int64)
	// Graph, when set to the transaction graph of the chain clustered
	// (package txgraph), gives the addresses their in-memory identity (its
	// address ids: no address hashing, 4 bytes an address) and is read
	// instead of the store's blocks while its last block is the store's
	// tip. The result is the same with and without it. UTXO chains only;
	// the caller keeps it open while the run (or Engine) lasts.
	Graph *txgraph.Graph
	// SpillDir, when set, keeps the per-address arrays (the address keys,
	// the clusters and their rings: 20 of about 26 bytes an address) in
	// memory-mapped files in that directory, removed as soon as they are
	// made, instead of on Go's heap: the system pages them out under
	// memory pressure (spill.go). Their disk is allocated ahead of use, in
	// chunks; a full disk fails the run with a *SpillFullError. The result
	// is the same.
	SpillDir string
}

// ChangeOptions configures the change heuristics. A transaction is a
// change candidate when it is not a coinbase, not a CoinJoin, not of the
// Stonewall shape, has exactly two spendable outputs, both with addresses,
// none of which is also an input address (self-change), and all its spent
// outputs are known. Each enabled heuristic votes for an output when it
// rules out the other one (methods.md §3.3).
type ChangeOptions struct {
	// Fresh: the output whose address is first seen in this transaction,
	// when the other's was seen before. Default on.
	Fresh bool
	// Round: the other output is a multiple of 10^RoundDigits sat and this
	// one is not. Default on.
	Round bool
	// RoundDigits is the d of the round-payment rule. Default 4.
	RoundDigits int
	// AddressType: all inputs share one script type and only this output
	// has it. Default on.
	AddressType bool
	// Locktime: this output's spender uses nLockTime as the transaction
	// does (zero or not) and the other's does not. Needs both outputs
	// spent within Window blocks. Default on.
	Locktime bool
	// Version: this output's spender has the transaction's nVersion and
	// the other's does not. Needs both outputs spent. Default on.
	Version bool
	// RBF: this output's spender signals opt-in RBF as the transaction
	// does and the other's does not. Default off.
	RBF bool
	// OptimalVeto lets the optimal-change rule (an output smaller than
	// every input is the change) vote against the other output; it never
	// votes for a merge. Default on.
	OptimalVeto bool
	// MinVotes is how many votes an output needs, with none for the other
	// output, to be merged into the inputs' cluster. Default 2.
	MinVotes int
	// Window is how many blocks a candidate waits for its outputs to be
	// spent, for the fingerprint votes (Locktime, Version, RBF). Default
	// 1008 (a week).
	Window int64
	// LegacyPair replaces the vote rule by the first draft's: address type
	// and optimal change agree on the output (methods.md §3.4,
	// --change legacy-pair). Default off.
	LegacyPair bool
}

// GuardOptions configures the guards against cluster collapse (§3.5).
type GuardOptions struct {
	// ServiceCategories are the label categories whose entities are
	// services (G2: a union that would put two of them in one cluster is
	// refused; G3: no change inference in their clusters). Default:
	// exchange, high_risk_exchange, p2p_exchange, mixer, bridge, gambling,
	// payment_processor, defi, dex, wallet_service, mining, merchant.
	ServiceCategories []string
	// ChangeMaxCluster is G3's bound: no change inference when the input
	// cluster has at least this many addresses. Default 1,000.
	ChangeMaxCluster int
	// HoldBoth is G4's bound on both sides of a union. Default 10,000.
	HoldBoth int
	// HoldChange is G4's bound on the smaller side of a change union.
	// Default 1,000.
	HoldChange int
	// SweepRoots extends G5 (soft edges) to the collapse path of §3.5: a
	// payee's address that a wrong change decision put in the payer's
	// cluster, then spent by the payee together with its own coins (an
	// exchange sweeping its customers' deposit addresses). When
	// common-input evidence spends an address that is in its cluster only
	// as the change output of one change union, and no other address of
	// that cluster, together with coins of at least SweepRoots other
	// clusters, or of a cluster carrying a service label its own does not
	// carry, or of a cluster of at least 50 addresses and ten times its
	// own, the change union is dropped (recorded) and the address joins
	// the spenders. Default 20 (5 dropped thousands of right change unions
	// of users consolidating coins on the medium world); a negative value
	// turns the extension off.
	SweepRoots int
}

// Defaults of Options.
const (
	DefaultRoundDigits      = 4
	DefaultMinVotes         = 2
	DefaultWindow           = 1008
	DefaultChangeMaxCluster = 1000
	DefaultHoldBoth         = 10_000
	DefaultHoldChange       = 1000
	DefaultSweepRoots       = 20
)

// DefaultServiceCategories returns the default service categories of G2
// and G3. The caller owns the slice.
func DefaultServiceCategories() []string {
	return []string{"exchange", "high_risk_exchange", "p2p_exchange", "mixer", "bridge", "gambling",
		"payment_processor", "defi", "dex", "wallet_service", "mining", "merchant"}
}

// DefaultOptions returns the documented defaults.
func DefaultOptions() Options {
	return Options{
		CommonInput: true,
		Change: ChangeOptions{
			Fresh: true, Round: true, RoundDigits: DefaultRoundDigits, AddressType: true,
			Locktime: true, Version: true, OptimalVeto: true,
			MinVotes: DefaultMinVotes, Window: DefaultWindow,
		},
		Guards: GuardOptions{
			ServiceCategories: DefaultServiceCategories(),
			ChangeMaxCluster:  DefaultChangeMaxCluster,
			HoldBoth:          DefaultHoldBoth,
			HoldChange:        DefaultHoldChange,
			SweepRoots:        DefaultSweepRoots,
		},
		Account: DefaultAccountOptions(),
	}
}

// Validate checks o and fills zero numeric fields with their defaults.
// Errors wrap heistgraph.ErrInvalid.
func (o *Options) Validate() error {
	c := &o.Change
	switch {
	case c.RoundDigits < 0 || c.RoundDigits > 18:
		return fmt.Errorf("cluster: round digits %d outside [1, 18]: %w", c.RoundDigits, heistgraph.ErrInvalid)
	case c.MinVotes < 0:
		return fmt.Errorf("cluster: min votes %d < 1: %w", c.MinVotes, heistgraph.ErrInvalid)
	case c.Window < 0:
		return fmt.Errorf("cluster: window %d < 0: %w", c.Window, heistgraph.ErrInvalid)
	case o.Guards.ChangeMaxCluster < 0 || o.Guards.HoldBoth < 0 || o.Guards.HoldChange < 0:
		return fmt.Errorf("cluster: negative guard bound: %w", heistgraph.ErrInvalid)
	}
	if c.RoundDigits == 0 {
		c.RoundDigits = DefaultRoundDigits
	}
	if c.MinVotes == 0 {
		c.MinVotes = DefaultMinVotes
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	g := &o.Guards
	if g.ServiceCategories == nil {
		g.ServiceCategories = DefaultServiceCategories()
	}
	if g.ChangeMaxCluster == 0 {
		g.ChangeMaxCluster = DefaultChangeMaxCluster
	}
	if g.HoldBoth == 0 {
		g.HoldBoth = DefaultHoldBoth
	}
	if g.HoldChange == 0 {
		g.HoldChange = DefaultHoldChange
	}
	if g.SweepRoots == 0 {
		g.SweepRoots = DefaultSweepRoots
	}
	if err := o.Account.validate(); err != nil {
		return err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// changeEnabled reports whether any change heuristic can vote.
func (c *ChangeOptions) enabled() bool {
	return c.Fresh || c.Round || c.AddressType || c.Locktime || c.Version || c.RBF || c.LegacyPair
}

// fingerprints reports whether a heuristic needs the outputs' spenders.
func (c *ChangeOptions) fingerprints() bool {
	return !c.LegacyPair && (c.Locktime || c.Version || c.RBF)
}

// isService reports whether category cat is a service category.
func (g *GuardOptions) isService(cat string) bool { return slices.Contains(g.ServiceCategories, cat) }

// ParseChangeHeuristics sets the change heuristics from a comma-separated
// list as the CLI takes it: names fresh, round, type, locktime, version,
// rbf, optimal (the veto), or the words "none", "default" and
// "legacy-pair". Unknown names wrap heistgraph.ErrInvalid.
func ParseChangeHeuristics(c *ChangeOptions, list []string) error {
	set := func(v bool) {
		c.Fresh, c.Round, c.AddressType, c.Locktime, c.Version, c.RBF, c.OptimalVeto, c.LegacyPair = v, v, v, v, v, v, v, false
	}
	set(false)
	for _, name := range list {
		switch name {
		case "none":
			set(false)
		case "default":
			d := DefaultOptions().Change
			c.Fresh, c.Round, c.AddressType, c.Locktime, c.Version, c.RBF, c.OptimalVeto = d.Fresh, d.Round, d.AddressType, d.Locktime, d.Version, d.RBF, d.OptimalVeto
		case "legacy-pair":
			c.LegacyPair = true
		case "fresh":
			c.Fresh = true
		case "round":
			c.Round = true
		case "type":
			c.AddressType = true
		case "locktime":
			c.Locktime = true
		case "version":
			c.Version = true
		case "rbf":
			c.RBF = true
		case "optimal":
			c.OptimalVeto = true
		default:
			return fmt.Errorf("cluster: unknown change heuristic %q (want fresh, round, type, locktime, version, rbf, optimal, none, default or legacy-pair): %w", name, heistgraph.ErrInvalid)
		}
	}
	return nil
}
