package heistgraph

import (
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/address/v2/base58"
	"github.com/btcsuite/btcd/address/v2/bech32"
)

// This file is the chain registry's address half: how each chain's
// addresses are checked, keyed and shown. Every package asks it (labels,
// screening, the store's keys, the CLI and the server), so that one address
// has one key everywhere.
//
//	chains                       input                       key (stored)      output
//	btc, btc-testnet, ...        base58check P2PKH/P2SH of   as given          as stored
//	                             the network, or segwit
//	                             bech32/bech32m of its HRP   lower-case        lower-case
//	EVM chains (IsEVM), evm      0x + 40 hex digits, any     lower-case        EIP-55
//	                             case (no checksum demanded)
//	tron                         base58check, version 0x41   as given          as stored
//	bch                          CashAddr (with or without   lower-case, no    as stored
//	                             bitcoincash:) or legacy     prefix; legacy
//	                                                         as given
//	any other (ltc, sol, xmr,    printable ASCII, no space,  0x-hex and        as stored
//	bnb, ...): labels name them  comma or quote, <= 128      bech32 (ltc1...)
//	but heistgraph ingests none  bytes                       lower-case, else
//	                                                         as given

// MaxAddressLen bounds an address, in bytes, on any chain.
const MaxAddressLen = 128

// addrFormat is how a chain's addresses are written.
type addrFormat uint8

const (
	formatOther   addrFormat = iota // any printable token; 0x-hex and bech32 lower-cased
	formatBitcoin                   // base58check or segwit, of the chain's network
	formatEVM                       // 0x + 40 hex digits
	formatTron                      // base58check with version 0x41
	formatBCH                       // CashAddr or legacy base58
)

// addressFormat returns how chain c writes its addresses.
func addressFormat(c Chain) addrFormat {
	switch {
	case c.IsUTXO():
		return formatBitcoin
	case c == ChainEVM || c.IsEVM():
		return formatEVM
	case c == ChainTron:
		return formatTron
	case c == "bch":
		return formatBCH
	}
	return formatOther
}

// NormalizeAddress checks that s (surrounding space ignored) is an address
// of chain c and returns its key: the one form the store, labels and
// screening use for it (see the table above: EVM hex and bech32 lower-cased,
// base58 kept). It wraps ErrInvalid, naming the address and the chain, for
// anything else: a bad checksum, another network's address, the wrong form
// for the chain, an empty or over-long value, or a space, comma, quote or
// control byte in it.
func NormalizeAddress(c Chain, s string) (string, error) {
	a := strings.TrimSpace(s)
	if a == "" {
		return "", fmt.Errorf("address is empty: %w", ErrInvalid)
	}
	if len(a) > MaxAddressLen {
		return "", fmt.Errorf("address %.20q... is %d bytes long: %w", a, len(a), ErrInvalid)
	}
	for i := 0; i < len(a); i++ {
		if b := a[i]; b <= ' ' || b >= 0x7f || b == ',' || b == '"' {
			return "", fmt.Errorf("address %q has byte %q: %w", a, b, ErrInvalid)
		}
	}
	var key string
	var err error
	switch addressFormat(c) {
	case formatBitcoin:
		key, err = bitcoinAddress(c, a)
	case formatEVM:
		var e EVMAddress
		if e, err = ParseEVMAddress(a); err == nil {
			key = e.Lower()
		} else {
			err = errors.New("want 0x and 40 hex digits")
		}
	case formatTron:
		key = a
		if payload, ver, e := base58.CheckDecode(a); e != nil {
			err = fmt.Errorf("base58check: %v", e)
		} else if ver != 0x41 || len(payload) != 20 {
			err = errors.New("want version 0x41 and a 20-byte hash")
		}
	case formatBCH:
		key = cashAddr(a)
	default:
		key = looseKey(a)
	}
	if err != nil {
		return "", fmt.Errorf("%q is not a valid %s address: %v: %w", a, c, err, ErrInvalid)
	}
	return key, nil
}

// ValidateAddress checks that key is an address of chain c in its key form
// (what NormalizeAddress returns). It wraps ErrInvalid.
func ValidateAddress(c Chain, key string) error {
	n, err := NormalizeAddress(c, key)
	if err != nil {
		return err
	}
	if n != key {
		return fmt.Errorf("address %q is not normalised (want %q): %w", key, n, ErrInvalid)
	}
	return nil
}

