package bitcoin

import (
	"encoding/binary"
	"fmt"

	"github.com/heistgraph/heistgraph"
)

// checker walks a serialized block or transaction and enforces the
// serialization rules DecodeBlock documents, reporting the exact position of
// a fault, without allocating. It runs before the builder reads the values
// out of the bytes, so that the builder can trust every count and length,
// and its walk yields exact totals for allocating the results once.
type checker struct {
	raw []byte
	pos int
}

// shape is what the checker learned of one transaction.
type shape struct {
	start, end int // its bytes in raw
	// body and bodyEnd delimit the input count, inputs, output count and
	// outputs: with the version before and the lock time after, the
	// serialization without witness the txid hashes.
	body, bodyEnd int
	segwit        bool // the BIP144 marker and flag are present
	ins, outs     int
	scripts       int // output script bytes
}

// fail returns a *DecodeError at offset pos of raw wrapping ErrInvalid.
func (c *checker) fail(pos int, format string, args ...any) error {
	return &DecodeError{Offset: int64(pos), Err: fmt.Errorf(format+": %w", append(args, heistgraph.ErrInvalid)...)}
}

// txFail is fail with the transaction named.
func (c *checker) txFail(index, pos int, format string, args ...any) error {
	return wrapTx(index, c.fail(pos, format, args...))
}

// tx checks the transaction at c.pos and moves past it. index is its
// position in the block (0 must be the coinbase), or -1 for a lone
// transaction.
func (c *checker) tx(index int) (shape, error) {
	raw := c.raw
	sh := shape{start: c.pos}
	if len(raw)-c.pos < 5 {
		return sh, c.txFail(index, c.pos, "truncated: %d bytes left", len(raw)-c.pos)
	}
	c.pos += 4 // version
	segwit := false
	if raw[c.pos] == 0 && c.pos+1 < len(raw) {
		// A zero input count is BIP144's marker; the flag must be 1.
		if flag := raw[c.pos+1]; flag != 1 {
			return sh, c.txFail(index, c.pos, "segwit marker with flag %#x, want 0x01", flag)
		}
		segwit = true
		c.pos += 2
	}
	bodyStart := c.pos
	sh.body, sh.segwit = c.pos, segwit
	nIn, err := c.count("input", minTxInSize)
	if err != nil {
		return sh, wrapTx(index, err)
	}
	if nIn == 0 {
		return sh, c.txFail(index, bodyStart, "no inputs")
	}
	coinbase := false
	for j := range nIn {
		pos := c.pos
		if len(raw)-pos < minTxInSize {
			return sh, c.txFail(index, pos, "input %d truncated", j)
		}
		if isNullOutpoint(raw[pos : pos+36]) {
			if nIn != 1 || index > 0 {
				return sh, c.txFail(index, pos, "input %d spends the null outpoint outside a coinbase", j)
			}
			coinbase = true
		}
		c.pos += 36
		if _, err := c.skip("input", j); err != nil {
			return sh, wrapTx(index, err)
		}
		if len(raw)-c.pos < 4 {
			return sh, c.txFail(index, c.pos, "input %d: truncated sequence", j)
		}
		c.pos += 4
	}
	if index == 0 && !coinbase {
		return sh, c.txFail(index, bodyStart, "first transaction is not a coinbase")
	}
	nOut, err := c.count("output", minOutSize)
	if err != nil {
		return sh, wrapTx(index, err)
	}
	if nOut == 0 {
		return sh, c.txFail(index, c.pos, "no outputs")
	}
	for j := range nOut {
		pos := c.pos
		if len(raw)-pos < minOutSize {
			return sh, c.txFail(index, pos, "output %d truncated", j)
		}
		if v := int64(binary.LittleEndian.Uint64(raw[pos:])); v < 0 || v > maxMoney {
			return sh, c.txFail(index, pos, "output %d: value %d outside [0, %d]", j, v, int64(maxMoney))
		}
		c.pos += 8
		n, err := c.skip("output", j)
		if err != nil {
			return sh, wrapTx(index, err)
		}
		sh.scripts += n
	}
	sh.bodyEnd = c.pos
	if segwit {
		bodyEnd := c.pos
		witnesses := false
		for j := range nIn {
			items, err := c.count("witness item", 1)
			if err != nil {
				return sh, wrapTx(index, prefix(err, "witness of input %d", j))
			}
			witnesses = witnesses || items > 0
			for range items {
				if _, err := c.skip("witness of input", j); err != nil {
					return sh, wrapTx(index, err)
				}
			}
		}
		if !witnesses {
			return sh, c.txFail(index, bodyEnd, "segwit marker but no witness (superfluous witness record)")
		}
	}
	if len(raw)-c.pos < 4 {
		return sh, c.txFail(index, c.pos, "truncated lock time")
	}
	c.pos += 4
	sh.end, sh.ins, sh.outs = c.pos, nIn, nOut
	return sh, nil
}

