package bitcoin

import (
	"strconv"
	"strings"

	"github.com/heistgraph/heistgraph"
)

// DecodeError reports input that does not decode, with where it is. Every
// error DecodeBlock, DecodeTx, NewFileSource and FileSource.Blocks return for
// malformed input (bytes, file formats, a folder without blk files) is a
// *DecodeError, and every one wraps heistgraph.ErrInvalid, so callers test
// with errors.As and errors.Is.
//
// File is the file the bytes came from ("" for DecodeBlock and DecodeTx).
// Offset is the byte offset of the fault: in the file (for a hex file, the
// offset of the hex character), or within the raw bytes given to DecodeBlock
// or DecodeTx. For a fault inside a block read from a file it points at the
// element that failed (the transaction or script), not at the record's start.
// Height is the block's height when the caller knows it (0 otherwise; the
// genesis block is built in and never fails), Hash its hash in explorer hex
// when its header could be read ("" otherwise).
type DecodeError struct {
	File   string
	Offset int64
	Height int64
	Hash   string
	Err    error
}

// Error names the file, the byte offset and the block, then the fault.
func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("bitcoin: ")
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	b.WriteString("offset ")
	b.WriteString(strconv.FormatInt(e.Offset, 10))
	switch {
	case e.Hash != "" && e.Height > 0:
		b.WriteString(" (block " + e.Hash + " at height " + strconv.FormatInt(e.Height, 10) + ")")
	case e.Hash != "":
		b.WriteString(" (block " + e.Hash + ")")
	case e.Height > 0:
		b.WriteString(" (block at height " + strconv.FormatInt(e.Height, 10) + ")")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error, which wraps heistgraph.ErrInvalid.
func (e *DecodeError) Unwrap() error { return e.Err }

// MerkleError reports a block whose transactions do not hash to the merkle
// root in its header, or whose transaction list is mutated (CVE-2012-2459:
// two equal hashes paired at some level of the tree, which lets a different
// transaction list produce the same root). It wraps heistgraph.ErrInvalid.
type MerkleError struct {
	Header   heistgraph.Hash // the merkle root the header states
	Computed heistgraph.Hash // the root of the block's txids
	Mutated  bool            // the tree pairs two equal hashes
}

// Error describes the mismatch.
func (e *MerkleError) Error() string {
	if e.Mutated {
		return "mutated merkle tree (duplicate transactions), root " + e.Computed.String()
	}
	return "merkle root mismatch: header " + e.Header.String() + ", transactions " + e.Computed.String()
}

// Unwrap returns heistgraph.ErrInvalid.
func (e *MerkleError) Unwrap() error { return heistgraph.ErrInvalid }
