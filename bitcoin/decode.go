package bitcoin

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"math"

	"github.com/heistgraph/heistgraph"
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
		return nil, &DecodeError{Err: fmt.Errorf("unknown network %q (chain %q): %w", net.Name, net.Chain, heistgraph.ErrInvalid)}
	}
	b, err := decodeBlock(raw, p)
	if err != nil {
		return nil, err
	}
	b.Chain = net.Chain
	return b, nil
}

// decodeBlock is DecodeBlock with the address parameters looked up; nil p
// classifies scripts without encoding addresses.
func decodeBlock(raw []byte, p *addrParams) (*heistgraph.Block, error) {
	if len(raw) > MaxBlockSize {
		return nil, &DecodeError{Err: fmt.Errorf("block of %d bytes exceeds the maximum of %d: %w", len(raw), MaxBlockSize, heistgraph.ErrInvalid)}
	}
	if len(raw) < HeaderSize {
		return nil, &DecodeError{Err: fmt.Errorf("truncated header: %d of %d bytes: %w", len(raw), HeaderSize, heistgraph.ErrInvalid)}
	}
	b := &heistgraph.Block{
		Hash:    sha256d(raw[:HeaderSize]),
		Version: int32(binary.LittleEndian.Uint32(raw[0:])),
		Time:    int64(binary.LittleEndian.Uint32(raw[68:])),
		Bits:    binary.LittleEndian.Uint32(raw[72:]),
		Nonce:   binary.LittleEndian.Uint32(raw[76:]),
		Size:    len(raw),
	}
	copy(b.PrevHash[:], raw[4:36])
	copy(b.MerkleRoot[:], raw[36:68])
	named := func(err error) error {
		if de, ok := err.(*DecodeError); ok {
			de.Hash = b.Hash.String()
		}
		return err
	}

	c := checker{raw: raw, pos: HeaderSize}
	n, err := c.count("transaction", minTxSize)
	if err != nil {
		return nil, named(err)
	}
	if n == 0 {
		return nil, named(c.fail(HeaderSize, "block has no transactions"))
	}
	shapes := make([]shape, n) // n is bounded by the bytes
	var bd builder
	for i := range shapes {
		if shapes[i], err = c.tx(i); err != nil {
			return nil, named(err)
		}
		bd.add(shapes[i])
	}
	if c.pos != len(raw) {
		return nil, named(c.fail(c.pos, "%d trailing bytes after %d transactions", len(raw)-c.pos, n))
	}

	bd.alloc(p)
	b.Txs = make([]heistgraph.Tx, n)
	ids := make([]heistgraph.Hash, n, n+1)
	for i, sh := range shapes {
		bd.tx(raw, sh, &b.Txs[i])
		ids[i] = b.Txs[i].TxID
	}
	root, mutated := merkleRoot(ids)
	if mutated || root != b.MerkleRoot {
		return nil, &DecodeError{Offset: 36, Hash: b.Hash.String(), Err: &MerkleError{Header: b.MerkleRoot, Computed: root, Mutated: mutated}}
	}
	return b, nil
}

