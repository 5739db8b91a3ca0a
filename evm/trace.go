package evm

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/holiman/uint256"

	"github.com/heistgraph/heistgraph"
)

// CallFrame is one frame of geth's callTracer: a call, a creation or a
// self-destruct, with the frames it made. Fields the ledger does not need
// (gas, input, output) are not kept.
type CallFrame struct {
	Type  string                 `json:"type"` // CALL, CALLCODE, DELEGATECALL, STATICCALL, CREATE, CREATE2, SELFDESTRUCT
	From  *heistgraph.EVMAddress `json:"from"`
	To    *heistgraph.EVMAddress `json:"to"`
	Value *hexutil.U256          `json:"value"` // absent for DELEGATECALL and STATICCALL
	Error string                 `json:"error"` // set when the frame reverted
	Calls []CallFrame            `json:"calls"`
}

// traceItem is one element of debug_traceBlockByNumber's result: geth
// wraps each transaction's frame as {"txHash", "result"} (or {"txHash",
// "error"} when tracing that transaction failed); some nodes give the bare
// frame. The embedded frame holds the bare form.
type traceItem struct {
	TxHash *heistgraph.EVMHash `json:"txHash"`
	Result *CallFrame          `json:"result"`
	CallFrame
}

// TxTrace is the call trace of one transaction of a block.
type TxTrace struct {
	TxHash *heistgraph.EVMHash // nil when the node did not say
	Top    *CallFrame
}

// DecodeTraces decodes a debug_traceBlockByNumber callTracer result: an
// array with one element per transaction, in either form geth returns
// ({"txHash", "result": frame} or the frame itself). A transaction the node
// could not trace ({"error": ...} without a result), or anything that is
// not such an array, wraps heistgraph.ErrInvalid.
func DecodeTraces(b []byte) ([]TxTrace, error) {
	var items []traceItem
	if err := unmarshal(b, &items); err != nil {
		return nil, invalid(-1, -1, "traces", err)
	}
	out := make([]TxTrace, len(items))
	for i := range items {
		it := &items[i]
		switch {
		case it.Result != nil:
			out[i] = TxTrace{TxHash: it.TxHash, Top: it.Result}
		case it.Type != "":
			out[i] = TxTrace{TxHash: it.TxHash, Top: &it.CallFrame}
		case it.Error != "":
			return nil, invalid(-1, i, "traces["+strconv.Itoa(i)+"]", fmt.Errorf("the node could not trace the transaction: %s", short(it.Error)))
		default:
			return nil, invalid(-1, i, "traces["+strconv.Itoa(i)+"]", errors.New("neither a call frame nor a result"))
		}
	}
	return out, nil
}

// Internal calls emit for every value movement of the frames below top, in
// call-trace pre-order (methods.md §0.2), with the frame's trace path (the
// child indices from top, dot-separated: "0", "0.2"). The rules:
//   - a frame with an error reverted: it and every frame below it move
//     nothing;
//   - CALL moves its value from From to To;
//   - CREATE and CREATE2 move their value to the new contract (To);
//   - SELFDESTRUCT moves the destroyed contract's balance (Value) to the
//     beneficiary (To);
//   - DELEGATECALL and CALLCODE run another contract's code in the caller's
//     context and move no value of their own (CALLCODE's value stays with
//     the caller), STATICCALL can move none; frames below them still can;
//   - zero values move nothing.
//
// The top frame itself is the transaction's own value (TransferNative) and
// is not emitted. A frame of an unknown type with a value, or a
// SELFDESTRUCT or value-moving frame that lacks its addresses or value
// (geth before 1.10 omitted them for SELFDESTRUCT), wraps
// heistgraph.ErrInvalid: the value it moved cannot be known.
func Internal(top *CallFrame, emit func(from, to heistgraph.EVMAddress, amount *uint256.Int, path string)) error {
	var buf []byte
	return walk(top, buf, emit)
}

func walk(f *CallFrame, path []byte, emit func(from, to heistgraph.EVMAddress, amount *uint256.Int, path string)) error {
	for i := range f.Calls {
		c := &f.Calls[i]
		p := path
		if len(p) > 0 {
			p = append(p, '.')
		}
		p = strconv.AppendInt(p, int64(i), 10)
		if c.Error != "" {
			continue // reverted: nothing below moved
		}
		moves, err := movesValue(c)
		if err != nil {
			return fmt.Errorf("call frame %s: %w", p, err)
		}
		if moves {
			if c.From == nil || c.To == nil {
				return fmt.Errorf("call frame %s: %s of %s without from and to: %w", p, c.Type, (*uint256.Int)(c.Value).Dec(), heistgraph.ErrInvalid)
			}
			emit(*c.From, *c.To, (*uint256.Int)(c.Value), string(p))
		}
		if err := walk(c, p, emit); err != nil {
			return err
		}
	}
	return nil
}

// movesValue reports whether frame c moves its Value.
func movesValue(c *CallFrame) (bool, error) {
	hasValue := c.Value != nil && !(*uint256.Int)(c.Value).IsZero()
	switch strings.ToUpper(c.Type) {
	case "CALL", "CREATE", "CREATE2":
		return hasValue, nil
	case "SELFDESTRUCT":
		if c.Value == nil || c.To == nil {
			return false, fmt.Errorf("SELFDESTRUCT without beneficiary or value (a callTracer older than geth 1.10): the balance it moved is not known: %w", heistgraph.ErrInvalid)
		}
		return hasValue, nil
	case "DELEGATECALL", "CALLCODE", "STATICCALL":
		return false, nil
	}
	if hasValue {
		return false, fmt.Errorf("frame of unknown type %q with value %s: %w", short(c.Type), (*uint256.Int)(c.Value).Dec(), heistgraph.ErrInvalid)
	}
	return false, nil
}

// unmarshal is json.Unmarshal; errors are wrapped by the caller.
func unmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
