package pebble

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/heistgraph/heistgraph"
)

// Value encodings. Integers are varints (uvarint for counts and indexes,
// zigzag varint for amounts, times and signed fields); hashes are 32 raw
// bytes; strings and byte slices are a uvarint length and the bytes. Every
// encoder appends to a caller's buffer, so the ingest path reuses its
// buffers; every decoder reads from a value that is only valid until the
// pebble closer is closed, and copies what it keeps.

// errCorrupt reports a stored value that does not decode.
var errCorrupt = errors.New("pebble store: corrupt record")

// scriptTypes gives each known script type a one-byte code. Code 0 is the
// empty type; scriptOther is followed by the type's name.
var scriptTypes = []heistgraph.ScriptType{
	"",
	heistgraph.ScriptPubKey,
	heistgraph.ScriptPubKeyHash,
	heistgraph.ScriptScriptHash,
	heistgraph.ScriptWitnessV0KeyHash,
	heistgraph.ScriptWitnessV0ScriptHash,
	heistgraph.ScriptWitnessV1Taproot,
	heistgraph.ScriptWitnessUnknown,
	heistgraph.ScriptAnchor,
	heistgraph.ScriptMultisig,
	heistgraph.ScriptNullData,
	heistgraph.ScriptNonStandard,
}

const scriptOther = 0xff

func appendScriptType(dst []byte, t heistgraph.ScriptType) []byte {
	for i, k := range scriptTypes {
		if k == t {
			return append(dst, byte(i))
		}
	}
	return appendString(append(dst, scriptOther), string(t))
}

func appendVarint(dst []byte, v int64) []byte   { return binary.AppendVarint(dst, v) }
func appendUvarint(dst []byte, v uint64) []byte { return binary.AppendUvarint(dst, v) }

func appendString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

func appendBytes(dst []byte, b []byte) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(b))), b...)
}

// reader decodes a value. The first failure sets bad and makes every later
// read return zero values, so decoders check once at the end.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) fail() { r.bad, r.b = true, nil }

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) u32() uint32 {
	v := r.uvarint()
	if v > 0xffffffff {
		r.fail()
		return 0
	}
	return uint32(v)
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) hash() (h heistgraph.Hash) {
	if len(r.b) < 32 {
		r.fail()
		return h
	}
	copy(h[:], r.b)
	r.b = r.b[32:]
	return h
}

// raw returns the next length-prefixed bytes, aliasing the value.
func (r *reader) raw() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) str() string { return string(r.raw()) }

// bytes returns a copy of the next length-prefixed bytes (nil when empty).
func (r *reader) bytes() []byte {
	v := r.raw()
	if len(v) == 0 {
		return nil
	}
	return append([]byte(nil), v...)
}

func (r *reader) scriptType() heistgraph.ScriptType {
	c := r.byte()
	if c == scriptOther {
		return heistgraph.ScriptType(r.str())
	}
	if int(c) >= len(scriptTypes) {
		r.fail()
		return ""
	}
	return scriptTypes[c]
}

// done reports an error if decoding failed or bytes are left over.
func (r *reader) done(what string) error {
	if r.bad || len(r.b) != 0 {
		return fmt.Errorf("%s: %w", what, errCorrupt)
	}
	return nil
}

// heightRecord is the value of the height index.
type heightRecord struct {
	Hash heistgraph.Hash
	Time int64
}

func appendHeightRecord(dst []byte, r heightRecord) []byte {
	return appendVarint(append(dst, r.Hash[:]...), r.Time)
}

func decodeHeightRecord(v []byte) (heightRecord, error) {
	r := reader{b: v}
	h := heightRecord{Hash: r.hash(), Time: r.varint()}
	return h, r.done("height record")
}

// appendBlockRecord encodes a block's header, size and txids.
func appendBlockRecord(dst []byte, b *heistgraph.Block) []byte {
	dst = append(dst, b.PrevHash[:]...)
	dst = append(dst, b.MerkleRoot[:]...)
	dst = appendUvarint(dst, uint64(b.Height))
	dst = appendVarint(dst, b.Time)
	dst = appendVarint(dst, int64(b.Version))
	dst = appendUvarint(dst, uint64(b.Bits))
	dst = appendUvarint(dst, uint64(b.Nonce))
	dst = appendUvarint(dst, uint64(b.Size))
	dst = appendUvarint(dst, uint64(len(b.Txs)))
	for i := range b.Txs {
		dst = append(dst, b.Txs[i].TxID[:]...)
	}
	return dst
}

