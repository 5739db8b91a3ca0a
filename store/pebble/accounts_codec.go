package pebble

import (
	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store"
)

// Value encodings of the account-model tables (schema in accounts.go).
// Amounts are uint256 base units as a length-prefixed minimal big-endian
// byte string (zero is the empty string); sums of amounts carry a uvarint
// count of 2^256 wraps before them, so they are exact whatever a token
// logs. Addresses are 20 raw bytes, hashes 32; a zero address that a flag
// bit announces is left out.

func (r *reader) evmAddress() (a heistgraph.EVMAddress) {
	if len(r.b) < 20 {
		r.fail()
		return a
	}
	copy(a[:], r.b)
	r.b = r.b[20:]
	return a
}

// i32 reads a varint that must fit an int32.
func (r *reader) i32() int32 {
	v := r.varint()
	if v < -1<<31 || v > 1<<31-1 {
		r.fail()
		return 0
	}
	return int32(v)
}

func (r *reader) evmHash() heistgraph.EVMHash { return heistgraph.EVMHash(r.hash()) }

func (r *reader) amount() (v uint256.Int) {
	b := r.raw()
	if len(b) > 32 || len(b) > 0 && b[0] == 0 {
		r.fail()
		return v
	}
	v.SetBytes(b)
	return v
}

func appendAmount(dst []byte, v *uint256.Int) []byte {
	if v.IsZero() {
		return append(dst, 0)
	}
	var buf [32]byte
	b := v.Bytes32()
	n := (v.BitLen() + 7) / 8
	copy(buf[:n], b[32-n:])
	return appendBytes(dst, buf[:n])
}

// wide is an exact sum of amounts: Wraps × 2^256 + Lo.
type wide struct {
	Wraps uint64
	Lo    uint256.Int
}

func (w *wide) add(v *uint256.Int) {
	if _, carry := w.Lo.AddOverflow(&w.Lo, v); carry {
		w.Wraps++
	}
}

func (w *wide) addWide(v *wide) {
	w.add(&v.Lo)
	w.Wraps += v.Wraps
}

func (w *wide) subWide(v *wide) {
	if _, borrow := w.Lo.SubOverflow(&w.Lo, &v.Lo); borrow {
		w.Wraps--
	}
	w.Wraps -= v.Wraps
}

func (w *wide) less(v *wide) bool {
	if w.Wraps != v.Wraps {
		return w.Wraps < v.Wraps
	}
	return w.Lo.Lt(&v.Lo)
}

// saturated returns w, or 2^256−1 and true when w does not fit.
func (w *wide) saturated() (uint256.Int, bool) {
	if w.Wraps != 0 {
		var m uint256.Int
		m.SetAllOne()
		return m, true
	}
	return w.Lo, false
}

func appendWide(dst []byte, w *wide) []byte {
	return appendAmount(appendUvarint(dst, w.Wraps), &w.Lo)
}

func (r *reader) wide() wide { return wide{Wraps: r.uvarint(), Lo: r.amount()} }

// balanceRecord is the value of an address's position in one asset.
type balanceRecord struct {
	Received, Sent wide
	Credits        int64
	Debits         int64
}

func appendBalanceRecord(dst []byte, b *balanceRecord) []byte {
	dst = appendWide(dst, &b.Received)
	dst = appendWide(dst, &b.Sent)
	dst = appendUvarint(dst, uint64(b.Credits))
	return appendUvarint(dst, uint64(b.Debits))
}

func decodeBalanceRecord(v []byte) (balanceRecord, error) {
	r := reader{b: v}
	b := balanceRecord{Received: r.wide(), Sent: r.wide(), Credits: int64(r.uvarint()), Debits: int64(r.uvarint())}
	return b, r.done("account balance")
}

// summaryRecord is the value of an address's summary.
type summaryRecord struct {
	TxCount, Transfers     int64
	FirstHeight, FirstTime int64
	LastHeight, LastTime   int64
}

func appendSummaryRecord(dst []byte, s *summaryRecord) []byte {
	dst = appendUvarint(dst, uint64(s.TxCount))
	dst = appendUvarint(dst, uint64(s.Transfers))
	dst = appendUvarint(dst, uint64(s.FirstHeight))
	dst = appendVarint(dst, s.FirstTime)
	dst = appendUvarint(dst, uint64(s.LastHeight))
	return appendVarint(dst, s.LastTime)
}

func decodeSummaryRecord(v []byte) (summaryRecord, error) {
	r := reader{b: v}
	s := summaryRecord{
		TxCount: int64(r.uvarint()), Transfers: int64(r.uvarint()),
		FirstHeight: int64(r.uvarint()), FirstTime: r.varint(),
		LastHeight: int64(r.uvarint()), LastTime: r.varint(),
	}
	return s, r.done("account summary")
}

