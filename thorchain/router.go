package thorchain

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/evm"
)

// RouterDeposit is a THORChain router's Deposit event on an EVM chain: an
// inbound of Amount of Asset (the zero address for the native coin) to the
// vault To, with its memo as written.
type RouterDeposit struct {
	Vault  heistgraph.EVMAddress
	Asset  heistgraph.EVMAddress
	Amount uint256.Int
	Memo   string
}

// RouterTransferOut is a THORChain router's TransferOut event: an outbound
// (or refund) of Amount of Asset from Vault to To, memo OUT:<id> or
// REFUND:<id>.
type RouterTransferOut struct {
	Vault  heistgraph.EVMAddress
	To     heistgraph.EVMAddress
	Asset  heistgraph.EVMAddress
	Amount uint256.Int
	Memo   string
}

// DecodeDeposit decodes Deposit(address indexed to, address indexed asset,
// uint256 amount, string memo). Anything but that exact ABI wraps
// heistgraph.ErrInvalid, naming the field.
func DecodeDeposit(l *heistgraph.EventLog) (RouterDeposit, error) {
	var d RouterDeposit
	if len(l.Topics) != 3 || l.Topics[0] != evm.TopicTHORDeposit {
		return d, abiErr(l, "topics", errors.New("want the Deposit topic and two indexed addresses"))
	}
	var ok bool
	if d.Vault, ok = evm.TopicAddress(l.Topics[1]); !ok {
		return d, abiErr(l, "to", errNotAddress)
	}
	if d.Asset, ok = evm.TopicAddress(l.Topics[2]); !ok {
		return d, abiErr(l, "asset", errNotAddress)
	}
	if len(l.Data) < 64 {
		return d, abiErr(l, "data", fmt.Errorf("%d bytes, want at least 64", len(l.Data)))
	}
	d.Amount.SetBytes32(l.Data[:32])
	memo, err := abiString(l.Data, 1, 2)
	if err != nil {
		return d, abiErr(l, "memo", err)
	}
	d.Memo = memo
	return d, nil
}

// DecodeTransferOut decodes TransferOut(address indexed vault, address
// indexed to, address asset, uint256 amount, string memo).
func DecodeTransferOut(l *heistgraph.EventLog) (RouterTransferOut, error) {
	var o RouterTransferOut
	if len(l.Topics) != 3 || l.Topics[0] != evm.TopicTHORTransferOut {
		return o, abiErr(l, "topics", errors.New("want the TransferOut topic and two indexed addresses"))
	}
	var ok bool
	if o.Vault, ok = evm.TopicAddress(l.Topics[1]); !ok {
		return o, abiErr(l, "vault", errNotAddress)
	}
	if o.To, ok = evm.TopicAddress(l.Topics[2]); !ok {
		return o, abiErr(l, "to", errNotAddress)
	}
	if len(l.Data) < 96 {
		return o, abiErr(l, "data", fmt.Errorf("%d bytes, want at least 96", len(l.Data)))
	}
	if o.Asset, ok = evm.TopicAddress(heistgraph.EVMHash(l.Data[:32])); !ok {
		return o, abiErr(l, "asset", errNotAddress)
	}
	o.Amount.SetBytes32(l.Data[32:64])
	memo, err := abiString(l.Data, 2, 3)
	if err != nil {
		return o, abiErr(l, "memo", err)
	}
	o.Memo = memo
	return o, nil
}

var errNotAddress = errors.New("not an address (12 zero bytes, then 20)")

func abiErr(l *heistgraph.EventLog, field string, err error) error {
	return fmt.Errorf("thorchain router log %d of tx %s: %s: %w: %w", l.LogIndex, l.TxHash, field, err, heistgraph.ErrInvalid)
}

// abiString reads the dynamic string whose offset is head word slot of an
// event's data with heads words in all: the offset must point just past
// the head (the one dynamic field comes first in the tail), the length must
// fit, padding must be zero, and the bytes must be a memo's (at most
// MaxMemoLen, printable).
func abiString(data []byte, slot, heads int) (string, error) {
	word := func(i int) (uint64, bool) {
		w := new(big.Int).SetBytes(data[32*i : 32*i+32])
		return w.Uint64(), w.IsUint64()
	}
	off, ok := word(slot)
	if !ok || off != uint64(32*heads) || len(data) < 32*heads+32 {
		return "", fmt.Errorf("string offset %d, want %d with a length word after it", off, 32*heads)
	}
	n, ok := word(heads)
	start := uint64(32*heads + 32)
	if !ok || n > MaxMemoLen || start+n > uint64(len(data)) {
		return "", fmt.Errorf("string of %d bytes in %d bytes of data", n, len(data))
	}
	padded := (n + 31) / 32 * 32
	if start+padded != uint64(len(data)) {
		return "", fmt.Errorf("%d bytes of data, want %d", len(data), start+padded)
	}
	for _, b := range data[start+n:] {
		if b != 0 {
			return "", errors.New("non-zero padding")
		}
	}
	return string(data[start : start+n]), nil
}

// MemoFromScript returns the memo an OP_RETURN output script carries
// (Bitcoin inbounds and outbounds: OP_RETURN followed by one push of at
// most 80 bytes), and false for any other script.
func MemoFromScript(script []byte) (string, bool) {
	if len(script) < 2 || script[0] != 0x6a {
		return "", false
	}
	op, rest := script[1], script[2:]
	var n int
	switch {
	case op >= 1 && op <= 75:
		n = int(op)
	case op == 0x4c && len(rest) > 0: // OP_PUSHDATA1
		n, rest = int(rest[0]), rest[1:]
	default:
		return "", false
	}
	if n != len(rest) || n > 80 {
		return "", false
	}
	return string(rest), true
}