// decodeBlockRecord decodes a block record into a BlockInfo (Chain and Hash
// are the caller's).
func decodeBlockRecord(v []byte) (heistgraph.BlockInfo, error) {
	r := reader{b: v}
	var bi heistgraph.BlockInfo
	bi.PrevHash = r.hash()
	bi.MerkleRoot = r.hash()
	bi.Height = int64(r.uvarint())
	bi.Time = r.varint()
	bi.Version = int32(r.varint())
	bi.Bits = r.u32()
	bi.Nonce = r.u32()
	bi.Size = int(r.uvarint())
	n := r.uvarint()
	if n > uint64(len(r.b))/32 {
		r.fail()
	} else {
		bi.TxIDs = make([]heistgraph.Hash, n)
		for i := range bi.TxIDs {
			bi.TxIDs[i] = r.hash()
		}
	}
	return bi, r.done("block record")
}

// inputRecord is one input as stored in a tx record, with the output it
// spends when that was known at apply time.
type inputRecord struct {
	heistgraph.TxIn
	// PrevNum is the number of the spent output's tx when Resolved: the
	// record stores it instead of the txid (txnum.go).
	PrevNum  uint64
	Resolved bool
	Value    int64
	Type     heistgraph.ScriptType
	// AddrID is the spent output's address id (0: no address), which the
	// record stores instead of the address (addrtable.go); Address is set
	// on decode only when the decoder is given the address table.
	AddrID  uint64
	Address string
}

// txRecord is the stored form of a transaction without its outputs (which
// have their own keys).
type txRecord struct {
	Num      uint64 // the tx's number (txnum.go)
	WTxID    heistgraph.Hash
	Version  int32
	LockTime uint32
	Size     int
	Weight   int
	Height   int64
	Index    uint32
	Fee      int64
	FeeKnown bool
	// OutSum is the sum of the outputs' values. It is stored instead of the
	// fee while the fee is unknown, so that the fee can be set when the last
	// input is resolved; when the fee is known it is derived on decode.
	OutSum int64
	NOut   uint32
	Inputs []inputRecord
}

const (
	txFlagFeeKnown = 1 << 0
	txFlagWTxID    = 1 << 1 // wtxid differs from txid and follows

	inFlagCoinbase = 1 << 0
	inFlagResolved = 1 << 1
	inFlagNum      = 1 << 2 // the prevout's tx number, not its txid, follows
)

// setFee sets the fee of a tx record from its resolved inputs and the sum
// of its outputs: known when every input is resolved (a coinbase's fee is
// 0).
func (rec *txRecord) setFee(outSum int64) {
	rec.OutSum = outSum
	rec.Fee, rec.FeeKnown = 0, true
	if len(rec.Inputs) == 1 && rec.Inputs[0].Coinbase {
		return
	}
	var in int64
	for i := range rec.Inputs {
		ir := &rec.Inputs[i]
		if ir.Coinbase {
			continue
		}
		if !ir.Resolved {
			rec.Fee, rec.FeeKnown = 0, false
			return
		}
		in += ir.Value
	}
	rec.Fee = in - outSum
}

// appendTxRecord appends a tx record's fields; its number is the d key
// it is stored under (txnum.go), not part of it.
func appendTxRecord(dst []byte, txid heistgraph.Hash, rec *txRecord) []byte {
	return appendTxRecordForm(dst, txid, rec, false)
}

// appendTxRecordV3 appends a tx record as schema 3 stored it (addresses as
// strings, no numbers), the form Digest hashes; rec's addresses must be
// resolved.
func appendTxRecordV3(dst []byte, txid heistgraph.Hash, rec *txRecord) []byte {
	return appendTxRecordForm(dst, txid, rec, true)
}

