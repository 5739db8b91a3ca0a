package bitcoin

import (
	"crypto/sha256"
	"fmt"
	"hash"
	"strings"

	"github.com/btcsuite/btcd/address/v2/base58"
	"github.com/btcsuite/btcd/address/v2/bech32"

	//lint:ignore SA1019 Bitcoin's P2PKH addresses are RIPEMD-160 hashes; btcd uses this package too
	"golang.org/x/crypto/ripemd160"

	"github.com/heistgraph/heistgraph"
)

// AddrKind is the form of an address: which encoding its string takes.
type AddrKind uint8

// The kinds of address. A witness address of version v (0 to 16) has kind
// AddrWitness0 + v.
const (
	AddrNone       AddrKind = iota // no address (nulldata, multisig, nonstandard)
	AddrPubKeyHash                 // base58check, P2PKH version: P2PKH, and P2PK by its key's hash
	AddrScriptHash                 // base58check, P2SH version
	AddrWitness0                   // segwit version 0, bech32
	addrWitness16  = AddrWitness0 + 16
)

// maxProgram is the longest witness program (BIP141).
const maxProgram = 40

// AddrKey is an address as a fixed-size, comparable value: its kind and the
// 20-byte hash or the witness program it encodes. It does not depend on the
// network: two outputs of one network pay the same address string exactly
// when their keys are equal, and Address gives the string on display. A
// P2PK output's key is the P2PKH key of its public key's hash, as its
// address is. The zero AddrKey is "no address". AddrKey can be a map key.
type AddrKey struct {
	kind AddrKind
	n    uint8 // bytes of data in use; the rest are zero
	data [maxProgram]byte
}

// setHash sets k to the key of a 20-byte hash of kind kind.
func (k *AddrKey) setHash(kind AddrKind, hash []byte) {
	*k = AddrKey{kind: kind, n: 20}
	copy(k.data[:20], hash)
}

// setWitness sets k to the key of a witness program (2 to 40 bytes) of
// version v.
func (k *AddrKey) setWitness(v byte, program []byte) {
	*k = AddrKey{kind: AddrWitness0 + AddrKind(v), n: uint8(len(program))}
	copy(k.data[:], program)
}

// hasher160 computes HASH160 (RIPEMD-160 of SHA-256), the hash of a P2PKH
// address, reusing its RIPEMD-160 state; the zero value is ready.
type hasher160 struct {
	r     hash.Hash
	first [sha256.Size]byte // kept here: a local would escape through r
	out   [ripemd160.Size]byte
}

// sum returns the HASH160 of b, valid until the next call.
func (h *hasher160) sum(b []byte) []byte {
	if h.r == nil {
		h.r = ripemd160.New()
	}
	h.first = sha256.Sum256(b)
	h.r.Reset()
	h.r.Write(h.first[:])
	return h.r.Sum(h.out[:0])
}

// Kind returns the key's kind.
func (k AddrKey) Kind() AddrKind { return k.kind }

// IsZero reports whether k is the zero key: no address.
func (k AddrKey) IsZero() bool { return k.kind == AddrNone }

// Data returns the hash (base58 kinds) or the witness program.
func (k *AddrKey) Data() []byte { return k.data[:k.n] }

// AppendAddress appends the address string of k with the prefixes of net:
// base58check, bech32 for witness version 0, bech32m from version 1 on. It
// appends nothing for the zero key or a network without address prefixes.
func (k *AddrKey) AppendAddress(dst []byte, net heistgraph.Network) []byte {
	p, _ := addrParamsFor(net)
	return k.appendAddr(dst, p)
}

// Address returns the address string of k on net ("" for the zero key).
func (k AddrKey) Address(net heistgraph.Network) string {
	var buf [96]byte
	return string(k.AppendAddress(buf[:0], net))
}

// appendAddr is AppendAddress with the prefixes looked up; p may be nil.
func (k *AddrKey) appendAddr(dst []byte, p *addrParams) []byte {
	switch {
	case p == nil || k.kind == AddrNone:
		return dst
	case k.kind == AddrPubKeyHash:
		return appendBase58Check(dst, p.pubKeyHash, k.data[:20])
	case k.kind == AddrScriptHash:
		return appendBase58Check(dst, p.scriptHash, k.data[:20])
	}
	return appendSegwit(dst, p.hrp, byte(k.kind-AddrWitness0), k.data[:k.n])
}

// AppendBinary appends k's binary form: the kind, the data's length, the
// data (22 bytes for a base58 address, 22 or 34 for most witness
// addresses, 2 for the zero key). It is self-delimiting, so it can sit
// inside a longer key. It implements encoding.BinaryAppender.
func (k AddrKey) AppendBinary(dst []byte) ([]byte, error) {
	dst = append(dst, byte(k.kind), k.n)
	return append(dst, k.data[:k.n]...), nil
}

