package bitcoin

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"math"
	"sync"

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
	d := decoders.Get().(*decoder)
	defer d.release()
	d.reset(raw, p)
	return d.block()
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
	d := decoders.Get().(*decoder)
	defer d.release()
	d.reset(raw, p)
	d.size(0, 1)
	if err := d.tx(-1); err != nil {
		return nil, err
	}
	if d.pos != len(raw) {
		return nil, d.fail(d.pos, "%d trailing bytes after the transaction", len(raw)-d.pos)
	}
	return &d.txs[0], nil
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
	d := decoder{raw: raw, pos: HeaderSize}
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

// decoder parses a block or a transaction in place. A sizing pass (size)
// counts what the block holds, so the results are allocated once, at their
// final size, and filled directly: one allocation each for transactions,
// inputs, outputs and output script bytes. The hasher and the txid scratch
// space are reused through decoders.
type decoder struct {
	raw []byte
	pos int
	p   *addrParams
	sha hash.Hash
	sum [32]byte          // the first SHA-256 of a segwit txid (kept off the heap)
	ids []heistgraph.Hash // scratch for the merkle root

	txs   []heistgraph.Tx
	ins   []heistgraph.TxIn
	outs  []heistgraph.TxOut
	arena []byte // output scripts
}

var decoders = sync.Pool{New: func() any { return &decoder{sha: sha256.New()} }}

func (d *decoder) reset(raw []byte, p *addrParams) {
	d.raw, d.pos, d.p = raw, 0, p
}

// release drops references to raw and to the results, then pools d.
func (d *decoder) release() {
	d.raw, d.p, d.txs, d.ins, d.outs, d.arena = nil, nil, nil, nil, nil, nil
	if cap(d.ids) > 1<<16 {
		d.ids = nil // let an unusually large block's scratch go
	}
	d.ids = d.ids[:0]
	decoders.Put(d)
}

// size walks n transactions from pos without checking anything, counts
// their inputs, outputs and output script bytes, and allocates the results.
// On bad bytes it stops counting; the real pass then reports the fault (and
// append copes with an undercount).
func (d *decoder) size(pos, n int) {
	raw := d.raw
	var nIn, nOut, scripts, v int
	for range n {
		if pos+5 > len(raw) {
			break
		}
		segwit := raw[pos+4] == 0
		pos += 4
		if segwit {
			pos += 2
		}
		var ins, outs int
		ins, pos = sizeVarint(raw, pos)
		for i := 0; i < ins && pos <= len(raw); i++ {
			v, pos = sizeVarint(raw, pos+36)
			pos += v + 4
		}
		outs, pos = sizeVarint(raw, pos)
		txScripts := 0
		for i := 0; i < outs && pos <= len(raw); i++ {
			v, pos = sizeVarint(raw, pos+8)
			pos += v
			txScripts += v
		}
		if segwit {
			for i := 0; i < ins && pos <= len(raw); i++ {
				var items int
				items, pos = sizeVarint(raw, pos)
				for ; items > 0 && pos <= len(raw); items-- {
					v, pos = sizeVarint(raw, pos)
					pos += v
				}
			}
		}
		pos += 4
		if pos > len(raw) {
			break
		}
		nIn += ins
		nOut += outs
		scripts += txScripts
	}
	// Counts of walked bytes cannot exceed these; the clamps are a second
	// guard against allocating for a hostile count.
	nIn = min(nIn, len(raw)/minTxInSize)
	nOut = min(nOut, len(raw)/minOutSize)
	scripts = min(scripts, len(raw))
	d.txs = make([]heistgraph.Tx, 0, n)
	d.ins = make([]heistgraph.TxIn, 0, nIn)
	d.outs = make([]heistgraph.TxOut, 0, nOut)
	d.arena = make([]byte, 0, scripts)
}

// sizeVarint reads a compact size at pos for size, unchecked; past the end
// or for 8-byte sizes (which never fit in a block) it returns a position
// past the end.
func sizeVarint(raw []byte, pos int) (int, int) {
	if pos < len(raw) && raw[pos] < 0xfd {
		return int(raw[pos]), pos + 1
	}
	return sizeVarintSlow(raw, pos)
}

func sizeVarintSlow(raw []byte, pos int) (int, int) {
	switch {
	case pos >= len(raw):
	case raw[pos] == 0xfd && pos+3 <= len(raw):
		return int(binary.LittleEndian.Uint16(raw[pos+1:])), pos + 3
	case raw[pos] == 0xfe && pos+5 <= len(raw):
		return int(binary.LittleEndian.Uint32(raw[pos+1:])), pos + 5
	}
	return 0, len(raw) + 1
}

// fail returns a *DecodeError at offset pos of raw wrapping ErrInvalid.
func (d *decoder) fail(pos int, format string, args ...any) error {
	return &DecodeError{Offset: int64(pos), Err: fmt.Errorf(format+": %w", append(args, heistgraph.ErrInvalid)...)}
}