// appendTxRecordForm appends a tx record in the stored form (resolved
// inputs' prevouts by number, their addresses by id), or in schema 3's
// when v3 (txids and address strings).
func appendTxRecordForm(dst []byte, txid heistgraph.Hash, rec *txRecord, v3 bool) []byte {
	var flags byte
	if rec.FeeKnown {
		flags |= txFlagFeeKnown
	}
	if rec.WTxID != txid {
		flags |= txFlagWTxID
	}
	dst = append(dst, flags)
	dst = appendVarint(dst, int64(rec.Version))
	dst = appendUvarint(dst, uint64(rec.LockTime))
	dst = appendUvarint(dst, uint64(rec.Size))
	dst = appendUvarint(dst, uint64(rec.Weight))
	if flags&txFlagWTxID != 0 {
		dst = append(dst, rec.WTxID[:]...)
	}
	dst = appendUvarint(dst, uint64(rec.Height))
	dst = appendUvarint(dst, uint64(rec.Index))
	if rec.FeeKnown {
		dst = appendVarint(dst, rec.Fee)
	} else {
		dst = appendVarint(dst, rec.OutSum)
	}
	dst = appendUvarint(dst, uint64(rec.NOut))
	dst = appendUvarint(dst, uint64(len(rec.Inputs)))
	for i := range rec.Inputs {
		dst = appendInputRecord(dst, &rec.Inputs[i], v3)
	}
	return dst
}

func appendInputRecord(dst []byte, in *inputRecord, v3 bool) []byte {
	var flags byte
	if in.Coinbase {
		flags |= inFlagCoinbase
	}
	if in.Resolved {
		flags |= inFlagResolved
	}
	if !v3 && in.Resolved && in.PrevNum != 0 {
		flags |= inFlagNum
	}
	dst = append(dst, flags)
	if flags&inFlagNum != 0 {
		dst = appendUvarint(dst, in.PrevNum)
	} else {
		dst = append(dst, in.PrevOut.TxID[:]...)
	}
	dst = appendUvarint(dst, uint64(in.PrevOut.Vout))
	// Most sequences are 0xffffffff or 0xfffffffe: store the complement so
	// they take one byte.
	dst = appendUvarint(dst, uint64(^in.Sequence))
	if in.Resolved {
		dst = appendVarint(dst, in.Value)
		dst = appendScriptType(dst, in.Type)
		if v3 {
			dst = appendString(dst, in.Address)
		} else {
			dst = appendUvarint(dst, in.AddrID)
		}
	}
	return dst
}

// decodeTxRecord decodes v, the record of the tx with number num, into
// rec, reusing rec.Inputs' storage; txidOf resolves the numbers of resolved
// inputs' prevouts, and addrs their address ids (nil: the inputs keep only
// the ids).
func decodeTxRecord(v []byte, num uint64, txid heistgraph.Hash, rec *txRecord, txidOf func(uint64) (heistgraph.Hash, error), addrs *addrReader) error {
	r := reader{b: v}
	rec.Num = num
	if rec.Num == 0 {
		r.fail()
	}
	flags := r.byte()
	rec.Version = int32(r.varint())
	rec.LockTime = r.u32()
	rec.Size = int(r.uvarint())
	rec.Weight = int(r.uvarint())
	rec.WTxID = txid
	if flags&txFlagWTxID != 0 {
		rec.WTxID = r.hash()
	}
	rec.Height = int64(r.uvarint())
	rec.Index = r.u32()
	rec.FeeKnown = flags&txFlagFeeKnown != 0
	rec.Fee, rec.OutSum = 0, 0
	if rec.FeeKnown {
		rec.Fee = r.varint()
	} else {
		rec.OutSum = r.varint()
	}
	rec.NOut = r.u32()
	n := r.uvarint()
	if n > uint64(len(r.b))/4 { // an input takes at least 4 bytes
		r.fail()
		n = 0
	}
	rec.Inputs = rec.Inputs[:0]
	for i := uint64(0); i < n; i++ {
		var in inputRecord
		f := r.byte()
		in.Coinbase = f&inFlagCoinbase != 0
		in.Resolved = f&inFlagResolved != 0
		if f&inFlagNum != 0 {
			if in.PrevNum = r.uvarint(); in.PrevNum == 0 || !in.Resolved {
				r.fail()
			} else if !r.bad {
				id, err := txidOf(in.PrevNum)
				if err != nil {
					return fmt.Errorf("tx record: input %d: %w", i, err)
				}
				in.PrevOut.TxID = id
			}
		} else {
			in.PrevOut.TxID = r.hash()
		}
		in.PrevOut.Vout = r.u32()
		in.Sequence = ^r.u32()
		if in.Resolved {
			in.Value = r.varint()
			in.Type = r.scriptType()
			in.AddrID = r.uvarint()
			if addrs != nil && !r.bad && in.AddrID != 0 {
				a, err := addrs.addr(in.AddrID)
				if err != nil {
					return fmt.Errorf("tx record: input %d: %w", i, err)
				}
				in.Address = a
			}
		}
		rec.Inputs = append(rec.Inputs, in)
	}
	if rec.FeeKnown {
		rec.OutSum = -rec.Fee
		for i := range rec.Inputs {
			rec.OutSum += rec.Inputs[i].Value
		}
	}
	return r.done("tx record")
}