// MarshalBinary returns AppendBinary's form.
func (k AddrKey) MarshalBinary() ([]byte, error) { return k.AppendBinary(nil) }

// UnmarshalBinary reads exactly one key in AppendBinary's form.
func (k *AddrKey) UnmarshalBinary(b []byte) error {
	key, n, err := ReadAddrKey(b)
	if err != nil {
		return err
	}
	if n != len(b) {
		return fmt.Errorf("bitcoin: address key: %d trailing bytes: %w", len(b)-n, heistgraph.ErrInvalid)
	}
	*k = key
	return nil
}

// ReadAddrKey reads a key in AppendBinary's form from the start of b and
// returns it and the bytes it took. It refuses what no script yields: an
// unknown kind, a base58 key of other than 20 bytes, a witness program
// outside 2 to 40 bytes (20 or 32 for version 0), data after the zero key.
func ReadAddrKey(b []byte) (AddrKey, int, error) {
	if len(b) < 2 {
		return AddrKey{}, 0, fmt.Errorf("bitcoin: address key: %d bytes, want at least 2: %w", len(b), heistgraph.ErrInvalid)
	}
	kind, n := AddrKind(b[0]), int(b[1])
	ok := false
	switch {
	case kind == AddrNone:
		ok = n == 0
	case kind == AddrPubKeyHash || kind == AddrScriptHash:
		ok = n == 20
	case kind == AddrWitness0:
		ok = n == 20 || n == 32
	case kind <= addrWitness16:
		ok = n >= 2 && n <= maxProgram
	}
	if !ok {
		return AddrKey{}, 0, fmt.Errorf("bitcoin: address key: kind %d with %d bytes: %w", kind, n, heistgraph.ErrInvalid)
	}
	if len(b)-2 < n {
		return AddrKey{}, 0, fmt.Errorf("bitcoin: address key: %d of %d bytes: %w", len(b)-2, n, heistgraph.ErrInvalid)
	}
	key := AddrKey{kind: kind, n: uint8(n)}
	copy(key.data[:], b[2:2+n])
	return key, 2 + n, nil
}

// ParseAddress returns the key of an address string of net: base58check
// with net's P2PKH or P2SH version, or a segwit address with net's
// human-readable part (bech32 for version 0, bech32m from version 1; upper
// case accepted). It is the inverse of AddrKey.Address: an address it
// accepts reads back the same (in lower case for segwit). Errors wrap
// heistgraph.ErrInvalid and name the address.
func ParseAddress(addr string, net heistgraph.Network) (AddrKey, error) {
	p, ok := addrParamsFor(net)
	if !ok {
		return AddrKey{}, unknownNetwork(net)
	}
	bad := func(format string, args ...any) (AddrKey, error) {
		return AddrKey{}, fmt.Errorf("bitcoin: address %q: %s: %w", addr, fmt.Sprintf(format, args...), heistgraph.ErrInvalid)
	}
	var k AddrKey
	canonical := addr
	if hrp, data, enc, err := bech32.DecodeGeneric(addr); err == nil {
		if hrp != p.hrp {
			return bad("not a %s address (prefix %q, want %q)", net.Name, hrp, p.hrp)
		}
		if len(data) == 0 || data[0] > 16 {
			return bad("no witness version")
		}
		v := data[0]
		if want := bech32.VersionM; v == 0 && enc != bech32.Version0 || v > 0 && enc != want {
			return bad("witness version %d with the wrong checksum (bech32 for version 0, bech32m after)", v)
		}
		program, err := bech32.ConvertBits(data[1:], 5, 8, false)
		if err != nil {
			return bad("%v", err)
		}
		if n := len(program); n < 2 || n > maxProgram || v == 0 && n != 20 && n != 32 {
			return bad("witness version %d program of %d bytes", v, n)
		}
		k.setWitness(v, program)
		canonical = strings.ToLower(addr)
	} else {
		decoded, version, err := base58.CheckDecode(addr)
		if err != nil {
			return bad("neither bech32 nor base58check (%v)", err)
		}
		switch {
		case len(decoded) != 20:
			return bad("base58 payload of %d bytes, want 20", len(decoded))
		case version == p.pubKeyHash:
			k.setHash(AddrPubKeyHash, decoded)
		case version == p.scriptHash:
			k.setHash(AddrScriptHash, decoded)
		default:
			return bad("base58 version %d is not %s's P2PKH (%d) or P2SH (%d)", version, net.Name, p.pubKeyHash, p.scriptHash)
		}
	}
	var buf [96]byte
	if string(k.appendAddr(buf[:0], p)) != canonical {
		return bad("not in canonical form")
	}
	return k, nil
}
