// Package txgraph is a compact, integer-indexed graph of one UTXO chain as
// a store holds it (issue 23): every transaction gets a number, and its
// inputs (the number and vout of the output each spends), its outputs
// (value, address id, script type, spender) and its block are arrays
// indexed by those numbers, in one file memory-mapped read-only. A trace
// reads a transaction by number in a few array loads, where the store
// takes several Pebble lookups.
//
// The graph holds what a trace reads, not the whole chain: a TxRecord read
// from it (Reader.Tx) equals the store's except that Script is kept only
// for outputs without an address (nulldata, bare multisig, nonstandard:
// what pattern detection and burn checks read), and WTxID, Version,
// LockTime, Size, Weight, input sequences and multisig Keys are left zero.
// Transactions the graph cannot represent exactly (a txid stored twice, an
// output with two spenders, a spent output resolved when its spender was
// applied but not stored, a transaction stored after one of its spenders)
// are marked, and Reader answers them from the store.
//
// Reader also answers by number (TxNumber, NumberedTx, NumberedInput,
// NumberedOutput, NumberedRecord: trace.TxNumbers), field by field, for a
// trace that keys its state by transaction numbers and builds a record only
// for the transactions whose patterns it looks at; the trace calls them on
// the concrete Reader (Reader.Graph), with no interface call per field.
//
// Build writes the graph of a chain from a store; Update extends it with
// the blocks added since, or rebuilds it when its last block left the
// chain (a reorg). A graph is current while its last block is the store's
// tip (Graph.Current); callers use it only then.
//
// Address clustering (package cluster) reads the graph too
// (ReadClusterCols, BlockTxs, AddressID; ReadCluster for the few
// transactions the CoinJoin rules read as records): its addresses are the
// graph's ids, so it keeps no table of address hashes, and a block's
// transactions are a few columns copied from the graph's.
//
// Opening a graph costs the same whatever its size: Open reads the
// header and checks that the sections lie inside the file and that the
// arrays' lengths agree, and each read checks the numbers it reads from
// the arrays before it follows or hands them out. A damaged or hostile
// file gives an error wrapping ErrFormat, from Open or from the read that
// meets the damage (Graph.Err for the reads without an error result,
// which answer as if the damaged number were absent), never a panic or a
// read outside the mapping (damage.go). Graph.Verify checks every number
// at once; Update runs it before extending a graph, and rebuilds a
// damaged one. A file truncated in place while mapped is outside that
// promise (the system stops the process on the read past its end): the
// package replaces files by renaming a new one over them.
//
// File layout (little-endian, every section 8-byte aligned): the 8-byte
// magic "HGTXG\x00\x00\x03" (version 3; a graph of an older version does
// not open, ErrFormat, and Update rebuilds it), the length of a JSON
// header (meta) as a uint64, the header, then the sections the header
// locates:
//
//	blocks:    hash [32]byte, height int64, time int64 per block
//	txs:       txid [32]byte; block int32 (-1: a txid only spent, not stored);
//	           index in block uint32; fee int64; flags uint8; first input and
//	           first output uint64 (n+1 entries)
//	inputs:    spent tx number uint32 (^0: coinbase), vout uint32
//	outputs:   value int64; address id uint32 (^0: none); script type uint8;
//	           spender tx number uint32 (^0: unspent), spender vin uint32
//	scripts:   output number uint64 (sorted), offset uint64 (n+1), bytes
//	addresses: offset uint64 (n+1), bytes, first height int64, and an open
//	           addressing table of id+1 by FNV-1a of the address
//	version 2: per block the first tx number given out while it was added
//	           uint32 and its stored transactions uint32; per tx nLockTime
//	           uint32 and nVersion int32 (flags gain bit 2: opt-in RBF)
//	version 3: per input the output number it spends uint64 (^0: the graph
//	           does not hold it), and flags gain bit 3 (not answered by
//	           number): both derived from the rest when the file is written
//
// A build keeps the graph's arrays in files, not on Go's heap: each array
// is a temporary file in the graph's folder, removed as soon as it is
// created and mapped read-write (spill.go), so that its pages are the
// page cache's to write back and drop and the build's own memory does not
// grow with the chain; the address table is the file's own open
// addressing table, kept filled as it grows (no map of address strings).
// The file is then written with the arrays copied file to file by the
// kernel (copy_file_range), each array's file freed once copied. An
// extension copies the old file's arrays the same way, appends the new
// blocks, and derives only what they add. Its cost still grows with the
// graph in bytes copied and in Verify's read (docs/scaling.md), not in
// memory.
package txgraph