// appendOutputRecord encodes an output and the height of its block. Value,
// type and address id (0: no address; the address table names it,
// addrtable.go) come first: resolving a prevout reads only those. The
// script comes last, as its length plus one and its bytes, or as a 0 when
// it is the standard script of the type and address (scripts.go), which
// decodeOutputRecord rebuilds; p is the address's packed form (nil when it
// has none).
func appendOutputRecord(dst []byte, out *heistgraph.TxOut, height int64, id uint64, p *packedAddr) []byte {
	dst = appendVarint(dst, out.Value)
	dst = appendScriptType(dst, out.Type)
	dst = appendUvarint(dst, id)
	dst = appendOutputTail(dst, out, height)
	if p != nil {
		n := len(dst)
		s, ok := packedScript(dst, out.Type, p)
		if ok && bytes.Equal(s[n:], out.Script) {
			return append(s[:n], 0)
		}
		dst = s[:n]
	}
	dst = appendUvarint(dst, uint64(len(out.Script))+1)
	return append(dst, out.Script...)
}

// appendOutputFields appends the fields of an output record before its
// script in schema 2 and 3's form (the address as a string).
func appendOutputFields(dst []byte, out *heistgraph.TxOut, height int64) []byte {
	dst = appendVarint(dst, out.Value)
	dst = appendScriptType(dst, out.Type)
	dst = appendString(dst, out.Address)
	return appendOutputTail(dst, out, height)
}

// appendOutputTail appends the fields of an output record between its
// address and its script.
func appendOutputTail(dst []byte, out *heistgraph.TxOut, height int64) []byte {
	dst = appendUvarint(dst, uint64(height))
	dst = appendUvarint(dst, uint64(len(out.Keys)))
	for _, k := range out.Keys {
		dst = appendString(dst, k)
	}
	return dst
}

// appendOutputRecordV2 appends an output record as schema 2 stored it
// (every script kept, length-prefixed), the form Digest hashes.
func appendOutputRecordV2(dst []byte, out *heistgraph.TxOut, height int64) []byte {
	return appendBytes(appendOutputFields(dst, out, height), out.Script)
}

// outputHead is the part of an output record that resolving a prevout
// needs: the address by its id (0: none).
type outputHead struct {
	Value  int64
	Type   heistgraph.ScriptType
	AddrID uint64
	Height int64
}

func decodeOutputHead(v []byte) (outputHead, error) {
	r := reader{b: v}
	h := outputHead{Value: r.varint(), Type: r.scriptType(), AddrID: r.uvarint(), Height: int64(r.uvarint())}
	if r.bad {
		return h, fmt.Errorf("output record: %w", errCorrupt)
	}
	return h, nil
}

// decodeOutputRecord decodes an output record, resolving its address id
// through addrs.
func decodeOutputRecord(v []byte, addrs *addrReader) (heistgraph.TxOut, int64, error) {
	out, height, _, err := decodeOutput(v, addrs)
	return out, height, err
}

// decodeOutput is decodeOutputRecord also returning the address id; with
// addrs nil it leaves the address empty, and the script too when it is
// the standard one of the address (the address table has it).
func decodeOutput(v []byte, addrs *addrReader) (heistgraph.TxOut, int64, uint64, error) {
	r := reader{b: v}
	var out heistgraph.TxOut
	out.Value = r.varint()
	out.Type = r.scriptType()
	id := r.uvarint()
	var e addrEntry
	if !r.bad && id != 0 && addrs != nil {
		var err error
		if e, err = addrs.entry(id); err != nil {
			return out, 0, 0, fmt.Errorf("output record: %w", err)
		}
		out.Address = e.s
	}
	height := int64(r.uvarint())
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		n = 0
	}
	if n > 0 {
		out.Keys = make([]string, n)
		for i := range out.Keys {
			out.Keys[i] = r.str()
		}
	}
	switch n := r.uvarint(); {
	case r.bad:
	case n == 0:
		var ok bool
		if id == 0 {
			r.fail()
		} else if addrs == nil {
			// The standard script of the address, left out.
		} else if out.Script, ok = packedScript(nil, out.Type, &e.p); !ok {
			r.fail()
		}
	case n-1 > uint64(len(r.b)):
		r.fail()
	case n > 1:
		out.Script = append([]byte(nil), r.b[:n-1]...)
		r.b = r.b[n-1:]
	}
	return out, height, id, r.done("output record")
}

