package synth

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"slices"

	"github.com/btcsuite/btcd/chainhash/v2"
)

// dustLimit is the smallest output the generator creates; a change output
// that would be smaller is dropped and its value left to the fee.
const dustLimit = 1000

// output is one output of a transaction being built.
type output struct {
	addr  uint32
	value int64
	// to is the wallet that owns and will spend the coin; nil leaves the
	// coin untracked (it is never spent: a bridge vault, fee income). The
	// address's owner in the book is the truth either way.
	to *wallet
	// into, when set, receives the coin instead of to.coins (a mixing
	// queue); the coin's owner is still to.
	into *[]coin
	// hold returns the coin to the caller instead of delivering it.
	hold bool
	// data, when non-nil, makes this a zero-value OP_RETURN output.
	data []byte
}

// draft is a transaction being built by one wallet (hab) from coins of one
// or several wallets (a CoinJoin).
type draft struct {
	ins  []coin
	outs []output
	hab  *habits
	// change is the index of the output that receives what is left after
	// the fee (dropped below dustLimit), or -1 when the outputs are final
	// and the fee is whatever they leave.
	change int
	// shuffle puts the outputs in random order (wallets that do not sort).
	shuffle bool
	// coinjoin names the CoinJoin kind ("whirlpool", "wasabi2",
	// "joinmarket") the transaction is, for truth.json.
	coinjoin string
	// tx0 marks a Whirlpool Tx0 (premix) transaction.
	tx0 bool
	// theft marks the transactions of a heist that pay the attacker from
	// the victim: their outputs are the heist's seeds.
	theft *heist
}

// committed is what commit reports about a transaction it wrote.
type committed struct {
	txid chainhash.Hash
	fee  int64
	held []coin // the coins of outputs marked hold, in output order
}

func varIntLen(n int) int {
	switch {
	case n < 0xfd:
		return 1
	case n <= 0xffff:
		return 3
	case n <= 0xffffffff:
		return 5
	}
	return 9
}

func appendVarInt(b []byte, n uint64) []byte {
	switch {
	case n < 0xfd:
		return append(b, byte(n))
	case n <= 0xffff:
		return binary.LittleEndian.AppendUint16(append(b, 0xfd), uint16(n))
	case n <= 0xffffffff:
		return binary.LittleEndian.AppendUint32(append(b, 0xfe), uint32(n))
	}
	return binary.LittleEndian.AppendUint64(append(b, 0xff), n)
}

// sigLen is the length of a placeholder ECDSA signature with its sighash
// byte: 71 for low-R grinding wallets, 72 otherwise.
func sigLen(lowR bool) int {
	if lowR {
		return 71
	}
	return 72
}

// inputSize returns the non-witness bytes and witness bytes of spending an
// output of type t with a signature of sl bytes (ECDSA; Taproot's Schnorr
// signature is always 64).
func inputSize(t scriptType, sl int) (base, wit int) {
	switch t {
	case p2pkh:
		ss := 1 + sl + 1 + 33
		return 36 + varIntLen(ss) + ss + 4, 0
	case p2shP2WPKH:
		return 36 + 1 + 23 + 4, 1 + 1 + sl + 1 + 33
	case p2wpkh:
		return 41, 1 + 1 + sl + 1 + 33
	default:
		return 41, 1 + 1 + 64
	}
}

// inputVBytes is the virtual size one input of type t adds, rounded up.
func inputVBytes(t scriptType, lowR bool) int64 {
	b, w := inputSize(t, sigLen(lowR))
	return int64(4*b+w+3) / 4
}

// outputVBytes is the size of an output of type t.
func outputVBytes(t scriptType) int64 { return int64(8 + 1 + t.scriptLen()) }

// vsize returns the virtual size of the transaction d describes.
func (w *world) vsize(d *draft) int64 {
	base := 4 + varIntLen(len(d.ins)) + varIntLen(len(d.outs)) + 4
	wit, segwit := 0, false
	for i := range d.ins {
		t := w.book.kind[d.ins[i].addr]
		b, wt := inputSize(t, sigLen(d.ins[i].owner.hab.lowR))
		base += b
		if t.segwit() {
			segwit = true
			wit += wt
		} else {
			wit++
		}
	}
	if !segwit {
		wit = 0
	} else {
		wit += 2
	}
	for i := range d.outs {
		n := w.outScriptLen(&d.outs[i])
		base += 8 + varIntLen(n) + n
	}
	return int64(4*base+wit+3) / 4
}