// Flags of transfer, tx and event records.
const (
	xferToken    = 1 << 0 // the asset is a token contract and follows
	xferFromZero = 1 << 1 // From is the zero address and is left out
	xferToZero   = 1 << 2 // To is the zero address and is left out

	acctTxCreate = 1 << 0
	acctTxToZero = 1 << 1

	eventCredit   = 1 << 0
	eventDebit    = 1 << 1
	eventToken    = 1 << 2 // the asset follows (records without the transfer)
	eventTransfer = 1 << 3 // the transfer record and its tx hash follow
)

// appendTransferRecord encodes a ledger entry. The tx hash is not stored:
// the block record lists the txs, and TxIndex names one.
func appendTransferRecord(dst []byte, t *heistgraph.Transfer) []byte {
	var flags byte
	if !t.Asset.IsNative() {
		flags |= xferToken
	}
	if t.From.IsZero() {
		flags |= xferFromZero
	}
	if t.To.IsZero() {
		flags |= xferToZero
	}
	dst = append(dst, byte(t.Kind), flags)
	dst = appendVarint(dst, int64(t.TxIndex))
	if !t.From.IsZero() {
		dst = append(dst, t.From[:]...)
	}
	if !t.To.IsZero() {
		dst = append(dst, t.To[:]...)
	}
	if !t.Asset.IsNative() {
		dst = append(dst, t.Asset[:]...)
	}
	dst = appendAmount(dst, &t.Amount)
	dst = appendVarint(dst, int64(t.LogIndex))
	return appendString(dst, t.TracePath)
}

func decodeTransferRecord(v []byte, t *heistgraph.Transfer) error {
	r := reader{b: v}
	r.transfer(t)
	return r.done("transfer record")
}

// transfer reads a transfer record (appendTransferRecord) into t.
func (r *reader) transfer(t *heistgraph.Transfer) {
	*t = heistgraph.Transfer{Kind: heistgraph.TransferKind(r.byte())}
	flags := r.byte()
	t.TxIndex = r.i32()
	if flags&xferFromZero == 0 {
		t.From = r.evmAddress()
	}
	if flags&xferToZero == 0 {
		t.To = r.evmAddress()
	}
	if flags&xferToken != 0 {
		t.Asset = heistgraph.Asset(r.evmAddress())
	}
	t.Amount = r.amount()
	t.LogIndex = r.i32()
	t.TracePath = r.str()
}

// acctTxRecord is the stored form of a transaction: its fields, its block
// height, and the range of its transfers in the block's ledger.
type acctTxRecord struct {
	Tx        heistgraph.AccountTx
	Height    int64
	FirstSeq  int32
	Transfers int32
	FirstLog  int32 // the log index of its first kept log
	Logs      int32 // how many kept logs it has (an optional trailer)
}

func appendAcctTxRecord(dst []byte, rec *acctTxRecord) []byte {
	tx := &rec.Tx
	var flags byte
	if tx.Create {
		flags |= acctTxCreate
	}
	if tx.To.IsZero() {
		flags |= acctTxToZero
	}
	dst = appendUvarint(dst, uint64(rec.Height))
	dst = appendUvarint(dst, uint64(tx.Index))
	dst = append(dst, tx.Type, flags)
	dst = append(dst, tx.From[:]...)
	if !tx.To.IsZero() {
		dst = append(dst, tx.To[:]...)
	}
	dst = appendUvarint(dst, tx.Nonce)
	dst = appendAmount(dst, &tx.Value)
	dst = append(dst, tx.Selector[:]...)
	dst = appendUvarint(dst, uint64(tx.InputLen))
	dst = append(dst, tx.Status)
	dst = appendUvarint(dst, tx.GasUsed)
	dst = appendAmount(dst, &tx.EffectiveGasPrice)
	dst = appendAmount(dst, &tx.Fee)
	dst = appendUvarint(dst, uint64(rec.FirstSeq))
	dst = appendUvarint(dst, uint64(rec.Transfers))
	if rec.Logs == 0 {
		return dst
	}
	dst = appendUvarint(dst, uint64(rec.Logs))
	return appendUvarint(dst, uint64(rec.FirstLog))
}