// An event record holds what the event key does not: the number of the tx
// (the creating tx for Received, the spending tx for Spent), for Spent the
// spent outpoint as its tx's number and vout (for Received it is the tx's
// own output Index), and the amount. Numbers are resolved to txids on read
// (txnum.go).
type eventRecord struct {
	TxNum, OutNum uint64
	Vout          uint32
	Amount        int64
}

func appendReceivedEvent(dst []byte, num uint64, amount int64) []byte {
	return appendVarint(appendUvarint(dst, num), amount)
}

func appendSpentEvent(dst []byte, spender, outNum uint64, vout uint32, amount int64) []byte {
	dst = appendUvarint(dst, spender)
	dst = appendUvarint(dst, outNum)
	dst = appendUvarint(dst, uint64(vout))
	return appendVarint(dst, amount)
}

// decodeEventRecord decodes the event record of an event of kind k.
func decodeEventRecord(v []byte, k heistgraph.AddressEventKind) (eventRecord, error) {
	r := reader{b: v}
	e := eventRecord{TxNum: r.uvarint()}
	if k == heistgraph.Spent {
		e.OutNum, e.Vout = r.uvarint(), r.u32()
	}
	e.Amount = r.varint()
	if e.TxNum == 0 || k == heistgraph.Spent && e.OutNum == 0 {
		r.fail()
	}
	return e, r.done("event record")
}

// appendEventV4 appends event ev's record as schema 4 stored it (txids,
// not numbers), the form Digest hashes.
func appendEventV4(dst []byte, ev *heistgraph.AddressEvent) []byte {
	dst = append(dst, ev.TxID[:]...)
	if ev.Kind == heistgraph.Spent {
		dst = append(dst, ev.Outpoint.TxID[:]...)
		dst = appendUvarint(dst, uint64(ev.Outpoint.Vout))
	}
	return appendVarint(dst, ev.Amount)
}

// totals is the stored form of an address's summary, with the address's
// id (schema.go), which comes first in the value.
type totals struct {
	ID                               uint64
	Received, Sent                   int64
	TxCount, OutputCount, SpendCount int64
	FirstHeight, FirstTime           int64
	LastHeight, LastTime             int64
}

func appendTotals(dst []byte, t *totals) []byte {
	dst = appendUvarint(dst, t.ID)
	dst = appendVarint(dst, t.Received)
	dst = appendVarint(dst, t.Sent)
	dst = appendVarint(dst, t.TxCount)
	dst = appendVarint(dst, t.OutputCount)
	dst = appendVarint(dst, t.SpendCount)
	dst = appendVarint(dst, t.FirstHeight)
	dst = appendVarint(dst, t.FirstTime)
	dst = appendVarint(dst, t.LastHeight)
	return appendVarint(dst, t.LastTime)
}

// add merges u into t: sums add up, first and last seen widen, and the id
// is either's (every operand of one address carries the same id). It is
// associative and commutative, as a Pebble merge operator must be.
func (t *totals) add(u *totals) {
	if t.ID == 0 {
		t.ID = u.ID
	}
	if t.OutputCount+t.SpendCount == 0 {
		id := t.ID
		*t = *u
		t.ID = id
		return
	}
	if u.OutputCount+u.SpendCount == 0 {
		return
	}
	t.Received += u.Received
	t.Sent += u.Sent
	t.TxCount += u.TxCount
	t.OutputCount += u.OutputCount
	t.SpendCount += u.SpendCount
	if u.FirstHeight < t.FirstHeight {
		t.FirstHeight, t.FirstTime = u.FirstHeight, u.FirstTime
	}
	if u.LastHeight > t.LastHeight {
		t.LastHeight, t.LastTime = u.LastHeight, u.LastTime
	}
}

