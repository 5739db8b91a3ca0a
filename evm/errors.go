package evm

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/heistgraph/heistgraph"
)

// DecodeError reports a JSON-RPC answer (from a node or a file) that does not
// decode into a block, with where it is. Every error Decode, the trace and
// log decoders and FileSource return for malformed input is a *DecodeError
// wrapping heistgraph.ErrInvalid, so callers test with errors.As and
// errors.Is.
//
// File and Line place a line of a files layout ("blocks.jsonl", 12; both
// empty for an answer from a node, where Source names the node). Block is
// the block's height (-1 when not known yet). Tx is the transaction's index
// in the block (-1 for the block itself) and Field what was being read
// ("receipts[3].logs[1]", "traces[0].calls[2]").
type DecodeError struct {
	Source string
	File   string
	Line   int
	Block  int64
	Tx     int
	Field  string
	Err    error
}

// Error names the file and line (or the node), the block, the transaction
// and the field, then the fault.
func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("evm: ")
	switch {
	case e.File != "" && e.Line > 0:
		b.WriteString(e.File + ":" + strconv.Itoa(e.Line) + ": ")
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Source != "":
		b.WriteString(e.Source + ": ")
	}
	if e.Block >= 0 {
		b.WriteString("block " + strconv.FormatInt(e.Block, 10))
		if e.Tx >= 0 {
			b.WriteString(" tx " + strconv.Itoa(e.Tx))
		}
		if e.Field != "" {
			b.WriteString(" " + e.Field)
		}
		b.WriteString(": ")
	} else if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error, which wraps heistgraph.ErrInvalid.
func (e *DecodeError) Unwrap() error { return e.Err }

// invalid returns a *DecodeError for block and tx at field, wrapping err
// (which is wrapped in heistgraph.ErrInvalid when it does not wrap it yet).
func invalid(block int64, tx int, field string, err error) *DecodeError {
	return &DecodeError{Block: block, Tx: tx, Field: field, Err: ensureInvalid(err)}
}

// ensureInvalid makes err wrap heistgraph.ErrInvalid.
func ensureInvalid(err error) error {
	switch {
	case err == nil:
		return heistgraph.ErrInvalid
	case errors.Is(err, heistgraph.ErrInvalid):
		return err
	}
	return fmt.Errorf("%w: %w", err, heistgraph.ErrInvalid)
}
