package bitcoin

import (
	"encoding/binary"
	"math"
	"sync"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/sha256d"
)

// Size limits of the serialization.
const (
	// HeaderSize is the size of a serialized block header.
	HeaderSize = 80
	// MaxBlockSize is the largest serialized block DecodeBlock and
	// FileSource accept: Bitcoin Core's MAX_BLOCK_SERIALIZED_SIZE, which no
	// valid block on any network exceeds.
	MaxBlockSize = 4_000_000

	maxMoney    = 21_000_000 * 100_000_000 // satoshis; Core's MAX_MONEY
	minTxInSize = 32 + 4 + 1 + 4           // prevout, empty script, sequence
	minOutSize  = 8 + 1                    // value, empty script
	minTxSize   = 4 + 1 + minTxInSize + 1 + minOutSize + 4
)

// DecodeBlock decodes one serialized block (header and transactions, no
// blk-file framing) of network net.
//
// It computes the block hash, every transaction's TxID and WTxID (the hash of
// the full serialization, witness included; for a coinbase this is the real
// hash, not the zero BIP141 puts in the witness commitment), Size and Weight
// (BIP141: stripped size × 3 + full size), classifies every output script
// with ClassifyScript, and checks the merkle root against the header. The
// returned block has Height 0: a raw block does not state its height (see
// CoinbaseHeight); the caller sets it.
//
// It enforces the serialization, not consensus: raw must hold exactly one
// block of at most MaxBlockSize bytes with no trailing bytes; compact sizes
// must be canonical; the first transaction must be a coinbase (one input
// spending the null outpoint) and no other may spend the null outpoint;
// every transaction needs an input and an output; output values lie in
// [0, 21e14] satoshis; a segwit marker needs flag 1 and at least one
// witness; counts may not exceed what the remaining bytes can hold (so a
// hostile count allocates nothing). Scripts are not run and signatures are
// not checked.
//
// A walk over the bytes checks the rules above and counts what to
// allocate; a second pass reads the values and hashes the transactions
// straight from raw (differential tests and fuzzing hold it to btcd's wire
// package).
//
// Errors are *DecodeError wrapping heistgraph.ErrInvalid, with Offset the
// position in raw where the failing element starts; a merkle mismatch wraps
// a *MerkleError. The returned block does not alias raw: its output scripts
// share one allocation of their own. DecodeBlock is safe for concurrent use.
func DecodeBlock(raw []byte, net heistgraph.Network) (*heistgraph.Block, error) {
	p, ok := addrParamsFor(net)
	if !ok {
		return nil, unknownNetwork(net)
	}
	b, err := decodeBlock(raw, p)
	if err != nil {
		return nil, err
	}
	b.Chain = net.Chain
	return b, nil
}

// scanners holds Scanners for DecodeBlock and DecodeTx, whose results do
// not alias the Scanner's arenas.
var scanners = sync.Pool{New: func() any { return new(Scanner) }}

// putScanner returns s to the pool without its references to the caller's
// bytes (the view's Raw, the outputs' scripts).
func putScanner(s *Scanner) {
	s.blk = RawBlock{}
	clear(s.outs)
	scanners.Put(s)
}

// decodeBlock is DecodeBlock with the address parameters looked up; nil p
// classifies scripts without encoding addresses.
func decodeBlock(raw []byte, p *addrParams) (*heistgraph.Block, error) {
	s := scanners.Get().(*Scanner)
	defer putScanner(s)
	rb, err := s.Scan(raw)
	if err != nil {
		return nil, err
	}
	return rb.block(p), nil
}

