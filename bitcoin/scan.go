package bitcoin

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/internal/sha256d"
)

// Scanner reads serialized blocks into views that alias the block bytes and
// reuse the Scanner's arenas: the fast path for ingesting a chain, which
// needs txids, prevouts, output values and addresses but no strings and no
// allocation per transaction or output. DecodeBlock is Scan followed by
// RawBlock.Block.
//
// A Scanner is not safe for concurrent use: use one per goroutine. Each
// Scan reuses the arenas of the one before, so a RawBlock is valid only
// until the next Scan on the same Scanner; the zero Scanner is ready.
type Scanner struct {
	txs  []RawTx
	ins  []RawIn
	outs []RawOut
	ids  []heistgraph.Hash
	blk  RawBlock
	d    doubler
	h160 hasher160 // for P2PK outputs
}

// RawBlock is a block Scan has checked, as a view of its bytes. Its slices
// point into the Scanner's arenas and Raw; neither may change while the
// view is in use.
type RawBlock struct {
	Raw        []byte // the serialized block, as given to Scan
	Height     int64  // 0 from Scan (a raw block does not state it); FileSource.RawBlocks sets it
	Hash       heistgraph.Hash
	PrevHash   heistgraph.Hash
	MerkleRoot heistgraph.Hash // checked against the txids
	Version    int32
	Time       int64
	Bits       uint32
	Nonce      uint32
	Txs        []RawTx // Txs[0] is the coinbase
}

// RawTx is one transaction of a RawBlock. Inputs and Outputs point into the
// Scanner's arenas.
type RawTx struct {
	TxID     heistgraph.Hash
	Version  int32
	LockTime uint32
	Inputs   []RawIn
	Outputs  []RawOut
	sh       shape
}

// RawIn is a transaction input. In a scanned block, the null outpoint is
// spent only by the coinbase's single input, so PrevOut.IsNull() tells a
// coinbase input.
type RawIn struct {
	PrevOut  heistgraph.Outpoint
	Sequence uint32
}

// RawOut is a transaction output: its value, the script's type and the key
// of the address it pays (the zero key for none), and the script, which
// aliases the block's bytes.
type RawOut struct {
	Value  int64 // satoshis
	Type   heistgraph.ScriptType
	Addr   AddrKey
	Script []byte
}

// Keys returns what heistgraph.TxOut.Keys holds: for a bare multisig
// output, the P2PKH address on net of each strictly encoded key in script
// order; nil for any other output or an unknown network. It allocates: the
// fast path leaves it to the rare output that needs it.
func (o *RawOut) Keys(net heistgraph.Network) []string {
	p, ok := addrParamsFor(net)
	if !ok || o.Type != heistgraph.ScriptMultisig {
		return nil
	}
	return multisigAddrs(o.Script, p)
}

// Segwit reports whether tx is serialized with a witness.
func (tx *RawTx) Segwit() bool { return tx.sh.segwit }

// Size returns tx's serialized size, witness included.
func (tx *RawTx) Size() int { return tx.sh.end - tx.sh.start }

// Weight returns tx's BIP141 weight: stripped size × 3 + full size.
func (tx *RawTx) Weight() int {
	if !tx.sh.segwit {
		return 4 * tx.Size()
	}
	return (4+tx.sh.bodyEnd-tx.sh.body+4)*3 + tx.Size()
}

// Bytes returns tx's serialization within the block.
func (b *RawBlock) Bytes(tx *RawTx) []byte { return b.Raw[tx.sh.start:tx.sh.end] }

// WTxID computes tx's wtxid, the hash of its full serialization (the
// txid for a transaction without witness; for a coinbase with witness the
// real hash, not the zero of BIP141's commitment). Scan does not compute
// wtxids: nothing Scan checks needs them.
func (b *RawBlock) WTxID(tx *RawTx) heistgraph.Hash {
	if !tx.sh.segwit {
		return tx.TxID
	}
	return hash256(b.Bytes(tx))
}