func isNullOutpoint(b []byte) bool {
	_ = b[35]
	return binary.LittleEndian.Uint32(b[32:]) == 0xffffffff &&
		binary.LittleEndian.Uint64(b[0:])|binary.LittleEndian.Uint64(b[8:])|
			binary.LittleEndian.Uint64(b[16:])|binary.LittleEndian.Uint64(b[24:]) == 0
}

// varint reads a compact size, which must be canonical.
func (c *checker) varint() (uint64, error) {
	raw, pos := c.raw, c.pos
	if pos >= len(raw) {
		return 0, c.fail(pos, "truncated compact size")
	}
	b := raw[pos]
	switch {
	case b < 0xfd:
		c.pos++
		return uint64(b), nil
	case b == 0xfd:
		if len(raw)-pos < 3 {
			return 0, c.fail(pos, "truncated compact size")
		}
		v := uint64(binary.LittleEndian.Uint16(raw[pos+1:]))
		if v < 0xfd {
			return 0, c.fail(pos, "non-canonical compact size %d", v)
		}
		c.pos += 3
		return v, nil
	case b == 0xfe:
		if len(raw)-pos < 5 {
			return 0, c.fail(pos, "truncated compact size")
		}
		v := uint64(binary.LittleEndian.Uint32(raw[pos+1:]))
		if v <= 0xffff {
			return 0, c.fail(pos, "non-canonical compact size %d", v)
		}
		c.pos += 5
		return v, nil
	default:
		if len(raw)-pos < 9 {
			return 0, c.fail(pos, "truncated compact size")
		}
		v := binary.LittleEndian.Uint64(raw[pos+1:])
		if v <= 0xffffffff {
			return 0, c.fail(pos, "non-canonical compact size %d", v)
		}
		c.pos += 9
		return v, nil
	}
}

// count reads a count of elements at least min bytes each, and rejects one
// the remaining bytes cannot hold.
func (c *checker) count(what string, min int) (int, error) {
	pos := c.pos
	n, err := c.varint()
	if err != nil {
		return 0, err
	}
	if left := uint64(len(c.raw) - c.pos); n > left/uint64(min) {
		return 0, c.fail(pos, "%d %ss cannot fit in the remaining %d bytes", n, what, left)
	}
	return int(n), nil
}

// skip moves past a length-prefixed byte string and returns its length.
func (c *checker) skip(what string, j int) (int, error) {
	pos := c.pos
	n, err := c.varint()
	if err != nil {
		return 0, err
	}
	if left := uint64(len(c.raw) - c.pos); n > left {
		return 0, c.fail(pos, "%s %d: script of %d bytes runs past the end (%d bytes left)", what, j, n, left)
	}
	c.pos += int(n)
	return int(n), nil
}

// wrapTx prefixes the message of a *DecodeError with the transaction.
func wrapTx(index int, err error) error {
	if index < 0 {
		return err
	}
	return prefix(err, "tx %d", index)
}

// prefix puts a location in front of the message of a *DecodeError.
func prefix(err error, format string, args ...any) error {
	if de, ok := err.(*DecodeError); ok {
		de.Err = fmt.Errorf(format+": %w", append(args, de.Err)...)
	}
	return err
}