func (w *world) outScriptLen(o *output) int {
	if o.data != nil {
		return 2 + len(o.data)
	}
	return w.book.kind[o.addr].scriptLen()
}

// feeRate is the rate in sat/vB a wallet with habits hab pays in the
// current block: the market rate scaled by its habit, within [1, 50].
func (w *world) feeRate(hab *habits) int64 {
	r := w.market * hab.feePct / 100
	return min(max(r, 1), 50)
}

// commit prices d, writes it into the current block and delivers its
// outputs. It returns false when the inputs cannot pay for the outputs and
// the fee: nothing is written, the caller still owns the coins in d.ins and
// must give them back; d.outs may have lost its change output.
func (w *world) commit(d *draft) (committed, bool) {
	var in, out int64
	for i := range d.ins {
		in += d.ins[i].value
	}
	for i := range d.outs {
		if i != d.change {
			out += d.outs[i].value
		}
	}
	var fee int64
	if d.change >= 0 {
		d.outs[d.change].value = 0
		fee = w.feeRate(d.hab) * w.vsize(d)
		if cv := in - out - fee; cv >= dustLimit {
			d.outs[d.change].value = cv
		} else {
			if len(d.outs) == 1 {
				return committed{}, false
			}
			d.outs = slices.Delete(d.outs, d.change, d.change+1)
			d.change = -1
			fee = in - out
			if fee < w.vsize(d) {
				return committed{}, false
			}
		}
	} else {
		fee = in - out
		if fee < 0 {
			return committed{}, false
		}
	}
	if len(d.outs) == 0 || len(d.ins) == 0 {
		return committed{}, false
	}
	switch {
	case d.hab.bip69:
		w.sortBIP69(d)
	case d.shuffle:
		w.rng.Shuffle(len(d.outs), func(i, j int) { d.outs[i], d.outs[j] = d.outs[j], d.outs[i] })
	}
	txid := w.serialize(d)
	w.blk.fees += fee
	w.txs++
	c := committed{txid: txid, fee: fee}
	for i := range d.outs {
		o := &d.outs[i]
		if o.data != nil {
			continue
		}
		w.book.markUsed(o.addr)
		cn := coin{hash: txid, vout: uint32(i), value: o.value, addr: o.addr, height: w.height, owner: o.to}
		switch {
		case o.hold:
			c.held = append(c.held, cn)
		case o.to == nil:
		case o.into != nil:
			*o.into = append(*o.into, cn)
		default:
			o.to.add(cn)
		}
	}
	w.accountHeists(d, fee, d.theft)
	if d.coinjoin != "" {
		w.coinjoins = append(w.coinjoins, cjRecord{txid: txid, kind: d.coinjoin})
	}
	if d.tx0 {
		w.tx0s = append(w.tx0s, txid)
	}
	return c, true
}

// sortBIP69 orders inputs by previous txid (as displayed) and index, and
// outputs by value and script.
func (w *world) sortBIP69(d *draft) {
	slices.SortStableFunc(d.ins, func(a, b coin) int {
		for i := 31; i >= 0; i-- {
			if a.hash[i] != b.hash[i] {
				return int(a.hash[i]) - int(b.hash[i])
			}
		}
		return int(a.vout) - int(b.vout)
	})
	slices.SortStableFunc(d.outs, func(a, b output) int {
		if a.value != b.value {
			if a.value < b.value {
				return -1
			}
			return 1
		}
		return bytes.Compare(w.scriptOf(&a), w.scriptOf(&b))
	})
}

func (w *world) scriptOf(o *output) []byte {
	if o.data != nil {
		return append([]byte{0x6a, byte(len(o.data))}, o.data...)
	}
	return w.book.appendScript(nil, o.addr)
}