func decodeAcctTxRecord(v []byte, hash heistgraph.EVMHash) (acctTxRecord, error) {
	r := reader{b: v}
	var rec acctTxRecord
	tx := &rec.Tx
	tx.Hash = hash
	rec.Height = int64(r.uvarint())
	tx.Index = int32(r.u32())
	tx.Type = r.byte()
	flags := r.byte()
	tx.Create = flags&acctTxCreate != 0
	tx.From = r.evmAddress()
	if flags&acctTxToZero == 0 {
		tx.To = r.evmAddress()
	}
	tx.Nonce = r.uvarint()
	tx.Value = r.amount()
	if len(r.b) < 4 {
		r.fail()
	} else {
		copy(tx.Selector[:], r.b)
		r.b = r.b[4:]
	}
	tx.InputLen = int32(r.u32())
	tx.Status = r.byte()
	tx.GasUsed = r.uvarint()
	tx.EffectiveGasPrice = r.amount()
	tx.Fee = r.amount()
	rec.FirstSeq = int32(r.u32())
	rec.Transfers = int32(r.u32())
	if len(r.b) > 0 {
		rec.Logs = int32(r.u32())
		rec.FirstLog = int32(r.u32())
	}
	return rec, r.done("account tx record")
}

// appendAcctBlockRecord encodes a block's header fields, the size of its
// ledger and its tx hashes in order.
func appendAcctBlockRecord(dst []byte, b *heistgraph.AccountBlock) []byte {
	dst = appendUvarint(dst, uint64(b.Height))
	dst = append(dst, b.ParentHash[:]...)
	dst = appendVarint(dst, b.Time)
	dst = append(dst, b.FeeRecipient[:]...)
	dst = appendAmount(dst, &b.BaseFee)
	dst = appendUvarint(dst, b.GasUsed)
	known := byte(0)
	if b.InternalKnown {
		known = 1
	}
	dst = append(dst, known)
	dst = appendUvarint(dst, uint64(len(b.Transfers)))
	dst = appendUvarint(dst, uint64(len(b.Txs)))
	for i := range b.Txs {
		dst = append(dst, b.Txs[i].Hash[:]...)
	}
	return dst
}

// decodeAcctBlockRecord decodes a block record (Chain and Hash are the
// caller's).
func decodeAcctBlockRecord(v []byte) (store.AccountBlockInfo, error) {
	r := reader{b: v}
	var bi store.AccountBlockInfo
	bi.Height = int64(r.uvarint())
	bi.ParentHash = r.evmHash()
	bi.Time = r.varint()
	bi.FeeRecipient = r.evmAddress()
	bi.BaseFee = r.amount()
	bi.GasUsed = r.uvarint()
	bi.InternalKnown = r.byte() == 1
	bi.Transfers = int(r.uvarint())
	n := r.uvarint()
	if n > uint64(len(r.b))/32 {
		r.fail()
	} else {
		bi.TxHashes = make([]heistgraph.EVMHash, n)
		for i := range bi.TxHashes {
			bi.TxHashes[i] = r.evmHash()
		}
	}
	return bi, r.done("account block record")
}

// appendEventValue encodes a history record: flags (credit, debit), then
// the transfer as the ledger holds it and its tx hash (absent for a
// block-level transfer), so that a history step needs no other read.
func appendEventValue(dst []byte, flags byte, t *heistgraph.Transfer) []byte {
	dst = appendTransferRecord(append(dst, flags|eventTransfer), t)
	if t.TxIndex >= 0 {
		dst = append(dst, t.TxHash[:]...)
	}
	return dst
}

// decodeEventValue decodes a history record into ev's flags and, when the
// record carries it (eventTransfer; see accounts.go), its transfer and tx
// hash. A record without the transfer (written before it was kept there)
// holds flags and asset only: full is false, and ev.Transfer holds only the
// asset.
func decodeEventValue(v []byte, ev *store.AccountEvent) (full bool, err error) {
	r := reader{b: v}
	flags := r.byte()
	ev.Credit, ev.Debit = flags&eventCredit != 0, flags&eventDebit != 0
	switch {
	case flags&eventTransfer != 0:
		r.transfer(&ev.Transfer)
		if ev.Transfer.TxIndex >= 0 {
			ev.Transfer.TxHash = r.evmHash()
		}
		full = true
	case flags&eventToken != 0:
		ev.Transfer = heistgraph.Transfer{Asset: heistgraph.Asset(r.evmAddress())}
	default:
		ev.Transfer = heistgraph.Transfer{}
	}
	return full, r.done("account event")
}

func appendTokenRecord(dst []byte, t *heistgraph.TokenInfo) []byte {
	known := byte(0)
	if t.Known {
		known = 1
	}
	return appendString(append(dst, known, t.Decimals), t.Symbol)
}

func decodeTokenRecord(v []byte) (heistgraph.TokenInfo, error) {
	r := reader{b: v}
	var t heistgraph.TokenInfo
	t.Known = r.byte() == 1
	t.Decimals = r.byte()
	t.Symbol = r.str()
	return t, r.done("token record")
}

func appendCountRecord(dst []byte, n int64) []byte { return appendUvarint(dst, uint64(n)) }

func decodeCountRecord(v []byte) (int64, error) {
	r := reader{b: v}
	n := int64(r.uvarint())
	return n, r.done("account block count")
}