// DecodeTx decodes one serialized transaction (with or without witness) of
// network net. raw must hold exactly that transaction. An input is marked
// Coinbase when it is the transaction's only input and spends the null
// outpoint. The rules and errors are DecodeBlock's (Offset is the position in
// raw); the result does not alias raw.
func DecodeTx(raw []byte, net heistgraph.Network) (*heistgraph.Tx, error) {
	p, ok := addrParamsFor(net)
	if !ok {
		return nil, unknownNetwork(net)
	}
	c := checker{raw: raw}
	sh, err := c.tx(-1)
	if err != nil {
		return nil, err
	}
	if c.pos != len(raw) {
		return nil, c.fail(c.pos, "%d trailing bytes after the transaction", len(raw)-c.pos)
	}
	s := scanners.Get().(*Scanner)
	defer putScanner(s)
	s.grow(sh.ins, sh.outs)
	rb := RawBlock{Raw: raw}
	txs := []RawTx{{sh: sh}}
	rt := &txs[0]
	s.d.txids(raw, txs)
	s.read(raw, rt, s.ins, s.outs)
	var m materializer
	m.add(&sh)
	m.alloc(p)
	tx := new(heistgraph.Tx)
	m.tx(&rb, rt, tx)
	return tx, nil
}

// CoinbaseHeight returns the height a block's coinbase states under BIP34:
// the first push of the coinbase scriptSig, for blocks of version 2 and up.
// raw is the serialized block, or any prefix of it long enough to hold the
// coinbase's first push (a few hundred bytes always suffice). It handles
// OP_1..OP_16 and minimally encoded pushes of 1 to 8 bytes, and returns
// false when there is no such push, the block is version 1, the number is
// negative or not minimally encoded, or it exceeds 2^31-1.
func CoinbaseHeight(raw []byte) (int64, bool) {
	if len(raw) < HeaderSize+1 {
		return 0, false
	}
	if v := int32(binary.LittleEndian.Uint32(raw)); v < 2 {
		return 0, false
	}
	d := checker{raw: raw, pos: HeaderSize}
	if n, err := d.varint(); err != nil || n == 0 {
		return 0, false
	}
	d.pos += 4 // tx version
	if d.pos+2 <= len(raw) && raw[d.pos] == 0 && raw[d.pos+1] == 1 {
		d.pos += 2 // segwit marker and flag
	}
	if n, err := d.varint(); err != nil || n != 1 {
		return 0, false
	}
	if d.pos+36 > len(raw) {
		return 0, false
	}
	var prev heistgraph.Outpoint
	copy(prev.TxID[:], raw[d.pos:])
	prev.Vout = binary.LittleEndian.Uint32(raw[d.pos+32:])
	if !prev.IsNull() {
		return 0, false
	}
	d.pos += 36
	n, err := d.varint()
	if err != nil || n == 0 || d.pos >= len(raw) {
		return 0, false
	}
	script := raw[d.pos:]
	if uint64(len(script)) > n {
		script = script[:n]
	}
	return bip34(script)
}

// bip34 reads the height from the start of a coinbase scriptSig.
func bip34(script []byte) (int64, bool) {
	op := script[0]
	if op >= op1 && op <= op16 {
		return int64(op-op1) + 1, true
	}
	if op < 1 || op > 8 || len(script) < 1+int(op) {
		return 0, false
	}
	num := script[1 : 1+int(op)]
	last := num[len(num)-1]
	if last&0x80 != 0 {
		return 0, false // negative
	}
	if last == 0 && (len(num) == 1 || num[len(num)-2]&0x80 == 0) {
		return 0, false // not minimal
	}
	var h uint64
	for i := len(num) - 1; i >= 0; i-- {
		h = h<<8 | uint64(num[i])
	}
	if h == 0 || h > math.MaxInt32 {
		return 0, false
	}
	return int64(h), true
}

// varintLen returns the length of the compact size whose first byte is b.
func varintLen(b byte) int {
	switch b {
	case 0xfd:
		return 3
	case 0xfe:
		return 5
	case 0xff:
		return 9
	}
	return 1
}

// readVarint reads a compact size the checker has accepted (so it is in
// bounds and fits an int) at pos, and returns it and its length.
func readVarint(raw []byte, pos int) (int, int) {
	switch raw[pos] {
	case 0xfd:
		return int(binary.LittleEndian.Uint16(raw[pos+1:])), 3
	case 0xfe:
		return int(binary.LittleEndian.Uint32(raw[pos+1:])), 5
	case 0xff:
		return int(binary.LittleEndian.Uint64(raw[pos+1:])), 9
	}
	return int(raw[pos]), 1
}

// hash256 returns SHA-256(SHA-256(b)), Bitcoin's hash for blocks and txids.
func hash256(b []byte) heistgraph.Hash { return sha256d.Sum(b) }