// appendSig appends a placeholder DER signature with SIGHASH_ALL: the shape
// and length of a real one (71 bytes low-R, 72 high-R), random r and s.
func (w *world) appendSig(b []byte, lowR bool) []byte {
	var r, s [32]byte
	w.fillRandom(r[:])
	w.fillRandom(s[:])
	s[0] &= 0x7f
	if s[0] == 0 {
		s[0] = 1
	}
	if lowR {
		r[0] &= 0x7f
		if r[0] == 0 {
			r[0] = 1
		}
		b = append(b, 0x30, 0x44, 0x02, 0x20)
	} else {
		r[0] |= 0x80
		b = append(b, 0x30, 0x45, 0x02, 0x21, 0x00)
	}
	b = append(b, r[:]...)
	b = append(b, 0x02, 0x20)
	b = append(b, s[:]...)
	return append(b, 0x01)
}

func (w *world) fillRandom(p []byte) {
	for i := 0; i < len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], w.rng.Uint64())
	}
}

// serialize appends d to the current block in the BIP 144 format and
// returns its txid.
func (w *world) serialize(d *draft) chainhash.Hash {
	b := w.blk.body
	start := len(b)
	segwit := false
	for i := range d.ins {
		if w.book.kind[d.ins[i].addr].segwit() {
			segwit = true
			break
		}
	}
	var lock uint32
	if d.hab.lockHeight {
		lock = uint32(w.height - 1)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(d.hab.version))
	if segwit {
		b = append(b, 0x00, 0x01)
	}
	ioStart := len(b)
	b = appendVarInt(b, uint64(len(d.ins)))
	for i := range d.ins {
		c := &d.ins[i]
		b = append(b, c.hash[:]...)
		b = binary.LittleEndian.AppendUint32(b, c.vout)
		switch w.book.kind[c.addr] {
		case p2pkh:
			sl := sigLen(c.owner.hab.lowR)
			b = append(b, byte(1+sl+1+33), byte(sl))
			b = w.appendSig(b, c.owner.hab.lowR)
			pk := w.book.pubKey(c.addr)
			b = append(b, 33)
			b = append(b, pk[:]...)
		case p2shP2WPKH:
			b = append(b, 23, 22)
			b = append(b, redeemScript(w.book.keyHash(c.addr))...)
		default:
			b = append(b, 0)
		}
		b = binary.LittleEndian.AppendUint32(b, d.hab.sequence)
	}
	b = appendVarInt(b, uint64(len(d.outs)))
	for i := range d.outs {
		o := &d.outs[i]
		b = binary.LittleEndian.AppendUint64(b, uint64(o.value))
		if o.data != nil {
			b = append(b, byte(2+len(o.data)), 0x6a, byte(len(o.data)))
			b = append(b, o.data...)
			continue
		}
		b = append(b, byte(w.book.kind[o.addr].scriptLen()))
		b = w.book.appendScript(b, o.addr)
	}
	ioEnd := len(b)
	if segwit {
		for i := range d.ins {
			c := &d.ins[i]
			switch w.book.kind[c.addr] {
			case p2pkh:
				b = append(b, 0)
			case p2tr:
				b = append(b, 1, 64)
				var sig [64]byte
				w.fillRandom(sig[:])
				b = append(b, sig[:]...)
			default:
				b = append(b, 2, byte(sigLen(c.owner.hab.lowR)))
				b = w.appendSig(b, c.owner.hab.lowR)
				pk := w.book.pubKey(c.addr)
				b = append(b, 33)
				b = append(b, pk[:]...)
			}
		}
	}
	b = binary.LittleEndian.AppendUint32(b, lock)
	end := len(b)
	w.blk.body = b

	h := sha256.New()
	h.Write(b[start : start+4])
	h.Write(b[ioStart:ioEnd])
	h.Write(b[end-4 : end])
	var first [32]byte
	h.Sum(first[:0])
	txid := chainhash.Hash(sha256.Sum256(first[:]))
	wtxid := txid
	if segwit {
		wtxid = chainhash.DoubleHashH(b[start:end])
	}
	w.blk.txids = append(w.blk.txids, txid)
	w.blk.wtxids = append(w.blk.wtxids, wtxid)
	return txid
}
