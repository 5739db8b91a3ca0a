package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/trace"
)

// Chain choice: which chain an id or an address is looked up on when the
// request names none, and the checks that tell a malformed identifier (an
// error wrapping heistgraph.ErrInvalid) from a well-formed one the store
// does not hold (heistgraph.ErrNotFound).

// CandidateChains returns the chains to look an id up in: chain when it is
// given (parsed; a bad name wraps heistgraph.ErrInvalid), or every Bitcoin
// chain the store holds data for, in heistgraph.Networks order.
func CandidateChains(ctx context.Context, r store.ChainReader, chain string) ([]heistgraph.Chain, error) {
	if chain != "" {
		c, err := heistgraph.ParseChain(chain)
		if err != nil {
			return nil, err
		}
		return []heistgraph.Chain{c}, nil
	}
	var out []heistgraph.Chain
	for _, n := range heistgraph.Networks() {
		if _, err := r.Tip(ctx, n.Chain); err == nil {
			out = append(out, n.Chain)
		} else if !errors.Is(err, heistgraph.ErrNotFound) {
			return nil, err
		}
	}
	return out, nil
}

// Lookup tries fn on each of CandidateChains(chain) and returns the first
// hit, or an error wrapping heistgraph.ErrNotFound that names what was
// looked for.
func Lookup[T any](ctx context.Context, r store.ChainReader, chain, what string, fn func(heistgraph.Chain) (T, error)) (T, error) {
	chains, err := CandidateChains(ctx, r, chain)
	if err != nil {
		var zero T
		return zero, err
	}
	return lookupIn(chains, what, fn)
}

// lookupIn tries fn on each chain and returns the first hit, or an error
// wrapping heistgraph.ErrNotFound that names what was looked for.
func lookupIn[T any](chains []heistgraph.Chain, what string, fn func(heistgraph.Chain) (T, error)) (T, error) {
	var zero T
	for _, c := range chains {
		v, err := fn(c)
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, heistgraph.ErrNotFound) {
			return zero, err
		}
	}
	return zero, fmt.Errorf("%s: %w", what, heistgraph.ErrNotFound)
}

// TraceChain picks the chain to trace: chain when given, or the one
// Bitcoin chain the store holds (none: heistgraph.ErrNotFound; several:
// heistgraph.ErrInvalid, asking for a chain).
func TraceChain(ctx context.Context, r store.ChainReader, chain string) (heistgraph.Chain, error) {
	if chain != "" {
		c, err := heistgraph.ParseChain(chain)
		if err != nil {
			return "", fmt.Errorf("--chain: %w", err)
		}
		return c, nil
	}
	return onlyChain(ctx, r, "trace: the store holds no chain", func(cs []heistgraph.Chain) string {
		return fmt.Sprintf("trace: the store holds %s: say which with --chain", chainNames(cs))
	})
}

// onlyChain returns the one Bitcoin chain the store holds; with none, an
// error wrapping heistgraph.ErrNotFound that says none; with several, one
// wrapping heistgraph.ErrInvalid that says several(them).
func onlyChain(ctx context.Context, r store.ChainReader, none string, several func([]heistgraph.Chain) string) (heistgraph.Chain, error) {
	chains, err := CandidateChains(ctx, r, "")
	if err != nil {
		return "", err
	}
	return oneOf(chains, none, several)
}

// oneOf returns the one chain of chains, or onlyChain's errors.
func oneOf(chains []heistgraph.Chain, none string, several func([]heistgraph.Chain) string) (heistgraph.Chain, error) {
	switch len(chains) {
	case 0:
		return "", fmt.Errorf("%s: %w", none, heistgraph.ErrNotFound)
	case 1:
		return chains[0], nil
	}
	return "", fmt.Errorf("%s: %w", several(chains), heistgraph.ErrInvalid)
}

// ClusterChain returns chain (which must be a Bitcoin chain), or the one
// Bitcoin chain the store holds blocks of.
func ClusterChain(ctx context.Context, r store.ChainReader, chain string) (heistgraph.Chain, error) {
	if chain != "" {
		c, err := heistgraph.ParseChain(chain)
		if err != nil {
			return "", fmt.Errorf("--chain: %w", err)
		}
		if !c.IsUTXO() && !c.IsEVM() {
			return "", fmt.Errorf("--chain %s: only Bitcoin and EVM chains of the registry are clustered: %w", c, heistgraph.ErrInvalid)
		}
		return c, nil
	}
	return onlyChain(ctx, r, "no Bitcoin chain in the store: ingest blocks first", func(cs []heistgraph.Chain) string {
		return fmt.Sprintf("the store holds several chains (%v): give --chain", cs)
	})
}