// totalsMerger is the Pebble merge operator of address totals: ApplyBlock
// merges each block's delta (a totals value of the block's events) instead
// of reading the totals first, so the ingest path does no read per address.
// RewindTo reads the merged value and sets the corrected one.
//
// Pebble calls Merge for every merge operand a compaction or a read meets
// (once per address of each level-0 file a compaction takes in), and most
// addresses in a compaction's inputs have one operand there, so a merge is
// cheap: its state comes from a pool and goes back when Pebble closes the
// value Finish returned, and the first operand is only copied, its shape
// checked (totalsShape), and decoded when a second one comes; a lone
// operand is given back as it came.
var totalsMerger = &pebbledb.Merger{
	Name: "heistgraph.totals.v1",
	Merge: func(key, value []byte) (pebbledb.ValueMerger, error) {
		if !totalsShape(value) {
			return nil, fmt.Errorf("address totals of %d bytes: %w", len(value), errCorrupt)
		}
		m := totalsMerges.Get().(*totalsMerge)
		m.lone = copy(m.buf[:], value)
		return m, nil
	},
}

var totalsMerges = sync.Pool{New: func() any { return new(totalsMerge) }}

// totalsMerge is a merge under way: while it holds one operand only, that
// operand's bytes (lone of them, in buf), then the merged totals.
type totalsMerge struct {
	t    totals
	lone int
	buf  [totalsFields * binary.MaxVarintLen64]byte
}

func (m *totalsMerge) MergeNewer(value []byte) error {
	u, err := decodeTotals(value)
	if err != nil {
		return err
	}
	if m.lone > 0 {
		if m.t, err = decodeTotals(m.buf[:m.lone]); err != nil {
			return err
		}
		m.lone = 0
	}
	m.t.add(&u)
	return nil
}

func (m *totalsMerge) MergeOlder(value []byte) error { return m.MergeNewer(value) }

// Finish returns the merged value, valid until Pebble closes it (Close).
func (m *totalsMerge) Finish(includesBase bool) ([]byte, io.Closer, error) {
	if m.lone > 0 {
		return m.buf[:m.lone], m, nil
	}
	return appendTotals(m.buf[:0], &m.t), m, nil
}

// Close puts m back in the pool once its value is no longer used.
func (m *totalsMerge) Close() error {
	totalsMerges.Put(m)
	return nil
}

// totalsFields is the number of varints of a totals value.
const totalsFields = 10

// totalsShape reports whether v is totalsFields varints that decode
// (decodeTotals accepts exactly these): each at most MaxVarintLen64 bytes
// long, the last byte of a longest one at most 1, nothing after the last.
func totalsShape(v []byte) bool {
	n, l := 0, 0
	for _, c := range v {
		l++
		if c < 0x80 {
			if l == binary.MaxVarintLen64 && c > 1 {
				return false
			}
			n, l = n+1, 0
		} else if l == binary.MaxVarintLen64 {
			return false
		}
	}
	return n == totalsFields && l == 0
}

func decodeTotals(v []byte) (totals, error) {
	r := reader{b: v}
	t := totals{
		ID:       r.uvarint(),
		Received: r.varint(), Sent: r.varint(),
		TxCount: r.varint(), OutputCount: r.varint(), SpendCount: r.varint(),
		FirstHeight: r.varint(), FirstTime: r.varint(),
		LastHeight: r.varint(), LastTime: r.varint(),
	}
	return t, r.done("address totals")
}

// undoEntry is one key an apply overwrote, with the value it had before;
// Present is false when the key did not exist.
type undoEntry struct {
	Key     []byte
	Prev    []byte
	Present bool
}

// appendUndoRecord encodes what RewindTo cannot derive from a block's own
// records: the previous values of the keys the block overwrote.
func appendUndoRecord(dst []byte, entries []undoEntry) []byte {
	dst = appendUvarint(dst, uint64(len(entries)))
	for i := range entries {
		e := &entries[i]
		dst = appendBytes(dst, e.Key)
		if e.Present {
			dst = appendBytes(append(dst, 1), e.Prev)
		} else {
			dst = append(dst, 0)
		}
	}
	return dst
}

func decodeUndoRecord(v []byte) ([]undoEntry, error) {
	r := reader{b: v}
	var entries []undoEntry
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		n = 0
	}
	for i := uint64(0); i < n; i++ {
		e := undoEntry{Key: r.bytes()}
		e.Present = r.byte() == 1
		if e.Present {
			e.Prev = append([]byte{}, r.raw()...)
		}
		entries = append(entries, e)
	}
	return entries, r.done("undo record")
}
