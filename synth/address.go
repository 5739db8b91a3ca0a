package synth

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/address/v2/base58"
	"github.com/btcsuite/btcd/address/v2/bech32"
	"github.com/btcsuite/btcd/chaincfg/v2"
)

// scriptType is the kind of output script an address pays to. Every
// address of the world has exactly one.
type scriptType uint8

// The four single-key script types of the world, as wallets use them.
const (
	p2pkh      scriptType = iota // legacy, m/n addresses
	p2shP2WPKH                   // nested SegWit, 2 addresses
	p2wpkh                       // native SegWit v0, bcrt1q addresses
	p2tr                         // Taproot key path, bcrt1p addresses
)

// String returns the name Bitcoin Core gives the output script.
func (t scriptType) String() string {
	switch t {
	case p2pkh:
		return "pubkeyhash"
	case p2shP2WPKH:
		return "scripthash"
	case p2wpkh:
		return "witness_v0_keyhash"
	case p2tr:
		return "witness_v1_taproot"
	}
	return "unknown"
}

// scriptLen is the length of the output script of type t.
func (t scriptType) scriptLen() int {
	switch t {
	case p2pkh:
		return 25
	case p2shP2WPKH:
		return 23
	case p2wpkh:
		return 22
	default:
		return 34
	}
}

// segwit reports whether spending t needs witness data.
func (t scriptType) segwit() bool { return t != p2pkh }

// addrBook allocates the world's addresses and remembers, per address id,
// its owner (an entity index) and its script type: five bytes an address,
// the only per-address state the generator keeps. Keys are derived from the
// id and the world's secret, so scripts, public keys and address strings
// are recomputed on demand instead of stored.
type addrBook struct {
	secret [32]byte
	owner  []int32
	kind   []scriptType
	used   []uint64 // bit set: the address appears in an output
}

func newAddrBook(seed int64) *addrBook {
	var b [16]byte
	copy(b[:8], "hgsynth1")
	binary.LittleEndian.PutUint64(b[8:], uint64(seed))
	return &addrBook{secret: sha256.Sum256(b[:])}
}

// alloc returns a new address of type t owned by e.
func (b *addrBook) alloc(e *entity, t scriptType) uint32 {
	id := uint32(len(b.owner))
	b.owner = append(b.owner, e.idx)
	b.kind = append(b.kind, t)
	if id%64 == 0 {
		b.used = append(b.used, 0)
	}
	e.naddrs++
	return id
}

// markUsed records that an output pays id.
func (b *addrBook) markUsed(id uint32) { b.used[id/64] |= 1 << (id % 64) }

// isUsed reports whether an output pays id.
func (b *addrBook) isUsed(id uint32) bool { return b.used[id/64]&(1<<(id%64)) != 0 }

// usedCount returns the number of addresses some output pays.
func (b *addrBook) usedCount() int {
	n := 0
	for _, w := range b.used {
		n += bits.OnesCount64(w)
	}
	return n
}

// len returns the number of addresses allocated so far.
func (b *addrBook) len() int { return len(b.owner) }

// pubKey returns the placeholder compressed public key of address id. It is
// not checked to lie on the curve: scripts are never validated.
func (b *addrBook) pubKey(id uint32) [33]byte {
	var msg [36]byte
	copy(msg[:32], b.secret[:])
	binary.LittleEndian.PutUint32(msg[32:], id)
	s := sha256.Sum256(msg[:])
	var pk [33]byte
	pk[0] = 0x02 | s[31]&1
	copy(pk[1:], s[:])
	return pk
}

// keyHash returns HASH160 of the public key of address id.
func (b *addrBook) keyHash(id uint32) []byte {
	pk := b.pubKey(id)
	return address.Hash160(pk[:])
}

// redeemScript returns the P2SH-P2WPKH redeem script (OP_0 PUSH20 keyhash).
func redeemScript(keyHash []byte) []byte {
	r := make([]byte, 22)
	r[0], r[1] = 0x00, 0x14
	copy(r[2:], keyHash)
	return r
}

// appendScript appends the output script of address id to dst.
func (b *addrBook) appendScript(dst []byte, id uint32) []byte {
	switch b.kind[id] {
	case p2pkh:
		dst = append(dst, 0x76, 0xa9, 0x14)
		dst = append(dst, b.keyHash(id)...)
		return append(dst, 0x88, 0xac)
	case p2shP2WPKH:
		dst = append(dst, 0xa9, 0x14)
		dst = append(dst, address.Hash160(redeemScript(b.keyHash(id)))...)
		return append(dst, 0x87)
	case p2wpkh:
		dst = append(dst, 0x00, 0x14)
		return append(dst, b.keyHash(id)...)
	default:
		pk := b.pubKey(id)
		dst = append(dst, 0x51, 0x20)
		return append(dst, pk[1:]...)
	}
}

// encode returns the regtest address string of id (m/n, 2, bcrt1q, bcrt1p)
// with btcd's base58check and bech32/bech32m encoders, as its address
// package does (without decoding each result again to check it).
func (b *addrBook) encode(id uint32) (string, error) {
	net := &chaincfg.RegressionNetParams
	var prog []byte
	var ver byte
	switch b.kind[id] {
	case p2pkh:
		return base58.CheckEncode(b.keyHash(id), net.PubKeyHashAddrID), nil
	case p2shP2WPKH:
		return base58.CheckEncode(address.Hash160(redeemScript(b.keyHash(id))), net.ScriptHashAddrID), nil
	case p2wpkh:
		prog = b.keyHash(id)
	default:
		pk := b.pubKey(id)
		prog, ver = pk[1:], 1
	}
	conv, err := bech32.ConvertBits(prog, 8, 5, true)
	if err != nil {
		return "", fmt.Errorf("encode address %d: %w", id, err)
	}
	data := append([]byte{ver}, conv...)
	var a string
	if ver == 0 {
		a, err = bech32.Encode(net.Bech32HRPSegwit, data)
	} else {
		a, err = bech32.EncodeM(net.Bech32HRPSegwit, data)
	}
	if err != nil {
		return "", fmt.Errorf("encode address %d: %w", id, err)
	}
	return a, nil
}