func (d *decoder) block() (*heistgraph.Block, error) {
	raw := d.raw
	if len(raw) > MaxBlockSize {
		return nil, d.fail(0, "block of %d bytes exceeds the maximum of %d", len(raw), MaxBlockSize)
	}
	if len(raw) < HeaderSize {
		return nil, d.fail(0, "truncated header: %d of %d bytes", len(raw), HeaderSize)
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
	if err := d.blockBody(); err != nil {
		var de *DecodeError
		if asDecodeError(err, &de) {
			de.Hash = b.Hash.String()
		}
		return nil, err
	}
	root, mutated := merkleRoot(d.ids)
	if mutated || root != b.MerkleRoot {
		return nil, &DecodeError{Offset: 36, Hash: b.Hash.String(), Err: &MerkleError{Header: b.MerkleRoot, Computed: root, Mutated: mutated}}
	}
	b.Txs = d.txs
	return b, nil
}

func asDecodeError(err error, de **DecodeError) bool {
	e, ok := err.(*DecodeError)
	if ok {
		*de = e
	}
	return ok
}

func (d *decoder) blockBody() error {
	d.pos = HeaderSize
	n, err := d.count("transaction", minTxSize)
	if err != nil {
		return err
	}
	if n == 0 {
		return d.fail(HeaderSize, "block has no transactions")
	}
	d.size(d.pos, n)
	for i := range n {
		if err := d.tx(i); err != nil {
			return err
		}
	}
	if d.pos != len(d.raw) {
		return d.fail(d.pos, "%d trailing bytes after %d transactions", len(d.raw)-d.pos, n)
	}
	return nil
}

// tx parses the transaction at d.pos. index is its position in the block,
// or -1 for a lone transaction.
func (d *decoder) tx(index int) error {
	raw := d.raw
	start := d.pos
	if len(raw)-start < 5 {
		return d.txFail(index, start, "truncated: %d bytes left", len(raw)-start)
	}
	tx := heistgraph.Tx{Version: int32(binary.LittleEndian.Uint32(raw[start:]))}
	d.pos += 4
	segwit := false
	if raw[d.pos] == 0 && d.pos+1 < len(raw) {
		// A zero input count is BIP144's marker; the flag must be 1.
		if flag := raw[d.pos+1]; flag != 1 {
			return d.txFail(index, d.pos, "segwit marker with flag %#x, want 0x01", flag)
		}
		segwit = true
		d.pos += 2
	}
	bodyStart := d.pos
	nIn, err := d.count("input", minTxInSize)
	if err != nil {
		return d.wrapTx(index, err)
	}
	if nIn == 0 {
		return d.txFail(index, bodyStart, "no inputs")
	}
	firstIn := len(d.ins)
	for j := range nIn {
		pos := d.pos
		if len(raw)-pos < minTxInSize {
			return d.txFail(index, pos, "input %d truncated", j)
		}
		var in heistgraph.TxIn
		copy(in.PrevOut.TxID[:], raw[pos:pos+32])
		in.PrevOut.Vout = binary.LittleEndian.Uint32(raw[pos+32:])
		d.pos += 36
		if _, err := d.script("input", j); err != nil {
			return d.wrapTx(index, err)
		}
		if len(raw)-d.pos < 4 {
			return d.txFail(index, d.pos, "input %d: truncated sequence", j)
		}
		in.Sequence = binary.LittleEndian.Uint32(raw[d.pos:])
		d.pos += 4
		if in.PrevOut.IsNull() {
			if nIn != 1 || index > 0 {
				return d.txFail(index, pos, "input %d spends the null outpoint outside a coinbase", j)
			}
			in.Coinbase = true
		}
		d.ins = append(d.ins, in)
	}
	tx.Inputs = d.ins[firstIn:len(d.ins):len(d.ins)]
	if index == 0 && !d.ins[firstIn].Coinbase {
		return d.txFail(index, bodyStart, "first transaction is not a coinbase")
	}
	nOut, err := d.count("output", minOutSize)
	if err != nil {
		return d.wrapTx(index, err)
	}
	if nOut == 0 {
		return d.txFail(index, d.pos, "no outputs")
	}
	firstOut := len(d.outs)
	for j := range nOut {
		pos := d.pos
		if len(raw)-pos < minOutSize {
			return d.txFail(index, pos, "output %d truncated", j)
		}
		v := int64(binary.LittleEndian.Uint64(raw[pos:]))
		if v < 0 || v > maxMoney {
			return d.txFail(index, pos, "output %d: value %d outside [0, %d]", j, v, int64(maxMoney))
		}
		d.pos += 8
		script, err := d.script("output", j)
		if err != nil {
			return d.wrapTx(index, err)
		}
		out := heistgraph.TxOut{Value: v}
		if len(script) > 0 {
			a := len(d.arena)
			d.arena = append(d.arena, script...)
			out.Script = d.arena[a:len(d.arena):len(d.arena)]
		}
		out.Type, out.Address, out.Keys = classify(script, d.p)
		d.outs = append(d.outs, out)
	}
	tx.Outputs = d.outs[firstOut:len(d.outs):len(d.outs)]
	bodyEnd := d.pos
	if segwit {
		witnesses := false
		for j := range nIn {
			items, err := d.count("witness item", 1)
			if err != nil {
				return d.wrapTx(index, prefix(err, "witness of input %d", j))
			}
			witnesses = witnesses || items > 0
			for range items {
				if _, err := d.script("witness of input", j); err != nil {
					return d.wrapTx(index, err)
				}
			}
		}
		if !witnesses {
			return d.txFail(index, bodyEnd, "segwit marker but no witness (superfluous witness record)")
		}
	}
	witnessEnd := d.pos
	if len(raw)-d.pos < 4 {
		return d.txFail(index, d.pos, "truncated lock time")
	}
	tx.LockTime = binary.LittleEndian.Uint32(raw[d.pos:])
	d.pos += 4
	end := d.pos

	tx.Size = end - start
	if segwit {
		tx.WTxID = sha256d(raw[start:end])
		// The txid hashes the serialization without marker, flag and
		// witnesses, streamed from raw without copying.
		h := d.sha
		h.Reset()
		h.Write(raw[start : start+4])
		h.Write(raw[bodyStart:bodyEnd])
		h.Write(raw[witnessEnd:end])
		h.Sum(d.sum[:0])
		tx.TxID = sha256.Sum256(d.sum[:])
		stripped := tx.Size - 2 - (witnessEnd - bodyEnd)
		tx.Weight = stripped*3 + tx.Size
	} else {
		tx.TxID = sha256d(raw[start:end])
		tx.WTxID = tx.TxID
		tx.Weight = tx.Size * 4
	}
	d.txs = append(d.txs, tx)
	d.ids = append(d.ids, tx.TxID)
	return nil
}

// txFail is fail with the transaction named.
func (d *decoder) txFail(index, pos int, format string, args ...any) error {
	return d.wrapTx(index, d.fail(pos, format, args...))
}

// wrapTx prefixes the message of a *DecodeError with the transaction.
func (d *decoder) wrapTx(index int, err error) error {
	if index < 0 {
		return err
	}
	return prefix(err, "tx %d", index)
}

// prefix puts a location in front of the message of a *DecodeError.
func prefix(err error, format string, args ...any) error {
	var de *DecodeError
	if asDecodeError(err, &de) {
		de.Err = fmt.Errorf(format+": %w", append(args, de.Err)...)
	}
	return err
}

// varint reads a compact size, which must be canonical.
func (d *decoder) varint() (uint64, error) {
	raw, pos := d.raw, d.pos
	if pos >= len(raw) {
		return 0, d.fail(pos, "truncated compact size")
	}
	b := raw[pos]
	switch {
	case b < 0xfd:
		d.pos++
		return uint64(b), nil
	case b == 0xfd:
		if len(raw)-pos < 3 {
			return 0, d.fail(pos, "truncated compact size")
		}
		v := uint64(binary.LittleEndian.Uint16(raw[pos+1:]))
		if v < 0xfd {
			return 0, d.fail(pos, "non-canonical compact size %d", v)
		}
		d.pos += 3
		return v, nil
	case b == 0xfe:
		if len(raw)-pos < 5 {
			return 0, d.fail(pos, "truncated compact size")
		}
		v := uint64(binary.LittleEndian.Uint32(raw[pos+1:]))
		if v <= 0xffff {
			return 0, d.fail(pos, "non-canonical compact size %d", v)
		}
		d.pos += 5
		return v, nil
	default:
		if len(raw)-pos < 9 {
			return 0, d.fail(pos, "truncated compact size")
		}
		v := binary.LittleEndian.Uint64(raw[pos+1:])
		if v <= 0xffffffff {
			return 0, d.fail(pos, "non-canonical compact size %d", v)
		}
		d.pos += 9
		return v, nil
	}
}

// count reads a count of elements at least min bytes each, and rejects one
// the remaining bytes cannot hold.
func (d *decoder) count(what string, min int) (int, error) {
	pos := d.pos
	n, err := d.varint()
	if err != nil {
		return 0, err
	}
	if left := uint64(len(d.raw) - d.pos); n > left/uint64(min) {
		return 0, d.fail(pos, "%d %ss cannot fit in the remaining %d bytes", n, what, left)
	}
	return int(n), nil
}

// script reads a length-prefixed byte string and returns it (aliasing raw).
func (d *decoder) script(what string, j int) ([]byte, error) {
	pos := d.pos
	n, err := d.varint()
	if err != nil {
		return nil, err
	}
	if left := uint64(len(d.raw) - d.pos); n > left {
		return nil, d.fail(pos, "%s %d: script of %d bytes runs past the end (%d bytes left)", what, j, n, left)
	}
	s := d.raw[d.pos : d.pos+int(n) : d.pos+int(n)]
	d.pos += int(n)
	return s, nil
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
