package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/store"
	"github.com/heistgraph/heistgraph/synth"
)

// This file classifies what the user typed, once, before the store is
// asked: a malformed identifier or an input file that cannot be read is
// bad input (exit 2, naming what and where); a well-formed identifier the
// store does not hold is "not found" (exit 1), which the lookups report.
// Txids and block hashes are heistgraph.ParseHash, outpoints
// heistgraph.ParseOutpoint, trace seeds trace.ParseSeed; addresses are
// checked by package app (app.AddressChains) against the chains they may belong to, with the label
// package's per-chain validation (base58check and bech32/bech32m
// checksums and network prefixes for Bitcoin, 0x and 40 hex digits for
// EVM chains).

// validAddress is app.ValidAddress with a malformed address a usage
// error.
func validAddress(c heistgraph.Chain, addr string) (string, error) {
	n, err := hgapp.ValidAddress(c, addr)
	if err != nil {
		return "", usageError{err}
	}
	return n, nil
}

// validAddresses is app.ValidAddresses with a malformed address a usage
// error.
func validAddresses(c heistgraph.Chain, addrs []string) ([]string, error) {
	out, err := hgapp.ValidAddresses(c, addrs)
	if err != nil {
		return nil, usageError{err}
	}
	return out, nil
}

// addressChains is app.AddressChains with a malformed address a usage
// error.
func addressChains(cs []heistgraph.Chain, addr string) ([]heistgraph.Chain, error) {
	ok, err := hgapp.AddressChains(cs, addr)
	if err != nil {
		return nil, usageError{err}
	}
	return ok, nil
}

// clusterChainOf is app.ClusterChainOf for the command cmd.
func clusterChainOf(cmd *cobra.Command, r store.ChainReader, flag, addr string) (heistgraph.Chain, error) {
	return hgapp.ClusterChainOf(cmd.Context(), r, flag, addr, commandKey(cmd))
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