// DisplayAddress renders the key of an address of chain c for output: EVM
// addresses in EIP-55 mixed case (also a 0x-hex key on a chain the registry
// does not know), others as stored.
func DisplayAddress(c Chain, key string) string {
	if f := addressFormat(c); f != formatEVM && f != formatOther {
		return key
	}
	if len(key) != 42 {
		return key
	}
	e, err := ParseEVMAddress(key)
	if err != nil {
		return key
	}
	return e.Hex()
}

// bitcoinAddress checks a for the network of the Bitcoin chain c: a
// base58check P2PKH or P2SH address with the network's version byte, or a
// segwit address with its human-readable part (bech32 for witness version
// 0 with a 20- or 32-byte program, bech32m for versions 1 to 16 with 2 to
// 40 bytes; BIP 173, BIP 350). Segwit addresses come back lower-cased.
func bitcoinAddress(c Chain, a string) (string, error) {
	hrp, p2pkh, p2sh := "bc", byte(0x00), byte(0x05)
	switch c {
	case ChainBTCRegtest:
		hrp, p2pkh, p2sh = "bcrt", 0x6f, 0xc4
	case ChainBTCTestnet, ChainBTCTestnet4, ChainBTCSignet:
		hrp, p2pkh, p2sh = "tb", 0x6f, 0xc4
	}
	if low := strings.ToLower(a); strings.HasPrefix(low, hrp+"1") {
		return low, segwitAddress(hrp, a)
	}
	payload, ver, err := base58.CheckDecode(a)
	if err != nil {
		return a, fmt.Errorf("base58check: %v", err)
	}
	if len(payload) != 20 || ver != p2pkh && ver != p2sh {
		return a, fmt.Errorf("base58 payload is not a %s P2PKH or P2SH hash", c)
	}
	return a, nil
}

// segwitAddress checks a segwit address with the human-readable part hrp.
func segwitAddress(hrp, a string) error {
	got, data, ver, err := bech32.DecodeGeneric(a)
	if err != nil {
		return fmt.Errorf("bech32: %v", err)
	}
	if got != hrp {
		return fmt.Errorf("want prefix %s1", hrp)
	}
	if len(data) < 1 {
		return errors.New("no witness version")
	}
	wv := data[0]
	if wv > 16 {
		return fmt.Errorf("witness version %d", wv)
	}
	prog, err := bech32.ConvertBits(data[1:], 5, 8, false)
	if err != nil {
		return fmt.Errorf("witness program: %v", err)
	}
	if len(prog) < 2 || len(prog) > 40 {
		return fmt.Errorf("witness program of %d bytes", len(prog))
	}
	if wv == 0 && len(prog) != 20 && len(prog) != 32 {
		return fmt.Errorf("version 0 witness program of %d bytes", len(prog))
	}
	if wv == 0 && ver != bech32.Version0 || wv != 0 && ver != bech32.VersionM {
		return fmt.Errorf("witness version %d with the wrong checksum variant", wv)
	}
	return nil
}

// cashAddr keys a Bitcoin Cash address: a CashAddr lower-cased without its
// "bitcoincash:" prefix; anything else (legacy base58) as given.
func cashAddr(a string) string {
	low := strings.TrimPrefix(strings.ToLower(a), "bitcoincash:")
	if len(low) == 42 && (low[0] == 'q' || low[0] == 'p') && isBech32Chars(low) {
		return low
	}
	return a
}

// looseKeyHRPs are the bech32 prefixes that looseKey lower-cases on chains
// whose addresses are not checked (Litecoin's, and Bitcoin's on a chain
// that names another network).
var looseKeyHRPs = []string{"bc1", "tb1", "bcrt1", "ltc1", "tltc1", "rltc1"}

// looseKey keys an address of a chain whose format is not checked: 0x and
// 40 hex digits, and bech32 with a known prefix, are case-insensitive and
// lower-cased; anything else is kept.
func looseKey(a string) string {
	if e, err := ParseEVMAddress(a); err == nil {
		return e.Lower()
	}
	low := strings.ToLower(a)
	for _, hrp := range looseKeyHRPs {
		if strings.HasPrefix(low, hrp) && isBech32Chars(low[len(hrp):]) {
			return low
		}
	}
	return a
}

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// isBech32Chars reports whether s (lower case) is non-empty and uses only
// the bech32 data alphabet.
func isBech32Chars(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(bech32Charset, s[i]) < 0 {
			return false
		}
	}
	return s != ""
}