// DecodeTx decodes one serialized transaction (with or without witness) of
// network net. raw must hold exactly that transaction. An input is marked
// Coinbase when it is the transaction's only input and spends the null
// outpoint. The rules and errors are DecodeBlock's (Offset is the position in
// raw); the result does not alias raw.
func DecodeTx(raw []byte, net heistgraph.Network) (*heistgraph.Tx, error) {
	p, ok := addrParamsFor(net)
	if !ok {
		return nil, &DecodeError{Err: fmt.Errorf("unknown network %q (chain %q): %w", net.Name, net.Chain, heistgraph.ErrInvalid)}
	}
	c := checker{raw: raw}
	sh, err := c.tx(-1)
	if err != nil {
		return nil, err
	}
	if c.pos != len(raw) {
		return nil, c.fail(c.pos, "%d trailing bytes after the transaction", len(raw)-c.pos)
	}
	var bd builder
	bd.add(sh)
	bd.alloc(p)
	tx := new(heistgraph.Tx)
	bd.tx(raw, sh, tx)
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

// builder turns transactions the checker has walked into domain values,
// reading them straight from the bytes: the checker has already refused
// any count or length the bytes cannot hold, so the builder reads without
// checking. Inputs, outputs and script bytes are carved from one allocation
// each, sized by the checker's totals. Each address is a string of its own:
// one string for all of a block's addresses, each a substring of it, was
// not measurably faster and would keep them all alive for the sake of one.
type builder struct {
	p                  *addrParams
	nIn, nOut, scripts int
	ins                []heistgraph.TxIn
	outs               []heistgraph.TxOut
	arena              []byte
	addr               [96]byte          // scratch for encoding an address
	stripped           hash.Hash         // the txid hash of a segwit transaction
	sum                [sha256.Size]byte // its first SHA-256
}

func (bd *builder) add(sh shape) {
	bd.nIn += sh.ins
	bd.nOut += sh.outs
	bd.scripts += sh.scripts
}

func (bd *builder) alloc(p *addrParams) {
	bd.p = p
	bd.ins = make([]heistgraph.TxIn, bd.nIn)
	bd.outs = make([]heistgraph.TxOut, bd.nOut)
	bd.arena = make([]byte, bd.scripts)
}

// tx reads the checked transaction sh of raw into tx.
func (bd *builder) tx(raw []byte, sh shape, tx *heistgraph.Tx) {
	b := raw[sh.start:sh.end]
	lockTime := b[len(b)-4:]
	tx.Version = int32(binary.LittleEndian.Uint32(b))
	tx.LockTime = binary.LittleEndian.Uint32(lockTime)
	tx.Size = len(b)
	tx.WTxID = sha256d(b)
	if sh.segwit {
		if bd.stripped == nil {
			bd.stripped = sha256.New()
		}
		h := bd.stripped
		h.Reset()
		h.Write(b[:4])
		h.Write(raw[sh.body:sh.bodyEnd])
		h.Write(lockTime)
		tx.TxID = sha256.Sum256(h.Sum(bd.sum[:0]))
		tx.Weight = (4+sh.bodyEnd-sh.body+4)*3 + tx.Size
	} else {
		tx.TxID = tx.WTxID
		tx.Weight = 4 * tx.Size
	}

	pos := sh.body + varintLen(raw[sh.body])
	ins := bd.ins[:sh.ins:sh.ins]
	bd.ins = bd.ins[sh.ins:]
	for j := range ins {
		in := &ins[j]
		copy(in.PrevOut.TxID[:], raw[pos:pos+32])
		in.PrevOut.Vout = binary.LittleEndian.Uint32(raw[pos+32:])
		n, w := readVarint(raw, pos+36)
		pos += 36 + w + n
		in.Sequence = binary.LittleEndian.Uint32(raw[pos:])
		pos += 4
	}
	// The checker allows the null outpoint only in a lone input of the
	// first transaction (or of a lone transaction).
	ins[0].Coinbase = sh.ins == 1 && ins[0].PrevOut.IsNull()

	pos += varintLen(raw[pos])
	outs := bd.outs[:sh.outs:sh.outs]
	bd.outs = bd.outs[sh.outs:]
	for j := range outs {
		o := &outs[j]
		o.Value = int64(binary.LittleEndian.Uint64(raw[pos:]))
		n, w := readVarint(raw, pos+8)
		pos += 8 + w
		script := raw[pos : pos+n]
		pos += n
		if n > 0 {
			o.Script = bd.arena[:n:n]
			bd.arena = bd.arena[n:]
			copy(o.Script, script)
		}
		var addr []byte
		o.Type, addr, o.Keys = classifyAppend(bd.addr[:0], script, bd.p)
		if len(addr) > 0 {
			o.Address = string(addr)
		}
	}
	tx.Inputs, tx.Outputs = ins, outs
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

// sha256d returns SHA-256(SHA-256(b)), Bitcoin's hash for blocks and txids.
func sha256d(b []byte) heistgraph.Hash {
	first := sha256.Sum256(b)
	return sha256.Sum256(first[:])
}

// merkleRoot returns the merkle root of ids, and whether the tree is
// mutated: some level pairs two equal hashes (Core's ComputeMerkleRoot).
// It overwrites ids.
func merkleRoot(ids []heistgraph.Hash) (heistgraph.Hash, bool) {
	if len(ids) == 0 {
		return heistgraph.Hash{}, false
	}
	mutated := false
	var pair [64]byte
	for len(ids) > 1 {
		for i := 0; i+1 < len(ids); i += 2 {
			if ids[i] == ids[i+1] {
				mutated = true
			}
		}
		if len(ids)%2 == 1 {
			ids = append(ids, ids[len(ids)-1])
		}
		for i := 0; i < len(ids); i += 2 {
			copy(pair[:32], ids[i][:])
			copy(pair[32:], ids[i+1][:])
			ids[i/2] = sha256d(pair[:])
		}
		ids = ids[:len(ids)/2]
	}
	return ids[0], mutated
}
