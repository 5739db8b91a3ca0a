package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/label"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/synth"
	"github.com/heistgraph/heistgraph/trace"
)

// This file classifies what the user typed, once, before the store is
// asked: a malformed identifier or an input file that cannot be read is
// bad input (exit 2, naming what and where); a well-formed identifier the
// store does not hold is "not found" (exit 1), which the lookups report.
// Txids and block hashes are heistgraph.ParseHash, outpoints
// heistgraph.ParseOutpoint, trace seeds trace.ParseSeed; addresses are
// checked here against the chains they may belong to, with the label
// package's per-chain validation (base58check and bech32/bech32m
// checksums and network prefixes for Bitcoin, 0x and 40 hex digits for
// EVM chains).

// validAddress returns addr in the form the store keys it by on chain c
// (label.NormalizeAddress: surrounding space removed, bech32 and EVM hex
// lower-cased) after checking it is an address of c. A malformed address is
// a usage error naming it and the chain.
func validAddress(c heistgraph.Chain, addr string) (string, error) {
	n := label.NormalizeAddress(c, addr)
	if err := label.ValidateAddress(c, n); err != nil {
		return "", usageError{err}
	}
	return n, nil
}

// validAddresses is validAddress for each of addrs, in order.
func validAddresses(c heistgraph.Chain, addrs []string) ([]string, error) {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		n, err := validAddress(c, a)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// addressChains keeps the chains of cs whose address format accepts addr.
// With none left, addr is malformed for every chain it could be on: a usage
// error that names the chains (the one chain's own reason when there is
// one).
func addressChains(cs []heistgraph.Chain, addr string) ([]heistgraph.Chain, error) {
	var ok []heistgraph.Chain
	var first error
	for _, c := range cs {
		if _, err := validAddress(c, addr); err == nil {
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
			if _, err := validAddress(n.Chain, addr); err == nil {
				hint = fmt.Sprintf(" (it is a %s address)", n.Chain)
				break
			}
		}
	}
	if len(cs) == 1 {
		if hint != "" {
			return nil, usageError{fmt.Errorf("%q is not a %s address%s: %w", shortText(strings.TrimSpace(addr)), cs[0], hint, heistgraph.ErrInvalid)}
		}
		return nil, first
	}
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = string(c)
	}
	if hint == "" {
		hint = " (give --chain for another chain)"
	}
	return nil, usageError{fmt.Errorf("%q is not an address of %s%s: %w",
		shortText(strings.TrimSpace(addr)), strings.Join(names, ", "), hint, heistgraph.ErrInvalid)}
}

// clusterChainOf is clusterChain for a command about addr: when --chain is
// not given and the store holds several Bitcoin chains, the one chain whose
// address format accepts addr is meant; when it holds none, an address no
// Bitcoin network accepts is still bad input, not "no chain in the store".
func clusterChainOf(cmd *cobra.Command, r store.ChainReader, flag, addr string) (heistgraph.Chain, error) {
	if flag == "" {
		cs, err := candidateChains(cmd.Context(), r, "")
		if err != nil {
			return "", err
		}
		if len(cs) == 0 {
			for _, n := range heistgraph.Networks() {
				cs = append(cs, n.Chain)
			}
			if _, err := addressChains(cs, addr); err != nil {
				return "", fmt.Errorf("%s: %w", commandKey(cmd), err)
			}
		} else if len(cs) > 1 {
			ok, err := addressChains(cs, addr)
			if err != nil {
				return "", fmt.Errorf("%s: %w", commandKey(cmd), err)
			}
			if len(ok) == 1 {
				return ok[0], nil
			}
		}
	}
	return clusterChain(cmd, r, flag)
}

// noStoreAddress returns err, the outcome of a lookup of addr, except
// when there was no store to look in: then an address that --chain's chain
// (without --chain: every known Bitcoin network) rejects is still bad input
// (exit 2), not "no store".
func noStoreAddress(what, chainFlag, addr string, err error) error {
	var ns errNoStore
	if !errors.As(err, &ns) {
		return err
	}
	if perr := precheckAddress(what, chainFlag, addr); perr != nil {
		return perr
	}
	return err
}