// Scan checks raw as DecodeBlock does (the same rules, the same errors,
// the merkle root against the txids) and returns a view of it. It computes
// the block hash, every txid, every output's script type and address key;
// wtxids are computed by RawBlock.WTxID when asked for, and address strings
// by AddrKey.Address. The view aliases raw and is valid until the next Scan
// on s.
func (s *Scanner) Scan(raw []byte) (*RawBlock, error) {
	if len(raw) > MaxBlockSize {
		return nil, &DecodeError{Err: fmt.Errorf("block of %d bytes exceeds the maximum of %d: %w", len(raw), MaxBlockSize, heistgraph.ErrInvalid)}
	}
	if len(raw) < HeaderSize {
		return nil, &DecodeError{Err: fmt.Errorf("truncated header: %d of %d bytes: %w", len(raw), HeaderSize, heistgraph.ErrInvalid)}
	}
	b := &s.blk
	*b = RawBlock{
		Raw:     raw,
		Hash:    s.d.sum(raw[:HeaderSize]),
		Version: int32(binary.LittleEndian.Uint32(raw[0:])),
		Time:    int64(binary.LittleEndian.Uint32(raw[68:])),
		Bits:    binary.LittleEndian.Uint32(raw[72:]),
		Nonce:   binary.LittleEndian.Uint32(raw[76:]),
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
	// The arenas grow with the transactions walked, not with the count a
	// hostile block states.
	txs := s.txs[:0]
	nIn, nOut := 0, 0
	for i := range n {
		sh, err := c.tx(i)
		if err != nil {
			return nil, named(err)
		}
		txs = append(txs, RawTx{sh: sh})
		nIn += sh.ins
		nOut += sh.outs
	}
	s.txs = txs
	if c.pos != len(raw) {
		return nil, named(c.fail(c.pos, "%d trailing bytes after %d transactions", len(raw)-c.pos, n))
	}

	s.grow(nIn, nOut)
	ins, outs := s.ins, s.outs
	ids := slices.Grow(s.ids[:0], n+1) // merkleRoot may append one
	// The txids two at a time (their rounds interleave), each pair just
	// before it is read, while its bytes are in cache.
	for i := 0; i < len(txs); i += 2 {
		pair := txs[i:min(i+2, len(txs))]
		s.d.txids(raw, pair)
		for k := range pair {
			ins, outs = s.read(raw, &pair[k], ins, outs)
			ids = append(ids, pair[k].TxID)
		}
	}
	s.ids = ids
	root, mutated := merkleRoot(ids)
	if mutated || root != b.MerkleRoot {
		return nil, &DecodeError{Offset: 36, Hash: b.Hash.String(), Err: &MerkleError{Header: b.MerkleRoot, Computed: root, Mutated: mutated}}
	}
	b.Txs = txs
	return b, nil
}

// grow makes the input and output arenas hold at least nIn and nOut.
func (s *Scanner) grow(nIn, nOut int) {
	if cap(s.ins) < nIn {
		s.ins = make([]RawIn, nIn)
	}
	if cap(s.outs) < nOut {
		s.outs = make([]RawOut, nOut)
	}
	s.ins, s.outs = s.ins[:cap(s.ins)], s.outs[:cap(s.outs)]
}

// read reads the checked transaction tx.sh of raw into tx (but its txid),
// its inputs and
// outputs into the front of ins and outs, and returns what is left of them.
// The checker has refused any count or length the bytes cannot hold, so
// read reads without checking.
func (s *Scanner) read(raw []byte, tx *RawTx, ins []RawIn, outs []RawOut) ([]RawIn, []RawOut) {
	sh := tx.sh
	b := raw[sh.start:sh.end]
	lockTime := b[len(b)-4:]
	tx.Version = int32(binary.LittleEndian.Uint32(b))
	tx.LockTime = binary.LittleEndian.Uint32(lockTime)

	pos := sh.body + varintLen(raw[sh.body])
	tx.Inputs = ins[:sh.ins:sh.ins]
	for j := range tx.Inputs {
		in := &tx.Inputs[j]
		copy(in.PrevOut.TxID[:], raw[pos:pos+32])
		in.PrevOut.Vout = binary.LittleEndian.Uint32(raw[pos+32:])
		n, w := readVarint(raw, pos+36)
		pos += 36 + w + n
		in.Sequence = binary.LittleEndian.Uint32(raw[pos:])
		pos += 4
	}

	pos += varintLen(raw[pos])
	tx.Outputs = outs[:sh.outs:sh.outs]
	for j := range tx.Outputs {
		o := &tx.Outputs[j]
		o.Value = int64(binary.LittleEndian.Uint64(raw[pos:]))
		n, w := readVarint(raw, pos+8)
		pos += 8 + w
		o.Script = raw[pos : pos+n : pos+n]
		pos += n
		o.Type = classifyKey(o.Script, &o.Addr, &s.h160)
	}
	return ins[sh.ins:], outs[sh.outs:]
}

// Block returns the domain value of b on network net, as DecodeBlock
// returns it: wtxids computed, address strings encoded, output scripts
// copied into one allocation of the block's own (it does not alias Raw or
// the Scanner), Height 0. It returns an error wrapping
// heistgraph.ErrInvalid for a network without address prefixes.
func (b *RawBlock) Block(net heistgraph.Network) (*heistgraph.Block, error) {
	p, ok := addrParamsFor(net)
	if !ok {
		return nil, unknownNetwork(net)
	}
	blk := b.block(p)
	blk.Chain = net.Chain
	return blk, nil
}

func unknownNetwork(net heistgraph.Network) error {
	return &DecodeError{Err: fmt.Errorf("unknown network %q (chain %q): %w", net.Name, net.Chain, heistgraph.ErrInvalid)}
}

// block is Block with the address parameters looked up; nil p leaves the
// addresses out.
func (b *RawBlock) block(p *addrParams) *heistgraph.Block {
	blk := &heistgraph.Block{
		Hash: b.Hash, PrevHash: b.PrevHash, MerkleRoot: b.MerkleRoot,
		Version: b.Version, Time: b.Time, Bits: b.Bits, Nonce: b.Nonce, Size: len(b.Raw),
	}
	var m materializer
	for i := range b.Txs {
		m.add(&b.Txs[i].sh)
	}
	m.alloc(p)
	blk.Txs = make([]heistgraph.Tx, len(b.Txs))
	for i := range b.Txs {
		m.tx(b, &b.Txs[i], &blk.Txs[i])
	}
	return blk
}

// materializer turns scanned transactions into domain values. Inputs,
// outputs and script bytes are carved from one allocation each, sized by
// the checker's totals. Each address is a string of its own: one string for
// all of a block's addresses, each a substring of it, was not measurably
// faster and would keep them all alive for the sake of one.
type materializer struct {
	p                  *addrParams
	nIn, nOut, scripts int
	ins                []heistgraph.TxIn
	outs               []heistgraph.TxOut
	arena              []byte
	addr               [96]byte // scratch for encoding an address
}

func (m *materializer) add(sh *shape) {
	m.nIn += sh.ins
	m.nOut += sh.outs
	m.scripts += sh.scripts
}

func (m *materializer) alloc(p *addrParams) {
	m.p = p
	m.ins = make([]heistgraph.TxIn, m.nIn)
	m.outs = make([]heistgraph.TxOut, m.nOut)
	m.arena = make([]byte, m.scripts)
}

// tx fills dst with the domain value of tx, a transaction of b.
func (m *materializer) tx(b *RawBlock, tx *RawTx, dst *heistgraph.Tx) {
	dst.TxID, dst.WTxID = tx.TxID, b.WTxID(tx)
	dst.Version, dst.LockTime = tx.Version, tx.LockTime
	dst.Size, dst.Weight = tx.Size(), tx.Weight()
	ins := m.ins[:len(tx.Inputs):len(tx.Inputs)]
	m.ins = m.ins[len(tx.Inputs):]
	for j, in := range tx.Inputs {
		ins[j] = heistgraph.TxIn{PrevOut: in.PrevOut, Sequence: in.Sequence}
	}
	// The checker allows the null outpoint only in a lone input of the
	// first transaction (or of a lone transaction).
	ins[0].Coinbase = len(ins) == 1 && ins[0].PrevOut.IsNull()

	outs := m.outs[:len(tx.Outputs):len(tx.Outputs)]
	m.outs = m.outs[len(tx.Outputs):]
	for j := range tx.Outputs {
		o, dst := &tx.Outputs[j], &outs[j]
		dst.Value, dst.Type = o.Value, o.Type
		if n := len(o.Script); n > 0 {
			dst.Script = m.arena[:n:n]
			m.arena = m.arena[n:]
			copy(dst.Script, o.Script)
		}
		if m.p == nil {
			continue
		}
		if addr := o.Addr.appendAddr(m.addr[:0], m.p); len(addr) > 0 {
			dst.Address = string(addr)
		}
		if o.Type == heistgraph.ScriptMultisig {
			dst.Keys = multisigAddrs(o.Script, m.p)
		}
	}
	dst.Inputs, dst.Outputs = ins, outs
}

// doubler computes Bitcoin's double SHA-256 with internal/sha256d: with
// SHA-NI one assembly call a pair of txids, their rounds interleaved, and
// a merkle level per call; without, its state serves segwit txids, hashed
// in three parts. The zero value is ready.
type doubler struct {
	d sha256d.Double
}

// txids sets the TxID of txs, checked transactions of raw, two at a time
// (sha256d.Double.Sum3Pair interleaves their rounds).
func (d *doubler) txids(raw []byte, txs []RawTx) {
	i := 0
	for ; i+1 < len(txs); i += 2 {
		x, y := txParts(raw, &txs[i].sh), txParts(raw, &txs[i+1].sh)
		txs[i].TxID, txs[i+1].TxID = d.d.Sum3Pair(&x, &y)
	}
	if i < len(txs) {
		x := txParts(raw, &txs[i].sh)
		txs[i].TxID = d.d.Sum3(x[0], x[1], x[2])
	}
}

// txParts returns the bytes a txid hashes, in three parts: the
// transaction of raw with the shape sh without its marker, flag and
// witnesses (BIP144) is its version, its body (inputs and outputs) and its
// lock time.
func txParts(raw []byte, sh *shape) [3][]byte {
	if !sh.segwit {
		return [3][]byte{nil, raw[sh.start:sh.end], nil}
	}
	return [3][]byte{raw[sh.start : sh.start+4], raw[sh.body:sh.bodyEnd], raw[sh.end-4 : sh.end]}
}

// sum returns SHA-256(SHA-256(b)).
func (d *doubler) sum(b []byte) heistgraph.Hash { return sha256d.Sum(b) }

// merkleRoot returns the merkle root of ids, and whether the tree is
// mutated: some level pairs two equal hashes (Core's ComputeMerkleRoot).
// It overwrites ids, and may append one to it.
func merkleRoot(ids []heistgraph.Hash) (heistgraph.Hash, bool) {
	if len(ids) == 0 {
		return heistgraph.Hash{}, false
	}
	mutated := false
	for len(ids) > 1 {
		for i := 0; i+1 < len(ids); i += 2 {
			if ids[i] == ids[i+1] {
				mutated = true
			}
		}
		if len(ids)%2 == 1 {
			ids = append(ids, ids[len(ids)-1])
		}
		sha256d.Nodes(ids, ids)
		ids = ids[:len(ids)/2]
	}
	return ids[0], mutated
}