// ClusterChainOf is ClusterChain for a request about addr: without chain
// and with several Bitcoin chains in the store, the one chain whose address
// format accepts addr is meant; with none in the store, an address no
// Bitcoin network accepts is still bad input, not "no chain in the store".
// An EVM address ("0x...") without chain is meant on the one EVM chain the
// store holds. what prefixes the errors about addr ("cluster show").
func ClusterChainOf(ctx context.Context, r store.ChainReader, chain, addr, what string) (heistgraph.Chain, error) {
	if ar, ok := r.(store.AccountReader); ok && chain == "" && IsEVMID(addr) {
		cs, err := EVMChains(ctx, ar, "")
		if err != nil {
			return "", err
		}
		return oneOf(cs, what+": no EVM chain in the store: ingest one first", func(cs []heistgraph.Chain) string {
			return fmt.Sprintf("%s: the store holds %s: say which with --chain", what, chainNames(cs))
		})
	}
	if chain == "" {
		cs, err := CandidateChains(ctx, r, "")
		if err != nil {
			return "", err
		}
		if len(cs) == 0 {
			for _, n := range heistgraph.Networks() {
				cs = append(cs, n.Chain)
			}
			if _, err := AddressChains(cs, addr); err != nil {
				return "", fmt.Errorf("%s: %w", what, err)
			}
		} else if len(cs) > 1 {
			ok, err := AddressChains(cs, addr)
			if err != nil {
				return "", fmt.Errorf("%s: %w", what, err)
			}
			if len(ok) == 1 {
				return ok[0], nil
			}
		}
	}
	return ClusterChain(ctx, r, chain)
}

// ValidAddress returns addr in the form the store keys it by on chain c
// (heistgraph.NormalizeAddress: surrounding space removed, bech32 and EVM
// hex lower-cased) after checking it is an address of c. A malformed
// address wraps heistgraph.ErrInvalid, naming it and the chain.
func ValidAddress(c heistgraph.Chain, addr string) (string, error) {
	return heistgraph.NormalizeAddress(c, addr)
}

// ValidAddresses is ValidAddress for each of addrs, in order.
func ValidAddresses(c heistgraph.Chain, addrs []string) ([]string, error) {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		n, err := ValidAddress(c, a)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// AddressChains keeps the chains of cs whose address format accepts addr.
// With none left, addr is malformed for every chain it could be on: an
// error wrapping heistgraph.ErrInvalid that names the chains (the one
// chain's own reason when there is one).
func AddressChains(cs []heistgraph.Chain, addr string) ([]heistgraph.Chain, error) {
	var ok []heistgraph.Chain
	var first error
	for _, c := range cs {
		if _, err := ValidAddress(c, addr); err == nil {
			ok = append(ok, c)
		} else if first == nil {
			first = err
		}
	}
	if len(ok) > 0 {
		return ok, nil
	}
	// Say so when it is another Bitcoin network's address.
	hint := ""
	for _, n := range heistgraph.Networks() {
		if !slices.Contains(cs, n.Chain) {
			if _, err := ValidAddress(n.Chain, addr); err == nil {
				hint = fmt.Sprintf(" (it is a %s address)", n.Chain)
				break
			}
		}
	}
	if len(cs) == 1 {
		if hint != "" {
			return nil, fmt.Errorf("%q is not a %s address%s: %w", shortText(strings.TrimSpace(addr)), cs[0], hint, heistgraph.ErrInvalid)
		}
		return nil, first
	}
	if hint == "" {
		hint = " (give --chain for another chain)"
	}
	return nil, fmt.Errorf("%q is not an address of %s%s: %w",
		shortText(strings.TrimSpace(addr)), chainNames(cs), hint, heistgraph.ErrInvalid)
}

// CheckAddress checks addr against chain or, without it, the Bitcoin
// chains the store holds (every known Bitcoin network when it holds none),
// and returns it normalised: an address is malformed (heistgraph.ErrInvalid)
// only if no candidate chain accepts it.
func CheckAddress(ctx context.Context, r store.ChainReader, chain, addr string) (string, error) {
	cs, err := CandidateChains(ctx, r, chain)
	if err != nil {
		if chain != "" && errors.Is(err, heistgraph.ErrInvalid) {
			return "", fmt.Errorf("--chain: %w", err)
		}
		return "", err
	}
	if len(cs) == 0 {
		for _, n := range heistgraph.Networks() {
			cs = append(cs, n.Chain)
		}
	}
	ok, err := AddressChains(cs, addr)
	if err != nil {
		return "", err
	}
	return ValidAddress(ok[0], addr)
}

// CheckSeeds checks the address seeds of a trace on chain c and normalises
// them in place (trace.ParseSeed checked txid and outpoint seeds).
func CheckSeeds(c heistgraph.Chain, seeds []trace.Seed) error {
	for i := range seeds {
		if seeds[i].Kind != trace.SeedAddress {
			continue
		}
		n, err := ValidAddress(c, seeds[i].Address)
		if err != nil {
			return fmt.Errorf("trace --seed: %w", err)
		}
		seeds[i].Address = n
	}
	return nil
}

// LabelChains returns the chains to look addr's labels up on: chain, or,
// without it, eth for an EVM address (a lookup on eth also reads the
// shared EVM key, heistgraph.ChainEVM) and every Bitcoin chain otherwise.
func LabelChains(chain, addr string) ([]heistgraph.Chain, error) {
	if chain != "" {
		c, err := heistgraph.ParseChain(chain)
		if err != nil {
			return nil, fmt.Errorf("--chain: %w", err)
		}
		return []heistgraph.Chain{c}, nil
	}
	if _, err := heistgraph.ParseEVMAddress(strings.TrimSpace(addr)); err == nil {
		return []heistgraph.Chain{"eth"}, nil // its labels on the shared EVM key come with eth's
	}
	var out []heistgraph.Chain
	for _, n := range heistgraph.Networks() {
		out = append(out, n.Chain)
	}
	return out, nil
}

func chainNames(cs []heistgraph.Chain) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}

// shortText quotes at most a short prefix of s, so that an error about a
// huge bad value stays one readable line.
func shortText(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