// precheckAddress classifies addr without a store: an address that
// --chain's chain (without --chain: every known Bitcoin network) rejects is
// bad input.
func precheckAddress(what, chainFlag, addr string) error {
	var cs []heistgraph.Chain
	if chainFlag != "" {
		c, err := heistgraph.ParseChain(chainFlag)
		if err != nil {
			return usageError{fmt.Errorf("--chain: %w", err)}
		}
		cs = []heistgraph.Chain{c}
	} else {
		for _, n := range heistgraph.Networks() {
			cs = append(cs, n.Chain)
		}
	}
	if _, err := addressChains(cs, addr); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// checkStoreAddress checks addr against the chain --chain names or, without
// it, the Bitcoin chains the store holds (every known Bitcoin network when
// it holds none), and returns it normalised: an address is malformed only
// if no candidate chain accepts it.
func checkStoreAddress(ctx context.Context, r store.ChainReader, chainFlag, addr string) (string, error) {
	cs, err := candidateChains(ctx, r, chainFlag)
	if err != nil {
		if chainFlag != "" && errors.Is(err, heistgraph.ErrInvalid) {
			return "", usageError{fmt.Errorf("--chain: %w", err)}
		}
		return "", err
	}
	if len(cs) == 0 {
		for _, n := range heistgraph.Networks() {
			cs = append(cs, n.Chain)
		}
	}
	ok, err := addressChains(cs, addr)
	if err != nil {
		return "", err
	}
	return label.NormalizeAddress(ok[0], addr), nil
}

// checkSeeds checks the address seeds of a trace on chain c and normalises
// them in place. Txid and outpoint seeds were checked by trace.ParseSeed.
func checkSeeds(c heistgraph.Chain, seeds []trace.Seed) error {
	for i := range seeds {
		if seeds[i].Kind != trace.SeedAddress {
			continue
		}
		n, err := validAddress(c, seeds[i].Address)
		if err != nil {
			return usageError{fmt.Errorf("trace --seed: %w", err)}
		}
		seeds[i].Address = n
	}
	return nil
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

// inputError classifies a failure to open, stat or read a file the user
// named as input: a missing or unreadable file is bad input (exit 2), and
// the message names the file once ("labels.csv: no such file or
// directory"); other I/O errors stay failures (exit 1).
func inputError(path string, err error) error {
	var pe *fs.PathError
	cause := err
	if errors.As(err, &pe) {
		cause = pe.Err
	}
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) || errors.Is(err, errIsDir) {
		return usageError{fmt.Errorf("%s: %w", path, cause)}
	}
	return fmt.Errorf("%s: %w", path, cause)
}

// errIsDir reports a folder named where a file is wanted.
var errIsDir = errors.New("is a folder, not a file")

// checkInput checks that the input file path exists, is a file and can be
// opened for reading; a missing, unreadable or folder path is bad input.
// Commands call it before handing the path to a reader that opens it.
func checkInput(path string) error {
	f, err := openInput(path)
	if err != nil {
		return err
	}
	return f.Close()
}

// readInput reads the whole input file path (os.ReadFile), classifying a
// missing or unreadable file as bad input.
func readInput(path string) ([]byte, error) {
	if err := checkInput(path); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, inputError(path, err)
	}
	return b, nil
}

// openInput opens the input file path for reading, classifying a missing or
// unreadable file (or a folder) as bad input. The caller closes it.
func openInput(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, inputError(path, err)
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, inputError(path, errIsDir)
	}
	return f, nil
}

// loadTruth is synth.LoadTruth for --truth FILE, with a missing or
// unreadable file classified as bad input.
func loadTruth(path string) (*synth.Truth, error) {
	if err := checkInput(path); err != nil {
		return nil, fmt.Errorf("--truth: %w", err)
	}
	return synth.LoadTruth(path)
}
