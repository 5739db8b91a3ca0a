// Package bitcoin is the Bitcoin adapter: it turns Bitcoin bytes into the
// domain values of package heistgraph. It decodes serialized blocks and
// transactions, classifies output scripts and encodes their addresses, and
// reads Bitcoin Core blk*.dat files (with Core 28's xor.dat obfuscation) and
// files of raw block hex, yielding their blocks in chain order, and reads
// blocks from a node over JSON-RPC.
//
// It is not a node and not a validator: scripts are not run, signatures and
// proof of work are not checked, and nothing here writes the store (an
// ingester drives a FileSource into it).
//
// # Decoding
//
// DecodeBlock decodes one serialized block of a network into a
// heistgraph.Block: header fields, every transaction's TxID and WTxID,
// sizes and BIP141 weights, inputs and outputs with their script type and
// address. It checks the merkle root and rejects malformed bytes (truncated
// data, trailing bytes, counts or lengths the bytes cannot hold) without
// allocating for hostile counts. Heights are not part of a block's bytes:
// the caller sets Block.Height; CoinbaseHeight reads the BIP34 height a
// coinbase states. DecodeTx decodes one transaction.
//
// # The fast path
//
// Scanner.Scan is DecodeBlock without the domain values, for ingesting a
// chain: the same checks and errors, the block hash, every txid and the
// merkle check, but the result is a RawBlock view that aliases the block's
// bytes and reuses the Scanner's arenas (no allocation once they have
// grown). Each output carries its value, script type and an AddrKey (the
// address as a fixed-size binary value: kind and hash or witness program,
// usable as a map key, the same for a P2PK output as for the P2PKH of its
// key); address strings are made by AddrKey.Address when shown
// (ParseAddress turns one back into its key), wtxids by RawBlock.WTxID
// when asked for. FileSource.RawBlocks yields a file's
// blocks as such views, in the order and with the checks of Blocks. A view
// is valid until the next Scan: copy what must outlive it. RawBlock.Block
// turns a view into what DecodeBlock returns (DecodeBlock is Scan followed
// by Block). The double SHA-256 of txids, merkle nodes, headers and
// base58 checksums is internal/sha256d's: SHA-NI assembly that hashes two
// transactions together and a merkle level per call (AVX-512 for 16 nodes
// at a time where the CPU has it), crypto/sha256 elsewhere.
//
// # Scripts and addresses
//
// ClassifyScript names an output script with btcd's and Bitcoin Core's words
// (pubkey, pubkeyhash, scripthash, witness_v0_keyhash, witness_v0_scripthash,
// witness_v1_taproot, witness_unknown, anchor, multisig, nulldata,
// nonstandard) and gives its address with the network's prefixes: base58check
// for P2PKH and P2SH (and the P2PKH of a P2PK key), bech32 for witness
// version 0 and bech32m from version 1 on. ChainParams maps a
// heistgraph.Network to btcd's chaincfg parameters.
//
// # Block files
//
// NewFileSource takes files and folders: blk*.dat files in Core's framing
// (4-byte network magic, 4-byte little-endian length, block; zero padding at
// the end), de-obfuscated with the xor.dat beside them, or text files with
// one block in hex per line. A folder stands for its blk*.dat files in
// numeric order. FileSource implements heistgraph.BlockStream: Blocks
// indexes every record by its header, puts blocks in chain order (Core
// stores them out of order), chooses the branch of most work among forks,
// skips blocks the caller already has, and yields the rest in height order,
// decoding one block at a time.
//
// # Nodes
//
// NewRPCSource reads a Bitcoin Core or btcd node over the JSON-RPC both
// serve (getblockchaininfo, getblockcount, getblockhash, and getblock HASH 0
// for the raw block, decoded with DecodeBlock). RPCSource implements
// heistgraph.BlockSource; it reads the network from the node (and checks it
// against RPCOptions.Network and the node's genesis block), is safe for
// concurrent use so an ingester can fetch ahead, and retries with
// exponential backoff and a warning log line while the node is down,
// overloaded or slow. Failed calls are *RPCError values or errors naming
// the method, its parameters and the node's URL (never its credentials).
//
// # Errors
//
// Malformed input is reported as a *DecodeError, which names the file, the
// byte offset and the block (hash, height) where known, and wraps
// heistgraph.ErrInvalid; a merkle mismatch also wraps a *MerkleError. Test
// with errors.Is and errors.As.
package bitcoin
